// Tests for the neural-net ops (src/ops/nn.cpp, src/cpu/nn.cpp): rmsnorm, rope, softmax,
// log_softmax, cross_entropy. Forward values against straightforward double-precision loops
// written here, hand-computed values, finite-difference gradients (tests/gradcheck.h), shape
// errors, numerical stability at large logits, and determinism across runs and thread counts.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/nn.h"
#include "gradcheck.h"
#include "ops/ops.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {
namespace {

using testing::expect_gradients_match;
using testing::rand_input;

// Forward values are fp32 computations compared with double loops: with O(1) inputs and rows of
// at most a few hundred elements, rounding stays below ~1e-6 relative; 1e-5 leaves margin.
constexpr double kTol = 1e-5;

void expect_near_all(const std::vector<float>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); i++)
    if (!(std::fabs(double(got[i]) - want[i]) <= tol * (1 + std::fabs(want[i]))) && bad++ < 5)
      ADD_FAILURE() << what << " element " << i << ": got " << got[i] << ", want " << want[i];
  EXPECT_EQ(bad, 0) << what;
}

// The message of the r1::Error thrown by f ("" when none is thrown).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::vector<double> to_double(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  return std::vector<double>(v.begin(), v.end());
}

// --- reference loops (double) --------------------------------------------------------------

std::vector<double> ref_rmsnorm(const std::vector<double>& x, const std::vector<double>& w, double eps) {
  size_t D = w.size(), N = x.size() / D;
  std::vector<double> y(x.size());
  for (size_t n = 0; n < N; n++) {
    double ss = 0;
    for (size_t d = 0; d < D; d++) ss += x[n * D + d] * x[n * D + d];
    double r = 1 / std::sqrt(ss / double(D) + eps);
    for (size_t d = 0; d < D; d++) y[n * D + d] = x[n * D + d] * r * w[d];
  }
  return y;
}

// x: (B, T, H, Dh); angles in double from theta^(-2i/Dh).
std::vector<double> ref_rope(const std::vector<double>& x, const Ids& pos, bool per_batch, double theta, int B, int T,
                             int H, int Dh) {
  std::vector<double> y(x.size());
  int half = Dh / 2;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++)
      for (int h = 0; h < H; h++)
        for (int i = 0; i < half; i++) {
          double p = pos[size_t(per_batch ? b * T + t : t)];
          double a = p * std::pow(theta, -2.0 * i / Dh);
          size_t base = size_t(((b * T + t) * H + h) * Dh);
          double x1 = x[base + size_t(i)], x2 = x[base + size_t(i + half)];
          y[base + size_t(i)] = x1 * std::cos(a) - x2 * std::sin(a);
          y[base + size_t(i + half)] = x2 * std::cos(a) + x1 * std::sin(a);
        }
  return y;
}

std::vector<double> ref_log_softmax(const std::vector<double>& x, size_t D) {
  std::vector<double> y(x.size());
  for (size_t n = 0; n < x.size() / D; n++) {
    double m = x[n * D];
    for (size_t d = 0; d < D; d++) m = std::max(m, x[n * D + d]);
    double s = 0;
    for (size_t d = 0; d < D; d++) s += std::exp(x[n * D + d] - m);
    for (size_t d = 0; d < D; d++) y[n * D + d] = x[n * D + d] - m - std::log(s);
  }
  return y;
}

std::vector<double> ref_softmax(const std::vector<double>& x, size_t D) {
  std::vector<double> y = ref_log_softmax(x, D);
  for (double& v : y) v = std::exp(v);
  return y;
}

double ref_cross_entropy(const std::vector<double>& x, size_t V, const Ids& targets, int32_t ignore) {
  std::vector<double> ls = ref_log_softmax(x, V);
  double total = 0;
  int count = 0;
  for (size_t n = 0; n < targets.size(); n++) {
    if (targets[n] == ignore) continue;
    total -= ls[n * V + size_t(targets[n])];
    count++;
  }
  return count ? total / count : 0.0;
}

// --- rmsnorm ---------------------------------------------------------------------------------

