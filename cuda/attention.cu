// Fused causal attention on the device, flash-style: the CUDA side of src/cpu/attention.cpp with
// the same semantics (GQA, causal with the decode offset S - T + t, key padding mask, a query
// that sees no key outputs zeros), but the probabilities P (B, H, T, S) are never stored.
//
//   forward   per query row, over key tiles of 32 with an online softmax:
//               m' = max(m, max_j s_j),  l' = l e^(m - m') + sum_j e^(s_j - m'),
//               o' = o e^(m - m') + sum_j e^(s_j - m') v_j;   out = o / l,  lse = m + log l
//             saves lse (B, H, T) only (-inf for a query that sees no key).
//   backward  D_i = rowsum(dO_i * O_i) first, then P_ij = exp(s_ij - lse_i) recomputed tile by tile:
//               dS_ij = P_ij (dO_i . v_j - D_i);  dq_i = scale sum_j dS_ij k_j
//               dk_j = scale sum_i dS_ij q_i,  dv_j = sum_i P_ij dO_i  (i over every query head of j's group)
//             (rowsum(P * dP) of the CPU backward equals dO . O, so D replaces it).
//
// Work split. One warp owns one row of the "outer" side and each of its 32 lanes one entry of
// an inner tile of 32 (a key in the forward and the dq kernel, a query in the dk/dv kernel):
// a lane computes one score, the warp combines them with shuffles, and for the row's output
// each lane owns the dims d = lane + 32 c (c < C, C = 2, 4 or 8 for head dims up to 64, 128,
// 256). A block is 8 warps = 8 outer rows sharing the inner tiles staged in shared memory.
//   forward:  block = (b, h, 8 queries),  loops over key tiles
//   dq:       block = (b, h, 8 queries),  loops over key tiles
//   dk, dv:   block = (b, kv head, 8 keys), loops over the group's query heads and query tiles,
//             so every dk/dv row is written by exactly one warp: no atomics, and the sums over
//             the group's heads run in a fixed order (deterministic run to run).
// Causal masking also shortens the loops: a query tile stops at its last visible key, and a key
// tile starts at the first query that can see it.
//
// Numerics: fp32 throughout, scores summed over d in order (like the CPU's dot products), expf.
// Results match the CPU within float rounding of the different summation orders, not bitwise.
// Does not do: tensor cores, head dims > 256 (the op refuses them), dropout, other dtypes.
#include <cmath>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

static constexpr int kWarp = 32;
static constexpr int kRows = 8;   // warps per block = outer rows per block
static constexpr int kTile = 32;  // inner tile = one entry per lane
static constexpr unsigned kFull = 0xffffffffu;

// The shape and flags every kernel reads (passed by value).
struct Attn {
  int64_t B, H, Hkv, T, S;
  int Dk, Dv, rep;  // rep = H / Hkv query heads per kv head
  bool causal;
  float scale;
};

static Attn make_attn(const cpu::AttentionShape& s, bool causal, float scale) {
  return Attn{s.B, s.H, s.Hkv, s.T, s.S, int(s.Dk), int(s.Dv), int(s.H / s.Hkv), causal, scale};
}

// Does query t see key s? (ops.h: s < S, s <= S - T + t when causal, and not a padding key.)
// mask_b: the batch row's (S) mask bytes or null.
__device__ inline bool sees(const Attn& a, const uint8_t* mask_b, int64_t t, int64_t s) {
  return s < a.S && (!a.causal || s <= a.S - a.T + t) && (!mask_b || mask_b[s]);
}

// One past the last key any of the queries [t0, t1) sees by position (S when not causal;
// may be <= 0 when T > S and none of them sees a key).
__device__ inline int64_t key_end(const Attn& a, int64_t t1) {
  return a.causal ? min(a.S, a.S - a.T + t1) : a.S;
}

