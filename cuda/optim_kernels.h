// The kernels of cuda/optim.cu: the fused AdamW update, the two-stage sum of squares of the
// gradient norm, and an in-place scale. A header of its own, like cuda/attention_kernels.h, so
// that tests/test_cuda_attention.cpp can also compile them on the host under its emulation of a
// CUDA block and compare them with the CPU optimizer. Everything is in an anonymous namespace
// (each includer gets its own copy).
#pragma once
#include <cmath>
#include <cstdint>

namespace r1::cuda {
namespace {

constexpr int kOptimThreads = 256;
constexpr int kNormBlocks = 64;  // partial sums per gradient (fixed: determinism)

// --- AdamW -------------------------------------------------------------------------------------

// The per-step scalars of an AdamW update, computed exactly as r1::adamw_update computes them.
struct AdamWScalars {
  float step_size, bias2_sqrt, decay;
};

inline AdamWScalars adamw_scalars(float lr, float beta1, float beta2, float weight_decay, int64_t step) {
  const double bias1 = 1.0 - std::pow(double(beta1), double(step));
  const double bias2 = 1.0 - std::pow(double(beta2), double(step));
  return {float(double(lr) / bias1), float(std::sqrt(bias2)), 1.0f - lr * weight_decay};
}

// p, g, m, v: (n). Line for line the loop body of adamw_update.
__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, float beta1, float beta2,
                             float eps, float step_size, float bias2_sqrt, float decay) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float gi = g[i];
    float pi = p[i] * decay;
    float mi = m[i] + (1.0f - beta1) * (gi - m[i]);
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    float denom = sqrtf(vi) / bias2_sqrt + eps;  // IEEE sqrt and division (nvcc's defaults)
    p[i] = pi - step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

// --- gradient norm -------------------------------------------------------------------------------

// Adds the kOptimThreads values of buf (shared memory) in a fixed tree; the result is in buf[0].
__device__ inline void block_tree_sum(double* buf) {
  __syncthreads();
  for (int half = kOptimThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) buf[threadIdx.x] += buf[threadIdx.x + half];
    __syncthreads();
  }
}

// x: (n) -> partial: (kNormBlocks), partial[b] = the sum of x^2 over block b's grid-stride share.
__global__ void sum_squares_partial_kernel(const float* x, int64_t n, double* partial) {
  __shared__ double buf[kOptimThreads];
  double acc = 0.0;
  for (int64_t i = int64_t(blockIdx.x) * kOptimThreads + threadIdx.x; i < n; i += int64_t(kNormBlocks) * kOptimThreads)
    acc += double(x[i]) * double(x[i]);
  buf[threadIdx.x] = acc;
  block_tree_sum(buf);
  if (threadIdx.x == 0) partial[blockIdx.x] = buf[0];
}

// partial: (n) -> out: (1), one block.
__global__ void sum_kernel(const double* partial, int64_t n, double* out) {
  __shared__ double buf[kOptimThreads];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kOptimThreads) acc += partial[i];
  buf[threadIdx.x] = acc;
  block_tree_sum(buf);
  if (threadIdx.x == 0) *out = buf[0];
}

__global__ void scale_in_place_kernel(float* x, int64_t n, float s) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] *= s;
}

}  // namespace
}  // namespace r1::cuda
