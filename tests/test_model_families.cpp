// The released model families in their real Hugging Face layouts (data/fixtures/model/
// distill_qwen2, distill_llama, qwen3, deepseek_v3: the real config.json with sizes shrunk, BF16
// weights, DeepSeek-V3's MTP layer stored) against the independent float64 PyTorch reference
// (make_reference.py): teacher-forced logits and log-probs, greedy continuations through the KV
// cache, the cached decode against the full forward under RoPE scaling; the scaled RoPE op's
// gradient by finite differences; the real configs' fields and the errors of bad ones.
// Logits, loss and gradients of the same fixtures are checked in test_model_reference.cpp.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "cli_util.h"
#include "gradcheck.h"
#include "model/checkpoint.h"
#include "model/rope_scaling.h"
#include "test_util.h"
#include "util/error.h"

namespace r1 {
namespace {

using r1::testing::expect_close;
using r1::testing::expect_gradients_match;
using r1::testing::model_fixture;

const char* kFamilies[] = {"distill_qwen2", "distill_llama", "qwen3", "deepseek_v3"};

Ids ids_of(const StTensor& t) {
  Ids ids;
  for (float v : t.data) ids.push_back(int32_t(v));
  return ids;
}

// logits: (T, V) -> log p(ids[t + 1] | ids[..t]) for t < T - 1.
std::vector<float> teacher_forced_logprobs(const Tensor& logits, const Ids& ids) {
  std::vector<float> lp = log_softmax(logits).to_vector(), out;
  const int64_t V = logits.size(1);
  for (size_t t = 0; t + 1 < ids.size(); t++) out.push_back(lp[t * size_t(V) + size_t(ids[t + 1])]);
  return out;
}

// Tolerances. The reference is float64 from the same (BF16-exact) weights; r1 runs in float32.
// Logits and log-probs are O(1..10) after 2-3 layers of width 32 with N(0, 0.3^2) weights: float32
// rounding (eps 6e-8) through ~10^2-term dot products, norms and softmaxes accumulates to ~1e-6
// relative; 5e-5 absolute + 1e-4 relative leaves a margin of >10x. A wrong scale or norm moves
// logits by > 1e-2, but some wrong frequencies (an unscaled slow pair, a dropped floor/ceil) move
// them by only 2e-4..1e-3 at these short positions, about 4x the bound: the frequencies themselves
// are checked directly in RopeFrequenciesMatchTheReference. The cached decode reorders the same
// float32 sums (and MLA's absorbed form regroups them), so it gets the same bound against the
// full forward.
const double kAtol = 5e-5, kRtol = 1e-4;

// Config::num_parameters() (what r1 init / r1 inspect print) counts every tensor the model holds.
TEST(ModelFamilies, ParameterCountIsTheSizeOfEveryTensor) {
  for (const char* name : kFamilies) {
    SCOPED_TRACE(name);
    Transformer m = load_model(model_fixture(name));
    int64_t n = 0;
    for (const TensorSlot& s : m.slots()) n += s.tensor->numel();
    EXPECT_EQ(n, m.config().num_parameters());
  }
}

TEST(ModelFamilies, LogitsLogprobsAndGreedyContinuationsMatchPyTorch) {
  for (const char* name : kFamilies) {
    SCOPED_TRACE(name);
    Transformer m = load_model(model_fixture(name));
    SafetensorsFile ref = load_safetensors(model_fixture(name) + "/reference.safetensors");
    const Ids prompt = ids_of(ref.at("tokens"));
    const int64_t T = int64_t(prompt.size()), V = m.config().vocab_size;

    NoGradGuard guard;
    Tensor logits = m.forward(prompt, 1, T).logits;  // (T, V)
    expect_close(logits.to_vector(), ref.at("logits").data, kAtol, kRtol, "logits");
    expect_close(teacher_forced_logprobs(logits, prompt), ref.at("logprobs").data, kAtol, kRtol, "log-probs");

    // Greedy decoding through the KV cache: prefill the prompt, then one token per step.
    const Ids want = ids_of(ref.at("greedy"));
    KVCache cache = m.new_cache(1);
    std::vector<float> step = m.forward_cached(prompt, 1, T, cache).to_vector();  // (T, V), last row used
    std::vector<float> cached_rows(step.end() - V, step.end());                    // (steps, V)
    Ids seq = prompt, got;
    std::vector<float> got_logprobs;
    for (size_t s = 0; s < want.size(); s++) {
      Tensor last = Tensor::from_vector({1, V}, std::vector<float>(cached_rows.end() - V, cached_rows.end()));
      std::vector<float> lp = log_softmax(last).to_vector();
      int32_t next = int32_t(std::max_element(lp.begin(), lp.end()) - lp.begin());
      got.push_back(next);
      got_logprobs.push_back(lp[size_t(next)]);
      seq.push_back(next);
      if (s + 1 == want.size()) break;
      step = m.forward_cached({next}, 1, 1, cache).to_vector();  // (1, V)
      cached_rows.insert(cached_rows.end(), step.begin(), step.end());
    }
    EXPECT_EQ(got, want);
    expect_close(got_logprobs, ref.at("greedy_logprobs").data, kAtol, kRtol, "greedy log-probs");

    // The decode steps' logits equal the full forward over the whole sequence at those positions.
    std::vector<float> full = m.forward(seq, 1, int64_t(seq.size())).logits.to_vector();  // (T + steps, V)
    std::vector<float> full_rows(full.begin() + (T - 1) * V, full.begin() + (T - 1 + int64_t(want.size())) * V);
    expect_close(cached_rows, full_rows, kAtol, kRtol, "cached decode vs full forward");
  }
}

// --- the scaled RoPE op ------------------------------------------------------------------------

Config config_from(const std::string& json) { return Config::from_json(Json::parse(json), "test config.json"); }

const char* kLlama3 = R"({"model_type": "llama", "vocab_size": 8, "hidden_size": 16, "num_hidden_layers": 1,
  "num_attention_heads": 2, "intermediate_size": 8, "rope_theta": 500000.0,
  "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
const char* kYarn = R"({"model_type": "qwen3", "vocab_size": 8, "hidden_size": 16, "num_hidden_layers": 1,
  "num_attention_heads": 2, "head_dim": 8, "intermediate_size": 8, "rope_theta": 1000000,
  "rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}})";

TEST(ModelFamilies, ScaledRopeGradientsMatchFiniteDifferences) {
  // YaRN with factor 4 scales cos and sin by 0.1 ln 4 + 1: the backward must carry that scale.
  for (const char* json : {kLlama3, kYarn}) {
    Config c = config_from(json);
    RopeFreqs f = rope_freqs(c, 8);
    SCOPED_TRACE(c.rope_scaling.type);
    if (c.rope_scaling.type == "yarn") {
      EXPECT_NEAR(f.scale, 0.1 * std::log(4.0) + 1, 1e-6);
    }
    Rng rng(5);
    Tensor x = Tensor::randn({2, 3, 2, 8}, rng);
    x.set_requires_grad(true);
    expect_gradients_match([&](const std::vector<Tensor>& in) { return rope(in[0], {3, 0, 17, 9000, 2, 40}, f); },
                           {x});
  }
}

// Each family's RoPE frequencies and cos/sin factor against the float64 ones of the reference
// (transformers' ROPE_INIT_FUNCTIONS written out in make_reference.py). r1 computes them in float32
// in transformers' order: 1e-6 relative is ~10 float32 roundings, while a dropped floor/ceil, an
// unscaled pair or a swapped beta moves some frequency by > 1e-3 relative even where the short
// fixture sequences barely show it in the logits.
TEST(ModelFamilies, RopeFrequenciesMatchTheReference) {
  for (const char* name : kFamilies) {
    SCOPED_TRACE(name);
    Config c = Config::load(model_fixture(name) + "/config.json");
    SafetensorsFile ref = load_safetensors(model_fixture(name) + "/reference.safetensors");
    const std::vector<float>& want = ref.at("rope_inv_freq").data;
    RopeFreqs f = rope_freqs(c, c.is_mla() ? c.qk_rope_head_dim : c.head_dim);
    ASSERT_EQ(f.inv_freq.size(), want.size());
    for (size_t i = 0; i < want.size(); i++) EXPECT_NEAR(f.inv_freq[i], want[i], 1e-6 * want[i]) << "pair " << i;
    EXPECT_NEAR(f.scale, ref.at("rope_scale").data[0], 1e-6);
  }
}

TEST(ModelFamilies, ScaledFrequenciesFollowTheirEquations) {
  // llama3 (theta 5e5, d 8): wavelengths 2 pi / f_i of 6.3, 167, 4443, 118000 against the bands
  // [8192 / 4, 8192 / 1]: pairs 0, 1 kept, pair 2 blended, pair 3 divided by the factor 8.
  Config c = config_from(kLlama3);
  RopeFreqs plain = rope_default_freqs(500000.0f, 8), f = rope_freqs(c, 8);
  const double pi = 3.14159265358979323846;
  EXPECT_EQ(f.inv_freq[0], plain.inv_freq[0]);
  EXPECT_EQ(f.inv_freq[1], plain.inv_freq[1]);
  const double w2 = 2 * pi / plain.inv_freq[2], a = (8192 / w2 - 1) / (4 - 1);
  EXPECT_NEAR(f.inv_freq[2], (1 - a) * plain.inv_freq[2] / 8 + a * plain.inv_freq[2], 1e-6 * plain.inv_freq[2]);
  EXPECT_NEAR(f.inv_freq[3], plain.inv_freq[3] / 8, 1e-6 * plain.inv_freq[3]);
  EXPECT_EQ(f.scale, 1.0f);

  // YaRN (theta 1e6, d 8, L0 32768): dim(32) = 8 ln(32768 / 64 pi) / (2 ln 1e6) = 1.47 -> low 1,
  // dim(1) = 2.48 -> high 3: pair 0 kept, pair 1 kept (ramp 0), pair 2 half, pair 3 divided by 4.
  Config y = config_from(kYarn);
  RopeFreqs py = rope_default_freqs(1000000.0f, 8), fy = rope_freqs(y, 8);
  EXPECT_NEAR(fy.inv_freq[0], py.inv_freq[0], 1e-7 * py.inv_freq[0]);
  EXPECT_NEAR(fy.inv_freq[1], py.inv_freq[1], 1e-6 * py.inv_freq[1]);
  EXPECT_NEAR(fy.inv_freq[2], 0.5 * py.inv_freq[2] / 4 + 0.5 * py.inv_freq[2], 1e-6 * py.inv_freq[2]);
  EXPECT_NEAR(fy.inv_freq[3], py.inv_freq[3] / 4, 1e-6 * py.inv_freq[3]);
}

// --- the real config.json files ---------------------------------------------------------------

// DeepSeek-V3's config.json as released (deepseek-ai/DeepSeek-V3, also DeepSeek-R1's), unshrunk.
const char* kDeepSeekV3 = R"({
  "architectures": ["DeepseekV3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "auto_map": {"AutoConfig": "configuration_deepseek.DeepseekV3Config",
               "AutoModel": "modeling_deepseek.DeepseekV3Model",
               "AutoModelForCausalLM": "modeling_deepseek.DeepseekV3ForCausalLM"},
  "aux_loss_alpha": 0.001, "bos_token_id": 0, "eos_token_id": 1, "ep_size": 1, "first_k_dense_replace": 3,
  "hidden_act": "silu", "hidden_size": 7168, "initializer_range": 0.02, "intermediate_size": 18432,
  "kv_lora_rank": 512, "max_position_embeddings": 163840, "model_type": "deepseek_v3",
  "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 8, "n_routed_experts": 256,
  "n_shared_experts": 1, "norm_topk_prob": true, "num_attention_heads": 128, "num_experts_per_tok": 8,
  "num_hidden_layers": 61, "num_key_value_heads": 128, "num_nextn_predict_layers": 1, "pretraining_tp": 1,
  "q_lora_rank": 1536, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64,
  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                          "weight_block_size": [128, 128]},
  "rms_norm_eps": 1e-06,
  "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                   "original_max_position_embeddings": 4096, "type": "yarn"},
  "rope_theta": 10000, "routed_scaling_factor": 2.5, "scoring_func": "sigmoid", "seq_aux": true,
  "tie_word_embeddings": false, "topk_group": 4, "topk_method": "noaux_tc", "torch_dtype": "bfloat16",
  "transformers_version": "4.33.1", "use_cache": true, "v_head_dim": 128, "vocab_size": 129280})";

