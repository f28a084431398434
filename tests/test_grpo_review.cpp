// Independent review tests for the GRPO path: the objective (rl/grpo.h) checked against
// finite differences and TRL's definitions rather than against a second copy of the same
// closed form; the sampler/generation engine (stop strings, EOS, log-prob convention) on a
// hand-built "table" model whose next token is known; and train_grpo() end to end: the
// on-policy identities of the first step (rho = 1, KL = 0, nothing clipped, loss ~ 0), which an
// off-by-one logits row or a temperature mismatch breaks; the sign of learning; resume; and
// advantage alignment when dynamic sampling / truncation masking drop completions. Each
// trainer test was checked to fail on a mutated copy of grpo_trainer.cpp (row off by one,
// no 1/T, negated advantage, reference = policy, reference not restored on resume, advantage
// indexed in the filtered list).
//
// Suites: GrpoReview* run in `make test`. GrpoReviewFixed.* pin the three defects the review
// found (NaN advantages with eps = 0, padded-vocabulary ids aborting generation, dr_grpo's
// max_len shorter than the generation budget); each failed before its fix.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "autograd/autograd.h"
#include "model/transformer.h"
#include "ops/ops.h"
#include "rl/eval.h"
#include "rl/grpo.h"
#include "rl/grpo_trainer.h"
#include "reward/reward.h"
#include "sample/generate.h"
#include "sample/sampler.h"
#include "sample/template.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

#ifdef _OPENMP
#include <omp.h>
#include "test_util.h"
#endif

using namespace r1;

namespace {

// A random ragged batch: N completions in groups of G, lengths 1..8, log-probs in [-4, -0.05],
// lp and lp_ref within +-drift of lp_old.
struct LpBatch {
  std::vector<double> rewards;
  std::vector<std::vector<double>> lp, lp_old, lp_ref;
};

LpBatch random_batch(uint64_t seed, int64_t N, double drift) {
  Rng rng(seed);
  LpBatch b;
  for (int64_t i = 0; i < N; i++) {
    b.rewards.push_back(rng.uniform() < 0.5 ? 1.0 : 0.0);
    int64_t n = 1 + int64_t(rng.uniform() * 8);
    std::vector<double> o, p, r;
    for (int64_t t = 0; t < n; t++) {
      double x = -0.05 - 3.95 * rng.uniform();
      o.push_back(x);
      p.push_back(x + drift * (2 * rng.uniform() - 1));
      r.push_back(x + drift * (2 * rng.uniform() - 1));
    }
    b.lp_old.push_back(o);
    b.lp.push_back(p);
    b.lp_ref.push_back(r);
  }
  return b;
}

}  // namespace

// --- the objective -------------------------------------------------------------------------

// grad_lp against central differences of the loss itself. The golden vectors were produced
// from the same closed-form derivative; this checks the derivative independently. Tokens
// within 1e-3 of a clip boundary are skipped (the loss has a kink there).
TEST(GrpoReview, GradientMatchesFiniteDifferencesOfTheLoss) {
  for (const char* loss : {"grpo", "token-mean", "dr_grpo"}) {
    GrpoOptions o;
    o.loss = loss;
    o.beta = 0.04;
    o.eps_low = 0.2;
    o.eps_high = 0.28;
    LpBatch b = random_batch(7, 12, 0.6);
    std::vector<double> A = grpo_advantages(b.rewards, 4, o);
    GrpoLoss base = grpo_loss(A, b.lp, b.lp_old, b.lp_ref, o);
    const double h = 1e-6;
    int checked = 0;
    for (size_t i = 0; i < b.lp.size(); i++)
      for (size_t t = 0; t < b.lp[i].size(); t++) {
        double rho = std::exp(b.lp[i][t] - b.lp_old[i][t]);
        if (std::fabs(rho - (1 - o.eps_low)) < 1e-3 || std::fabs(rho - (1 + o.eps_high)) < 1e-3) continue;
        auto plus = b.lp, minus = b.lp;
        plus[i][t] += h;
        minus[i][t] -= h;
        // dr_grpo's max_len must not move with the perturbation: it depends on lengths only.
        double fd = (grpo_loss(A, plus, b.lp_old, b.lp_ref, o).loss - grpo_loss(A, minus, b.lp_old, b.lp_ref, o).loss) /
                    (2 * h);
        // central difference error O(h^2 * L''') ~ 1e-12 plus rounding 1e-16 / h ~ 1e-10
        EXPECT_NEAR(base.grad_lp[i][t], fd, 1e-8) << loss << " completion " << i << " token " << t;
        checked++;
      }
    EXPECT_GT(checked, 40) << loss;
  }
}

