// Index math of the copy and scatter kernels (cuda/shape.cu, cuda/index.cu), in plain inline
// functions that compile for the device and for the host, so tests/test_cuda_ops.cpp checks them
// on machines without a GPU (suite CudaCopyPlan). No CUDA headers.
//   - strided_offsets: where element i of a 4-d strided copy is read from and written to;
//   - ScatterPlan: the rows that land on each target row of scatter_add, grouped by target in
//     increasing source order (a stable counting sort), so one thread per output element can
//     add them up in the CPU's order with no atomics.
#pragma once
#include <cstdint>
#include <vector>

#ifndef R1_HOST_DEVICE
#ifdef __CUDACC__
#define R1_HOST_DEVICE __host__ __device__
#else
#define R1_HOST_DEVICE
#endif
#endif

namespace r1::cuda {

struct Index4 {
  int64_t v[4];
};

// Element i (row-major over shape) of a strided copy -> its source and destination offsets.
R1_HOST_DEVICE inline void strided_offsets(int64_t i, const Index4& shape, const Index4& src_stride,
                                           const Index4& dst_stride, int64_t* src, int64_t* dst) {
  int64_t s = 0, d = 0;
  for (int k = 3; k >= 0; k--) {
    const int64_t c = i % shape.v[k];
    i /= shape.v[k];
    s += c * src_stride.v[k];
    d += c * dst_stride.v[k];
  }
  *src = s;
  *dst = d;
}

// Source rows grouped by target row: the sources of target r are order[start[r] .. start[r+1]),
// in increasing order. idx: m entries in [0, n) (checked by the op).
struct ScatterPlan {
  std::vector<int64_t> start;  // (n + 1)
  std::vector<int32_t> order;  // (m)
};

inline ScatterPlan scatter_plan(const int32_t* idx, int64_t m, int64_t n) {
  ScatterPlan p;
  p.start.assign(size_t(n + 1), 0);
  for (int64_t i = 0; i < m; i++) p.start[size_t(idx[i]) + 1]++;
  for (int64_t r = 0; r < n; r++) p.start[size_t(r + 1)] += p.start[size_t(r)];
  p.order.resize(size_t(m));
  std::vector<int64_t> next(p.start.begin(), p.start.end() - 1);  // (n) the next free slot of each target
  for (int64_t i = 0; i < m; i++) p.order[size_t(next[size_t(idx[i])]++)] = int32_t(i);
  return p;
}

}  // namespace r1::cuda
