// The decoder-only transformer (pre-norm, Llama / Qwen2 / DeepSeek-V3 layout):
//   h = embed(tokens)
//   per layer:  h += attn(rmsnorm(h));  h += ffn(rmsnorm(h))     ffn = Mlp (dense) or Moe
//   logits = lm_head(rmsnorm(h))                                  lm_head = embed when tied
// Tensors carry Hugging Face checkpoint names (slots()), so the optimizer, checkpoint I/O and
// weight init all walk one list. Two forward paths:
//   forward()         training/scoring: B sequences of T tokens, autograd on, returns logits
//                     and the balance loss summed over MoE layers.
//   forward_cached()  inference: appends tokens to a KVCache (prefill or one-token decode,
//                     batched, per-sequence lengths via padding masks), no autograd.
// Attention is GQA (attention.h) or, when the config sets kv_lora_rank, MLA (mla.h).
// Devices: the model runs where its parameters live (to()); tensors it creates (caches, MoE
// helpers) follow them. Token ids, positions and padding masks stay host vectors.
// Does not do: multi-token prediction, dropout.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/attention.h"
#include "model/config.h"
#include "model/mla.h"
#include "model/mlp.h"
#include "model/moe.h"
#include "model/param.h"

namespace r1 {

struct Block {
  Tensor attn_norm;         // (D) input_layernorm
  std::optional<Attention> attn;  // GQA ...
  std::optional<Mla> mla;         // ... or MLA (config.is_mla())
  Tensor ffn_norm;          // (D) post_attention_layernorm
  std::optional<Mlp> mlp;   // dense layers
  std::optional<Moe> moe;   // MoE layers

  Block(const Config& c, int64_t layer);
  void collect(const std::string& prefix, TensorSlots& out);  // prefix "model.layers.{i}."
  // h: (B, T, D) -> (B, T, D); adds this layer's balance loss to *aux_loss when it has one.
  Tensor forward(const Tensor& h, const Ids& positions, float eps, LayerKV* cache,
                 const std::vector<uint8_t>& key_mask, Tensor* aux_loss);
};

// Inference state of B sequences. Every step appends T slots to every sequence; a slot is
// either a real token or padding (masked out of attention), so sequences of different lengths
// share one batch: right-pad the prompts at prefill, and mark finished sequences as padding
// during decode. Positions count real tokens only, so a sequence's logits do not depend on the
// padding around it.
struct KVCache {
  int64_t batch = 0;             // B
  int64_t slots = 0;             // S: slots per sequence so far
  std::vector<LayerKV> layers;   // per layer: GQA k, v (B, Hkv, C, Dh); MLA k (B, 1, C, R + dr), no v;
                                 // on the model's device (layouts: attention.h)
  std::vector<uint8_t> valid;    // (B, S): 1 = real token, 0 = padding
  std::vector<int32_t> length;   // (B): real tokens so far = position of each sequence's next token
};

struct ModelOutput {
  Tensor logits;    // (B*T, V)
  Tensor aux_loss;  // () sequence-wise balance loss over all MoE layers; undefined when aux_loss_alpha == 0
};

class Transformer {
 public:
  explicit Transformer(const Config& config);  // parameters allocated and zero; see init_weights
  Transformer(Transformer&&) = default;
  Transformer& operator=(Transformer&&) = default;
  Transformer(const Transformer&) = delete;  // copies would silently share parameters
  Transformer& operator=(const Transformer&) = delete;

  const Config& config() const { return config_; }
  const std::vector<Block>& blocks() const { return blocks_; }
  std::vector<Block>& blocks() { return blocks_; }

  // Every checkpoint tensor in checkpoint order (the router biases included).
  TensorSlots slots();
  // The trainable tensors (requires_grad), for the optimizer; not e_score_correction_bias.
  std::vector<NamedTensor> parameters();
  // normal(0, initializer_range) for weight matrices and embeddings, 1 for norms, 0 for biases
  // (q/k/v bias and router bias), drawn in slots() order from Rng(seed).
  void init_weights(uint64_t seed);
  // Moves every tensor to `device` (gradients are dropped; the same values, bit for bit). Call it
  // before handing parameters() to an optimizer: it rebinds the fields to new tensors.
  void to(Device device);
  Device device() const { return embed_.device(); }  // where the parameters live

  // ids: (B, T) row-major token ids -> logits (B*T, V) and the balance loss.
  ModelOutput forward(const Ids& ids, int64_t B, int64_t T);
  // ids: (B, T) -> the final-RMSNorm'd hidden states (B*T, D) that forward() feeds to lm_head,
  // autograd on; adds the balance loss to *aux_loss (may be null). For heads other than lm_head
  // (the reward model's score head, reward/reward_model.h).
  Tensor forward_hidden(const Ids& ids, int64_t B, int64_t T, Tensor* aux_loss);

  // A fresh cache for B sequences, in the layout of the model's device (LayerKV: spare capacity
  // on the CPU, exact size on CUDA).
  KVCache new_cache(int64_t B) const;
  // ids: (B, T) new tokens; real: B*T flags (1 = real token, 0 = padding; empty = all real)
  // -> logits (B*T, V) of the new tokens. No autograd. Equals forward() on each sequence's
  // real tokens.
  Tensor forward_cached(const Ids& ids, int64_t B, int64_t T, KVCache& cache, const std::vector<uint8_t>& real = {});

  // --- MoE balancing (for the trainer) ---
  // Per MoE layer (in layer order): per-expert load since the last update/reset.
  std::vector<RouterStats> router_stats() const;
  // After each optimizer step: b_i += bias_update_speed * sign(mean_load - load_i) in every MoE
  // layer, over the loads of the training forwards since the last call; resets the loads.
  void update_router_bias();

 private:
  Tensor final_hidden_to_logits(const Tensor& h) const;  // h: (..., D) -> (..., V)

  Config config_;
  Tensor embed_;   // (V, D) model.embed_tokens.weight
  std::vector<Block> blocks_;
  Tensor norm_;    // (D) model.norm.weight
  Tensor lm_head_; // (V, D) lm_head.weight; undefined when tied
};

// Next-token targets for ids (B, T): target[b, t] = ids[b, t + 1], and ignore_index (-100) at
// the last position of each row.
Ids next_token_targets(const Ids& ids, int64_t B, int64_t T);

// The training loss: mean next-token cross-entropy over counted targets (+ the balance loss).
Tensor lm_loss(const ModelOutput& out, const Ids& targets);

}  // namespace r1