// TRL logs clip_ratio/region_mean = mean of (rho < 1 - eps_low and A < 0) or (rho > 1 + eps_high
// and A > 0). "The clipped term is strictly smaller" must be the same set of tokens.
TEST(GrpoReview, ClipFractionIsTrlsRegionClippedRatio) {
  GrpoOptions o;
  o.eps_low = 0.2;
  o.eps_high = 0.28;
  o.scale_rewards = "none";
  LpBatch b = random_batch(11, 16, 1.0);
  std::vector<double> A = grpo_advantages(b.rewards, 4, o);
  GrpoLoss r = grpo_loss(A, b.lp, b.lp_old, b.lp_ref, o);
  int64_t region = 0, total = 0;
  for (size_t i = 0; i < b.lp.size(); i++)
    for (size_t t = 0; t < b.lp[i].size(); t++) {
      double rho = std::exp(b.lp[i][t] - b.lp_old[i][t]);
      region += (rho < 1 - o.eps_low && A[i] < 0) || (rho > 1 + o.eps_high && A[i] > 0);
      total++;
      // and the clipped tokens are exactly those with no surrogate gradient (beta = default 0.001,
      // so the remaining gradient is the KL term alone)
      double kl_grad = o.beta * (1 - std::exp(b.lp_ref[i][t] - b.lp[i][t]));
      bool clipped = (rho < 1 - o.eps_low && A[i] < 0) || (rho > 1 + o.eps_high && A[i] > 0);
      double w = 1.0 / (double(b.lp.size()) * double(b.lp[i].size()));
      if (clipped) {
        EXPECT_NEAR(r.grad_lp[i][t], w * kl_grad, 1e-15);
      }
    }
  ASSERT_GT(region, 0) << "the case must clip something";
  EXPECT_DOUBLE_EQ(r.clip_fraction, double(region) / double(total));
}

// The KL direction: k3 = exp(lp_ref - lp) - (lp_ref - lp) - 1 estimates KL(pi || pi_ref) on
// samples from pi (TRL's per_token_kl). Swapping the roles gives a different number.
TEST(GrpoReview, KlIsK3WithTheReferenceInTheExponent) {
  GrpoOptions o;
  o.beta = 1.0;
  // one token, A = 0: lp = -1, lp_ref = -2 -> d = -1: kl = e^-1 + 1 - 1 = 0.367879...
  GrpoLoss r = grpo_loss({0.0}, {{-1.0}}, {{-1.0}}, {{-2.0}}, o);
  EXPECT_NEAR(r.kl_mean, std::exp(-1.0), 1e-15);
  EXPECT_NEAR(r.loss, std::exp(-1.0), 1e-15);  // l = -(0 - beta kl)
  // d/dlp = beta (1 - e^d) = 1 - e^-1 > 0: descending the loss lowers lp toward lp_ref
  EXPECT_NEAR(r.grad_lp[0][0], 1 - std::exp(-1.0), 1e-15);
  // swapped (lp = -2, lp_ref = -1): d = +1, kl = e - 2 = 0.718..., not 0.3678
  r = grpo_loss({0.0}, {{-2.0}}, {{-2.0}}, {{-1.0}}, o);
  EXPECT_NEAR(r.kl_mean, std::exp(1.0) - 2, 1e-15);
  EXPECT_LT(r.grad_lp[0][0], 0.0);  // raises lp toward lp_ref
}

// Advantages worked by hand for the cases the golden generator shares a formula with.
TEST(GrpoReview, AdvantagesByHand) {
  GrpoOptions o;
  // batch scaling: group means, std over all 6 rewards
  // rewards (1, 0, 0) (1, 1, 0): means 1/3 and 2/3; all: mean 0.5, sample var = 6*0.25/5 = 0.3
  o.scale_rewards = "batch";
  std::vector<double> a = grpo_advantages({1, 0, 0, 1, 1, 0}, 3, o);
  double s = std::sqrt(0.3) + 1e-4;
  EXPECT_NEAR(a[0], (1 - 1.0 / 3) / s, 1e-14);
  EXPECT_NEAR(a[3], (1 - 2.0 / 3) / s, 1e-14);
  EXPECT_NEAR(a[5], (0 - 2.0 / 3) / s, 1e-14);
  // population std for the batch: var 0.25 -> std 0.5
  o.std = "population";
  EXPECT_NEAR(grpo_advantages({1, 0, 0, 1, 1, 0}, 3, o)[0], (2.0 / 3) / 0.5001, 1e-14);
  // a group of size 1 gets 0 whatever the scaling
  for (const char* scale : {"group", "batch", "none"}) {
    o.scale_rewards = scale;
    for (double x : grpo_advantages({3, -1, 2}, 1, o)) EXPECT_EQ(x, 0.0) << scale;
  }
  // "none" divides by nothing (no eps)
  o.scale_rewards = "none";
  EXPECT_DOUBLE_EQ(grpo_advantages({2, 0}, 2, o)[0], 1.0);
  // each group's advantages sum to zero (what makes the on-policy loss vanish)
  o = GrpoOptions();
  a = grpo_advantages({0.3, 1.7, -0.2, 0.9, 1, 1, 1, 0}, 4, o);
  EXPECT_NEAR(a[0] + a[1] + a[2] + a[3], 0.0, 1e-14);
  EXPECT_NEAR(a[4] + a[5] + a[6] + a[7], 0.0, 1e-14);
}

