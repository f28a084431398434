// Grouped-query self-attention with RoPE (Llama / Qwen2 style), the attention of every r1
// model whose config has no kv_lora_rank (MLA lives beside it in mla.h):
//   q = x Wq^T (+ bq), k = x Wk^T (+ bk), v = x Wv^T (+ bv)     split into heads of width Dh
//   q, k = rmsnorm(q_h, q_norm), rmsnorm(k_h, k_norm)           per head, Qwen3 only (eps rms_norm_eps)
//   q, k = rope(q, pos), rope(k, pos)                           (HF rotate-half; frequencies and
//                                                                scale from rope_scaling.h)
//   o_h = softmax(q_h k_g^T / sqrt(Dh) + causal mask) v_g       g = h / (H / Hkv)
//   y = concat_h(o_h) Wo^T
// With a LayerKV the new keys/values are appended to the cached ones and the queries attend
// over all of them (prefill and decode share this path). Does not do: sliding windows,
// o_proj bias.
#pragma once
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/param.h"
#include "ops/ops.h"

namespace r1 {

// One layer's cached keys and values for a batch of B sequences over S slots so far. Row b of
// each tensor is sequence b (compact_cache() in src/sample/ selects rows of both). Two layouts:
//   spare capacity (CPU)  C >= S slots, so that a decode step writes its slot in place instead of
//                         copying the whole cache (which would make decoding quadratic in the
//                         length), and a CPU kernel attends over rows C slots apart;
//   exact size (CUDA)     C == S: a step appends with the concat op, a device copy of the cache,
//                         and attends with the r1::attention op (attention.cpp says why).
// Transformer::new_cache picks the layout from the model's device. Both compute the same numbers,
// so a CPU cache may take the exact layout too: that is how the CUDA path is tested without a GPU.
struct LayerKV {
  Tensor k;  // GQA: (B, Hkv, C, Dh), slots [0, S) filled, RoPE already applied; undefined before the first step
             // MLA: (B, 1, C, R + dr), the latent [kv_a_layernorm(c_kv); rotated k_rope] (mla.h)
  Tensor v;  // GQA: (B, Hkv, C, Dh); MLA: undefined (the values are the latent itself)
  int64_t slots = 0;  // S, the filled slots of k (and v)
  bool exact_size = false;  // the layout: C == S, grown by concat (required on CUDA)
};

struct Attention {
  int64_t n_heads, n_kv_heads, head_dim;  // H, Hkv, Dh
  RopeFreqs rope_freqs;   // Dh/2 frequencies (rope_theta, rope_scaling) and the cos/sin scale
  float norm_eps;         // rms_norm_eps, for q_norm / k_norm
  Tensor wq, wk, wv, wo;  // (H*Dh, D), (Hkv*Dh, D), (Hkv*Dh, D), (D, H*Dh)
  Tensor bq, bk, bv;      // (H*Dh), (Hkv*Dh), (Hkv*Dh) when attention_bias, else undefined
  Tensor q_norm, k_norm;  // (Dh), (Dh) for Qwen3 (config.has_qk_norm()), else undefined

  explicit Attention(const Config& c);
  void collect(const std::string& prefix, TensorSlots& out);  // prefix "model.layers.{i}.self_attn."

  // x: (B, T, D); positions: T entries (same for every row) or B*T entries -> (B, T, D).
  // cache: when given, attention runs over cache + new keys (S_total = S + T), and key_mask
  // (B*S_total entries, empty = all valid) hides padding slots. The causal mask places the
  // new queries at the last T slots.
  Tensor forward(const Tensor& x, const Ids& positions, LayerKV* cache = nullptr,
                 const std::vector<uint8_t>& key_mask = {}) const;
};

}  // namespace r1