TEST(OpsNn, RmsnormMatchesReference) {
  for (Shape shape : {Shape{3, 8}, Shape{2, 3, 5}, Shape{7, 256}}) {
    Tensor x = rand_input(shape, 1, -2, 2);
    Tensor w = rand_input({shape.back()}, 2, 0.5f, 1.5f);
    Tensor y = rmsnorm(x, w, 1e-5f);
    EXPECT_EQ(y.shape(), shape);
    expect_near_all(y.to_vector(), ref_rmsnorm(to_double(x), to_double(w), 1e-5), kTol, "rmsnorm");
  }
}

TEST(OpsNn, RmsnormGradients) {
  for (Shape shape : {Shape{3, 8}, Shape{2, 3, 5}, Shape{1, 16}}) {
    Tensor x = rand_input(shape, 3, -2, 2);
    Tensor w = rand_input({shape.back()}, 4, 0.5f, 1.5f);
    expect_gradients_match([](const std::vector<Tensor>& in) { return rmsnorm(in[0], in[1], 1e-5f); }, {x, w});
  }
  // Only x requires grad (a frozen norm weight): dx alone is still right.
  Tensor x = rand_input({4, 6}, 5);
  Tensor w = rand_input({6}, 6, 0.5f, 1.5f);
  w.set_requires_grad(false);
  expect_gradients_match([](const std::vector<Tensor>& in) { return rmsnorm(in[0], in[1], 1e-6f); }, {x, w});
}

// --- rope ------------------------------------------------------------------------------------

TEST(OpsNn, RopeHandComputedTwoPositions) {
  // Dh = 4, theta = 10000: inv_freq = (1, 10000^(-1/2) = 0.01). Positions 0 and 1; x = (1, 2, 3, 4).
  // Position 0 is the identity. Position 1 rotates pair (0, 2) by 1 rad and pair (1, 3) by 0.01 rad:
  //   y0 = 1 cos 1 - 3 sin 1,  y2 = 3 cos 1 + 1 sin 1,  y1 = 2 cos .01 - 4 sin .01,  y3 = 4 cos .01 + 2 sin .01
  Tensor x = Tensor::from_vector({1, 2, 1, 4}, {1, 2, 3, 4, 1, 2, 3, 4});
  std::vector<float> y = rope(x, {0, 1}, 10000.0f).to_vector();
  std::vector<double> want = {1, 2, 3, 4, -1.9841106485555495, 1.959900667496664, 2.4623779024123156, 4.019799668334994};
  expect_near_all(y, want, 1e-6, "rope hand example");  // float angles of size <= 1: ~1e-7 error
  // Per-batch positions: batch 1 has them reversed.
  Tensor x2 = Tensor::from_vector({2, 2, 1, 4}, {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4});
  std::vector<float> y2 = rope(x2, {0, 1, 1, 0}, 10000.0f).to_vector();
  std::vector<double> want2 = want;
  want2.insert(want2.end(), want.begin() + 4, want.end());
  want2.insert(want2.end(), want.begin(), want.begin() + 4);
  expect_near_all(y2, want2, 1e-6, "rope per-batch hand example");
}

TEST(OpsNn, RopeMatchesReference) {
  const int B = 2, T = 3, H = 2, Dh = 8;
  Tensor x = rand_input({B, T, H, Dh}, 7);
  Ids shared = {5, 0, 130};
  Ids per_batch = {0, 1, 2, 40, 41, 97};
  // The angle is a float (HF's recipe): |pos| * 6e-8 rad of error at positions <= 130 is < 1e-5.
  expect_near_all(rope(x, shared, 10000.0f).to_vector(), ref_rope(to_double(x), shared, false, 10000, B, T, H, Dh),
                  1e-5, "rope shared positions");
  expect_near_all(rope(x, per_batch, 500.0f).to_vector(), ref_rope(to_double(x), per_batch, true, 500, B, T, H, Dh),
                  1e-5, "rope per-batch positions");
}

