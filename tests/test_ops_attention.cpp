// Tests for attention (src/ops/attention.cpp, src/cpu/attention.cpp): forward values against a
// straightforward double-precision loop written here, finite-difference gradients of q, k and v
// (tests/gradcheck.h) for causal and full attention, GQA, decode-style offsets (T < S), key
// padding masks with a query that sees no key, Dv != Dk; shape errors; and determinism across
// runs and thread counts.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gradcheck.h"
#include "ops/ops.h"
#include "util/error.h"

namespace r1 {
namespace {

using testing::expect_gradients_match;
using testing::rand_input;

struct Case {
  const char* name;
  int64_t B, H, Hkv, T, S, Dk, Dv;
  bool causal;
  std::vector<uint8_t> mask;  // empty or B*S
};

// The rule of ops.h, written independently: query t sits at S - T + t.
bool sees(const Case& c, int64_t b, int64_t t, int64_t s) {
  if (c.causal && s > c.S - c.T + t) return false;
  return c.mask.empty() || c.mask[size_t(b * c.S + s)] != 0;
}

// out: (B, H, T, Dv), in double, one query at a time.
std::vector<double> ref_attention(const Case& c, const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  std::vector<float> Q = q.to_vector(), K = k.to_vector(), V = v.to_vector();
  std::vector<double> out(size_t(c.B * c.H * c.T * c.Dv), 0.0);
  for (int64_t b = 0; b < c.B; b++)
    for (int64_t h = 0; h < c.H; h++) {
      int64_t g = h / (c.H / c.Hkv);
      for (int64_t t = 0; t < c.T; t++) {
        std::vector<double> w(size_t(c.S), 0.0);
        double m = -INFINITY;
        for (int64_t s = 0; s < c.S; s++) {
          if (!sees(c, b, t, s)) continue;
          double dot = 0;
          for (int64_t d = 0; d < c.Dk; d++)
            dot += double(Q[size_t(((b * c.H + h) * c.T + t) * c.Dk + d)]) *
                   double(K[size_t(((b * c.Hkv + g) * c.S + s) * c.Dk + d)]);
          w[size_t(s)] = dot * scale;
          m = std::max(m, w[size_t(s)]);
        }
        double z = 0;
        for (int64_t s = 0; s < c.S; s++) z += sees(c, b, t, s) ? std::exp(w[size_t(s)] - m) : 0.0;
        if (z == 0) continue;  // sees no key: zeros
        for (int64_t s = 0; s < c.S; s++) {
          if (!sees(c, b, t, s)) continue;
          double p = std::exp(w[size_t(s)] - m) / z;
          for (int64_t d = 0; d < c.Dv; d++)
            out[size_t(((b * c.H + h) * c.T + t) * c.Dv + d)] +=
                p * double(V[size_t(((b * c.Hkv + g) * c.S + s) * c.Dv + d)]);
        }
      }
    }
  return out;
}

std::vector<Case> cases() {
  return {
      {"causal prefill", 2, 2, 2, 4, 4, 3, 3, true, {}},
      {"full, T < S", 1, 2, 2, 3, 5, 4, 4, false, {}},
      {"GQA H=4 Hkv=2 causal", 1, 4, 2, 4, 4, 3, 3, true, {}},
      {"GQA H=4 Hkv=1 decode offset, Dv != Dk", 2, 4, 1, 2, 5, 3, 5, true, {}},
      // Batch 0 is left-padded: its query 0 sees only key 0, which is padding -> zero output.
      {"key mask with a fully masked query", 2, 2, 1, 4, 4, 2, 3, true, {0, 1, 1, 1, 1, 1, 0, 1}},
      {"decode T=1 with mask, full", 2, 2, 2, 1, 6, 4, 2, false, {1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1}},
  };
}

Tensor run(const Case& c, const std::vector<Tensor>& in, float scale) {
  return attention(in[0], in[1], in[2], c.causal, scale, c.mask);
}

TEST(OpsAttention, ForwardMatchesReference) {
  for (const Case& c : cases()) {
    Tensor q = rand_input({c.B, c.H, c.T, c.Dk}, 1, -2, 2);
    Tensor k = rand_input({c.B, c.Hkv, c.S, c.Dk}, 2, -2, 2);
    Tensor v = rand_input({c.B, c.Hkv, c.S, c.Dv}, 3, -2, 2);
    float scale = 1.0f / std::sqrt(float(c.Dk));
    Tensor out = run(c, {q, k, v}, scale);
    ASSERT_EQ(out.shape(), (Shape{c.B, c.H, c.T, c.Dv})) << c.name;
    std::vector<double> want = ref_attention(c, q, k, v, scale);
    std::vector<float> got = out.to_vector();
    // fp32 dot products of <= 5 terms and softmax over <= 6 keys, O(1) values: error ~1e-6.
    for (size_t i = 0; i < got.size(); i++) EXPECT_NEAR(got[i], want[i], 1e-5) << c.name << " element " << i;
    // Without autograd the kernel keeps no probabilities (a per-thread scratch row block instead):
    // same arithmetic, so the same bits.
    NoGradGuard no_grad;
    std::vector<float> got_no_grad = run(c, {q, k, v}, scale).to_vector();
    EXPECT_EQ(0, std::memcmp(got.data(), got_no_grad.data(), got.size() * sizeof(float))) << c.name;
  }
}

// The same attention composed from other ops (matmul, softmax, concat, split, a -1e9 bias for
// unseen keys): an independent forward and backward at sizes where the GEMMs cross their
// register-block edges. Every query here sees at least one key.
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, float scale,
                          const std::vector<uint8_t>& mask) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), Hkv = k.size(1), S = k.size(2);
  std::vector<Tensor> ks = split(k, std::vector<int64_t>(size_t(Hkv), 1), 1);
  std::vector<Tensor> vs = split(v, std::vector<int64_t>(size_t(Hkv), 1), 1);
  std::vector<Tensor> k_heads, v_heads;  // kv head h / (H / Hkv) for each query head h
  for (int64_t h = 0; h < H; h++) {
    k_heads.push_back(ks[size_t(h / (H / Hkv))]);
    v_heads.push_back(vs[size_t(h / (H / Hkv))]);
  }
  std::vector<float> bias(size_t(B * T * S), 0.0f);  // (B, 1, T, S)
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++)
      for (int64_t s = 0; s < S; s++)
        if ((causal && s > S - T + t) || (!mask.empty() && !mask[size_t(b * S + s)]))
          bias[size_t((b * T + t) * S + s)] = -1e9f;
  Tensor scores = add(r1::scale(matmul(q, concat(k_heads, 1), false, true), scale), Tensor::from_vector({B, 1, T, S}, bias));
  return matmul(softmax(scores), concat(v_heads, 1));
}

