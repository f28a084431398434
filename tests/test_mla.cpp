// Tests for multi-head latent attention (src/model/mla.h): finite-difference gradients of the
// training form, the absorbed cached form against the naive form, cached decode (with padding,
// chunks and compact_cache) against the full forward, the compressed cache layout, checkpoint
// names / config fields / parameter counts, and logits + gradients of two fixture models against
// a float64 PyTorch transcription of Hugging Face's DeepseekV3Attention
// (data/fixtures/model/make_reference.py, cases mla_lora and mla_qproj), in-process and through
// `r1 forward` / `r1 grad` (when R1_BIN is set, as `make test` does).
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <functional>

#include "test_util.h"
#include "autograd/autograd.h"
#include "gradcheck.h"
#include "model/checkpoint.h"
#include "model/mla.h"
#include "sample/generate.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {
namespace {

using r1::testing::expect_close;
using r1::testing::model_fixture;

using r1::testing::OneThread;
using r1::testing::expect_rows_near;
using r1::testing::random_tokens;


using testing::expect_gradients_match;
using testing::rand_input;


// dn != dv and R + dr differs from every other width so a transposed weight cannot pass.
Config mla_config(bool q_lora) {
  Config c;
  c.model_type = "deepseek_v3";
  c.vocab_size = 13;
  c.hidden_size = 8;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 2;
  c.intermediate_size = 12;
  c.q_lora_rank = q_lora ? 5 : 0;
  c.kv_lora_rank = 6;
  c.qk_nope_head_dim = 4;
  c.qk_rope_head_dim = 4;
  c.v_head_dim = 3;
  c.head_dim = 4;
  c.initializer_range = 0.3;
  return c;
}

Config mla_moe_config() {
  Config c = mla_config(true);
  c.moe_intermediate_size = 6;
  c.n_routed_experts = 4;
  c.n_shared_experts = 1;
  c.num_experts_per_tok = 2;
  c.first_k_dense_replace = 1;
  return c;
}

// The module's weights in collect() order; norms near 1, others uniform(-0.5, 0.5).
std::vector<Tensor*> weights_of(Mla& m) {
  TensorSlots slots;
  m.collect("", slots);
  std::vector<Tensor*> out;
  for (const TensorSlot& s : slots) out.push_back(s.tensor);
  return out;
}

void randomize(Mla& m, uint64_t seed) {
  TensorSlots slots;
  m.collect("", slots);
  for (size_t i = 0; i < slots.size(); i++) {
    bool norm = slots[i].name.find("norm") != std::string::npos;
    *slots[i].tensor = rand_input(slots[i].tensor->shape(), seed + i, norm ? 0.5f : -0.5f, norm ? 1.5f : 0.5f);
  }
}

// --- gradients ------------------------------------------------------------------------------

// Every weight and the input of the training form against central differences (gradcheck.h's
// default tolerance, derived there). Positions differ per row to exercise per-sequence RoPE.
TEST(MlaGrad, TrainingFormMatchesFiniteDifferences) {
  OneThread one;
  for (bool q_lora : {true, false}) {
    SCOPED_TRACE(q_lora ? "q_lora" : "q_proj");
    Config c = mla_config(q_lora);
    Mla m(c);
    randomize(m, 100);
    std::vector<Tensor> inputs = {rand_input({2, 3, c.hidden_size}, 7)};
    for (Tensor* w : weights_of(m)) inputs.push_back(*w);
    const Ids positions = {3, 4, 5, 0, 1, 2};
    auto f = [&](const std::vector<Tensor>& in) {
      Mla mm(c);
      std::vector<Tensor*> ws = weights_of(mm);
      for (size_t i = 0; i < ws.size(); i++) *ws[i] = in[i + 1];
      return mm.forward(in[0], positions);
    };
    expect_gradients_match(f, inputs);
  }
}

// --- absorbed (cached) form vs naive form ---------------------------------------------------

// Tolerance 2e-5: the same sums in a different order (W_uk folded into the query, W_uv applied
// after the softmax average), outputs O(1), float32 rounding ~1e-6.
TEST(MlaAbsorbed, EqualsNaiveFormForPrefillAndDecode) {
  OneThread one;
  for (bool q_lora : {true, false}) {
    SCOPED_TRACE(q_lora ? "q_lora" : "q_proj");
    NoGradGuard guard;
    Config c = mla_config(q_lora);
    Mla m(c);
    randomize(m, 200);
    const int64_t B = 2, T = 5, D = c.hidden_size;
    Rng rng(3);
    Tensor x = Tensor::uniform({B, T, D}, rng, -1, 1);
    const Ids pos = {0, 1, 2, 3, 4};
    std::vector<float> naive = m.forward(x, pos).to_vector();  // (B, T, D)

    LayerKV whole;
    std::vector<float> absorbed = m.forward(x, pos, &whole).to_vector();
    ASSERT_EQ(absorbed.size(), naive.size());
    for (size_t i = 0; i < naive.size(); i++) EXPECT_NEAR(absorbed[i], naive[i], 2e-5) << "prefill element " << i;
    // The cache is the latent only: (B, 1, C, R + dr) with C = T after one prefill, no values.
    EXPECT_EQ(whole.k.shape(), (Shape{B, 1, T, c.kv_lora_rank + c.qk_rope_head_dim}));
    EXPECT_EQ(whole.slots, T);
    EXPECT_FALSE(whole.v.defined());

    // Prefill 3 tokens, then decode 2 one at a time.
    std::vector<float> xs = x.to_vector();
    auto slice = [&](int64_t t0, int64_t n) {  // x[:, t0:t0+n, :]
      std::vector<float> v;
      for (int64_t b = 0; b < B; b++)
        v.insert(v.end(), xs.begin() + (b * T + t0) * D, xs.begin() + (b * T + t0 + n) * D);
      return Tensor::from_vector({B, n, D}, v);
    };
    LayerKV cache;
    std::vector<std::pair<int64_t, int64_t>> steps = {{0, 3}, {3, 1}, {4, 1}};
    for (auto [t0, n] : steps) {
      Ids p(static_cast<size_t>(n));
      for (int64_t t = 0; t < n; t++) p[size_t(t)] = int32_t(t0 + t);
      std::vector<float> y = m.forward(slice(t0, n), p, &cache).to_vector();
      for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < n; t++)
          for (int64_t d = 0; d < D; d++)
            EXPECT_NEAR(y[size_t((b * n + t) * D + d)], naive[size_t((b * T + t0 + t) * D + d)], 2e-5)
                << "step at " << t0 << " b " << b << " t " << t;
    }
  }
}