// Aggregations with ragged lengths: lengths 1 and 3, one token loss each of l = -A rho with
// rho = 1 and beta = 0, so l_{i,t} = -A_i.
TEST(GrpoReview, AggregationsWeighTokensAsSpecified) {
  GrpoOptions o;
  o.beta = 0;
  std::vector<double> A = {1.0, -0.5};
  std::vector<std::vector<double>> lp = {{-1}, {-1, -2, -3}};
  o.loss = "grpo";  // (1/2) (-1 + (1/3)(3 * 0.5)) = -0.25
  EXPECT_NEAR(grpo_loss(A, lp, lp, lp, o).loss, -0.25, 1e-15);
  o.loss = "token-mean";  // (-1 + 1.5) / 4 = 0.125
  EXPECT_NEAR(grpo_loss(A, lp, lp, lp, o).loss, 0.125, 1e-15);
  o.loss = "dr_grpo";  // (-1 + 1.5) / (2 * 3) with max_len 0 = longest completion (3)
  EXPECT_NEAR(grpo_loss(A, lp, lp, lp, o).loss, 0.5 / 6, 1e-15);
  o.max_len = 10;  // (-1 + 1.5) / (2 * 10)
  EXPECT_NEAR(grpo_loss(A, lp, lp, lp, o).loss, 0.5 / 20, 1e-15);
  o.max_len = 2;  // shorter than a completion: an error, not a silent re-weighting
  EXPECT_THROW(grpo_loss(A, lp, lp, lp, o), Error);
}

// The autograd op multiplies its gradient by the upstream gradient (a scaled loss).
TEST(GrpoReview, ObjectiveBackwardFollowsTheUpstreamGradient) {
  GrpoOptions o;
  o.beta = 0.04;
  std::vector<float> lp = {-1.0f, -0.5f, -2.0f}, old = {-1.25f, -0.5f, -1.5f}, ref = {-0.75f, -1.0f, -2.0f};
  std::vector<double> A = {0.7, -0.7};
  Tensor x = Tensor::from_vector({3}, lp);
  x.set_requires_grad(true);
  backward(scale(grpo_objective(x, {1, 2}, A, old, ref, o), 3.0f));
  GrpoLoss r = grpo_loss(A, {{-1.0}, {-0.5, -2.0}}, {{-1.25}, {-0.5, -1.5}}, {{-0.75}, {-1.0, -2.0}}, o);
  std::vector<float> g = x.grad().to_vector();
  // float32 storage of the gradient: relative 1e-6
  EXPECT_NEAR(g[0], 3 * r.grad_lp[0][0], 1e-6 * std::fabs(3 * r.grad_lp[0][0]) + 1e-9);
  EXPECT_NEAR(g[1], 3 * r.grad_lp[1][0], 1e-6 * std::fabs(3 * r.grad_lp[1][0]) + 1e-9);
  EXPECT_NEAR(g[2], 3 * r.grad_lp[1][1], 1e-6 * std::fabs(3 * r.grad_lp[1][1]) + 1e-9);
}

// --- a hand-built "table" model ----------------------------------------------------------------
// One llama block with every weight zero, so the residual stream is the embedding of the
// current token and the logits depend on that token only: a bigram table. Token x is embedded
// as the basis vector k(x) (k >= 1 for tokens in the table, 0 for every other token), and
// lm_head[next][k(x)] = logit / sqrt(D) gives logit `logit` to `next` after the final RMSNorm
// (which maps a unit basis vector to sqrt(D) times itself). Unlisted next tokens get logit 0.