TEST(OpsAttention, MatchesComposedOpsForwardAndBackward) {
  const int64_t B = 2, H = 4, Hkv = 2, T = 24, S = 40, Dk = 20, Dv = 12;
  std::vector<uint8_t> mask(size_t(B * S), 1);
  mask[5] = mask[30] = mask[size_t(S + 0)] = mask[size_t(S + 17)] = 0;
  for (bool causal : {true, false}) {
    SCOPED_TRACE(causal ? "causal" : "full");
    Tensor q = rand_input({B, H, T, Dk}, 30), k = rand_input({B, Hkv, S, Dk}, 31), v = rand_input({B, Hkv, S, Dv}, 32);
    Tensor q2 = q.clone().set_requires_grad(), k2 = k.clone().set_requires_grad(), v2 = v.clone().set_requires_grad();
    Rng rng(33);
    Tensor g = Tensor::uniform({B, H, T, Dv}, rng, -1, 1);
    Tensor fused = attention(q, k, v, causal, 0.3f, mask);
    Tensor composed = composed_attention(q2, k2, v2, causal, 0.3f, mask);
    backward(fused, g);
    backward(composed, g);
    // Both are fp32 with different summation orders over <= 40 terms of O(1): ~1e-6 apart.
    auto expect_close = [](const Tensor& a, const Tensor& b, const char* what) {
      std::vector<float> x = a.to_vector(), y = b.to_vector();
      ASSERT_EQ(x.size(), y.size()) << what;
      for (size_t i = 0; i < x.size(); i++) ASSERT_NEAR(x[i], y[i], 2e-5) << what << " element " << i;
    };
    expect_close(fused, composed, "out");
    expect_close(q.grad(), q2.grad(), "dq");
    expect_close(k.grad(), k2.grad(), "dk");
    expect_close(v.grad(), v2.grad(), "dv");
  }
}

