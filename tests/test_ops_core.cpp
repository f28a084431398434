// Tests for the core ops (elementwise, reductions, matmul, shape, indexing) and the autograd
// tape: forward values against hand-written loops, finite-difference gradients for every op
// (tests/gradcheck.h explains the tolerance), broadcasting and shape errors.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "gradcheck.h"
#include "ops/ops.h"
#include "util/error.h"

using namespace r1;
using r1::testing::expect_gradients_match;
using r1::testing::rand_input;

static Tensor T(const Shape& s, std::vector<float> v) { return Tensor::from_vector(s, v); }

// --- forward values ------------------------------------------------------------------

TEST(OpsCore, BroadcastForwardValues) {
  Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(add(a, T({3}, {10, 20, 30})).to_vector(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  EXPECT_EQ(mul(a, T({2, 1}, {2, 3})).to_vector(), (std::vector<float>{2, 4, 6, 12, 15, 18}));
  EXPECT_EQ(sub(Tensor::scalar(1), a).to_vector(), (std::vector<float>{0, -1, -2, -3, -4, -5}));
  EXPECT_EQ(div(a, Tensor::scalar(2)).shape(), (Shape{2, 3}));
  // (2,1,3) with (4,1) -> (2,4,3)
  Tensor c = add(rand_input({2, 1, 3}, 1), rand_input({4, 1}, 2));
  EXPECT_EQ(c.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(minimum(a, Tensor::scalar(3.5)).to_vector(), (std::vector<float>{1, 2, 3, 3.5, 3.5, 3.5}));
  EXPECT_EQ(maximum(a, Tensor::scalar(3.5)).to_vector(), (std::vector<float>{3.5, 3.5, 3.5, 4, 5, 6}));
  EXPECT_EQ(clamp(a, 2, 4).to_vector(), (std::vector<float>{2, 2, 3, 4, 4, 4}));
  Tensor m = T({3}, {1, 0, 1});
  EXPECT_EQ(where(m, a, Tensor::scalar(0)).to_vector(), (std::vector<float>{1, 0, 3, 4, 0, 6}));
}

TEST(OpsCore, BroadcastShapeErrorNamesOpAndShapes) {
  try {
    add(Tensor::zeros({2, 3}), Tensor::zeros({4}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "add: shapes (2, 3) and (4,) do not broadcast");
  }
  EXPECT_THROW(matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})), Error);
  EXPECT_THROW(reshape(Tensor::zeros({2, 3}), {4, -1}), Error);
  EXPECT_THROW(index_select(Tensor::zeros({2, 3}), {0, 2}), Error);
  EXPECT_THROW(embedding(Tensor::zeros({5, 3}), {0, 5}, {2}), Error);
}

TEST(OpsCore, UnaryForwardValues) {
  Tensor x = T({3}, {-1, 0, 2});
  std::vector<float> e = exp(x).to_vector(), s = sigmoid(x).to_vector(), si = silu(x).to_vector();
  for (int i = 0; i < 3; i++) {
    float v = x.to_vector()[size_t(i)];
    EXPECT_FLOAT_EQ(e[size_t(i)], std::exp(v));
    EXPECT_FLOAT_EQ(s[size_t(i)], 1 / (1 + std::exp(-v)));
    EXPECT_FLOAT_EQ(si[size_t(i)], v / (1 + std::exp(-v)));
  }
  EXPECT_FLOAT_EQ(log(T({1}, {2.0f})).item(), std::log(2.0f));
}

TEST(OpsCore, ReductionsForward) {
  Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_FLOAT_EQ(sum(a).item(), 21);
  EXPECT_FLOAT_EQ(mean(a).item(), 3.5);
  EXPECT_EQ(sum(a, 0).to_vector(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(sum(a, -1, true).shape(), (Shape{2, 1}));
  EXPECT_EQ(mean(a, 1).to_vector(), (std::vector<float>{2, 5}));
}

// matmul against a double-precision loop, every transpose combination, batched and not.
TEST(OpsCore, MatmulForwardMatchesLoops) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int bb = 0; bb < 2; bb++) {
        int64_t B = 2, M = 3, K = 5, N = 4;
        Tensor a = rand_input(ta ? Shape{B, K, M} : Shape{B, M, K}, 7);
        Tensor b = rand_input(bb ? (tb ? Shape{B, N, K} : Shape{B, K, N}) : (tb ? Shape{N, K} : Shape{K, N}), 8);
        Tensor c = matmul(a, b, ta, tb);
        ASSERT_EQ(c.shape(), (Shape{B, M, N}));
        for (int64_t z = 0; z < B; z++)
          for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
              double acc = 0;
              for (int64_t k = 0; k < K; k++) {
                float av = ta ? a.at({z, k, i}) : a.at({z, i, k});
                int64_t bz = z;
                float bv = bb ? (tb ? b.at({bz, j, k}) : b.at({bz, k, j})) : (tb ? b.at({j, k}) : b.at({k, j}));
                acc += double(av) * bv;
              }
              // fp32 accumulation of K=5 products of values in [-1,1]: error << 1e-5
              EXPECT_NEAR(c.at({z, i, j}), acc, 1e-5);
            }
      }
}