// The first query that can see key s by position (0 when not causal).
__device__ inline int64_t query_begin(const Attn& a, int64_t s) {
  return a.causal ? max(int64_t(0), s - (a.S - a.T)) : 0;
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

// --- forward ------------------------------------------------------------------------------

// Shared memory (floats): q rows (kRows, Dk), k tile (kTile, Dk + 1), v tile (kTile, Dv).
// The k tile's rows are padded by one float so lane j reading row j hits bank (j + d) % 32.
static size_t forward_smem(int Dk, int Dv) { return sizeof(float) * (kRows * Dk + kTile * (Dk + 1) + kTile * Dv); }

// q: (B, H, T, Dk), k: (B, Hkv, S, Dk), v: (B, Hkv, S, Dv), mask: (B, S) or null
// -> out: (B, H, T, Dv), lse: (B, H, T). Grid: B * H * ceil(T / kRows) blocks of kRows warps.
template <int C>
__global__ void attention_forward_kernel(Attn a, const float* q, const float* k, const float* v, const uint8_t* mask,
                                         float* out, float* lse) {
  extern __shared__ float smem[];
  const int Dk = a.Dk, Dv = a.Dv;
  float* qs = smem;                   // (kRows, Dk)
  float* ks = qs + kRows * Dk;        // (kTile, Dk + 1)
  float* vs = ks + kTile * (Dk + 1);  // (kTile, Dv)

  const int64_t n_qtiles = (a.T + kRows - 1) / kRows;
  const int64_t bh = blockIdx.x / n_qtiles, t0 = (blockIdx.x % n_qtiles) * kRows;
  const int64_t b = bh / a.H, g = (bh % a.H) / a.rep;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t t = t0 + warp;  // this warp's query
  const bool active = t < a.T;  // warp-uniform
  const float* kh = k + (b * a.Hkv + g) * a.S * Dk;  // (S, Dk)
  const float* vh = v + (b * a.Hkv + g) * a.S * Dv;  // (S, Dv)
  const uint8_t* mask_b = mask ? mask + b * a.S : nullptr;

  load_rows(qs, Dk, q + bh * a.T * Dk, t0, kRows, a.T, Dk);
  float m = -INFINITY, l = 0.0f, o[C];
#pragma unroll
  for (int c = 0; c < C; c++) o[c] = 0.0f;

  const int64_t s_end = key_end(a, min(t0 + kRows, a.T));
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
#pragma unroll
    for (int c = 0; c < C; c++) o[c] *= alpha;
    for (int j = 0; j < kTile; j++) {
      const float pj = __shfl_sync(kFull, p, j);
#pragma unroll
      for (int c = 0; c < C; c++) {
        const int d = lane + kWarp * c;
        if (d < Dv) o[c] += pj * vs[j * Dv + d];
      }
    }
    m = m_new;
  }
  if (!active) return;
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;  // a query that saw no key outputs zeros
  float* orow = out + (bh * a.T + t) * Dv;
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int d = lane + kWarp * c;
    if (d < Dv) orow[d] = o[c] * inv;
  }
  if (lane == 0) lse[bh * a.T + t] = l > 0.0f ? m + logf(l) : -INFINITY;
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
static size_t dq_smem(int Dk, int Dv) {
  return sizeof(float) * (kRows * (Dk + Dv) + kTile * (Dk + 1) + kTile * (Dv + 1));
}

