// Sum reductions on the device: the sum of a whole array, and the sum over one axis of an array
// viewed as (outer, n, inner). The CUDA side of r1::sum / r1::mean (src/ops/reduce.cpp).
//
// Determinism: no atomics. Every grid size, every thread's share of the input and every tree
// depend only on the shape, so the same input always gives the same bits. The order is not the
// CPU's (which adds sequentially), so results differ from the CPU by rounding: each is within
// ~n eps sum|x| of the exact sum. Partial sums accumulate in double.
// Does not do: other reductions (max, ...), vectorized loads, a split of one long row over
// several blocks (a sum over the last axis of a few very long rows uses one block per row).
#include "index_math.h"
#include "kernel_util.cuh"

namespace r1::cuda {

// --- sum of everything ------------------------------------------------------------------------
// Pass 1: a fixed number of blocks (a function of n only) each sum a grid-stride share into one
// double. Pass 2: one block adds those partials.

constexpr int64_t kSumAllMaxBlocks = 1024;

__global__ void sum_partials_kernel(const float* x, int64_t n, double* partial) {
  double acc = 0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    acc += double(x[i]);
  acc = block_reduce(acc, SumOp{}, 0.0);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void sum_final_kernel(const double* partial, int blocks, float* out) {
  double acc = 0;
  for (int i = int(threadIdx.x); i < blocks; i += int(blockDim.x)) acc += partial[i];
  acc = block_reduce(acc, SumOp{}, 0.0);
  if (threadIdx.x == 0) out[0] = float(acc);
}

void sum_all(const float* d_x, int64_t n, float* d_out) {
  // About 8 elements per thread before the tree, at most 1024 blocks.
  int64_t b = (n + 8 * kBlock - 1) / (8 * kBlock);
  const int blocks = int(b < 1 ? 1 : (b > kSumAllMaxBlocks ? kSumAllMaxBlocks : b));
  DeviceScratch<double> partial(blocks);  // (blocks)
  sum_partials_kernel<<<blocks, kBlock>>>(d_x, n, partial.ptr);
  check(cudaGetLastError(), "cuda::sum_all: partials kernel launch");
  sum_final_kernel<<<1, kBlock>>>(partial.ptr, blocks, d_out);
  check(cudaGetLastError(), "cuda::sum_all: final kernel launch");
}

// --- sum over the last axis (inner == 1): one block per row ------------------------------------

__global__ void row_sum_kernel(const float* x, int64_t n, float* out) {
  const float* xr = x + int64_t(blockIdx.x) * n;  // (n)
  double acc = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) acc += double(xr[j]);
  acc = block_reduce(acc, SumOp{}, 0.0);
  if (threadIdx.x == 0) out[blockIdx.x] = float(acc);
}

// --- sum over a middle axis (inner > 1): column tiles ---------------------------------------
// The tiles and chunks of index_math.h (column_tiles, tile_work). Within a block, the kTileRows
// row-partials of a column are added by thread ty == 0 in order. With several chunks (few tiles
// but long columns: the bias gradient (N, D) -> (D)) each chunk writes a float partial
// (chunks, outer, inner), and a second pass sums the chunks: sum_axis over (1, chunks, outer*inner).

__global__ void column_sum_kernel(const float* x, int64_t outer, int64_t n, int64_t inner, ColumnTiles t,
                                  float* out) {
  const TileWork w = tile_work(t, n, blockIdx.x, blockIdx.y, threadIdx.x);
  double acc = 0;
  if (w.i < inner)
    for (int64_t j = w.j_begin + threadIdx.y; j < w.j_end; j += kTileRows)
      acc += double(x[(w.o * n + j) * inner + w.i]);
  __shared__ double part[kTileRows][kTileCols];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && w.i < inner) {
    double s = 0;
    for (int r = 0; r < kTileRows; r++) s += part[r][threadIdx.x];
    out[(int64_t(blockIdx.y) * outer + w.o) * inner + w.i] = float(s);  // chunk row of (chunks, outer, inner)
  }
}

void sum_axis(const float* d_x, int64_t outer, int64_t n, int64_t inner, float* d_out) {
  const int64_t n_out = outer * inner;
  if (n_out == 0) return;
  if (n == 0) {
    memset_zero(d_out, size_t(n_out) * sizeof(float));
    return;
  }
  if (inner == 1) {
    row_sum_kernel<<<row_grid(outer, "cuda::sum_axis"), row_threads(n)>>>(d_x, n, d_out);
    check(cudaGetLastError(), "cuda::sum_axis: row kernel launch");
    return;
  }
  const ColumnTiles t = column_tiles(outer, n, inner);
  const dim3 grid(row_grid(outer * t.tiles_per_o, "cuda::sum_axis"), unsigned(t.chunks)), block(kTileCols, kTileRows);
  if (t.chunks == 1) {
    column_sum_kernel<<<grid, block>>>(d_x, outer, n, inner, t, d_out);
    check(cudaGetLastError(), "cuda::sum_axis: column kernel launch");
    return;
  }
  DeviceScratch<float> partial(t.chunks * n_out);  // (chunks, outer, inner)
  column_sum_kernel<<<grid, block>>>(d_x, outer, n, inner, t, partial.ptr);
  check(cudaGetLastError(), "cuda::sum_axis: column kernel launch");
  sum_axis(partial.ptr, 1, t.chunks, n_out, d_out);  // n = chunks <= 64 rows: one chunk, no deeper recursion
}

}  // namespace r1::cuda
