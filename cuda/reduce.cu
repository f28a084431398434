// Sum reductions on the device: the sum of a whole array, and the sum over one axis of an array
// viewed as (outer, n, inner). The CUDA side of r1::sum / r1::mean (src/ops/reduce.cpp).
//
// Determinism: no atomics. Every grid size, every thread's share of the input and every tree
// depend only on the shape, so the same input always gives the same bits. The order is not the
// CPU's (which adds sequentially), so results differ from the CPU by rounding: each is within
// ~n eps sum|x| of the exact sum. Partial sums accumulate in double.
// Does not do: other reductions (max, ...), vectorized loads, a split of one long row over
// several blocks (a sum over the last axis of a few very long rows uses one block per row).
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
// A block of (32, 8) threads owns 32 adjacent columns i of one outer index o and one chunk of
// the rows j: thread (tx, ty) sums rows ty, ty + 8, ... of the chunk in column i0 + tx, so each
// row's 32 loads are one coalesced 128-byte line. The 8 row-partials of a column are then added
// by thread ty == 0 in order ty = 0..7. With several chunks (few tiles but long columns: the
// bias gradient (N, D) -> (D)) each chunk writes a float partial (chunks, outer, inner), and a
// second pass sums the chunks: sum_axis over (1, chunks, outer*inner).

constexpr int kTileCols = 32, kTileRows = 8;
constexpr int64_t kRowsPerChunk = 512;
constexpr int64_t kMaxChunks = 64;

__global__ void column_sum_kernel(const float* x, int64_t outer, int64_t n, int64_t inner, int64_t rows_per_chunk,
                                  float* out) {
  const int64_t tiles_per_o = (inner + kTileCols - 1) / kTileCols;
  const int64_t o = int64_t(blockIdx.x) / tiles_per_o;
  const int64_t i = (int64_t(blockIdx.x) % tiles_per_o) * kTileCols + threadIdx.x;
  const int64_t j0 = int64_t(blockIdx.y) * rows_per_chunk;
  const int64_t j1 = j0 + rows_per_chunk < n ? j0 + rows_per_chunk : n;
  double acc = 0;
  if (i < inner)
    for (int64_t j = j0 + threadIdx.y; j < j1; j += kTileRows) acc += double(x[(o * n + j) * inner + i]);
  __shared__ double part[kTileRows][kTileCols];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && i < inner) {
    double s = 0;
    for (int r = 0; r < kTileRows; r++) s += part[r][threadIdx.x];
    // chunk c of (chunks, outer, inner); with one chunk that is the output itself
    out[(int64_t(blockIdx.y) * outer + o) * inner + i] = float(s);
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
  const int64_t tiles = outer * ((inner + kTileCols - 1) / kTileCols);
  // Enough tiles fill the GPU on their own; otherwise long columns are cut into chunks.
  int64_t chunks = tiles >= 512 ? 1 : (n + kRowsPerChunk - 1) / kRowsPerChunk;
  chunks = chunks > kMaxChunks ? kMaxChunks : chunks;
  const int64_t rows_per_chunk = (n + chunks - 1) / chunks;
  const dim3 grid(row_grid(tiles, "cuda::sum_axis"), unsigned(chunks)), block(kTileCols, kTileRows);
  if (chunks == 1) {
    column_sum_kernel<<<grid, block>>>(d_x, outer, n, inner, rows_per_chunk, d_out);
    check(cudaGetLastError(), "cuda::sum_axis: column kernel launch");
    return;
  }
  DeviceScratch<float> partial(chunks * n_out);  // (chunks, outer, inner)
  column_sum_kernel<<<grid, block>>>(d_x, outer, n, inner, rows_per_chunk, partial.ptr);
  check(cudaGetLastError(), "cuda::sum_axis: column kernel launch");
  sum_axis(partial.ptr, 1, chunks, n_out, d_out);  // chunks <= 64: one chunk, no recursion beyond this
}

}  // namespace r1::cuda