TEST(ModelFamilies, DeepSeekV3ConfigIsAcceptedWithItsYarnScales) {
  Config c = config_from(kDeepSeekV3);
  EXPECT_TRUE(c.is_mla() && c.is_moe());
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.num_nextn_predict_layers, 1);
  EXPECT_EQ(c.rope_scaling.type, "yarn");
  // mscale == mscale_all_dim: the cos/sin factor is m/m = 1 and the softmax scale carries
  // m(40, 1)^2 = (0.1 ln 40 + 1)^2 over sqrt(128 + 64).
  EXPECT_EQ(rope_freqs(c, 64).scale, 1.0f);
  const double m = 0.1 * std::log(40.0) + 1;
  EXPECT_NEAR(mla_softmax_scale(c), m * m / std::sqrt(192.0), 1e-7);
  // The MTP layer is layer 61 only.
  EXPECT_TRUE(c.is_mtp_tensor("model.layers.61.eh_proj.weight"));
  EXPECT_TRUE(c.is_mtp_tensor("model.layers.61.mlp.experts.255.down_proj.weight"));
  EXPECT_FALSE(c.is_mtp_tensor("model.layers.60.eh_proj.weight"));
  EXPECT_FALSE(c.is_mtp_tensor("model.layers.62.eh_proj.weight"));
  EXPECT_FALSE(c.is_mtp_tensor("model.layers.6x.eh_proj.weight"));
  EXPECT_FALSE(c.is_mtp_tensor("model.norm.weight"));
  // Written back, the config reads the same.
  Config again = Config::from_json(c.to_json());
  EXPECT_EQ(again.rope_scaling.type, "yarn");
  EXPECT_EQ(again.rope_scaling.mscale_all_dim, 1.0);
  EXPECT_EQ(again.rope_scaling.original_max_position_embeddings, 4096);
}