TEST(OpsNn, RopeUsesFloatAngleRecipeAtLargePositions) {
  // At position 100000 the float angle pos * inv_freq differs from the exact one by up to
  // ~100000 * 6e-8 rad, so the two recipes disagree by ~1e-3: the op follows the float one
  // (transformers' recipe), reproduced here step by step; cos/sin are then correctly rounded.
  const int Dh = 8;
  const Ids pos = {100000, 77777};
  Tensor x = rand_input({1, 2, 1, Dh}, 17);
  std::vector<float> xv = x.to_vector(), y = rope(x, pos, 10000.0f).to_vector();
  std::vector<double> want(xv.size());
  double max_exact_gap = 0;
  std::vector<double> exact = ref_rope(to_double(x), pos, false, 10000, 1, 2, 1, Dh);
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < Dh / 2; i++) {
      float inv_freq = 1.0f / std::pow(10000.0f, float(2 * i) / float(Dh));
      float a = inv_freq * float(pos[size_t(t)]);
      double c = std::cos(double(a)), sn = std::sin(double(a));
      double x1 = xv[size_t(t * Dh + i)], x2 = xv[size_t(t * Dh + i + Dh / 2)];
      want[size_t(t * Dh + i)] = x1 * c - x2 * sn;
      want[size_t(t * Dh + i + Dh / 2)] = x2 * c + x1 * sn;
    }
  for (size_t j = 0; j < want.size(); j++) max_exact_gap = std::max(max_exact_gap, std::fabs(want[j] - exact[j]));
  EXPECT_GT(max_exact_gap, 1e-4);  // the two recipes are distinguishable at this position
  expect_near_all(y, want, 1e-6, "rope float recipe");  // float rounding of cos/sin and the products
}

TEST(OpsNn, RopeGradients) {
  Tensor x = rand_input({2, 3, 2, 6}, 8);
  expect_gradients_match([](const std::vector<Tensor>& in) { return rope(in[0], {3, 0, 17}, 10000.0f); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& in) { return rope(in[0], {1, 2, 3, 40, 7, 250}, 100.0f); },
                         {x});
  Tensor x1 = rand_input({1, 4, 3, 4}, 9);
  expect_gradients_match([](const std::vector<Tensor>& in) { return rope(in[0], {9, 10, 11, 12}, 10000.0f); }, {x1});
}

// --- softmax / log_softmax -------------------------------------------------------------------

TEST(OpsNn, SoftmaxAndLogSoftmaxMatchReference) {
  for (Shape shape : {Shape{4, 7}, Shape{2, 3, 5}, Shape{3, 300}}) {
    Tensor x = rand_input(shape, 10, -4, 4);
    size_t D = size_t(shape.back());
    expect_near_all(softmax(x).to_vector(), ref_softmax(to_double(x), D), kTol, "softmax");
    expect_near_all(log_softmax(x).to_vector(), ref_log_softmax(to_double(x), D), kTol, "log_softmax");
  }
}

TEST(OpsNn, SoftmaxStableAtLargeLogits) {
  // exp(1000) overflows a float: only the max-subtracted form gives finite values.
  Tensor x = Tensor::from_vector({2, 3}, {1000, 1001, 1002, -1000, -1001, -1002});
  std::vector<double> small = {0, 1, 2, 0, -1, -2};
  expect_near_all(softmax(x).to_vector(), ref_softmax(small, 3), kTol, "softmax large");
  expect_near_all(log_softmax(x).to_vector(), ref_log_softmax(small, 3), kTol, "log_softmax large");
}

TEST(OpsNn, ExpNonpositiveMatchesExp) {
  // The softmax kernels' exp (cpu/nn.h) against double exp over its whole domain [-87.5, 0];
  // Cephes' recipe is ~1 ulp (measured 8.4e-8 relative): 2e-7 is about 3 ulp of float.
  double worst = 0;
  for (int i = 0; i <= 1000000; i++) {
    float x = -87.5f * float(i) / 1e6f;
    double want = std::exp(double(x));
    worst = std::max(worst, std::fabs(double(cpu::exp_nonpositive(x)) - want) / want);
  }
  EXPECT_LT(worst, 2e-7);
  EXPECT_EQ(cpu::exp_nonpositive(0.0f), 1.0f);
  EXPECT_EQ(cpu::exp_nonpositive(3.0f), 1.0f);  // x > 0 is treated as 0
  EXPECT_EQ(cpu::exp_nonpositive(-88.0f), 0.0f);
  EXPECT_EQ(cpu::exp_nonpositive(-INFINITY), 0.0f);
  EXPECT_TRUE(std::isnan(cpu::exp_nonpositive(NAN)));
}

