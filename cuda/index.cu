// The indexing ops on the device (src/ops/index.cpp): row gather (embedding, index_select), row
// scatter-add (MoE combine, and the backward of embedding / index_select), and the per-row column
// gather of r1::gather with its backward.
//
// Indices arrive as host arrays (r1::Ids) already range-checked by the op, and are copied to the
// device per call. No atomics anywhere: the scatters are written so that each output element is
// owned by one thread that adds its contributions in the CPU's order, so every result here is
// bitwise the CPU's and deterministic.
//   - scatter_add_rows groups the source rows by target on the host (index_math.h's
//     scatter_plan, a stable counting sort), then one thread per output element sums its group;
//   - scatter_add_cols gives each row n to one thread, which adds its K entries in order.
// Does not do: vectorized loads; a many-way split of one target row that receives very many
// source rows (that row's threads add them one after the other).
#include "index_math.h"
#include "kernel_util.cuh"

namespace r1::cuda {

// --- rows -----------------------------------------------------------------------------------

// out (m, d): out[i][c] = x[idx[i]][c]. Consecutive threads copy consecutive columns: coalesced.
__global__ void gather_rows_kernel(const float* x, const int32_t* idx, int64_t m, int64_t d, float* out) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < m * d; e += int64_t(gridDim.x) * blockDim.x)
    out[e] = x[int64_t(idx[e / d]) * d + e % d];
}

void gather_rows(const float* d_x, const int32_t* idx, int64_t m, int64_t d, float* d_out) {
  if (m * d == 0) return;
  DeviceCopy<int32_t> d_idx(idx, m);  // (m)
  gather_rows_kernel<<<grid_for(m * d), kBlock>>>(d_x, d_idx.ptr, m, d, d_out);
  check(cudaGetLastError(), "cuda::gather_rows: kernel launch");
}

// out (n, d): out[r][c] = sum of src[order[k]][c] for k in [start[r], start[r+1]), from 0.0f in
// that order (the CPU's order: increasing source row).
__global__ void scatter_rows_kernel(const float* src, const int64_t* start, const int32_t* order, int64_t n, int64_t d,
                                    float* out) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n * d; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / d, c = e % d;
    float acc = 0.0f;
    for (int64_t k = start[r]; k < start[r + 1]; k++) acc += src[int64_t(order[k]) * d + c];
    out[e] = acc;
  }
}

void scatter_add_rows(const float* d_src, const int32_t* idx, int64_t m, int64_t d, int64_t n, float* d_out) {
  if (n * d == 0) return;
  if (m > INT32_MAX) throw Error(cat("cuda::scatter_add_rows: ", m, " source rows is more than 2^31 - 1"));
  const ScatterPlan plan = scatter_plan(idx, m, n);
  DeviceCopy<int64_t> d_start(plan.start.data(), n + 1);  // (n + 1)
  DeviceCopy<int32_t> d_order(plan.order.data(), m);      // (m)
  scatter_rows_kernel<<<grid_for(n * d), kBlock>>>(d_src, d_start.ptr, d_order.ptr, n, d, d_out);
  check(cudaGetLastError(), "cuda::scatter_add_rows: kernel launch");
}

// --- columns (r1::gather) ---------------------------------------------------------------------

// out (N, K): out[e] = x[e / K][idx[e]].
__global__ void gather_cols_kernel(const float* x, const int32_t* idx, int64_t N, int64_t V, int64_t K, float* out) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < N * K; e += int64_t(gridDim.x) * blockDim.x)
    out[e] = x[(e / K) * V + idx[e]];
}

void gather_cols(const float* d_x, const int32_t* idx, int64_t N, int64_t V, int64_t K, float* d_out) {
  if (N * K == 0) return;
  DeviceCopy<int32_t> d_idx(idx, N * K);  // (N*K)
  gather_cols_kernel<<<grid_for(N * K), kBlock>>>(d_x, d_idx.ptr, N, V, K, d_out);
  check(cudaGetLastError(), "cuda::gather_cols: kernel launch");
}

// One thread per row n: gx[n][idx[n*K + k]] += g[n*K + k] for k = 0..K-1 in order (repeated
// indices within a row add up in the CPU's order; different rows never share an element).
__global__ void scatter_cols_kernel(const float* g, const int32_t* idx, int64_t N, int64_t V, int64_t K, float* gx) {
  for (int64_t n = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += int64_t(gridDim.x) * blockDim.x)
    for (int64_t k = 0; k < K; k++) gx[n * V + idx[n * K + k]] += g[n * K + k];
}

void scatter_add_cols(const float* d_g, const int32_t* idx, int64_t N, int64_t V, int64_t K, float* d_gx) {
  if (N * K == 0) return;
  DeviceCopy<int32_t> d_idx(idx, N * K);  // (N*K)
  scatter_cols_kernel<<<grid_for(N), kBlock>>>(d_g, d_idx.ptr, N, V, K, d_gx);
  check(cudaGetLastError(), "cuda::scatter_add_cols: kernel launch");
}

}  // namespace r1::cuda