TEST(OpsAttention, QueryThatSeesNoKeyOutputsZerosAndGetsNoGradient) {
  Case c = cases()[4];
  Tensor q = rand_input({c.B, c.H, c.T, c.Dk}, 4);
  Tensor k = rand_input({c.B, c.Hkv, c.S, c.Dk}, 5);
  Tensor v = rand_input({c.B, c.Hkv, c.S, c.Dv}, 6);
  Tensor out = run(c, {q, k, v}, 0.7f);
  backward(sum(out));
  for (int64_t h = 0; h < c.H; h++) {
    for (int64_t d = 0; d < c.Dv; d++) EXPECT_EQ(out.at({0, h, 0, d}), 0.0f);
    for (int64_t d = 0; d < c.Dk; d++) EXPECT_EQ(q.grad().at({0, h, 0, d}), 0.0f);
  }
  // The padding keys get no gradient from anyone (batch 0 key 0, batch 1 key 2).
  for (int64_t d = 0; d < c.Dk; d++) {
    EXPECT_EQ(k.grad().at({0, 0, 0, d}), 0.0f);
    EXPECT_EQ(k.grad().at({1, 0, 2, d}), 0.0f);
  }
  for (int64_t d = 0; d < c.Dv; d++) EXPECT_EQ(v.grad().at({1, 0, 2, d}), 0.0f);
}

TEST(OpsAttention, CausalDecodeStepEqualsLastRowsOfPrefill) {
  // The offset rule: the last T' queries of a causal prefill over S keys equal a causal call with
  // only those T' queries against the same S keys.
  const int64_t B = 1, H = 2, S = 6, D = 4;
  Tensor q = rand_input({B, H, S, D}, 7);
  Tensor k = rand_input({B, H, S, D}, 8);
  Tensor v = rand_input({B, H, S, D}, 9);
  Tensor full = attention(q, k, v, true, 0.5f);
  Tensor q_tail = split(q, {4, 2}, 2)[1];  // queries 4, 5
  Tensor tail = attention(q_tail, k, v, true, 0.5f);
  for (int64_t h = 0; h < H; h++)
    for (int64_t t = 0; t < 2; t++)
      for (int64_t d = 0; d < D; d++)  // same math; the GEMM may block rows differently: 1e-6
        EXPECT_NEAR(tail.at({0, h, t, d}), full.at({0, h, 4 + t, d}), 1e-6);
}

TEST(OpsAttention, Gradients) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    Tensor q = rand_input({c.B, c.H, c.T, c.Dk}, 10);
    Tensor k = rand_input({c.B, c.Hkv, c.S, c.Dk}, 11);
    Tensor v = rand_input({c.B, c.Hkv, c.S, c.Dv}, 12);
    expect_gradients_match([&c](const std::vector<Tensor>& in) { return run(c, in, 0.8f); }, {q, k, v});
  }
}

