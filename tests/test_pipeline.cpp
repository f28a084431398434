// CLI tests of `r1 pipeline` (pipeline/recipe.h) on the micro preset (a few steps per stage,
// seconds in all): every stage leaves its run folder, pipeline.json and the report agree with
// the metrics and eval files, a second run skips every stage, --until stops and a later run
// continues, the student's RL stops at the distillation's token budget, and a bad preset is an
// error that touches nothing already written.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "cli_util.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

using r1::Json;
using r1::TempDir;
using r1::testing::CliRun;
using r1::testing::metrics_lines;
using r1::testing::run_r1;
namespace fs = std::filesystem;

namespace {

const char* kNoBin = "R1_BIN is not set (run through `make test`)";

std::string root() {
  const char* r = std::getenv("R1_ROOT");
  return r ? std::string(r) + "/" : std::string();
}

std::string micro_preset() { return root() + "data/presets/recipe_micro.json"; }

// Every file under dir with its bytes, for "nothing changed" checks.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().string()] = r1::read_file(e.path().string());
  return out;
}

const char* kStages[] = {"teacher-base", "student-base", "r1-zero",  "cold-start-data", "cold-start",
                         "reasoning-rl", "rejection",    "rs-sft",   "rm-data",         "rm",
                         "alignment-rl", "distill",      "student-rl", "eval"};
const char* kModels[] = {"base", "r1-zero", "cold-start", "reasoning-rl", "rs-sft", "r1", "student-base", "distill",
                         "student-rl"};

}  // namespace

TEST(PipelineCli, MicroRecipeEndToEndThenEverythingSkips) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string run = d.file("run");
  CliRun r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("report: " + run + "/report.md"), std::string::npos) << r.out;

  // pipeline.json: every stage, in order, done, with the command a user can re-run.
  Json status = Json::parse_file(run + "/pipeline.json");
  const auto& stages = status.at("stages").as_array();
  ASSERT_EQ(stages.size(), std::size(kStages));
  for (size_t i = 0; i < stages.size(); i++) {
    EXPECT_EQ(stages[i].at("name").as_string(), kStages[i]);
    EXPECT_EQ(stages[i].at("status").as_string(), "done");
    if (stages[i].at("kind").as_string() != "eval")
      EXPECT_EQ(stages[i].at("command").as_string().rfind("r1 ", 0), 0u) << stages[i].dump();
  }
  for (const char* s : {"teacher-base", "student-base", "r1-zero", "cold-start", "reasoning-rl", "rs-sft", "rm",
                        "alignment-rl", "distill", "student-rl"})
    EXPECT_TRUE(fs::exists(run + "/" + s + "/model/model.safetensors")) << s;
  for (const char* f : {"kept.jsonl", "samples.jsonl", "stats.json", "sft_data.jsonl"})
    EXPECT_TRUE(fs::exists(run + "/rejection/" + f)) << f;
  // The student shares the teacher's tokenizer (distillation feeds it the teacher's text).
  EXPECT_EQ(r1::read_file(run + "/student-base/model/tokenizer.json"),
            r1::read_file(run + "/teacher-base/model/tokenizer.json"));
  // Alignment RL scored general prompts with the reward model and logged the gold judge beside it.
  bool proxy = false;
  for (const Json& m : metrics_lines(run + "/alignment-rl/metrics.jsonl"))
    proxy = proxy || (m.contains("proxy_reward") && m.contains("gold_accuracy"));
  EXPECT_TRUE(proxy);

  // The report: one results row per model, with the pass@1 of its eval file.
  std::string report = r1::read_file(run + "/report.md");
  for (const char* m : kModels) {
    Json ev = Json::parse_file(run + "/eval/" + m + ".json");
    std::string label = ev.at("label").as_string();
    size_t row = report.find("| " + label + " |");
    ASSERT_NE(row, std::string::npos) << label;
    std::string line = report.substr(row, report.find('\n', row) - row);
    char want[32];
    std::snprintf(want, sizeof want, "%.1f", 100 * ev.at("result").at("tasks").at("linear").at("pass@1").as_number());
    EXPECT_NE(line.find(want), std::string::npos) << line << " lacks " << want;
    EXPECT_TRUE(fs::exists(run + "/eval/" + std::string(m) + ".generations.jsonl"));
  }
  bool svg = false;
  for (const auto& e : fs::directory_iterator(run)) svg = svg || e.path().extension() == ".svg";
  EXPECT_TRUE(svg);

  // A second run skips every stage and changes no model or data file.
  auto before = snapshot(run);
  r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1", d);
  ASSERT_EQ(r.code, 0) << r.err;
  status = Json::parse_file(run + "/pipeline.json");
  for (const Json& st : status.at("stages").as_array())
    if (st.at("kind").as_string() != "eval") EXPECT_EQ(st.at("status").as_string(), "skipped") << st.dump();
  auto after = snapshot(run);
  for (const auto& [path, bytes] : before) {
    if (path.find("pipeline.json") != std::string::npos || path.find(".svg") != std::string::npos ||
        path.find("report.md") != std::string::npos)
      continue;  // rewritten (stage times, the same report)
    EXPECT_TRUE(after.count(path) && after[path] == bytes) << path << " changed";
  }
}

