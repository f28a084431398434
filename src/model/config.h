// Model configuration: the fields of a Hugging Face config.json that r1's decoder uses, with
// HF's field names, parsed strictly. One Config describes four families:
//   "llama"        dense pre-norm decoder, GQA + RoPE, SwiGLU FFN
//   "qwen2"        the same with q/k/v bias (attention_bias defaults to true)
//   "qwen3"        llama with a per-head RMSNorm of q and k before RoPE (q_norm, k_norm) and a
//                  head_dim given independently of hidden_size / heads (required)
//   "deepseek_v3"  GQA, or multi-head latent attention (MLA) when kv_lora_rank is set, with
//                  DeepSeekMoE FFNs: shared + routed SwiGLU experts, sigmoid/softmax router,
//                  group-limited top-k, auxiliary-loss-free balancing bias, optional
//                  sequence-wise balance loss; the multi-token-prediction (MTP) layers'
//                  tensors, model.layers.<L ...>.*, are loaded and ignored.
// Every family may carry rope_scaling: null, llama3 or yarn (model/rope_scaling.h has the math).
// Parsing rejects unknown fields (naming them) and inconsistent values (e.g. heads not dividing
// hidden_size). Fields that real HF configs carry but that do not change the math here
// (architectures, torch_dtype, token ids, ...) are accepted and ignored: the list is
// kIgnoredConfigFields in config.cpp and docs/model.md.
// Does not do: rope_scaling types other than llama3 and yarn (an error names the type), sliding
// windows, MLA with attention_bias, running the MTP layers.
#pragma once
#include <cstdint>
#include <string>

#include "util/json.h"

namespace r1 {

// config.json's rope_scaling (null: plain RoPE), with HF's key names. "type" and "rope_type"
// are the same key (older and newer HF spellings).
struct RopeScaling {
  std::string type;                      // "" (null or "default") | "llama3" | "yarn"
  double factor = 1.0;                   // s: how many times the pretraining context is extended
  int64_t original_max_position_embeddings = 0;  // L0: the pretraining context length
  double low_freq_factor = 0.0;          // llama3: wavelengths above L0 / low_freq_factor are divided by s
  double high_freq_factor = 0.0;         // llama3: wavelengths below L0 / high_freq_factor are kept
  double beta_fast = 32.0, beta_slow = 1.0;  // yarn: the ramp between these rotation counts over L0
  double mscale = 0.0, mscale_all_dim = 0.0;  // yarn (DeepSeek): 0 = absent
  double attention_factor = 0.0;         // yarn: the cos/sin multiplier when given (0 = absent: derived)
  bool truncate = true;                  // yarn: floor/ceil the correction range
  bool active() const { return !type.empty(); }
};

struct Config {
  std::string model_type = "llama";  // "deepseek_v3" | "qwen2" | "qwen3" | "llama"

  // --- dense transformer ---
  int64_t vocab_size = 0;                // V: token ids are in [0, V)
  int64_t hidden_size = 0;               // D: width of the residual stream
  int64_t num_hidden_layers = 0;         // L: number of decoder blocks
  int64_t num_attention_heads = 0;       // H: query heads
  int64_t num_key_value_heads = 0;       // Hkv: key/value heads (GQA); default H; H % Hkv == 0
  int64_t head_dim = 0;                  // Dh: per-head width; default D / H; must be even (RoPE)
  int64_t intermediate_size = 0;         // width of the dense SwiGLU FFN
  double rms_norm_eps = 1e-6;            // eps inside RMSNorm's rsqrt
  double rope_theta = 10000.0;           // RoPE base: pair i rotates by pos * theta^(-2i/Dh)
  RopeScaling rope_scaling;              // null by default: plain RoPE
  int64_t max_position_embeddings = 2048;  // longest position the model is meant to see
  bool tie_word_embeddings = false;      // lm_head shares model.embed_tokens.weight
  bool attention_bias = false;           // q/k/v projections have a bias (qwen2: default true)
  double initializer_range = 0.02;       // std of the normal init of every weight matrix

  // --- DeepSeekMoE (deepseek_v3 only; n_routed_experts == 0 means every layer is dense) ---
  int64_t moe_intermediate_size = 0;     // width of each routed expert's SwiGLU
  int64_t n_routed_experts = 0;          // N_r: routed experts per MoE layer
  int64_t n_shared_experts = 0;          // shared experts, fused into one SwiGLU of width n * moe_intermediate_size
  int64_t num_experts_per_tok = 0;       // K_r: routed experts per token (top-k)
  int64_t first_k_dense_replace = 0;     // layers < this are dense
  int64_t moe_layer_freq = 1;            // a layer i >= first_k_dense_replace is MoE when i % freq == 0
  double routed_scaling_factor = 1.0;    // gate values are multiplied by this
  std::string scoring_func = "sigmoid";  // "sigmoid" (V3) | "softmax" (V2) affinity of token to expert
  std::string topk_method = "noaux_tc";  // "noaux_tc": select on score + bias b | "greedy": on score
  bool norm_topk_prob = true;            // gate values renormalized to sum 1 over the selected experts
  int64_t n_group = 1;                   // experts split into n_group groups ...
  int64_t topk_group = 1;                // ... and a token may only use experts of its best topk_group groups
  double aux_loss_alpha = 0.0;           // alpha of the sequence-wise balance loss (0 = off)
  double bias_update_speed = 0.0;        // gamma of the auxiliary-loss-free bias update (0 = off)
  int64_t num_nextn_predict_layers = 0;  // MTP layers stored after the L blocks (loaded and ignored)

  // --- multi-head latent attention (deepseek_v3 only; kv_lora_rank == 0 means GQA) ---
  // Unlike Hugging Face (whose DeepseekV3Config defaults kv_lora_rank to 512), r1 uses MLA only
  // when kv_lora_rank is set, so deepseek_v3 configs without it keep GQA.
  int64_t q_lora_rank = 0;               // Rq: query compression rank; 0 (null) = plain q_proj
  int64_t kv_lora_rank = 0;              // R: latent width of c_kv, the cached part per token
  int64_t qk_nope_head_dim = 0;          // dn: per-head query/key width without RoPE
  int64_t qk_rope_head_dim = 0;          // dr: per-head RoPE width (one key part shared by all heads); even
  int64_t v_head_dim = 0;                // dv: per-head value width

  // Derived.
  bool is_mla() const { return kv_lora_rank > 0; }
  bool is_moe() const { return n_routed_experts > 0; }
  bool is_moe_layer(int64_t layer) const {
    return is_moe() && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  bool has_router_bias() const { return is_moe() && topk_method == "noaux_tc"; }
  bool has_qk_norm() const { return model_type == "qwen3"; }
  // A tensor of an MTP layer: model.layers.<i>.* with L <= i < L + num_nextn_predict_layers.
  // Checkpoints hold them; r1 does not run them, so the loader skips them.
  bool is_mtp_tensor(const std::string& name) const;

  // Parses and validates; `source` (a path) names the file in error messages.
  static Config from_json(const Json& j, const std::string& source = "config.json");
  static Config load(const std::string& path);
  // Throws r1::Error naming the offending field when values are inconsistent.
  void validate(const std::string& source = "config") const;
  // HF-style config.json content (MoE fields only for deepseek_v3).
  Json to_json() const;

  // Parameter counts: all tensors, and those one token uses (shared + top-k routed experts).
  int64_t num_parameters() const;
  int64_t num_active_parameters() const;
};

}  // namespace r1
