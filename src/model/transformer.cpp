// The decoder: blocks, full forward, cached forward, weight init. See transformer.h.
#include "model/transformer.h"

#include <numeric>

#include "autograd/autograd.h"
#include "model/dump.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

// --- block --------------------------------------------------------------------------------

Block::Block(const Config& c, int64_t layer)
    : attn_norm(make_param({c.hidden_size})), ffn_norm(make_param({c.hidden_size})) {
  if (c.is_mla()) mla.emplace(c);
  else attn.emplace(c);
  if (c.is_moe_layer(layer)) moe.emplace(c);
  else mlp.emplace(c.hidden_size, c.intermediate_size);
}

void Block::collect(const std::string& prefix, TensorSlots& out) {
  out.push_back({prefix + "input_layernorm.weight", &attn_norm});
  if (attn) attn->collect(prefix + "self_attn.", out);
  if (mla) mla->collect(prefix + "self_attn.", out);
  out.push_back({prefix + "post_attention_layernorm.weight", &ffn_norm});
  if (mlp) mlp->collect(prefix + "mlp.", out);
  if (moe) moe->collect(prefix + "mlp.", out);
}

Tensor Block::forward(const Tensor& h, const Ids& positions, float eps, LayerKV* cache,
                      const std::vector<uint8_t>& key_mask, Tensor* aux_loss) {
  const int64_t B = h.size(0), T = h.size(1), D = h.size(2);
  Tensor a = rmsnorm(h, attn_norm, eps);
  dump_tensor(".input_layernorm:out", a);
  Tensor x = add(h, attn ? attn->forward(a, positions, cache, key_mask) : mla->forward(a, positions, cache, key_mask));  // (B, T, D)
  dump_tensor(".post_attention_layernorm:in", x);
  Tensor y = rmsnorm(x, ffn_norm, eps);
  dump_tensor(".post_attention_layernorm:out", y);
  Tensor layer_aux;
  if (mlp) y = mlp->forward(y);
  else y = reshape(moe->forward(reshape(y, {B * T, D}), B, T, aux_loss ? &layer_aux : nullptr), {B, T, D});
  if (layer_aux.defined()) *aux_loss = aux_loss->defined() ? add(*aux_loss, layer_aux) : layer_aux;
  dump_tensor(".mlp:out", y);
  Tensor out = add(x, y);  // (B, T, D)
  dump_tensor(":out", out);
  return out;
}

// --- construction, names, init ------------------------------------------------------------

Transformer::Transformer(const Config& config) : config_(config) {
  config_.validate();
  embed_ = make_param({config_.vocab_size, config_.hidden_size});
  for (int64_t i = 0; i < config_.num_hidden_layers; i++) blocks_.emplace_back(config_, i);
  norm_ = make_param({config_.hidden_size});
  if (!config_.tie_word_embeddings) lm_head_ = make_param({config_.vocab_size, config_.hidden_size});
}

TensorSlots Transformer::slots() {
  TensorSlots out;
  out.push_back({"model.embed_tokens.weight", &embed_});
  for (size_t i = 0; i < blocks_.size(); i++) blocks_[i].collect(cat("model.layers.", i, "."), out);
  out.push_back({"model.norm.weight", &norm_});
  if (lm_head_.defined()) out.push_back({"lm_head.weight", &lm_head_});
  return out;
}

std::vector<NamedTensor> Transformer::parameters() {
  std::vector<NamedTensor> out;
  for (const TensorSlot& s : slots())
    if (s.tensor->requires_grad()) out.push_back({s.name, *s.tensor});
  return out;
}

static bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void Transformer::init_weights(uint64_t seed) {
  NoGradGuard guard;
  Rng rng(seed);
  for (const TensorSlot& s : slots()) {
    Tensor& t = *s.tensor;
    if (ends_with(s.name, "norm.weight")) t.fill_(1.0f);
    else if (ends_with(s.name, ".bias") || ends_with(s.name, "e_score_correction_bias")) t.fill_(0.0f);
    else t.copy_from(Tensor::randn(t.shape(), rng, float(config_.initializer_range)));
  }
}

void Transformer::to(Device device) {
  for (const TensorSlot& s : slots()) {
    bool trainable = s.tensor->requires_grad();
    Tensor moved = s.tensor->to(device).detach();
    if (trainable) moved.set_requires_grad(true);
    *s.tensor = moved;
  }
}

// --- forward --------------------------------------------------------------------------------

static void check_ids(const Config& c, const Ids& ids, int64_t B, int64_t T) {
  check(B > 0 && T > 0 && int64_t(ids.size()) == B * T, "model forward: ", ids.size(), " token ids for B=", B,
        " T=", T);
  for (size_t i = 0; i < ids.size(); i++)
    check(ids[i] >= 0 && ids[i] < c.vocab_size, "model forward: token id ", ids[i], " at index ", i,
          " is outside the vocabulary [0, ", c.vocab_size, ")");
}

