// Multi-head latent attention: naive (training) and absorbed (cached inference) forms. See mla.h.
#include "model/mla.h"

#include <algorithm>
#include <cmath>

#include "cpu/attention.h"
#include "model/dump.h"
#include "model/rope_scaling.h"
#include "util/error.h"

namespace r1 {

static const float kLowRankNormEps = 1e-6f;  // HF DeepseekV3RMSNorm's default, used by q_a/kv_a_layernorm

Mla::Mla(const Config& c)
    : n_heads(c.num_attention_heads), q_lora_rank(c.q_lora_rank), kv_lora_rank(c.kv_lora_rank),
      nope_dim(c.qk_nope_head_dim), rope_dim(c.qk_rope_head_dim), v_dim(c.v_head_dim),
      rope_freqs(r1::rope_freqs(c, c.qk_rope_head_dim)), softmax_scale(mla_softmax_scale(c)) {
  int64_t D = c.hidden_size, qk = n_heads * (nope_dim + rope_dim);
  if (q_lora_rank > 0) {
    wq_a = make_param({q_lora_rank, D});
    q_a_norm = make_param({q_lora_rank});
    wq_b = make_param({qk, q_lora_rank});
  } else {
    wq = make_param({qk, D});
  }
  wkv_a = make_param({kv_lora_rank + rope_dim, D});
  kv_a_norm = make_param({kv_lora_rank});
  wkv_b = make_param({n_heads * (nope_dim + v_dim), kv_lora_rank});
  wo = make_param({D, n_heads * v_dim});
}

void Mla::collect(const std::string& prefix, TensorSlots& out) {
  if (q_lora_rank > 0) {
    out.push_back({prefix + "q_a_proj.weight", &wq_a});
    out.push_back({prefix + "q_a_layernorm.weight", &q_a_norm});
    out.push_back({prefix + "q_b_proj.weight", &wq_b});
  } else {
    out.push_back({prefix + "q_proj.weight", &wq});
  }
  out.push_back({prefix + "kv_a_proj_with_mqa.weight", &wkv_a});
  out.push_back({prefix + "kv_a_layernorm.weight", &kv_a_norm});
  out.push_back({prefix + "kv_b_proj.weight", &wkv_b});
  out.push_back({prefix + "o_proj.weight", &wo});
}

// --- RoPE in HF DeepseekV3's interleaved layout ---------------------------------------------

// x: (B, T, H, d) -> (B, T, H, d) with the last dim reordered (x0, x2, ..., x1, x3, ...), as HF's
// apply_rotary_pos_emb_interleave does before rotate-half.
static Tensor deinterleave(const Tensor& x) {
  const Shape s = x.shape();
  Tensor pairs = reshape(x, {s[0] * s[1] * s[2], s[3] / 2, 2});  // (B*T*H, d/2, 2)
  return reshape(transpose(pairs, 1, 2), s);                    // (B*T*H, 2, d/2) -> (B, T, H, d)
}

// x: (B, T, H, dr) in checkpoint layout -> rotated, in HF's permuted layout.
static Tensor rope_interleaved(const Tensor& x, const Ids& positions, const RopeFreqs& f) {
  return rope(deinterleave(x), positions, f);
}

// --- compressed KV cache ---------------------------------------------------------------------
// Like GQA's cache (attention.cpp): spare capacity C >= S so that a decode step writes its own
// slot in place; cache.k is (B, 1, C, W) with W = R + dr, slots [0, cache.slots) filled.

// latent: (B, 1, T, W) -> written at slots [S, S + T), doubling the capacity when it is full.
static void append_latent(LayerKV& cache, const Tensor& latent) {
  const int64_t B = latent.size(0), T = latent.size(2), W = latent.size(3), S = cache.slots;
  int64_t C = cache.k.defined() ? cache.k.size(2) : 0;
  if (S + T > C) {
    const int64_t grown = std::max(S + T, 2 * C);
    Tensor k2 = Tensor::zeros({B, 1, grown, W});
    for (int64_t b = 0; b < B && S > 0; b++) std::copy_n(cache.k.data() + b * C * W, S * W, k2.data() + b * grown * W);
    cache.k = k2, C = grown;
  }
  for (int64_t b = 0; b < B; b++) std::copy_n(latent.data() + b * T * W, T * W, cache.k.data() + (b * C + S) * W);
  cache.slots = S + T;
}

// q: (B, H, T, W) against the S filled slots, which serve as keys and values -> (B, H, T, W).
// The kernel of r1::attention (causal, key_mask of B*S entries), once per sequence because the
// cache rows are C slots apart.
static Tensor attend_latent(const Tensor& q, const LayerKV& cache, float scale, const std::vector<uint8_t>& key_mask) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), W = q.size(3), C = cache.k.size(2), S = cache.slots;
  check(key_mask.empty() || int64_t(key_mask.size()) == B * S, "MLA cache: key_mask has ", key_mask.size(),
        " entries, expected B*S = ", B * S);
  Tensor out = Tensor::empty({B, H, T, W});
  const cpu::AttentionShape shape{1, H, 1, T, S, W, W};
  const float* kv = cache.k.data();
