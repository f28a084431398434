// Tests for src/reward/reward_model.h: the Bradley-Terry loss (value against a hand-computed
// double, gradient by finite differences), the whole reward model's gradient (score head and
// backbone) by finite differences on a micro model, the head reading each sequence's last real
// token (padding never changes a score), and the RM directory format (round trip, strictness).
#include <gtest/gtest.h>

#include <cmath>

#include "cli_util.h"
#include "gradcheck.h"
#include "model/checkpoint.h"
#include "reward/reward_model.h"
#include "test_util.h"
#include "util/error.h"
#include "util/safetensors.h"

namespace r1 {
namespace {

using testing::OneThread;

// -log sigmoid(d) in double, stably.
double neg_log_sigmoid(double d) { return std::max(-d, 0.0) + std::log1p(std::exp(-std::fabs(d))); }

TEST(RmLoss, BradleyTerryValue) {
  // Margins 1.5, -2, 35, -35: the large ones would overflow a naive -log(sigmoid(d)) in fp32.
  std::vector<float> rc = {2.0f, -1.0f, 30.0f, -30.0f}, rr = {0.5f, 1.0f, -5.0f, 5.0f};
  double expected = 0;
  for (size_t i = 0; i < rc.size(); i++) expected += neg_log_sigmoid(double(rc[i]) - double(rr[i]));
  expected /= double(rc.size());  // (0.2014 + 2.1269 + 0 + 35) / 4
  Tensor loss = bradley_terry_loss(Tensor::from_vector({4}, rc), Tensor::from_vector({4}, rr));
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), expected, 1e-5 * expected);
  EXPECT_NEAR(expected, 9.332085, 1e-5);  // the hand computation itself
}

TEST(RmLoss, BradleyTerryGradient) {
  Rng rng(5);
  std::vector<Tensor> inputs = {Tensor::randn({6}, rng, 2.0f).set_requires_grad(true),
                                Tensor::randn({6}, rng, 2.0f).set_requires_grad(true)};
  testing::expect_gradients_match([](const std::vector<Tensor>& x) { return bradley_terry_loss(x[0], x[1]); },
                                  inputs);
}

TEST(RmLoss, BradleyTerryRejectsMismatchedShapes) {
  EXPECT_THROW(bradley_terry_loss(Tensor::zeros({3}), Tensor::zeros({2})), Error);
}

// --- a micro reward model -------------------------------------------------------------------

// A causal-LM directory (2 layers, width 8, untied lm_head) over the small test tokenizer.
std::string write_micro_lm(const TempDir& dir) {
  Tokenizer tok = testing::write_small_tokenizer(dir.file("tokenizer.json"));
  Config c = testing::tiny_llama_config(tok.vocab_size());
  c.hidden_size = 8;
  c.num_hidden_layers = 2;
  c.head_dim = 4;
  c.intermediate_size = 12;
  c.initializer_range = 0.3;
  c.max_position_embeddings = 48;
  Transformer m(c);
  m.init_weights(3);
  save_model(dir.file("lm"), m, dir.file("tokenizer.json"));
  return dir.file("lm");
}

TEST(RmModel, GradientMatchesFiniteDifferences) {
  TempDir dir;
  RewardModel rm = RewardModel::from_causal_lm(write_micro_lm(dir), 1, 0.5f);
  OneThread one_thread;
  std::vector<Ids> chosen = {rm.encode("Sort the words: cat sun", "<answer> cat sun </answer>"),
                             rm.encode("Count the words: a b c", "<answer> 3 </answer>")};
  std::vector<Ids> rejected = {rm.encode("Sort the words: cat sun", "sun cat"),
                               rm.encode("Count the words: a b c", "<answer> 4 </answer> and more text")};
  std::vector<Tensor> params;
  for (auto& [name, p] : rm.parameters()) {
    EXPECT_NE(name, "lm_head.weight");
    params.push_back(p);
  }
  ASSERT_EQ(rm.parameters().back().first, "score.weight");
  testing::TensorFn f = [&](const std::vector<Tensor>&) {
    std::vector<Ids> all = chosen;
    all.insert(all.end(), rejected.begin(), rejected.end());
    std::vector<Tensor> r = split(rm.forward(all), {2, 2}, 0);  // chosen and rejected in one padded batch
    return bradley_terry_loss(r[0], r[1]);
  };
  testing::GradcheckOptions opt;  // the loss is O(1): as the model gradchecks (test_model.cpp)
  opt.h = 1e-3;
  opt.atol = 1e-3;
  opt.rtol = 1e-2;
  testing::expect_gradients_match(f, params, opt);
}

