// The R1 recipe report (src/pipeline/recipe_report.cpp) on a small hand-written run folder: the
// results table shows the eval files' numbers, a missing model shows as missing, the curves are
// written, the claims follow the numbers, and malformed inputs are errors naming file:line.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "pipeline/recipe_report.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {
namespace {

void write(const std::string& path, const std::string& text) {
  mkdir(path.substr(0, path.rfind('/')).c_str(), 0755);
  std::ofstream(path) << text;
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// A TaskScore with pass@k = pass@1 + 0.2.
std::string score(double pass1, double format = 0.9, double language = 0.95, double length = 20.5) {
  std::ostringstream o;
  o << R"({"rows": 10, "pass@1": )" << pass1 << R"(, "pass@k": )" << pass1 + 0.2 << R"(, "format_rate": )" << format
    << R"(, "language_consistency": )" << language << R"(, "mixed_rate": 0.1, "mean_length": )" << length
    << R"(, "mean_length_correct": 1, "mean_length_incorrect": 1})";
  return o.str();
}

void write_eval(const std::string& run, const std::string& key, const std::string& label, const std::string& linear,
                const std::string& arith, const std::string& general) {
  write(run + "/eval/" + key + ".json",
        R"({"model": ")" + key + R"(", "label": ")" + label + R"(", "dir": "RUN/)" + key +
            R"(/model", "template": "chat", "options": {"temperature": 0.6, "top_p": 0.95, "k": 2, "rows_per_task": 10, )"
            R"("max_new_tokens": 128, "seed": 7}, "result": {"overall": )" + score(0.5) + R"(, "tasks": {"linear": )" +
            linear + R"(, "arith": )" + arith + R"(, "general": )" + general + "}}}\n");
}

std::string generation(const std::string& task, const std::string& prompt, const std::string& completion,
                       bool correct, int length) {
  return R"({"task": ")" + task + R"(", "prompt": ")" + prompt + R"(", "answer": "1", "completion": ")" + completion +
         R"(", "correct": )" + (correct ? "true" : "false") + R"(, "format": true, "language": 1, "extracted": "1", )" +
         R"("length": )" + std::to_string(length) + R"(, "finish": "stop"})" + "\n";
}

// Generations of one sample per row: a linear row, arith rows with 2 and 4 operands, a general row.
void write_generations(const std::string& run, const std::string& key, int easy_len, int hard_len,
                       const std::string& linear_completion) {
  write(run + "/eval/" + key + ".generations.jsonl",
        generation("linear", "Solve: 2*x = 4", linear_completion, true, 5) +
            generation("arith", "Compute: 58+9", "67", true, easy_len) +
            generation("arith", "Compute: 1+2+3+4", "10", false, hard_len) +
            generation("general", "Reverse the words: cat dog sun", "sun dog cat", true, 7));
}

// An RL run of 20 steps; response length 10 + step; eval lines at steps 0 and 20.
std::string rl_metrics(bool alignment) {
  std::string s;
  for (int step = 1; step <= 20; step++) {
    s += "{\"step\": " + std::to_string(step) + ", \"response_length\": " + std::to_string(10 + step) +
         ", \"kl\": " + std::to_string(0.01 * step) + ", \"entropy\": 1.5, \"reflection_per_1k_tokens\": 2, "
         "\"language_consistency\": 0.9";
    if (alignment)  // the proxy reward rises, the gold accuracy falls
      s += ", \"proxy_reward\": " + std::to_string(0.1 * step) + ", \"gold_accuracy\": " + std::to_string(1 - 0.02 * step);
    s += "}\n";
    if (step == 1 || step == 20)
      s += "{\"step\": " + std::to_string(step) + ", \"eval\": {\"overall\": " + score(0.3) +
           ", \"tasks\": {\"arith\": " + score(0.2) + ", \"linear\": " + score(0.4) + "}}}\n";
  }
  return s;
}