// -> dq: (B, H, T, Dk), every row written. Grid as the forward's.
template <int C>
__global__ void attention_dq_kernel(Attn a, const float* q, const float* k, const float* v, const uint8_t* mask,
                                    const float* dout, const float* lse, const float* D, float* dq) {
  extern __shared__ float smem[];
  const int Dk = a.Dk, Dv = a.Dv;
  float* qs = smem;                   // (kRows, Dk)
  float* dos = qs + kRows * Dk;       // (kRows, Dv)
  float* ks = dos + kRows * Dv;       // (kTile, Dk + 1)
  float* vs = ks + kTile * (Dk + 1);  // (kTile, Dv + 1)

  const int64_t n_qtiles = (a.T + kRows - 1) / kRows;
  const int64_t bh = blockIdx.x / n_qtiles, t0 = (blockIdx.x % n_qtiles) * kRows;
  const int64_t b = bh / a.H, g = (bh % a.H) / a.rep;
  const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
  const int64_t t = t0 + warp;
  const bool active = t < a.T;
  const float* kh = k + (b * a.Hkv + g) * a.S * Dk;  // (S, Dk)
  const float* vh = v + (b * a.Hkv + g) * a.S * Dv;  // (S, Dv)
  const uint8_t* mask_b = mask ? mask + b * a.S : nullptr;
  const float lse_t = active ? lse[bh * a.T + t] : -INFINITY;
  const float D_t = active ? D[bh * a.T + t] : 0.0f;

  load_rows(qs, Dk, q + bh * a.T * Dk, t0, kRows, a.T, Dk);
  load_rows(dos, Dv, dout + bh * a.T * Dv, t0, kRows, a.T, Dv);
  float acc[C];
#pragma unroll
  for (int c = 0; c < C; c++) acc[c] = 0.0f;

  const int64_t s_end = key_end(a, min(t0 + kRows, a.T));
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
#pragma unroll
      for (int c = 0; c < C; c++) {
        const int d = lane + kWarp * c;
        if (d < Dk) acc[c] += dSj * ks[j * (Dk + 1) + d];
      }
    }
  }
  if (!active) return;
  float* row = dq + (bh * a.T + t) * Dk;
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int d = lane + kWarp * c;
    if (d < Dk) row[d] = acc[c] * a.scale;
  }
}

// --- backward: dk, dv ----------------------------------------------------------------------------

// Shared memory (floats): k rows (kRows, Dk), v rows (kRows, Dv), q tile (kTile, Dk + 1),
// dO tile (kTile, Dv + 1), lse and D of the tile's queries (kTile each).
static size_t dkdv_smem(int Dk, int Dv) {
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
#pragma unroll
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
#pragma unroll
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
#pragma unroll
  for (int c = 0; c < C; c++) {
    const int d = lane + kWarp * c;
    if (d < Dk) krow[d] = acc_k[c] * a.scale;
    if (d < Dv) vrow[d] = acc_v[c];
  }
}

// --- host side ---------------------------------------------------------------------------------

// Lanes' share of a row: C dims per lane, for the larger head dim.
static int lanes_chunks(const cpu::AttentionShape& s) {
  int64_t D = s.Dk > s.Dv ? s.Dk : s.Dv;
  if (D > kAttentionMaxHeadDim)
    throw Error(cat("cuda::attention: head dims Dk ", s.Dk, ", Dv ", s.Dv, " exceed ", kAttentionMaxHeadDim));
  return D <= 64 ? 2 : D <= 128 ? 4 : 8;
}

static unsigned grid_blocks(int64_t n, const char* where) {
  if (n > INT32_MAX) throw Error(cat(where, ": ", n, " blocks is more than one grid"));
  return unsigned(n);
}

// Launches kernel<<<blocks, kRows warps, smem>>>(args...), raising the dynamic shared memory
// limit first when it is above the default 48 KiB (sm_80 allows 163 KiB, sm_90 227 KiB).
template <class... KArgs, class... Args>
static void launch(void (*kernel)(KArgs...), int64_t blocks, size_t smem, const char* where, Args... args) {
  if (smem > 48 * 1024)
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), where);
  kernel<<<grid_blocks(blocks, where), kRows * kWarp, smem>>>(args...);
  check(cudaGetLastError(), where);
}

// The host key mask (B, S) on the device (null stays null); the caller frees it.
static uint8_t* device_mask(const cpu::AttentionShape& s, const uint8_t* key_mask) {
  if (!key_mask) return nullptr;
  auto* d = static_cast<uint8_t*>(malloc(size_t(s.B * s.S)));
  memcpy_h2d(d, key_mask, size_t(s.B * s.S));
  return d;
}

