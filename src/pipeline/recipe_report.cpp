// The R1 recipe report. See recipe_report.h.
#include "pipeline/recipe_report.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "pipeline/plot.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1 {

namespace {

using Points = std::vector<std::pair<double, double>>;

// --- claim thresholds ------------------------------------------------------------------------

// "R1 final is at least as accurate as R1-Zero, with language consistency and format at least as
// high" allows R1 final to be up to 1 point below on each: the alignment stages may trade a little
// accuracy for readability, and format rates sit near 100% where a few samples decide. One point
// is less than the sampling noise of a 200-row eval (2-3 points), so this errs toward "not
// reproduced".
constexpr double kAccuracySlack = 0.01;
// General capability counts as kept while the general-prompt gold score is at most 2 points below
// the base model's, and as lost below that: smaller moves are within sampling noise.
constexpr double kGeneralTolerance = 0.02;
// Trends over RL steps compare the mean of the first and of the last 10 logged steps: one step
// scores only a few prompts, so single steps are too noisy to compare.
constexpr size_t kTrendWindow = 10;
// Moving-average window of the per-step RL curves (as `r1 report --grpo`'s default).
constexpr int kSmooth = 5;
// Sample completions are cut after this many characters.
constexpr size_t kSampleChars = 400;

// The models of the results table, in the paper's order, with the label used when a model's eval
// file is missing (a present file's "label" wins).
struct ModelSpec {
  const char* key;
  const char* label;
};
const ModelSpec kModels[] = {
    {"base", "Base"},           {"r1-zero", "R1-Zero"},          {"cold-start", "Cold-start SFT"},
    {"reasoning-rl", "Reasoning RL"}, {"rs-sft", "Rejection-sampling SFT"}, {"r1", "R1 final"},
    {"student-base", "Student base"}, {"distill", "Distilled student"},  {"student-rl", "Student RL"}};

// The RL stages and their colour in the curves.
const std::pair<const char*, const char*> kRlStages[] = {
    {"r1-zero", "#1f77b4"}, {"reasoning-rl", "#ff7f0e"}, {"alignment-rl", "#2ca02c"}, {"student-rl", "#d62728"}};

// --- small helpers ---------------------------------------------------------------------------

std::string fmt(double x, const char* f = "%.3f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

// A rate in [0, 1] as percentage points with one decimal: 0.4567 -> "45.7".
std::string pct(double x) { return fmt(100 * x, "%.1f"); }

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); i++) out += (i ? sep : "") + parts[i];
  return out;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Runs f(); an r1::Error from it is rethrown prefixed with `where` (a file, or file:line).
template <typename F>
auto in_context(const std::string& where, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(cat(where, ": ", e.what()));
  }
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

// Means of the first and the last `kTrendWindow` values (fewer when the series is short: the
// two windows never overlap). False when there are fewer than two values.
bool first_last_means(const Points& p, double& first, double& last) {
  if (p.size() < 2) return false;
  size_t w = std::min(kTrendWindow, p.size() / 2);
  std::vector<double> a, b;
  for (size_t i = 0; i < w; i++) a.push_back(p[i].second), b.push_back(p[p.size() - w + i].second);
  first = mean(a), last = mean(b);
  return true;
}

// --- reading the run folder ------------------------------------------------------------------

struct Stage {
  std::string name, title, kind, dir, status;
  double seconds = 0;
};

struct Pipeline {
  std::string preset;
  std::vector<Stage> stages;
};

Pipeline read_pipeline(const std::string& run) {
  const std::string path = run + "/pipeline.json";
  if (!file_exists(path)) throw Error(cat(path, ": missing (not a `r1 pipeline` run folder)"));
  Json j = Json::parse_file(path);
  return in_context(path, [&] {
    Pipeline p;
    p.preset = j.at("preset").as_string();
    for (const Json& s : j.at("stages").as_array()) {
      Stage st;
      st.name = s.at("name").as_string();
      st.title = s.get_string("title", st.name);
      st.kind = s.at("kind").as_string();
      st.dir = s.get_string("dir", st.name);
      st.status = s.at("status").as_string();
      st.seconds = s.get_number("seconds", 0);
      p.stages.push_back(st);
    }
    return p;
  });
}

// A training run's metrics.jsonl: each numeric field by step, and the held-out evaluations as
// "eval/overall" and "eval/<task>" (pass@1) series.
using Metrics = std::map<std::string, Points>;

