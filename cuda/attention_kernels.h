// The kernels of cuda/attention.cu (fused flash-style attention: forward, D = rowsum(dO * O),
// dq, dk/dv), kept in a header of their own so that they compile twice: by nvcc for the GPU
// (cuda/attention.cu includes this file and launches them), and by the host compiler in
// tests/test_cuda_attention.cpp, which supplies the few CUDA names used here (threadIdx,
// blockIdx, blockDim, __syncthreads, __shfl_sync, __shfl_xor_sync, the __global__ / __device__
// / __shared__ qualifiers) from a small emulation of a CUDA block (one fiber per thread) and runs
// these exact kernels against the CPU attention on machines without a GPU.
// Everything is in an anonymous namespace: each includer gets its own copy (the host instances
// in the test never meet the device ones at link time).
// See cuda/attention.cu for the algorithm and the work split.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace r1::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kRows = 8;   // warps per block = outer rows per block
constexpr int kTile = 32;  // inner tile = one entry per lane
constexpr unsigned kFull = 0xffffffffu;

// The shape and flags every kernel reads (passed by value).
struct Attn {
  int64_t B, H, Hkv, T, S;
  int Dk, Dv, rep;  // rep = H / Hkv query heads per kv head
  bool causal;
  float scale;
};

__device__ inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
__device__ inline int64_t imax(int64_t a, int64_t b) { return a < b ? b : a; }

// Does query t see key s? (ops.h: s < S, s <= S - T + t when causal, and not a padding key.)
// mask_b: the batch row's (S) mask bytes or null.
__device__ inline bool sees(const Attn& a, const uint8_t* mask_b, int64_t t, int64_t s) {
  return s < a.S && (!a.causal || s <= a.S - a.T + t) && (!mask_b || mask_b[s]);
}

// One past the last key any of the queries [t0, t1) sees by position (S when not causal;
// may be <= 0 when T > S and none of them sees a key).
__device__ inline int64_t key_end(const Attn& a, int64_t t1) {
  return a.causal ? imin(a.S, a.S - a.T + t1) : a.S;
}

// Query rows of a kv head's group. Heads g rep .. g rep + rep - 1 are adjacent in q (B, H, T, Dk),
// so the group's queries are one contiguous (rep T, Dk) matrix with row = r T + t (r: the head
// within the group); the forward and dq kernels give a block kRows consecutive rows of it, so in
// a decode step (T = 1) the heads of a group share a block and its k/v tiles.
__device__ inline int64_t group_rows(const Attn& a) { return a.rep * a.T; }

// The largest query position t among group rows [r0, r1): T - 1 when they cross into another head.
__device__ inline int64_t last_query(const Attn& a, int64_t r0, int64_t r1) {
  return r0 / a.T == (r1 - 1) / a.T ? (r1 - 1) % a.T : a.T - 1;
}

// The first query that can see key s by position (0 when not causal).
__device__ inline int64_t query_begin(const Attn& a, int64_t s) {
  return a.causal ? imax(0, s - (a.S - a.T)) : 0;
}

__device__ inline float warp_sum(float x) {
  for (int o = kWarp / 2; o > 0; o /= 2) x += __shfl_xor_sync(kFull, x, o);
  return x;  // the butterfly gives every lane the same bits
}

__device__ inline float warp_max(float x) {
  for (int o = kWarp / 2; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(kFull, x, o));
  return x;
}

// dst (rows, D) with row stride ld <- rows [r0, r0 + rows) of src (n, D); rows past n are 0.
// All threads of the block take part.
__device__ inline void load_rows(float* dst, int ld, const float* src, int64_t r0, int rows, int64_t n, int D) {
  for (int i = threadIdx.x; i < rows * D; i += blockDim.x) {
    int r = i / D, d = i % D;
    dst[r * ld + d] = r0 + r < n ? src[(r0 + r) * D + d] : 0.0f;
  }
}

// x . y over D floats (both in shared memory), summed in order.
__device__ inline float dot(const float* x, const float* y, int D) {
  float acc = 0.0f;
  for (int d = 0; d < D; d++) acc += x[d] * y[d];
  return acc;
}

// Grid sizes: the forward and dq kernels take kRows query rows of a group per block, the dk/dv
// kernel kRows keys of a kv head.
inline int64_t query_blocks(const Attn& a) { return a.B * a.Hkv * ((a.rep * a.T + kRows - 1) / kRows); }
inline int64_t key_blocks(const Attn& a) { return a.B * a.Hkv * ((a.S + kRows - 1) / kRows); }