Tensor Transformer::final_hidden_to_logits(const Tensor& h) const {
  return linear(rmsnorm(h, norm_, float(config_.rms_norm_eps)), lm_head_.defined() ? lm_head_ : embed_);
}

Tensor Transformer::forward_hidden(const Ids& ids, int64_t B, int64_t T, Tensor* aux_loss) {
  check_ids(config_, ids, B, T);
  Ids positions(static_cast<size_t>(T));  // the same 0..T-1 for every row
  std::iota(positions.begin(), positions.end(), 0);
  Tensor h = embedding(embed_, ids, {B, T});  // (B, T, D)
  dump_tensor("model.embed_tokens:out", h);
  ForwardDump* dump = active_dump();
  for (size_t i = 0; i < blocks_.size(); i++) {
    if (dump) dump->set_prefix(cat("model.layers.", i));
    h = blocks_[i].forward(h, positions, float(config_.rms_norm_eps), nullptr, {}, aux_loss);
  }
  if (dump) dump->set_prefix("");
  h = rmsnorm(h, norm_, float(config_.rms_norm_eps));
  dump_tensor("model.norm:out", h);
  return reshape(h, {B * T, config_.hidden_size});
}

ModelOutput Transformer::forward(const Ids& ids, int64_t B, int64_t T) {
  ModelOutput out;
  out.logits = linear(forward_hidden(ids, B, T, &out.aux_loss), lm_head_.defined() ? lm_head_ : embed_);  // (B*T, V)
  dump_tensor("lm_head:out", out.logits);
  return out;
}

KVCache Transformer::new_cache(int64_t B) const {
  check(B > 0, "new_cache: batch must be > 0, got ", B);
  KVCache cache;
  cache.batch = B;
  cache.layers.resize(blocks_.size());
  for (LayerKV& l : cache.layers) l.exact_size = device() == Device::CUDA;
  cache.length.assign(size_t(B), 0);
  return cache;
}

Tensor Transformer::forward_cached(const Ids& ids, int64_t B, int64_t T, KVCache& cache,
                                   const std::vector<uint8_t>& real) {
  NoGradGuard guard;
  check_ids(config_, ids, B, T);
  check(cache.batch == B, "forward_cached: cache holds ", cache.batch, " sequences, got B=", B);
  check(real.empty() || int64_t(real.size()) == B * T, "forward_cached: ", real.size(),
        " real-token flags for B*T=", B * T);
  const int64_t S = cache.slots, S_new = S + T;
  Ids positions(size_t(B * T));           // (B, T): real tokens count up from each sequence's length
  std::vector<uint8_t> valid(size_t(B * S_new));  // (B, S + T)
  bool any_padding = false;
  for (int64_t b = 0; b < B; b++) {
    for (int64_t s = 0; s < S; s++) valid[size_t(b * S_new + s)] = cache.valid[size_t(b * S + s)];
    for (int64_t t = 0; t < T; t++) {
      bool is_real = real.empty() || real[size_t(b * T + t)];
      positions[size_t(b * T + t)] = cache.length[size_t(b)];
      if (is_real) cache.length[size_t(b)]++;
      valid[size_t(b * S_new + S + t)] = is_real;
    }
  }
  for (uint8_t v : valid) any_padding |= !v;

  Tensor h = embedding(embed_, ids, {B, T});  // (B, T, D)
  for (size_t i = 0; i < blocks_.size(); i++)
    h = blocks_[i].forward(h, positions, float(config_.rms_norm_eps), &cache.layers[i],
                           any_padding ? valid : std::vector<uint8_t>{}, nullptr);
  cache.slots = S_new;
  cache.valid = std::move(valid);
  return reshape(final_hidden_to_logits(h), {B * T, config_.vocab_size});
}

// --- balancing ------------------------------------------------------------------------------

std::vector<RouterStats> Transformer::router_stats() const {
  std::vector<RouterStats> out;
  for (const Block& b : blocks_)
    if (b.moe) out.push_back(b.moe->stats);
  return out;
}

void Transformer::update_router_bias() {
  for (Block& b : blocks_)
    if (b.moe) b.moe->update_bias();
}

// --- loss -----------------------------------------------------------------------------------

Ids next_token_targets(const Ids& ids, int64_t B, int64_t T) {
  check(int64_t(ids.size()) == B * T, "next_token_targets: ", ids.size(), " ids for B=", B, " T=", T);
  Ids targets(ids.size());
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t < T; t++)
      targets[size_t(b * T + t)] = t + 1 < T ? ids[size_t(b * T + t + 1)] : -100;
  return targets;
}

Tensor lm_loss(const ModelOutput& out, const Ids& targets) {
  Tensor loss = cross_entropy(out.logits, targets);
  return out.aux_loss.defined() ? add(loss, out.aux_loss) : loss;
}

}  // namespace r1
