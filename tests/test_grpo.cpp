// Tests for the GRPO objective: golden vectors from the independent Python implementation
// (data/golden/grpo/make_golden.py) checked against the reference function, the training
// op grpo_objective() and the `r1 grpo-loss` CLI; plus hand-computed cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <string>

#include "autograd/autograd.h"
#include "rl/grpo.h"
#include "rl/grpo_case.h"
#include "util/error.h"
#include "test_util.h"

using namespace r1;

static std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  std::string dir = r1::testing::repo_root() + "/data/golden/grpo";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") out.push_back(dir + "/" + n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// Both sides compute the same double-precision formulas in possibly different orders:
// agreement to ~1e-15 relative is expected; 1e-12 leaves room for summation order.
static void expect_close(double got, double want, double rel, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), rel * (1.0 + std::fabs(want))) << what << ": got " << got << " want " << want;
}

static void expect_matches(const Json& got, const Json& want, double rel, const std::string& name) {
  ASSERT_EQ(got.at("advantages").size(), want.at("advantages").size());
  for (size_t i = 0; i < want.at("advantages").size(); i++)
    expect_close(got.at("advantages")[i].as_number(), want.at("advantages")[i].as_number(), rel, name + " advantage");
  expect_close(got.at("loss").as_number(), want.at("loss").as_number(), rel, name + " loss");
  expect_close(got.at("kl_mean").as_number(), want.at("kl_mean").as_number(), rel, name + " kl_mean");
  expect_close(got.at("clip_fraction").as_number(), want.at("clip_fraction").as_number(), rel, name + " clip");
  for (size_t i = 0; i < want.at("grad_lp").size(); i++)
    for (size_t t = 0; t < want.at("grad_lp")[i].size(); t++)
      expect_close(got.at("grad_lp")[i][t].as_number(), want.at("grad_lp")[i][t].as_number(), rel, name + " grad");
}

TEST(GrpoGolden, AllCasesPresent) {
  // 18 option combinations + 7 special cases written by make_golden.py.
  EXPECT_EQ(golden_files().size(), 25u) << "run from the repo root or set R1_ROOT";
}

TEST(GrpoGolden, ReferenceFunctionMatches) {
  for (const std::string& f : golden_files()) {
    Json doc = Json::parse_file(f);
    GrpoCase c = parse_grpo_case(doc.at("input"), f);
    expect_matches(run_grpo_case(c), doc.at("expected"), 1e-12, f);
  }
}

// The trainer differentiates grpo_objective() on float32 log-probs. Golden inputs are
// multiples of 1/256 (exact in float32), so the only difference is the float32 rounding of
// the loss and of each gradient entry: relative 1e-6 (float eps 6e-8, with margin).
TEST(GrpoGolden, TrainingOpMatches) {
  for (const std::string& f : golden_files()) {
    Json doc = Json::parse_file(f);
    GrpoCase c = parse_grpo_case(doc.at("input"), f);
    std::vector<int64_t> lengths;
    std::vector<float> lp, lp_old, lp_ref;
    for (size_t i = 0; i < c.lp.size(); i++) {
      lengths.push_back(int64_t(c.lp[i].size()));
      for (size_t t = 0; t < c.lp[i].size(); t++) {
        lp.push_back(float(c.lp[i][t]));
        lp_old.push_back(float(c.lp_old[i][t]));
        lp_ref.push_back(float(c.lp_ref[i][t]));
      }
    }
    Tensor x = Tensor::from_vector({int64_t(lp.size())}, lp);
    x.set_requires_grad(true);
    std::vector<double> adv = grpo_advantages(c.rewards, c.group_size, c.options);
    GrpoLoss stats;
    Tensor loss = grpo_objective(x, lengths, adv, lp_old, lp_ref, c.options, &stats);
    backward(loss);
    const Json& want = doc.at("expected");
    expect_close(loss.item(), want.at("loss").as_number(), 1e-6, f + " loss");
    expect_close(stats.clip_fraction, want.at("clip_fraction").as_number(), 1e-12, f + " clip");
    std::vector<float> g = x.grad().to_vector();
    size_t k = 0;
    for (size_t i = 0; i < want.at("grad_lp").size(); i++)
      for (size_t t = 0; t < want.at("grad_lp")[i].size(); t++, k++)
        expect_close(g[k], want.at("grad_lp")[i][t].as_number(), 1e-6, f + " grad");
  }
}

TEST(GrpoGolden, CliMatches) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN not set (make test sets it to build/r1)";
  for (const std::string& f : golden_files()) {
    Json doc = Json::parse_file(f);
    std::string in = ::testing::TempDir() + "grpo_case.json";
    FILE* fp = std::fopen(in.c_str(), "w");
    std::fputs(doc.at("input").dump().c_str(), fp);
    std::fclose(fp);
    FILE* p = popen((std::string(bin) + " grpo-loss --in " + in).c_str(), "r");
    ASSERT_TRUE(p);
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ASSERT_EQ(pclose(p), 0) << f;
    expect_matches(Json::parse(out, "r1 grpo-loss output"), doc.at("expected"), 1e-12, f + " (cli)");
  }
}

// --- hand-computed cases ------------------------------------------------------------