// --- forward ------------------------------------------------------------------------------

// Shared memory (floats): q rows (kRows, Dk), k tile (kTile, Dk + 1), v tile (kTile, Dv).
// The k tile's rows are padded by one float so lane j reading row j hits bank (j + d) % 32.
inline size_t forward_smem(int Dk, int Dv) { return sizeof(float) * (kRows * Dk + kTile * (Dk + 1) + kTile * Dv); }

// q: (B, H, T, Dk), k: (B, Hkv, S, Dk), v: (B, Hkv, S, Dv), mask: (B, S) or null
// -> out: (B, H, T, Dv), lse: (B, H, T). Grid: query_blocks() blocks of kRows warps, each kRows
// rows of one group (see group_rows).
template <int C>
__global__ void attention_forward_kernel(Attn a, const float* q, const float* k, const float* v, const uint8_t* mask,
                                         float* out, float* lse) {
  extern __shared__ float smem[];
  const int Dk = a.Dk, Dv = a.Dv;
  float* qs = smem;                   // (kRows, Dk)
  float* ks = qs + kRows * Dk;        // (kTile, Dk + 1)
  float* vs = ks + kTile * (Dk + 1);  // (kTile, Dv)

  const int64_t R = group_rows(a), n_qtiles = (R + kRows - 1) / kRows;
  const int64_t bg = blockIdx.x / n_qtiles, r0 = (blockIdx.x % n_qtiles) * kRows, r1 = imin(r0 + kRows, R);
  const int64_t b = bg / a.Hkv;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t row = r0 + warp;   // this warp's query row in the group
  const bool active = row < R;     // warp-uniform
  const int64_t t = row % a.T;     // its position
  const float* kh = k + bg * a.S * Dk;  // (S, Dk)
  const float* vh = v + bg * a.S * Dv;  // (S, Dv)
  const uint8_t* mask_b = mask ? mask + b * a.S : nullptr;

  load_rows(qs, Dk, q + bg * R * Dk, r0, kRows, R, Dk);
  float m = -INFINITY, l = 0.0f, o[C];
  for (int c = 0; c < C; c++) o[c] = 0.0f;

  const int64_t s_end = key_end(a, last_query(a, r0, r1) + 1);
  for (int64_t s0 = 0; s0 < s_end; s0 += kTile) {
    __syncthreads();  // the previous tile is consumed (and the q rows are loaded)
    load_rows(ks, Dk + 1, kh, s0, kTile, a.S, Dk);
    load_rows(vs, Dv, vh, s0, kTile, a.S, Dv);
    __syncthreads();
    if (!active) continue;
    const int64_t s = s0 + lane;  // this lane's key
    const float score = sees(a, mask_b, t, s) ? dot(qs + warp * Dk, ks + lane * (Dk + 1), Dk) * a.scale : -INFINITY;
    const float m_new = fmaxf(m, warp_max(score));
    if (m_new == -INFINITY) continue;  // no key seen yet (warp-uniform)
    const float p = score == -INFINITY ? 0.0f : expf(score - m_new);
    const float alpha = expf(m - m_new);  // 0 while m is -inf
    l = l * alpha + warp_sum(p);
    for (int c = 0; c < C; c++) o[c] *= alpha;
    for (int j = 0; j < kTile; j++) {
      const float pj = __shfl_sync(kFull, p, j);
      for (int c = 0; c < C; c++) {
        const int d = lane + kWarp * c;
        if (d < Dv) o[c] += pj * vs[j * Dv + d];
      }
    }
    m = m_new;
  }
  if (!active) return;
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;  // a query that saw no key outputs zeros
  float* orow = out + (bg * R + row) * Dv;
  for (int c = 0; c < C; c++) {
    const int d = lane + kWarp * c;
    if (d < Dv) orow[d] = o[c] * inv;
  }
  if (lane == 0) lse[bg * R + row] = l > 0.0f ? m + logf(l) : -INFINITY;
}

// --- backward: D = rowsum(dO * O) --------------------------------------------------------------

