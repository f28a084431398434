// Grouped-query attention with RoPE and an optional KV cache. See attention.h.
#include "model/attention.h"

#include <algorithm>
#include <cmath>

#include "cpu/attention.h"
#include "model/dump.h"
#include "model/rope_scaling.h"
#include "util/error.h"

namespace r1 {

Attention::Attention(const Config& c)
    : n_heads(c.num_attention_heads), n_kv_heads(c.num_key_value_heads), head_dim(c.head_dim),
      rope_freqs(r1::rope_freqs(c, c.head_dim)), norm_eps(float(c.rms_norm_eps)) {
  int64_t D = c.hidden_size, q = n_heads * head_dim, kv = n_kv_heads * head_dim;
  wq = make_param({q, D});
  wk = make_param({kv, D});
  wv = make_param({kv, D});
  wo = make_param({D, q});
  if (c.attention_bias) {
    bq = make_param({q});
    bk = make_param({kv});
    bv = make_param({kv});
  }
  if (c.has_qk_norm()) {
    q_norm = make_param({head_dim});
    k_norm = make_param({head_dim});
  }
}

void Attention::collect(const std::string& prefix, TensorSlots& out) {
  out.push_back({prefix + "q_proj.weight", &wq});
  if (bq.defined()) out.push_back({prefix + "q_proj.bias", &bq});
  out.push_back({prefix + "k_proj.weight", &wk});
  if (bk.defined()) out.push_back({prefix + "k_proj.bias", &bk});
  out.push_back({prefix + "v_proj.weight", &wv});
  if (bv.defined()) out.push_back({prefix + "v_proj.bias", &bv});
  out.push_back({prefix + "o_proj.weight", &wo});
  if (q_norm.defined()) out.push_back({prefix + "q_norm.weight", &q_norm});
  if (k_norm.defined()) out.push_back({prefix + "k_norm.weight", &k_norm});
}

// --- KV cache ----------------------------------------------------------------------------

// Appends k, v (B, Hkv, T, Dh) at slots [S, S + T) of the cache, first doubling its capacity
// (copying the filled slots) when they do not fit. A decode step thus copies only its own slot.
static void append_to_cache(LayerKV& cache, const Tensor& k, const Tensor& v) {
  const int64_t B = k.size(0), Hkv = k.size(1), T = k.size(2), Dh = k.size(3), S = cache.slots;
  int64_t C = cache.k.defined() ? cache.k.size(2) : 0;
  if (S + T > C) {
    const int64_t grown = std::max(S + T, 2 * C);
    Tensor k2 = Tensor::zeros({B, Hkv, grown, Dh}), v2 = Tensor::zeros({B, Hkv, grown, Dh});
    for (int64_t bg = 0; bg < B * Hkv && S > 0; bg++) {
      std::copy_n(cache.k.data() + bg * C * Dh, S * Dh, k2.data() + bg * grown * Dh);
      std::copy_n(cache.v.data() + bg * C * Dh, S * Dh, v2.data() + bg * grown * Dh);
    }
    cache.k = k2, cache.v = v2, C = grown;
  }
  for (int64_t bg = 0; bg < B * Hkv; bg++) {
    std::copy_n(k.data() + bg * T * Dh, T * Dh, cache.k.data() + (bg * C + S) * Dh);
    std::copy_n(v.data() + bg * T * Dh, T * Dh, cache.v.data() + (bg * C + S) * Dh);
  }
  cache.slots = S + T;
}

// q: (B, H, T, Dh) over the S filled slots of the cache -> (B, H, T, Dh). The same kernel and
// arithmetic as r1::attention (causal, key_mask of B*S entries), called once per (sequence,
// kv head) because the cache's rows are C slots apart rather than S.
static Tensor attend_cache(const Tensor& q, const LayerKV& cache, float scale, const std::vector<uint8_t>& key_mask) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), Dh = q.size(3);
  const int64_t Hkv = cache.k.size(1), C = cache.k.size(2), S = cache.slots, rep = H / Hkv;
  check(key_mask.empty() || int64_t(key_mask.size()) == B * S, "attention cache: key_mask has ", key_mask.size(),
        " entries, expected B*S = ", B * S);
  Tensor out = Tensor::empty({B, H, T, Dh});
  const uint8_t* mask = key_mask.empty() ? nullptr : key_mask.data();
  const cpu::AttentionShape shape{1, rep, 1, T, S, Dh, Dh};  // one sequence, its kv head's query heads
