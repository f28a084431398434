// Config parsing, validation and writing. See config.h.
#include "model/config.h"

#include <algorithm>
#include <functional>
#include <map>

#include "util/error.h"

namespace r1 {

// --- fields that are accepted and ignored ---------------------------------------------
// Present in real Hugging Face configs but without effect on r1's math. Each entry says why.
// A few of them must hold a neutral value (checked in from_json): hidden_act "silu",
// rope_interleave true, mlp_bias false, use_sliding_window false, use_mrope false, layer_types
// all "full_attention", pretraining_tp 1, attention_dropout 0.
static const char* const kIgnoredConfigFields[] = {
    "architectures",          // class names for transformers' auto classes
    "auto_map",               // remote-code class paths
    "torch_dtype", "dtype",   // storage dtype; r1 computes in fp32
    "transformers_version",   // writer's library version
    "_name_or_path", "name_or_path",
    "bos_token_id", "eos_token_id", "pad_token_id",  // the tokenizer owns special tokens
    "use_cache",              // generation switch
    "hidden_act",             // must be "silu" (SwiGLU)
    "rope_interleave",        // must be true (HF DeepseekV3's default; MLA's RoPE layout, see mla.h)
    "mlp_bias",               // must be false
    "attention_dropout",      // must be 0 (no dropout)
    "pretraining_tp",         // must be 1
    "sliding_window", "use_sliding_window", "max_window_layers",  // unused unless use_sliding_window
    "layer_types",            // newer Qwen/Llama configs: must be all "full_attention"
    "use_mrope",              // Qwen2's multimodal RoPE switch: must be false
    "ep_size",                // expert-parallel world size
    "quantization_config",    // how the stored weights are quantized (FP8 blocks): the loader's business
    "seq_aux",                // DeepSeek's switch for the sequence-wise aux loss: aux_loss_alpha decides
};

// Fields that only a deepseek_v3 config may set (DeepSeekMoE and MLA).
static const char* const kMoeFields[] = {
    "moe_intermediate_size", "n_routed_experts", "n_shared_experts", "num_experts_per_tok",
    "first_k_dense_replace", "moe_layer_freq", "routed_scaling_factor", "scoring_func", "topk_method",
    "norm_topk_prob", "n_group", "topk_group", "aux_loss_alpha", "bias_update_speed",
    "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim",  // MLA
    "num_nextn_predict_layers",  // MTP
};

// --- reading ----------------------------------------------------------------------------

namespace {

// Reads one field with a message naming source and field on a type error.
struct FieldReader {
  const std::string& source;
  std::string field;
  const Json& v;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(cat(source, ": field '", field, "': ", what));
  }
  int64_t integer() const {
    if (!v.is_number()) fail(cat("expected an integer, got ", Json::type_name(v.type())));
    try {
      return v.as_int();
    } catch (const Error&) {
      fail(cat("expected an integer, got ", v.dump()));
    }
  }
  double number() const {
    if (!v.is_number()) fail(cat("expected a number, got ", Json::type_name(v.type())));
    return v.as_number();
  }
  bool boolean() const {
    if (!v.is_bool()) fail(cat("expected true/false, got ", Json::type_name(v.type())));
    return v.as_bool();
  }
  std::string string() const {
    if (!v.is_string()) fail(cat("expected a string, got ", Json::type_name(v.type())));
    return v.as_string();
  }
};

// config.json's rope_scaling object -> RopeScaling. Unknown keys, a missing required key and an
// unsupported type are errors naming them.
RopeScaling parse_rope_scaling(const Json& v, const std::string& source) {
  RopeScaling rs;
  if (v.is_null()) return rs;
  check(v.is_object(), source, ": field 'rope_scaling': expected null or an object, got ", Json::type_name(v.type()));
  const Json* type = v.find("rope_type");
  const Json* old_type = v.find("type");
  if (type && old_type)
    check(type->dump() == old_type->dump(), source, ": rope_scaling.rope_type ", type->dump(), " and rope_scaling.type ",
          old_type->dump(), " disagree");
  if (!type) type = old_type;
  check(type && type->is_string(), source, ": rope_scaling needs a string 'type' (or 'rope_type')");
  const std::string t = type->as_string();
  if (t == "default") return rs;  // HF's name for plain RoPE
  check(t == "yarn" || t == "llama3", source, ": rope_scaling.type '", t,
        "' is not supported (r1 implements yarn and llama3)");
  rs.type = t;
  const bool yarn = t == "yarn";
  auto reader = [&](const std::string& key, const Json& value) { return FieldReader{source, "rope_scaling." + key, value}; };
  const std::map<std::string, std::function<void(const FieldReader&)>> keys = {
      {"factor", [&](const FieldReader& r) { rs.factor = r.number(); }},
      {"original_max_position_embeddings", [&](const FieldReader& r) { rs.original_max_position_embeddings = r.integer(); }},
      {"low_freq_factor", [&](const FieldReader& r) { rs.low_freq_factor = r.number(); }},
      {"high_freq_factor", [&](const FieldReader& r) { rs.high_freq_factor = r.number(); }},
      {"beta_fast", [&](const FieldReader& r) { rs.beta_fast = r.number(); }},
      {"beta_slow", [&](const FieldReader& r) { rs.beta_slow = r.number(); }},
      {"mscale", [&](const FieldReader& r) { rs.mscale = r.number(); }},
      {"mscale_all_dim", [&](const FieldReader& r) { rs.mscale_all_dim = r.number(); }},
      {"attention_factor", [&](const FieldReader& r) { rs.attention_factor = r.number(); }},
      {"truncate", [&](const FieldReader& r) { rs.truncate = r.boolean(); }},
  };
  const std::vector<std::string> required =
      yarn ? std::vector<std::string>{"factor", "original_max_position_embeddings"}
           : std::vector<std::string>{"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"};
  const std::vector<std::string> optional = yarn ? std::vector<std::string>{"beta_fast", "beta_slow", "mscale",
                                                                             "mscale_all_dim", "attention_factor", "truncate"}
                                                 : std::vector<std::string>{};
  auto listed = [](const std::vector<std::string>& l, const std::string& k) { return std::find(l.begin(), l.end(), k) != l.end(); };
  for (const auto& [key, value] : v.as_object()) {
    if (key == "type" || key == "rope_type") continue;
    check(listed(required, key) || listed(optional, key), source, ": rope_scaling.", key,
          " is not a field of rope_scaling type '", t, "'");
    // beta_fast/beta_slow/mscale/attention_factor null (or absent) take HF's defaults.
    if (!value.is_null()) keys.at(key)(reader(key, value));
  }
  for (const std::string& key : required) {
    const Json* given = v.find(key);
    check(given && !given->is_null(), source, ": rope_scaling.", key, " is required for rope_scaling type '", t, "'");
  }
  check(rs.factor > 0, source, ": rope_scaling.factor must be > 0, got ", rs.factor);
  check(rs.original_max_position_embeddings > 0, source, ": rope_scaling.original_max_position_embeddings must be > 0");
  if (!yarn)
    check(rs.low_freq_factor > 0 && rs.high_freq_factor > rs.low_freq_factor, source,
          ": rope_scaling needs 0 < low_freq_factor < high_freq_factor, got ", rs.low_freq_factor, " and ",
          rs.high_freq_factor);
  else
    check(rs.beta_fast > 0 && rs.beta_slow > 0 && rs.attention_factor >= 0, source,
          ": rope_scaling.beta_fast, beta_slow must be > 0 and attention_factor >= 0");
  return rs;
}

}  // namespace

