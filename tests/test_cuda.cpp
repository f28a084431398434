// Parity tests of the CUDA backend (cuda/) against the CPU kernels (src/cpu/): cuBLAS sgemm in
// every transpose combination, odd shapes and batches; every elementwise op wired to CUDA
// (broadcast shapes too); the broadcast-gradient reduction sum_to; host<->device copies and the
// caching allocator; and one autograd backward through matmul + add + silu + sum on both devices.
//
// Every test skips with the reason when no GPU is usable ("no CUDA device: ...") or when r1 was
// built with CUDA=0. One test runs precisely when there is no GPU: asking for a CUDA tensor must
// then fail with an r1::Error that says so.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/autograd.h"
#include "cpu/gemm.h"
#include "ops/op_util.h"
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

#ifndef R1_CUDA

TEST(Cuda, BuiltWithoutCuda) { GTEST_SKIP() << "built without CUDA (CUDA=0)"; }

#else

constexpr double kEps = std::numeric_limits<float>::epsilon();  // 2^-23 ~ 1.19e-7
using testing::all_close;
using testing::equal_values;

using CudaTest = testing::GpuTest;
class CudaRuntime : public CudaTest {};
class CudaGemm : public CudaTest {};
class CudaElementwise : public CudaTest {};
class CudaAutograd : public CudaTest {};

// --- helpers --------------------------------------------------------------------------------

std::vector<float> random_vector(size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (float& x : v) x = float(lo + (hi - lo) * rng.uniform());
  return v;
}


// --- runtime: the no-GPU message, copies, allocator, errors ------------------------------------

TEST(CudaUnavailable, CudaTensorSaysWhy) {
  if (cuda::available()) GTEST_SKIP() << "a CUDA device is present (" << cuda::device_description() << ")";
  try {
    Tensor::zeros({2}, Device::CUDA);
    FAIL() << "creating a CUDA tensor without a GPU did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--device cuda: no CUDA device available"), std::string::npos) << e.what();
  }
}

TEST_F(CudaRuntime, HostDeviceRoundTrips) {
  Rng rng(1);
  for (int64_t n : {0, 1, 3, 1000, 1 << 20}) {
    std::vector<float> v = random_vector(size_t(n), rng);
    Tensor d = Tensor::from_vector({n}, v, Device::CUDA);
    EXPECT_TRUE(d.is_cuda());
    EXPECT_TRUE(equal_values(d.to_vector(), v)) << "h2d + d2h, n = " << n;
    EXPECT_TRUE(equal_values(d.clone().to_vector(), v)) << "d2d, n = " << n;
    Tensor back = d.to(Device::CPU);
    EXPECT_FALSE(back.is_cuda());
    EXPECT_TRUE(equal_values(back.to_vector(), v)) << "to(cpu), n = " << n;
    Tensor d2 = Tensor::empty({n}, Device::CUDA);
    d2.copy_from(back);
    EXPECT_TRUE(equal_values(d2.to_vector(), v)) << "copy_from cpu, n = " << n;
  }
  EXPECT_TRUE(equal_values(Tensor::zeros({5}, Device::CUDA).to_vector(), std::vector<float>(5, 0.0f)));
  EXPECT_TRUE(equal_values(Tensor::full({5}, -2.5f, Device::CUDA).to_vector(), std::vector<float>(5, -2.5f)));
  EXPECT_EQ(Tensor::from_vector({2, 2}, {1, 2, 3, 4}, Device::CUDA).at({1, 0}), 3.0f);
  cuda::synchronize();
}

