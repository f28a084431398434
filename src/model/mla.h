// Multi-head latent attention (DeepSeek-V3 paper section 2.1.1), laid out as Hugging Face's
// DeepseekV3Attention so HF checkpoints load:
//   c_q  = q_a_layernorm(x Wqa^T)                   (Rq)          or no compression: q = x Wq^T
//   q    = c_q Wqb^T  -> per head [q_nope (dn); q_rope (dr)]
//   [c_kv (R); k_rope (dr)] = x Wkva^T              one k_rope shared by every head
//   c    = kv_a_layernorm(c_kv)
//   [k_nope (dn); v (dv)] per head = c Wkvb^T
//   q_rope, k_rope = rope(perm(q_rope)), rope(perm(k_rope))        see below
//   o_h  = softmax([q_nope; q_rope] . [k_nope; k_rope] * scale + causal mask) v_h
//          scale = 1 / sqrt(dn + dr), times YaRN's mscale^2 (rope_scaling.h's mla_softmax_scale)
//   y    = concat_h(o_h) Wo^T
// RoPE convention: HF's DeepseekV3 (rope_interleave, its default and DeepSeek's checkpoints)
// stores each rotary pair as adjacent dims (x0, x1), (x2, x3), ...; it permutes the dr dims to
// (x0, x2, x4, ..., x1, x3, ...) and then applies the ordinary rotate-half RoPE (pair i, i + dr/2
// rotated by pos * inv_freq_i, rope_theta^(-2i/dr) or YaRN's, rope_scaling.h). r1 does the same (deinterleave() then op rope), so the
// rotated rope parts are in the permuted order, exactly as in HF (queries and keys alike).
// The two low-rank norms use eps 1e-6 as HF's DeepseekV3RMSNorm default, not rms_norm_eps.
//
// Two paths, one set of weights:
//   training (no cache)   the naive form above, through autograd.
//   inference (LayerKV)   the cache holds per token only c (R) and the rotated k_rope (dr), and
//                         kv_b_proj is absorbed: per head, q_nope . (W_uk c) = (W_uk^T q_nope) . c
//                         and sum_s p_s W_uv c_s = W_uv (sum_s p_s c_s), so attention runs as MQA
//                         over the latent: queries [W_uk^T q_nope; q_rope] (R + dr), one kv head
//                         [c; k_rope], values c; each head's output goes through W_uv, then o_proj.
// Does not do: projection biases (attention_bias), the non-interleaved RoPE variant
// (rope_interleave false).
#pragma once
#include <cstdint>
#include <vector>

#include "model/attention.h"
#include "model/config.h"
#include "model/param.h"
#include "ops/ops.h"

namespace r1 {

struct Mla {
  int64_t n_heads;            // H
  int64_t q_lora_rank;        // Rq; 0 = plain q_proj
  int64_t kv_lora_rank;       // R
  int64_t nope_dim, rope_dim; // dn, dr
  int64_t v_dim;              // dv
  RopeFreqs rope_freqs;       // dr/2 frequencies (rope_theta, rope_scaling) and the cos/sin scale
  float softmax_scale;        // 1 / sqrt(dn + dr), times YaRN's mscale^2

  Tensor wq;              // (H*(dn+dr), D) q_proj, when q_lora_rank == 0
  Tensor wq_a, q_a_norm;  // (Rq, D) q_a_proj, (Rq) q_a_layernorm, when q_lora_rank > 0
  Tensor wq_b;            // (H*(dn+dr), Rq) q_b_proj
  Tensor wkv_a;           // (R+dr, D) kv_a_proj_with_mqa
  Tensor kv_a_norm;       // (R) kv_a_layernorm
  Tensor wkv_b;           // (H*(dn+dv), R) kv_b_proj: per head dn rows of W_uk then dv rows of W_uv
  Tensor wo;              // (D, H*dv) o_proj

  explicit Mla(const Config& c);
  void collect(const std::string& prefix, TensorSlots& out);  // prefix "model.layers.{i}.self_attn."

  // x: (B, T, D); positions: T entries (same for every row) or B*T entries -> (B, T, D).
  // Without a cache: the naive form (training). With a cache: writes this call's latents
  // [c; rotated k_rope] into cache->k, (B, 1, C, R + dr) with spare capacity C (C == S in the
  // exact-size layout, attention.h), at slots [S, S + T) (cache->slots counts them; cache->v stays
  // undefined), and runs the absorbed form over all S + T slots; key_mask (B*(S+T) entries,
  // empty = all valid) hides padding slots, and the causal mask places the new queries at the last
  // T slots. In the exact-size layout the attention is the r1::attention op, whose CUDA kernel
  // takes head widths up to 256: R + dr must fit on CUDA (DeepSeek-V3's 512 + 64 does not yet).
  Tensor forward(const Tensor& x, const Ids& positions, LayerKV* cache = nullptr,
                 const std::vector<uint8_t>& key_mask = {}) const;
};

}  // namespace r1