// The whole fake run folder. rs-sft and student-rl have no eval file and student-rl no metrics.
void write_run(const std::string& run) {
  write(run + "/pipeline.json",
        R"J({"preset": "data/presets/pipeline_tiny.json", "stages": [)J"
        R"J({"name": "teacher-base", "title": "Teacher base (pretraining)", "kind": "pretrain", "dir": "teacher-base", "seconds": 441.2, "status": "done"},)J"
        R"J({"name": "r1-zero", "title": "R1-Zero", "kind": "grpo", "dir": "r1-zero", "seconds": 100, "status": "done"},)J"
        R"J({"name": "reasoning-rl", "title": "Reasoning RL", "kind": "grpo", "dir": "reasoning-rl", "seconds": 50, "status": "done"},)J"
        R"J({"name": "rm", "title": "Reward model", "kind": "rm", "dir": "rm", "seconds": 10, "status": "done"},)J"
        R"J({"name": "alignment-rl", "title": "Alignment RL", "kind": "grpo", "dir": "alignment-rl", "seconds": 20, "status": "done"},)J"
        R"J({"name": "student-rl", "title": "Student RL", "kind": "grpo", "dir": "student-rl", "seconds": 0, "status": "skipped"}]})J");
  write(run + "/teacher-base/metrics.jsonl",
        "{\"step\": 1, \"loss\": 5, \"lr\": 0.001, \"grad_norm\": 1}\n{\"step\": 1, \"heldout_loss\": 5.5}\n");
  write(run + "/r1-zero/metrics.jsonl", rl_metrics(false));
  write(run + "/reasoning-rl/metrics.jsonl", rl_metrics(false));
  write(run + "/alignment-rl/metrics.jsonl", rl_metrics(true));
  write(run + "/rm/metrics.jsonl",
        "{\"step\": 1, \"loss\": 0.7, \"accuracy\": 0.5, \"lr\": 0.001, \"grad_norm\": 1}\n"
        "{\"step\": 2, \"loss\": 0.6, \"accuracy\": 0.7, \"lr\": 0.001, \"grad_norm\": 1}\n"
        "{\"step\": 2, \"heldout_loss\": 0.65, \"heldout_accuracy\": 0.6}\n");
  const std::string counts =
      R"({"prompts": 10, "samples": 40, "accepted": 12, "kept": 8, "prompts_with_kept": 8, "acceptance_rate": 0.3, )"
      R"("rejected_by": {"correct": 20, "format": 5, "language": 3, "length": 2}})";
  write(run + "/rejection/stats.json", R"({"overall": )" + counts + R"(, "tasks": {"arith": )" + counts +
                                           R"(}, "general_rows": 30, "sft_rows": 38})");
  // Reasoning pass@1 (linear and arith have 10 rows each): base 25, R1-Zero 45, cold-start 40,
  // reasoning RL 35, R1 final 44.5, student base 10, distilled 30.
  write_eval(run, "base", "Base", score(0.3), score(0.2), score(0.5));
  write_eval(run, "r1-zero", "R1-Zero", score(0.5, 0.9, 0.8), score(0.4, 0.9, 0.8), score(0.4));
  write_eval(run, "cold-start", "Cold-start SFT", score(0.4), score(0.4), score(0.5));
  write_eval(run, "reasoning-rl", "Reasoning RL", score(0.35), score(0.35), score(0.5));
  write_eval(run, "r1", "R1 final", score(0.49, 1, 1), score(0.4, 1, 1), score(0.49));
  write_eval(run, "student-base", "Student base", score(0.1), score(0.1), score(0.2));
  write_eval(run, "distill", "Distilled student", score(0.3), score(0.3), score(0.3));
  write_generations(run, "base", 10, 12, "x = 2");
  write_generations(run, "r1-zero", 10, 30, "<think>" + std::string(500, 'a') + "</think> ```code```");
}

