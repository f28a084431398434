// Tests for the sampler and the batched generation engine: greedy == argmax of the full
// forward, cached == uncached generation, empirical frequencies match the softmax (chi-square),
// exact truncation supports for top-k/top-p/min-p, reported logprobs == the training
// forward's, and batch-composition independence.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "model/transformer.h"
#include "ops/ops.h"
#include "sample/generate.h"
#include "sample/sampler.h"
#include "sample/template.h"
#include "util/error.h"

using namespace r1;

// A tiny MoE model with a large init so its distributions are far from uniform.
static Transformer tiny_model() {
  Json j = Json::parse(R"({"model_type": "deepseek_v3", "vocab_size": 40, "hidden_size": 32,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 48,
    "moe_intermediate_size": 16, "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2,
    "first_k_dense_replace": 1, "max_position_embeddings": 128, "initializer_range": 0.3})");
  Transformer m(Config::from_json(j));
  m.init_weights(7);
  return m;
}

// Full (uncached) forward logits of one sequence: (T, V).
static std::vector<float> full_logits(Transformer& m, const Ids& seq) {
  NoGradGuard g;
  return m.forward(seq, 1, int64_t(seq.size())).logits.to_vector();
}

static const std::vector<Ids> kPrompts = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9, 10}, {11}};

TEST(Generate, GreedyEqualsArgmaxOfFullForwardAtEveryStep) {
  Transformer m = tiny_model();
  GenerateOptions opt;
  opt.sampling.temperature = 0;
  opt.max_new_tokens = 12;
  auto gens = generate(m, kPrompts, {1, 2, 3, 4}, opt);
  int64_t V = m.config().vocab_size;
  for (size_t i = 0; i < kPrompts.size(); i++) {
    Ids seq = kPrompts[i];
    ASSERT_EQ(gens[i].tokens.size(), 12u);
    EXPECT_EQ(gens[i].finish, "length");
    for (int32_t tok : gens[i].tokens) {
      std::vector<float> lg = full_logits(m, seq);
      const float* row = lg.data() + (int64_t(seq.size()) - 1) * V;
      EXPECT_EQ(tok, int32_t(std::max_element(row, row + V) - row));
      seq.push_back(tok);
    }
  }
}

TEST(Generate, CachedAndUncachedSamplingGiveTheSameTokensAndLogprobs) {
  Transformer m = tiny_model();
  GenerateOptions opt;
  opt.sampling.temperature = 0.8f;
  opt.sampling.top_p = 0.95f;
  opt.max_new_tokens = 10;
  auto gens = generate(m, kPrompts, {11, 12, 13, 14}, opt);
  int64_t V = m.config().vocab_size;
  for (size_t i = 0; i < kPrompts.size(); i++) {
    Rng rng(11 + i);
    Ids seq = kPrompts[i];
    for (size_t t = 0; t < gens[i].tokens.size(); t++) {
      std::vector<float> lg = full_logits(m, seq);
      TokenChoice c = sample_token(lg.data() + (int64_t(seq.size()) - 1) * V, V, opt.sampling, rng);
      EXPECT_EQ(c.token, gens[i].tokens[t]) << "sequence " << i << " step " << t;
      // cached vs full attention differ only by float summation order: 1e-4 on a log-prob
      EXPECT_NEAR(c.logprob, gens[i].logprobs[t], 1e-4);
      seq.push_back(c.token);
    }
  }
}

TEST(Generate, ReportedLogprobsEqualTheTrainingForward) {
  Transformer m = tiny_model();
  GenerateOptions opt;
  opt.sampling.temperature = 0.7f;
  opt.sampling.top_k = 5;  // truncation must not change the reported log-prob
  opt.max_new_tokens = 8;
  auto gens = generate(m, kPrompts, {21, 22, 23, 24}, opt);
  for (size_t i = 0; i < kPrompts.size(); i++) {
    Ids seq = kPrompts[i];
    seq.insert(seq.end(), gens[i].tokens.begin(), gens[i].tokens.end());
    int64_t T = int64_t(seq.size());
    // The trainer's recomputation: log_softmax(logits / temperature) gathered at the next token.
    Tensor logits = m.forward(seq, 1, T).logits;
    Tensor lp = log_softmax(scale(logits, 1.0f / 0.7f));
    for (size_t t = 0; t < gens[i].tokens.size(); t++) {
      int64_t row = int64_t(kPrompts[i].size()) - 1 + int64_t(t);
      // float32 forward (training) vs double log-softmax of the cached path: 1e-4
      EXPECT_NEAR(lp.at({row, gens[i].tokens[t]}), gens[i].logprobs[t], 1e-4);
    }
  }
}