Metrics read_metrics(const std::string& path) {
  std::vector<int64_t> lines;
  std::vector<Json> rows = read_jsonl(path, &lines);
  Metrics m;
  for (size_t i = 0; i < rows.size(); i++) {
    in_context(cat(path, ":", lines[i]), [&] {
      const Json& row = rows[i];
      double step = row.at("step").as_number();
      if (const Json* ev = row.find("eval")) {
        m["eval/overall"].push_back({step, ev->at("overall").at("pass@1").as_number()});
        for (const auto& [task, s] : ev->at("tasks").as_object())
          m["eval/" + task].push_back({step, s.at("pass@1").as_number()});
      }
      for (const auto& [k, v] : row.as_object())
        if (v.is_number() && k != "step") m[k].push_back({step, v.as_number()});
    });
  }
  return m;
}

// One task's (or an aggregate's) evaluation score, from rl/eval.h's TaskScore JSON.
struct Score {
  double rows = 0, pass1 = 0, passk = 0, format = 0, language = 0, mixed = 0, length = 0;
};

Score read_score(const Json& j) {
  Score s;
  s.rows = j.at("rows").as_number();
  s.pass1 = j.at("pass@1").as_number();
  s.passk = j.at("pass@k").as_number();
  s.format = j.at("format_rate").as_number();
  s.language = j.at("language_consistency").as_number();
  s.mixed = j.at("mixed_rate").as_number();
  s.length = j.at("mean_length").as_number();
  return s;
}

struct Settings {
  double temperature = 0, top_p = 0;
  int64_t k = 0, rows_per_task = 0, max_new_tokens = 0, seed = 0;
  std::string describe() const {
    return cat("temperature ", fmt(temperature, "%g"), ", top-p ", fmt(top_p, "%g"), ", ", k, " samples per row, ",
               rows_per_task, " rows per task, at most ", max_new_tokens, " new tokens, seed ", seed);
  }
};

struct Generation {
  std::string task, prompt, completion;
  bool correct = false;
  double length = 0;
};

struct ModelEval {
  std::string key, label;
  bool present = false;
  std::string dir, template_kind;
  Settings settings;
  std::map<std::string, Score> tasks;
  std::vector<Generation> generations;  // empty when the generations file is missing
};

std::vector<Generation> read_generations(const std::string& path) {
  std::vector<int64_t> lines;
  std::vector<Json> rows = read_jsonl(path, &lines);
  std::vector<Generation> out;
  for (size_t i = 0; i < rows.size(); i++)
    out.push_back(in_context(cat(path, ":", lines[i]), [&] {
      Generation g;
      g.task = rows[i].at("task").as_string();
      g.prompt = rows[i].at("prompt").as_string();
      g.completion = rows[i].at("completion").as_string();
      g.correct = rows[i].at("correct").as_bool();
      g.length = rows[i].at("length").as_number();
      return g;
    }));
  return out;
}

ModelEval read_model_eval(const std::string& run, const ModelSpec& spec) {
  ModelEval m;
  m.key = spec.key;
  m.label = spec.label;
  const std::string path = run + "/eval/" + m.key + ".json";
  if (!file_exists(path)) return m;
  Json j = Json::parse_file(path);
  in_context(path, [&] {
    m.present = true;
    m.label = j.get_string("label", m.label);
    m.dir = j.at("dir").as_string();
    m.template_kind = j.at("template").as_string();
    const Json& o = j.at("options");
    m.settings.temperature = o.at("temperature").as_number();
    m.settings.top_p = o.at("top_p").as_number();
    m.settings.k = o.at("k").as_int();
    m.settings.rows_per_task = o.at("rows_per_task").as_int();
    m.settings.max_new_tokens = o.at("max_new_tokens").as_int();
    m.settings.seed = o.at("seed").as_int();
    for (const auto& [task, s] : j.at("result").at("tasks").as_object()) m.tasks[task] = read_score(s);
  });
  const std::string gens = run + "/eval/" + m.key + ".generations.jsonl";
  if (file_exists(gens)) m.generations = read_generations(gens);
  return m;
}

const ModelEval* find_model(const std::vector<ModelEval>& models, const std::string& key) {
  for (const ModelEval& m : models)
    if (m.key == key && m.present) return &m;
  return nullptr;
}

std::string label_of(const std::vector<ModelEval>& models, const std::string& key) {
  for (const ModelEval& m : models)
    if (m.key == key) return m.label;
  return key;
}

