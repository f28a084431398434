// Tests for model/config and model/checkpoint: config parsing (defaults, accepted-and-ignored
// HF fields, errors that name the field), save/load round trips (F32 and BF16), and strict
// loading that names every missing, unexpected, mis-shaped or wrongly typed tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sys/wait.h>

#include "autograd/autograd.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {
namespace {

void expect_error_contains(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "no error; expected one containing: " << needles[0];
  } catch (const Error& e) {
    for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

const char* kMoeJson = R"({
  "model_type": "deepseek_v3", "vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 24,
  "moe_intermediate_size": 8, "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2,
  "first_k_dense_replace": 1, "n_group": 2, "topk_group": 1, "bias_update_speed": 0.001
})";

Json with(const char* base, const std::string& key, const Json& value) {
  Json j = Json::parse(base);
  j[key] = value;
  return j;
}

// --- config ---------------------------------------------------------------------------------

TEST(ModelConfig, DefaultsAndDerivedFields) {
  Config c = Config::from_json(Json::parse(kMoeJson));
  EXPECT_EQ(c.head_dim, 4);  // hidden / heads
  EXPECT_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.scoring_func, "sigmoid");
  EXPECT_EQ(c.topk_method, "noaux_tc");
  EXPECT_FALSE(c.attention_bias);
  EXPECT_FALSE(c.is_moe_layer(0));
  EXPECT_TRUE(c.is_moe_layer(1));
  Config q = Config::from_json(Json::parse(
      R"({"model_type": "qwen2", "vocab_size": 8, "hidden_size": 8, "num_hidden_layers": 1,
          "num_attention_heads": 2, "intermediate_size": 8})"));
  EXPECT_TRUE(q.attention_bias);  // Qwen2 always has q/k/v bias
  EXPECT_EQ(q.num_key_value_heads, 2);
}

TEST(ModelConfig, RoundTripsThroughJson) {
  Config c = Config::from_json(Json::parse(kMoeJson));
  c.aux_loss_alpha = 0.25;
  c.routed_scaling_factor = 2.5;
  Config d = Config::from_json(c.to_json());
  EXPECT_EQ(d.to_json().dump(), c.to_json().dump());
}

TEST(ModelConfig, AcceptsKnownHuggingFaceFields) {
  Json j = Json::parse(kMoeJson);
  j["architectures"] = Json(Json::Array{Json("DeepseekV3ForCausalLM")});
  j["torch_dtype"] = "bfloat16";
  j["transformers_version"] = "4.46.0";
  j["bos_token_id"] = 0;
  j["rope_scaling"] = Json();
  j["hidden_act"] = "silu";
  j["kv_lora_rank"] = 512;
  j["n_shared_experts"] = Json();  // null means default
  Config c = Config::from_json(j);
  EXPECT_EQ(c.n_shared_experts, 0);
}

TEST(ModelConfig, ErrorsNameTheField) {
  expect_error_contains([] { Config::from_json(with(kMoeJson, "hidden_sizee", 16)); }, {"unknown field 'hidden_sizee'"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "num_attention_heads", 5)); },
                        {"num_attention_heads", "does not divide hidden_size"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "num_key_value_heads", 3)); },
                        {"num_key_value_heads", "does not divide"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "head_dim", 5)); }, {"head_dim", "even"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "vocab_size", "40")); }, {"vocab_size", "expected an integer"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "vocab_size", 40.5)); }, {"vocab_size"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "n_group", 3)); }, {"n_group", "does not divide"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "num_experts_per_tok", 3)); },
                        {"num_experts_per_tok", "exceeds"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "scoring_func", "relu")); }, {"scoring_func", "relu"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "topk_method", "group_limited_greedy")); },
                        {"topk_method"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "hidden_act", "gelu")); }, {"hidden_act", "silu"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "rope_scaling", Json::parse(R"({"type": "linear"})"))); },
                        {"rope_scaling.type 'linear' is not supported"});
  expect_error_contains([] { Config::from_json(with(kMoeJson, "model_type", "mistral")); }, {"model_type", "mistral"});
  Json greedy = with(kMoeJson, "topk_method", "greedy");
  expect_error_contains([&] { Config::from_json(greedy); }, {"bias_update_speed", "noaux_tc"});
  Json llama = with(kMoeJson, "model_type", "llama");
  expect_error_contains([&] { Config::from_json(llama); }, {"field 'moe_intermediate_size'", "model_type llama"});
  Config programmatic = Config::from_json(Json::parse(kMoeJson));
  programmatic.model_type = "qwen2";
  expect_error_contains([&] { programmatic.validate(); }, {"n_routed_experts", "deepseek_v3"});
}

TEST(ModelConfig, ParameterCountsMatchTheTensors) {
  Config c = Config::from_json(Json::parse(kMoeJson));
  Transformer m(c);
  int64_t all = 0;
  for (const TensorSlot& s : m.slots()) all += s.tensor->numel();
  EXPECT_EQ(c.num_parameters(), all);
  // Active: one layer has 4 experts of 3*16*8 = 384 and uses 2 of them.
  EXPECT_EQ(c.num_active_parameters(), all - 2 * 384);
}