namespace {

struct TableEntry {
  int32_t from;                                  // current token, or -1 for "every other token"
  std::vector<std::pair<int32_t, float>> next;   // (next token, logit)
};

// The model tests run a model of a few thousand weights: OpenMP teams only add contention
// on a loaded machine (4x slower measured), so they run single-threaded and restore the count.
struct SingleThread {
#ifdef _OPENMP
  int saved = omp_get_max_threads();
  SingleThread() { omp_set_num_threads(1); }
  ~SingleThread() { omp_set_num_threads(saved); }
#endif
};

Transformer table_model(int64_t V, const std::vector<TableEntry>& table) {
  const int64_t D = 32;
  Json j = Json::parse(cat(R"({"model_type": "llama", "vocab_size": )", V, R"(, "hidden_size": 32,
    "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 16,
    "max_position_embeddings": 320, "tie_word_embeddings": false})"));
  Transformer m(Config::from_json(j));
  std::vector<float> embed(size_t(V * D), 0.0f), head(size_t(V * D), 0.0f);
  for (int64_t x = 0; x < V; x++) embed[size_t(x * D)] = 1.0f;  // default: basis 0
  for (size_t k = 0; k < table.size(); k++) {
    int64_t dim = table[k].from < 0 ? 0 : int64_t(k) + 1;
    if (table[k].from >= 0) {
      embed[size_t(table[k].from * D)] = 0.0f;
      embed[size_t(table[k].from * D + dim)] = 1.0f;
    }
    for (auto [next, logit] : table[k].next) head[size_t(next * D + dim)] = logit / std::sqrt(float(D));
  }
  NoGradGuard g;
  for (const TensorSlot& s : m.slots()) {
    const std::string& n = s.name;
    std::vector<float> v(size_t(s.tensor->numel()), 0.0f);
    if (n == "model.embed_tokens.weight") v = embed;
    else if (n == "lm_head.weight") v = head;
    else if (n.size() >= 11 && n.compare(n.size() - 11, 11, "norm.weight") == 0) std::fill(v.begin(), v.end(), 1.0f);
    s.tensor->copy_from(Tensor::from_vector(s.tensor->shape(), v));
  }
  return m;
}

const Tokenizer& small_tokenizer() {
  static const Tokenizer tok = Tokenizer::load(r1::testing::repo_root() + "/data/tokenizer/trained_small.json");
  return tok;
}

int32_t id_of(const std::string& text) {
  std::vector<int> ids = small_tokenizer().encode(text);
  EXPECT_EQ(ids.size(), 1u) << "'" << text << "' must be one token of trained_small.json";
  return ids.at(0);
}

}  // namespace

TEST(GrpoReview, TableModelFollowsItsTable) {
  SingleThread one;
  int32_t a = id_of("ab"), x = id_of("x"), y = id_of("y");
  Transformer m = table_model(512, {{a, {{x, 20}}}, {x, {{y, 20}}}, {-1, {{a, 20}}}});
  GenerateOptions opt;
  opt.sampling.temperature = 0;
  opt.max_new_tokens = 4;
  auto g = generate(m, {{a}}, {1}, opt);
  EXPECT_EQ(g[0].tokens, (Ids{x, y, a, x}));  // y is not in the table: default row -> a
  EXPECT_EQ(g[0].finish, "length");
}

// Stop strings that span several tokens end the completion on the token that completes them;
// the completion keeps that token. EOS ends it too (kept in tokens, dropped from the text).
TEST(GrpoReview, StopStringsAndEosEndCompletions) {
  SingleThread one;
  const Tokenizer& tok = small_tokenizer();
  int32_t a = id_of("ab"), x = id_of("x"), y = id_of("y"), z = id_of("z");
  int32_t eos = tok.token_id("<|endoftext|>"), end_answer = tok.token_id("</answer>");
  ASSERT_GE(eos, 0);
  ASSERT_GE(end_answer, 0);
  // chain ab -> x -> y -> z -> x ...
  Transformer m = table_model(512, {{a, {{x, 20}}}, {x, {{y, 20}}}, {y, {{z, 20}}}, {z, {{x, 20}}}});
  GenerateOptions opt;
  opt.sampling.temperature = 1.0f;  // logit margin 20 over 511 others: off-chain odds < 1e-6 per token
  opt.max_new_tokens = 7;
  opt.tokenizer = &tok;
  auto g = generate(m, {{a}, {a}}, {1, 2}, opt);
  EXPECT_EQ(g[0].tokens, (Ids{x, y, z, x, y, z, x}));
  EXPECT_EQ(g[0].finish, "length");
  opt.stop_strings = {"yz"};
  g = generate(m, {{a}, {a}}, {1, 2}, opt);
  EXPECT_EQ(g[0].tokens, (Ids{x, y, z}));
  EXPECT_EQ(g[0].finish, "stop");
  EXPECT_EQ(g[0].logprobs.size(), 3u);
  opt.stop_strings = {"zx", "never"};
  g = generate(m, {{a}}, {1}, opt);
  EXPECT_EQ(g[0].tokens, (Ids{x, y, z, x}));
  // a stop string completed by the last allowed token is a stop, not a truncation
  opt.max_new_tokens = 3;
  opt.stop_strings = {"xyz"};
  g = generate(m, {{a}}, {1}, opt);
  EXPECT_EQ(g[0].finish, "stop");

  // z -> EOS: finish "eos", EOS kept as the last token, completion_text drops it
  Transformer m2 = table_model(512, {{a, {{x, 20}}}, {x, {{y, 20}}}, {y, {{z, 20}}}, {z, {{eos, 20}}}});
  opt.stop_strings = {"</answer>"};
  opt.eos_ids = {eos};
  opt.max_new_tokens = 4;  // EOS as the last allowed token is still "eos"
  g = generate(m2, {{a}}, {1}, opt);
  EXPECT_EQ(g[0].tokens, (Ids{x, y, z, eos}));
  EXPECT_EQ(g[0].finish, "eos");
  EXPECT_EQ(completion_text(tok, g[0].tokens), "xyz");

  // the </answer> special token as a stop string (what the trainer and eval use)
  Transformer m3 = table_model(512, {{a, {{x, 20}}}, {x, {{end_answer, 20}}}, {end_answer, {{y, 20}}}});
  opt.max_new_tokens = 10;
  g = generate(m3, {{a}}, {1}, opt);
  EXPECT_EQ(g[0].tokens, (Ids{x, end_answer}));
  EXPECT_EQ(g[0].finish, "stop");
  EXPECT_EQ(completion_text(tok, g[0].tokens), "x</answer>");
}