TEST(Generate, BatchCompositionDoesNotChangeASequence) {
  Transformer m = tiny_model();
  GenerateOptions opt;
  opt.max_new_tokens = 10;
  auto together = generate(m, kPrompts, {31, 32, 33, 34}, opt);
  for (size_t i = 0; i < kPrompts.size(); i++) {
    auto alone = generate(m, {kPrompts[i]}, {31 + i}, opt);
    EXPECT_EQ(alone[0].tokens, together[i].tokens) << "sequence " << i;
    for (size_t t = 0; t < alone[0].logprobs.size() && t < together[i].logprobs.size(); t++)
      EXPECT_NEAR(alone[0].logprobs[t], together[i].logprobs[t], 1e-4);  // padding changes summation order only
  }
  // In a different order, with a duplicate.
  auto shuffled = generate(m, {kPrompts[2], kPrompts[0], kPrompts[2]}, {33, 31, 33}, opt);
  EXPECT_EQ(shuffled[0].tokens, together[2].tokens);
  EXPECT_EQ(shuffled[1].tokens, together[0].tokens);
  EXPECT_EQ(shuffled[2].tokens, together[2].tokens);
}

TEST(Generate, EosFinishesEarlyAndOthersContinue) {
  Transformer m = tiny_model();
  GenerateOptions opt;
  opt.sampling.temperature = 0;
  opt.max_new_tokens = 12;
  auto greedy = generate(m, kPrompts, {0, 0, 0, 0}, opt);
  // Make the 3rd greedy token of sequence 0 an EOS: it stops there, the rest are unchanged.
  opt.eos_ids = {greedy[0].tokens[2]};
  auto gens = generate(m, kPrompts, {0, 0, 0, 0}, opt);
  size_t first = std::find(greedy[0].tokens.begin(), greedy[0].tokens.end(), opt.eos_ids[0]) - greedy[0].tokens.begin();
  EXPECT_EQ(gens[0].finish, "eos");
  EXPECT_EQ(gens[0].tokens, Ids(greedy[0].tokens.begin(), greedy[0].tokens.begin() + long(first) + 1));
  for (size_t i = 1; i < kPrompts.size(); i++) {
    auto it = std::find(greedy[i].tokens.begin(), greedy[i].tokens.end(), opt.eos_ids[0]);
    Ids expect(greedy[i].tokens.begin(), it == greedy[i].tokens.end() ? it : it + 1);
    EXPECT_EQ(gens[i].tokens, expect) << "sequence " << i;
  }
}

TEST(Generate, RejectsBadInput) {
  Transformer m = tiny_model();
  GenerateOptions opt;
  EXPECT_THROW(generate(m, {{1, 2}}, {1, 2}, opt), Error);           // seed count
  EXPECT_THROW(generate(m, {{}}, {1}, opt), Error);                  // empty prompt
  EXPECT_THROW(generate(m, {{1, 99}}, {1}, opt), Error);             // token outside the vocab
  opt.max_new_tokens = 1000;
  EXPECT_THROW(generate(m, {{1}}, {1}, opt), Error);                 // beyond max positions
}

// --- the sampler on hand-made logits ----------------------------------------------------

static std::vector<int32_t> support(const std::vector<float>& logits, SamplingParams p) {
  std::vector<int32_t> out;
  for (auto& [id, q] : sampling_distribution(logits.data(), int64_t(logits.size()), p)) out.push_back(id);
  return out;
}