TEST(OpsCore, PermuteAndConcatSplitValues) {
  Tensor a = T({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(transpose(a, 0, 1).to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  Tensor x = rand_input({2, 3, 4, 5}, 3);
  Tensor p = permute(x, {2, 0, 3, 1});
  ASSERT_EQ(p.shape(), (Shape{4, 2, 5, 3}));
  EXPECT_EQ(p.at({3, 1, 4, 2}), x.at({1, 2, 3, 4}));
  Tensor c = concat({a, T({2, 1}, {7, 8})}, 1);
  EXPECT_EQ(c.to_vector(), (std::vector<float>{1, 2, 3, 7, 4, 5, 6, 8}));
  auto parts = split(c, {1, 3}, 1);
  EXPECT_EQ(parts[1].to_vector(), (std::vector<float>{2, 3, 7, 5, 6, 8}));
}

TEST(OpsCore, IndexOpsValues) {
  Tensor w = T({3, 2}, {0, 1, 10, 11, 20, 21});
  EXPECT_EQ(embedding(w, {2, 0, 2}, {3}).to_vector(), (std::vector<float>{20, 21, 0, 1, 20, 21}));
  EXPECT_EQ(gather(w, {1, 0, 1}, 1).to_vector(), (std::vector<float>{1, 10, 21}));
  EXPECT_EQ(scatter_add(w, {1, 1, 0}, 2).to_vector(), (std::vector<float>{20, 21, 10, 12}));
}

// --- gradients ------------------------------------------------------------------------

TEST(OpsCoreGrad, BinaryOpsWithBroadcasting) {
  std::vector<std::pair<Shape, Shape>> shapes = {{{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1, 3}, {4, 1}}, {{3}, {}}, {{2, 1}, {2, 4}}};
  for (auto& [sa, sb] : shapes) {
    Tensor a = rand_input(sa, 11), b = rand_input(sb, 12, 0.5f, 1.5f);  // b away from 0 for div
    expect_gradients_match([](const std::vector<Tensor>& x) { return add(x[0], x[1]); }, {a, b});
    expect_gradients_match([](const std::vector<Tensor>& x) { return sub(x[0], x[1]); }, {a, b});
    expect_gradients_match([](const std::vector<Tensor>& x) { return mul(x[0], x[1]); }, {a, b});
    expect_gradients_match([](const std::vector<Tensor>& x) { return div(x[0], x[1]); }, {a, b});
  }
}

TEST(OpsCoreGrad, MinMaxClampWhereAwayFromKinks) {
  // a in [-1, 0.3] and b in [0.5, 1.5] never tie (gap 0.2 > 2h).
  Tensor a = rand_input({3, 4}, 21, -1.0f, 0.3f), b = rand_input({4}, 22, 0.5f, 1.5f);
  expect_gradients_match([](const std::vector<Tensor>& x) { return minimum(x[0], x[1]); }, {a, b});
  expect_gradients_match([](const std::vector<Tensor>& x) { return maximum(x[0], x[1]); }, {a, b});
  expect_gradients_match([](const std::vector<Tensor>& x) { return minimum(x[1], x[0]); }, {a, b});
  // clamp at [-0.5, 0.5] with inputs kept 0.05 away from the edges
  Tensor c = T({6}, {-0.9f, -0.45f, 0.0f, 0.3f, 0.45f, 0.8f});
  c.set_requires_grad(true);
  expect_gradients_match([](const std::vector<Tensor>& x) { return clamp(x[0], -0.5f, 0.5f); }, {c});
  Tensor m = T({4}, {1, 0, 0, 1});
  expect_gradients_match([m](const std::vector<Tensor>& x) { return where(m, x[0], x[1]); }, {a, b});
}

TEST(OpsCoreGrad, UnaryAndScalarOps) {
  Tensor x = rand_input({2, 5}, 31), pos = rand_input({7}, 32, 0.5f, 2.0f);
  expect_gradients_match([](const std::vector<Tensor>& v) { return exp(v[0]); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return log(v[0]); }, {pos});
  expect_gradients_match([](const std::vector<Tensor>& v) { return silu(v[0]); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return sigmoid(v[0]); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return neg(v[0]); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return scale(v[0], -2.5f); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return add_scalar(v[0], 3.0f); }, {x});
}

TEST(OpsCoreGrad, Reductions) {
  Tensor x = rand_input({2, 3, 4}, 41);
  expect_gradients_match([](const std::vector<Tensor>& v) { return sum(v[0]); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return mean(v[0]); }, {x});
  for (int axis : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      expect_gradients_match([axis, keep](const std::vector<Tensor>& v) { return sum(v[0], axis, keep); }, {x});
      expect_gradients_match([axis, keep](const std::vector<Tensor>& v) { return mean(v[0], axis, keep); }, {x});
    }
}

TEST(OpsCoreGrad, MatmulAllTransposesBatchedAndLinear) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (int bb = 0; bb < 2; bb++) {
        Tensor a = rand_input(ta ? Shape{2, 4, 3} : Shape{2, 3, 4}, 51);
        Tensor b = rand_input(bb ? (tb ? Shape{2, 5, 4} : Shape{2, 4, 5}) : (tb ? Shape{5, 4} : Shape{4, 5}), 52);
        expect_gradients_match(
            [ta, tb](const std::vector<Tensor>& v) { return matmul(v[0], v[1], ta, tb); }, {a, b});
      }
  // A shared 2-d left operand with a batched right one.
  for (int ta = 0; ta < 2; ta++) {
    Tensor a = rand_input(ta ? Shape{4, 3} : Shape{3, 4}, 56), b = rand_input({2, 4, 5}, 57);
    expect_gradients_match([ta](const std::vector<Tensor>& v) { return matmul(v[0], v[1], ta, false); }, {a, b});
  }
  Tensor x = rand_input({2, 3, 4}, 53), w = rand_input({5, 4}, 54), bias = rand_input({5}, 55);
  expect_gradients_match([](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); }, {x, w, bias});
}

TEST(OpsCoreGrad, ShapeOps) {
  Tensor x = rand_input({2, 3, 4}, 61), y = rand_input({2, 2, 4}, 62);
  expect_gradients_match([](const std::vector<Tensor>& v) { return reshape(v[0], {4, -1}); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return transpose(v[0], 0, 2); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return permute(v[0], {1, 2, 0}); }, {x});
  expect_gradients_match([](const std::vector<Tensor>& v) { return concat({v[0], v[1]}, 1); }, {x, y});
  expect_gradients_match(
      [](const std::vector<Tensor>& v) {
        auto p = split(v[0], {1, 3}, 2);
        return add(mul(p[1], p[1]), sum(p[0], 2, true));  // both pieces reach the output
      },
      {x});
}

TEST(OpsCoreGrad, IndexOps) {
  Tensor w = rand_input({5, 3}, 71);
  Ids ids = {4, 0, 4, 2};  // a repeated index accumulates
  expect_gradients_match([ids](const std::vector<Tensor>& v) { return embedding(v[0], ids, {2, 2}); }, {w});
  expect_gradients_match([ids](const std::vector<Tensor>& v) { return index_select(v[0], ids); }, {w});
  expect_gradients_match([](const std::vector<Tensor>& v) { return gather(v[0], {1, 2, 0, 0, 2, 1, 1, 1, 0, 2}, 2); }, {w});
  Tensor src = rand_input({4, 3}, 72);
  expect_gradients_match([ids](const std::vector<Tensor>& v) { return scatter_add(v[0], ids, 6); }, {src});
}

// --- autograd semantics -------------------------------------------------------------------

TEST(Autograd, AccumulatesAcrossBackwardCallsAndZeroGrad) {
  Tensor x = T({2}, {1, 2});
  x.set_requires_grad(true);
  backward(sum(mul(x, x)));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 4}));
  backward(sum(mul(x, x)));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 8}));  // += across passes
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  Tensor x = T({1}, {3});
  x.set_requires_grad(true);
  Tensor y = mul(x, x);          // 9, dy/dx = 6
  Tensor z = add(y, scale(y, 2)); // 3y -> dz/dx = 18
  backward(sum(z));
  EXPECT_FLOAT_EQ(x.grad().item(), 18);
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor x = T({2}, {1, 2});
  x.set_requires_grad(true);
  Tensor y;
  {
    NoGradGuard g;
    y = mul(x, x);
  }
  EXPECT_FALSE(y.requires_grad());
  EXPECT_THROW(backward(sum(y)), Error);
  EXPECT_TRUE(grad_enabled());
}

TEST(Autograd, BackwardNeedsScalar) {
  Tensor x = rand_input({3}, 1);
  EXPECT_THROW(backward(mul(x, x)), Error);
}

TEST(Autograd, DeepChainDoesNotOverflowTheStack) {
  Tensor x = T({1}, {1});
  x.set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 20000; i++) y = add_scalar(y, 0.0f);
  backward(sum(y));
  EXPECT_FLOAT_EQ(x.grad().item(), 1);
}
