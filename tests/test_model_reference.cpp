// r1's model against an independent float64 PyTorch implementation written from Hugging Face's
// modeling code (data/fixtures/model/make_reference.py): logits, loss and every parameter
// gradient of three fixture models (DeepSeek-V3-style MoE with sigmoid group-limited routing
// and balance loss; softmax greedy routing with tied embeddings and qkv bias; a dense qwen2) and
// of the four released-family fixtures (test_model_families.cpp: R1-Distill-Qwen, R1-Distill-Llama
// with llama3 RoPE, Qwen3 with q/k norm and YaRN, DeepSeek-V3 with q_lora, YaRN and MTP tensors),
// so the scaled RoPE and the q/k norms are checked in training (autograd) too.
// Also runs `r1 forward` and `r1 grad` on them (when R1_BIN is set, as `make test` does) and
// checks the written files against the same numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "test_util.h"
#include "autograd/autograd.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {
namespace {

using r1::testing::expect_close;
using r1::testing::model_fixture;


const char* kCases[] = {"moe_sigmoid", "moe_softmax", "dense_qwen2", "distill_qwen2", "distill_llama", "qwen3",
                        "deepseek_v3"};

Ids fixture_tokens(const SafetensorsFile& ref) {
  Ids ids;
  for (float t : ref.at("tokens").data) ids.push_back(int32_t(t));
  return ids;
}


// Tolerances: the reference is float64 from the same float32 weights; r1 computes in float32.
// Logits are O(3) after ~3 layers of O(1) activations: float32 rounding accumulates to ~1e-6
// relative, so 2e-5 absolute + 1e-4 relative leaves a margin of 10x. Gradients are O(1e-3 .. 1)
// and go through twice as many float32 steps: 2e-5 absolute + 1e-3 relative.
const double kLogitAtol = 2e-5, kLogitRtol = 1e-4, kGradAtol = 2e-5, kGradRtol = 1e-3;

TEST(ModelReference, LogitsLossAndGradientsMatchPyTorch) {
  for (const char* name : kCases) {
    SCOPED_TRACE(name);
    Transformer m = load_model(model_fixture(name));
    SafetensorsFile ref = load_safetensors(model_fixture(name) + "/reference.safetensors");
    Ids ids = fixture_tokens(ref);
    const int64_t T = int64_t(ids.size());
    ModelOutput o = m.forward(ids, 1, T);
    expect_close(o.logits.to_vector(), ref.at("logits").data, kLogitAtol, kLogitRtol, cat(name, " logits"));
    Tensor loss = lm_loss(o, next_token_targets(ids, 1, T));
    EXPECT_NEAR(loss.item(), ref.at("loss").data[0], 1e-5) << name;
    if (o.aux_loss.defined()) EXPECT_NEAR(o.aux_loss.item(), ref.at("aux_loss").data[0], 1e-6) << name;
    else EXPECT_EQ(ref.at("aux_loss").data[0], 0.0f) << name;
    backward(loss);
    int checked = 0;
    for (const auto& [pname, p] : m.parameters()) {
      std::vector<float> g = p.grad().defined() ? p.grad().to_vector() : std::vector<float>(size_t(p.numel()), 0.0f);
      expect_close(g, ref.at("grad." + pname).data, kGradAtol, kGradRtol, cat(name, " grad ", pname));
      checked++;
    }
    // Every reference gradient has a parameter (none missing from parameters()).
    int in_ref = 0;
    for (const StTensor& t : ref.tensors) in_ref += t.name.rfind("grad.", 0) == 0;
    EXPECT_EQ(checked, in_ref);
  }
}

// --- the CLI ------------------------------------------------------------------------------

int run(const std::string& cmd) { return std::system((cmd + " > /dev/null").c_str()); }

TEST(ModelReference, CliForwardAndGradWriteTheReferenceNumbers) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN not set (make test sets it to build/r1)";
  TempDir tmp;
  for (const char* name : kCases) {
    SCOPED_TRACE(name);
    SafetensorsFile ref = load_safetensors(model_fixture(name) + "/reference.safetensors");
    std::string toks;
    for (int32_t t : fixture_tokens(ref)) toks += (toks.empty() ? "" : ",") + std::to_string(t);
    std::string dir = model_fixture(name), lf = tmp.file(cat(name, "_logits.safetensors")),
                gf = tmp.file(cat(name, "_grads.safetensors"));
    ASSERT_EQ(run(cat(bin, " forward --model ", dir, " --tokens ", toks, " --out ", lf, " --json")), 0);
    ASSERT_EQ(run(cat(bin, " grad --model ", dir, " --tokens ", toks, " --out ", gf, " --json")), 0);
    SafetensorsFile logits = load_safetensors(lf), grads = load_safetensors(gf);
    EXPECT_EQ(logits.at("logits").shape, ref.at("logits").shape);
    expect_close(logits.at("logits").data, ref.at("logits").data, kLogitAtol, kLogitRtol, cat(name, " r1 forward"));
    int n = 0;
    for (const StTensor& g : grads.tensors) {
      expect_close(g.data, ref.at("grad." + g.name).data, kGradAtol, kGradRtol, cat(name, " r1 grad ", g.name));
      n++;
    }
    int in_ref = 0;
    for (const StTensor& t : ref.tensors) in_ref += t.name.rfind("grad.", 0) == 0;
    EXPECT_EQ(n, in_ref);
  }
}

}  // namespace
}  // namespace r1