// The reported log-prob is log_softmax(logits / T) at the token, before any truncation
// (TRL recomputes the ratio on the full tempered distribution): not the renormalised
// probability the draw used.
TEST(GrpoReview, SampledLogprobIsTemperedAndUntruncated) {
  std::vector<float> lg = {2.0f, 1.5f, 0.0f, -1.0f, 1.0f};
  const double T = 0.7;
  double z = 0;
  for (float l : lg) z += std::exp(double(l) / T);
  for (int trial = 0; trial < 3; trial++) {
    SamplingParams p;
    p.temperature = float(T);
    if (trial == 0) p.top_k = 2;
    if (trial == 1) p.top_p = 0.6f;
    if (trial == 2) p.min_p = 0.3f;
    Rng rng{uint64_t(trial)};
    for (int k = 0; k < 50; k++) {
      TokenChoice c = sample_token(lg.data(), 5, p, rng);
      // float storage of a double log-prob: 1e-6
      EXPECT_NEAR(c.logprob, double(lg[size_t(c.token)]) / T - std::log(z), 1e-6) << "trial " << trial;
    }
  }
}

// --- the GRPO loop end to end ----------------------------------------------------------------
// The table model answers the R1-Zero prompt (whose last token is Lp) either with
// "<think></think><answer></answer>" (format reward 1) or with "x" EOS (reward 0), about 70/30
// at temperature 0.6, so groups have reward variance and non-zero advantages.

namespace {

Transformer format_or_not_model(float think_logit, float x_logit) {
  const Tokenizer& tok = small_tokenizer();
  int32_t last = tok.encode(r1zero_prompt("q")).back();
  int32_t think = tok.token_id("<think>"), end_think = tok.token_id("</think>"), answer = tok.token_id("<answer>"),
          end_answer = tok.token_id("</answer>"), eos = tok.token_id("<|endoftext|>"), x = id_of("x");
  return table_model(512, {{last, {{think, think_logit}, {x, x_logit}}},
                           {think, {{end_think, 10}}},
                           {end_think, {{answer, 10}}},
                           {answer, {{end_answer, 10}}},
                           {x, {{eos, 10}}},
                           {-1, {{eos, 10}}}});
}

GrpoConfig small_grpo_config() {
  GrpoConfig c;
  c.tasks = {"arith"};
  c.steps = 1;
  c.prompts_per_step = 2;
  c.group_size = 4;
  c.lr = 1e-3f;
  c.objective.beta = 0.04;
  c.temperature = 0.6f;
  c.max_new_tokens = 6;
  c.eval_every = 0;
  c.eval_rows = 1;
  c.eval_dir = r1::testing::repo_root() + "/data/eval";
  c.checkpoint_every = 0;
  c.seed = 3;
  return c;
}

// The metrics lines of a run that are training steps (not evaluations).
std::vector<Json> step_metrics(const std::string& run_dir) {
  std::vector<Json> out;
  for (const Json& j : read_jsonl(run_dir + "/metrics.jsonl"))
    if (!j.contains("eval")) out.push_back(j);
  return out;
}

// p(<think> | Lp) at temperature t under `m`.
double p_think(Transformer& m, float t) {
  const Tokenizer& tok = small_tokenizer();
  NoGradGuard g;
  Ids last = {tok.encode(r1zero_prompt("q")).back()};
  std::vector<float> lg = m.forward(last, 1, 1).logits.to_vector();
  double mx = -1e30, z = 0;
  for (float v : lg) mx = std::max(mx, double(v) / t);
  for (float v : lg) z += std::exp(double(v) / t - mx);
  return std::exp(double(lg[size_t(tok.token_id("<think>"))]) / t - mx) / z;
}

}  // namespace

