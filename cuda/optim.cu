// The optimizer on the device: the fused AdamW update of one parameter (the CUDA side of
// adamw_update in src/train/optim.cpp, same equations in the same order) and the pieces of
// global gradient-norm clipping: a deterministic sum of squares over many gradients and an
// in-place scale.
//
// Numerics: the per-step scalars are computed on the host exactly as adamw_update computes
// them; the elementwise update is the same float expression. The CPU build may contract some
// products into FMAs and nvcc may contract others, so parameters match the CPU to a few ulp,
// not bit for bit. The sum of squares is summed in double in a fixed tree (a fixed grid of
// kNormBlocks blocks per gradient, then one block over all partial sums): the same bits run to
// run on any GPU, no atomics, but not the CPU's sequential order.
// Does not do: multi-tensor (one launch per parameter), AMSGrad, mixed precision.
#include <cmath>
#include <vector>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

static constexpr int kThreads = 256;
static constexpr int kNormBlocks = 64;  // partial sums per gradient (fixed: determinism)

// --- AdamW -------------------------------------------------------------------------------------

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

static unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 65536 ? (b > 0 ? b : 1) : 65536);
}

void adamw_update(float* d_p, const float* d_g, float* d_m, float* d_v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step) {
  if (n == 0) return;
  // The per-step scalars exactly as r1::adamw_update computes them.
  const double bias1 = 1.0 - std::pow(double(beta1), double(step));
  const double bias2 = 1.0 - std::pow(double(beta2), double(step));
  const float step_size = float(double(lr) / bias1);
  const float bias2_sqrt = float(std::sqrt(bias2));
  const float decay = 1.0f - lr * weight_decay;
  adamw_kernel<<<blocks_for(n), kThreads>>>(d_p, d_g, d_m, d_v, n, beta1, beta2, eps, step_size, bias2_sqrt, decay);
  check(cudaGetLastError(), "cuda::adamw_update: kernel launch");
}

// --- gradient norm -------------------------------------------------------------------------------

// Adds the kThreads values of buf (shared memory) in a fixed tree; the result is in buf[0].
__device__ inline void block_tree_sum(double* buf) {
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) buf[threadIdx.x] += buf[threadIdx.x + half];
    __syncthreads();
  }
}

// x: (n) -> partial: (kNormBlocks), partial[b] = the sum of x^2 over block b's grid-stride share.
__global__ void sum_squares_partial_kernel(const float* x, int64_t n, double* partial) {
  __shared__ double buf[kThreads];
  double acc = 0.0;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < n; i += int64_t(kNormBlocks) * kThreads)
    acc += double(x[i]) * double(x[i]);
  buf[threadIdx.x] = acc;
  block_tree_sum(buf);
  if (threadIdx.x == 0) partial[blockIdx.x] = buf[0];
}

// partial: (n) -> out: (1), one block.
__global__ void sum_kernel(const double* partial, int64_t n, double* out) {
  __shared__ double buf[kThreads];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kThreads) acc += partial[i];
  buf[threadIdx.x] = acc;
  block_tree_sum(buf);
  if (threadIdx.x == 0) *out = buf[0];
}

double sum_squares(const std::vector<const float*>& d_xs, const std::vector<int64_t>& sizes) {
  if (d_xs.size() != sizes.size()) throw Error("cuda::sum_squares: one size per pointer expected");
  if (d_xs.empty()) return 0.0;
  const int64_t n_partial = int64_t(d_xs.size()) * kNormBlocks;
  auto* d_partial = static_cast<double*>(malloc(size_t(n_partial + 1) * sizeof(double)));  // (n_partial) + the total
  for (size_t i = 0; i < d_xs.size(); i++) {
    sum_squares_partial_kernel<<<kNormBlocks, kThreads>>>(d_xs[i], sizes[i], d_partial + int64_t(i) * kNormBlocks);
    check(cudaGetLastError(), "cuda::sum_squares: kernel launch");
  }
  sum_kernel<<<1, kThreads>>>(d_partial, n_partial, d_partial + n_partial);
  check(cudaGetLastError(), "cuda::sum_squares: kernel launch");
  double total = 0.0;
  memcpy_d2h(&total, d_partial + n_partial, sizeof(double));  // the one scalar clipping needs on the host
  free(d_partial);
  return total;
}

__global__ void scale_in_place_kernel(float* x, int64_t n, float s) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] *= s;
}

void scale_in_place(float* d_x, int64_t n, float s) {
  if (n == 0) return;
  scale_in_place_kernel<<<blocks_for(n), kThreads>>>(d_x, n, s);
  check(cudaGetLastError(), "cuda::scale_in_place: kernel launch");
}

}  // namespace r1::cuda