// The message of the error Config::from_json throws for json, or "" if it accepts it.
std::string config_error(const std::string& json) {
  try {
    config_from(json);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// kYarn with `from` replaced by `to` (which must occur).
std::string yarn_with(const std::string& from, const std::string& to) {
  std::string s = kYarn;
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? s : s.replace(at, from.size(), to);
}

TEST(ModelFamilies, BadConfigsNameTheField) {
  struct Case {
    std::string json, needle;
  };
  const std::vector<Case> cases = {
      {yarn_with("\"yarn\"", "\"dynamic\""), "test config.json: rope_scaling.type 'dynamic' is not supported"},
      {yarn_with(", \"original_max_position_embeddings\": 32768", ""),
       "rope_scaling.original_max_position_embeddings is required for rope_scaling type 'yarn'"},
      {yarn_with("\"factor\": 4.0", "\"factor\": 4.0, \"low_freq_factor\": 1"),
       "rope_scaling.low_freq_factor is not a field of rope_scaling type 'yarn'"},
      {yarn_with("\"factor\": 4.0", "\"factor\": \"4\""), "field 'rope_scaling.factor': expected a number"},
      {yarn_with("\"head_dim\": 8, ", ""), "field 'head_dim' is required for model_type qwen3"},
      {yarn_with("\"head_dim\": 8", "\"head_dim\": 8, \"use_sliding_window\": true"), "field 'use_sliding_window'"},
      {yarn_with("\"head_dim\": 8", "\"head_dim\": 8, \"layer_types\": [\"sliding_attention\"]"),
       "field 'layer_types'"},
      {yarn_with("\"head_dim\": 8", "\"head_dim\": 8, \"num_nextn_predict_layers\": 1"),
       "field 'num_nextn_predict_layers': a DeepSeek-V3"},
  };
  for (const Case& c : cases) EXPECT_NE(config_error(c.json).find(c.needle), std::string::npos) << config_error(c.json);
  std::string llama3 = kLlama3;
  const std::string low = "\"low_freq_factor\": 1.0,";
  llama3.erase(llama3.find(low), low.size());
  EXPECT_NE(config_error(llama3).find("rope_scaling.low_freq_factor is required for rope_scaling type 'llama3'"),
            std::string::npos)
      << config_error(llama3);
  // Fields of the real configs that do not change the math are accepted at their released values.
  EXPECT_EQ(config_error(yarn_with("\"head_dim\": 8", "\"head_dim\": 8, \"sliding_window\": null, "
                                                      "\"max_window_layers\": 28, \"use_mrope\": false, "
                                                      "\"layer_types\": [\"full_attention\"]")),
            "");
}

TEST(ModelFamilies, CliRejectsAnUnknownRopeTypeWithExitTwo) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "no r1 binary (make test sets R1_BIN)";
  TempDir tmp;
  const std::string dir = tmp.path();
  write_file_atomic(dir + "/config.json", yarn_with("\"yarn\"", "\"longrope\""));
  r1::testing::CliRun r = r1::testing::run_r1("forward --model " + dir + " --tokens 1,2 --out " + tmp.file("o.safetensors"), tmp);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: " + dir + "/config.json: rope_scaling.type 'longrope' is not supported"),
            std::string::npos)
      << r.err;
}

TEST(ModelFamilies, MtpTensorsAreSkippedButOtherExtraLayersAreNot) {
  // The deepseek_v3 fixture stores model.layers.3.* (its MTP layer) and loads; an extra tensor of a
  // layer past the MTP layers is still reported by name.
  Transformer m = load_model(model_fixture("deepseek_v3"));
  EXPECT_NE(load_safetensors(model_fixture("deepseek_v3") + "/model.safetensors").find("model.layers.3.eh_proj.weight"),
            nullptr);
  TempDir tmp;
  std::vector<StTensor> tensors = export_weights(m);
  tensors.push_back({"model.layers.4.eh_proj.weight", {1}, {0.0f}, "F32"});
  save_safetensors(tmp.file("model.safetensors"), tensors);
  try {
    load_weights(m, load_safetensors(tmp.file("model.safetensors")));
    ADD_FAILURE() << "an extra layer's tensor was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected tensor 'model.layers.4.eh_proj.weight'"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace r1