#pragma omp parallel for schedule(static) if (B > 1)
  for (int64_t b = 0; b < B; b++)
    cpu::attention_forward(shape, q.data() + b * H * T * W, kv + b * C * W, kv + b * C * W, /*causal=*/true, scale,
                           key_mask.empty() ? nullptr : key_mask.data() + b * S, out.data() + b * H * T * W, nullptr);
  return out;
}

// The exact-size layout (CUDA's) holds exactly the S filled slots and grows by concat, as GQA's
// does (attention.cpp says why): latent (B, 1, T, W) -> appended at slots [S, S + T).
static void append_latent_exact(LayerKV& cache, const Tensor& latent) {
  cache.k = cache.k.defined() ? concat({cache.k, latent}, 2) : latent;
  cache.slots += latent.size(2);
}

// --- forward --------------------------------------------------------------------------------

Tensor Mla::forward(const Tensor& x, const Ids& positions, LayerKV* cache, const std::vector<uint8_t>& key_mask) const {
  const int64_t B = x.size(0), T = x.size(1), H = n_heads, R = kv_lora_rank;
  const int64_t dn = nope_dim, dr = rope_dim, dv = v_dim;

  // Queries: (B, T, H, dn) and rotated (B, T, H, dr).
  Tensor q;  // (B, T, H*(dn+dr))
  if (q_lora_rank > 0) {
    Tensor q_a = linear(x, wq_a);  // (B, T, Rq)
    dump_tensor(".self_attn.q_a_proj:out", q_a);
    Tensor c_q = rmsnorm(q_a, q_a_norm, kLowRankNormEps);
    dump_tensor(".self_attn.q_a_layernorm:out", c_q);
    q = linear(c_q, wq_b);
    dump_tensor(".self_attn.q_b_proj:out", q);
  } else {
    q = linear(x, wq);
    dump_tensor(".self_attn.q_proj:out", q);
  }
  std::vector<Tensor> q_parts = split(reshape(q, {B, T, H, dn + dr}), {dn, dr}, 3);
  Tensor q_nope = q_parts[0];
  Tensor q_rope = rope_interleaved(q_parts[1], positions, rope_freqs);

  // Latent c (B, T, R) and the shared rotated key part (B, T, 1, dr).
  Tensor kv_a = linear(x, wkv_a);  // (B, T, R + dr)
  dump_tensor(".self_attn.kv_a_proj_with_mqa:out", kv_a);
  std::vector<Tensor> kv_parts = split(kv_a, {R, dr}, 2);
  Tensor c = rmsnorm(kv_parts[0], kv_a_norm, kLowRankNormEps);
  dump_tensor(".self_attn.kv_a_layernorm:out", c);
  Tensor k_rope = rope_interleaved(reshape(kv_parts[1], {B, T, 1, dr}), positions, rope_freqs);

  Tensor o;  // (B, T, H*dv)
  if (!cache) {
    // Naive: up-project per head, broadcast k_rope to the H heads, ordinary attention.
    Tensor kv_b = linear(c, wkv_b);  // (B, T, H*(dn+dv))
    dump_tensor(".self_attn.kv_b_proj:out", kv_b);
    std::vector<Tensor> kv = split(reshape(kv_b, {B, T, H, dn + dv}), {dn, dv}, 3);
    Tensor k_rope_h = concat(std::vector<Tensor>(size_t(H), k_rope), 2);               // (B, T, H, dr)
    Tensor qh = permute(concat({q_nope, q_rope}, 3), {0, 2, 1, 3});                     // (B, H, T, dn+dr)
    Tensor kh = permute(concat({kv[0], k_rope_h}, 3), {0, 2, 1, 3});                    // (B, H, T, dn+dr)
    if (ForwardDump* d = active_dump()) {  // heads first, as HF's q_pass, q_rot, k_pass, k_rot
      d->add(".self_attn:q_nope", permute(q_nope, {0, 2, 1, 3}));  // (B, H, T, dn)
      d->add(".self_attn:q_pe", permute(q_rope, {0, 2, 1, 3}));    // (B, H, T, dr)
      d->add(".self_attn:k_nope", permute(kv[0], {0, 2, 1, 3}));   // (B, H, T, dn)
      d->add(".self_attn:k_pe", permute(k_rope, {0, 2, 1, 3}));    // (B, 1, T, dr)
      if (d->attention_probs()) d->add(".self_attn:probs", attention_probs(qh, kh, softmax_scale));
    }
    Tensor vh = permute(kv[1], {0, 2, 1, 3});                                           // (B, H, T, dv)
    Tensor oh = attention(qh, kh, vh, /*causal=*/true, softmax_scale, key_mask);        // (B, H, T, dv)
    o = reshape(permute(oh, {0, 2, 1, 3}), {B, T, H * dv});
  } else {
    // Absorbed: append [c; k_rope] to the cache, attend as one kv head over the latent.
    // Inference only, no autograd.
    Tensor latent = reshape(concat({c, reshape(k_rope, {B, T, dr})}, 2), {B, 1, T, R + dr});  // (B, 1, T, R + dr)
    check(cache->exact_size || !x.is_cuda(), "MLA: a KV cache with spare capacity is CPU only (use Transformer::new_cache)");
    if (cache->exact_size) append_latent_exact(*cache, latent);
    else append_latent(*cache, latent);
    std::vector<Tensor> w = split(reshape(wkv_b, {H, dn + dv, R}), {dn, dv}, 1);  // W_uk (H, dn, R), W_uv (H, dv, R)
    Tensor qn = reshape(permute(q_nope, {2, 0, 1, 3}), {H, B * T, dn});
    Tensor q_lat = permute(reshape(matmul(qn, w[0]), {H, B, T, R}), {1, 0, 2, 3});      // (B, H, T, R)
    Tensor qh = concat({q_lat, permute(q_rope, {0, 2, 1, 3})}, 3);                      // (B, H, T, R + dr)
    // Values are the cache itself: its last dr columns ride along and are dropped after.
    Tensor oh = cache->exact_size ? attention(qh, cache->k, cache->k, /*causal=*/true, softmax_scale, key_mask)
                                  : attend_latent(qh, *cache, softmax_scale, key_mask);  // (B, H, T, R + dr)
    Tensor o_lat = reshape(permute(split(oh, {R, dr}, 3)[0], {1, 0, 2, 3}), {H, B * T, R});
    Tensor ov = reshape(matmul(o_lat, w[1], false, /*trans_b=*/true), {H, B, T, dv});   // per head W_uv o_lat
    o = reshape(permute(ov, {1, 2, 0, 3}), {B, T, H * dv});
  }
  dump_tensor(".self_attn.o_proj:in", o);
  Tensor y = linear(o, wo);  // (B, T, D)
  dump_tensor(".self_attn.o_proj:out", y);
  return y;
}

}  // namespace r1
