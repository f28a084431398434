// Tests for train/optim and train/schedule: two AdamW steps worked out by hand (with and
// without weight decay and clipping), the decay rule, skipped parameters, gradient clipping,
// state export/import through optimizer.safetensors, and schedule values at known points.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "autograd/autograd.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/fs.h"

using r1::AdamW;
using r1::AdamWConfig;
using r1::Tensor;

// Hand values below are computed in exact (double) arithmetic; the optimizer runs in float32,
// whose ulp at 2.0 is 2.4e-7, and a few roundings accumulate over two steps.
static const float kTol = 1e-6f;

// Replaces p's grad with g (as a backward pass would have produced it).
static void set_grad(Tensor p, const std::vector<float>& g) {
  p.set_requires_grad(true);
  p.zero_grad();
  r1::accumulate_grad(p, Tensor::from_vector(p.shape(), g));
}

static AdamWConfig hand_config(float wd) {
  AdamWConfig c;
  c.lr = 0.1f;
  c.beta1 = 0.9f;
  c.beta2 = 0.999f;
  c.eps = 1e-8f;
  c.weight_decay = wd;
  return c;
}

static void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); i++) EXPECT_NEAR(got[i], want[i], kTol) << "index " << i;
}

// --- AdamW by hand ---------------------------------------------------------------------------

// p0 = [1, -2], lr 0.1, beta1 0.9, beta2 0.999, eps 1e-8; g1 = [0.5, -1], g2 = [-0.25, 2].
// Step 1: m = 0.1 g1 = [0.05, -0.1], v = 0.001 g1^2 = [0.00025, 0.001]
//         mhat = m / 0.1 = [0.5, -1], vhat = v / 0.001 = [0.25, 1]
//         p -= 0.1 * mhat / (sqrt(vhat) + eps) = 0.1 * [1, -1]  ->  p1 = [0.9, -1.9]
// Step 2: m = 0.9 m + 0.1 g2 = [0.02, 0.11], v = 0.999 v + 0.001 g2^2 = [0.00031225, 0.004999]
//         mhat = m / 0.19 = [0.1052631579, 0.5789473684]
//         vhat = v / 0.001999 = [0.1562031016, 2.5007503752]
//         p -= 0.1 * mhat / (sqrt(vhat) + eps) = [0.0266337, 0.0366104]
//         -> p2 = [0.873366299, -1.936610353]
TEST(Optim, AdamWTwoStepsByHand) {
  Tensor p = Tensor::from_vector({2}, {1.0f, -2.0f});
  AdamW opt({{"w", p}}, hand_config(0.0f));
  set_grad(p, {0.5f, -1.0f});
  opt.step();
  expect_near(p.to_vector(), {0.9f, -1.9f});
  set_grad(p, {-0.25f, 2.0f});
  opt.step();
  expect_near(p.to_vector(), {0.873366299f, -1.936610353f});
  EXPECT_EQ(opt.step_count("w"), 2);
}

// Same with weight_decay 0.1 on a decayed (2-D) parameter: before each Adam update
// p *= 1 - lr * wd = 0.99.
// Step 1: [0.99, -1.98] - 0.1 * [1, -1] = [0.89, -1.88]
// Step 2: [0.8811, -1.8612] - [0.0266337, 0.0366104] = [0.854466299, -1.897810353]
// A 1-D parameter (a norm weight) with the same grads is not decayed.
TEST(Optim, AdamWWeightDecayIsDecoupledAndPerParameter) {
  Tensor w = Tensor::from_vector({1, 2}, {1.0f, -2.0f});
  Tensor norm = Tensor::from_vector({2}, {1.0f, -2.0f});
  AdamW opt({{"model.layers.0.mlp.w", w}, {"model.norm.weight", norm}}, hand_config(0.1f));
  EXPECT_TRUE(opt.decays("model.layers.0.mlp.w"));
  EXPECT_FALSE(opt.decays("model.norm.weight"));
  for (const auto& g : std::vector<std::vector<float>>{{0.5f, -1.0f}, {-0.25f, 2.0f}}) {
    set_grad(w, g);
    set_grad(norm, g);
    opt.step();
  }
  expect_near(w.to_vector(), {0.854466299f, -1.897810353f});
  expect_near(norm.to_vector(), {0.873366299f, -1.936610353f});
}

