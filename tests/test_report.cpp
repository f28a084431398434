// `r1 report` (src/pipeline/report.cpp): the markdown tables and the final evaluation. The final
// evaluation must be exactly what rl/eval.h's evaluate() gives for the base and the GRPO model on
// every eval row (sampled with the run's temperature and the given seed, and greedy), and the table
// must show those numbers; a folder that is not a GRPO run is an error naming the file.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "model/checkpoint.h"
#include "pipeline/report.h"
#include "rl/eval.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1 {
namespace {

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// A tiny model saved like `r1 init` (testing::stop_model: stop_logit < 0 is all zero, otherwise
// completions end after a random number of tokens).
void write_model(const std::string& dir, const std::string& tok_path, float stop_logit) {
  Transformer m = testing::stop_model(Tokenizer::load(tok_path), stop_logit);
  save_model(dir, m, tok_path);
}

// A GRPO run folder as `r1 grpo` leaves it: run_config.json, metrics.jsonl with two evals, model/.
struct FakeRun {
  TempDir d;
  std::string base, run, eval_dir;
  FakeRun() {
    std::string tok_path = d.file("tokenizer.json");
    testing::write_small_tokenizer(tok_path);
    base = d.file("base");
    run = d.file("run");
    eval_dir = d.file("eval");
    write_model(base, tok_path, -1);
    mkdir(run.c_str(), 0755);
    write_model(run + "/model", tok_path, 5.0f);  // P(stop) = e^5 / (e^5 + V - 1) ~ 0.35
    mkdir(eval_dir.c_str(), 0755);
    write(eval_dir + "/linear.jsonl",
          R"({"task": "linear", "prompt": "Solve for x: 2x = 16", "answer": "8"})" "\n"
          R"({"task": "linear", "prompt": "Solve for x: x + 1 = 4", "answer": "3"})" "\n"
          R"({"task": "linear", "prompt": "Solve for x: 3x - 3 = 0", "answer": "1"})" "\n");
    Json cfg = Json::object();
    cfg["tasks"] = Json::array();
    cfg["tasks"].push_back("linear");
    cfg["eval_dir"] = eval_dir;
    cfg["max_new_tokens"] = 6;
    cfg["eval_temperature"] = 0.7;
    Json rc = Json::object();
    rc["model"] = base;
    rc["grpo"] = cfg;
    write(run + "/run_config.json", rc.dump());
    const char* ev = R"({"overall": {"rows": 3, "pass@1": %s, "pass@k": 0, "format_rate": 0.5, "mean_length": 4, )"
                     R"("mean_length_correct": 0, "mean_length_incorrect": 4}, "tasks": {"linear": {"rows": 3, )"
                     R"("pass@1": %s, "pass@k": 0, "format_rate": 0.5, "mean_length": 4, "mean_length_correct": 0, )"
                     R"("mean_length_incorrect": 4}}})";
    char a[1024], b[1024];
    std::snprintf(a, sizeof a, ev, "0.25", "0.25");
    std::snprintf(b, sizeof b, ev, "0.5", "0.5");
    write(run + "/metrics.jsonl", std::string("{\"step\": 0, \"eval\": ") + a + "}\n" +
                                      "{\"step\": 1, \"reward_mean\": 1, \"kl\": 0.01}\n" +
                                      "{\"step\": 2, \"eval\": " + b + "}\n");
  }
};

EvalResult direct_eval(const std::string& model_dir, const std::string& eval_dir, int64_t k, float temperature,
                       uint64_t seed) {
  Transformer m = load_model(model_dir);
  Tokenizer tok = Tokenizer::load(model_dir + "/tokenizer.json");
  EvalOptions eo;
  eo.n_samples = k;
  eo.sampling.temperature = temperature;
  eo.max_new_tokens = 6;
  eo.seed = seed;
  return evaluate(m, tok, read_jsonl(eval_dir + "/linear.jsonl"), eo);
}

TEST(Report, HeldOutTableFromMetrics) {
  FakeRun f;
  ReportInputs in;
  in.grpo_run = f.run;
  in.out_dir = f.d.file("report");
  std::string md = write_report(in);
  EXPECT_NE(md.find("| linear | 3 | 0.250 | 0.500 | +25.0 pts |"), std::string::npos) << md;
  EXPECT_EQ(md.find("Final evaluation"), std::string::npos) << "final eval runs only when asked for";
  EXPECT_EQ(read(in.out_dir + "/report.md"), md);
}

TEST(Report, FinalEvalIsEvaluateOfBothModels) {
  FakeRun f;
  ReportInputs in;
  in.grpo_run = f.run;
  in.out_dir = f.d.file("report");
  in.final_eval_samples = 3;
  in.final_eval_seed = 11;
  std::string md = write_report(in);
  Json j = Json::parse_file(in.out_dir + "/final_eval.json");
  EXPECT_EQ(j.at("samples_per_row").as_int(), 3);
  struct Want {
    const char* which;
    std::string model;
  };
  for (const Want& w : {Want{"base", f.base}, Want{"final", f.run + "/model"}}) {
    EvalResult sampled = direct_eval(w.model, f.eval_dir, 3, 0.7f, 11);
    EvalResult greedy = direct_eval(w.model, f.eval_dir, 1, 0.0f, 11);
    EXPECT_EQ(j.at(w.which).at("sampled").dump(), sampled.to_json().dump()) << w.which;
    EXPECT_EQ(j.at(w.which).at("greedy").dump(), greedy.to_json().dump()) << w.which;
  }
  // The comparison above can tell seeds and temperatures apart (it would catch a report that
  // ignored them): the stopping model's lengths differ.
  EXPECT_NE(direct_eval(f.run + "/model", f.eval_dir, 3, 0.7f, 12).to_json().dump(),
            j.at("final").at("sampled").dump());
  EXPECT_NE(direct_eval(f.run + "/model", f.eval_dir, 3, 1.0f, 11).to_json().dump(),
            j.at("final").at("sampled").dump());
  // The table row shows the same numbers.
  const Json& bs = j.at("base").at("sampled").at("tasks").at("linear");
  const Json& fs = j.at("final").at("sampled").at("tasks").at("linear");
  char want[128];
  std::snprintf(want, sizeof want, "| linear | 3 | %.3f | %.3f |", bs.at("pass@1").as_number(),
                fs.at("pass@1").as_number());
  EXPECT_NE(md.find(want), std::string::npos) << md;
  EXPECT_NE(md.find("| greedy base | greedy GRPO |"), std::string::npos) << md;
  // pass@k at k = 1, 2 and K = 3, from the evaluation's unbiased estimates
  std::string base_row = "| base |";
  for (const Json& p : j.at("base").at("sampled").at("overall").at("pass_at_k").as_array()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " %.3f |", p.as_number());
    base_row += buf;
  }
  EXPECT_NE(md.find("| k | 1 | 2 | 3 |\n|---|---|---|---|\n" + base_row + "\n"), std::string::npos) << md;
  EXPECT_TRUE(std::ifstream(in.out_dir + "/final_pass_at_k.svg").good());
}