TEST(PipelineCli, StudentRlStopsAtTheDistillationTokenBudget) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string run = d.file("run");
  CliRun r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1 --until student-rl", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(fs::exists(run + "/eval")) << "--until student-rl stops before the evaluation";
  Json distill = Json::parse_file(run + "/presets/distill_train.json");
  int64_t budget = distill.at("steps").as_int() * distill.at("batch_size").as_int() * distill.at("seq_len").as_int();
  Json cfg = Json::parse_file(run + "/presets/student_rl.json");
  EXPECT_EQ(cfg.at("token_budget").as_int(), budget);
  std::vector<int64_t> totals;
  for (const Json& m : metrics_lines(run + "/student-rl/metrics.jsonl"))
    if (m.contains("tokens_total")) totals.push_back(m.at("tokens_total").as_int());
  ASSERT_FALSE(totals.empty());
  EXPECT_GE(totals.back(), budget);
  if (totals.size() > 1) EXPECT_LT(totals[totals.size() - 2], budget);  // it stopped at the first step past it
  EXPECT_LT(int64_t(totals.size()), cfg.at("steps").as_int());
}

TEST(PipelineCli, UntilStopsAndALaterRunContinues) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string run = d.file("run");
  CliRun r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1 --until cold-start", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(run + "/cold-start/model/model.safetensors"));
  EXPECT_FALSE(fs::exists(run + "/reasoning-rl"));
  std::string base_weights = r1::read_file(run + "/teacher-base/model/model.safetensors");
  r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1 --until reasoning-rl", d);
  ASSERT_EQ(r.code, 0) << r.err;
  Json status = Json::parse_file(run + "/pipeline.json");
  const auto& stages = status.at("stages").as_array();
  ASSERT_EQ(stages.size(), 6u);
  for (size_t i = 0; i < 5; i++) EXPECT_EQ(stages[i].at("status").as_string(), "skipped");
  EXPECT_EQ(stages[5].at("status").as_string(), "done");
  EXPECT_EQ(r1::read_file(run + "/teacher-base/model/model.safetensors"), base_weights);
}

TEST(PipelineCli, BadPresetIsAnErrorAndTouchesNothing) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string run = d.file("run");
  CliRun r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1 --until teacher-base", d);
  ASSERT_EQ(r.code, 0) << r.err;
  auto before = snapshot(run);

  Json micro = Json::parse_file(micro_preset());
  auto expect_error = [&](const std::string& name, const std::string& text, const std::string& want) {
    std::string p = d.file(name);
    r1::write_file_atomic(p, text);
    CliRun e = run_r1("pipeline --preset " + p + " --out " + run + " --threads 1", d);
    EXPECT_EQ(e.code, 2) << name << ": " << e.err;
    EXPECT_NE(e.err.find("error: "), std::string::npos) << e.err;
    EXPECT_NE(e.err.find(want), std::string::npos) << name << ": " << e.err;
    EXPECT_TRUE(snapshot(run) == before) << name << ": the earlier stage's files changed";
  };
  expect_error("syntax.json", "{\n  \"teacher\": {\n  oops\n}\n", "line 3");
  Json extra = micro;
  extra["distil"] = Json::object();
  expect_error("unknown.json", extra.dump(2), "distil");
  Json bad_file = micro;
  bad_file["student"] = d.file("missing.json");
  expect_error("missing.json.json", bad_file.dump(2), "missing.json");
  Json bad_eval = micro;
  bad_eval["eval"]["tempreature"] = 0.6;
  expect_error("eval.json", bad_eval.dump(2), "tempreature");
}

TEST(PipelineCli, AStageCommandWithAMissingInputFailsCleanly) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string run = d.file("run");
  CliRun r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1 --until cold-start", d);
  ASSERT_EQ(r.code, 0) << r.err;
  auto before = snapshot(run);
  // The stage after cold-start, typed by hand before its input exists.
  r = run_r1("rejection-sample --model " + run + "/reasoning-rl/model --out " + run + "/rejection --tasks linear --n 2", d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(run + "/reasoning-rl/model"), std::string::npos) << r.err;
  r = run_r1("sft --model " + run + "/teacher-base/model --data " + run + "/rejection/sft_data.jsonl --out " + run +
                 "/rs-sft",
             d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find(run + "/rejection/sft_data.jsonl"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(run + "/rejection"));
  EXPECT_FALSE(fs::exists(run + "/rs-sft"));
  EXPECT_TRUE(snapshot(run) == before);
}

TEST(PipelineCli, DryRunChecksEveryShippedPresetAndWritesNothing) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  for (const char* name : {"micro", "tiny", "small"}) {
    std::string run = d.file(std::string("run-") + name);
    CliRun r = run_r1("pipeline --preset " + root() + "data/presets/recipe_" + name + ".json --out " + run + " --dry-run", d);
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_FALSE(fs::exists(run)) << name << ": a dry run wrote " << run;
    for (const char* s : {"teacher-base", "student-base", "r1-zero", "cold-start", "reasoning-rl", "rejection", "rs-sft",
                          "rm ", "alignment-rl", "distill", "student-rl", "eval"})
      EXPECT_NE(r.out.find(s), std::string::npos) << name << " plan lacks " << s << ":\n" << r.out;
    EXPECT_NE(r.out.find("r1 grpo --model " + run + "/cold-start/model"), std::string::npos) << r.out;
  }
  // After a stage has run, the plan skips it.
  std::string run = d.file("run");
  CliRun r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --threads 1 --until teacher-base", d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_r1("pipeline --preset " + micro_preset() + " --out " + run + " --dry-run", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("teacher-base     skip", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("student-base     r1 pretrain"), std::string::npos) << r.out;
}
