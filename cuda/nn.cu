// The neural-net row ops on the device (src/ops/nn.cpp), with the contracts of src/cpu/nn.h:
// RMSNorm, RoPE, softmax, log-softmax and cross-entropy, forward and backward.
//
// Layout: one block per row of D elements (row_threads(D) threads, kernel_util.cuh); each thread
// walks the row with a stride of blockDim.x (coalesced), and row sums (sum of squares, sum of
// exponentials, dot products) accumulate in double per thread and then through block_reduce's
// fixed tree. The row max is a block_reduce too. Deterministic (no atomics); not the CPU's
// summation order, so sums differ from the CPU by rounding only.
//
// Numerics against src/cpu/nn.cpp: the same formulas in the same precision (double row sums, the
// same float roundings of r, 1/sum, log(sum), lse). Exponentials use expf of a max-subtracted
// argument clamped at 0 (the CPU's exp_nonpositive treats x > 0 as 0 too; both keep NaN); expf is
// within 2 ulp, exp_nonpositive within ~1.4 ulp. nvcc may fuse a*b + c into one fma where the CPU
// rounds twice: ~1 ulp differences. RoPE takes inv_freq from the host (the CPU's own float
// formula) and evaluates cos/sin in double, as the CPU does, so its angles are the CPU's bits.
// Does not do: online (one-pass) softmax, rows split over several blocks, other dtypes.
#include <cmath>

#include "index_math.h"
#include "kernel_util.cuh"

namespace r1::cuda {

// e^x for a max-subtracted x: x > 0 (rounding) counts as 0, like cpu::exp_nonpositive; NaN stays NaN.
__device__ inline float exp_nonpositive(float x) { return expf(x > 0.0f ? 0.0f : x); }

// The max of a row (the CPU's row_max: NaN skipped), every thread of the block gets it.
__device__ inline float block_row_max(const float* xr, int64_t D) {
  float m = -INFINITY;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) m = xr[d] > m ? xr[d] : m;
  return block_reduce(m, MaxOp{}, -INFINITY);
}

// sum over the row of exp(x - m) in double.
__device__ inline double block_sum_exp(const float* xr, int64_t D, float m) {
  double s = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += double(exp_nonpositive(xr[d] - m));
  return block_reduce(s, SumOp{}, 0.0);
}

template <typename Kernel, typename... Args>
static void launch_rows(Kernel kernel, int64_t N, int64_t D, const char* where, Args... args) {
  if (N == 0 || D == 0) return;
  kernel<<<row_grid(N, where), row_threads(D)>>>(args...);
  check(cudaGetLastError(), where);
}

// --- rmsnorm ---------------------------------------------------------------------------

__global__ void rmsnorm_forward_kernel(const float* x, const float* w, float eps, int64_t D, float* y, float* rstd) {
  const float* xr = x + int64_t(blockIdx.x) * D;  // (D)
  float* yr = y + int64_t(blockIdx.x) * D;        // (D)
  double ss = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) ss += double(xr[d]) * double(xr[d]);
  ss = block_reduce(ss, SumOp{}, 0.0);
  const float r = float(1.0 / sqrt(ss / double(D) + double(eps)));
  if (threadIdx.x == 0) rstd[blockIdx.x] = r;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) yr[d] = (xr[d] * r) * w[d];  // HF's order
}

void rmsnorm_forward(const float* d_x, const float* d_w, float eps, int64_t N, int64_t D, float* d_y, float* d_rstd) {
  launch_rows(rmsnorm_forward_kernel, N, D, "cuda::rmsnorm_forward: kernel launch", d_x, d_w, eps, D, d_y, d_rstd);
}

// dx = w*g*r - x * r^3 * mean(x * w * g), per row.
__global__ void rmsnorm_dx_kernel(const float* x, const float* w, const float* rstd, const float* g, int64_t D,
                                  float* dx) {
  const int64_t off = int64_t(blockIdx.x) * D;
  const float *xr = x + off, *gr = g + off;  // (D)
  float* dxr = dx + off;                     // (D)
  double dot = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) dot += double(xr[d]) * double(w[d]) * double(gr[d]);
  dot = block_reduce(dot, SumOp{}, 0.0);
  const float r = rstd[blockIdx.x];
  const float c = float(double(r) * r * r * dot / double(D));
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) dxr[d] = w[d] * gr[d] * r - xr[d] * c;
}

