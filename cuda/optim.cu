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
// The kernels are in cuda/optim_kernels.h (also compiled on the host by the tests); this file
// launches them.
// Does not do: multi-tensor (one launch per parameter), AMSGrad, mixed precision.
#include <cmath>
#include <vector>

#include "check.h"
#include "cuda_api.h"
#include "kernel_util.cuh"  // DeviceScratch
#include "optim_kernels.h"

namespace r1::cuda {

// --- host side ---------------------------------------------------------------------------------

static unsigned blocks_for(int64_t n) {
  int64_t b = (n + kOptimThreads - 1) / kOptimThreads;
  return unsigned(b < 65536 ? (b > 0 ? b : 1) : 65536);
}

void adamw_update(float* d_p, const float* d_g, float* d_m, float* d_v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step) {
  if (n == 0) return;
  const AdamWScalars k = adamw_scalars(lr, beta1, beta2, weight_decay, step);
  adamw_kernel<<<blocks_for(n), kOptimThreads>>>(d_p, d_g, d_m, d_v, n, beta1, beta2, eps, k.step_size, k.bias2_sqrt,
                                                 k.decay);
  check(cudaGetLastError(), "cuda::adamw_update: kernel launch");
}

double sum_squares(const std::vector<const float*>& d_xs, const std::vector<int64_t>& sizes) {
  if (d_xs.size() != sizes.size()) throw Error("cuda::sum_squares: one size per pointer expected");
  if (d_xs.empty()) return 0.0;
  const int64_t n_partial = int64_t(d_xs.size()) * kNormBlocks;
  const DeviceScratch<double> partial(n_partial + 1);  // (n_partial) + the total
  double* d_partial = partial.ptr;
  for (size_t i = 0; i < d_xs.size(); i++) {
    sum_squares_partial_kernel<<<kNormBlocks, kOptimThreads>>>(d_xs[i], sizes[i], d_partial + int64_t(i) * kNormBlocks);
    check(cudaGetLastError(), "cuda::sum_squares: kernel launch");
  }
  sum_kernel<<<1, kOptimThreads>>>(d_partial, n_partial, d_partial + n_partial);
  check(cudaGetLastError(), "cuda::sum_squares: kernel launch");
  double total = 0.0;
  memcpy_d2h(&total, d_partial + n_partial, sizeof(double));  // the one scalar clipping needs on the host
  return total;
}

void scale_in_place(float* d_x, int64_t n, float s) {
  if (n == 0) return;
  scale_in_place_kernel<<<blocks_for(n), kOptimThreads>>>(d_x, n, s);
  check(cudaGetLastError(), "cuda::scale_in_place: kernel launch");
}

}  // namespace r1::cuda
