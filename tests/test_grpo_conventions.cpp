// Tests for the named GRPO conventions: the golden vectors of
// data/golden/grpo/conventions/make_conventions.py (each framework's loss written in PyTorch,
// gradients by autograd) checked through the library, the `r1 grpo-loss --convention` CLI and
// the float32 training op; plus the convention registry and the trainer's config.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>

#include "autograd/autograd.h"
#include "cli_util.h"
#include "rl/grpo.h"
#include "rl/grpo_case.h"
#include "rl/grpo_trainer.h"
#include "util/error.h"
#include "util/fs.h"

using namespace r1;
using r1::testing::run_r1;

namespace {

std::string golden_path() {
  const char* r = std::getenv("R1_ROOT");
  return std::string(r ? r : ".") + "/data/golden/grpo/conventions/conventions.json";
}

const Json& golden() {
  static const Json doc = Json::parse_file(golden_path());
  return doc;
}

// The case `r1 grpo-loss` reads: a batch plus the entry's option overrides (the convention
// itself is given separately, as --convention does).
Json case_of(const Json& batch, const Json& entry) {
  Json c = batch;
  c["options"] = entry.at("options");
  return c;
}

// |got - want| <= rel * (1 + |want|): relative for values of size >= 1, absolute below.
void expect_close(double got, double want, double rel, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), rel * (1.0 + std::fabs(want))) << what << ": got " << got << " want " << want;
}

void expect_rows(const Json& got, const Json& want, double rel, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); i++) {
    ASSERT_EQ(got[i].size(), want[i].size()) << what << " row " << i;
    for (size_t t = 0; t < want[i].size(); t++)
      expect_close(got[i][t].as_number(), want[i][t].as_number(), rel, cat(what, "[", i, "][", t, "]"));
  }
}

// Both sides compute the same double-precision formulas in different orders (and the
// reference differentiates with autograd where r1 uses hand-derived gradients): agreement to
// ~1e-15 is expected; 1e-12 leaves room for summation order.
constexpr double kDoubleTol = 1e-12;

void expect_matches(const Json& got, const Json& want, const std::string& what) {
  ASSERT_EQ(got.at("advantages").size(), want.at("advantages").size()) << what;
  for (size_t i = 0; i < want.at("advantages").size(); i++)
    expect_close(got.at("advantages")[i].as_number(), want.at("advantages")[i].as_number(), kDoubleTol,
                 what + " advantage");
  for (const char* f : {"loss", "kl_mean", "clip_fraction", "dual_clip_fraction", "tis_capped_fraction"})
    expect_close(got.at(f).as_number(), want.at(f).as_number(), kDoubleTol, what + " " + f);
  if (want.contains("token_advantages")) {
    ASSERT_TRUE(got.contains("token_advantages")) << what;
    expect_rows(got.at("token_advantages"), want.at("token_advantages"), kDoubleTol, what + " token_advantages");
  }
  expect_rows(got.at("grad_lp"), want.at("grad_lp"), kDoubleTol, what + " grad_lp");
}

}  // namespace

TEST(GrpoConventions, EveryConventionHasGoldenVectors) {
  std::set<std::string> covered;
  for (const auto& [key, entry] : golden().at("conventions").as_object()) covered.insert(entry.at("convention").as_string());
  for (const std::string& name : grpo_convention_names())
    if (name != "r1") EXPECT_TRUE(covered.count(name)) << name << " has no golden vectors";
  EXPECT_EQ(golden().at("batches").size(), 5u);
}

TEST(GrpoConventions, LibraryMatchesGolden) {
  for (const auto& [key, entry] : golden().at("conventions").as_object())
    for (const auto& [bname, batch] : golden().at("batches").as_object()) {
      std::string what = key + "/" + bname;
      GrpoCase c = parse_grpo_case(case_of(batch, entry), what, entry.at("convention").as_string());
      expect_matches(run_grpo_case(c), entry.at("expected").at(bname), what);
    }
}

TEST(GrpoConventions, CliMatchesGolden) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "no r1 binary (set R1_BIN)";
  TempDir dir;
  std::string path = dir.file("case.json");
  for (const auto& [key, entry] : golden().at("conventions").as_object())
    for (const auto& [bname, batch] : golden().at("batches").as_object()) {
      write_file_atomic(path, case_of(batch, entry).dump());
      const std::string& name = entry.at("convention").as_string();
      auto r = run_r1("grpo-loss --in " + path + " --convention " + name + " --json", dir);
      ASSERT_EQ(r.code, 0) << key << ": " << r.err;
      Json got = Json::parse(r.out, "r1 grpo-loss output");
      EXPECT_EQ(got.at("convention").as_string(), name);
      expect_matches(got, entry.at("expected").at(bname), key + "/" + bname + " (cli)");
    }
}