// First step of on-policy GRPO (mu = 1, one minibatch, reference = policy): the training
// forward must reproduce the sampler's log-probs (rho = 1: nothing clipped, loss ~ 0) and
// the reference's (KL = 0). A logits row off by one, or the training forward not dividing by
// the sampling temperature, breaks all three (rho is then far from 1 on some tokens).
TEST(GrpoReview, FirstStepIsOnPolicy) {
  SingleThread one;
  const Tokenizer& tok = small_tokenizer();
  Transformer m = format_or_not_model(9.0f, 8.5f);
  r1::TempDir tmp;
  GrpoConfig cfg = small_grpo_config();
  RunDir run(tmp.file("run"), cfg.to_json(), false);
  std::string tok_json = tmp.file("tokenizer.json");
  tok.save(tok_json);
  train_grpo(m, tok, tok_json, cfg, run, false);
  std::vector<Json> steps = step_metrics(run.path());
  ASSERT_EQ(steps.size(), 1u);
  const Json& s = steps[0];
  ASSERT_LT(s.at("zero_std_groups").as_number(), 1.0) << "precondition: some group has reward variance";
  ASSERT_GT(s.at("format_rate").as_number(), 0.0);
  EXPECT_EQ(s.at("completions_trained").as_int(), 8);
  EXPECT_EQ(s.at("clip_fraction").as_number(), 0.0);
  // KL of identical float32 forwards: exactly 0 up to the k3 of float rounding (~1e-14)
  EXPECT_LT(s.at("kl").as_number(), 1e-10);
  // loss = -(1/N) sum_i A_i (mean_t rho_it - 1) with |A| < 1.6 and |rho - 1| ~ 1e-6 (float32
  // training forward vs the sampler's double log-softmax): 1e-4 is generous. A wrong row gives
  // |log rho| ~ 10 on those tokens; a missing 1/T gives |log rho| ~ 0.15 on the branch token.
  EXPECT_LT(std::fabs(s.at("loss").as_number()), 1e-4);
}

// The whole loop has the right sign: a few steps raise the probability of the rewarded
// (well-formatted) answer. 0.69 at the start; the bar 0.8 is well below where 4 AdamW steps
// at lr 0.05 take it, and far above where a sign error would (it falls).
TEST(GrpoReview, FewStepsRaiseTheRewardedAnswer) {
  SingleThread one;
  const Tokenizer& tok = small_tokenizer();
  Transformer m = format_or_not_model(9.0f, 8.5f);
  double before = p_think(m, 0.6f);
  EXPECT_NEAR(before, 0.69, 0.02);  // e^15 : e^14.17 : 510 e^0
  r1::TempDir tmp;
  GrpoConfig cfg = small_grpo_config();
  cfg.steps = 4;
  cfg.lr = 0.05f;
  RunDir run(tmp.file("run"), cfg.to_json(), false);
  std::string tok_json = tmp.file("tokenizer.json");
  tok.save(tok_json);
  train_grpo(m, tok, tok_json, cfg, run, false);
  double after = p_think(m, 0.6f);
  EXPECT_GT(after, 0.8) << "before " << before;
}

// Resuming from a checkpoint continues the same run: the reference comes back from
// reference.safetensors (not from the resumed policy), AdamW's moments from the optimizer
// file, and rollouts from per-step seeds. A run interrupted after step 1 and resumed must
// log the step-2 metrics of the uninterrupted run. KL at step 2 is > 0 only when the
// reference is the initial model (a resume that rebuilt it from the policy would log 0).
TEST(GrpoReview, ResumeReproducesTheUninterruptedRun) {
  SingleThread one;
  const Tokenizer& tok = small_tokenizer();
  r1::TempDir tmp;
  GrpoConfig cfg = small_grpo_config();
  cfg.steps = 2;
  cfg.mu = 2;
  cfg.lr = 0.05f;
  cfg.checkpoint_every = 1;
  std::string tok_json = tmp.file("tokenizer.json");
  tok.save(tok_json);
  Json straight;
  {
    Transformer m = format_or_not_model(9.0f, 8.5f);
    RunDir run(tmp.file("run"), cfg.to_json(), false);
    train_grpo(m, tok, tok_json, cfg, run, false);
    straight = step_metrics(run.path()).at(1);
    // interrupt after step 1: drop the step-2 checkpoint
    std::string last = run.latest_checkpoint();
    ASSERT_NE(last.find("step_"), std::string::npos);
    ASSERT_NE(last.find("2"), std::string::npos) << last;
    std::filesystem::remove_all(last);
  }
  ASSERT_GT(straight.at("kl").as_number(), 1e-6) << "precondition: the policy has moved from the reference";
  Transformer m = format_or_not_model(0.0f, 0.0f);  // weights come from the checkpoint
  RunDir run(tmp.file("run"), cfg.to_json(), true);
  train_grpo(m, tok, tok_json, cfg, run, true);
  std::vector<Json> steps = step_metrics(run.path());
  ASSERT_EQ(steps.size(), 2u);
  const Json& resumed = steps[1];
  EXPECT_EQ(resumed.at("step").as_int(), 2);
  // Same computation on the same inputs; 1e-5 relative leaves room for float summation order
  // if thread counts differ between the two runs.
  for (const char* k : {"reward_mean", "format_rate", "response_length", "loss", "kl", "clip_fraction", "entropy"})
    EXPECT_NEAR(resumed.at(k).as_number(), straight.at(k).as_number(), 1e-5 * (1 + std::fabs(straight.at(k).as_number())))
        << k;
}