// Row-weighted mean over the reasoning tasks (every task but "general"); rows = 0 when none.
Score reasoning_score(const ModelEval& m) {
  Score a;
  for (const auto& [task, s] : m.tasks) {
    if (task == "general") continue;
    a.rows += s.rows;
    a.pass1 += s.rows * s.pass1, a.passk += s.rows * s.passk, a.format += s.rows * s.format;
    a.language += s.rows * s.language, a.mixed += s.rows * s.mixed, a.length += s.rows * s.length;
  }
  if (a.rows > 0)
    for (double* x : {&a.pass1, &a.passk, &a.format, &a.language, &a.mixed, &a.length}) *x /= a.rows;
  return a;
}

// --- charts ----------------------------------------------------------------------------------

// Writes RUN/<file> and returns the markdown that shows it; nothing when no series has a point.
std::string chart(const std::string& run, const std::string& file, const std::string& title,
                  const std::string& x_label, const std::vector<Series>& series) {
  bool any = false;
  for (const Series& s : series) any = any || !s.points.empty();
  if (!any) return "";
  write_file_atomic(run + "/" + file, svg_line_chart(title, x_label, series));
  return "![" + title + "](" + file + ")\n\n";
}

// --- section 1: what was run -----------------------------------------------------------------

std::string stages_section(const Pipeline& p) {
  double total = 0;
  for (const Stage& s : p.stages) total += s.seconds;
  std::string md = "Preset `" + p.preset + "`; " + std::to_string(p.stages.size()) + " stages in " + fmt(total, "%.1f") +
                   " s (" + fmt(total / 60, "%.1f") + " min).\n\n";
  md += "| stage | title | kind | seconds | status |\n|---|---|---|---|---|\n";
  for (const Stage& s : p.stages)
    md += "| " + s.name + " | " + s.title + " | " + s.kind + " | " + fmt(s.seconds, "%.1f") + " | " + s.status + " |\n";
  return md + "\n";
}

// --- section 2: the results table ------------------------------------------------------------

std::vector<std::string> reasoning_tasks(const std::vector<ModelEval>& models) {
  std::set<std::string> tasks;
  for (const ModelEval& m : models)
    for (const auto& [task, s] : m.tasks)
      if (task != "general") tasks.insert(task);
  return {tasks.begin(), tasks.end()};
}

std::string eval_command(const ModelEval& m) {
  const Settings& s = m.settings;
  return cat("build/r1 eval --model ", m.dir, " --data data/eval/<task>.jsonl --limit ", s.rows_per_task,
             " --n-samples ", s.k, " --temperature ", fmt(s.temperature, "%g"), " --top-p ", fmt(s.top_p, "%g"),
             " --max-new-tokens ", s.max_new_tokens, " --template ", m.template_kind, " --seed ", s.seed);
}

std::string results_section(const std::vector<ModelEval>& models) {
  std::vector<std::string> tasks = reasoning_tasks(models);
  std::set<int64_t> ks;
  std::map<std::string, std::vector<std::string>> by_settings;  // settings -> labels
  for (const ModelEval& m : models)
    if (m.present) ks.insert(m.settings.k), by_settings[m.settings.describe()].push_back(m.label);
  std::string k = ks.size() == 1 ? std::to_string(*ks.begin()) : "k";

  std::string md = "Pass rates in percent; pass@1 is the mean accuracy over the samples of a row. pass@" + k +
                   ", format, language (the mean share of target-language words in chains of thought that have "
                   "words), mixed (the share of samples with a word in another script) and length are over the "
                   "reasoning tasks" +
                   (tasks.empty() ? "" : " (" + join(tasks, ", ") + ")") + "; general is the gold (rule-judge) pass@1 on the general prompts.\n\n| model |";
  for (const std::string& t : tasks) md += " " + t + " pass@1 |";
  md += " pass@" + k + " | general | format | language | mixed | length (tokens) |\n|---|";
  for (size_t i = 0; i < tasks.size() + 6; i++) md += "---|";
  md += "\n";
  for (const ModelEval& m : models) {
    md += "| " + m.label + " |";
    if (!m.present) {
      md += " missing (no eval/" + m.key + ".json) |";
      for (size_t i = 0; i < tasks.size() + 5; i++) md += " |";
      md += "\n";
      continue;
    }
    for (const std::string& t : tasks) md += " " + (m.tasks.count(t) ? pct(m.tasks.at(t).pass1) : "–") + " |";
    Score r = reasoning_score(m);
    md += " " + pct(r.passk) + " | " + (m.tasks.count("general") ? pct(m.tasks.at("general").pass1) : "–") + " | " +
          pct(r.format) + " | " + pct(r.language) + " | " + pct(r.mixed) + " | " + fmt(r.length, "%.1f") + " |\n";
  }
  if (by_settings.empty()) return md + "\nNo model has an eval file.\n\n";
  if (by_settings.size() == 1) md += "\nSampling settings of every model: " + by_settings.begin()->first + ".\n";
  else {
    md += "\nSampling settings:\n\n";
    for (const auto& [settings, labels] : by_settings) md += "- " + join(labels, ", ") + ": " + settings + ".\n";
  }
  md += "\nTo re-measure a cell (replace `<task>` by the column's task):\n\n```\n";
  for (const ModelEval& m : models)
    if (m.present) md += eval_command(m) + "\n";
  return md + "```\n\n";
}

