// Grouped-query attention with RoPE and an optional KV cache. See attention.h.
#include "model/attention.h"

#include <cmath>

namespace r1 {

Attention::Attention(const Config& c)
    : n_heads(c.num_attention_heads), n_kv_heads(c.num_key_value_heads), head_dim(c.head_dim),
      rope_theta(float(c.rope_theta)) {
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
}

void Attention::collect(const std::string& prefix, TensorSlots& out) {
  out.push_back({prefix + "q_proj.weight", &wq});
  if (bq.defined()) out.push_back({prefix + "q_proj.bias", &bq});
  out.push_back({prefix + "k_proj.weight", &wk});
  if (bk.defined()) out.push_back({prefix + "k_proj.bias", &bk});
  out.push_back({prefix + "v_proj.weight", &wv});
  if (bv.defined()) out.push_back({prefix + "v_proj.bias", &bv});
  out.push_back({prefix + "o_proj.weight", &wo});
}

Tensor Attention::forward(const Tensor& x, const Ids& positions, LayerKV* cache,
                          const std::vector<uint8_t>& key_mask) const {
  int64_t B = x.size(0), T = x.size(1);
  // Project and split into heads: (B, T, heads, Dh), rotate q and k, then heads first.
  Tensor q = rope(reshape(linear(x, wq, bq), {B, T, n_heads, head_dim}), positions, rope_theta);
  Tensor k = rope(reshape(linear(x, wk, bk), {B, T, n_kv_heads, head_dim}), positions, rope_theta);
  Tensor v = reshape(linear(x, wv, bv), {B, T, n_kv_heads, head_dim});
  q = permute(q, {0, 2, 1, 3});  // (B, H, T, Dh)
  k = permute(k, {0, 2, 1, 3});  // (B, Hkv, T, Dh)
  v = permute(v, {0, 2, 1, 3});  // (B, Hkv, T, Dh)
  if (cache) {
    if (cache->k.defined()) {
      k = concat({cache->k, k}, 2);  // (B, Hkv, S + T, Dh)
      v = concat({cache->v, v}, 2);
    }
    cache->k = k;
    cache->v = v;
  }
  Tensor o = attention(q, k, v, /*causal=*/true, 1.0f / std::sqrt(float(head_dim)), key_mask);  // (B, H, T, Dh)
  o = reshape(permute(o, {0, 2, 1, 3}), {B, T, n_heads * head_dim});
  return linear(o, wo);  // (B, T, D)
}

}  // namespace r1