// dout, out: (rows, Dv) -> D: (rows). One warp per row.
__global__ void attention_rowdot_kernel(const float* dout, const float* out, float* D, int64_t rows, int Dv) {
  const int64_t r = int64_t(blockIdx.x) * kRows + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;  // warp-uniform: the whole warp leaves
  float acc = 0.0f;
  for (int d = lane; d < Dv; d += kWarp) acc += dout[r * Dv + d] * out[r * Dv + d];
  acc = warp_sum(acc);
  if (lane == 0) D[r] = acc;
}

// P_ij and dS_ij for query row i (its q and dO rows, lse_i, D_i) and key j (its k and v rows),
// when i sees j; both 0 otherwise.
__device__ inline void prob_and_grad(const Attn& a, bool seen, const float* qr, const float* kr, const float* dor,
                                     const float* vr, float lse_i, float D_i, float& P, float& dS) {
  P = 0.0f;
  dS = 0.0f;
  if (!seen || lse_i == -INFINITY) return;
  P = expf(dot(qr, kr, a.Dk) * a.scale - lse_i);
  dS = P * (dot(dor, vr, a.Dv) - D_i);
}

// --- backward: dq ------------------------------------------------------------------------------

// Shared memory (floats): q rows (kRows, Dk), dO rows (kRows, Dv), k tile (kTile, Dk + 1),
// v tile (kTile, Dv + 1).
inline size_t dq_smem(int Dk, int Dv) {
  return sizeof(float) * (kRows * (Dk + Dv) + kTile * (Dk + 1) + kTile * (Dv + 1));
}

// -> dq: (B, H, T, Dk), every row written. Grid and rows as the forward's.
template <int C>
__global__ void attention_dq_kernel(Attn a, const float* q, const float* k, const float* v, const uint8_t* mask,
                                    const float* dout, const float* lse, const float* D, float* dq) {
  extern __shared__ float smem[];
  const int Dk = a.Dk, Dv = a.Dv;
  float* qs = smem;                   // (kRows, Dk)
  float* dos = qs + kRows * Dk;       // (kRows, Dv)
  float* ks = dos + kRows * Dv;       // (kTile, Dk + 1)
  float* vs = ks + kTile * (Dk + 1);  // (kTile, Dv + 1)

  const int64_t R = group_rows(a), n_qtiles = (R + kRows - 1) / kRows;
  const int64_t bg = blockIdx.x / n_qtiles, r0 = (blockIdx.x % n_qtiles) * kRows, r1 = imin(r0 + kRows, R);
  const int64_t b = bg / a.Hkv;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t row = r0 + warp;  // this warp's query row in the group
  const bool active = row < R;
  const int64_t t = row % a.T;
  const float* kh = k + bg * a.S * Dk;  // (S, Dk)
  const float* vh = v + bg * a.S * Dv;  // (S, Dv)
  const uint8_t* mask_b = mask ? mask + b * a.S : nullptr;
  const float lse_t = active ? lse[bg * R + row] : -INFINITY;
  const float D_t = active ? D[bg * R + row] : 0.0f;

  load_rows(qs, Dk, q + bg * R * Dk, r0, kRows, R, Dk);
  load_rows(dos, Dv, dout + bg * R * Dv, r0, kRows, R, Dv);
  float acc[C];
  for (int c = 0; c < C; c++) acc[c] = 0.0f;

  const int64_t s_end = key_end(a, last_query(a, r0, r1) + 1);
  for (int64_t s0 = 0; s0 < s_end; s0 += kTile) {
    __syncthreads();
    load_rows(ks, Dk + 1, kh, s0, kTile, a.S, Dk);
    load_rows(vs, Dv + 1, vh, s0, kTile, a.S, Dv);
    __syncthreads();
    if (!active) continue;
    float P, dS;
    prob_and_grad(a, sees(a, mask_b, t, s0 + lane), qs + warp * Dk, ks + lane * (Dk + 1), dos + warp * Dv,
                  vs + lane * (Dv + 1), lse_t, D_t, P, dS);
    for (int j = 0; j < kTile; j++) {
      const float dSj = __shfl_sync(kFull, dS, j);
      for (int c = 0; c < C; c++) {
        const int d = lane + kWarp * c;
        if (d < Dk) acc[c] += dSj * ks[j * (Dk + 1) + d];
      }
    }
  }
  if (!active) return;
  float* dq_row = dq + (bg * R + row) * Dk;
  for (int c = 0; c < C; c++) {
    const int d = lane + kWarp * c;
    if (d < Dk) dq_row[d] = acc[c] * a.scale;
  }
}

// --- backward: dk, dv ----------------------------------------------------------------------------