// Clipping at max_norm 1 before each step. g1 = [3, 4] has norm 5 -> scaled by 1 / (5 + 1e-6)
// to [0.59999988, 0.79999984]; g2 = [0, 0.5] has norm 0.5 and is left alone.
// Step 1 (Adam's first step is scale-free): p1 = [0.9, -2.1].
// Step 2: m = [0.0539999892, 0.1219999856], v = [0.000359639856, 0.000889359744]
//         mhat = [0.2842104695, 0.6421051874], vhat = [0.1799098830, 0.4449023233]
//         -> p2 = [0.832994178, -2.196266200]
// Without clipping step 2 would give p2[1] = -2.175722314 (m, v keep g1's scale).
TEST(Optim, AdamWWithGradientClippingByHand) {
  Tensor p = Tensor::from_vector({2}, {1.0f, -2.0f});
  AdamW opt({{"w", p}}, hand_config(0.0f));
  set_grad(p, {3.0f, 4.0f});
  EXPECT_NEAR(r1::clip_grad_norm({p}, 1.0f), 5.0f, 1e-6f);
  expect_near(p.grad().to_vector(), {0.59999988f, 0.79999984f});
  opt.step();
  expect_near(p.to_vector(), {0.9f, -2.1f});
  set_grad(p, {0.0f, 0.5f});
  EXPECT_NEAR(r1::clip_grad_norm({p}, 1.0f), 0.5f, 1e-7f);
  expect_near(p.grad().to_vector(), {0.0f, 0.5f});
  opt.step();
  expect_near(p.to_vector(), {0.832994178f, -2.196266200f});
}

TEST(Optim, ClipGradNormSpansTensorsAndSkipsMissingGrads) {
  Tensor a = Tensor::from_vector({1}, {0.0f});
  Tensor b = Tensor::from_vector({2}, {0.0f, 0.0f});
  Tensor none = Tensor::from_vector({3}, {0.0f, 0.0f, 0.0f});  // no grad
  set_grad(a, {2.0f});
  set_grad(b, {-4.0f, 4.0f});  // global norm sqrt(4 + 16 + 16) = 6
  EXPECT_NEAR(r1::clip_grad_norm({a, b, none}, 0.0f), 6.0f, 1e-6f);  // max_norm 0: measure only
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{-4.0f, 4.0f}));
  EXPECT_NEAR(r1::clip_grad_norm({a, b, none}, 3.0f), 6.0f, 1e-6f);
  expect_near(a.grad().to_vector(), {1.0f});            // scale 3 / (6 + 1e-6)
  expect_near(b.grad().to_vector(), {-2.0f, 2.0f});
  EXPECT_FALSE(none.grad().defined());
  set_grad(a, {std::nanf("")});
  std::vector<float> before = b.grad().to_vector();
  EXPECT_TRUE(std::isnan(r1::clip_grad_norm({a, b}, 1.0f)));
  EXPECT_EQ(b.grad().to_vector(), before);  // untouched
}

TEST(Optim, ParametersWithoutGradAreSkipped) {
  Tensor a = Tensor::from_vector({2}, {1.0f, 2.0f});
  Tensor b = Tensor::from_vector({2}, {3.0f, 4.0f});
  AdamW opt({{"a", a}, {"b", b}}, hand_config(0.1f));
  set_grad(a, {1.0f, 1.0f});
  opt.step();
  EXPECT_EQ(b.to_vector(), (std::vector<float>{3.0f, 4.0f}));  // not even decayed
  EXPECT_EQ(opt.step_count("a"), 1);
  EXPECT_EQ(opt.step_count("b"), 0);
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optim, DefaultDecayRule) {
  EXPECT_TRUE(r1::default_decay_rule("model.layers.0.self_attn.q_proj.weight", Tensor::zeros({4, 4})));
  EXPECT_FALSE(r1::default_decay_rule("model.embed_tokens.weight", Tensor::zeros({8, 4})));
  EXPECT_FALSE(r1::default_decay_rule("model.layers.0.input_layernorm.weight", Tensor::zeros({4})));
  EXPECT_FALSE(r1::default_decay_rule("model.layers.0.mlp.gate.e_score_correction_bias", Tensor::zeros({4})));
  auto decay_nothing = [](const std::string&, const Tensor&) { return false; };
  Tensor w = Tensor::from_vector({1, 1}, {1.0f});
  AdamW opt({{"w", w}}, hand_config(0.5f), decay_nothing);
  EXPECT_FALSE(opt.decays("w"));
}