// The cached k_rope of the token at position 1, computed by hand in HF's interleaved layout:
// kv_a_proj's last dr outputs permuted to (x0, x2, x1, x3), then rotate-half by 1 * theta^(-2i/dr).
// (The fixture test checks the same convention end to end against HF's code.) Tolerance 1e-6:
// a handful of float32 operations on O(1) values.
TEST(MlaRope, KeyRopePartIsRotatedInHfInterleavedLayout) {
  NoGradGuard guard;
  Config c = mla_config(false);
  Mla m(c);
  randomize(m, 300);
  const int64_t B = 1, T = 2, D = c.hidden_size, R = c.kv_lora_rank, dr = c.qk_rope_head_dim;
  Rng rng(5);
  Tensor x = Tensor::uniform({B, T, D}, rng, -1, 1);
  LayerKV cache;
  m.forward(x, {0, 1}, &cache);
  std::vector<float> kva = linear(x, m.wkv_a).to_vector();  // (1, 2, R + dr)
  const float* raw = &kva[size_t((R + dr) + R)];             // token 1's k_rope, checkpoint layout
  std::vector<double> perm = {raw[0], raw[2], raw[1], raw[3]};
  std::vector<double> expect(4);
  for (int i = 0; i < 2; i++) {
    double ang = 1.0 * std::pow(c.rope_theta, -2.0 * i / double(dr));
    expect[size_t(i)] = perm[size_t(i)] * std::cos(ang) - perm[size_t(i + 2)] * std::sin(ang);
    expect[size_t(i + 2)] = perm[size_t(i + 2)] * std::cos(ang) + perm[size_t(i)] * std::sin(ang);
  }
  std::vector<float> k = cache.k.to_vector();  // (1, 1, 2, R + dr)
  for (int j = 0; j < 4; j++) EXPECT_NEAR(k[size_t((R + dr) + R + j)], expect[size_t(j)], 1e-6) << "dim " << j;
}

