// Token sampling on the device: the CUDA side of r1::sample_token (src/sample/sampler.cpp) for a
// batch of rows, one block of 512 threads per row, so a decode step copies only B (token,
// log-prob) pairs back. The per-row algorithm (bisection for the top-k / top-p boundaries
// instead of a sort, then the inverse-CDF draw) is cuda/sample_row.h, the kernel and its block
// reductions cuda/sample_kernels.h (both also compiled on the host by the tests); this file
// launches it.
// Does not do: repetition penalties, logit bias, NaN logits (undefined, as on the CPU).
// Scratch: 2 B V doubles of device memory per call (from the caching allocator).
#include <cstdint>

#include "check.h"
#include "cuda_api.h"
#include "kernel_util.cuh"  // DeviceCopy, DeviceScratch
#include "sample_kernels.h"

namespace r1::cuda {

static constexpr int kSampleThreads = 512;  // one block per row

void sample(const float* d_logits, int64_t B, int64_t V, const SampleRequest* rows, SampleResult* out) {
  if (B == 0) return;
  if (V <= 0 || V > INT32_MAX || B > INT32_MAX) throw Error(cat("cuda::sample: bad shape (", B, ", ", V, ")"));
  const DeviceCopy<SampleRequest> req(rows, B);  // (B)
  const DeviceScratch<SampleResult> res(B);      // (B)
  const DeviceScratch<double> lp(B * V), w(B * V);  // (B, V) each
  sample_kernel<kSampleThreads><<<unsigned(B), kSampleThreads>>>(d_logits, V, req.ptr, lp.ptr, w.ptr, res.ptr);
  check(cudaGetLastError(), "cuda::sample: kernel launch");
  memcpy_d2h(out, res.ptr, size_t(B) * sizeof(SampleResult));  // waits for the kernel
}

}  // namespace r1::cuda