Config Config::from_json(const Json& j, const std::string& source) {
  check(j.is_object(), source, ": expected a JSON object");
  Config c;
  const Json* mt = j.find("model_type");
  check(mt && mt->is_string(), source, ": missing string field 'model_type' (deepseek_v3, qwen2, qwen3 or llama)");
  c.model_type = mt->as_string();
  check(c.model_type == "deepseek_v3" || c.model_type == "qwen2" || c.model_type == "qwen3" || c.model_type == "llama",
        source, ": field 'model_type': unsupported '", c.model_type, "' (expected deepseek_v3, qwen2, qwen3 or llama)");
  c.attention_bias = c.model_type == "qwen2";  // Qwen2 always has q/k/v bias

  using Setter = std::function<void(const FieldReader&)>;
  const std::map<std::string, Setter> setters = {
      {"model_type", [](const FieldReader&) {}},
      {"vocab_size", [&](const FieldReader& r) { c.vocab_size = r.integer(); }},
      {"hidden_size", [&](const FieldReader& r) { c.hidden_size = r.integer(); }},
      {"num_hidden_layers", [&](const FieldReader& r) { c.num_hidden_layers = r.integer(); }},
      {"num_attention_heads", [&](const FieldReader& r) { c.num_attention_heads = r.integer(); }},
      {"num_key_value_heads", [&](const FieldReader& r) { c.num_key_value_heads = r.integer(); }},
      {"head_dim", [&](const FieldReader& r) { c.head_dim = r.integer(); }},
      {"intermediate_size", [&](const FieldReader& r) { c.intermediate_size = r.integer(); }},
      {"rms_norm_eps", [&](const FieldReader& r) { c.rms_norm_eps = r.number(); }},
      {"rope_theta", [&](const FieldReader& r) { c.rope_theta = r.number(); }},
      {"max_position_embeddings", [&](const FieldReader& r) { c.max_position_embeddings = r.integer(); }},
      {"tie_word_embeddings", [&](const FieldReader& r) { c.tie_word_embeddings = r.boolean(); }},
      {"attention_bias", [&](const FieldReader& r) { c.attention_bias = r.boolean(); }},
      {"initializer_range", [&](const FieldReader& r) { c.initializer_range = r.number(); }},
      {"moe_intermediate_size", [&](const FieldReader& r) { c.moe_intermediate_size = r.integer(); }},
      {"n_routed_experts", [&](const FieldReader& r) { c.n_routed_experts = r.integer(); }},
      {"n_shared_experts", [&](const FieldReader& r) { c.n_shared_experts = r.integer(); }},
      {"num_experts_per_tok", [&](const FieldReader& r) { c.num_experts_per_tok = r.integer(); }},
      {"first_k_dense_replace", [&](const FieldReader& r) { c.first_k_dense_replace = r.integer(); }},
      {"moe_layer_freq", [&](const FieldReader& r) { c.moe_layer_freq = r.integer(); }},
      {"routed_scaling_factor", [&](const FieldReader& r) { c.routed_scaling_factor = r.number(); }},
      {"scoring_func", [&](const FieldReader& r) { c.scoring_func = r.string(); }},
      {"topk_method", [&](const FieldReader& r) { c.topk_method = r.string(); }},
      {"norm_topk_prob", [&](const FieldReader& r) { c.norm_topk_prob = r.boolean(); }},
      {"n_group", [&](const FieldReader& r) { c.n_group = r.integer(); }},
      {"topk_group", [&](const FieldReader& r) { c.topk_group = r.integer(); }},
      {"aux_loss_alpha", [&](const FieldReader& r) { c.aux_loss_alpha = r.number(); }},
      {"bias_update_speed", [&](const FieldReader& r) { c.bias_update_speed = r.number(); }},
      {"q_lora_rank", [&](const FieldReader& r) { c.q_lora_rank = r.integer(); }},
      {"kv_lora_rank", [&](const FieldReader& r) { c.kv_lora_rank = r.integer(); }},
      {"qk_nope_head_dim", [&](const FieldReader& r) { c.qk_nope_head_dim = r.integer(); }},
      {"qk_rope_head_dim", [&](const FieldReader& r) { c.qk_rope_head_dim = r.integer(); }},
      {"v_head_dim", [&](const FieldReader& r) { c.v_head_dim = r.integer(); }},
      {"num_nextn_predict_layers", [&](const FieldReader& r) { c.num_nextn_predict_layers = r.integer(); }},
  };
  const auto& ignored = kIgnoredConfigFields;
  bool saw_head_dim = false, saw_kv_heads = false;
  for (const auto& [key, value] : j.as_object()) {
    FieldReader r{source, key, value};
    if (key == "rope_scaling") {
      c.rope_scaling = parse_rope_scaling(value, source);
      continue;
    }
    auto it = setters.find(key);
    if (it != setters.end()) {
      if (value.is_null()) continue;  // HF writes null for "use the default"
      bool moe_field = std::find(std::begin(kMoeFields), std::end(kMoeFields), key) != std::end(kMoeFields);
      if (moe_field && c.model_type != "deepseek_v3")
        r.fail(cat("a DeepSeek-V3 (MoE/MLA) field, not valid for model_type ", c.model_type));
      it->second(r);
      saw_head_dim |= key == "head_dim";
      saw_kv_heads |= key == "num_key_value_heads";
      continue;
    }
    if (std::find(std::begin(ignored), std::end(ignored), key) == std::end(ignored))
      throw Error(cat(source, ": unknown field '", key, "' (see docs/model.md for the accepted fields)"));
    // Ignored fields that would change the math unless neutral.
    if (key == "hidden_act" && !(value.is_string() && value.as_string() == "silu")) r.fail("only \"silu\" is supported");
    if (key == "use_mrope" && !(value.is_bool() && !value.as_bool())) r.fail("only false is supported");
    if (key == "layer_types") {
      bool full = value.is_array();
      for (size_t i = 0; full && i < value.as_array().size(); i++)
        full = value.as_array()[i].is_string() && value.as_array()[i].as_string() == "full_attention";
      if (!full) r.fail("only \"full_attention\" layers are supported (no sliding windows)");
    }
    if (key == "rope_interleave" && !(value.is_bool() && value.as_bool())) r.fail("only true is supported");
    if (key == "mlp_bias" && !(value.is_bool() && !value.as_bool())) r.fail("only false is supported");
    if (key == "use_sliding_window" && !(value.is_bool() && !value.as_bool())) r.fail("only false is supported");
    if (key == "use_mrope" && !(value.is_bool() && !value.as_bool())) r.fail("only false is supported");
    if (key == "pretraining_tp" && !(value.is_number() && value.as_number() == 1)) r.fail("only 1 is supported");
    if (key == "attention_dropout" && !(value.is_number() && value.as_number() == 0)) r.fail("only 0 is supported");
  }
  if (!saw_kv_heads) c.num_key_value_heads = c.num_attention_heads;
  if (c.is_mla()) {
    // Absent per-head widths take Hugging Face's DeepseekV3Config defaults (q_lora_rank does not:
    // absent or null means a plain q_proj).
    auto given = [&](const char* key) { const Json* v = j.find(key); return v && !v->is_null(); };
    if (!given("qk_nope_head_dim")) c.qk_nope_head_dim = 128;
    if (!given("qk_rope_head_dim")) c.qk_rope_head_dim = 64;
    if (!given("v_head_dim")) c.v_head_dim = 128;
    c.head_dim = c.qk_rope_head_dim;  // as Hugging Face's DeepseekV3Config (the RoPE width)
  } else if (!saw_head_dim && c.model_type == "qwen3") {
    throw Error(cat(source, ": field 'head_dim' is required for model_type qwen3 (its width is independent of "
                            "hidden_size / num_attention_heads)"));
  } else if (!saw_head_dim && c.num_attention_heads > 0) {
    check(c.hidden_size % c.num_attention_heads == 0, source, ": field 'num_attention_heads': ",
          c.num_attention_heads, " does not divide hidden_size ", c.hidden_size, " (or give head_dim)");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  c.validate(source);
  return c;
}

Config Config::load(const std::string& path) { return from_json(Json::parse_file(path), path); }

// --- validation ----------------------------------------------------------------------------

void Config::validate(const std::string& source) const {
  auto positive = [&](const char* field, int64_t v) { check(v > 0, source, ": field '", field, "' must be > 0, got ", v); };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("head_dim", head_dim);
  positive("max_position_embeddings", max_position_embeddings);
  check(num_attention_heads % num_key_value_heads == 0, source, ": field 'num_key_value_heads': ",
        num_key_value_heads, " does not divide num_attention_heads ", num_attention_heads);
  check(is_mla() || head_dim % 2 == 0, source, ": field 'head_dim' must be even for RoPE, got ", head_dim);  // MLA: qk_rope_head_dim
  check(rms_norm_eps > 0, source, ": field 'rms_norm_eps' must be > 0");
  check(rope_theta > 0, source, ": field 'rope_theta' must be > 0");
  check(initializer_range >= 0, source, ": field 'initializer_range' must be >= 0");
  bool any_dense = false;
  for (int64_t i = 0; i < num_hidden_layers; i++) any_dense |= !is_moe_layer(i);
  if (any_dense) positive("intermediate_size", intermediate_size);

  if (model_type != "deepseek_v3") {
    check(n_routed_experts == 0, source, ": field 'n_routed_experts': MoE layers need model_type deepseek_v3, not ",
          model_type);
    check(!is_mla(), source, ": field 'kv_lora_rank': MLA needs model_type deepseek_v3, not ", model_type);
    return;
  }
  check(n_routed_experts >= 0, source, ": field 'n_routed_experts' must be >= 0");
  check(num_nextn_predict_layers >= 0, source, ": field 'num_nextn_predict_layers' must be >= 0");
  if (is_mla()) {
    check(q_lora_rank >= 0, source, ": field 'q_lora_rank' must be >= 0 (null = plain q_proj)");
    positive("qk_nope_head_dim", qk_nope_head_dim);
    positive("qk_rope_head_dim", qk_rope_head_dim);
    positive("v_head_dim", v_head_dim);
    check(qk_rope_head_dim % 2 == 0, source, ": field 'qk_rope_head_dim' must be even for RoPE, got ", qk_rope_head_dim);
    check(!attention_bias, source, ": field 'attention_bias': MLA with projection biases is not implemented");
  } else {
    check(kv_lora_rank == 0, source, ": field 'kv_lora_rank' must be > 0 for MLA (or null for GQA)");
    check(q_lora_rank == 0 && qk_nope_head_dim == 0 && qk_rope_head_dim == 0 && v_head_dim == 0, source,
          ": fields 'q_lora_rank', 'qk_nope_head_dim', 'qk_rope_head_dim', 'v_head_dim' need kv_lora_rank (MLA)");
  }
  if (!is_moe()) return;
  positive("moe_intermediate_size", moe_intermediate_size);
  positive("num_experts_per_tok", num_experts_per_tok);
  positive("moe_layer_freq", moe_layer_freq);
  positive("n_group", n_group);
  positive("topk_group", topk_group);
  check(n_shared_experts >= 0, source, ": field 'n_shared_experts' must be >= 0");
  check(first_k_dense_replace >= 0, source, ": field 'first_k_dense_replace' must be >= 0");
  check(scoring_func == "sigmoid" || scoring_func == "softmax", source, ": field 'scoring_func': '", scoring_func,
        "' (expected sigmoid or softmax)");
  check(topk_method == "noaux_tc" || topk_method == "greedy", source, ": field 'topk_method': '", topk_method,
        "' (expected noaux_tc or greedy)");
  check(n_routed_experts % n_group == 0, source, ": field 'n_group': ", n_group,
        " does not divide n_routed_experts ", n_routed_experts);
  check(topk_group <= n_group, source, ": field 'topk_group': ", topk_group, " > n_group ", n_group);
  int64_t per_group = n_routed_experts / n_group;
  check(n_group == 1 || topk_method == "greedy" || per_group >= 2, source,
        ": field 'n_group': noaux_tc ranks groups by their top-2 scores, so groups need >= 2 experts");
  check(num_experts_per_tok <= topk_group * per_group, source, ": field 'num_experts_per_tok': ",
        num_experts_per_tok, " exceeds the ", topk_group * per_group, " experts of the topk_group eligible groups");
  check(routed_scaling_factor > 0, source, ": field 'routed_scaling_factor' must be > 0");
  check(aux_loss_alpha >= 0, source, ": field 'aux_loss_alpha' must be >= 0");
  check(bias_update_speed >= 0, source, ": field 'bias_update_speed' must be >= 0");
  check(bias_update_speed == 0 || topk_method == "noaux_tc", source,
        ": field 'bias_update_speed': the balancing bias exists only with topk_method noaux_tc");
}

// --- writing ---------------------------------------------------------------------------------

// RopeScaling -> config.json's rope_scaling (null when inactive); only the keys of its type.
static Json rope_scaling_json(const RopeScaling& rs) {
  if (!rs.active()) return Json();
  Json j = Json::object();
  j["rope_type"] = rs.type;
  j["factor"] = rs.factor;
  j["original_max_position_embeddings"] = rs.original_max_position_embeddings;
  if (rs.type == "llama3") {
    j["low_freq_factor"] = rs.low_freq_factor;
    j["high_freq_factor"] = rs.high_freq_factor;
    return j;
  }
  j["beta_fast"] = rs.beta_fast;
  j["beta_slow"] = rs.beta_slow;
  if (rs.mscale > 0) j["mscale"] = rs.mscale;
  if (rs.mscale_all_dim > 0) j["mscale_all_dim"] = rs.mscale_all_dim;
  if (rs.attention_factor > 0) j["attention_factor"] = rs.attention_factor;
  if (!rs.truncate) j["truncate"] = false;  // HF's default is true
  return j;
}

Json Config::to_json() const {
  const char* arch = model_type == "deepseek_v3" ? "DeepseekV3ForCausalLM"
                     : model_type == "qwen2"     ? "Qwen2ForCausalLM"
                     : model_type == "qwen3"     ? "Qwen3ForCausalLM"
                                                 : "LlamaForCausalLM";
  Json j = Json::object();
  j["architectures"] = Json(Json::Array{Json(arch)});
  j["model_type"] = model_type;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = "silu";
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  j["rope_scaling"] = rope_scaling_json(rope_scaling);
  j["max_position_embeddings"] = max_position_embeddings;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["attention_bias"] = attention_bias;
  j["initializer_range"] = initializer_range;
  if (model_type == "deepseek_v3") {
    j["moe_intermediate_size"] = moe_intermediate_size;
    j["n_routed_experts"] = n_routed_experts;
    j["n_shared_experts"] = n_shared_experts;
    j["num_experts_per_tok"] = num_experts_per_tok;
    j["first_k_dense_replace"] = first_k_dense_replace;
    j["moe_layer_freq"] = moe_layer_freq;
    j["routed_scaling_factor"] = routed_scaling_factor;
    j["scoring_func"] = scoring_func;
    j["topk_method"] = topk_method;
    j["norm_topk_prob"] = norm_topk_prob;
    j["n_group"] = n_group;
    j["topk_group"] = topk_group;
    j["aux_loss_alpha"] = aux_loss_alpha;
    j["bias_update_speed"] = bias_update_speed;
    if (is_mla()) {
      j["q_lora_rank"] = q_lora_rank > 0 ? Json(q_lora_rank) : Json();
      j["kv_lora_rank"] = kv_lora_rank;
      j["qk_nope_head_dim"] = qk_nope_head_dim;
      j["qk_rope_head_dim"] = qk_rope_head_dim;
      j["v_head_dim"] = v_head_dim;
    }
  }
  j["torch_dtype"] = "float32";
  return j;
}

// --- MTP tensors -----------------------------------------------------------------------------

bool Config::is_mtp_tensor(const std::string& name) const {
  const std::string prefix = "model.layers.";
  if (num_nextn_predict_layers == 0 || name.compare(0, prefix.size(), prefix) != 0) return false;
  size_t end = name.find('.', prefix.size());
  if (end == std::string::npos || end == prefix.size()) return false;
  int64_t layer = 0;
  for (size_t i = prefix.size(); i < end; i++) {
    if (name[i] < '0' || name[i] > '9' || layer > num_hidden_layers + num_nextn_predict_layers) return false;
    layer = layer * 10 + (name[i] - '0');
  }
  return layer >= num_hidden_layers && layer < num_hidden_layers + num_nextn_predict_layers;
}

// --- sizes -------------------------------------------------------------------------------------

static int64_t swiglu_params(int64_t d, int64_t width) { return 3 * d * width; }

static int64_t attention_params(const Config& c) {
  int64_t D = c.hidden_size, H = c.num_attention_heads;
  if (c.is_mla()) {
    int64_t R = c.kv_lora_rank, Rq = c.q_lora_rank, dr = c.qk_rope_head_dim;
    int64_t qk = H * (c.qk_nope_head_dim + dr);
    int64_t q = Rq > 0 ? D * Rq + Rq + Rq * qk : D * qk;         // q_a_proj, q_a_layernorm, q_b_proj | q_proj
    return q + D * (R + dr) + R + R * H * (c.qk_nope_head_dim + c.v_head_dim)  // kv_a_proj_with_mqa, kv_a_layernorm, kv_b_proj
           + H * c.v_head_dim * D;                                 // o_proj
  }
  int64_t q = H * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  return D * q + 2 * D * kv + q * D + (c.attention_bias ? q + 2 * kv : 0) +
         (c.has_qk_norm() ? 2 * c.head_dim : 0);  // Qwen3's q_norm, k_norm
}

static int64_t count(const Config& c, bool active) {
  int64_t D = c.hidden_size;
  int64_t attn = attention_params(c);
  int64_t n = c.vocab_size * D * (c.tie_word_embeddings ? 1 : 2) + D;  // embeddings, lm_head, final norm
  for (int64_t i = 0; i < c.num_hidden_layers; i++) {
    n += attn + 2 * D;
    if (!c.is_moe_layer(i)) {
      n += swiglu_params(D, c.intermediate_size);
      continue;
    }
    int64_t experts = active ? c.num_experts_per_tok : c.n_routed_experts;
    n += c.n_routed_experts * D + (c.has_router_bias() ? c.n_routed_experts : 0);  // router
    n += experts * swiglu_params(D, c.moe_intermediate_size);
    n += swiglu_params(D, c.n_shared_experts * c.moe_intermediate_size);
  }
  return n;
}

int64_t Config::num_parameters() const { return count(*this, false); }
int64_t Config::num_active_parameters() const { return count(*this, true); }

}  // namespace r1