// Shared memory (floats): k rows (kRows, Dk), v rows (kRows, Dv), q tile (kTile, Dk + 1),
// dO tile (kTile, Dv + 1), lse and D of the tile's queries (kTile each).
inline size_t dkdv_smem(int Dk, int Dv) {
  return sizeof(float) * (kRows * (Dk + Dv) + kTile * (Dk + 1) + kTile * (Dv + 1) + 2 * kTile);
}

// -> dk: (B, Hkv, S, Dk), dv: (B, Hkv, S, Dv), every row written.
// Grid: B * Hkv * ceil(S / kRows) blocks of kRows warps; warp w owns key s0 + w.
template <int C>
__global__ void attention_dkdv_kernel(Attn a, const float* q, const float* k, const float* v, const uint8_t* mask,
                                      const float* dout, const float* lse, const float* D, float* dk, float* dv) {
  extern __shared__ float smem[];
  const int Dk = a.Dk, Dv = a.Dv;
  float* krows = smem;                   // (kRows, Dk)
  float* vrows = krows + kRows * Dk;     // (kRows, Dv)
  float* qt = vrows + kRows * Dv;        // (kTile, Dk + 1)
  float* dos = qt + kTile * (Dk + 1);    // (kTile, Dv + 1): dO rows of the tile's queries
  float* lset = dos + kTile * (Dv + 1);  // (kTile)
  float* Dt = lset + kTile;              // (kTile)

  const int64_t n_ktiles = (a.S + kRows - 1) / kRows;
  const int64_t bg = blockIdx.x / n_ktiles, s0 = (blockIdx.x % n_ktiles) * kRows;
  const int64_t b = bg / a.Hkv, g = bg % a.Hkv;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t s = s0 + warp;  // this warp's key
  const bool active = s < a.S;  // warp-uniform
  const uint8_t* mask_b = mask ? mask + b * a.S : nullptr;

  load_rows(krows, Dk, k + bg * a.S * Dk, s0, kRows, a.S, Dk);
  load_rows(vrows, Dv, v + bg * a.S * Dv, s0, kRows, a.S, Dv);
  float acc_k[C], acc_v[C];
  for (int c = 0; c < C; c++) acc_k[c] = acc_v[c] = 0.0f;

  const int64_t t_begin = query_begin(a, s0);  // earlier queries see none of this block's keys
  for (int r = 0; r < a.rep; r++) {
    const int64_t bh = b * a.H + g * a.rep + r;
    for (int64_t t0 = t_begin; t0 < a.T; t0 += kTile) {
      __syncthreads();
      load_rows(qt, Dk + 1, q + bh * a.T * Dk, t0, kTile, a.T, Dk);
      load_rows(dos, Dv + 1, dout + bh * a.T * Dv, t0, kTile, a.T, Dv);
      if (threadIdx.x < kTile) {
        const int64_t ti = t0 + threadIdx.x;
        lset[threadIdx.x] = ti < a.T ? lse[bh * a.T + ti] : -INFINITY;
        Dt[threadIdx.x] = ti < a.T ? D[bh * a.T + ti] : 0.0f;
      }
      __syncthreads();
      if (!active) continue;
      const int64_t ti = t0 + lane;  // this lane's query
      float P, dS;
      prob_and_grad(a, ti < a.T && sees(a, mask_b, ti, s), qt + lane * (Dk + 1), krows + warp * Dk,
                    dos + lane * (Dv + 1), vrows + warp * Dv, lset[lane], Dt[lane], P, dS);
      for (int i = 0; i < kTile; i++) {
        const float Pi = __shfl_sync(kFull, P, i), dSi = __shfl_sync(kFull, dS, i);
        for (int c = 0; c < C; c++) {
          const int d = lane + kWarp * c;
          if (d < Dk) acc_k[c] += dSi * qt[i * (Dk + 1) + d];
          if (d < Dv) acc_v[c] += Pi * dos[i * (Dv + 1) + d];
        }
      }
    }
  }
  if (!active) return;
  float* krow = dk + (bg * a.S + s) * Dk;
  float* vrow = dv + (bg * a.S + s) * Dv;
  for (int c = 0; c < C; c++) {
    const int d = lane + kWarp * c;
    if (d < Dk) krow[d] = acc_k[c] * a.scale;
    if (d < Dv) vrow[d] = acc_v[c];
  }
}

}  // namespace
}  // namespace r1::cuda