TEST_F(CudaRuntime, AllocatorReusesFreedBlocks) {
  cuda::MemoryStats s0 = cuda::memory_stats();
  void* p = cuda::malloc(3000);  // bucket 3072 (steps of 512 between 2048 and 4096)
  cuda::MemoryStats s1 = cuda::memory_stats();
  EXPECT_EQ(s1.in_use_bytes, s0.in_use_bytes + 3072);
  cuda::free(p);
  cuda::MemoryStats s2 = cuda::memory_stats();
  EXPECT_EQ(s2.in_use_bytes, s0.in_use_bytes);
  EXPECT_EQ(s2.cached_bytes, s1.cached_bytes + 3072);
  void* q = cuda::malloc(2900);  // same bucket: the freed block comes back, no cudaMalloc
  EXPECT_EQ(q, p);
  EXPECT_EQ(cuda::memory_stats().device_mallocs, s2.device_mallocs);
  void* r = cuda::malloc(5000);  // another bucket (5120): another block
  EXPECT_NE(r, q);
  cuda::free(q);
  cuda::free(r);
  cuda::empty_cache();
  EXPECT_EQ(cuda::memory_stats().cached_bytes, 0u);
}

TEST_F(CudaRuntime, ErrorsNameTheCall) {
  try {
    cuda::malloc(size_t(1) << 60);  // 1 EiB: cudaMalloc fails (after emptying the cache)
    FAIL() << "a 1 EiB allocation did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda::malloc: cudaMalloc"), std::string::npos) << e.what();
  }
  Tensor a = Tensor::zeros({4, 4}, Device::CUDA), c = Tensor::zeros({4, 4}, Device::CUDA);
  try {
    cuda::sgemm(false, false, 4, 4, 4, 1.0f, a.data(), 4, a.data(), 4, 0.0f, c.data(), 3);  // ldc < N
    FAIL() << "ldc < N did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda::sgemm: cublasSgemm"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("CUBLAS_STATUS_INVALID_VALUE"), std::string::npos) << e.what();
  }
  Tensor x = Tensor::ones({3}, Device::CUDA);  // the device still works after the errors
  EXPECT_TRUE(equal_values(add(x, x).to_vector(), {2, 2, 2}));
}

// --- GEMM ---------------------------------------------------------------------------------------

struct GemmCase {
  bool ta, tb;
  int64_t batch, M, N, K;
  int64_t pad;       // extra elements in every leading dimension (and between batch matrices)
  bool shared_b;     // stride_b = 0 (one B for the whole batch)
  float alpha, beta;
};