// --- section 3: training curves ------------------------------------------------------------

struct StageRun {
  std::string name, title, color;
  Metrics metrics;
};

// The metrics of a stage, when its metrics.jsonl exists.
bool load_stage(const std::string& run, const Pipeline& p, const std::string& name, StageRun& out) {
  out.name = out.title = name;
  std::string dir = name;
  for (const Stage& s : p.stages)
    if (s.name == name) dir = s.dir, out.title = s.title;
  const std::string path = run + "/" + dir + "/metrics.jsonl";
  if (!file_exists(path)) return false;
  out.metrics = read_metrics(path);
  return true;
}

// One series per RL stage of metric `key`, smoothed with window w.
std::vector<Series> per_stage(const std::vector<StageRun>& runs, const std::string& key, int w) {
  std::vector<Series> out;
  for (const StageRun& r : runs) {
    auto it = r.metrics.find(key);
    if (it != r.metrics.end()) out.push_back({r.name, smooth(it->second, w), r.color});
  }
  return out;
}

// Pairs (x, y) of two metrics logged at the same steps.
Points against(const Metrics& m, const std::string& x_key, const std::string& y_key) {
  Points out;
  if (!m.count(x_key) || !m.count(y_key)) return out;
  std::map<double, double> x;
  for (auto [step, v] : m.at(x_key)) x[step] = v;
  for (auto [step, v] : m.at(y_key))
    if (x.count(step)) out.push_back({x[step], v});
  return out;
}

std::string alignment_charts(const std::string& run, const Metrics& m) {
  std::string md;
  Series proxy{"proxy reward (reward model)", against(m, "kl", "proxy_reward"), "#ff7f0e", false};
  Series gold{"gold accuracy (rule judge)", against(m, "kl", "gold_accuracy"), "#2ca02c", false};
  md += chart(run, "recipe_alignment_vs_kl.svg", "alignment RL: proxy reward and gold accuracy against KL", "KL to the reference",
              {proxy, gold});
  auto series = [&](const std::string& key) { return m.count(key) ? smooth(m.at(key), kSmooth) : Points(); };
  md += chart(run, "recipe_alignment_vs_step.svg", "alignment RL: proxy reward and gold accuracy (moving average)",
              "step",
              {{"proxy reward", series("proxy_reward"), "#ff7f0e"}, {"gold accuracy", series("gold_accuracy"), "#2ca02c"}});
  return md;
}

// Pretraining and SFT stages: each stage's held-out loss, or its training loss where it logged none.
std::string lm_loss_chart(const std::string& run, const Pipeline& p) {
  const char* const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  std::vector<Series> series;
  for (const Stage& st : p.stages) {
    StageRun r;
    if ((st.kind != "pretrain" && st.kind != "sft") || !load_stage(run, p, st.name, r)) continue;
    const char* color = palette[series.size() % 6];
    if (r.metrics.count("heldout_loss")) series.push_back({st.name, r.metrics["heldout_loss"], color});
    else series.push_back({st.name + " (training)", smooth(r.metrics["loss"], kSmooth), color});
  }
  return chart(run, "recipe_lm_loss.svg", "pretraining and SFT stages: held-out loss", "step", series);
}

