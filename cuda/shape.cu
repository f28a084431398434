// The copies behind the shape ops on the device (src/ops/shape.cpp): one strided-copy kernel over
// a 4-d index space with a stride per dim for the source and for the destination. permute reads
// the input with permuted strides into a contiguous output; concat writes each input into its
// slab of the output; split (and split's backward) reads a slab. The index math is
// strided_offsets (cuda/index_math.h), checked on the host by tests/test_cuda_ops.cpp.
// Pure copies: results are bitwise the CPU's.
// Does not do: a transposing tile through shared memory (a permute that moves the last dim reads
// with a stride), vectorized loads.
#include "index_math.h"
#include "kernel_util.cuh"

namespace r1::cuda {

__global__ void strided_copy_kernel(const float* src, Index4 src_stride, float* dst, Index4 dst_stride, Index4 shape,
                                    int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t s, d;
    strided_offsets(i, shape, src_stride, dst_stride, &s, &d);
    dst[d] = src[s];
  }
}

void strided_copy(const float* d_src, const int64_t src_stride[4], float* d_dst, const int64_t dst_stride[4],
                  const int64_t shape[4]) {
  const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
  if (n == 0) return;
  const Index4 ss{{src_stride[0], src_stride[1], src_stride[2], src_stride[3]}};
  const Index4 ds{{dst_stride[0], dst_stride[1], dst_stride[2], dst_stride[3]}};
  const Index4 sh{{shape[0], shape[1], shape[2], shape[3]}};
  strided_copy_kernel<<<grid_for(n), kBlock>>>(d_src, ss, d_dst, ds, sh, n);
  check(cudaGetLastError(), "cuda::strided_copy: kernel launch");
}

}  // namespace r1::cuda