// dw = sum over rows of g * x * r: a column sum over (1, N, D) with the tiles of index_math.h,
// as in cuda/reduce.cu. Each block's kTileRows row-partials (double) are added in order, each
// chunk writes a float partial (chunks, D), and sum_axis adds the chunks (deterministic: the
// chunks depend on the shape only).
__global__ void rmsnorm_dw_kernel(const float* x, const float* rstd, const float* g, int64_t N, int64_t D,
                                  ColumnTiles t, float* partial) {
  const TileWork w = tile_work(t, N, blockIdx.x, blockIdx.y, threadIdx.x);  // w.o == 0
  const int64_t d = w.i;
  double acc = 0;
  if (d < D)
    for (int64_t n = w.j_begin + threadIdx.y; n < w.j_end; n += kTileRows)
      acc += double(g[n * D + d]) * double(x[n * D + d]) * double(rstd[n]);
  __shared__ double part[kTileRows][kTileCols];
  part[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && d < D) {
    double s = 0;
    for (int r = 0; r < kTileRows; r++) s += part[r][threadIdx.x];
    partial[int64_t(blockIdx.y) * D + d] = float(s);
  }
}

void rmsnorm_backward(const float* d_x, const float* d_w, const float* d_rstd, const float* d_g, int64_t N, int64_t D,
                      float* d_dx, float* d_dw) {
  if (d_dx)
    launch_rows(rmsnorm_dx_kernel, N, D, "cuda::rmsnorm_backward: dx kernel launch", d_x, d_w, d_rstd, d_g, D, d_dx);
  if (!d_dw || D == 0) return;
  if (N == 0) {
    memset_zero(d_dw, size_t(D) * sizeof(float));
    return;
  }
  const ColumnTiles t = column_tiles(1, N, D);
  DeviceScratch<float> partial(t.chunks > 1 ? t.chunks * D : 0);  // (chunks, D); one chunk writes dw itself
  const dim3 grid(row_grid(t.tiles_per_o, "cuda::rmsnorm_backward"), unsigned(t.chunks));
  rmsnorm_dw_kernel<<<grid, dim3(kTileCols, kTileRows)>>>(d_x, d_rstd, d_g, N, D, t,
                                                          t.chunks > 1 ? partial.ptr : d_dw);
  check(cudaGetLastError(), "cuda::rmsnorm_backward: dw kernel launch");
  if (t.chunks > 1) sum_axis(partial.ptr, 1, t.chunks, D, d_dw);
}

// --- rope ------------------------------------------------------------------------------
// Two kernels, as the CPU: a (R, Dh/2) table of cos and direction * sin for the R distinct
// positions, then the rotation of every (b, t, h) pair (i, i + Dh/2).

__global__ void rope_table_kernel(const int32_t* positions, const float* inv_freq, float scale, float direction,
                                  int64_t R, int64_t half, float* cos_t, float* sin_t) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < R * half; e += int64_t(gridDim.x) * blockDim.x) {
    const float angle = inv_freq[e % half] * float(positions[e / half]);  // HF's float32 angle
    cos_t[e] = __fmul_rn(float(cos(double(angle))), scale);  // rounded as the CPU's float product
    sin_t[e] = direction * __fmul_rn(float(sin(double(angle))), scale);
  }
}

// x, out: (B*T, H, Dh); one thread per pair (index_math.h's rope_pair).
__global__ void rope_apply_kernel(const float* x, const float* cos_t, const float* sin_t, bool per_batch, int64_t T,
                                  int64_t H, int64_t half, int64_t pairs, float* out) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < pairs; e += int64_t(gridDim.x) * blockDim.x) {
    const RopePair p = rope_pair(e, T, H, half, per_batch);
    const float x1 = x[p.first], x2 = x[p.first + half], c = cos_t[p.table], s = sin_t[p.table];
    out[p.first] = x1 * c - x2 * s;
    out[p.first + half] = x2 * c + x1 * s;
  }
}