// --- the whole model: cached decode vs full forward ------------------------------------------



// Two sequences of different lengths share a batch (right-padded prefill, decode steps, one
// finished), then the batch is compacted to sequence 1 and decoding continues. Each logit row
// must equal the full (naive, uncompressed) forward of that sequence alone. Tolerance 1e-4:
// the same math in another order through two layers, logits O(1).
TEST(MlaCache, BatchedDecodeWithCompactionEqualsFullForward) {
  OneThread one;
  Config c = mla_moe_config();
  Transformer m(c);
  m.init_weights(21);
  const int64_t V = c.vocab_size;
  Ids a = random_tokens(7, V, 1), b = random_tokens(8, V, 2);
  std::vector<float> full_a, full_b;
  {
    NoGradGuard g;
    full_a = m.forward(a, 1, 7).logits.to_vector();
    full_b = m.forward(b, 1, 8).logits.to_vector();
  }
  KVCache cache = m.new_cache(2);
  Ids pre = {a[0], a[1], a[2], a[3], b[0], b[1], 0, 0};  // a: 4 tokens, b: 2 + 2 padding
  std::vector<float> lp = m.forward_cached(pre, 2, 4, cache, {1, 1, 1, 1, 1, 1, 0, 0}).to_vector();
  for (int t = 0; t < 4; t++) expect_rows_near(lp, t, full_a, t, V, cat("prefill a t=", t));
  for (int t = 0; t < 2; t++) expect_rows_near(lp, 4 + t, full_b, t, V, cat("prefill b t=", t));
  for (int step = 0; step < 3; step++) {
    std::vector<float> ld = m.forward_cached({a[size_t(4 + step)], b[size_t(2 + step)]}, 2, 1, cache).to_vector();
    expect_rows_near(ld, 0, full_a, 4 + step, V, cat("decode a step ", step));
    expect_rows_near(ld, 1, full_b, 2 + step, V, cat("decode b step ", step));
  }
  // Every layer's cache is the latent only: 7 slots filled of a capacity grown 4 -> 8.
  for (const LayerKV& l : cache.layers) {
    EXPECT_EQ(l.k.shape(), (Shape{2, 1, 8, c.kv_lora_rank + c.qk_rope_head_dim}));
    EXPECT_EQ(l.slots, 7);
    EXPECT_FALSE(l.v.defined());
  }
  // a is done: keep only b and continue it (chunk of 2, then 1).
  compact_cache(cache, {1});
  std::vector<float> lc = m.forward_cached({b[5], b[6]}, 1, 2, cache).to_vector();
  expect_rows_near(lc, 0, full_b, 5, V, "after compaction t=5");
  expect_rows_near(lc, 1, full_b, 6, V, "after compaction t=6");
  std::vector<float> ll = m.forward_cached({b[7]}, 1, 1, cache).to_vector();
  expect_rows_near(ll, 0, full_b, 7, V, "after compaction t=7");
  EXPECT_EQ(cache.length, (std::vector<int32_t>{8}));
}

// --- checkpoint names, config, counts -------------------------------------------------------