TEST(Optim, RejectsBadConstruction) {
  Tensor p = Tensor::zeros({2});
  EXPECT_THROW(AdamW({{"a", p}, {"a", p}}, AdamWConfig()), r1::Error);
  EXPECT_THROW(AdamW({{"a", Tensor()}}, AdamWConfig()), r1::Error);
  AdamWConfig bad;
  bad.beta2 = 1.0f;
  try {
    AdamW({{"a", p}}, bad);
    FAIL();
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("beta2"), std::string::npos) << e.what();
  }
  AdamW opt({{"a", p}}, AdamWConfig());
  EXPECT_THROW(opt.decays("b"), r1::Error);
}

// --- state for checkpoints ----------------------------------------------------------------

TEST(Optim, StateRoundTripResumesBitwise) {
  Tensor w = Tensor::from_vector({2, 2}, {0.1f, -0.2f, 0.3f, -0.4f});
  Tensor b = Tensor::from_vector({2}, {0.5f, 0.6f});
  AdamWConfig cfg;
  cfg.lr = 0.01f;
  AdamW opt({{"w", w}, {"b", b}}, cfg);
  for (int s = 0; s < 3; s++) {
    set_grad(w, {0.1f * s, -0.2f, 0.3f, 1.0f});
    if (s != 1) set_grad(b, {0.05f, -0.05f});  // b misses step 1: its step count is 2
    else b.zero_grad();
    opt.step();
  }
  r1::TempDir tmp;
  std::string path = tmp.file("optimizer.safetensors");
  opt.save_state(path);

  // A resumed run: same parameter values, fresh optimizer, state loaded from the file.
  Tensor w2 = w.clone(), b2 = b.clone();
  AdamW opt2({{"w", w2}, {"b", b2}}, cfg);
  opt2.load_state(path);
  EXPECT_EQ(opt2.step_count("w"), 3);
  EXPECT_EQ(opt2.step_count("b"), 2);
  for (auto* pair : {&w, &w2}) set_grad(*pair, {0.7f, 0.1f, -0.3f, 0.2f});
  for (auto* pair : {&b, &b2}) set_grad(*pair, {-0.1f, 0.3f});
  opt.step();
  opt2.step();
  std::vector<float> x = w.to_vector(), y = w2.to_vector();
  EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * 4), 0);
  x = b.to_vector(), y = b2.to_vector();
  EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size() * 4), 0);

  // The file holds the documented entries.
  r1::SafetensorsFile f = r1::load_safetensors(path);
  EXPECT_EQ(f.metadata.at("optimizer"), "adamw");
  EXPECT_EQ(f.tensors.size(), 6u);
  EXPECT_EQ(f.at("w.exp_avg_sq").shape, (r1::Shape{2, 2}));
  EXPECT_EQ(f.at("b.step").data, std::vector<float>{2.0f});
}

TEST(Optim, ImportRejectsMismatchedState) {
  Tensor w = Tensor::zeros({2, 2});
  AdamW opt({{"w", w}}, AdamWConfig());
  std::vector<r1::StTensor> good = opt.export_state();
  auto expect_msg = [&](std::vector<r1::StTensor> state, const std::string& needle) {
    try {
      opt.import_state(state, "ckpt/optimizer.safetensors");
      FAIL() << "accepted; expected: " << needle;
    } catch (const r1::Error& e) {
      EXPECT_NE(std::string(e.what()).find("ckpt/optimizer.safetensors: " + needle), std::string::npos) << e.what();
    }
  };
  auto missing = good;
  missing.erase(missing.begin() + 1);
  expect_msg(missing, "missing optimizer state 'w.exp_avg_sq'");
  auto reshaped = good;
  reshaped[0].shape = {4};
  expect_msg(reshaped, "optimizer state 'w.exp_avg' has shape (4,), expected (2, 2)");
  auto extra = good;
  extra.push_back({"v.exp_avg", {1}, {0.0f}, ""});
  expect_msg(extra, "optimizer state 'v.exp_avg' belongs to no parameter");
  auto badstep = good;
  badstep[2].data = {1.5f};
  expect_msg(badstep, "optimizer state 'w.step' is not a valid step count: 1.5");
  opt.import_state(good, "x");  // the good state still loads

  r1::TempDir tmp;
  r1::save_safetensors(tmp.file("m.safetensors"), good, {{"format", "pt"}});
  EXPECT_THROW(opt.load_state(tmp.file("m.safetensors")), r1::Error);  // not marked as AdamW state
}