// Dynamic sampling and truncation masking drop completions after the advantages are computed;
// each kept completion must still be trained with its own advantage and its own lp_old. The
// rollouts are replayed here (the trainer's seeds are Rng(seed + 1, i*G + g).next() for
// completion g of the run's i-th prompt; the table model sees only the last prompt token, and
// no completion can be accurate, so the reward is the format term alone). On the first step
// rho = 1 and KL = 0, so the grpo loss is -(1/N') sum over kept completions of A_i.
TEST(GrpoReview, DroppedGroupsAndTruncatedCompletionsKeepAdvantagesAligned) {
  SingleThread one;
  const Tokenizer& tok = small_tokenizer();
  int32_t last = tok.encode(r1zero_prompt("q")).back();
  int32_t think = tok.token_id("<think>"), end_think = tok.token_id("</think>"), answer = tok.token_id("<answer>"),
          end_answer = tok.token_id("</answer>"), eos = tok.token_id("<|endoftext|>"), x = id_of("x"), y = id_of("y");
  auto model = [&] {
    return table_model(512, {{last, {{think, 9}, {x, 8.3f}, {y, 8.3f}}},
                             {think, {{end_think, 10}}},
                             {end_think, {{answer, 10}}},
                             {answer, {{end_answer, 10}}},
                             {x, {{eos, 10}}},
                             {y, {{y, 10}}},  // never ends: truncated at max_new_tokens
                             {-1, {{eos, 10}}}});
  };
  GrpoConfig cfg = small_grpo_config();
  cfg.prompts_per_step = 3;
  cfg.max_new_tokens = 5;
  cfg.dynamic_sampling = true;
  cfg.mask_truncated = true;
  cfg.seed = 5;

  // Replay: G completions of each of the P prompts, as the trainer draws them.
  const int64_t P = cfg.prompts_per_step, G = cfg.group_size;
  Transformer m = model();
  std::vector<Ids> prompts;
  std::vector<uint64_t> seeds;
  for (int64_t i = 0; i < P; i++)
    for (int64_t g = 0; g < G; g++) {
      prompts.push_back({last});
      seeds.push_back(Rng(cfg.seed + 1, uint64_t(i * G + g)).next());
    }
  GenerateOptions gen;
  gen.sampling.temperature = cfg.temperature;
  gen.max_new_tokens = cfg.max_new_tokens;
  gen.stop_strings = {"</answer>"};
  gen.tokenizer = &tok;
  gen.eos_ids = {eos};
  std::vector<Generation> gens = generate(m, prompts, seeds, gen);
  std::vector<double> rewards;
  Json row = Json::parse(R"({"task": "arith", "prompt": "q", "answer": "7"})");
  for (const Generation& g : gens) rewards.push_back(compute_reward(row, completion_text(tok, g.tokens), cfg.weights).total);
  std::vector<double> A = grpo_advantages(rewards, G, cfg.objective);
  double sum_a = 0;
  int64_t kept = 0, flat_groups = 0, truncated_in_kept_groups = 0;
  for (int64_t g0 = 0; g0 < P * G; g0 += G) {
    bool flat = true;
    for (int64_t i = g0; i < g0 + G; i++) flat = flat && rewards[size_t(i)] == rewards[size_t(g0)];
    flat_groups += flat;
    for (int64_t i = g0; i < g0 + G && !flat; i++) {
      if (gens[size_t(i)].finish == "length") {
        truncated_in_kept_groups++;
        continue;
      }
      sum_a += A[size_t(i)];
      kept++;
    }
  }
  ASSERT_GE(flat_groups, 1) << "precondition (seed choice): a group is dropped";
  ASSERT_GE(truncated_in_kept_groups, 1) << "precondition (seed choice): a truncated completion is masked";
  ASSERT_GE(kept, 2);

  r1::TempDir tmp;
  std::string tok_json = tmp.file("tokenizer.json");
  tok.save(tok_json);
  Transformer trained = model();
  RunDir run(tmp.file("run"), cfg.to_json(), false);
  train_grpo(trained, tok, tok_json, cfg, run, false);
  const Json s = step_metrics(run.path()).at(0);
  EXPECT_EQ(s.at("completions_trained").as_int(), kept);
  EXPECT_NEAR(s.at("zero_std_groups").as_number(), double(flat_groups) / double(P), 1e-12);
  EXPECT_EQ(s.at("clip_fraction").as_number(), 0.0);
  EXPECT_LT(s.at("kl").as_number(), 1e-10);
  // the same rho ~ 1 rounding budget as FirstStepIsOnPolicy; a misaligned advantage or lp_old
  // moves the loss by ~|A| / N' > 0.1
  EXPECT_NEAR(s.at("loss").as_number(), -sum_a / double(kept), 1e-4);
}