void attention_forward(const cpu::AttentionShape& s, const float* d_q, const float* d_k, const float* d_v,
                       bool causal, float scale, const uint8_t* key_mask, float* d_out, float* d_lse) {
  const Attn a = make_attn(s, causal, scale);
  const int C = lanes_chunks(s);
  const int64_t blocks = s.B * s.H * ((s.T + kRows - 1) / kRows);
  const size_t smem = forward_smem(a.Dk, a.Dv);
  const char* where = "cuda::attention_forward: kernel launch";
  uint8_t* d_mask = device_mask(s, key_mask);
  if (C == 2) launch(attention_forward_kernel<2>, blocks, smem, where, a, d_q, d_k, d_v, d_mask, d_out, d_lse);
  else if (C == 4) launch(attention_forward_kernel<4>, blocks, smem, where, a, d_q, d_k, d_v, d_mask, d_out, d_lse);
  else launch(attention_forward_kernel<8>, blocks, smem, where, a, d_q, d_k, d_v, d_mask, d_out, d_lse);
  free(d_mask);  // safe at once: later work on the stream runs after the kernel
}

void attention_backward(const cpu::AttentionShape& s, const float* d_q, const float* d_k, const float* d_v,
                        const float* d_out, const float* d_lse, const float* d_dout, bool causal, float scale,
                        const uint8_t* key_mask, float* d_dq, float* d_dk, float* d_dv) {
  const Attn a = make_attn(s, causal, scale);
  const int C = lanes_chunks(s);
  const int64_t rows = s.B * s.H * s.T;
  auto* d_D = static_cast<float*>(malloc(size_t(rows) * sizeof(float)));  // (B, H, T)
  attention_rowdot_kernel<<<grid_blocks((rows + kRows - 1) / kRows, "cuda::attention_backward"), kRows * kWarp>>>(
      d_dout, d_out, d_D, rows, a.Dv);
  check(cudaGetLastError(), "cuda::attention_backward: rowdot kernel launch");
  uint8_t* d_mask = device_mask(s, key_mask);
  const int64_t q_blocks = s.B * s.H * ((s.T + kRows - 1) / kRows);
  const int64_t k_blocks = s.B * s.Hkv * ((s.S + kRows - 1) / kRows);
  const size_t q_smem = dq_smem(a.Dk, a.Dv), k_smem = dkdv_smem(a.Dk, a.Dv);
  const char* wq = "cuda::attention_backward: dq kernel launch";
  const char* wk = "cuda::attention_backward: dk/dv kernel launch";
  if (C == 2) {
    launch(attention_dq_kernel<2>, q_blocks, q_smem, wq, a, d_q, d_k, d_v, d_mask, d_dout, d_lse, d_D, d_dq);
    launch(attention_dkdv_kernel<2>, k_blocks, k_smem, wk, a, d_q, d_k, d_v, d_mask, d_dout, d_lse, d_D, d_dk, d_dv);
  } else if (C == 4) {
    launch(attention_dq_kernel<4>, q_blocks, q_smem, wq, a, d_q, d_k, d_v, d_mask, d_dout, d_lse, d_D, d_dq);
    launch(attention_dkdv_kernel<4>, k_blocks, k_smem, wk, a, d_q, d_k, d_v, d_mask, d_dout, d_lse, d_D, d_dk, d_dv);
  } else {
    launch(attention_dq_kernel<8>, q_blocks, q_smem, wq, a, d_q, d_k, d_v, d_mask, d_dout, d_lse, d_D, d_dq);
    launch(attention_dkdv_kernel<8>, k_blocks, k_smem, wk, a, d_q, d_k, d_v, d_mask, d_dout, d_lse, d_D, d_dk, d_dv);
  }
  free(d_mask);
  free(d_D);
}

}  // namespace r1::cuda