TEST(MlaCheckpoint, NamesShapesAndRoundTrip) {
  for (bool q_lora : {true, false}) {
    Config c = mla_config(q_lora);
    Transformer m(c);
    m.init_weights(4);
    std::vector<std::pair<std::string, Shape>> got;
    int64_t total = 0;
    for (const TensorSlot& s : m.slots()) {
      if (s.name.rfind("model.layers.0.self_attn.", 0) == 0) got.push_back({s.name, s.tensor->shape()});
      total += s.tensor->numel();
    }
    const std::string p = "model.layers.0.self_attn.";
    std::vector<std::pair<std::string, Shape>> want;
    if (q_lora) {
      want = {{p + "q_a_proj.weight", {5, 8}}, {p + "q_a_layernorm.weight", {5}}, {p + "q_b_proj.weight", {16, 5}}};
    } else {
      want = {{p + "q_proj.weight", {16, 8}}};
    }
    want.push_back({p + "kv_a_proj_with_mqa.weight", {10, 8}});
    want.push_back({p + "kv_a_layernorm.weight", {6}});
    want.push_back({p + "kv_b_proj.weight", {14, 6}});
    want.push_back({p + "o_proj.weight", {8, 6}});
    EXPECT_EQ(got, want);
    EXPECT_EQ(c.num_parameters(), total);
    EXPECT_EQ(c.num_active_parameters(), total);

    // Save + load: bit-exact weights, config fields survive, HF's head_dim = qk_rope_head_dim.
    TempDir tmp;
    save_model(tmp.file("m"), m, "");
    Json cj = Json::parse_file(tmp.file("m/config.json"));
    EXPECT_EQ(cj["kv_lora_rank"].as_int(), 6);
    if (q_lora) EXPECT_EQ(cj["q_lora_rank"].as_int(), 5);
    else EXPECT_TRUE(cj["q_lora_rank"].is_null());
    Transformer l = load_model(tmp.file("m"));
    EXPECT_EQ(l.config().qk_nope_head_dim, 4);
    EXPECT_EQ(l.config().v_head_dim, 3);
    EXPECT_EQ(l.config().head_dim, 4);
    TensorSlots a = m.slots(), b = l.slots();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); i++) EXPECT_EQ(a[i].tensor->to_vector(), b[i].tensor->to_vector()) << a[i].name;
  }
}

void expect_error_contains(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "no error; expected one containing: " << needles[0];
  } catch (const Error& e) {
    for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

TEST(MlaConfig, FieldsAreValidatedByName) {
  const char* base = R"({"model_type": "deepseek_v3", "vocab_size": 16, "hidden_size": 8, "num_hidden_layers": 1,
    "num_attention_heads": 2, "intermediate_size": 8, "q_lora_rank": null, "kv_lora_rank": 6,
    "qk_nope_head_dim": 4, "qk_rope_head_dim": 4, "v_head_dim": 3})";
  auto with = [&](const std::string& key, const Json& v) {
    Json j = Json::parse(base);
    j[key] = v;
    return j;
  };
  Config c = Config::from_json(Json::parse(base));
  EXPECT_TRUE(c.is_mla());
  EXPECT_EQ(c.q_lora_rank, 0);
  EXPECT_EQ(c.head_dim, 4);
  // Without kv_lora_rank a deepseek_v3 config is GQA, and the other MLA fields are then refused.
  expect_error_contains([&] { Config::from_json(with("kv_lora_rank", Json())); },
                        {"q_lora_rank", "need kv_lora_rank"});
  expect_error_contains([&] { Config::from_json(with("qk_rope_head_dim", 3)); }, {"qk_rope_head_dim", "even"});
  expect_error_contains([&] { Config::from_json(with("v_head_dim", 0)); }, {"v_head_dim", "> 0"});
  expect_error_contains([&] { Config::from_json(with("attention_bias", true)); }, {"attention_bias", "MLA"});
  expect_error_contains([&] { Config::from_json(with("rope_scaling", Json::parse(R"({"type": "yarn"})"))); },
                        {"rope_scaling.factor", "required", "yarn"});
  expect_error_contains([&] { Config::from_json(with("model_type", "llama")); }, {"kv_lora_rank", "llama"});
  EXPECT_TRUE(Config::from_json(with("rope_interleave", true)).is_mla());
  expect_error_contains([&] { Config::from_json(with("rope_interleave", false)); }, {"rope_interleave", "only true"});
}