// --- schedules ---------------------------------------------------------------------------

// max 1e-3, min 1e-4, warmup 10, total 110: decay runs over steps 10..109 (100 steps).
static r1::LrSchedule sched(r1::Decay d) {
  r1::LrSchedule s;
  s.max_lr = 1e-3f;
  s.min_lr = 1e-4f;
  s.warmup_steps = 10;
  s.total_steps = 110;
  s.decay = d;
  return s;
}

TEST(Schedule, WarmupIsLinearFromMaxOverWarmup) {
  for (r1::Decay d : {r1::Decay::Cosine, r1::Decay::Linear, r1::Decay::Constant}) {
    r1::LrSchedule s = sched(d);
    EXPECT_FLOAT_EQ(s.at(0), 1e-4f);  // (0 + 1) / 10 of max
    EXPECT_FLOAT_EQ(s.at(4), 5e-4f);
    EXPECT_FLOAT_EQ(s.at(9), 1e-3f);
    EXPECT_FLOAT_EQ(s.at(10), 1e-3f);  // decay starts at progress 0
  }
}

TEST(Schedule, CosineLinearConstantAtKnownPoints) {
  r1::LrSchedule c = sched(r1::Decay::Cosine);
  EXPECT_FLOAT_EQ(c.at(35), 1e-4f + 9e-4f * 0.5f * (1.0f + 0.70710678f));  // progress 1/4
  EXPECT_FLOAT_EQ(c.at(60), 5.5e-4f);                                     // progress 1/2
  EXPECT_FLOAT_EQ(c.at(85), 1e-4f + 9e-4f * 0.5f * (1.0f - 0.70710678f));  // progress 3/4
  EXPECT_FLOAT_EQ(c.at(110), 1e-4f);
  EXPECT_FLOAT_EQ(c.at(1000), 1e-4f);
  r1::LrSchedule l = sched(r1::Decay::Linear);
  EXPECT_FLOAT_EQ(l.at(35), 7.75e-4f);
  EXPECT_FLOAT_EQ(l.at(60), 5.5e-4f);
  EXPECT_FLOAT_EQ(l.at(109), 1.09e-4f);  // progress 99/100
  EXPECT_FLOAT_EQ(l.at(110), 1e-4f);
  r1::LrSchedule k = sched(r1::Decay::Constant);
  EXPECT_FLOAT_EQ(k.at(60), 1e-3f);
  EXPECT_FLOAT_EQ(k.at(500), 1e-3f);
}

TEST(Schedule, NoWarmupStartsAtMax) {
  r1::LrSchedule s = sched(r1::Decay::Cosine);
  s.warmup_steps = 0;
  s.total_steps = 100;
  EXPECT_FLOAT_EQ(s.at(0), 1e-3f);
  EXPECT_FLOAT_EQ(s.at(50), 5.5e-4f);
}

TEST(Schedule, RejectsBadSettings) {
  EXPECT_EQ(r1::parse_decay("linear"), r1::Decay::Linear);
  EXPECT_STREQ(r1::decay_name(r1::parse_decay("cosine")), "cosine");
  EXPECT_THROW(r1::parse_decay("exp"), r1::Error);
  r1::LrSchedule s = sched(r1::Decay::Cosine);
  s.min_lr = 2e-3f;
  EXPECT_THROW(s.at(0), r1::Error);
  s = sched(r1::Decay::Cosine);
  s.total_steps = 5;  // shorter than warmup
  EXPECT_THROW(s.at(0), r1::Error);
  s = sched(r1::Decay::Cosine);
  EXPECT_THROW(s.at(-1), r1::Error);
}
