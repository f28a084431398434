// Helpers shared by the kernels of cuda/reduce.cu, cuda/shape.cu, cuda/index.cu and cuda/nn.cu:
// launch sizes, a deterministic block-wide reduction, and a host->device copy of index arrays.
// Included only by .cu files (it needs CUDA). Does not do: multi-block reductions (reduce.cu),
// streams (everything runs on the default stream, see cuda_api.h).
#pragma once
#include <cstdint>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

// --- launch sizes -------------------------------------------------------------------------

constexpr int kBlock = 256;  // threads of a grid-stride kernel

// Blocks for a grid-stride loop over n elements (at least 1, at most 65536).
inline unsigned grid_for(int64_t n) {
  int64_t b = (n + kBlock - 1) / kBlock;
  return unsigned(b < 1 ? 1 : (b > 65536 ? 65536 : b));
}

// A grid of one block per row: grid.x allows 2^31 - 1 blocks.
inline unsigned row_grid(int64_t rows, const char* where) {
  if (rows > INT32_MAX) throw Error(cat(where, ": ", rows, " rows is more than one grid"));
  return unsigned(rows);
}

// Threads for a block that owns one row of D elements: about 4 elements per thread, a multiple
// of the warp size (block_reduce needs it), between 32 and 512.
inline int row_threads(int64_t D) {
  int64_t t = ((D + 3) / 4 + 31) / 32 * 32;
  return int(t < 32 ? 32 : (t > 512 ? 512 : t));
}

// --- block reduction ----------------------------------------------------------------------
// A fixed tree: a butterfly over the warp's lanes (__shfl_xor_sync), the warps' results through
// shared memory, and a second butterfly that every warp runs on the same values. The same inputs
// in the same threads always give the same bits, and every thread of the block gets the result
// (a + b == b + a in IEEE arithmetic, so all lanes of a butterfly end with identical bits; for
// MaxOp only up to the sign of a zero: max(+0, -0) depends on the order, which changes nothing
// downstream except the sign of a zero output).
// Needs blockDim.x a multiple of 32, at most 1024, and every thread of the block to call it
// (it contains __syncthreads: call it from uniform control flow only).

struct SumOp {
  template <typename T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {  // skips NaN like the CPU's row_max (x > m ? x : m)
  __device__ float operator()(float a, float b) const { return b > a ? b : a; }
};

template <typename T, typename Op>
__device__ inline T warp_reduce(T v, Op op) {
  for (int o = 16; o > 0; o /= 2) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

template <typename T, typename Op>
__device__ inline T block_reduce(T v, Op op, T identity) {
  __shared__ T partial[32];  // one per warp
  const int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32, warps = int(blockDim.x) / 32;
  v = warp_reduce(v, op);
  __syncthreads();  // a previous call's readers are done with partial[]
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  return warp_reduce(lane < warps ? partial[lane] : identity, op);
}

// --- host indices on the device -------------------------------------------------------------
// r1::Ids live on the host; a kernel that reads them gets a device copy. The upload is
// cudaMemcpyAsync on the default stream: from pageable memory the runtime stages the host data
// before returning (so the caller's vector may change at once; every caller's source outlives the
// call anyway). Small copies usually return without waiting for earlier device work, but CUDA
// allows the driver to synchronize with the stream when it stages pageable memory, so a large
// upload (the scatter plan of a big vocabulary, ~1 MB) may drain the queue: a pinned staging
// buffer would remove that if a profile shows it. Freed at the end of the scope: safe at once,
// because later work on the default stream runs after the kernels that read it.
template <typename T>
struct DeviceCopy {
  T* ptr = nullptr;
  DeviceCopy(const T* host, int64_t n) {
    if (n <= 0) return;
    ptr = static_cast<T*>(malloc(size_t(n) * sizeof(T)));
    try {
      check(cudaMemcpyAsync(ptr, host, size_t(n) * sizeof(T), cudaMemcpyHostToDevice, 0),
            "cuda: index upload: cudaMemcpyAsync");
    } catch (...) {
      free(ptr);  // the destructor of a half-built object does not run
      throw;
    }
  }
  ~DeviceCopy() { free(ptr); }
  DeviceCopy(const DeviceCopy&) = delete;
  DeviceCopy& operator=(const DeviceCopy&) = delete;
};

// A scratch device buffer of n elements of T (uninitialised), freed at the end of the scope.
template <typename T>
struct DeviceScratch {
  T* ptr = nullptr;
  explicit DeviceScratch(int64_t n) {
    if (n > 0) ptr = static_cast<T*>(malloc(size_t(n) * sizeof(T)));
  }
  ~DeviceScratch() { free(ptr); }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
};

}  // namespace r1::cuda