// --- defects found in review (disabled until fixed; see the file comment) ------------------------

// `r1 grpo`, `r1 eval` and `r1 sample` accept a model whose vocab_size exceeds the tokenizer's
// (Hugging Face checkpoints pad the embedding: Qwen2.5 has 151936 rows for 151665 tokens).
// Nothing stops the sampler from drawing one of the padding ids, and then the stop-string
// check (generate.cpp, tokenizer->decode of the tail) and completion_text() throw
// "decode: token id ... is not in the vocabulary", ending a GRPO run mid-way. Expected: ids
// the tokenizer cannot decode are never sampled (or decode to nothing).
TEST(GrpoReviewFixed, PaddedVocabularyIdsDoNotAbortGeneration) {
  const Tokenizer& tok = small_tokenizer();
  ASSERT_EQ(tok.vocab_size(), 512);
  int32_t a = id_of("ab");
  // the model prefers id 515 (a padding row: the tokenizer has ids 0..511) after "ab"
  Transformer m = table_model(520, {{a, {{515, 20}}}});
  GenerateOptions opt;
  opt.max_new_tokens = 3;
  opt.tokenizer = &tok;
  opt.stop_strings = {"</answer>"};
  std::vector<Generation> g;
  EXPECT_NO_THROW(g = generate(m, {{a}}, {1}, opt));
  opt.stop_strings.clear();
  g = generate(m, {{a}}, {1}, opt);
  EXPECT_NO_THROW(completion_text(tok, g[0].tokens));
}

// dr_grpo in the trainer: GrpoConfig accepts max_len shorter than max_new_tokens, and
// grpo_loss() then throws in the middle of training the first time a completion is longer.
// With max_len 0 the normaliser is the longest completion of each minibatch, which changes
// from minibatch to minibatch; Dr. GRPO (and TRL's loss_type="dr_grpo":
// sum / (B * max_completion_length)) divide by the generation budget. Expected: the config
// rejects 0 < max_len < max_new_tokens (and the trainer uses max_new_tokens for max_len 0).
TEST(GrpoReviewFixed, DrGrpoMaxLenShorterThanTheBudgetIsAConfigError) {
  Json j = Json::parse(R"({"loss": "dr_grpo", "max_len": 8, "max_new_tokens": 64})");
  EXPECT_THROW(GrpoConfig::from_json(j, "grpo.json"), Error);
}

// validate() accepts eps = 0 (only eps < 0 is rejected), but then a group whose rewards are all
// equal - the most common group early in training - gets (r - mean) / (0 + 0) = 0/0 = NaN
// advantages. In the trainer the NaN reaches the loss and every gradient, clip_grad_norm
// returns NaN, the AdamW step is skipped, and the run silently never updates.
// docs/algorithm.md promises "exactly 0" for such groups. Expected: 0 (or eps = 0 rejected).
TEST(GrpoReviewFixed, ZeroEpsGivesZeroNotNanForAFlatGroup) {
  GrpoOptions o;
  o.eps = 0;
  std::vector<double> a;
  try {
    a = grpo_advantages({1, 1, 0, 1}, 2, o);
  } catch (const Error&) {
    SUCCEED() << "eps = 0 rejected: also a fix";
    return;
  }
  EXPECT_EQ(a[0], 0.0);
  EXPECT_EQ(a[1], 0.0);
  o.scale_rewards = "batch";  // a batch whose rewards are all equal: std_all = 0
  a = grpo_advantages({1, 1, 1, 1}, 2, o);
  EXPECT_EQ(a[0], 0.0);
}
