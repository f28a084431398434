// Tests for src/model: whole-model finite-difference gradient checks (dense and MoE, tied and
// untied embeddings, q/k/v bias, group-limited routing, softmax routing, balance loss), the
// router's selection rule, sparse dispatch against a dense per-token sum, the balance loss and
// bias update against hand computations, KV-cache decode against the full forward, and
// overfitting one batch.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_util.h"
#include "autograd/autograd.h"
#include "gradcheck.h"
#include "model/transformer.h"
#include "train/optim.h"
#include "util/error.h"

namespace r1 {
namespace {

using r1::testing::OneThread;
using r1::testing::expect_rows_near;
using r1::testing::random_tokens;


// --- tiny configs ----------------------------------------------------------------------
// Widths are tiny so a finite-difference pass over every parameter stays fast. The init std
// is large (0.3) so router scores spread out and a perturbation of h does not flip top-k.

Config dense_config() {
  Config c;
  c.model_type = "llama";
  c.vocab_size = 11;
  c.hidden_size = 8;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 4;
  c.intermediate_size = 12;
  c.initializer_range = 0.3;
  return c;
}

Config moe_config() {
  Config c = dense_config();
  c.model_type = "deepseek_v3";
  c.moe_intermediate_size = 6;
  c.n_routed_experts = 4;
  c.n_shared_experts = 1;
  c.num_experts_per_tok = 2;
  c.first_k_dense_replace = 1;
  return c;
}

// Tiny models gain nothing from threads, and on a loaded machine OpenMP barriers dominate.

Transformer make_model(const Config& c, uint64_t seed = 7) {
  Transformer m(c);
  m.init_weights(seed);
  return m;
}

// Random non-zero router biases, so selection really depends on s + b.
void randomize_router_bias(Transformer& m, uint64_t seed) {
  Rng rng(seed);
  for (const TensorSlot& s : m.slots())
    if (s.name.find("e_score_correction_bias") != std::string::npos)
      s.tensor->copy_from(Tensor::uniform(s.tensor->shape(), rng, -0.2f, 0.2f));
}


std::vector<Ids> routing_of(const Transformer& m) {
  std::vector<Ids> r;
  for (const Block& b : m.blocks())
    if (b.moe) r.push_back(b.moe->last_expert);
  return r;
}

// --- whole-model gradient checks ------------------------------------------------------------
// The probe is the training loss itself (cross-entropy + balance loss). h = 1e-3: the loss is
// O(2) in fp32, so each central difference carries ~2 * 6e-8 * 2 / 2e-3 ~ 1e-4 of rounding
// error; truncation error h^2 f''' / 6 is ~1e-6. Hence atol 1e-3, rtol 1e-2. Every
// perturbed forward must route exactly like the unperturbed one (checked), since top-k is
// discontinuous.
void check_model_gradients(const Config& c, bool random_bias = false) {
  Transformer m = make_model(c);
  if (random_bias) randomize_router_bias(m, 99);
  const int64_t B = 2, T = 5;
  Ids ids = random_tokens(B * T, c.vocab_size, 3), targets = next_token_targets(ids, B, T);
  OneThread one_thread;

  // A routed expert that no token chose gets no gradient (it is not in the graph): check those
  // are exactly the unchosen experts, then finite-difference the rest.
  backward(lm_loss(m.forward(ids, B, T), targets));
  std::vector<Ids> reference = routing_of(m);
  std::vector<Tensor> params;
  for (const auto& [name, p] : m.parameters()) {
    if (p.grad().defined()) {
      params.push_back(p);
      continue;
    }
    size_t at = name.find(".experts.");
    ASSERT_NE(at, std::string::npos) << name << " got no gradient";
    int layer = std::stoi(name.substr(std::string("model.layers.").size()));
    int expert = std::stoi(name.substr(at + 9));
    int moe_index = layer - int(c.first_k_dense_replace);
    const Ids& chosen = reference[size_t(moe_index)];
    EXPECT_EQ(std::count(chosen.begin(), chosen.end(), expert), 0) << name << " was chosen but got no gradient";
  }
  int flips = 0;
  testing::TensorFn f = [&](const std::vector<Tensor>&) {
    Tensor loss = lm_loss(m.forward(ids, B, T), targets);
    if (routing_of(m) != reference) flips++;
    return loss;
  };
  testing::GradcheckOptions opt;
  opt.h = 1e-3;
  opt.atol = 1e-3;
  opt.rtol = 1e-2;
  testing::expect_gradients_match(f, params, opt);
  EXPECT_EQ(flips, 0) << "perturbations changed the expert selection; the check is not valid";
}

TEST(ModelGradcheck, DenseUntied) { check_model_gradients(dense_config()); }

TEST(ModelGradcheck, DenseTiedWithQkvBias) {
  Config c = dense_config();
  c.model_type = "qwen2";
  c.attention_bias = true;
  c.tie_word_embeddings = true;
  check_model_gradients(c);
}

TEST(ModelGradcheck, MoeSigmoidNoauxTc) { check_model_gradients(moe_config(), /*random_bias=*/true); }

TEST(ModelGradcheck, MoeGroupLimitedTiedWithAuxLoss) {
  Config c = moe_config();
  c.n_routed_experts = 6;
  c.n_group = 3;
  c.topk_group = 2;
  c.tie_word_embeddings = true;
  c.aux_loss_alpha = 0.1;  // large, so the balance loss's gradient is well above the tolerance
  c.routed_scaling_factor = 2.5;
  check_model_gradients(c, /*random_bias=*/true);
}

TEST(ModelGradcheck, MoeSoftmaxGreedyUnnormalized) {
  Config c = moe_config();
  c.scoring_func = "softmax";
  c.topk_method = "greedy";
  c.norm_topk_prob = false;
  c.first_k_dense_replace = 0;
  c.n_shared_experts = 0;
  c.aux_loss_alpha = 0.1;
  check_model_gradients(c);
}

// --- router ----------------------------------------------------------------------------------

TEST(ModelRouter, SelectsOnBiasedScoresWithinBestGroups) {
  Config c = moe_config();
  c.n_routed_experts = 6;
  c.n_group = 3;  // groups {0,1} {2,3} {4,5}
  c.topk_group = 2;
  c.num_experts_per_tok = 2;
  Gate gate(c);
  std::vector<float> s = {0.9f, 0.1f, 0.2f, 0.3f, 0.6f, 0.55f};
  // No bias: group scores (sums of top-2) 1.0, 0.5, 1.15 -> groups {4,5}, {0,1} -> experts 0 (0.9), 4 (0.6).
  EXPECT_EQ(gate.select(s, 1), (Ids{0, 4}));
  // b_3 = 0.7: biased 0.9 0.1 | 0.2 1.0 | 0.6 0.55 -> groups 1.0, 1.2, 1.15 -> {2,3}, {4,5} eligible:
  // experts 3 (1.0), 4 (0.6); expert 0 (0.9) loses with its group.
  gate.bias.copy_from(Tensor::from_vector({6}, {0.0f, 0.0f, 0.0f, 0.7f, 0.0f, 0.0f}));
  EXPECT_EQ(gate.select(s, 1), (Ids{3, 4}));
  // b_2 = 1.0: biased 0.9 0.1 | 1.2 0.3 | 0.6 0.55 -> groups 1.0, 1.5, 1.15 -> experts 2 (1.2), 4 (0.6).
  gate.bias.copy_from(Tensor::from_vector({6}, {0.0f, 0.0f, 1.0f, 0.0f, 0.0f, 0.0f}));
  EXPECT_EQ(gate.select(s, 1), (Ids{2, 4}));
}

TEST(ModelRouter, GreedyGroupsRankByBestScore) {
  Config c = moe_config();
  c.topk_method = "greedy";
  c.n_routed_experts = 6;
  c.n_group = 3;
  c.topk_group = 1;
  Gate gate(c);
  ASSERT_FALSE(gate.bias.defined());
  // Group maxima 0.5, 0.7, 0.65: only group {2,3} is eligible although 4 and 5 beat 2.
  std::vector<float> s = {0.5f, 0.5f, 0.3f, 0.7f, 0.65f, 0.64f};
  EXPECT_EQ(gate.select(s, 1), (Ids{3, 2}));
}

TEST(ModelRouter, GateValuesUseUnbiasedScores) {
  Config c = moe_config();
  c.routed_scaling_factor = 2.5;
  Gate gate(c);
  Rng rng(5);
  gate.weight.copy_from(Tensor::randn(gate.weight.shape(), rng, 1.0f));
  gate.bias.copy_from(Tensor::from_vector({4}, {3.0f, 0.0f, 0.0f, 0.0f}));  // forces expert 0 in
  Tensor x = Tensor::randn({3, 8}, rng, 1.0f);
  NoGradGuard g;
  Routing r = gate.forward(x);
  std::vector<float> s = r.scores.to_vector(), gv = r.gate.to_vector();
  for (int n = 0; n < 3; n++) {
    EXPECT_EQ(r.expert[size_t(n * 2)], 0);
    float s0 = s[size_t(n * 4 + r.expert[size_t(n * 2)])], s1 = s[size_t(n * 4 + r.expert[size_t(n * 2 + 1)])];
    // sigmoid scores renormalized over the two chosen, times 2.5; fp32 rounding only.
    EXPECT_NEAR(gv[size_t(n * 2)], 2.5f * s0 / (s0 + s1), 1e-6);
    EXPECT_NEAR(gv[size_t(n * 2 + 1)], 2.5f * s1 / (s0 + s1), 1e-6);
  }
}

TEST(ModelRouter, TopOneIsNotRenormalized) {
  Config c = moe_config();
  c.num_experts_per_tok = 1;
  c.routed_scaling_factor = 2.0;
  Gate gate(c);
  Rng rng(6);
  gate.weight.copy_from(Tensor::randn(gate.weight.shape(), rng, 1.0f));
  Tensor x = Tensor::randn({4, 8}, rng, 1.0f);
  NoGradGuard g;
  Routing r = gate.forward(x);
  std::vector<float> s = r.scores.to_vector(), gv = r.gate.to_vector();
  for (int n = 0; n < 4; n++) EXPECT_FLOAT_EQ(gv[size_t(n)], 2.0f * s[size_t(n * 4 + r.expert[size_t(n)])]);
}

// --- sparse dispatch and balance loss against per-token references ----------------------------

TEST(ModelMoe, SparseDispatchEqualsPerTokenSum) {
  Config c = moe_config();
  c.aux_loss_alpha = 0.3;
  c.routed_scaling_factor = 1.7;
  Transformer m = make_model(c);
  randomize_router_bias(m, 4);
  Moe& moe = *m.blocks()[1].moe;
  const int64_t B = 2, T = 6, N = B * T, D = c.hidden_size, E = 4, K = 2;
  Rng rng(11);
  Tensor x = Tensor::randn({N, D}, rng, 1.0f);
  NoGradGuard g;
  Tensor aux;
  std::vector<float> y = moe.forward(x, B, T, &aux).to_vector();
  Routing r = moe.gate.forward(x);
  std::vector<float> gv = r.gate.to_vector(), s = r.scores.to_vector();

  // y_n = shared(x_n) + sum_k g_nk expert_{e_nk}(x_n), one token at a time.
  for (int64_t n = 0; n < N; n++) {
    Tensor xn = Tensor::from_vector({1, D}, std::vector<float>(x.data() + n * D, x.data() + (n + 1) * D));
    std::vector<float> ref = moe.shared->forward(xn).to_vector();
    for (int64_t k = 0; k < K; k++) {
      std::vector<float> ye = moe.experts[size_t(r.expert[size_t(n * K + k)])].forward(xn).to_vector();
      for (int64_t d = 0; d < D; d++) ref[size_t(d)] += gv[size_t(n * K + k)] * ye[size_t(d)];
    }
    for (int64_t d = 0; d < D; d++) EXPECT_NEAR(y[size_t(n * D + d)], ref[size_t(d)], 1e-5) << "token " << n;
  }

  // L = alpha / B * sum_b sum_i f_bi P_bi, f_bi = E/(K T) * count, P_bi = mean_t s_ti / sum_j s_tj.
  double L = 0;
  for (int64_t b = 0; b < B; b++) {
    for (int64_t i = 0; i < E; i++) {
      double count = 0, P = 0;
      for (int64_t t = 0; t < T; t++) {
        int64_t n = b * T + t;
        for (int64_t k = 0; k < K; k++) count += r.expert[size_t(n * K + k)] == i;
        double row = 0;
        for (int64_t j = 0; j < E; j++) row += s[size_t(n * E + j)];
        P += s[size_t(n * E + i)] / row / double(T);
      }
      L += double(E) / double(K * T) * count * P;
    }
  }
  L *= 0.3 / double(B);
  EXPECT_NEAR(aux.item(), L, 1e-6);
}

// --- balancing bias ------------------------------------------------------------------------

TEST(ModelMoe, BiasUpdateFollowsSignOfLoadGap) {
  Config c = moe_config();
  c.bias_update_speed = 0.01;
  Moe moe(c);
  moe.gate.bias.copy_from(Tensor::from_vector({4}, {0.1f, 0.0f, -0.2f, 0.0f}));
  moe.stats.load = {5, 1, 3, 3};  // mean 3: expert 0 overloaded, 1 underloaded, 2 and 3 exact
  moe.stats.tokens = 6;
  moe.update_bias();
  std::vector<float> b = moe.gate.bias.to_vector();
  EXPECT_FLOAT_EQ(b[0], 0.1f - 0.01f);
  EXPECT_FLOAT_EQ(b[1], 0.0f + 0.01f);
  EXPECT_FLOAT_EQ(b[2], -0.2f);
  EXPECT_FLOAT_EQ(b[3], 0.0f);
  EXPECT_EQ(moe.stats.load, (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(moe.stats.tokens, 0);
}

TEST(ModelMoe, LoadsCountTrainingForwardsOnly) {
  Config c = moe_config();
  c.bias_update_speed = 0.5;
  Transformer m = make_model(c);
  Ids ids = random_tokens(2 * 7, c.vocab_size, 8);
  {
    NoGradGuard g;
    m.forward(ids, 2, 7);  // evaluation: not counted
  }
  ASSERT_EQ(m.router_stats().size(), 1u);
  EXPECT_EQ(m.router_stats()[0].tokens, 0);
  m.forward(ids, 2, 7);
  m.forward(ids, 2, 7);  // two micro-batches of one step
  RouterStats st = m.router_stats()[0];
  EXPECT_EQ(st.tokens, 28);
  EXPECT_EQ(std::accumulate(st.load.begin(), st.load.end(), int64_t(0)), 28 * 2);
  EXPECT_GE(st.max_over_mean(), 1.0);

  std::vector<float> before = m.blocks()[1].moe->gate.bias.to_vector();
  m.update_router_bias();
  std::vector<float> after = m.blocks()[1].moe->gate.bias.to_vector();
  double mean = 56.0 / 4;
  for (size_t i = 0; i < 4; i++) {
    float expect = before[i] + 0.5f * float((mean > st.load[i]) - (mean < st.load[i]));
    EXPECT_FLOAT_EQ(after[i], expect) << "expert " << i;
  }
  EXPECT_EQ(m.router_stats()[0].tokens, 0);
}

// --- KV cache ------------------------------------------------------------------------------


// Two sequences of different lengths share a batch: right-padded prefill, then one-token
// decode steps, one of them with sequence 1 finished (padding). Each sequence's logits must
// equal the full forward of that sequence alone. Tolerance 1e-4: the same math with
// different summation orders (cache concat, GEMM shapes), logits O(1).
TEST(ModelKvCache, BatchedDecodeEqualsFullForward) {
  OneThread one_thread;
  for (bool moe : {false, true}) {
    Config c = moe ? moe_config() : dense_config();
    c.attention_bias = true;
    Transformer m = make_model(c, 21);
    const int64_t V = c.vocab_size;
    Ids a = random_tokens(8, V, 1), b = random_tokens(6, V, 2);  // sequence 0: 8 tokens, sequence 1: 6 tokens
    std::vector<float> full_a, full_b;
    {
      NoGradGuard g;
      full_a = m.forward(a, 1, 8).logits.to_vector();
      full_b = m.forward(b, 1, 6).logits.to_vector();
    }
    KVCache cache = m.new_cache(2);
    // Prefill: a[0..5), b[0..3) + 2 padding slots.
    Ids pre = {a[0], a[1], a[2], a[3], a[4], b[0], b[1], b[2], 0, 0};
    std::vector<float> lp = m.forward_cached(pre, 2, 5, cache, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}).to_vector();
    for (int t = 0; t < 5; t++) expect_rows_near(lp, t, full_a, t, V, cat(moe ? "moe" : "dense", " prefill a t=", t));
    for (int t = 0; t < 3; t++) expect_rows_near(lp, 5 + t, full_b, t, V, cat(moe ? "moe" : "dense", " prefill b t=", t));
    // Decode: a[5], b[3] / a[6], b[4] / a[7], b[5] / then a is finished (padding), b has nothing left.
    for (int step = 0; step < 3; step++) {
      std::vector<float> ld = m.forward_cached({a[size_t(5 + step)], b[size_t(3 + step)]}, 2, 1, cache).to_vector();
      expect_rows_near(ld, 0, full_a, 5 + step, V, cat(moe ? "moe" : "dense", " decode a step ", step));
      expect_rows_near(ld, 1, full_b, 3 + step, V, cat(moe ? "moe" : "dense", " decode b step ", step));
    }
    EXPECT_EQ(cache.length, (std::vector<int32_t>{8, 6}));
    EXPECT_EQ(cache.slots, 8);
    // A step where sequence 1 is padding leaves its state alone: a fresh token for it later
    // still continues at position 6 and matches the full forward of b + [t].
    Ids b7 = b;
    b7.push_back(4);
    std::vector<float> full_b7;
    {
      NoGradGuard g;
      full_b7 = m.forward(b7, 1, 7).logits.to_vector();
    }
    m.forward_cached({0, 0}, 2, 1, cache, {0, 0});
    std::vector<float> ld = m.forward_cached({0, 4}, 2, 1, cache, {0, 1}).to_vector();
    expect_rows_near(ld, 1, full_b7, 6, V, cat(moe ? "moe" : "dense", " decode after padding"));

    // Chunked prefill (T > 1 into a non-empty cache): a in chunks of 3, 3, 2.
    KVCache one = m.new_cache(1);
    for (int start : {0, 3, 6}) {
      int n = start == 6 ? 2 : 3;
      Ids chunk(a.begin() + start, a.begin() + start + n);
      std::vector<float> lc = m.forward_cached(chunk, 1, n, one).to_vector();
      for (int t = 0; t < n; t++)
        expect_rows_near(lc, t, full_a, start + t, V, cat(moe ? "moe" : "dense", " chunk at ", start + t));
    }
  }
}

// --- training -------------------------------------------------------------------------------

// AdamW on one fixed batch must drive the loss near zero: the model has far more parameters
// than the batch has tokens. 0.05 nats is ~95% probability on every target.
TEST(ModelTrain, OverfitsOneBatch) {
  Config c = moe_config();
  c.hidden_size = 16;
  c.head_dim = 8;
  c.vocab_size = 16;
  c.initializer_range = 0.1;
  c.aux_loss_alpha = 0.001;
  c.bias_update_speed = 0.001;
  Transformer m = make_model(c, 3);
  OneThread one_thread;
  const int64_t B = 2, T = 8;
  Ids ids = random_tokens(B * T, c.vocab_size, 12), targets = next_token_targets(ids, B, T);
  AdamWConfig ac;
  ac.lr = 1e-2f;
  ac.weight_decay = 0.0f;
  AdamW opt(m.parameters(), ac);
  float first = 0, last = 0;
  for (int step = 0; step < 150; step++) {
    opt.zero_grad();
    ModelOutput o = m.forward(ids, B, T);
    Tensor ce = cross_entropy(o.logits, targets);
    backward(lm_loss(o, targets));
    opt.step();
    m.update_router_bias();
    (step == 0 ? first : last) = ce.item();
  }
  EXPECT_GT(first, 2.0f);  // ~ln(16) = 2.77 at init
  EXPECT_LT(last, 0.05f);
}

}  // namespace
}  // namespace r1