// The trainer's op: float32 log-probs in (exact: the inputs are multiples of 1/256), the
// loss and dL/dlp computed in double, then rounded to float32 once: relative 1e-6 (float32
// eps 6e-8, with margin) through autograd's backward.
TEST(GrpoConventions, TrainingOpMatchesGolden) {
  for (const auto& [key, entry] : golden().at("conventions").as_object())
    for (const auto& [bname, batch] : golden().at("batches").as_object()) {
      std::string what = key + "/" + bname;
      GrpoCase c = parse_grpo_case(case_of(batch, entry), what, entry.at("convention").as_string());
      Ragged adv = grpo_token_advantages(c.rewards, c.group_size, c.lp_old, c.lp_ref, c.options);
      std::vector<int64_t> lengths;
      std::vector<float> lp, lp_old, lp_ref, lp_rollout;
      std::vector<double> token_adv;
      for (size_t i = 0; i < c.lp.size(); i++) {
        lengths.push_back(int64_t(c.lp[i].size()));
        for (size_t t = 0; t < c.lp[i].size(); t++) {
          lp.push_back(float(c.lp[i][t]));
          lp_old.push_back(float(c.lp_old[i][t]));
          lp_ref.push_back(float(c.lp_ref[i][t]));
          lp_rollout.push_back(float(c.lp_rollout[i][t]));
          token_adv.push_back(adv[i][t]);
        }
      }
      Tensor x = Tensor::from_vector({int64_t(lp.size())}, lp);
      x.set_requires_grad(true);
      GrpoLoss stats;
      Tensor loss = grpo_objective(x, lengths, token_adv, lp_old, lp_ref, lp_rollout, c.options, &stats);
      backward(loss);
      const Json& want = entry.at("expected").at(bname);
      expect_close(loss.item(), want.at("loss").as_number(), 1e-6, what + " loss");
      expect_close(stats.clip_fraction, want.at("clip_fraction").as_number(), kDoubleTol, what + " clip");
      expect_close(stats.dual_clip_fraction, want.at("dual_clip_fraction").as_number(), kDoubleTol, what + " dual");
      std::vector<float> g = x.grad().to_vector();
      size_t k = 0;
      for (size_t i = 0; i < want.at("grad_lp").size(); i++)
        for (size_t t = 0; t < want.at("grad_lp")[i].size(); t++, k++)
          expect_close(g[k], want.at("grad_lp")[i][t].as_number(), 1e-6, what + " grad");
    }
}

// --- the registry and the options -------------------------------------------------------

TEST(GrpoConventions, UnknownNameListsTheKnownOnes) {
  try {
    grpo_convention("trl-grop");
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("trl-grop"), std::string::npos) << m;
    for (const std::string& n : grpo_convention_names()) EXPECT_NE(m.find(n), std::string::npos) << n;
  }
  TempDir dir;
  if (r1::testing::r1_bin().empty()) return;
  write_file_atomic(dir.file("c.json"), golden().at("batches").at("ragged").dump());
  auto r = run_r1("grpo-loss --in " + dir.file("c.json") + " --convention nope", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("known: r1, deepseekmath"), std::string::npos) << r.err;
}

TEST(GrpoConventions, OptionsOverrideTheConventionAndBadValuesNameTheOption) {
  Json o = Json::parse(R"({"convention": "verl-token-mean", "beta": 0.5, "kl": "k2"})");
  GrpoOptions opt = parse_grpo_options(o, "case.json");
  EXPECT_EQ(opt.convention, "verl-token-mean");
  EXPECT_EQ(opt.beta, 0.5);
  EXPECT_EQ(opt.kl, "k2");
  EXPECT_EQ(opt.dual_clip, 3.0);  // kept from the convention
  EXPECT_THROW(parse_grpo_options(Json::parse(R"({"kl": "k4"})"), "case.json"), Error);
  EXPECT_THROW(parse_grpo_options(Json::parse(R"({"dual_clip": 0.5})"), "case.json"), Error);
  // TIS needs the rollout log-probs.
  Json c = Json::object();
  for (const auto& [k, v] : golden().at("batches").at("ragged").as_object())
    if (k != "lp_rollout") c[k] = v;
  c["options"] = Json::parse(R"({"convention": "tis"})");
  try {
    parse_grpo_case(c, "case.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lp_rollout"), std::string::npos) << e.what();
  }
}

TEST(GrpoConventions, TrainerConfigTakesAConventionAndRejectsKlInTheReward) {
  GrpoConfig c = GrpoConfig::from_json(Json::parse(R"({"convention": "trl-dapo", "eps_high": 0.28})"), "grpo.json");
  EXPECT_EQ(c.objective.convention, "trl-dapo");
  EXPECT_EQ(c.objective.loss, "token-mean");
  EXPECT_EQ(c.objective.beta, 0.0);
  EXPECT_EQ(c.objective.eps_high, 0.28);
  // The saved config reads back to the same objective (resume).
  GrpoConfig back = GrpoConfig::from_json(c.to_json(), "config.json");
  EXPECT_EQ(back.objective.convention, "trl-dapo");
  EXPECT_EQ(back.objective.eps_high, 0.28);
  EXPECT_EQ(back.objective.kl, c.objective.kl);
  for (const char* name : {"verl-kl-in-reward", "openrlhf", "tis"})
    EXPECT_THROW(GrpoConfig::from_json(Json::parse(cat(R"({"convention": ")", name, R"("})")), "grpo.json"), Error)
        << name;
}
