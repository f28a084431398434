// Report generation from run folders. See report.h.
#include "pipeline/report.h"

#include <cstdio>
#include <map>
#include <sys/stat.h>

#include "model/checkpoint.h"
#include "pipeline/plot.h"
#include "rl/eval.h"
#include "rl/grpo_trainer.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

namespace {

using Points = std::vector<std::pair<double, double>>;

// metric name -> (step, value) over the lines of a metrics.jsonl that have it.
std::map<std::string, Points> read_metrics(const std::string& path) {
  std::map<std::string, Points> out;
  for (const Json& row : read_jsonl(path)) {
    if (!row.contains("step")) continue;
    double step = row.at("step").as_number();
    for (const auto& [k, v] : row.as_object())
      if (v.is_number() && k != "step") out[k].push_back({step, v.as_number()});
  }
  return out;
}

// Held-out eval rows {"step", "eval": {"overall": ..., "tasks": {...}}}, in order.
std::vector<Json> read_evals(const std::string& path) {
  std::vector<Json> out;
  for (const Json& row : read_jsonl(path))
    if (row.contains("eval")) out.push_back(row);
  return out;
}

std::string fmt(double x, const char* f = "%.3f") {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

// --- final evaluation ------------------------------------------------------------------------

// One model on every row of the eval sets, sampled (K per row) and greedy.
struct FinalEval {
  EvalResult sampled, greedy;
};

FinalEval evaluate_model(const std::string& model_dir, const std::vector<Json>& rows, const GrpoConfig& cfg,
                         int samples, uint64_t seed) {
  std::fprintf(stderr, "report: evaluating %s on %zu rows\n", model_dir.c_str(), rows.size());
  Transformer model = load_model(model_dir);
  Tokenizer tok = Tokenizer::load(model_dir + "/tokenizer.json");
  EvalOptions eo;
  eo.max_new_tokens = cfg.max_new_tokens;
  eo.template_kind = cfg.template_kind;
  eo.weights = cfg.weights;
  eo.seed = seed;
  eo.n_samples = samples;
  eo.sampling.temperature = cfg.eval_temperature;
  FinalEval out;
  out.sampled = evaluate(model, tok, rows, eo);
  eo.n_samples = 1;
  eo.sampling.temperature = 0;
  out.greedy = evaluate(model, tok, rows, eo);
  return out;
}

// pass@k for k = 1..K before and after RL (the unbiased estimator, rl/emergence.h): does RL only
// sharpen (pass@K unchanged) or solve rows the base never solved? A table at powers of two and a chart.
std::string pass_at_k_section(const TaskScore& base, const TaskScore& final, const std::string& out_dir) {
  std::string md = "pass@k (unbiased estimator over the K samples of each row, mean over rows):\n\n| k |";
  std::string line = "|---|", b = "| base |", f = "| GRPO |";
  Points pb, pf;
  for (size_t k = 1; k <= base.pass_at_k.size(); k++) {
    pb.push_back({double(k), base.pass_at_k[k - 1]});
    pf.push_back({double(k), final.pass_at_k[k - 1]});
    if ((k & (k - 1)) != 0 && k != base.pass_at_k.size()) continue;  // powers of two and K
    md += " " + std::to_string(k) + " |";
    line += "---|";
    b += " " + fmt(base.pass_at_k[k - 1]) + " |";
    f += " " + fmt(final.pass_at_k[k - 1]) + " |";
  }
  md += "\n" + line + "\n" + b + "\n" + f + "\n\n";
  write_file_atomic(out_dir + "/final_pass_at_k.svg",
                    svg_line_chart("pass@k (base blue, GRPO green)", "k", {{"base", pb, "#1f77b4"}, {"GRPO", pf, "#2ca02c"}}));
  return md + "![pass@k](final_pass_at_k.svg)\n\n";
}

// The "Final evaluation" section: base vs final model on all eval rows; also writes final_eval.json.
std::string final_eval_section(const ReportInputs& in) {
  const std::string config_path = in.grpo_run + "/run_config.json";
  Json rc = Json::parse_file(config_path);
  if (!rc.contains("model") || !rc.contains("grpo"))
    throw Error(cat(config_path, ": expected fields 'model' and 'grpo' (a `r1 grpo` run folder)"));
  GrpoConfig cfg = GrpoConfig::from_json(rc.at("grpo"), config_path);
  std::vector<Json> rows;
  for (const std::string& t : cfg.tasks) {
    std::vector<Json> r = read_jsonl(cfg.eval_dir + "/" + t + ".jsonl");
    if (in.final_eval_rows > 0 && int64_t(r.size()) > in.final_eval_rows) r.resize(size_t(in.final_eval_rows));
    rows.insert(rows.end(), r.begin(), r.end());
  }
  const int K = in.final_eval_samples;
  FinalEval base = evaluate_model(rc.at("model").as_string(), rows, cfg, K, in.final_eval_seed);
  FinalEval final = evaluate_model(in.grpo_run + "/model", rows, cfg, K, in.final_eval_seed);

  Json j = Json::object();
  j["samples_per_row"] = K;
  j["seed"] = double(in.final_eval_seed);
  j["temperature"] = cfg.eval_temperature;
  auto side = [](const std::string& model, const FinalEval& e) {
    Json o = Json::object();
    o["model"] = model;
    o["sampled"] = e.sampled.to_json();
    o["greedy"] = e.greedy.to_json();
    return o;
  };
  j["base"] = side(rc.at("model").as_string(), base);
  j["final"] = side(in.grpo_run + "/model", final);
  write_file_atomic(in.out_dir + "/final_eval.json", j.dump() + "\n");

  std::string md = in.final_eval_rows > 0
                       ? "## Final evaluation: base vs GRPO model on the first " + std::to_string(in.final_eval_rows) +
                             " rows of each eval set\n\n"
                       : std::string("## Final evaluation: base vs GRPO model on every eval row\n\n");
  md += std::to_string(K) + " samples per row at temperature " + fmt(cfg.eval_temperature, "%g") + " (seed " +
        std::to_string(in.final_eval_seed) + "), and greedy decoding. Greedy accuracy separates sharpening " +
        "(sampled pass@1 rising toward the greedy one) from new ability (greedy rising too).\n\n";
  md += "| task | rows | pass@1 base | pass@1 GRPO | change | pass@" + std::to_string(K) + " base | pass@" +
        std::to_string(K) + " GRPO | greedy base | greedy GRPO |\n|---|---|---|---|---|---|---|---|---|\n";
  auto row = [&](const std::string& name, const TaskScore& b, const TaskScore& f, const TaskScore& bg,
                 const TaskScore& fg) {
    double d = 100 * (f.pass1 - b.pass1);
    md += "| " + name + " | " + std::to_string(b.rows) + " | " + fmt(b.pass1) + " | " + fmt(f.pass1) + " | " +
          (d >= 0 ? "+" : "") + fmt(d, "%.1f") + " pts | " + fmt(b.passk) + " | " + fmt(f.passk) + " | " +
          fmt(bg.pass1) + " | " + fmt(fg.pass1) + " |\n";
  };
  for (const auto& [task, b] : base.sampled.tasks)
    row(task, b, final.sampled.tasks.at(task), base.greedy.tasks.at(task), final.greedy.tasks.at(task));
  for (const auto& [level, b] : base.sampled.difficulties)
    row(level, b, final.sampled.difficulties.at(level), base.greedy.difficulties.at(level),
        final.greedy.difficulties.at(level));
  if (base.sampled.tasks.size() > 1)
    row("overall", base.sampled.overall, final.sampled.overall, base.greedy.overall, final.greedy.overall);
  md += "\n";
  if (K > 1) md += pass_at_k_section(base.sampled.overall, final.sampled.overall, in.out_dir);
  return md;
}

// Held-out curves per difficulty level (rows that record one, e.g. the search task): pass@1, length
// and candidates tried, and a before/after table (adaptive compute: do harder rows get more tokens?).
template <typename Chart>
std::string difficulty_section(const std::vector<Json>& evals, Chart& chart) {
  static const char* kColors[] = {"#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b"};
  static const char* kNames[] = {"green", "orange", "red", "purple", "brown"};
  const Json& first = evals.front().at("eval").at("difficulties");
  const Json& last = evals.back().at("eval").at("difficulties");
  std::string md = "Held-out by difficulty (step " + fmt(evals.front().at("step").as_number(), "%.0f") + " -> step " +
                   fmt(evals.back().at("step").as_number(), "%.0f") + "):\n\n" +
                   "| level | rows | pass@1 | length | candidates | reflection /1k correct | reflection /1k incorrect |\n" +
                   "|---|---|---|---|---|---|---|\n";
  auto pair = [&](const Json& a, const Json& b, const char* key, const char* f) {
    return fmt(a.at(key).as_number(), f) + " -> " + fmt(b.at(key).as_number(), f);
  };
  for (const auto& [level, a] : first.as_object()) {
    if (!last.contains(level)) continue;
    const Json& b = last.at(level);
    md += "| " + level + " | " + fmt(a.at("rows").as_number(), "%.0f") + " | " + pair(a, b, "pass@1", "%.3f") + " | " +
          pair(a, b, "mean_length", "%.1f") + " | " + pair(a, b, "candidates", "%.2f") + " | " +
          pair(a, b, "reflection_per_1k_correct", "%.1f") + " | " + pair(a, b, "reflection_per_1k_incorrect", "%.1f") +
          " |\n";
  }
  md += "\n";
  for (const auto& [key, title] : std::vector<std::pair<std::string, std::string>>{
           {"pass@1", "held-out pass@1 by difficulty"},
           {"mean_length", "held-out response length by difficulty (tokens)"},
           {"candidates", "held-out candidates tried per completion by difficulty"}}) {
    std::vector<Series> series;
    std::string legend;
    size_t c = 0;
    for (const auto& [level, unused] : first.as_object()) {
      legend += (legend.empty() ? "" : ", ") + level + " " + kNames[c % 5];
      Points p;
      for (const Json& e : evals)
        if (e.at("eval").contains("difficulties") && e.at("eval").at("difficulties").contains(level))
          p.push_back({e.at("step").as_number(), e.at("eval").at("difficulties").at(level).at(key).as_number()});
      series.push_back({level, p, kColors[c++ % 5]});
    }
    std::string file = "grpo_heldout_" + std::string(key == "pass@1" ? "pass1" : key) + "_by_difficulty.svg";
    chart(file, title + " (" + legend + ")", series);
  }
  return md;
}

}  // namespace

std::string write_report(const ReportInputs& in) {
  mkdir(in.out_dir.c_str(), 0755);
  std::string md = "# r1.cpp run report\n\n";
  auto chart = [&](const std::string& file, const std::string& title, const std::vector<Series>& s) {
    write_file_atomic(in.out_dir + "/" + file, svg_line_chart(title, "step", s));
    md += "![" + title + "](" + file + ")\n\n";
  };
  if (!in.pretrain_run.empty()) {
    auto m = read_metrics(in.pretrain_run + "/metrics.jsonl");
    md += "## Pretraining (`" + in.pretrain_run + "`)\n\n";
    if (!m["loss"].empty()) {
      md += "Final training loss " + fmt(m["loss"].back().second) + "; held-out loss " +
            (m["heldout_loss"].empty() ? std::string("n/a") : fmt(m["heldout_loss"].back().second)) + ".\n\n";
    }
    chart("pretrain_loss.svg", "pretraining loss",
          {{"train", smooth(m["loss"], 10), "#1f77b4"}, {"held-out", m["heldout_loss"], "#d62728"}});
  }
  std::string gm = in.grpo_run + "/metrics.jsonl";
  auto m = read_metrics(gm);
  std::vector<Json> evals = read_evals(gm);
  md += "## GRPO (`" + in.grpo_run + "`)\n\n";
  if (!evals.empty()) {
    const Json& first = evals.front().at("eval");
    const Json& last = evals.back().at("eval");
    md += "Held-out evaluation (the same rows, temperature and seeds at every evaluation):\n\n";
    md += "| task | rows | pass@1 step " + fmt(evals.front().at("step").as_number(), "%.0f") + " | pass@1 step " +
          fmt(evals.back().at("step").as_number(), "%.0f") + " | change | format before | format after | length before | length after |\n";
    md += "|---|---|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& name, const Json& a, const Json& b) {
      double p0 = a.at("pass@1").as_number(), p1 = b.at("pass@1").as_number();
      md += "| " + name + " | " + fmt(a.at("rows").as_number(), "%.0f") + " | " + fmt(p0) + " | " + fmt(p1) + " | " +
            (p1 >= p0 ? "+" : "") + fmt(100 * (p1 - p0), "%.1f") + " pts | " + fmt(a.at("format_rate").as_number()) +
            " | " + fmt(b.at("format_rate").as_number()) + " | " + fmt(a.at("mean_length").as_number(), "%.1f") +
            " | " + fmt(b.at("mean_length").as_number(), "%.1f") + " |\n";
    };
    for (const auto& [task, s] : first.at("tasks").as_object())
      if (last.at("tasks").contains(task)) row(task, s, last.at("tasks").at(task));
    row("overall", first.at("overall"), last.at("overall"));
    md += "\n";
    Points pass;
    for (const Json& e : evals) pass.push_back({e.at("step").as_number(), e.at("eval").at("overall").at("pass@1").as_number()});
    chart("grpo_heldout_pass1.svg", "held-out pass@1", {{"pass@1", pass, "#2ca02c"}});
    if (first.contains("difficulties")) md += difficulty_section(evals, chart);
  }
  if (in.final_eval_samples > 0) md += final_eval_section(in);
  int w = in.smooth;
  chart("grpo_reward.svg", "reward and training accuracy (moving average)",
        {{"reward", smooth(m["reward_mean"], w), "#1f77b4"}, {"accuracy", smooth(m["accuracy"], w), "#2ca02c"},
         {"format", smooth(m["format_rate"], w), "#ff7f0e"}});
  chart("grpo_length.svg", "response length in tokens (moving average)",
        {{"all", smooth(m["response_length"], w), "#1f77b4"},
         {"correct", smooth(m["response_length_correct"], w), "#2ca02c"},
         {"incorrect", smooth(m["response_length_incorrect"], w), "#d62728"}});
  chart("grpo_reflection.svg", "reflection words per 1k tokens (moving average)",
        {{"wait/check/verify/...", smooth(m["reflection_per_1k_tokens"], w), "#9467bd"}});
  if (!m["candidates_per_completion"].empty()) {  // runs before the emergence metrics lack these
    chart("grpo_reflection_split.svg", "reflection words per 1k tokens: correct (green) vs incorrect (red)",
          {{"correct", smooth(m["reflection_per_1k_correct"], w), "#2ca02c"},
           {"incorrect", smooth(m["reflection_per_1k_incorrect"], w), "#d62728"}});
    chart("grpo_candidates.svg", "candidates tried per completion (moving average)",
          {{"candidates", smooth(m["candidates_per_completion"], w), "#ff7f0e"}});
  }
  chart("grpo_kl.svg", "KL to the reference (k3, moving average)", {{"kl", smooth(m["kl"], w), "#8c564b"}});
  chart("grpo_entropy.svg", "token entropy (moving average)", {{"entropy", smooth(m["entropy"], w), "#17becf"}});
  write_file_atomic(in.out_dir + "/report.md", md);
  return md;
}

}  // namespace r1