void rope(const float* d_x, const int32_t* positions, bool per_batch, const float* inv_freq, float scale,
          float direction, int64_t B, int64_t T, int64_t H, int64_t Dh, float* d_out) {
  const int64_t half = Dh / 2, R = per_batch ? B * T : T, pairs = B * T * H * half;
  if (pairs == 0) return;
  DeviceCopy<float> d_inv(inv_freq, half);         // (Dh/2), the CPU's float bits
  DeviceCopy<int32_t> d_pos(positions, R);         // (R)
  DeviceScratch<float> table(2 * R * half);        // cos (R, Dh/2) then sin (R, Dh/2)
  float *cos_t = table.ptr, *sin_t = table.ptr + R * half;
  rope_table_kernel<<<grid_for(R * half), kBlock>>>(d_pos.ptr, d_inv.ptr, scale, direction, R, half, cos_t, sin_t);
  check(cudaGetLastError(), "cuda::rope: table kernel launch");
  rope_apply_kernel<<<grid_for(pairs), kBlock>>>(d_x, cos_t, sin_t, per_batch, T, H, half, pairs, d_out);
  check(cudaGetLastError(), "cuda::rope: kernel launch");
}

// --- softmax and log-softmax -----------------------------------------------------------

__global__ void softmax_forward_kernel(const float* x, int64_t D, float* y) {
  const float* xr = x + int64_t(blockIdx.x) * D;  // (D)
  float* yr = y + int64_t(blockIdx.x) * D;        // (D)
  const float m = block_row_max(xr, D);
  const float inv = float(1.0 / block_sum_exp(xr, D, m));
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) yr[d] = exp_nonpositive(xr[d] - m) * inv;
}

// dx = y * (g - sum(g * y))
__global__ void softmax_backward_kernel(const float* y, const float* g, int64_t D, float* dx) {
  const int64_t off = int64_t(blockIdx.x) * D;
  const float *yr = y + off, *gr = g + off;
  float* dxr = dx + off;
  double dot = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) dot += double(gr[d]) * double(yr[d]);
  const float fdot = float(block_reduce(dot, SumOp{}, 0.0));
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) dxr[d] = yr[d] * (gr[d] - fdot);
}

__global__ void log_softmax_forward_kernel(const float* x, int64_t D, float* y) {
  const float* xr = x + int64_t(blockIdx.x) * D;
  float* yr = y + int64_t(blockIdx.x) * D;
  const float m = block_row_max(xr, D);
  const float log_s = float(log(block_sum_exp(xr, D, m)));
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) yr[d] = (xr[d] - m) - log_s;
}

// dx = g - exp(y) * sum(g)
__global__ void log_softmax_backward_kernel(const float* y, const float* g, int64_t D, float* dx) {
  const int64_t off = int64_t(blockIdx.x) * D;
  const float *yr = y + off, *gr = g + off;
  float* dxr = dx + off;
  double gsum = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) gsum += double(gr[d]);
  const float fsum = float(block_reduce(gsum, SumOp{}, 0.0));
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) dxr[d] = gr[d] - exp_nonpositive(yr[d]) * fsum;
}

void softmax_forward(const float* d_x, int64_t N, int64_t D, float* d_y) {
  launch_rows(softmax_forward_kernel, N, D, "cuda::softmax_forward: kernel launch", d_x, D, d_y);
}
void softmax_backward(const float* d_y, const float* d_g, int64_t N, int64_t D, float* d_dx) {
  launch_rows(softmax_backward_kernel, N, D, "cuda::softmax_backward: kernel launch", d_y, d_g, D, d_dx);
}
void log_softmax_forward(const float* d_x, int64_t N, int64_t D, float* d_y) {
  launch_rows(log_softmax_forward_kernel, N, D, "cuda::log_softmax_forward: kernel launch", d_x, D, d_y);
}
void log_softmax_backward(const float* d_y, const float* d_g, int64_t N, int64_t D, float* d_dx) {
  launch_rows(log_softmax_backward_kernel, N, D, "cuda::log_softmax_backward: kernel launch", d_y, d_g, D, d_dx);
}