#pragma omp parallel for schedule(static) if (B * Hkv > 1)
  for (int64_t bg = 0; bg < B * Hkv; bg++) {
    const int64_t b = bg / Hkv;
    cpu::attention_forward(shape, q.data() + bg * rep * T * Dh, cache.k.data() + bg * C * Dh,
                           cache.v.data() + bg * C * Dh, /*causal=*/true, scale, mask ? mask + b * S : nullptr,
                           out.data() + bg * rep * T * Dh, nullptr);
  }
  return out;
}

// --- exact-size KV cache (the CUDA layout) ----------------------------------------------------
// The device cache holds exactly its S filled slots: appending is one concat per tensor, a device
// copy of the whole cache. A decode step's attention reads all S slots anyway, so the copy adds a
// constant factor to the step's memory traffic, not a higher order. Spare capacity as on the CPU
// would write in place (cuda::strided_copy can), but the attention kernel takes contiguous keys:
// attending over all C slots with the spare ones masked reads up to 2S keys per step, about what
// the copy costs, so the simpler form stays until a kernel takes a row stride.

// k, v: (B, Hkv, T, Dh) -> appended at slots [S, S + T).
static void append_exact(LayerKV& cache, const Tensor& k, const Tensor& v) {
  cache.k = cache.k.defined() ? concat({cache.k, k}, 2) : k;
  cache.v = cache.v.defined() ? concat({cache.v, v}, 2) : v;
  cache.slots += k.size(2);
}

// --- forward --------------------------------------------------------------------------------

Tensor Attention::forward(const Tensor& x, const Ids& positions, LayerKV* cache,
                          const std::vector<uint8_t>& key_mask) const {
  int64_t B = x.size(0), T = x.size(1);
  // Project and split into heads: (B, T, heads, Dh), normalize per head (Qwen3), rotate q and k,
  // then heads first.
  Tensor q = linear(x, wq, bq), k = linear(x, wk, bk), v = linear(x, wv, bv);  // (B, T, H*Dh), (B, T, Hkv*Dh) x 2
  dump_tensor(".self_attn.q_proj:out", q);
  dump_tensor(".self_attn.k_proj:out", k);
  dump_tensor(".self_attn.v_proj:out", v);
  q = reshape(q, {B, T, n_heads, head_dim});
  k = reshape(k, {B, T, n_kv_heads, head_dim});
  if (q_norm.defined()) {
    q = rmsnorm(q, q_norm, norm_eps);
    k = rmsnorm(k, k_norm, norm_eps);
    dump_tensor(".self_attn.q_norm:out", q);
    dump_tensor(".self_attn.k_norm:out", k);
  }
  q = permute(rope(q, positions, rope_freqs), {0, 2, 1, 3});                    // (B, H, T, Dh)
  k = permute(rope(k, positions, rope_freqs), {0, 2, 1, 3});                    // (B, Hkv, T, Dh)
  v = permute(reshape(v, {B, T, n_kv_heads, head_dim}), {0, 2, 1, 3});          // (B, Hkv, T, Dh)
  const float scale = 1.0f / std::sqrt(float(head_dim));
  dump_tensor(".self_attn:q", q);
  dump_tensor(".self_attn:k", k);
  if (ForwardDump* d = active_dump(); d && d->attention_probs() && !cache)
    d->add(".self_attn:probs", attention_probs(q, k, scale));
  Tensor o;  // (B, H, T, Dh)
  if (cache && cache->exact_size) {  // inference only, no autograd
    append_exact(*cache, k, v);
    o = attention(q, cache->k, cache->v, /*causal=*/true, scale, key_mask);
  } else if (cache) {
    check(!x.is_cuda(), "attention: a KV cache with spare capacity is CPU only (use Transformer::new_cache)");
    append_to_cache(*cache, k, v);
    o = attend_cache(q, *cache, scale, key_mask);
  } else {
    o = attention(q, k, v, /*causal=*/true, scale, key_mask);
  }
  o = reshape(permute(o, {0, 2, 1, 3}), {B, T, n_heads * head_dim});
  dump_tensor(".self_attn.o_proj:in", o);
  Tensor y = linear(o, wo);  // (B, T, D)
  dump_tensor(".self_attn.o_proj:out", y);
  return y;
}

}  // namespace r1