// --- checkpoints ----------------------------------------------------------------------------

Transformer tiny_model() {
  Transformer m(Config::from_json(Json::parse(kMoeJson)));
  m.init_weights(5);
  return m;
}

TEST(ModelCheckpoint, InitFollowsTheRecipe) {
  Transformer m = tiny_model();
  for (const TensorSlot& s : m.slots()) {
    std::vector<float> v = s.tensor->to_vector();
    if (s.name.find("norm") != std::string::npos) {
      for (float x : v) EXPECT_EQ(x, 1.0f) << s.name;
    } else if (s.name.find("e_score_correction_bias") != std::string::npos) {
      for (float x : v) EXPECT_EQ(x, 0.0f) << s.name;
      EXPECT_FALSE(s.tensor->requires_grad()) << s.name;
    } else {
      double ss = 0;
      for (float x : v) ss += double(x) * x;
      double sd = std::sqrt(ss / double(v.size()));
      // Sample std of n >= 64 normal(0, 0.02) draws: within 35% with overwhelming probability.
      EXPECT_NEAR(sd, 0.02, 0.007) << s.name;
      EXPECT_TRUE(s.tensor->requires_grad()) << s.name;
    }
  }
}

TEST(ModelCheckpoint, SaveLoadRoundTripIsExact) {
  TempDir tmp;
  Transformer m = tiny_model();
  m.blocks()[1].moe->gate.bias.copy_from(Tensor::from_vector({4}, {0.5f, -0.25f, 0.125f, 0.0f}));
  std::string tok = tmp.file("tok.json");
  write_file_atomic(tok, "{\"model\": {}}\n");
  save_model(tmp.file("m"), m, tok);
  EXPECT_EQ(read_file(tmp.file("m/tokenizer.json")), "{\"model\": {}}\n");
  Transformer n = load_model(tmp.file("m"));
  EXPECT_EQ(n.config().to_json().dump(), m.config().to_json().dump());
  TensorSlots a = m.slots(), b = n.slots();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); i++) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].tensor->to_vector(), b[i].tensor->to_vector()) << a[i].name;
    EXPECT_EQ(a[i].tensor->requires_grad(), b[i].tensor->requires_grad()) << a[i].name;
  }
  Ids ids = {1, 5, 9, 2, 33, 7};
  NoGradGuard g;
  EXPECT_EQ(m.forward(ids, 1, 6).logits.to_vector(), n.forward(ids, 1, 6).logits.to_vector());
  // Saving again over the same directory keeps the tokenizer when it is passed from inside it.
  save_model(tmp.file("m"), n, tmp.file("m/tokenizer.json"));
  EXPECT_EQ(read_file(tmp.file("m/tokenizer.json")), "{\"model\": {}}\n");
}

// A safetensors file written by hand with the given dtype for every tensor (BF16: the top 16
// bits of each float32, so values with zero low bits are stored exactly).
void write_with_dtype(const std::string& path, const std::vector<StTensor>& ts, const std::string& dtype) {
  Json header = Json::object();
  std::string data;
  for (const StTensor& t : ts) {
    Json e = Json::object();
    e["dtype"] = dtype;
    e["shape"] = Json(t.shape);
    size_t begin = data.size();
    for (float x : t.data) {
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      uint16_t hi = uint16_t(bits >> 16);
      data.append(reinterpret_cast<const char*>(&hi), 2);
    }
    e["data_offsets"] = Json(Json::Array{Json(int64_t(begin)), Json(int64_t(data.size()))});
    header[t.name] = e;
  }
  std::string h = header.dump();
  uint64_t n = h.size();
  write_file_atomic(path, std::string(reinterpret_cast<const char*>(&n), 8) + h + data);
}

TEST(ModelCheckpoint, LoadsBf16AndRejectsUnreadDtypesByName) {
  TempDir tmp;
  Transformer m = tiny_model();
  std::vector<StTensor> w = export_weights(m);
  for (StTensor& t : w)
    for (float& x : t.data) {  // round to bf16-representable values
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      bits &= 0xFFFF0000u;
      std::memcpy(&x, &bits, 4);
    }
  write_with_dtype(tmp.file("bf16.safetensors"), w, "BF16");
  Transformer n(m.config());
  load_weights(n, load_safetensors(tmp.file("bf16.safetensors")));
  TensorSlots b = n.slots();
  for (size_t i = 0; i < w.size(); i++) EXPECT_EQ(b[i].tensor->to_vector(), w[i].data) << w[i].name;

  // I16 is a safetensors dtype r1 does not read (F16 and F8_E4M3 are: tests/test_checkpoint.cpp).
  write_with_dtype(tmp.file("i16.safetensors"), w, "I16");
  expect_error_contains([&] { load_weights(n, load_safetensors(tmp.file("i16.safetensors"))); },
                        {"i16.safetensors", "tensor 'model.embed_tokens.weight': dtype I16 is not supported"});
}