TEST(OpsAttention, GradientOfKvOnlyAndOfQOnly) {
  // Inputs that do not require grad stay without gradient; the others are still right.
  Case c = cases()[3];
  Tensor q = rand_input({c.B, c.H, c.T, c.Dk}, 13);
  Tensor k = rand_input({c.B, c.Hkv, c.S, c.Dk}, 14);
  Tensor v = rand_input({c.B, c.Hkv, c.S, c.Dv}, 15);
  q.set_requires_grad(false);
  expect_gradients_match([&c](const std::vector<Tensor>& in) { return run(c, in, 0.6f); }, {q, k, v});
  EXPECT_FALSE(q.grad().defined());
  q.set_requires_grad(true);
  k.set_requires_grad(false);
  v.set_requires_grad(false);
  k.zero_grad();
  v.zero_grad();
  expect_gradients_match([&c](const std::vector<Tensor>& in) { return run(c, in, 0.6f); }, {q, k, v});
  EXPECT_FALSE(k.grad().defined());
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

TEST(OpsAttention, ShapeErrorsNameOpAndShapes) {
  Tensor q = Tensor::zeros({1, 3, 2, 4}), k = Tensor::zeros({1, 2, 5, 4}), v = Tensor::zeros({1, 2, 5, 4});
  std::string e = error_of([&] { attention(q, k, v, true, 1.0f); });
  EXPECT_NE(e.find("attention"), std::string::npos) << e;
  EXPECT_NE(e.find("multiple"), std::string::npos) << e;
  EXPECT_NE(e.find("(1, 3, 2, 4)"), std::string::npos) << e;
  EXPECT_NE(e.find("(1, 2, 5, 4)"), std::string::npos) << e;

  Tensor q2 = Tensor::zeros({1, 2, 2, 4});
  e = error_of([&] { attention(q2, k, v, true, 1.0f, std::vector<uint8_t>(4, 1)); });
  EXPECT_NE(e.find("key_mask"), std::string::npos) << e;
  e = error_of([&] { attention(q2, Tensor::zeros({1, 2, 5, 3}), v, true, 1.0f); });
  EXPECT_NE(e.find("head dims"), std::string::npos) << e;
  e = error_of([&] { attention(q2, k, Tensor::zeros({1, 2, 4, 4}), true, 1.0f); });
  EXPECT_NE(e.find("(1, 2, 4, 4)"), std::string::npos) << e;
  e = error_of([&] { attention(Tensor::zeros({2, 2, 2, 4}), k, v, true, 1.0f); });
  EXPECT_NE(e.find("batch"), std::string::npos) << e;
  e = error_of([&] { attention(Tensor::zeros({2, 4}), k, v, true, 1.0f); });
  EXPECT_NE(e.find("(2, 4)"), std::string::npos) << e;
}

// Forward and the three gradients at a size where every thread gets (batch, head) blocks.
std::vector<float> attention_run(int threads) {
  int prev = omp_get_max_threads();
  omp_set_num_threads(threads);
  const int64_t B = 2, H = 4, Hkv = 2, T = 48, S = 64, D = 16;
  Tensor q = rand_input({B, H, T, D}, 20);
  Tensor k = rand_input({B, Hkv, S, D}, 21);
  Tensor v = rand_input({B, Hkv, S, D}, 22);
  std::vector<uint8_t> mask(size_t(B * S), 1);
  mask[3] = mask[70] = 0;
  Tensor out = attention(q, k, v, true, 0.25f, mask);
  Rng rng(23);
  backward(out, Tensor::uniform(out.shape(), rng, -1, 1));
  std::vector<float> all = out.to_vector();
  for (const Tensor& t : {q.grad(), k.grad(), v.grad()}) {
    std::vector<float> x = t.to_vector();
    all.insert(all.end(), x.begin(), x.end());
  }
  omp_set_num_threads(prev);
  return all;
}

TEST(OpsAttention, DeterministicAcrossRunsAndThreadCounts) {
  std::vector<float> a = attention_run(omp_get_max_threads()), b = attention_run(omp_get_max_threads()),
                     c = attention_run(1);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float))) << "two runs differ";
  EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float))) << "1 thread differs from many";
}

}  // namespace
}  // namespace r1