// Runs one case on both devices and compares. Tolerance: fp32 sums of K products in different
// orders (cuBLAS vs our blocking) each lie within K * eps * (|alpha| sum_k |a_ik b_kj| + |beta c|)
// of the exact value, so they differ by at most twice that; a layout bug gives O(1) errors.
void check_gemm(const GemmCase& g, double tol_scale = 1.0) {
  SCOPED_TRACE(cat("ta=", g.ta, " tb=", g.tb, " batch=", g.batch, " M=", g.M, " N=", g.N, " K=", g.K, " pad=", g.pad,
                   " shared_b=", g.shared_b, " alpha=", g.alpha, " beta=", g.beta));
  const int64_t lda = (g.ta ? g.M : g.K) + g.pad, ldb = (g.tb ? g.K : g.N) + g.pad, ldc = g.N + g.pad;
  const int64_t a_rows = g.ta ? g.K : g.M, b_rows = g.tb ? g.N : g.K;
  const int64_t sa = a_rows * lda + g.pad, sb = g.shared_b ? 0 : b_rows * ldb + g.pad, sc = g.M * ldc + g.pad;
  Rng rng(uint64_t(g.M * 131 + g.N * 7 + g.K));
  std::vector<float> A = random_vector(size_t(sa * g.batch + a_rows * lda), rng);
  std::vector<float> B = random_vector(size_t(std::max<int64_t>(sb * g.batch, 0) + b_rows * ldb), rng);
  std::vector<float> C0 = random_vector(size_t(sc * g.batch + g.M * ldc), rng);
  if (g.beta == 0.0f) std::fill(C0.begin(), C0.end(), std::nanf(""));  // beta == 0 must not read C

  std::vector<float> C_cpu = C0;
  Tensor dA = Tensor::from_vector({int64_t(A.size())}, A, Device::CUDA);
  Tensor dB = Tensor::from_vector({int64_t(B.size())}, B, Device::CUDA);
  Tensor dC = Tensor::from_vector({int64_t(C0.size())}, C0, Device::CUDA);
  if (g.batch == 1) {
    cpu::sgemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, A.data(), lda, B.data(), ldb, g.beta, C_cpu.data(), ldc);
    cuda::sgemm(g.ta, g.tb, g.M, g.N, g.K, g.alpha, dA.data(), lda, dB.data(), ldb, g.beta, dC.data(), ldc);
  } else {
    cpu::sgemm_batched(g.ta, g.tb, g.batch, g.M, g.N, g.K, g.alpha, A.data(), lda, sa, B.data(), ldb, sb, g.beta,
                       C_cpu.data(), ldc, sc);
    cuda::sgemm_batched(g.ta, g.tb, g.batch, g.M, g.N, g.K, g.alpha, dA.data(), lda, sa, dB.data(), ldb, sb, g.beta,
                        dC.data(), ldc, sc);
  }
  std::vector<float> C_gpu = dC.to_vector();

  // Per-element bound; elements outside the matrices (padding) must be untouched (tol 0).
  std::vector<double> tol(C0.size(), 0.0);
  for (int64_t p = 0; p < g.batch; p++)
    for (int64_t i = 0; i < g.M; i++)
      for (int64_t j = 0; j < g.N; j++) {
        double abs_sum = 0;
        for (int64_t k = 0; k < g.K; k++) {
          float a = g.ta ? A[size_t(p * sa + k * lda + i)] : A[size_t(p * sa + i * lda + k)];
          float b = g.tb ? B[size_t(p * sb + j * ldb + k)] : B[size_t(p * sb + k * ldb + j)];
          abs_sum += std::fabs(double(a) * double(b));
        }
        size_t c = size_t(p * sc + i * ldc + j);
        double beta_c = g.beta == 0.0f ? 0.0 : std::fabs(double(g.beta) * C0[c]);
        tol[c] = tol_scale * 2.0 * double(g.K + 2) * kEps * (std::fabs(double(g.alpha)) * abs_sum + beta_c);
      }
  EXPECT_TRUE(all_close(C_gpu, C_cpu, [&](size_t i) { return tol[i]; }));
}

TEST_F(CudaGemm, AllTransposeCombosAndOddShapes) {
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {33, 65, 129}, {1, 300, 70}, {130, 1, 64}, {96, 128, 257}};
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const auto& s : shapes) {
        check_gemm({ta, tb, 1, s[0], s[1], s[2], 0, false, 1.0f, 0.0f});
        check_gemm({ta, tb, 1, s[0], s[1], s[2], 3, false, 0.5f, 0.25f});  // padded ld, alpha, beta
      }
}

TEST_F(CudaGemm, Batched) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      check_gemm({ta, tb, 3, 17, 9, 33, 0, false, 1.0f, 0.0f});
      check_gemm({ta, tb, 4, 5, 31, 12, 2, false, 1.5f, -1.0f});
      check_gemm({ta, tb, 3, 8, 16, 24, 1, true, 1.0f, 0.0f});  // one B shared by the batch
    }
}

TEST_F(CudaGemm, MatmulOpMatchesCpu) {
  // The matmul op on CUDA tensors, flattened (3-d @ 2-d) and batched (3-d @ 3-d) paths.
  Rng rng(5);
  Tensor a = Tensor::randn({3, 10, 24}, rng), w = Tensor::randn({24, 7}, rng), b = Tensor::randn({3, 24, 7}, rng);
  for (const auto& [x, y] : std::vector<std::pair<Tensor, Tensor>>{{a, w}, {a, b}}) {
    std::vector<float> cpu = matmul(x, y).to_vector();
    Tensor gpu = matmul(x.to(Device::CUDA), y.to(Device::CUDA));
    EXPECT_TRUE(gpu.is_cuda());
    EXPECT_EQ(gpu.shape(), (Shape{3, 10, 7}));
    // K = 24 products of N(0,1) values: |sum_k a b| terms ~ 24, 2 K eps * 24 * 4 ~ 5e-4.
    EXPECT_TRUE(all_close(gpu.to_vector(), cpu, [](size_t) { return 5e-4; }));
  }
}