std::string curves_section(const std::string& run, const Pipeline& p, const std::vector<StageRun>& runs) {
  std::string md;
  if (runs.empty()) md += "No RL stage has a metrics.jsonl.\n\n";
  std::set<std::string> eval_tasks;
  for (const StageRun& r : runs)
    for (const auto& kv : r.metrics)
      if (kv.first.rfind("eval/", 0) == 0 && kv.first != "eval/overall") eval_tasks.insert(kv.first.substr(5));
  md += chart(run, "recipe_heldout_pass1.svg", "held-out pass@1, all tasks", "step", per_stage(runs, "eval/overall", 1));
  for (const std::string& t : eval_tasks)
    md += chart(run, "recipe_heldout_pass1_" + t + ".svg", "held-out pass@1, " + t, "step", per_stage(runs, "eval/" + t, 1));
  const std::pair<const char*, const char*> curves[] = {
      {"response_length", "response length in tokens"},
      {"reflection_per_1k_tokens", "reflection words per 1k tokens"},
      {"kl", "KL to the reference"},
      {"entropy", "token entropy"},
      {"language_consistency", "language consistency"}};
  for (const auto& [key, title] : curves)
    md += chart(run, std::string("recipe_") + key + ".svg", std::string(title) + " (moving average)", "step",
                per_stage(runs, key, kSmooth));
  for (const StageRun& r : runs)
    if (r.name == "alignment-rl") md += alignment_charts(run, r.metrics);
  StageRun rm;
  if (load_stage(run, p, "rm", rm)) {
    Metrics& m = rm.metrics;
    md += chart(run, "recipe_rm_accuracy.svg", "reward model: preference accuracy", "step",
                {{"training (moving average)", smooth(m["accuracy"], kSmooth), "#1f77b4"},
                 {"held-out", m["heldout_accuracy"], "#d62728"}});
  }
  return md + lm_loss_chart(run, p);
}

// --- section 4: response length by difficulty -------------------------------------------------

// The difficulty of a prompt: an arith prompt's number of operands (maximal digit runs after
// "Compute: "), a general prompt's number of words in its list ("Repeat the word w N times": N; a
// question without a list: 1). 0 for other tasks (not rated).
int difficulty(const Generation& g) {
  const std::string& p = g.prompt;
  if (g.task == "arith") {
    size_t at = p.find("Compute: ");
    int runs = 0;
    for (size_t i = at == std::string::npos ? 0 : at + 9; i < p.size(); i++)
      runs += std::isdigit((unsigned char)p[i]) && (i == 0 || !std::isdigit((unsigned char)p[i - 1]));
    return runs;
  }
  if (g.task != "general") return 0;
  const std::string repeat = "Repeat the word ";
  if (p.rfind(repeat, 0) == 0) {
    size_t n = p.find_first_of("0123456789");
    return n == std::string::npos ? 1 : std::atoi(p.c_str() + n);
  }
  size_t colon = p.find(": ");
  if (colon == std::string::npos) return 1;
  int words = 0;
  for (size_t i = colon + 2; i < p.size(); i++) words += p[i] != ' ' && (i == colon + 2 || p[i - 1] == ' ');
  return words;
}

struct Tally {
  double n = 0, length = 0, correct = 0;
};

// (task, difficulty) -> generations' count, summed length and correct count.
std::map<std::pair<std::string, int>, Tally> by_difficulty(const ModelEval& m) {
  std::map<std::pair<std::string, int>, Tally> out;
  for (const Generation& g : m.generations) {
    int d = difficulty(g);
    if (d == 0) continue;
    Tally& t = out[{g.task, d}];
    t.n++, t.length += g.length, t.correct += g.correct;
  }
  return out;
}

// The mean length at the easiest and at the hardest difficulty of a task.
struct Span {
  int easy = 0, hard = 0;
  double easy_length = 0, hard_length = 0;
  bool grows() const { return hard_length > easy_length; }
  std::string describe() const {
    return fmt(easy_length, "%.1f") + " tokens at difficulty " + std::to_string(easy) + ", " + fmt(hard_length, "%.1f") +
           " at " + std::to_string(hard);
  }
};

Span length_span(const std::map<std::pair<std::string, int>, Tally>& t, const std::string& task) {
  Span s;
  bool first = true;
  for (const auto& [key, tally] : t)  // ordered by difficulty within a task
    if (key.first == task) {
      if (first) s.easy = key.second, s.easy_length = tally.length / tally.n, first = false;
      s.hard = key.second, s.hard_length = tally.length / tally.n;
    }
  return s;
}

