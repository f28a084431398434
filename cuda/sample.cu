// Token sampling on the device: the CUDA side of r1::sample_token (src/sample/sampler.cpp) for a
// batch of rows, one block of 512 threads per row, so a decode step copies only B (token,
// log-prob) pairs back. The per-row algorithm (bisection for the top-k / top-p boundaries
// instead of a sort, then the inverse-CDF draw) is cuda/sample_row.h, shared with a host
// instance that the tests check against sample_token(); this file supplies the CUDA block
// (reductions in shared memory in a fixed tree: the same bits every run) and the launch.
// Does not do: repetition penalties, logit bias, NaN logits (undefined, as on the CPU).
// Scratch: 2 B V doubles of device memory per call (from the caching allocator).
#include <cstdint>

#include "check.h"
#include "cuda_api.h"
#include "sample_row.h"

namespace r1::cuda {

static constexpr int kThreads = 512;  // one block per row

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

// The Block of sample_row over kThreads threads; dbuf and ibuf are kThreads entries of shared
// memory. Every reduction ends with a barrier, so its buffer can be reused at once and global
// memory written before it is visible to the whole block after it.
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

// --- kernel and launch ---------------------------------------------------------------------------

// logits: (B, V), req: (B), lp, w: (B, V) scratch -> out: (B). One block of kThreads per row.
__global__ void sample_kernel(const float* logits, int64_t V, const SampleRequest* req, double* lp, double* w,
                              SampleResult* out) {
  __shared__ double dbuf[kThreads];
  __shared__ int64_t ibuf[kThreads];
  const int64_t row = blockIdx.x;
  const SampleResult r = sample_row(logits + row * V, V, req[row], lp + row * V, w + row * V, CudaBlock{dbuf, ibuf});
  if (threadIdx.x == 0) out[row] = r;
}

void sample(const float* d_logits, int64_t B, int64_t V, const SampleRequest* rows, SampleResult* out) {
  if (B == 0) return;
  if (V <= 0 || V > INT32_MAX || B > INT32_MAX) throw Error(cat("cuda::sample: bad shape (", B, ", ", V, ")"));
  auto* d_req = static_cast<SampleRequest*>(malloc(size_t(B) * sizeof(SampleRequest)));  // (B)
  auto* d_out = static_cast<SampleResult*>(malloc(size_t(B) * sizeof(SampleResult)));    // (B)
  auto* d_lp = static_cast<double*>(malloc(size_t(B * V) * sizeof(double)));             // (B, V)
  auto* d_w = static_cast<double*>(malloc(size_t(B * V) * sizeof(double)));              // (B, V)
  memcpy_h2d(d_req, rows, size_t(B) * sizeof(SampleRequest));
  sample_kernel<<<unsigned(B), kThreads>>>(d_logits, V, d_req, d_lp, d_w, d_out);
  check(cudaGetLastError(), "cuda::sample: kernel launch");
  memcpy_d2h(out, d_out, size_t(B) * sizeof(SampleResult));
  free(d_req);
  free(d_out);
  free(d_lp);
  free(d_w);
}

}  // namespace r1::cuda