TEST_F(CudaGemm, Tf32Option) {
  struct Restore {
    ~Restore() { cuda::set_tf32(false); }
  } restore;
  EXPECT_FALSE(cuda::tf32());
  cuda::set_tf32(true);
  EXPECT_TRUE(cuda::tf32());
  // TF32 keeps 10 mantissa bits of each input (relative error <= 2^-10 if truncated, 2^-11 if
  // rounded), so each product is off by up to ~2^-9 relative: the tolerance is scaled so the
  // bound reaches 2^-9 * sum_k |a_ik b_kj| (fp32 accumulation adds the usual K eps on top).
  const int64_t K = 256;
  const double tf32_scale = std::ldexp(1.0, -9) / (2.0 * double(K + 2) * kEps) + 1.0;
  check_gemm({false, true, 1, 128, 128, K, 0, false, 1.0f, 0.0f}, tf32_scale);
  cuda::set_tf32(false);
  EXPECT_FALSE(cuda::tf32());
  check_gemm({false, true, 1, 128, 128, K, 0, false, 1.0f, 0.0f});  // back to full fp32 bounds
}

// --- elementwise --------------------------------------------------------------------------------

// Shape pairs for broadcasting binary ops: same shape, trailing vector, scalar, both sides
// broadcast, 4-d.
const std::vector<std::pair<Shape, Shape>> kBroadcastPairs = {
    {{2, 3, 4, 5}, {2, 3, 4, 5}}, {{4, 6, 8}, {8}},     {{7}, {}},           {{}, {7}},
    {{4, 1, 3}, {1, 6, 1}},       {{3, 1}, {1, 4}},     {{2, 1, 4, 1}, {1, 3, 1, 5}}, {{5, 300}, {5, 1}},
};

TEST_F(CudaElementwise, BinaryOpsMatchCpuBitwise) {
  // add/sub/mul/div/min/max are single IEEE-754 operations, correctly rounded on both devices,
  // so the results must be identical bit for bit.
  using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, BinaryFn>> ops = {
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}, {"minimum", minimum}, {"maximum", maximum}};
  Rng rng(2);
  for (const auto& [sa, sb] : kBroadcastPairs) {
    Tensor a = Tensor::uniform(sa, rng, -2.0f, 2.0f);
    Tensor b = Tensor::uniform(sb, rng, 0.5f, 2.0f);  // away from 0 for div
    Tensor da = a.to(Device::CUDA), db = b.to(Device::CUDA);
    for (const auto& [name, f] : ops) {
      SCOPED_TRACE(cat(name, " ", shape_str(sa), " ", shape_str(sb)));
      Tensor want = f(a, b), got = f(da, db);
      EXPECT_TRUE(got.is_cuda());
      EXPECT_EQ(got.shape(), want.shape());
      EXPECT_TRUE(equal_values(got.to_vector(), want.to_vector()));
    }
  }
}

TEST_F(CudaElementwise, ScalarOpsMatchCpuBitwise) {
  Rng rng(3);
  Tensor x = Tensor::randn({3, 5, 7}, rng), dx = x.to(Device::CUDA);
  EXPECT_TRUE(equal_values(scale(dx, -0.37f).to_vector(), scale(x, -0.37f).to_vector()));
  EXPECT_TRUE(equal_values(add_scalar(dx, 1.25f).to_vector(), add_scalar(x, 1.25f).to_vector()));
  EXPECT_TRUE(equal_values(neg(dx).to_vector(), neg(x).to_vector()));
}

