// Tests for the `r1 verify` and `r1 data gen` commands: JSON output, exit codes (0 for
// any verdict, 2 for bad usage). They run the built CLI named by $R1_BIN (`make test`
// sets it) and skip when it is not set.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cli_util.h"
#include "util/json.h"

using r1::Json;

using r1::testing::CliRun;

// Runs `$R1_BIN args` (stderr kept in a scratch folder, unused here); exit code and stdout.
static CliRun run_r1(const std::string& args) {
  static const r1::TempDir scratch;
  return r1::testing::run_r1(args, scratch);
}

static const char* kNoBin = "R1_BIN is not set (make test sets it to build/r1)";

TEST(RewardCli, VerifyMathAndCountdownJson) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  CliRun r = run_r1("verify --task math --gold '3\\sqrt{13}' --pred '<answer>\\sqrt{117}</answer>' --json");
  ASSERT_EQ(r.code, 0);
  Json j = Json::parse(r.out);
  EXPECT_TRUE(j.at("correct").as_bool());
  EXPECT_EQ(j.at("reward").as_number(), 1.0);
  EXPECT_EQ(j.at("verdict").as_string(), "equivalent");
  EXPECT_EQ(j.at("extracted").as_string(), "\\sqrt{117}");

  r = run_r1("verify --task math --gold '1/3' --pred 0.333 --json");
  ASSERT_EQ(r.code, 0);  // a wrong answer is not an error
  EXPECT_FALSE(Json::parse(r.out).at("correct").as_bool());

  r = run_r1("verify --task countdown --gold 'numbers=3,5,7 target=22' --pred '3*5+7' --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_TRUE(Json::parse(r.out).at("correct").as_bool());
  r = run_r1("verify --task countdown --gold '{\"numbers\":[4,4,2],\"target\":2}' --pred '2/(4-4)' --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(Json::parse(r.out).at("verdict").as_string(), "division_by_zero");
}

TEST(RewardCli, VerifyFormatLanguageAndUsageErrors) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  CliRun r = run_r1("verify --task format --pred '<think>a</think><answer>7</answer>' --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_TRUE(Json::parse(r.out).at("correct").as_bool());
  r = run_r1("verify --task language --pred '<think>one two three 我们</think>' --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_DOUBLE_EQ(Json::parse(r.out).at("reward").as_number(), 0.75);
  EXPECT_EQ(run_r1("verify --task poetry --pred x").code, 2);
  EXPECT_EQ(run_r1("verify --task math --pred x").code, 2);            // --gold missing
  EXPECT_EQ(run_r1("verify --task format --gold x --pred x").code, 2);  // --gold unused
  EXPECT_EQ(run_r1("verify --task countdown --gold 'numbers=1' --pred 1").code, 2);
}

TEST(RewardCli, DataGenWritesDeterministicJsonl) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  std::string path = "/tmp/r1_test_data_gen_" + std::to_string(getpid()) + ".jsonl";
  CliRun r = run_r1("data gen --task countdown --n 7 --seed 3 --out " + path + " --json");
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(Json::parse(r.out).at("n").as_int(), 7);
  std::ifstream in(path);
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    Json row = Json::parse(line);
    EXPECT_EQ(row.at("task").as_string(), "countdown");
    rows++;
  }
  EXPECT_EQ(rows, 7);
  std::remove(path.c_str());
  EXPECT_EQ(run_r1("data gen --task arith --n 2 --seed 1 --difficulty 9 --out " + path).code, 2);
  EXPECT_EQ(run_r1("data gen --task nope --n 2 --seed 1 --out " + path).code, 2);
  EXPECT_EQ(run_r1("data gen --task arith --n 2 --seed 1").code, 2);  // --out missing
}

// `r1 verify --task math --cases FILE`: the agreement table; exit code 1 when a disagreement has
// no reason or a stated reason no longer holds.
TEST(RewardCli, VerifyMathCasesTable) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  r1::TempDir dir;
  std::string agree = dir.path() + "/agree.jsonl", stale = dir.path() + "/stale.jsonl";
  std::ofstream(agree) << R"({"source": "a", "category": "fractions", "gold": "1/2", "pred": "\\boxed{0.5}", "mv": 1})" "\n"
                       << R"({"source": "b", "category": "floats", "gold": "1/3", "pred": "0.333333", "mv": 1, "r1_differs": "exact"})" "\n";
  std::ofstream(stale) << R"({"source": "c", "category": "fractions", "gold": "1/2", "pred": "0.5", "mv": 1, "r1_differs": "old"})" "\n";
  CliRun r = run_r1("verify --task math --cases " + agree + " --json");
  ASSERT_EQ(r.code, 0) << r.out;
  Json j = Json::parse(r.out);
  const Json& all = j.at("categories")[2];
  EXPECT_EQ(all.at("category").as_string(), "all");
  EXPECT_EQ(all.at("cases").as_int(), 2);
  EXPECT_EQ(all.at("agree").as_int(), 1);
  EXPECT_EQ(all.at("deliberate").as_int(), 1);
  EXPECT_EQ(j.at("cases")[1].at("verdict").as_string(), "not_equivalent");
  r = run_r1("verify --task math --cases " + stale);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("STALE"), std::string::npos) << r.out;
  EXPECT_EQ(run_r1("verify --task math --cases " + dir.path() + "/missing.jsonl").code, 2);
}
