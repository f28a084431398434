// Parity tests CUDA vs CPU for the ops of cuda/reduce.cu, cuda/shape.cu, cuda/index.cu, cuda/nn.cu
// and the where/clamp kernels of cuda/elementwise.cu: every op forward, every backward kernel on
// the same inputs on both devices, and whole graphs through autograd (every input gradient).
// Suites: CudaReduce, CudaShape, CudaIndex, CudaNN, CudaOpsAutograd (skip without a GPU, with the
// reason), and CudaIndexMath, which checks the index math of the copy, scatter and column-sum
// kernels (cuda/index_math.h) on the host and so runs in every build.
//
// Tolerances: each test states its bound and why. Copies, selections and the scatters (which add
// in the CPU's order) must match bit for bit; sums in a different order within the classic
// bound n eps sum|x|; exponentials within the few ulp of expf and the CPU's exp_nonpositive.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "index_math.h"
#include "cpu/nn.h"
#include "ops/ops.h"
#include "tensor/tensor.h"
#include "util/error.h"
#include "util/rng.h"
#include "cuda_test_util.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {
namespace {

// --- index math of the copy and scatter kernels (host; every build) ------------------------------

TEST(CudaIndexMath, StridedOffsetsWalkTheShapeInRowMajorOrder) {
  // A permute of (2, 3, 4, 5) to (5, 2, 4, 3) read from a contiguous input: the kernel's element
  // i must be the i-th element of the nested loops, read at the permuted strides.
  const cuda::Index4 shape{{5, 2, 4, 3}}, src_stride{{1, 60, 5, 20}}, dst_stride{{24, 12, 3, 1}};
  int64_t i = 0;
  for (int64_t a = 0; a < 5; a++)
    for (int64_t b = 0; b < 2; b++)
      for (int64_t c = 0; c < 4; c++)
        for (int64_t d = 0; d < 3; d++, i++) {
          int64_t s = -1, t = -1;
          cuda::strided_offsets(i, shape, src_stride, dst_stride, &s, &t);
          ASSERT_EQ(s, a * 1 + b * 60 + c * 5 + d * 20) << "element " << i;
          ASSERT_EQ(t, i) << "element " << i;
        }
  // A concat slab: 3 rows of 4 floats into rows 10 apart.
  const cuda::Index4 slab{{1, 1, 3, 4}}, from{{0, 0, 4, 1}}, to{{0, 0, 10, 1}};
  int64_t s = -1, t = -1;
  cuda::strided_offsets(2 * 4 + 3, slab, from, to, &s, &t);
  EXPECT_EQ(s, 11);
  EXPECT_EQ(t, 23);
}

TEST(CudaIndexMath, ScatterPlanGroupsSourcesByTargetInOrder) {
  const Ids idx = {2, 0, 2, 1, 2, 0};
  const cuda::ScatterPlan p = cuda::scatter_plan(idx.data(), int64_t(idx.size()), 4);
  EXPECT_EQ(p.start, (std::vector<int64_t>{0, 2, 3, 6, 6}));  // target 3 receives nothing
  EXPECT_EQ(p.order, (std::vector<int32_t>{1, 5, 3, 0, 2, 4}));
  const cuda::ScatterPlan empty = cuda::scatter_plan(nullptr, 0, 2);
  EXPECT_EQ(empty.start, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_TRUE(empty.order.empty());
}

TEST(CudaIndexMath, ColumnTilesCoverEveryElementOnce) {
  // Runs every (block, thread) of a column sum over (outer, n, inner) as the kernels index it and
  // counts how often each element of x is added, and into which output: exactly once, into its
  // own column. Shapes: few tiles with short and long columns (1 to 64 chunks, a last chunk
  // shorter than the others), many tiles (no chunks), inner not a multiple of 32.
  struct Case {
    int64_t outer, n, inner, chunks;
  };
  const std::vector<Case> cases = {{1, 3, 2, 1},      {1, 513, 40, 2},  {3, 1000, 64, 2}, {1, 40000, 8, 64},
                                   {2, 1537, 33, 4},  {600, 40, 33, 1}, {1, 32768, 100, 64}, {1, 32769, 1, 64}};
  for (const Case& c : cases) {
    SCOPED_TRACE(cat("outer ", c.outer, " n ", c.n, " inner ", c.inner));
    const cuda::ColumnTiles t = cuda::column_tiles(c.outer, c.n, c.inner);
    EXPECT_EQ(t.chunks, c.chunks);
    std::vector<int> count(size_t(c.outer * c.n * c.inner), 0);
    bool wrong_output = false;
    for (int64_t bx = 0; bx < c.outer * t.tiles_per_o; bx++)
      for (int64_t by = 0; by < t.chunks; by++)
        for (int64_t tx = 0; tx < cuda::kTileCols; tx++) {
          const cuda::TileWork w = cuda::tile_work(t, c.n, bx, by, tx);
          if (w.i >= c.inner) continue;
          wrong_output |= w.o >= c.outer;
          for (int64_t ty = 0; ty < cuda::kTileRows; ty++)
            for (int64_t j = w.j_begin + ty; j < w.j_end; j += cuda::kTileRows)
              count[size_t((w.o * c.n + j) * c.inner + w.i)]++;
        }
    EXPECT_FALSE(wrong_output);
    EXPECT_EQ(std::count(count.begin(), count.end(), 1), int64_t(count.size()));
  }
}

TEST(CudaIndexMath, RopePairsCoverEveryElementOnceWithTheirPosition) {
  // Every pair of a (B, T, H, Dh) tensor: its two elements are (b, t, h, i) and (b, t, h, i + Dh/2)
  // for some i < Dh/2, every element is touched exactly once, and the table entry is the row of
  // the element's position (b*T + t per batch row, or t) times Dh/2, plus i.
  const int64_t B = 2, T = 3, H = 4, Dh = 10, half = Dh / 2;
  for (bool per_batch : {false, true}) {
    SCOPED_TRACE(cat("per_batch ", per_batch));
    std::vector<int> count(size_t(B * T * H * Dh), 0);
    bool wrong = false;
    for (int64_t e = 0; e < B * T * H * half; e++) {
      const cuda::RopePair p = cuda::rope_pair(e, T, H, half, per_batch);
      const int64_t i = p.first % Dh, t = (p.first / (Dh * H)) % T, b = p.first / (Dh * H * T);  // h is free
      wrong |= i >= half || p.table != ((per_batch ? b * T : 0) + t) * half + i;
      count[size_t(p.first)]++;
      count[size_t(p.first + half)]++;
    }
    EXPECT_FALSE(wrong);
    EXPECT_EQ(std::count(count.begin(), count.end(), 1), int64_t(count.size()));
  }
}

#ifndef R1_CUDA

TEST(CudaOps, BuiltWithoutCuda) { GTEST_SKIP() << "built without CUDA (CUDA=0)"; }

#else

constexpr double kEps = std::numeric_limits<float>::epsilon();  // 2^-23 ~ 1.19e-7
// e^x for x < -87.5: the CPU's exp_nonpositive returns 0, CUDA's expf a subnormal below 2^-126.
constexpr double kTiny = 0x1.0p-126;
// Relative difference of a sum of exponentials between the devices. The CPU sums chunks of 256
// in float by an `omp simd` reduction (8 or 16 lanes of <= 32 terms, then the lanes: at most
// 31 + 15 roundings, so <= 46 eps relative in the worst case since all terms are positive) and the
// chunks in double; the GPU sums in double. The exps themselves differ by <= 3.4 ulp (expf 2 ulp,
// exp_nonpositive 1.4 ulp). 64 eps (7.6e-6) bounds it with margin; typical differences are ~1e-7.
constexpr double kSumExpTol = 64 * kEps;
const Device kCuda = Device::CUDA;
using testing::all_close;
using testing::bitwise_equal;

using CudaOpsTest = testing::GpuTest;
class CudaReduce : public CudaOpsTest {};
class CudaShape : public CudaOpsTest {};
class CudaIndex : public CudaOpsTest {};
class CudaNN : public CudaOpsTest {};
class CudaOpsAutograd : public CudaOpsTest {};

// --- helpers --------------------------------------------------------------------------------


std::vector<float> abs_values(const Tensor& t) {
  std::vector<float> v = t.to_vector();
  for (float& x : v) x = std::fabs(x);
  return v;
}

// A leaf copy of x on dev that requires grad.
Tensor leaf(const Tensor& x, Device dev) { return x.to(dev).detach().set_requires_grad(); }

// --- reductions ---------------------------------------------------------------------------------

TEST_F(CudaReduce, SumAllMatchesCpu) {
  // Both devices accumulate in double (the CPU in order, the GPU by a fixed tree), whose error
  // n 2^-53 sum|x| is far below a float ulp; the results differ at most by the final rounding to
  // float: 1 ulp of the result (2^-23 |want|) plus the double error.
  Rng rng(11);
  for (int64_t n : {0, 1, 7, 1000, 12345, (1 << 20) + 3, 5000000}) {
    SCOPED_TRACE(cat("n = ", n));
    Tensor x = Tensor::uniform({n}, rng, -1.0f, 2.0f);
    const float want = sum(x).item();
    Tensor dx = x.to(kCuda);
    Tensor got = sum(dx);
    EXPECT_TRUE(got.is_cuda());
    EXPECT_EQ(got.shape(), Shape{});
    const double abs_sum = 2.0 * double(n);
    EXPECT_NEAR(got.item(), want, kEps * std::fabs(want) + 4.0 * double(n) * 0x1.0p-53 * abs_sum);
    EXPECT_TRUE(bitwise_equal(sum(dx).to_vector(), got.to_vector())) << "not deterministic";
    if (n > 0) {
      EXPECT_NEAR(mean(dx).item(), mean(x).item(), 3 * kEps * std::fabs(mean(x).item()) + 1e-12);
    }
  }
}

TEST_F(CudaReduce, SumAxisMatchesCpu) {
  // The CPU adds the n terms of each output in order in float: within n eps sum|x| of the exact
  // sum. The GPU adds in double (one rounding to float, plus one per chunk partial when the
  // columns are cut into chunks): within 2 eps sum|x|. So they differ by at most (n + 2) eps sum|x|.
  struct Case {
    Shape shape;
    int axis;
    bool keepdim;
  };
  const std::vector<Case> cases = {
      {{7}, 0, false},          {{5, 300}, 1, false},     {{5, 300}, 0, true},     {{3, 1000, 64}, 1, false},
      {{40000, 8}, 0, false},   {{2, 3, 4, 5}, 0, false}, {{2, 3, 4, 5}, 1, true}, {{2, 3, 4, 5}, 2, false},
      {{2, 3, 4, 5}, -1, true}, {{4, 0, 3}, 1, false},    {{1, 70000}, 1, false},  {{600, 40, 33}, 1, false}};
  Rng rng(12);
  for (const Case& c : cases) {
    SCOPED_TRACE(cat(shape_str(c.shape), " axis ", c.axis, " keepdim ", c.keepdim));
    Tensor x = Tensor::randn(c.shape, rng);
    Tensor want = sum(x, c.axis, c.keepdim);
    Tensor got = sum(x.to(kCuda), c.axis, c.keepdim);
    EXPECT_TRUE(got.is_cuda());
    ASSERT_EQ(got.shape(), want.shape());
    const std::vector<float> abs_sum = sum(Tensor::from_vector(c.shape, abs_values(x)), c.axis, c.keepdim).to_vector();
    const double n = double(c.shape[size_t(c.axis < 0 ? c.axis + int(c.shape.size()) : c.axis)]);
    EXPECT_TRUE(all_close(got.to_vector(), want.to_vector(), [&](size_t i) { return (n + 2) * kEps * abs_sum[i]; }));
    EXPECT_TRUE(bitwise_equal(sum(x.to(kCuda), c.axis, c.keepdim).to_vector(), got.to_vector())) << "not deterministic";
    if (n > 0) {  // mean = sum * (1/n): one more rounding on both devices
      std::vector<float> mw = mean(x, c.axis, c.keepdim).to_vector();
      std::vector<float> mg = mean(x.to(kCuda), c.axis, c.keepdim).to_vector();
      EXPECT_TRUE(all_close(mg, mw, [&](size_t i) {
        return ((n + 2) * kEps * abs_sum[i] + 2 * kEps * std::fabs(mw[i] * n)) / n;
      }));
    }
  }
}

TEST_F(CudaReduce, BackwardOfSumAndMeanMatchesCpuBitwise) {
  // The gradients broadcast g back (zeros + g, then * 1/n): single IEEE operations, bitwise.
  Rng rng(13);
  Tensor x0 = Tensor::randn({3, 4, 5}, rng), g1 = Tensor::randn({3, 5}, rng), g2 = Tensor::randn({3, 4, 1}, rng);
  std::vector<float> grads[2][4];
  for (Device dev : {Device::CPU, kCuda}) {
    Tensor x = leaf(x0, dev);
    backward(sum(x, 1), g1.to(dev));
    grads[int(dev)][0] = x.grad().to_vector();
    x.zero_grad();
    backward(mean(x, -1, true), g2.to(dev));
    grads[int(dev)][1] = x.grad().to_vector();
    x.zero_grad();
    backward(sum(x));
    grads[int(dev)][2] = x.grad().to_vector();
    x.zero_grad();
    backward(mean(x));
    grads[int(dev)][3] = x.grad().to_vector();
    EXPECT_EQ(x.grad().device(), dev);
  }
  for (int k = 0; k < 4; k++) EXPECT_TRUE(bitwise_equal(grads[1][k], grads[0][k])) << "gradient " << k;
}

TEST_F(CudaReduce, MatmulTransposedABatchedWithShared2dB) {
  // matmul(a^T, b) with a batched a: (3, 16, 10) and a shared 2-d b: (16, 7). b's gradient is
  // sum over the batch of a_i g_i (matmul.cpp's unbatch -> sum(x, 0)), which had no CUDA path.
  // Every gradient entry is a sum of 3 * 10 (b) or 7 (a) products of O(1) values: fp32 sums in
  // different orders differ by ~30 eps * 30 ~ 1e-4 at worst; 2e-4 (1 + |ref|) still catches any
  // layout or reduction mistake, which gives O(1) errors.
  Rng rng(14);
  Tensor a0 = Tensor::randn({3, 16, 10}, rng), b0 = Tensor::randn({16, 7}, rng), go = Tensor::randn({3, 10, 7}, rng);
  std::vector<float> out[2], ga[2], gb[2];
  for (Device dev : {Device::CPU, kCuda}) {
    Tensor a = leaf(a0, dev), b = leaf(b0, dev);
    Tensor y = matmul(a, b, true, false);  // (3, 10, 7)
    backward(y, go.to(dev));
    out[int(dev)] = y.to_vector();
    ga[int(dev)] = a.grad().to_vector();
    gb[int(dev)] = b.grad().to_vector();
  }
  auto tol = [](const std::vector<float>& ref) { return [&ref](size_t i) { return 2e-4 * (1 + std::fabs(ref[i])); }; };
  EXPECT_TRUE(all_close(out[1], out[0], tol(out[0])));
  EXPECT_TRUE(all_close(ga[1], ga[0], tol(ga[0])));
  EXPECT_TRUE(all_close(gb[1], gb[0], tol(gb[0])));
}

// --- shape ----------------------------------------------------------------------------------------

TEST_F(CudaShape, PermuteTransposeMatchCpuBitwise) {
  Rng rng(21);
  Tensor x = Tensor::randn({2, 3, 4, 5}, rng), dx = x.to(kCuda);
  std::vector<int> perm = {0, 1, 2, 3};
  do {
    SCOPED_TRACE(cat("perm ", perm[0], perm[1], perm[2], perm[3]));
    Tensor got = permute(dx, perm);
    EXPECT_TRUE(got.is_cuda());
    EXPECT_EQ(got.shape(), permute(x, perm).shape());
    EXPECT_TRUE(bitwise_equal(got.to_vector(), permute(x, perm).to_vector()));
  } while (std::next_permutation(perm.begin(), perm.end()));
  Tensor m = Tensor::randn({37, 65}, rng), t3 = Tensor::randn({6, 33, 17}, rng);
  EXPECT_TRUE(bitwise_equal(transpose(m.to(kCuda), 0, 1).to_vector(), transpose(m, 0, 1).to_vector()));
  EXPECT_TRUE(bitwise_equal(transpose(t3.to(kCuda), -1, -2).to_vector(), transpose(t3, -1, -2).to_vector()));
  EXPECT_TRUE(bitwise_equal(transpose(t3.to(kCuda), 0, 2).to_vector(), transpose(t3, 0, 2).to_vector()));
}

TEST_F(CudaShape, ConcatSplitMatchCpuBitwise) {
  Rng rng(22);
  for (int axis : {0, 1, 2, -1}) {
    SCOPED_TRACE(cat("axis ", axis));
    Shape s1 = {3, 4, 5}, s2 = s1, s3 = s1;
    const size_t a = size_t(axis < 0 ? axis + 3 : axis);
    s2[a] = 2;
    s3[a] = 1;
    std::vector<Tensor> xs = {Tensor::randn(s1, rng), Tensor::randn(s2, rng), Tensor::randn(s3, rng)};
    std::vector<Tensor> dxs = {xs[0].to(kCuda), xs[1].to(kCuda), xs[2].to(kCuda)};
    Tensor want = concat(xs, axis), got = concat(dxs, axis);
    EXPECT_TRUE(got.is_cuda());
    EXPECT_EQ(got.shape(), want.shape());
    EXPECT_TRUE(bitwise_equal(got.to_vector(), want.to_vector()));
    const std::vector<int64_t> sizes = {s1[a], 0, s2[a], s3[a]};  // an empty piece too
    std::vector<Tensor> pw = split(want, sizes, axis), pg = split(got, sizes, axis);
    ASSERT_EQ(pg.size(), pw.size());
    for (size_t k = 0; k < pw.size(); k++) {
      EXPECT_EQ(pg[k].shape(), pw[k].shape());
      EXPECT_TRUE(bitwise_equal(pg[k].to_vector(), pw[k].to_vector())) << "piece " << k;
    }
  }
}

TEST_F(CudaShape, BackwardMatchesCpuBitwise) {
  // y = concat(permute(p2, ...), p0 * c) of split pieces of x (p1 unused: its gradient slice is 0).
  // Copies, one multiply and additions of 0: bitwise on both devices.
  Rng rng(23);
  Tensor x0 = Tensor::randn({4, 6, 4}, rng), c = Tensor::randn({4, 2, 4}, rng), go = Tensor::randn({4, 6, 4}, rng);
  std::vector<float> grads[2];
  for (Device dev : {Device::CPU, kCuda}) {
    Tensor x = leaf(x0, dev);
    std::vector<Tensor> p = split(x, {2, 0, 4}, 1);  // (4, 2, 4), (4, 0, 4), (4, 4, 4)
    Tensor y = concat({transpose(p[2], 0, 2), mul(p[0], c.to(dev))}, 1);  // (4, 6, 4)
    backward(y, go.to(dev));
    grads[int(dev)] = x.grad().to_vector();
  }
  EXPECT_TRUE(bitwise_equal(grads[1], grads[0]));
}

// --- indexing -------------------------------------------------------------------------------------

TEST_F(CudaIndex, ForwardMatchesCpuBitwise) {
  // Gathers copy; scatter_add adds each target's rows in increasing source order from 0, the CPU's
  // order: everything bitwise (repeated indices included).
  Rng rng(31);
  Tensor w = Tensor::randn({50, 24}, rng), dw = w.to(kCuda);
  Ids ids = {3, 49, 0, 3, 3, 17, 0, 8, 49, 12, 3, 1};
  Tensor e = embedding(dw, ids, {3, 4});
  EXPECT_TRUE(e.is_cuda());
  EXPECT_EQ(e.shape(), (Shape{3, 4, 24}));
  EXPECT_TRUE(bitwise_equal(e.to_vector(), embedding(w, ids, {3, 4}).to_vector()));
  EXPECT_TRUE(bitwise_equal(index_select(dw, ids).to_vector(), index_select(w, ids).to_vector()));
  EXPECT_TRUE(bitwise_equal(index_select(dw, {}).to_vector(), std::vector<float>{}));

  Tensor src = Tensor::randn({12, 24}, rng);
  Tensor sw = scatter_add(src, ids, 50), sg = scatter_add(src.to(kCuda), ids, 50);
  EXPECT_EQ(sg.shape(), (Shape{50, 24}));
  EXPECT_TRUE(bitwise_equal(sg.to_vector(), sw.to_vector()));

  Tensor x = Tensor::randn({6, 30}, rng);
  Ids idx = {1, 29, 1, 0, 5, 5, 7, 2, 28, 13, 13, 13, 0, 0, 1, 29, 3, 4};  // k = 3, repeats in a row
  EXPECT_TRUE(bitwise_equal(gather(x.to(kCuda), idx, 3).to_vector(), gather(x, idx, 3).to_vector()));

  // The host-side checks still run first on CUDA tensors.
  EXPECT_THROW(index_select(dw, {50}), Error);
  EXPECT_THROW(gather(x.to(kCuda), Ids(18, 30), 3), Error);
}

TEST_F(CudaIndex, BackwardMatchesCpuBitwise) {
  // embedding / index_select backward = scatter_add (CPU order, bitwise); scatter_add backward =
  // index_select; gather backward adds each row's k entries in order on one thread: bitwise.
  Rng rng(32);
  Tensor w0 = Tensor::randn({40, 16}, rng), src0 = Tensor::randn({10, 16}, rng), x0 = Tensor::randn({5, 9}, rng);
  Ids ids = {3, 39, 0, 3, 3, 17, 0, 8, 39, 3};
  Ids idx = {1, 1, 8, 0, 0, 0, 2, 7, 2, 4, 5, 4, 8, 8, 1};  // (5, 3), repeated entries within rows
  Tensor g_e = Tensor::randn({2, 5, 16}, rng), g_s = Tensor::randn({40, 16}, rng), g_g = Tensor::randn({5, 3}, rng);
  std::vector<float> grads[2][3];
  for (Device dev : {Device::CPU, kCuda}) {
    Tensor w = leaf(w0, dev), src = leaf(src0, dev), x = leaf(x0, dev);
    backward(embedding(w, ids, {2, 5}), g_e.to(dev));
    backward(scatter_add(src, ids, 40), g_s.to(dev));
    backward(gather(x, idx, 3), g_g.to(dev));
    grads[int(dev)][0] = w.grad().to_vector();
    grads[int(dev)][1] = src.grad().to_vector();
    grads[int(dev)][2] = x.grad().to_vector();
  }
  for (int k = 0; k < 3; k++) EXPECT_TRUE(bitwise_equal(grads[1][k], grads[0][k])) << "gradient " << k;
}

// --- elementwise additions: where, clamp ----------------------------------------------------------

TEST_F(CudaIndex, WhereClampMatchCpuBitwise) {
  // Selections only: bitwise, forward and backward (including broadcast masks and operands).
  Rng rng(33);
  Tensor a0 = Tensor::randn({3, 4, 5}, rng), b0 = Tensor::randn({4, 1}, rng), go = Tensor::randn({3, 4, 5}, rng);
  std::vector<float> mv(20);
  for (size_t i = 0; i < mv.size(); i++) mv[i] = float(rng.below(2));
  Tensor mask = Tensor::from_vector({4, 5}, mv);
  std::vector<float> out[2], grads[2][3];
  for (Device dev : {Device::CPU, kCuda}) {
    Tensor a = leaf(a0, dev), b = leaf(b0, dev);
    Tensor y = where(mask.to(dev), a, b);
    Tensor z = clamp(add(y, a), -0.7f, 0.9f);
    backward(z, go.to(dev));
    out[int(dev)] = z.to_vector();
    grads[int(dev)][0] = a.grad().to_vector();
    grads[int(dev)][1] = b.grad().to_vector();
  }
  EXPECT_TRUE(bitwise_equal(out[1], out[0]));
  EXPECT_TRUE(bitwise_equal(grads[1][0], grads[0][0]));
  // b's gradient is sum_to over (3, ., 5): 15 terms in a different order; within 2 * 15 eps sum|g|.
  double abs_go = 0;
  for (float v : go.to_vector()) abs_go = std::max(abs_go, double(std::fabs(v)));
  EXPECT_TRUE(all_close(grads[1][1], grads[0][1], [&](size_t) { return 2.0 * 15 * kEps * 15 * abs_go; }));
}

// --- nn row ops -------------------------------------------------------------------------------------

// Row shapes (N, D) for the row kernels: tiny rows (one warp), a row that is not a multiple of
// 32, rows longer than a block (each thread loops), and a vocabulary-sized row.
const std::vector<std::pair<int64_t, int64_t>> kRowShapes = {{3, 5}, {7, 64}, {5, 1000}, {2, 50000}, {33, 257}};

TEST_F(CudaNN, RmsnormMatchesCpu) {
  // Forward: mean(x^2) in double on both (orders differ by ~1e-16), then the same float
  // operations: y matches within 1 ulp of r and of the product: 4 eps |y|.
  // Backward (kernels on the same inputs): dx = w g r - x c. The dot in double; the GPU may fuse
  // the expression into an fma: within 8 eps (|w g r| + |x c|). dw sums N products g x r in double
  // on the CPU and in double chunks of <= 512 rows rounded to float on the GPU: 4 eps sum|g x r|.
  Rng rng(41);
  // kRowShapes, plus batches long enough for dw's column sum to split rows into chunks of 512
  // (a second pass adds the partials): 3 chunks, and 64 chunks with a short last one.
  std::vector<std::pair<int64_t, int64_t>> shapes = kRowShapes;
  shapes.insert(shapes.end(), {{1030, 64}, {40000, 8}});
  for (const auto& shape : shapes) {
    const int64_t N = shape.first, D = shape.second;
    SCOPED_TRACE(cat("N = ", N, " D = ", D));
    Tensor x = Tensor::randn({N, D}, rng), w = Tensor::uniform({D}, rng, 0.5f, 1.5f), g = Tensor::randn({N, D}, rng);
    const float eps = 1e-5f;
    std::vector<float> y = rmsnorm(x, w, eps).to_vector(), yd = rmsnorm(x.to(kCuda), w.to(kCuda), eps).to_vector();
    EXPECT_TRUE(all_close(yd, y, [&](size_t i) { return 4 * kEps * std::fabs(y[i]); }));

    std::vector<float> xv = x.to_vector(), wv = w.to_vector(), gv = g.to_vector();
    std::vector<float> rstd(static_cast<size_t>(N)), y_cpu(static_cast<size_t>(N * D));
    std::vector<float> dx(static_cast<size_t>(N * D)), dw(static_cast<size_t>(D));
    cpu::rmsnorm_forward(xv.data(), wv.data(), eps, N, D, y_cpu.data(), rstd.data());
    cpu::rmsnorm_backward(xv.data(), wv.data(), rstd.data(), gv.data(), N, D, dx.data(), dw.data());
    Tensor d_x = x.to(kCuda), d_w = w.to(kCuda), d_g = g.to(kCuda);
    Tensor d_r = Tensor::from_vector({N}, rstd, kCuda);
    Tensor d_dx = Tensor::empty({N, D}, kCuda), d_dw = Tensor::empty({D}, kCuda);
    cuda::rmsnorm_backward(d_x.data(), d_w.data(), d_r.data(), d_g.data(), N, D, d_dx.data(), d_dw.data());
    std::vector<double> tol_dx(static_cast<size_t>(N * D)), abs_dw(static_cast<size_t>(D), 0.0);
    for (int64_t n = 0; n < N; n++) {
      double dot = 0;
      for (int64_t d = 0; d < D; d++) dot += double(xv[size_t(n * D + d)]) * wv[size_t(d)] * gv[size_t(n * D + d)];
      const double r = rstd[size_t(n)], c = r * r * r * dot / double(D);
      for (int64_t d = 0; d < D; d++) {
        const size_t i = size_t(n * D + d);
        tol_dx[i] = 8 * kEps * (std::fabs(double(wv[size_t(d)]) * gv[i] * r) + std::fabs(xv[i] * c));
        abs_dw[size_t(d)] += std::fabs(double(gv[i]) * xv[i] * r);
      }
    }
    EXPECT_TRUE(all_close(d_dx.to_vector(), dx, [&](size_t i) { return tol_dx[i]; }));
    EXPECT_TRUE(all_close(d_dw.to_vector(), dw, [&](size_t i) { return 4 * kEps * abs_dw[i]; }));
  }
}

TEST_F(CudaNN, RopeMatchesCpu) {
  // The angles are the CPU's float bits (inv_freq from the host, the same float multiply), cos and
  // sin are evaluated in double and rounded on both (identical unless within ~1e-16 of a float
  // rounding boundary); the GPU may fuse x1 c - x2 s into an fma: within 4 eps (|x1| + |x2|).
  // Positions up to 70000 check that large angles (where a wrong recipe drifts) still agree.
  // Scaled RoPE (llama3 / YaRN frequencies, model/rope_scaling.h) passes its own inv_freq and a
  // cos/sin scale: the second frequency set, scale 1.25, scales the tolerance with it.
  Rng rng(42);
  const int64_t B = 2, T = 5, H = 3, Dh = 16;
  Tensor x = Tensor::randn({B, T, H, Dh}, rng), g = Tensor::randn({B, T, H, Dh}, rng);
  const Ids shared = {0, 1, 2, 3, 4}, per_batch = {7, 8, 9, 10, 11, 4000, 4001, 4002, 65000, 70000};
  RopeFreqs scaled = rope_default_freqs(10000.0f, Dh);
  for (size_t i = 0; i < scaled.inv_freq.size(); i++) scaled.inv_freq[i] /= float(1 + i);  // any frequencies
  scaled.scale = 1.25f;
  for (const RopeFreqs& f : {rope_default_freqs(10000.0f, Dh), scaled})
  for (const Ids& pos : {shared, per_batch}) {
    SCOPED_TRACE(cat(pos.size(), " positions, scale ", f.scale));
    std::vector<float> outs[2], grads[2];
    for (Device dev : {Device::CPU, kCuda}) {
      Tensor xl = leaf(x, dev);
      Tensor y = rope(xl, pos, f);
      backward(y, g.to(dev));
      outs[int(dev)] = y.to_vector();
      grads[int(dev)] = xl.grad().to_vector();
    }
    auto tol_of = [&](const std::vector<float>& in) {
      std::vector<double> t(in.size());
      for (size_t i = 0; i < in.size(); i++) {
        const size_t j = size_t(i % Dh), half = size_t(Dh / 2), base = i - j;
        const size_t k = j < half ? j + half : j - half;  // the other element of the pair
        t[i] = 4 * kEps * f.scale * (std::fabs(in[i]) + std::fabs(in[base + k]));
      }
      return t;
    };
    std::vector<double> ty = tol_of(x.to_vector()), tg = tol_of(g.to_vector());
    EXPECT_TRUE(all_close(outs[1], outs[0], [&](size_t i) { return ty[i]; }));
    EXPECT_TRUE(all_close(grads[1], grads[0], [&](size_t i) { return tg[i]; }));
  }
}

// Row-wise test inputs: N(0, 3) logits with a few -inf (masked) entries and one large row.
Tensor logits_like(int64_t N, int64_t D, Rng& rng) {
  std::vector<float> v = Tensor::randn({N, D}, rng, 3.0f).to_vector();
  for (int64_t n = 0; n < N; n++)
    if (D > 2) v[size_t(n * D + (n % D))] = -std::numeric_limits<float>::infinity();
  if (N > 1)
    for (int64_t d = 0; d < D; d++) v[size_t(D + d)] *= 30.0f;  // row 1: a scale where the max matters
  return Tensor::from_vector({N, D}, v);
}

TEST_F(CudaNN, SoftmaxLogSoftmaxForwardMatchCpu) {
  // The sums of exponentials differ by at most kSumExpTol relative (see there), so
  // softmax: within kSumExpTol |y| (plus the roundings of e and e * inv, a few eps, inside its margin).
  // log_softmax: log(sum) within kSumExpTol absolute, plus the roundings of (x - m) - log_s:
  // within kSumExpTol (1 + |y| + |x - m|), computed with the CPU's row max.
  // Below e^-87.5 the CPU's exp returns 0 where expf returns a subnormal (< 2^-126): kTiny absolute.
  Rng rng(43);
  for (const auto& shape : kRowShapes) {
    const int64_t N = shape.first, D = shape.second;
    SCOPED_TRACE(cat("N = ", N, " D = ", D));
    Tensor x = logits_like(N, D, rng), dx = x.to(kCuda);
    std::vector<float> xv = x.to_vector(), p = softmax(x).to_vector(), lp = log_softmax(x).to_vector();
    EXPECT_TRUE(all_close(softmax(dx).to_vector(), p, [&](size_t i) { return kSumExpTol * std::fabs(p[i]) + kTiny; }));
    std::vector<double> shift(static_cast<size_t>(N * D));
    for (int64_t n = 0; n < N; n++) {
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t d = 0; d < D; d++) m = std::max(m, xv[size_t(n * D + d)]);
      for (int64_t d = 0; d < D; d++) shift[size_t(n * D + d)] = std::fabs(double(xv[size_t(n * D + d)]) - m);
    }
    EXPECT_TRUE(all_close(log_softmax(dx).to_vector(), lp,
                          [&](size_t i) { return kSumExpTol * (1 + std::fabs(lp[i]) + shift[i]); }));
  }
}

TEST_F(CudaNN, SoftmaxLogSoftmaxBackwardKernelsMatchCpu) {
  // The backward kernels on the same (y, g) on both devices. Row sums in double on both.
  // softmax: dx = y (g - dot): the same float operations once float(dot) agrees: 4 eps |y| (|g| + |dot|).
  // log_softmax: dx = g - exp(y) sum(g): exp within 3.4 ulp and a possible fma: 6 eps |e s| + 2 eps |dx|
  // (+ kTiny |s| where e underflows).
  Rng rng(44);
  for (const auto& shape : kRowShapes) {
    const int64_t N = shape.first, D = shape.second;
    SCOPED_TRACE(cat("N = ", N, " D = ", D));
    Tensor x = Tensor::randn({N, D}, rng), g = Tensor::randn({N, D}, rng);
    std::vector<float> y = softmax(x).to_vector(), ly = log_softmax(x).to_vector(), gv = g.to_vector();
    std::vector<float> dx(static_cast<size_t>(N * D)), ldx(static_cast<size_t>(N * D));
    cpu::softmax_backward(y.data(), gv.data(), N, D, dx.data());
    cpu::log_softmax_backward(ly.data(), gv.data(), N, D, ldx.data());
    Tensor d_y = Tensor::from_vector({N, D}, y, kCuda), d_ly = Tensor::from_vector({N, D}, ly, kCuda);
    Tensor d_g = g.to(kCuda);
    Tensor d_dx = Tensor::empty({N, D}, kCuda), d_ldx = Tensor::empty({N, D}, kCuda);
    cuda::softmax_backward(d_y.data(), d_g.data(), N, D, d_dx.data());
    cuda::log_softmax_backward(d_ly.data(), d_g.data(), N, D, d_ldx.data());
    std::vector<double> tol_s(static_cast<size_t>(N * D)), tol_l(static_cast<size_t>(N * D));
    for (int64_t n = 0; n < N; n++) {
      double dot = 0, gs = 0;
      for (int64_t d = 0; d < D; d++) {
        dot += double(gv[size_t(n * D + d)]) * y[size_t(n * D + d)];
        gs += gv[size_t(n * D + d)];
      }
      for (int64_t d = 0; d < D; d++) {
        const size_t i = size_t(n * D + d);
        tol_s[i] = 4 * kEps * std::fabs(y[i]) * (std::fabs(gv[i]) + std::fabs(dot));
        tol_l[i] = (6 * kEps * std::exp(double(ly[i])) + kTiny) * std::fabs(gs) + 2 * kEps * std::fabs(ldx[i]);
      }
    }
    EXPECT_TRUE(all_close(d_dx.to_vector(), dx, [&](size_t i) { return tol_s[i]; }));
    EXPECT_TRUE(all_close(d_ldx.to_vector(), ldx, [&](size_t i) { return tol_l[i]; }));
  }
}

TEST_F(CudaNN, CrossEntropyMatchesCpu) {
  // Forward through the op (the loss) and the kernels (lse); backward kernels on the same lse.
  // lse = m + log(sum): log(sum) within kSumExpTol absolute, so lse within kSumExpTol (1 + |lse|)
  // and each row loss lse - x[t] within kSumExpTol (1 + |loss|); their mean within the largest
  // row bound plus its own rounding.
  // dlogits = coef exp(x - lse) (- coef at the target): exp within 3.4 ulp: 6 eps |coef| p + 2 eps |dx|
  // (+ kTiny where p underflows).
  Rng rng(45);
  const int32_t ignore = -100;
  for (const auto& shape : kRowShapes) {
    const int64_t N = shape.first, V = shape.second;
    SCOPED_TRACE(cat("N = ", N, " V = ", V));
    Tensor x = Tensor::randn({N, V}, rng, 2.0f);
    Ids t(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; n++) t[size_t(n)] = n % 3 == 1 ? ignore : int32_t(rng.below(uint64_t(V)));
    const int64_t count = std::count_if(t.begin(), t.end(), [&](int32_t v) { return v != ignore; });
    std::vector<float> xv = x.to_vector(), lse(static_cast<size_t>(N)), loss(static_cast<size_t>(N));
    cpu::cross_entropy_forward(xv.data(), t.data(), ignore, N, V, lse.data(), loss.data());
    Tensor d_x = x.to(kCuda), d_lse = Tensor::empty({N}, kCuda), d_loss = Tensor::empty({}, kCuda);
    cuda::cross_entropy_forward(d_x.data(), t.data(), ignore, N, V, count, d_lse.data(), d_loss.data());
    double worst = 0;
    for (float l : loss) worst = std::max(worst, kSumExpTol * (1 + std::fabs(l)));
    EXPECT_TRUE(all_close(d_lse.to_vector(), lse, [&](size_t i) { return kSumExpTol * (1 + std::fabs(lse[i])); }));
    const float want = cross_entropy(x, t, ignore).item();
    Tensor got = cross_entropy(d_x, t, ignore);
    EXPECT_TRUE(got.is_cuda());
    EXPECT_NEAR(got.item(), want, worst + 2 * kEps * std::fabs(want));

    const float coef = 0.75f / float(std::max<int64_t>(count, 1));
    std::vector<float> dl(static_cast<size_t>(N * V));
    cpu::cross_entropy_backward(xv.data(), t.data(), ignore, lse.data(), coef, N, V, dl.data());
    Tensor d_l = Tensor::from_vector({N}, lse, kCuda), d_g = Tensor::scalar(0.75f, kCuda);
    Tensor d_dl = Tensor::empty({N, V}, kCuda);
    cuda::cross_entropy_backward(d_x.data(), t.data(), ignore, d_l.data(), d_g.data(), std::max<int64_t>(count, 1), N,
                                 V, d_dl.data());
    EXPECT_TRUE(all_close(d_dl.to_vector(), dl, [&](size_t i) {
      const double p = std::exp(double(xv[i]) - lse[i / size_t(V)]);
      return 6 * kEps * std::fabs(coef) * p + 2 * kEps * std::fabs(dl[i]) + kTiny;
    }));
  }
  // Every row ignored: the loss is 0 and the gradient all zeros, on the device too.
  Tensor x = leaf(Tensor::randn({3, 7}, rng), kCuda);
  Tensor l = cross_entropy(x, {ignore, ignore, ignore}, ignore);
  EXPECT_EQ(l.item(), 0.0f);
  backward(l);
  EXPECT_TRUE(bitwise_equal(x.grad().to_vector(), std::vector<float>(21, 0.0f)));
}

// --- whole graphs through autograd -------------------------------------------------------------------
// Each graph runs on both devices from the same inputs; the loss and every input gradient are
// compared. Values are O(1) and every op's CUDA result is within ~1e-6 relative of the CPU's (the
// tests above), so through a few ops of O(1) gain the results agree to ~1e-5 relative; the bound
// 1e-4 (1 + |ref|) leaves a wide margin, while a wrong index, transpose or missing term gives O(1).

void expect_graph_parity(const std::vector<Tensor>& inputs,
                         const std::function<Tensor(const std::vector<Tensor>&, Device)>& graph) {
  float loss[2];
  std::vector<std::vector<float>> grads[2];
  for (Device dev : {Device::CPU, kCuda}) {
    std::vector<Tensor> xs;
    for (const Tensor& t : inputs) xs.push_back(leaf(t, dev));
    Tensor l = graph(xs, dev);
    EXPECT_EQ(l.device(), dev);
    backward(l);
    loss[int(dev)] = l.item();
    for (const Tensor& t : xs) {
      ASSERT_TRUE(t.grad().defined());
      EXPECT_EQ(t.grad().device(), dev);
      grads[int(dev)].push_back(t.grad().to_vector());
    }
  }
  EXPECT_NEAR(loss[1], loss[0], 1e-4 * (1 + std::fabs(loss[0])));
  for (size_t k = 0; k < inputs.size(); k++) {
    const std::vector<float>& ref = grads[0][k];
    EXPECT_TRUE(all_close(grads[1][k], ref, [&](size_t i) { return 1e-4 * (1 + std::fabs(ref[i])); }))
        << "gradient of input " << k;
  }
}

TEST_F(CudaOpsAutograd, TransformerLikeGraph) {
  // embedding -> rope -> rmsnorm -> linear -> cross_entropy, plus a mean-of-log_softmax term and a
  // split/concat/permute round trip: the ops of a language-model step.
  const int64_t B = 2, T = 3, H = 2, Dh = 4, D = H * Dh, V = 11;
  Rng rng(51);
  const Ids ids = {1, 5, 5, 0, 10, 3}, targets = {5, 5, 0, -100, 3, 7}, pos = {0, 1, 2};
  std::vector<Tensor> inputs = {Tensor::randn({V, D}, rng), Tensor::uniform({D}, rng, 0.5f, 1.5f),
                                Tensor::randn({V, D}, rng, 0.5f)};
  expect_graph_parity(inputs, [&](const std::vector<Tensor>& p, Device) {
    Tensor h = embedding(p[0], ids, {B, T});                                // (B, T, D)
    Tensor r = rope(reshape(h, {B, T, H, Dh}), pos, 10000.0f);             // (B, T, H, Dh)
    std::vector<Tensor> halves = split(r, {1, 1}, 2);                      // 2 x (B, T, 1, Dh)
    Tensor hr = permute(concat({halves[1], halves[0]}, 2), {0, 1, 2, 3});  // heads swapped
    Tensor n = rmsnorm(reshape(hr, {B * T, D}), p[1], 1e-6f);              // (B*T, D)
    Tensor logits = linear(n, p[2]);                                       // (B*T, V)
    return add(cross_entropy(logits, targets), scale(mean(log_softmax(logits)), -0.1f));
  });
}

TEST_F(CudaOpsAutograd, MoeLikeGraph) {
  // A router softmax, top-k gates by gather, dispatch by index_select, combine by scatter_add,
  // then clamp, where, sum over an axis and mean: the ops of an MoE layer and GRPO's objective.
  const int64_t N = 5, D = 6, E = 4, K = 2;
  Rng rng(52);
  const Ids topk = {0, 2, 1, 3, 2, 0, 3, 1, 0, 1};  // (N, K) expert ids per token
  Ids rows;                                         // token of each (token, slot)
  for (int64_t n = 0; n < N; n++)
    for (int64_t k = 0; k < K; k++) rows.push_back(int32_t(n));
  std::vector<float> mv = {1, 0, 1, 1, 0, 1};
  std::vector<Tensor> inputs = {Tensor::randn({N, D}, rng), Tensor::randn({D, E}, rng, 0.5f),
                                Tensor::randn({D, D}, rng, 0.4f)};
  expect_graph_parity(inputs, [&](const std::vector<Tensor>& p, Device dev) {
    Tensor probs = softmax(matmul(p[0], p[1]));                                // (N, E)
    Tensor gates = reshape(gather(probs, topk, K), {N * K, 1});                 // (N*K, 1)
    Tensor expert_in = index_select(p[0], rows);                                // (N*K, D)
    Tensor expert_out = silu(matmul(expert_in, p[2]));                          // (N*K, D)
    Tensor combined = scatter_add(mul(expert_out, gates), rows, N);             // (N, D)
    Tensor c = clamp(combined, -0.5f, 0.5f);
    Tensor w = where(Tensor::from_vector({D}, mv, dev), c, scale(combined, 0.1f));  // (N, D)
    return add(mean(sum(w, 1)), scale(sum(mean(w, 0)), 0.5f));
  });
}

#endif  // R1_CUDA

}  // namespace
}  // namespace r1