TEST(RmModel, PaddingDoesNotChangeAScore) {
  TempDir dir;
  RewardModel rm = RewardModel::from_causal_lm(write_micro_lm(dir), 1, 0.5f);
  Ids short_seq = rm.encode("Last word of: cat sun", "<answer> sun </answer>");
  Ids long_seq = rm.encode("Reverse the words: cat sun pen", "<think> the words are cat, sun, pen. </think>");
  ASSERT_LT(short_seq.size() + 5, long_seq.size());
  NoGradGuard guard;
  float alone = rm.forward({short_seq}).item();
  std::vector<float> batched = rm.forward({long_seq, short_seq, long_seq}).to_vector();
  EXPECT_NEAR(batched[1], alone, 1e-5);
  EXPECT_NEAR(batched[0], batched[2], 1e-6);
  EXPECT_GT(std::fabs(batched[0] - alone), 1e-4);  // the head does read the sequence
  // score() batches internally: any batch size gives the same scores.
  std::vector<std::string> prompts = {"Last word of: cat sun", "Reverse the words: cat sun pen"};
  std::vector<std::string> replies = {"<answer> sun </answer>", "<think> the words are cat, sun, pen. </think>"};
  std::vector<double> one = rm.score(prompts, replies, 1), both = rm.score(prompts, replies, 2);
  ASSERT_EQ(one.size(), 2u);
  EXPECT_NEAR(one[0], alone, 1e-5);
  EXPECT_NEAR(one[0], both[0], 1e-5);
  EXPECT_NEAR(one[1], both[1], 1e-5);
}

TEST(RmModel, EncodeTruncatesFromTheLeft) {
  TempDir dir;
  RewardModel rm = RewardModel::from_causal_lm(write_micro_lm(dir), 1, 0.5f);
  std::string reply = "<answer> pen </answer>";
  std::string long_prompt;
  for (int i = 0; i < 40; i++) long_prompt += "cat sun ";
  Ids ids = rm.encode(long_prompt, reply);
  EXPECT_EQ(int64_t(ids.size()), rm.backbone().config().max_position_embeddings);
  std::vector<int> tail = rm.tokenizer().encode(reply);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), ids.end() - long(tail.size())));
}

TEST(RmModel, DirectoryRoundTripAndStrictness) {
  TempDir dir;
  RewardModel rm = RewardModel::from_causal_lm(write_micro_lm(dir), 1, 0.5f);
  rm.save(dir.file("rm"));
  Json cfg = Json::parse_file(dir.file("rm/config.json"));
  EXPECT_EQ(cfg.at("architectures")[0].as_string(), "LlamaForSequenceClassification");
  EXPECT_EQ(cfg.at("num_labels").as_int(), 1);
  SafetensorsFile st = load_safetensors(dir.file("rm/model.safetensors"));
  ASSERT_NE(st.find("score.weight"), nullptr);
  EXPECT_EQ(st.find("score.weight")->shape, (Shape{1, 8}));
  EXPECT_EQ(st.find("lm_head.weight"), nullptr);

  RewardModel back = RewardModel::load(dir.file("rm"));
  std::vector<std::string> p = {"Count the words: cat sun"}, c = {"<answer> 2 </answer>"};
  EXPECT_EQ(back.score(p, c), rm.score(p, c));

  // A causal LM is not a reward model, and a reward model directory misses lm_head for load_model.
  try {
    RewardModel::load(dir.file("lm"));
    ADD_FAILURE() << "loaded a causal LM as a reward model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lm/config.json: field 'architectures'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_model(dir.file("rm")), Error);

  // Without score.weight the load fails naming the tensor.
  std::vector<StTensor> kept;
  for (const StTensor& t : st.tensors)
    if (t.name != "score.weight") kept.push_back(t);
  save_safetensors(dir.file("rm/model.safetensors"), kept, {});
  try {
    RewardModel::load(dir.file("rm"));
    ADD_FAILURE() << "loaded a reward model without its head";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'score.weight'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1