TEST_F(CudaElementwise, UnaryOpsMatchCpu) {
  // CUDA's expf has at most 2 ulp error and logf 1 ulp (CUDA C++ Programming Guide, math
  // functions); glibc's are within 1 ulp. sigmoid/silu add a division and a multiply. So results
  // agree within ~6 ulp = 6 * 2^-24 ~ 4e-7 relative: 1e-6 relative (plus 1e-30 absolute for zeros).
  using UnaryFn = Tensor (*)(const Tensor&);
  Rng rng(4);
  Tensor x = Tensor::uniform({4, 1000}, rng, -8.0f, 8.0f);
  Tensor pos = Tensor::uniform({4, 1000}, rng, 0.01f, 10.0f);
  const std::vector<std::tuple<const char*, UnaryFn, Tensor>> cases = {
      {"exp", exp, x}, {"log", log, pos}, {"silu", silu, x}, {"sigmoid", sigmoid, x}};
  for (const auto& [name, f, in] : cases) {
    SCOPED_TRACE(name);
    std::vector<float> want = f(in).to_vector(), got = f(in.to(Device::CUDA)).to_vector();
    EXPECT_TRUE(all_close(got, want, [&](size_t i) { return 1e-6 * std::fabs(want[i]) + 1e-30; }));
  }
}

TEST_F(CudaElementwise, SumToMatchesCpu) {
  // sum_to reduces g over the broadcast dims in a different order than the CPU (a per-thread
  // strided sum then a tree). Each result is within n * eps * sum|g| of the exact sum (n terms
  // summed), so the two differ by at most 2 n eps sum|g|, computed per output from |g|.
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{4, 5, 6}, {6}},     {{4, 5, 6}, {5, 1}},        {{4, 5, 6}, {4, 1, 6}}, {{2, 3, 4, 5}, {}},
      {{3, 300, 7}, {1, 300, 1}}, {{1000, 64}, {64}}, {{2, 3, 4, 5}, {2, 1, 4, 1}}, {{64, 1000}, {64, 1}}};
  Rng rng(6);
  for (const auto& [from, to] : cases) {
    SCOPED_TRACE(cat(shape_str(from), " -> ", shape_str(to)));
    Tensor g = Tensor::randn(from, rng);
    std::vector<float> want = sum_to(g, to).to_vector();
    Tensor got = sum_to(g.to(Device::CUDA), to);
    EXPECT_TRUE(got.is_cuda());
    EXPECT_EQ(got.shape(), to);
    std::vector<float> abs_sum;
    {
      std::vector<float> gv = g.to_vector();
      for (float& v : gv) v = std::fabs(v);
      abs_sum = sum_to(Tensor::from_vector(from, gv), to).to_vector();
    }
    double n = double(shape_numel(from)) / double(shape_numel(to));
    EXPECT_TRUE(all_close(got.to_vector(), want, [&](size_t i) { return 2.0 * (n + 1) * kEps * abs_sum[i]; }));
  }
}