TEST(ModelCheckpoint, RejectsMissingUnexpectedAndMisshapedTensorsByName) {
  TempDir tmp;
  Transformer m = tiny_model();
  std::vector<StTensor> w = export_weights(m), bad;
  for (StTensor t : w) {
    if (t.name == "model.layers.1.mlp.experts.3.up_proj.weight") continue;  // missing
    if (t.name == "model.layers.0.self_attn.k_proj.weight") {               // (8, 16) -> (16, 8)
      t.shape = {16, 8};
    }
    bad.push_back(t);
  }
  bad.push_back({"model.layers.0.self_attn.q_a_proj.weight", {2, 2}, {1, 2, 3, 4}, ""});  // unexpected
  save_safetensors(tmp.file("bad.safetensors"), bad);
  Transformer n(m.config());
  expect_error_contains([&] { load_weights(n, load_safetensors(tmp.file("bad.safetensors"))); },
                        {"bad.safetensors", "3 problems",
                         "missing tensor 'model.layers.1.mlp.experts.3.up_proj.weight' (8, 16)",
                         "tensor 'model.layers.0.self_attn.k_proj.weight' has shape (16, 8) but the config needs (8, 16)",
                         "unexpected tensor 'model.layers.0.self_attn.q_a_proj.weight'"});
  // A directory without config.json names the file.
  expect_error_contains([&] { load_model(tmp.file("nowhere")); }, {"nowhere/config.json"});
}

}  // namespace
}  // namespace r1

namespace r1 {
namespace {

// --- r1 init / r1 bench train (when R1_BIN is set, as `make test` does) ----------------------

std::string run_output(const std::string& cmd, int* status) {
  FILE* p = popen((cmd + " 2>/dev/null").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = pclose(p);
  return out;
}

TEST(ModelCli, InitIsSeededAndCopiesTheTokenizer) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN not set (make test sets it to build/r1)";
  TempDir tmp;
  write_file_atomic(tmp.file("config.json"), kMoeJson);
  write_file_atomic(tmp.file("tok.json"), "{\"version\": \"1.0\"}");
  int st;
  std::string out = run_output(cat(bin, " init --config ", tmp.file("config.json"), " --out ", tmp.file("a"),
                                   " --tokenizer ", tmp.file("tok.json"), " --seed 3 --json"), &st);
  ASSERT_EQ(st, 0) << out;
  Json j = Json::parse(out);
  Config c = Config::from_json(Json::parse(kMoeJson));
  EXPECT_EQ(j.at("parameters").as_int(), c.num_parameters());
  EXPECT_EQ(j.at("active_parameters").as_int(), c.num_active_parameters());
  EXPECT_EQ(read_file(tmp.file("a/tokenizer.json")), "{\"version\": \"1.0\"}");
  run_output(cat(bin, " init --config ", tmp.file("config.json"), " --out ", tmp.file("b"), " --seed 3"), &st);
  ASSERT_EQ(st, 0);
  run_output(cat(bin, " init --config ", tmp.file("config.json"), " --out ", tmp.file("c"), " --seed 4"), &st);
  ASSERT_EQ(st, 0);
  EXPECT_EQ(read_file(tmp.file("a/model.safetensors")), read_file(tmp.file("b/model.safetensors")));
  EXPECT_NE(read_file(tmp.file("a/model.safetensors")), read_file(tmp.file("c/model.safetensors")));
  // In-process init with the same seed gives the same bytes.
  Transformer m(c);
  m.init_weights(3);
  save_model(tmp.file("d"), m);
  EXPECT_EQ(read_file(tmp.file("a/model.safetensors")), read_file(tmp.file("d/model.safetensors")));
  // A user mistake exits 2 with an error naming the field.
  write_file_atomic(tmp.file("bad.json"), R"({"model_type": "llama", "vocab_size": 8, "hidden_size": 8,
      "num_hidden_layers": 1, "num_attention_heads": 3, "intermediate_size": 8})");
  FILE* p = popen(cat(bin, " init --config ", tmp.file("bad.json"), " --out ", tmp.file("e"), " 2>&1").c_str(), "r");
  char buf[1024] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int rc = pclose(p);
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  EXPECT_NE(std::string(buf, n).find("num_attention_heads"), std::string::npos) << buf;
}

TEST(ModelCli, BenchTrainPrintsThroughput) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN not set (make test sets it to build/r1)";
  TempDir tmp;
  Transformer m(Config::from_json(Json::parse(kMoeJson)));
  m.init_weights(1);
  save_model(tmp.file("m"), m);
  int st;
  std::string out = run_output(cat(bin, " bench train --model ", tmp.file("m"), " --batch 2 --seq 8 --steps 2 --threads 1 --json"), &st);
  ASSERT_EQ(st, 0) << out;
  Json j = Json::parse(out);
  EXPECT_GT(j.at("tokens_per_s").as_number(), 0.0);
  EXPECT_GT(j.at("ms_per_step").as_number(), 0.0);
  EXPECT_NEAR(j.at("mean_loss").as_number(), std::log(40.0), 0.5);  // random tokens, near-uniform init
}

}  // namespace
}  // namespace r1