TEST(Grpo, AdvantagesByHand) {
  GrpoOptions o;
  // group (1, 0, 0, 1): mean 0.5, sample std sqrt(1/3) = 0.57735
  std::vector<double> a = grpo_advantages({1, 0, 0, 1}, 4, o);
  EXPECT_NEAR(a[0], 0.5 / (std::sqrt(1.0 / 3) + 1e-4), 1e-12);
  EXPECT_NEAR(a[1], -0.5 / (std::sqrt(1.0 / 3) + 1e-4), 1e-12);
  o.std = "population";  // std 0.5
  EXPECT_NEAR(grpo_advantages({1, 0, 0, 1}, 4, o)[0], 0.5 / 0.5001, 1e-12);
  o.scale_rewards = "none";
  EXPECT_DOUBLE_EQ(grpo_advantages({1, 0, 0, 1}, 4, o)[0], 0.5);
  // all equal: zero advantage, not a division by zero
  EXPECT_EQ(grpo_advantages({1, 1, 1}, 3, GrpoOptions())[2], 0.0);
  EXPECT_THROW(grpo_advantages({1, 0, 1}, 2, GrpoOptions()), Error);
}

TEST(Grpo, ClippingByHand) {
  GrpoOptions o;
  o.beta = 0;
  // One token, A = 1, rho = e^0.5 = 1.6487 > 1.2: the clipped term 1.2 is smaller -> loss -1.2, grad 0.
  GrpoLoss r = grpo_loss({1.0}, {{0.5}}, {{0.0}}, {{0.0}}, o);
  EXPECT_NEAR(r.loss, -1.2, 1e-12);
  EXPECT_EQ(r.grad_lp[0][0], 0.0);
  EXPECT_EQ(r.clip_fraction, 1.0);
  // A = -1 with the same rho: unclipped -1.6487 is the min -> gradient flows: dl/dlp = -rho*A = rho.
  r = grpo_loss({-1.0}, {{0.5}}, {{0.0}}, {{0.0}}, o);
  EXPECT_NEAR(r.loss, std::exp(0.5), 1e-12);
  EXPECT_NEAR(r.grad_lp[0][0], std::exp(0.5), 1e-12);
  EXPECT_EQ(r.clip_fraction, 0.0);
  // KL only: A = 0, lp_ref - lp = 0.3: kl = e^0.3 - 0.3 - 1, dl/dlp = beta (1 - e^0.3)
  o.beta = 0.1;
  r = grpo_loss({0.0}, {{-1.0}}, {{-1.0}}, {{-0.7}}, o);
  EXPECT_NEAR(r.loss, 0.1 * (std::exp(0.3) - 0.3 - 1), 1e-12);
  EXPECT_NEAR(r.grad_lp[0][0], 0.1 * (1 - std::exp(0.3)), 1e-12);
}

TEST(Grpo, OnPolicyFirstStepLossIsZeroButGradientIsNot) {
  // mu = 1: lp == lp_old == lp_ref, so rho = 1, kl = 0 and with the grpo aggregation
  // L = -(1/N) sum_i A_i = 0 because advantages sum to zero within each group.
  GrpoOptions o;
  std::vector<double> adv = grpo_advantages({1, 0, 0, 0}, 4, o);
  std::vector<std::vector<double>> lp = {{-1, -2}, {-0.5}, {-3, -1, -2}, {-1}};
  GrpoLoss r = grpo_loss(adv, lp, lp, lp, o);
  EXPECT_NEAR(r.loss, 0.0, 1e-15);
  EXPECT_NEAR(r.grad_lp[0][0], -adv[0] / (4 * 2), 1e-15);
}

TEST(Grpo, BadCaseErrorsNameTheField) {
  auto err = [](const std::string& text) {
    try {
      parse_grpo_case(Json::parse(text), "case.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err(R"({"rewards": [1], "lp": [[1]], "lp_old": [[1]], "lp_ref": [[1]]})"),
            "case.json: field 'group_size': missing field 'group_size'");
  EXPECT_EQ(err(R"({"group_size": 1, "rewards": [1], "lp": [[1, "x"]], "lp_old": [[1]], "lp_ref": [[1]]})"),
            "case.json: field 'lp' row 0[1]: expected a number, got \"x\"");
  EXPECT_EQ(err(R"({"group_size": 1, "rewards": [1], "lp": [[1]], "lp_old": [[1, 2]], "lp_ref": [[1]]})"),
            "case.json: row 0 has 1 lp, 2 lp_old, 1 lp_ref values");
  EXPECT_EQ(err(R"({"group_size": 2, "rewards": [1], "lp": [[1]], "lp_old": [[1]], "lp_ref": [[1]]})"),
            "case.json: 1 completions do not split into groups of group_size 2");
  EXPECT_EQ(err(R"({"group_size": 1, "rewards": [1], "lp": [[1]], "lp_old": [[1]], "lp_ref": [[1]], "options": {"loss": "ppo"}})"),
            "case.json: options: option loss: 'ppo' is not one of grpo, token-mean, dr_grpo, seq-mean-token-sum, "
            "seq-mean-token-sum-norm");
  EXPECT_EQ(err(R"({"group_size": 1, "rewards": [1], "lp": [[1]], "lp_old": [[1]], "lp_ref": [[1]], "options": {"bta": 1}})"),
            "case.json: unknown option 'bta'");
}