TEST_F(CudaElementwise, BroadcastGradientsMatchCpu) {
  // Backward of every broadcasting binary op on a: (3, 4, 5) and b: (4, 1): sum_to of the
  // broadcast operand, and the 0/1 compare kernels inside minimum/maximum.
  // a's gradient is one IEEE operation per element (g, -g, g*b, g/b, g*pick): bitwise equal.
  // b's gradient sums 15 terms each at most T = max|g| * max(1, max|a|) / min(b)^2 in size
  // (the largest is div's g a / b^2), in different orders: they differ by at most 2 * 15 * eps * 15 T.
  using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
  const std::vector<std::pair<const char*, BinaryFn>> ops = {
      {"add", add}, {"sub", sub}, {"mul", mul}, {"div", div}, {"minimum", minimum}, {"maximum", maximum}};
  Rng rng(7);
  Tensor a0 = Tensor::uniform({3, 4, 5}, rng, -2.0f, 2.0f), b0 = Tensor::uniform({4, 1}, rng, 0.5f, 2.0f);
  Tensor go = Tensor::randn({3, 4, 5}, rng);
  auto max_abs = [](const Tensor& t) {
    double m = 0;
    for (float v : t.to_vector()) m = std::max(m, std::fabs(double(v)));
    return m;
  };
  double b_min = 2.0;
  for (float v : b0.to_vector()) b_min = std::min(b_min, double(v));
  const double term = max_abs(go) * std::max(1.0, max_abs(a0)) / (b_min * b_min);
  const double b_tol = 2.0 * 15 * kEps * 15 * term;
  for (const auto& [name, f] : ops) {
    SCOPED_TRACE(name);
    std::vector<float> grads[2][2];  // [device][a, b]
    for (Device dev : {Device::CPU, Device::CUDA}) {
      Tensor a = a0.to(dev).detach().set_requires_grad(), b = b0.to(dev).detach().set_requires_grad();
      backward(f(a, b), go.to(dev));
      EXPECT_EQ(a.grad().device(), dev);
      grads[int(dev)][0] = a.grad().to_vector();
      grads[int(dev)][1] = b.grad().to_vector();
    }
    EXPECT_TRUE(equal_values(grads[1][0], grads[0][0]));
    EXPECT_TRUE(all_close(grads[1][1], grads[0][1], [&](size_t) { return b_tol; }));
  }
}

// --- autograd -----------------------------------------------------------------------------------

TEST_F(CudaAutograd, MatmulAddSiluSumBackward) {
  // loss = sum(silu(x @ w + bias)) with x: (2, 6, 16), w: (16, 12), bias: (12).
  // Tolerance: every value is a sum of at most 16 (forward) or 12 and 12 (backward) fp32 products
  // of O(1) terms, plus expf's few ulp, plus the 144-term loss sum: differences are ~1e-5 of the
  // magnitudes involved; 1e-4 * (1 + |ref|) leaves a wide margin while a wrong transpose or
  // broadcast gives O(1) errors.
  Rng rng(8);
  Tensor x0 = Tensor::randn({2, 6, 16}, rng), w0 = Tensor::randn({16, 12}, rng, 0.3f), b0 = Tensor::randn({12}, rng);
  float loss_value[2];
  std::vector<float> grads[2][3];  // [device][x, w, bias]
  for (Device dev : {Device::CPU, Device::CUDA}) {
    Tensor x = x0.to(dev).detach().set_requires_grad(), w = w0.to(dev).detach().set_requires_grad();
    Tensor bias = b0.to(dev).detach().set_requires_grad();
    Tensor y = silu(add(matmul(x, w), bias));  // (2, 6, 12)
    Tensor loss = sum(y);                      // ()
    EXPECT_EQ(loss.device(), dev);
    backward(loss);
    loss_value[int(dev)] = loss.item();
    grads[int(dev)][0] = x.grad().to_vector();
    grads[int(dev)][1] = w.grad().to_vector();
    grads[int(dev)][2] = bias.grad().to_vector();
    EXPECT_EQ(w.grad().device(), dev);
  }
  EXPECT_NEAR(loss_value[1], loss_value[0], 1e-4 * (1.0 + std::fabs(loss_value[0])));
  const char* names[3] = {"x", "w", "bias"};
  for (int i = 0; i < 3; i++) {
    SCOPED_TRACE(names[i]);
    const std::vector<float>& want = grads[0][i];
    EXPECT_TRUE(all_close(grads[1][i], want, [&](size_t j) { return 1e-4 * (1.0 + std::fabs(want[j])); }));
  }
}

#endif  // R1_CUDA

}  // namespace
}  // namespace r1
