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
//   forward:  block = (b, kv head, 8 query rows of its group),  loops over key tiles
//   dq:       block = (b, kv head, 8 query rows of its group),  loops over key tiles
//   dk, dv:   block = (b, kv head, 8 keys), loops over the group's query heads and query tiles,
//             so every dk/dv row is written by exactly one warp: no atomics, and the sums over
//             the group's heads run in a fixed order (deterministic run to run).
// The query rows of a group (its rep = H / Hkv heads times T positions) are contiguous in q, so a
// forward or dq block may span heads: in a decode step the group's heads share one block and its
// k/v tiles instead of each loading them.
// Causal masking also shortens the loops: a query tile stops at its last visible key, and a key
// tile starts at the first query that can see it.
//
// Numerics: fp32 throughout, scores summed over d in order (like the CPU's dot products), expf.
// Results match the CPU within float rounding of the different summation orders, not bitwise.
// The kernels are in cuda/attention_kernels.h (also compiled on the host by the tests); this file
// picks C, sizes shared memory and launches them.
// Does not do: tensor cores, head dims > 256 (the op refuses them), dropout, other dtypes.
#include <cmath>

#include "attention_kernels.h"
#include "check.h"
#include "cuda_api.h"
#include "kernel_util.cuh"  // DeviceCopy, DeviceScratch

namespace r1::cuda {

// --- host side ---------------------------------------------------------------------------------

static Attn make_attn(const cpu::AttentionShape& s, bool causal, float scale) {
  return Attn{s.B, s.H, s.Hkv, s.T, s.S, int(s.Dk), int(s.Dv), int(s.H / s.Hkv), causal, scale};
}

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

void attention_forward(const cpu::AttentionShape& s, const float* d_q, const float* d_k, const float* d_v,
                       bool causal, float scale, const uint8_t* key_mask, float* d_out, float* d_lse) {
  const Attn a = make_attn(s, causal, scale);
  const int C = lanes_chunks(s);
  const int64_t blocks = query_blocks(a);
  const size_t smem = forward_smem(a.Dk, a.Dv);
  const char* where = "cuda::attention_forward: kernel launch";
  const DeviceCopy<uint8_t> mask(key_mask, key_mask ? s.B * s.S : 0);  // (B, S) or null
  const uint8_t* d_mask = mask.ptr;
  if (C == 2) launch(attention_forward_kernel<2>, blocks, smem, where, a, d_q, d_k, d_v, d_mask, d_out, d_lse);
  else if (C == 4) launch(attention_forward_kernel<4>, blocks, smem, where, a, d_q, d_k, d_v, d_mask, d_out, d_lse);
  else launch(attention_forward_kernel<8>, blocks, smem, where, a, d_q, d_k, d_v, d_mask, d_out, d_lse);
}

void attention_backward(const cpu::AttentionShape& s, const float* d_q, const float* d_k, const float* d_v,
                        const float* d_out, const float* d_lse, const float* d_dout, bool causal, float scale,
                        const uint8_t* key_mask, float* d_dq, float* d_dk, float* d_dv) {
  const Attn a = make_attn(s, causal, scale);
  const int C = lanes_chunks(s);
  const int64_t rows = s.B * s.H * s.T;
  const DeviceScratch<float> D(rows);  // (B, H, T)
  float* d_D = D.ptr;
  attention_rowdot_kernel<<<grid_blocks((rows + kRows - 1) / kRows, "cuda::attention_backward"), kRows * kWarp>>>(
      d_dout, d_out, d_D, rows, a.Dv);
  check(cudaGetLastError(), "cuda::attention_backward: rowdot kernel launch");
  const DeviceCopy<uint8_t> mask(key_mask, key_mask ? s.B * s.S : 0);  // (B, S) or null
  const uint8_t* d_mask = mask.ptr;
  const int64_t q_blocks = query_blocks(a), k_blocks = key_blocks(a);
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
}

}  // namespace r1::cuda