TEST(OpsNn, SoftmaxPropagatesNan) {
  // A NaN logit makes its row NaN (it must not be silently skipped); other rows are untouched.
  Tensor x = Tensor::from_vector({2, 3}, {0, NAN, 1, 0, 0, 0});
  std::vector<float> y = softmax(x).to_vector(), ly = log_softmax(x).to_vector();
  for (int d = 0; d < 3; d++) {
    EXPECT_TRUE(std::isnan(y[size_t(d)]));
    EXPECT_TRUE(std::isnan(ly[size_t(d)]));
    EXPECT_NEAR(y[size_t(3 + d)], 1.0 / 3, 1e-7);
  }
  EXPECT_TRUE(std::isnan(cross_entropy(x, {0, 0}).item()));
}

TEST(OpsNn, SoftmaxGradients) {
  for (Shape shape : {Shape{4, 7}, Shape{2, 3, 5}, Shape{1, 1}}) {
    Tensor x = rand_input(shape, 11, -2, 2);
    expect_gradients_match([](const std::vector<Tensor>& in) { return softmax(in[0]); }, {x});
  }
}

TEST(OpsNn, LogSoftmaxGradients) {
  for (Shape shape : {Shape{4, 7}, Shape{2, 3, 5}, Shape{3, 2}}) {
    Tensor x = rand_input(shape, 12, -2, 2);
    expect_gradients_match([](const std::vector<Tensor>& in) { return log_softmax(in[0]); }, {x});
  }
}

// --- cross_entropy ---------------------------------------------------------------------------

TEST(OpsNn, CrossEntropyHandComputed) {
  // Row 0: log(e^1 + e^2 + e^3) - 3 = 0.40760596444438013; row 1 (uniform over 3): log 3.
  Tensor logits = Tensor::from_vector({2, 3}, {1, 2, 3, 0, 0, 0});
  EXPECT_NEAR(cross_entropy(logits, {2, 0}).item(), 0.753109126556245, 1e-6);  // mean of the two rows
  EXPECT_NEAR(cross_entropy(logits, {2, -100}).item(), 0.40760596444438013, 1e-6);
  EXPECT_NEAR(cross_entropy(logits, {2, 7}, 7).item(), 0.40760596444438013, 1e-6);  // custom ignore_index
  // Shifting a row by a huge constant changes nothing (computed from log-sum-exp, not log(softmax)).
  Tensor big = Tensor::from_vector({1, 3}, {10001, 10002, 10003});
  EXPECT_NEAR(cross_entropy(big, {2}).item(), 0.40760596444438013, 1e-6);
  // A confident wrong answer: -log_softmax = 60 + log(1 + e^-60); log(softmax) would give inf.
  Tensor wrong = Tensor::from_vector({1, 2}, {30, -30});
  EXPECT_NEAR(cross_entropy(wrong, {1}).item(), 60.0, 1e-5);
}

TEST(OpsNn, CrossEntropyMatchesReference) {
  Tensor logits = rand_input({6, 50}, 13, -5, 5);
  Ids targets = {3, -100, 49, 0, -100, 17};
  EXPECT_NEAR(cross_entropy(logits, targets).item(), ref_cross_entropy(to_double(logits), 50, targets, -100), kTol);
}

TEST(OpsNn, CrossEntropyGradients) {
  Tensor logits = rand_input({5, 7}, 14, -3, 3);
  expect_gradients_match([](const std::vector<Tensor>& in) { return cross_entropy(in[0], {1, -100, 6, 0, -100}); },
                         {logits});
  expect_gradients_match([](const std::vector<Tensor>& in) { return cross_entropy(in[0], {1, 2, 3, 4, 5}); },
                         {logits});
  Tensor one = rand_input({1, 3}, 15);
  expect_gradients_match([](const std::vector<Tensor>& in) { return cross_entropy(in[0], {2}, 5); }, {one});
}