TEST(Sampler, TruncationSupportsAreExact) {
  // probabilities proportional to 8, 4, 2, 1, 1 (sum 16): p = .5, .25, .125, .0625, .0625
  std::vector<float> lg = {std::log(8.f), std::log(4.f), std::log(2.f), 0.f, 0.f};
  SamplingParams p;
  p.top_k = 2;
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1}));
  p.top_k = 4;  // the 4th (p=1/16) ties with the 5th: both stay, as in HF
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1, 2, 3, 4}));
  p = SamplingParams();
  p.top_p = 0.74f;  // .5 + .25 = .75 >= .74 (kept off the exact boundary)
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1}));
  p.top_p = 0.76f;
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1, 2}));
  p.top_p = 0.1f;  // the most likely token always stays
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0}));
  p = SamplingParams();
  p.min_p = 0.24f;  // keep p >= .12 (boundaries are kept off exact ties: float logits are rounded)
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1, 2}));
  p.min_p = 0.26f;
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1}));
  // composed: top_k 3 then top_p .8 of the renormalised (.571, .286, .143): .857 >= .8 -> 2 tokens
  p = SamplingParams();
  p.top_k = 3;
  p.top_p = 0.8f;
  EXPECT_EQ(support(lg, p), (std::vector<int32_t>{0, 1}));
  auto dist = sampling_distribution(lg.data(), 5, p);
  EXPECT_NEAR(dist[0].second, 2.0 / 3, 1e-7);  // logits log(8), log(4) are float-rounded: ~1e-7 relative
}

TEST(Sampler, TemperatureScalesTheDistribution) {
  std::vector<float> lg = {2.0f, 1.0f, 0.0f};
  SamplingParams p;
  p.temperature = 0.5f;
  auto d = sampling_distribution(lg.data(), 3, p);
  double z = std::exp(4.0) + std::exp(2.0) + 1;
  EXPECT_NEAR(d[0].second, std::exp(4.0) / z, 1e-12);
  Rng rng(1);
  TokenChoice c = sample_token(lg.data(), 3, p, rng);
  EXPECT_NEAR(c.logprob, std::log(d[size_t(c.token)].second), 1e-6);
}

// Chi-square goodness of fit of 20000 draws over 6 tokens (5 degrees of freedom). With the
// fixed seed the statistic is a fixed number; 20.5 is the 0.999 quantile of chi2(5), so a
// correct sampler fails this with probability 1e-3 over seeds, and a biased one (e.g. an
// off-by-one in the CDF walk) lands far above it.
TEST(Sampler, EmpiricalFrequenciesMatchTheSoftmax) {
  std::vector<float> lg = {0.5f, -1.0f, 2.0f, 0.0f, 1.0f, -0.3f};
  SamplingParams p;
  p.temperature = 1.3f;
  auto dist = sampling_distribution(lg.data(), 6, p);
  Rng rng(2026);
  const int n = 20000;
  std::vector<int> count(6, 0);
  for (int i = 0; i < n; i++) count[size_t(sample_token(lg.data(), 6, p, rng).token)]++;
  double chi2 = 0;
  for (int k = 0; k < 6; k++) {
    double e = n * dist[size_t(k)].second;
    chi2 += (count[size_t(k)] - e) * (count[size_t(k)] - e) / e;
  }
  EXPECT_LT(chi2, 20.5);
  // and truncated: top_k 2 must never produce a third token
  p.top_k = 2;
  for (int i = 0; i < 2000; i++) {
    int32_t t = sample_token(lg.data(), 6, p, rng).token;
    EXPECT_TRUE(t == 2 || t == 4) << t;
  }
}

TEST(Sampler, GreedyAndBadParameters) {
  std::vector<float> lg = {0.f, 3.f, 3.f, 1.f};
  SamplingParams p;
  p.temperature = 0;
  Rng rng(0);
  EXPECT_EQ(sample_token(lg.data(), 4, p, rng).token, 1);  // lowest id on ties
  p.temperature = -1;
  EXPECT_THROW(validate(p), Error);
  p = SamplingParams();
  p.top_p = 0;
  EXPECT_THROW(validate(p), Error);
}

TEST(Template, R1ZeroAndChat) {
  std::string p = r1zero_prompt("What is 2+3");
  EXPECT_EQ(p.substr(0, 38), "A conversation between User and Assist");
  EXPECT_EQ(p.substr(p.size() - 29), "User: What is 2+3. Assistant:");
  EXPECT_EQ(chat_prompt("hi", true), "<|user|>hi<|assistant|><think>");
  EXPECT_EQ(chat_format({{"user", "a"}, {"assistant", "b"}}), "<|user|>a<|assistant|>b<|endoftext|>");
  EXPECT_THROW(chat_format({{"system", "a"}}), Error);
  EXPECT_THROW(format_prompt("alpaca", "x"), Error);
}