// --- against PyTorch ------------------------------------------------------------------------



// Tolerances as tests/test_model_reference.cpp (float32 vs a float64 reference from the same
// float32 weights): logits 2e-5 + 1e-4 relative, gradients 2e-5 + 1e-3 relative. The cached
// (absorbed) logits get the same bound.
TEST(MlaReference, LogitsGradientsAndCachedLogitsMatchPyTorch) {
  for (const char* name : {"mla_lora", "mla_qproj"}) {
    SCOPED_TRACE(name);
    Transformer m = load_model(model_fixture(name));
    ASSERT_TRUE(m.config().is_mla());
    SafetensorsFile ref = load_safetensors(model_fixture(name) + "/reference.safetensors");
    Ids ids;
    for (float t : ref.at("tokens").data) ids.push_back(int32_t(t));
    const int64_t T = int64_t(ids.size());
    ModelOutput o = m.forward(ids, 1, T);
    expect_close(o.logits.to_vector(), ref.at("logits").data, 2e-5, 1e-4, "logits");
    Tensor loss = lm_loss(o, next_token_targets(ids, 1, T));
    EXPECT_NEAR(loss.item(), ref.at("loss").data[0], 1e-5);
    backward(loss);
    int checked = 0, in_ref = 0;
    for (const auto& [pname, p] : m.parameters()) {
      ASSERT_TRUE(p.grad().defined()) << pname;
      expect_close(p.grad().to_vector(), ref.at("grad." + pname).data, 2e-5, 1e-3, "grad " + pname);
      checked++;
    }
    for (const StTensor& t : ref.tensors) in_ref += t.name.rfind("grad.", 0) == 0;
    EXPECT_EQ(checked, in_ref);

    // The compressed cache: prefill half, decode the rest one token at a time.
    KVCache cache = m.new_cache(1);
    std::vector<float> cached = m.forward_cached(Ids(ids.begin(), ids.begin() + T / 2), 1, T / 2, cache).to_vector();
    for (int64_t t = T / 2; t < T; t++) {
      std::vector<float> l = m.forward_cached({ids[size_t(t)]}, 1, 1, cache).to_vector();
      cached.insert(cached.end(), l.begin(), l.end());
    }
    expect_close(cached, ref.at("logits").data, 2e-5, 1e-4, "cached logits");
  }
}

// `r1 forward` and `r1 grad` write the reference numbers for the MLA fixtures too (same bounds).
TEST(MlaReference, CliForwardAndGradWriteTheReferenceNumbers) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN not set (make test sets it to build/r1)";
  TempDir tmp;
  for (const char* name : {"mla_lora", "mla_qproj"}) {
    SCOPED_TRACE(name);
    SafetensorsFile ref = load_safetensors(model_fixture(name) + "/reference.safetensors");
    std::string toks;
    for (float t : ref.at("tokens").data) toks += (toks.empty() ? "" : ",") + std::to_string(int(t));
    std::string lf = tmp.file(cat(name, "_logits.safetensors")), gf = tmp.file(cat(name, "_grads.safetensors"));
    ASSERT_EQ(std::system(cat(bin, " forward --model ", model_fixture(name), " --tokens ", toks, " --out ", lf, " > /dev/null").c_str()), 0);
    ASSERT_EQ(std::system(cat(bin, " grad --model ", model_fixture(name), " --tokens ", toks, " --out ", gf, " > /dev/null").c_str()), 0);
    expect_close(load_safetensors(lf).at("logits").data, ref.at("logits").data, 2e-5, 1e-4, "r1 forward");
    SafetensorsFile grads = load_safetensors(gf);
    int n = 0, in_ref = 0;
    for (const StTensor& g : grads.tensors) {
      expect_close(g.data, ref.at("grad." + g.name).data, 2e-5, 1e-3, "r1 grad " + g.name);
      n++;
    }
    for (const StTensor& t : ref.tensors) in_ref += t.name.rfind("grad.", 0) == 0;
    EXPECT_EQ(n, in_ref);
  }
}

}  // namespace
}  // namespace r1
