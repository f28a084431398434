// The kernel of cuda/sample.cu: CudaBlock (sample_row's block-wide reductions over shared memory,
// in a fixed tree) and sample_kernel, one block per row. A header of its own, like
// cuda/attention_kernels.h, so that tests/test_cuda_attention.cpp can also compile it on the host
// under its emulation of a CUDA block (which supplies threadIdx, blockIdx, __syncthreads and the
// qualifiers) and run it with real thread-level reductions, not just the one-thread instance.
// Everything is in an anonymous namespace (each includer gets its own copy).
#pragma once
#include <cstdint>

#include "cuda_api.h"
#include "sample_row.h"

namespace r1::cuda {
namespace {

// --- the CUDA block ------------------------------------------------------------------------------

struct Sum {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
  template <class T>
  __device__ T operator()(T a, T b) const { return a < b ? b : a; }
};
struct Min {
  template <class T>
  __device__ T operator()(T a, T b) const { return b < a ? b : a; }
};

// The Block of sample_row over kThreads threads (a power of two); dbuf and ibuf are kThreads
// entries of shared memory. Every reduction ends with a barrier, so its buffer can be reused at
// once and global memory written before it is visible to the whole block after it.
template <int kThreads>
struct CudaBlock {
  double* dbuf;
  int64_t* ibuf;

  __device__ int tid() const { return int(threadIdx.x); }
  __device__ int threads() const { return kThreads; }
  __device__ void sync() const { __syncthreads(); }
  __device__ double* buf(double) const { return dbuf; }
  __device__ int64_t* buf(int64_t) const { return ibuf; }

  template <class T, class Op>
  __device__ T reduce(T x, Op op) const {
    T* b = buf(x);
    b[threadIdx.x] = x;
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
      if (int(threadIdx.x) < half) b[threadIdx.x] = op(b[threadIdx.x], b[threadIdx.x + half]);
      __syncthreads();
    }
    T r = b[0];
    __syncthreads();
    return r;
  }
  template <class T>
  __device__ T sum(T x) const { return reduce(x, Sum()); }
  template <class T>
  __device__ T max(T x) const { return reduce(x, Max()); }
  template <class T>
  __device__ T min(T x) const { return reduce(x, Min()); }

  // The id of the largest value over the block (lowest id on ties).
  __device__ int64_t argmax(double v, int64_t i) const {
    dbuf[threadIdx.x] = v;
    ibuf[threadIdx.x] = i;
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
      if (int(threadIdx.x) < half) {
        const double ov = dbuf[threadIdx.x + half];
        const int64_t oi = ibuf[threadIdx.x + half];
        if (ov > dbuf[threadIdx.x] || (ov == dbuf[threadIdx.x] && oi < ibuf[threadIdx.x])) {
          dbuf[threadIdx.x] = ov;
          ibuf[threadIdx.x] = oi;
        }
      }
      __syncthreads();
    }
    const int64_t r = ibuf[0];
    __syncthreads();
    return r;
  }

  // The sum of x over the threads before this one, added in thread order by thread 0.
  __device__ double exclusive_scan(double x) const {
    dbuf[threadIdx.x] = x;
    __syncthreads();
    if (threadIdx.x == 0) {
      double acc = 0.0;
      for (int k = 0; k < kThreads; k++) {
        const double c = dbuf[k];
        dbuf[k] = acc;
        acc += c;
      }
    }
    __syncthreads();
    const double r = dbuf[threadIdx.x];
    __syncthreads();
    return r;
  }
};

// --- the kernel ---------------------------------------------------------------------------

// logits: (B, V), req: (B), lp, w: (B, V) scratch -> out: (B). One block of kThreads per row.
template <int kThreads>
__global__ void sample_kernel(const float* logits, int64_t V, const SampleRequest* req, double* lp, double* w,
                              SampleResult* out) {
  __shared__ double dbuf[kThreads];
  __shared__ int64_t ibuf[kThreads];
  const int64_t row = blockIdx.x;
  const SampleResult r = sample_row(logits + row * V, V, req[row], lp + row * V, w + row * V, CudaBlock<kThreads>{dbuf, ibuf});
  if (threadIdx.x == 0) out[row] = r;
}

}  // namespace
}  // namespace r1::cuda