std::string difficulty_section(const std::vector<ModelEval>& models) {
  const std::pair<const char*, const char*> pairs[] = {
      {"base", "r1-zero"}, {"cold-start", "reasoning-rl"}, {"student-base", "student-rl"}};
  std::string md =
      "Difficulty: an arith prompt's number of operands, a general prompt's number of words; length in tokens, "
      "pass@1 in percent, over every sample of the eval generations.\n\n"
      "| before -> after RL | task | difficulty | samples | length before | length after | pass@1 before | pass@1 "
      "after |\n|---|---|---|---|---|---|---|---|\n";
  std::string verdicts;
  for (const auto& [b_key, a_key] : pairs) {
    const ModelEval *b = find_model(models, b_key), *a = find_model(models, a_key);
    std::string name = label_of(models, b_key) + " -> " + label_of(models, a_key);
    if (!b || !a || b->generations.empty() || a->generations.empty()) {
      verdicts += "- " + name + ": not measured (a model or its generations file is missing).\n";
      continue;
    }
    auto tb = by_difficulty(*b), ta = by_difficulty(*a);
    std::set<std::string> tasks;
    for (const auto& [key, tally] : ta)
      if (tb.count(key)) {
        const Tally &x = tb.at(key), &y = tally;
        md += "| " + name + " | " + key.first + " | " + std::to_string(key.second) + " | " + fmt(y.n, "%.0f") + " | " +
              fmt(x.length / x.n, "%.1f") + " | " + fmt(y.length / y.n, "%.1f") + " | " + pct(x.correct / x.n) +
              " | " + pct(y.correct / y.n) + " |\n";
        tasks.insert(key.first);
      }
    for (const std::string& t : tasks) {
      Span before = length_span(tb, t), after = length_span(ta, t);
      verdicts += "- " + name + ", " + t + ": ";
      if (after.easy == after.hard) {
        verdicts += "one difficulty level only (" + std::to_string(after.easy) + ").\n";
        continue;
      }
      verdicts += "before RL " + before.describe() + "; after RL " + after.describe() + ": harder problems " +
                  (after.grows() ? "get more tokens after RL (adaptive compute)" : "do not get more tokens after RL") +
                  (before.grows() ? "; they already did before." : "; they did not before.") + "\n";
    }
  }
  return md + "\n" + verdicts + "\n";
}

// --- section 5: rejection sampling -----------------------------------------------------------

std::string rejection_section(const std::string& run) {
  const std::string path = run + "/rejection/stats.json";
  if (!file_exists(path)) return "Not run (no rejection/stats.json).\n\n";
  Json j = Json::parse_file(path);
  return in_context(path, [&] {
    std::string md =
        "A sample is accepted when it passes every filter; a rejected sample counts under each filter it "
        "fails.\n\n| task | prompts | samples | accepted | acceptance | kept | prompts with a kept sample | rejected: "
        "correct | format | language | length |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
    auto row = [&](const std::string& name, const Json& c) {
      const Json& r = c.at("rejected_by");
      md += "| " + name + " | " + fmt(c.at("prompts").as_number(), "%.0f") + " | " +
            fmt(c.at("samples").as_number(), "%.0f") + " | " + fmt(c.at("accepted").as_number(), "%.0f") + " | " +
            pct(c.at("acceptance_rate").as_number()) + "% | " + fmt(c.at("kept").as_number(), "%.0f") + " | " +
            fmt(c.at("prompts_with_kept").as_number(), "%.0f") + " |";
      for (const char* f : {"correct", "format", "language", "length"}) md += " " + fmt(r.at(f).as_number(), "%.0f") + " |";
      md += "\n";
    };
    for (const auto& [task, c] : j.at("tasks").as_object()) row(task, c);
    row("overall", j.at("overall"));
    md += "\nThe SFT set has " + fmt(j.at("sft_rows").as_number(), "%.0f") + " rows: the kept reasoning samples and " +
          fmt(j.at("general_rows").as_number(), "%.0f") + " general rows.\n\n";
    return md;
  });
}

// --- section 6: sample completions -----------------------------------------------------------

// The first `n` characters (UTF-8 code points) of s, never splitting a character.
std::string cut_chars(const std::string& s, size_t n, bool& was_cut) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); i++)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == n) {
      was_cut = true;
      return s.substr(0, i);
    }
  was_cut = false;
  return s;
}

// s in a fenced code block whose fence is longer than any run of backticks in s.
std::string code_block(const std::string& s) {
  size_t run = 0, longest = 0;
  for (char c : s) run = c == '`' ? run + 1 : 0, longest = std::max(longest, run);
  std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + "\n" + s + (s.empty() || s.back() != '\n' ? "\n" : "") + fence + "\n";
}

