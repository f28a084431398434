// Tests for the buffer reuse behind a fast training step: accumulate_grad adopting and adding
// into gradient buffers in place (src/autograd/autograd.cpp), the split gradient written into
// its slice, and the CPU block cache of Storage (src/tensor/tensor.cpp). The point of each test
// is that no buffer reuse is visible: every gradient equals the hand-derived value exactly
// (the inputs are small integers, so every sum is exact in float), and no gradient changes
// under a handle someone else holds.
#include <gtest/gtest.h>

#include <cstdint>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace r1;

static Tensor leaf(const Shape& s, std::vector<float> v) {
  Tensor t = Tensor::from_vector(s, v);
  t.set_requires_grad(true);
  return t;
}

// --- accumulate_grad ----------------------------------------------------------------

TEST(AutogradBuffers, SiblingLeavesNeverShareAGradientBuffer) {
  // add's backward hands the same gradient to both inputs: each leaf must get its own copy,
  // because clip_grad_norm scales leaf gradients in place.
  Tensor a = leaf({2, 2}, {1, 2, 3, 4}), b = leaf({2, 2}, {5, 6, 7, 8});
  backward(sum(add(a, b)));
  ASSERT_NE(a.grad().data(), b.grad().data());
  Tensor ga = a.grad();
  for (int64_t i = 0; i < ga.numel(); i++) ga.data()[i] *= 0.5f;
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{1, 1, 1, 1}));
}

TEST(AutogradBuffers, HeldGradientHandleDoesNotChangeOnTheNextBackward) {
  Tensor a = leaf({3}, {1, 2, 3});
  backward(sum(mul(a, a)));  // d/da = 2a
  Tensor held = a.grad();
  backward(sum(mul(a, a)));  // accumulates: 4a, but not into the buffer `held` sees
  EXPECT_EQ(held.to_vector(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{4, 8, 12}));
  backward(sum(mul(a, a)));  // `held` still alive: still no in-place write into it
  EXPECT_EQ(held.to_vector(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{6, 12, 18}));
}

TEST(AutogradBuffers, SharedIntermediateGradientsStayCorrect) {
  // u and v both receive the one gradient of add(u, v) (shared, not copied); u and v then get
  // more gradient from mul(u, v) and scale(u, 5). out = sum(u + v + u*v + 5u) with u = a,
  // v = b as intermediates: d/da = 1 + b + 5, d/db = 1 + a.
  Tensor a = leaf({2}, {1, 2}), b = leaf({2}, {3, 4});
  Tensor u = scale(a, 1.0f), v = scale(b, 1.0f);
  Tensor out = sum(add(add(add(u, v), mul(u, v)), scale(u, 5.0f)));
  backward(out);
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{9, 10}));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{2, 3}));
}

TEST(AutogradBuffers, SameTensorTwiceInOneOp) {
  Tensor a = leaf({2}, {1, 2});
  Tensor x = scale(a, 3.0f);         // intermediate
  backward(sum(add(x, x)));          // both slots of add are x: dx = 2, da = 6
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{6, 6}));
}

// --- split: gradients land in slices -----------------------------------------------------

TEST(AutogradBuffers, SplitPiecesAddIntoTheirSlices) {
  Tensor x = leaf({3, 2}, {1, 2, 3, 4, 5, 6});
  std::vector<Tensor> parts = split(x, {1, 2}, 0);
  // loss = 2 sum(part0) + 3 sum(part1) + sum(x): grad = 3 in row 0, 4 in rows 1-2
  Tensor loss = add(add(sum(scale(parts[0], 2.0f)), sum(scale(parts[1], 3.0f))), sum(x));
  backward(loss);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{3, 3, 4, 4, 4, 4}));
  // Along the last axis, with a held handle (the slice path must not write into it).
  Tensor y = leaf({2, 3}, {1, 2, 3, 4, 5, 6});
  backward(sum(y));
  Tensor held = y.grad();
  std::vector<Tensor> cols = split(y, {2, 1}, 1);
  backward(add(sum(scale(cols[0], 2.0f)), sum(scale(cols[1], 7.0f))));
  EXPECT_EQ(held.to_vector(), (std::vector<float>{1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(y.grad().to_vector(), (std::vector<float>{3, 3, 8, 3, 3, 8}));
}

// --- host block cache ----------------------------------------------------------------------

TEST(AutogradBuffers, FreedHostBlocksAreReusedAndAligned) {
  const float* first;
  {
    Tensor t = Tensor::empty({1000, 3});
    first = t.data();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  }
  // The same size class (12000 and 12100 bytes both round up to 12288) gets the block back.
  Tensor again = Tensor::empty({3025, 1});
  EXPECT_EQ(again.data(), first);
  // A zeros() on a reused block is still all zeros.
  const float* second = again.data();
  again = Tensor();
  Tensor z = Tensor::zeros({3000});
  EXPECT_EQ(z.data(), second);
  for (float v : z.to_vector()) ASSERT_EQ(v, 0.0f);
}