// Evaluations with per-difficulty scores (the search task) get a before/after table by level and
// one curve per level.
TEST(Report, ByDifficultyTableAndCurves) {
  FakeRun f;
  auto level = [](double pass, double len, double cands) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  R"({"rows": 2, "pass@1": %g, "mean_length": %g, "candidates": %g, "reflection_per_1k_correct": 1, )"
                  R"("reflection_per_1k_incorrect": 2})", pass, len, cands);
    return std::string(buf);
  };
  std::string overall = R"({"rows": 4, "pass@1": 0.5, "pass@k": 0, "format_rate": 1, "mean_length": 4})";
  auto eval = [&](int step, const std::string& d1, const std::string& d2) {
    return "{\"step\": " + std::to_string(step) + ", \"eval\": {\"overall\": " + overall +
           ", \"tasks\": {}, \"difficulties\": {\"search/d1\": " + d1 + ", \"search/d2\": " + d2 + "}}}\n";
  };
  write(f.run + "/metrics.jsonl", eval(0, level(0.25, 50, 2), level(0.1, 80, 3)) + eval(10, level(0.5, 70, 3.5), level(0.3, 120, 5)));
  ReportInputs in;
  in.grpo_run = f.run;
  in.out_dir = f.d.file("report");
  std::string md = write_report(in);
  EXPECT_NE(md.find("| search/d1 | 2 | 0.250 -> 0.500 | 50.0 -> 70.0 | 2.00 -> 3.50 | 1.0 -> 1.0 | 2.0 -> 2.0 |"),
            std::string::npos) << md;
  EXPECT_NE(md.find("| search/d2 | 2 | 0.100 -> 0.300 | 80.0 -> 120.0 | 3.00 -> 5.00 |"), std::string::npos) << md;
  std::string svg = read(in.out_dir + "/grpo_heldout_candidates_by_difficulty.svg");
  EXPECT_NE(svg.find("search/d1 green, search/d2 orange"), std::string::npos);
  EXPECT_TRUE(std::ifstream(in.out_dir + "/grpo_heldout_pass1_by_difficulty.svg").good());
  EXPECT_TRUE(std::ifstream(in.out_dir + "/grpo_heldout_mean_length_by_difficulty.svg").good());
}

TEST(Report, FinalEvalNeedsAGrpoRunConfig) {
  FakeRun f;
  write(f.run + "/run_config.json", R"({"train": {}})");
  ReportInputs in;
  in.grpo_run = f.run;
  in.out_dir = f.d.file("report");
  in.final_eval_samples = 1;
  try {
    write_report(in);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(f.run + "/run_config.json"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace r1