TEST(OpsNn, CrossEntropyAllIgnoredIsZeroWithZeroGradient) {
  Tensor logits = rand_input({3, 4}, 16);
  Tensor loss = cross_entropy(logits, {-100, -100, -100});
  EXPECT_EQ(loss.item(), 0.0f);
  backward(loss);
  ASSERT_TRUE(logits.grad().defined());
  for (float g : logits.grad().to_vector()) EXPECT_EQ(g, 0.0f);
}

// --- errors ------------------------------------------------------------------------------------

TEST(OpsNn, ShapeErrorsNameOpAndShapes) {
  Tensor x = Tensor::zeros({2, 3, 4});
  std::string e = error_of([&] { rmsnorm(x, Tensor::ones({5}), 1e-5f); });
  EXPECT_NE(e.find("rmsnorm"), std::string::npos) << e;
  EXPECT_NE(e.find("(2, 3, 4)"), std::string::npos) << e;
  EXPECT_NE(e.find("(5,)"), std::string::npos) << e;

  e = error_of([&] { rope(Tensor::zeros({1, 2, 1, 5}), {0, 1}, 10000.0f); });
  EXPECT_NE(e.find("rope"), std::string::npos) << e;
  EXPECT_NE(e.find("(1, 2, 1, 5)"), std::string::npos) << e;
  e = error_of([&] { rope(Tensor::zeros({2, 3, 1, 4}), {0, 1, 2, 3}, 10000.0f); });
  EXPECT_NE(e.find("rope"), std::string::npos) << e;
  EXPECT_NE(e.find("positions"), std::string::npos) << e;

  e = error_of([&] { cross_entropy(Tensor::zeros({2, 3}), {0, 3}); });
  EXPECT_NE(e.find("cross_entropy"), std::string::npos) << e;
  EXPECT_NE(e.find("row 1"), std::string::npos) << e;
  e = error_of([&] { cross_entropy(Tensor::zeros({2, 3}), {0}); });
  EXPECT_NE(e.find("(2, 3)"), std::string::npos) << e;
  e = error_of([&] { cross_entropy(x, {0, 0}); });
  EXPECT_NE(e.find("(N, V)"), std::string::npos) << e;

  e = error_of([&] { softmax(Tensor::scalar(1.0f)); });
  EXPECT_NE(e.find("softmax"), std::string::npos) << e;
}

// --- determinism ---------------------------------------------------------------------------------

// Forward and all gradients of a chain of the ops, as one flat vector of bits.
std::vector<float> nn_run(int threads) {
  int prev = omp_get_max_threads();
  omp_set_num_threads(threads);
  // (64, 1024) rows: above the kernels' parallel threshold, so several threads share the rows.
  Tensor x = rand_input({64, 1024}, 20, -2, 2);
  Tensor w = rand_input({1024}, 21, 0.5f, 1.5f);
  Tensor h = rmsnorm(x, w, 1e-5f);
  Ids pos(32);
  for (int t = 0; t < 32; t++) pos[size_t(t)] = 3 * t;
  Tensor r = rope(reshape(h, {2, 32, 4, 256}), pos, 10000.0f);
  Ids targets(64);
  for (int n = 0; n < 64; n++) targets[size_t(n)] = n % 5 == 0 ? -100 : (n * 37) % 1024;
  Tensor s = softmax(reshape(r, {64, 1024}));
  Tensor loss = add(cross_entropy(log_softmax(s), targets), cross_entropy(h, targets));
  backward(loss);
  std::vector<float> out = {loss.item()};
  for (const Tensor& t : {x.grad(), w.grad(), s}) {
    std::vector<float> v = t.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  omp_set_num_threads(prev);
  return out;
}

TEST(OpsNn, DeterministicAcrossRunsAndThreadCounts) {
  std::vector<float> a = nn_run(omp_get_max_threads()), b = nn_run(omp_get_max_threads()), c = nn_run(1);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << "two runs differ";
  EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float))) << "1 thread differs from many";
}

}  // namespace
}  // namespace r1