// --- cross-entropy ----------------------------------------------------------------------

// Per row: lse = m + log(sum exp(x - m)); loss = (m - x[target]) + log(sum ...) in double; both
// 0 on an ignored row (the branch is uniform: the whole block reads the same target).
__global__ void cross_entropy_rows_kernel(const float* logits, const int32_t* targets, int32_t ignore_index, int64_t V,
                                          float* lse, float* loss) {
  const int64_t n = blockIdx.x;
  const int32_t t = targets[n];
  if (t == ignore_index) {
    if (threadIdx.x == 0) lse[n] = loss[n] = 0.0f;
    return;
  }
  const float* xr = logits + n * V;  // (V)
  const float m = block_row_max(xr, V);
  const double log_s = log(block_sum_exp(xr, V, m));
  if (threadIdx.x == 0) {
    lse[n] = float(double(m) + log_s);
    loss[n] = float(double(m) - double(xr[t]) + log_s);
  }
}

// out = the sum of the N row losses (double, fixed tree) / count, or 0 when count == 0.
__global__ void cross_entropy_mean_kernel(const float* loss, int64_t N, int64_t count, float* out) {
  double acc = 0;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) acc += double(loss[n]);
  acc = block_reduce(acc, SumOp{}, 0.0);
  if (threadIdx.x == 0) out[0] = count > 0 ? float(acc / double(count)) : 0.0f;
}

void cross_entropy_forward(const float* d_logits, const int32_t* targets, int32_t ignore_index, int64_t N, int64_t V,
                           int64_t count, float* d_lse, float* d_loss) {
  DeviceCopy<int32_t> d_targets(targets, N);  // (N)
  DeviceScratch<float> row_loss(N);           // (N)
  launch_rows(cross_entropy_rows_kernel, N, V, "cuda::cross_entropy_forward: kernel launch", d_logits,
              d_targets.ptr, ignore_index, V, d_lse, row_loss.ptr);
  cross_entropy_mean_kernel<<<1, kBlock>>>(row_loss.ptr, N, count, d_loss);
  check(cudaGetLastError(), "cuda::cross_entropy_forward: mean kernel launch");
}

// dlogits[n] = coef * (softmax(x[n]) - onehot(t)) with coef = g / count; 0 on ignored rows.
// One block per row; p - 1 at the target before scaling, as on the CPU.
__global__ void cross_entropy_backward_kernel(const float* logits, const int32_t* targets, int32_t ignore_index,
                                              const float* lse, const float* g, float count, int64_t V,
                                              float* dlogits) {
  const int64_t n = blockIdx.x;
  float* dr = dlogits + n * V;  // (V)
  const int32_t t = targets[n];
  if (t == ignore_index) {
    for (int64_t v = threadIdx.x; v < V; v += blockDim.x) dr[v] = 0.0f;
    return;
  }
  const float* xr = logits + n * V;
  const float l = lse[n], coef = g[0] / count;
  for (int64_t v = threadIdx.x; v < V; v += blockDim.x) {
    const float p = exp_nonpositive(xr[v] - l);
    dr[v] = coef * (v == t ? p - 1.0f : p);
  }
}

void cross_entropy_backward(const float* d_logits, const int32_t* targets, int32_t ignore_index, const float* d_lse,
                            const float* d_g, int64_t count, int64_t N, int64_t V, float* d_dlogits) {
  DeviceCopy<int32_t> d_targets(targets, N);  // (N)
  launch_rows(cross_entropy_backward_kernel, N, V, "cuda::cross_entropy_backward: kernel launch", d_logits,
              d_targets.ptr, ignore_index, d_lse, d_g, float(count), V, d_dlogits);
}

}  // namespace r1::cuda