std::string samples_section(const std::vector<ModelEval>& models) {
  std::string md;
  for (const char* task : {"linear", "arith", "general"}) {
    std::string prompt;
    for (const ModelEval& m : models)
      for (const Generation& g : m.generations)
        if (prompt.empty() && g.task == task) prompt = g.prompt;
    if (prompt.empty()) continue;
    md += "### " + std::string(task) + "\n\n" + code_block(prompt) + "\n";
    for (const ModelEval& m : models) {
      if (!m.present) continue;
      if (m.generations.empty()) {
        md += "**" + m.label + "**: no eval/" + m.key + ".generations.jsonl.\n\n";
        continue;
      }
      auto g = std::find_if(m.generations.begin(), m.generations.end(),
                            [&](const Generation& x) { return x.task == task && x.prompt == prompt; });
      if (g == m.generations.end()) {
        md += "**" + m.label + "**: no generation for this prompt.\n\n";
        continue;
      }
      bool was_cut = false;
      std::string text = cut_chars(g->completion, kSampleChars, was_cut);
      md += "**" + m.label + "** (" + (g->correct ? "correct" : "wrong") + ", " + fmt(g->length, "%.0f") + " tokens" +
            (was_cut ? ", first " + std::to_string(kSampleChars) + " characters" : "") + "):\n\n" + code_block(text) + "\n";
    }
  }
  return md.empty() ? "No eval generations.\n\n" : md;
}

// --- section 7: claims -----------------------------------------------------------------------

enum class Verdict { Reproduced, NotReproduced, NotMeasured };

std::string claim(const std::string& text, Verdict v, const std::string& numbers) {
  const char* word = v == Verdict::Reproduced      ? "reproduced"
                     : v == Verdict::NotReproduced ? "not reproduced at this scale"
                                                   : "not measured";
  return "- " + text + ": **" + word + "**" + (numbers.empty() ? "" : " (" + numbers + ")") + ".\n";
}

Verdict verdict(bool holds) { return holds ? Verdict::Reproduced : Verdict::NotReproduced; }

// "after beats before" on reasoning pass@1.
std::string improves(const std::vector<ModelEval>& models, const std::string& text, const std::string& before,
                     const std::string& after) {
  const ModelEval *b = find_model(models, before), *a = find_model(models, after);
  if (!b || !a) return claim(text, Verdict::NotMeasured, "needs eval/" + before + ".json and eval/" + after + ".json");
  double pb = reasoning_score(*b).pass1, pa = reasoning_score(*a).pass1;
  return claim(text, verdict(pa > pb), a->label + " " + pct(pa) + " vs " + b->label + " " + pct(pb) + " reasoning pass@1");
}

std::string r1_vs_zero(const std::vector<ModelEval>& models) {
  const std::string text = "R1 final is at least as accurate as R1-Zero, with language consistency and format at "
                           "least as high (1-point slack on each)";
  const ModelEval *z = find_model(models, "r1-zero"), *r = find_model(models, "r1");
  if (!z || !r) return claim(text, Verdict::NotMeasured, "needs eval/r1-zero.json and eval/r1.json");
  Score sz = reasoning_score(*z), sr = reasoning_score(*r);
  bool holds = sr.pass1 >= sz.pass1 - kAccuracySlack && sr.language >= sz.language - kAccuracySlack &&
               sr.format >= sz.format - kAccuracySlack;
  return claim(text, verdict(holds),
               "pass@1 " + pct(sr.pass1) + " vs " + pct(sz.pass1) + ", language " + pct(sr.language) + " vs " +
                   pct(sz.language) + ", format " + pct(sr.format) + " vs " + pct(sz.format));
}

std::string general_claims(const std::vector<ModelEval>& models) {
  const std::string keeps = "R1 final keeps general capability (general gold at most 2 points below base)";
  const std::string loses = "R1-Zero loses general capability (general gold more than 2 points below base)";
  auto general = [&](const char* key) -> const Score* {
    const ModelEval* m = find_model(models, key);
    return m && m->tasks.count("general") ? &m->tasks.at("general") : nullptr;
  };
  const Score *base = general("base"), *r1 = general("r1"), *zero = general("r1-zero");
  std::string md;
  if (!base || !r1) md += claim(keeps, Verdict::NotMeasured, "needs general scores of base and r1");
  else
    md += claim(keeps, verdict(r1->pass1 >= base->pass1 - kGeneralTolerance),
                "R1 final " + pct(r1->pass1) + " vs base " + pct(base->pass1));
  if (!base || !zero) md += claim(loses, Verdict::NotMeasured, "needs general scores of base and r1-zero");
  else
    md += claim(loses, verdict(zero->pass1 < base->pass1 - kGeneralTolerance),
                "R1-Zero " + pct(zero->pass1) + " vs base " + pct(base->pass1));
  return md;
}