// The line of md that starts with `prefix`; "" when none.
std::string line_starting(const std::string& md, const std::string& prefix) {
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

// --- tests -----------------------------------------------------------------------------------

TEST(RecipeReport, ResultsTableHasOneRowPerModelWithTheEvalNumbers) {
  TempDir dir;
  write_run(dir.path());
  std::string md = write_recipe_report(dir.path());
  ASSERT_TRUE(exists(dir.file("report.md")));
  EXPECT_NE(md.find("| model | arith pass@1 | linear pass@1 | pass@2 | general | format | language | mixed | length (tokens) |"),
            std::string::npos)
      << md;
  // arith, linear, pass@2 (reasoning), general, format, language, mixed, length.
  EXPECT_EQ(line_starting(md, "| Base |"), "| Base | 20.0 | 30.0 | 45.0 | 50.0 | 90.0 | 95.0 | 10.0 | 20.5 |");
  EXPECT_EQ(line_starting(md, "| R1-Zero |"), "| R1-Zero | 40.0 | 50.0 | 65.0 | 40.0 | 90.0 | 80.0 | 10.0 | 20.5 |");
  EXPECT_EQ(line_starting(md, "| R1 final |"), "| R1 final | 40.0 | 49.0 | 64.5 | 49.0 | 100.0 | 100.0 | 10.0 | 20.5 |");
  EXPECT_EQ(line_starting(md, "| Rejection-sampling SFT |"),
            "| Rejection-sampling SFT | missing (no eval/rs-sft.json) | | | | | | | |");
  EXPECT_NE(line_starting(md, "| Student RL | missing"), "");
  for (const char* label : {"Cold-start SFT", "Reasoning RL", "Student base", "Distilled student"})
    EXPECT_NE(line_starting(md, std::string("| ") + label + " | "), "") << label;
  EXPECT_NE(md.find("temperature 0.6, top-p 0.95, 2 samples per row, 10 rows per task, at most 128 new tokens, seed 7"),
            std::string::npos);
  EXPECT_NE(md.find("build/r1 eval --model RUN/r1-zero/model --data data/eval/<task>.jsonl --limit 10 --n-samples 2 "
                    "--temperature 0.6 --top-p 0.95 --max-new-tokens 128 --template chat --seed 7"),
            std::string::npos);
  EXPECT_NE(md.find("| teacher-base | Teacher base (pretraining) | pretrain | 441.2 | done |"), std::string::npos);
}

TEST(RecipeReport, WritesTheCurves) {
  TempDir dir;
  write_run(dir.path());
  std::string md = write_recipe_report(dir.path());
  for (const char* f : {"recipe_heldout_pass1.svg", "recipe_heldout_pass1_arith.svg", "recipe_heldout_pass1_linear.svg",
                        "recipe_response_length.svg", "recipe_reflection_per_1k_tokens.svg", "recipe_kl.svg",
                        "recipe_entropy.svg", "recipe_language_consistency.svg", "recipe_alignment_vs_kl.svg",
                        "recipe_alignment_vs_step.svg", "recipe_rm_accuracy.svg", "recipe_lm_loss.svg"}) {
    EXPECT_TRUE(exists(dir.file(f))) << f;
    EXPECT_NE(md.find(std::string("](") + f + ")"), std::string::npos) << f;
  }
  std::string kl = read_file(dir.file("recipe_response_length.svg"));
  EXPECT_NE(kl.find("r1-zero"), std::string::npos);
  EXPECT_NE(kl.find("alignment-rl"), std::string::npos);
  EXPECT_EQ(kl.find("student-rl"), std::string::npos);  // no metrics: no series
}

TEST(RecipeReport, ClaimsFollowTheNumbers) {
  TempDir dir;
  write_run(dir.path());
  std::string md = write_recipe_report(dir.path());
  auto verdict = [&](const std::string& claim) {
    std::string line = line_starting(md, "- " + claim);
    EXPECT_NE(line, "") << claim;
    size_t a = line.find(": **"), b = line.find("**", a + 4);
    return a == std::string::npos ? "" : line.substr(a + 4, b - a - 4);
  };
  EXPECT_EQ(verdict("RL improves over the base model"), "reproduced");                   // 45 > 25
  EXPECT_EQ(verdict("RL improves over cold-start SFT"), "not reproduced at this scale");  // 35 < 40
  EXPECT_EQ(verdict("R1 final is at least as accurate"), "reproduced");                  // 44.5 >= 45 - 1
  EXPECT_EQ(verdict("R1 final keeps general capability"), "reproduced");                 // 49 >= 50 - 2
  EXPECT_EQ(verdict("R1-Zero loses general capability"), "reproduced");                  // 40 < 50 - 2
  EXPECT_EQ(verdict("The distilled student beats student RL"), "not measured");          // no student-rl eval
  EXPECT_EQ(verdict("Alignment RL raises the proxy"), "reproduced");
  EXPECT_NE(line_starting(md, "- Alignment RL").find("gold 89.0 -> 69.0; gold falls"), std::string::npos);
  EXPECT_EQ(verdict("Response length grows"), "reproduced");  // 15.5 -> 25.5
  EXPECT_NE(line_starting(md, "- Response length grows").find("15.5 -> 25.5"), std::string::npos);
}

TEST(RecipeReport, LengthByDifficultyRejectionAndSamples) {
  TempDir dir;
  write_run(dir.path());
  std::string md = write_recipe_report(dir.path());
  EXPECT_NE(md.find("| Base -> R1-Zero | arith | 2 | 1 | 10.0 | 10.0 | 100.0 | 100.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| Base -> R1-Zero | arith | 4 | 1 | 12.0 | 30.0 | 0.0 | 0.0 |"), std::string::npos);
  EXPECT_NE(md.find("| Base -> R1-Zero | general | 3 | 1 | 7.0 | 7.0 |"), std::string::npos);
  EXPECT_NE(line_starting(md, "- Base -> R1-Zero, arith:").find("get more tokens after RL (adaptive compute)"),
            std::string::npos);
  EXPECT_NE(line_starting(md, "- Base -> R1-Zero, general:").find("one difficulty level only (3)"), std::string::npos);
  EXPECT_NE(line_starting(md, "- Cold-start SFT -> Reasoning RL:").find("not measured"), std::string::npos);
  EXPECT_NE(line_starting(md, "- Student base -> Student RL:").find("not measured"), std::string::npos);
  EXPECT_NE(md.find("| arith | 10 | 40 | 12 | 30.0% | 8 | 8 | 20 | 5 | 3 | 2 |"), std::string::npos);
  EXPECT_NE(md.find("The SFT set has 38 rows"), std::string::npos);
  // R1-Zero's linear completion is cut at 400 characters, and its backticks get a longer fence.
  EXPECT_NE(md.find("**R1-Zero** (correct, 5 tokens, first 400 characters):\n\n```\n<think>" + std::string(393, 'a') +
                    "\n```\n"),
            std::string::npos);
  EXPECT_NE(md.find("**Base** (correct, 5 tokens):\n\n```\nx = 2\n```\n"), std::string::npos);
}

TEST(RecipeReport, FencesLongerThanTheCompletionsBackticks) {
  TempDir dir;
  write_run(dir.path());
  write_generations(dir.path(), "r1-zero", 10, 30, "use ```x``` here");
  std::string md = write_recipe_report(dir.path());
  EXPECT_NE(md.find("````\nuse ```x``` here\n````\n"), std::string::npos);
}

TEST(RecipeReport, MalformedMetricsLineNamesFileAndLine) {
  TempDir dir;
  write_run(dir.path());
  write(dir.file("reasoning-rl/metrics.jsonl"), "{\"step\": 1, \"kl\": 0.1}\n{\"step\": 2, \"kl\": }\n");
  try {
    write_recipe_report(dir.path());
    FAIL() << "expected r1::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reasoning-rl/metrics.jsonl:2"), std::string::npos) << e.what();
  }
  write(dir.file("reasoning-rl/metrics.jsonl"), "{\"step\": 1, \"kl\": 0.1}\n\n{\"kl\": 0.2}\n");
  try {
    write_recipe_report(dir.path());
    FAIL() << "expected r1::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reasoning-rl/metrics.jsonl:3: missing field 'step'"), std::string::npos)
        << e.what();
  }
}

TEST(RecipeReport, MalformedEvalFileAndMissingPipelineAreErrors) {
  TempDir dir;
  write_run(dir.path());
  write(dir.file("eval/r1.json"), R"({"label": "R1 final", "dir": "d", "template": "chat"})");
  try {
    write_recipe_report(dir.path());
    FAIL() << "expected r1::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eval/r1.json: missing field 'options'"), std::string::npos) << e.what();
  }
  TempDir empty;
  try {
    write_recipe_report(empty.path());
    FAIL() << "expected r1::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pipeline.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1