const Metrics* stage_metrics(const std::vector<StageRun>& runs, const std::string& name) {
  for (const StageRun& r : runs)
    if (r.name == name) return &r.metrics;
  return nullptr;
}

std::string alignment_claim(const std::vector<StageRun>& runs) {
  const std::string text = "Alignment RL raises the proxy (reward-model) reward; the gold score follows or falls";
  const Metrics* m = stage_metrics(runs, "alignment-rl");
  double p0, p1, g0, g1;
  if (!m || !m->count("proxy_reward") || !m->count("gold_accuracy") ||
      !first_last_means(m->at("proxy_reward"), p0, p1) || !first_last_means(m->at("gold_accuracy"), g0, g1))
    return claim(text, Verdict::NotMeasured, "alignment-rl/metrics.jsonl has no proxy_reward/gold_accuracy steps");
  const char* gold = g1 > g0 ? "gold follows" : g1 < g0 ? "gold falls: reward hacking" : "gold stays flat";
  return claim(text, verdict(p1 > p0),
               "first vs last steps: proxy " + fmt(p0) + " -> " + fmt(p1) + ", gold " + pct(g0) + " -> " + pct(g1) +
                   "; " + gold);
}

std::string length_claim(const std::vector<StageRun>& runs) {
  const std::string text = "Response length grows over R1-Zero's RL";
  const Metrics* m = stage_metrics(runs, "r1-zero");
  double l0, l1;
  if (!m || !m->count("response_length") || !first_last_means(m->at("response_length"), l0, l1))
    return claim(text, Verdict::NotMeasured, "r1-zero/metrics.jsonl has no response_length steps");
  return claim(text, verdict(l1 > l0),
               "mean of the first vs last " + std::to_string(kTrendWindow) + " steps: " + fmt(l0, "%.1f") + " -> " +
                   fmt(l1, "%.1f") + " tokens");
}

std::string claims_section(const std::vector<ModelEval>& models, const std::vector<StageRun>& runs) {
  std::string md = "Each claim of the paper, checked against the numbers above. Thresholds: " +
                   pct(kAccuracySlack) + " point of accuracy slack, " + pct(kGeneralTolerance) +
                   " points of general-score tolerance, trends over the first vs last " + std::to_string(kTrendWindow) +
                   " RL steps.\n\n";
  md += improves(models, "RL improves over the base model (R1-Zero vs base)", "base", "r1-zero");
  md += improves(models, "RL improves over cold-start SFT (reasoning RL vs cold-start)", "cold-start", "reasoning-rl");
  md += r1_vs_zero(models);
  md += general_claims(models);
  md += improves(models, "The distilled student beats student RL at equal compute", "student-rl", "distill");
  md += alignment_claim(runs);
  md += length_claim(runs);
  return md + "\n";
}

}  // namespace

// --- the report ------------------------------------------------------------------------------

std::string write_recipe_report(const std::string& run_dir) {
  Pipeline p = read_pipeline(run_dir);
  std::vector<ModelEval> models;
  for (const ModelSpec& spec : kModels) models.push_back(read_model_eval(run_dir, spec));
  std::vector<StageRun> runs;
  for (const auto& [name, color] : kRlStages) {
    StageRun r;
    r.color = color;
    if (load_stage(run_dir, p, name, r)) runs.push_back(std::move(r));
  }
  std::string md = "# r1.cpp: the DeepSeek-R1 recipe at toy scale\n\n";
  md += "## What was run\n\n" + stages_section(p);
  md += "## Results\n\n" + results_section(models);
  md += "## Training curves\n\n" + curves_section(run_dir, p, runs);
  md += "## Response length by difficulty\n\n" + difficulty_section(models);
  md += "## Rejection sampling\n\n" + rejection_section(run_dir);
  md += "## Sample completions\n\nThe first sample of each model on the first linear, arith and general eval row.\n\n" +
        samples_section(models);
  md += "## Claims\n\n" + claims_section(models, runs);
  write_file_atomic(run_dir + "/report.md", md);
  return md;
}

}  // namespace r1
