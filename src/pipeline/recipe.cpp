// The R1 recipe as a list of stages. See recipe.h for the stage table.
// Each stage is a registered r1 command run in this process (cli/command.h): the pipeline is
// the commands a user would type, in order, with the run folders wired together. That is why
// this room includes the CLI's command registry (docs/architecture.md).
#include "pipeline/recipe.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <vector>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "pipeline/recipe_report.h"
#include "rl/eval.h"
#include "rl/grpo_trainer.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

namespace fs = std::filesystem;

std::string recipe_preset_path(const std::string& preset) {
  if (preset.find('/') != std::string::npos || preset.find(".json") != std::string::npos) return preset;
  return "data/presets/recipe_" + preset + ".json";
}

namespace {

using Clock = std::chrono::steady_clock;
using Argv = std::vector<std::string>;

// The models the evaluation compares, in the order of the paper's tables: (name, label, stage
// folder, prompt template).
struct EvalModel {
  const char* name;
  const char* label;
  const char* stage;
  const char* template_kind;
};
const EvalModel kEvalModels[] = {
    {"base", "Base (MoE teacher)", "teacher-base", "r1zero"},
    {"r1-zero", "R1-Zero", "r1-zero", "r1zero"},
    {"cold-start", "Cold start (SFT)", "cold-start", "chat"},
    {"reasoning-rl", "Reasoning RL", "reasoning-rl", "chat"},
    {"rs-sft", "Rejection-sampling SFT", "rs-sft", "chat"},
    {"r1", "R1 final (alignment RL)", "alignment-rl", "chat"},
    {"student-base", "Student base (dense)", "student-base", "r1zero"},
    {"distill", "Distilled student", "distill", "chat"},
    {"student-rl", "Student RL (equal compute)", "student-rl", "r1zero"},
};

// The preset's sections, one per stage (or pair of stages).
const std::initializer_list<const char*> kSections = {"teacher", "student",      "r1_zero", "cold_start",
                                                      "reasoning_rl", "rejection", "rs_sft", "reward_model",
                                                      "alignment_rl", "distill",   "student_rl", "eval"};

class Recipe {
 public:
  explicit Recipe(const RecipeOptions& opt) : opt_(opt), run_(opt.out), start_(Clock::now()) {
    preset_path_ = recipe_preset_path(opt.preset);
    preset_ = Json::parse_file(preset_path_);
    if (!preset_.is_object()) throw Error(cat(preset_path_, ": expected a JSON object of stage sections"));
    reject_unknown_fields(preset_, kSections, preset_path_, "section");
    validate_sections();  // every section readable and valid before anything runs
    if (!opt.dry_run) fs::create_directories(run_ + "/presets");
    status_ = Json::object();
    status_["preset"] = preset_path_;
    status_["stages"] = Json::array();
  }

  // The model directory a stage leaves.
  std::string model(const std::string& stage) const { return run_ + "/" + stage + "/model"; }
  std::string path(const std::string& rel) const { return run_ + "/" + rel; }

  // A stage section of the preset (sections given as file names were read by the constructor).
  const Json& section(const std::string& name) const { return preset_.at(name); }
  // A section (or a part of one) written to RUN/presets/<name>.json, for a command's --config.
  std::string config_file(const std::string& name, const Json& j) const {
    std::string p = run_ + "/presets/" + name + ".json";
    if (!opt_.dry_run) write_file_atomic(p, j.dump(2) + "\n");
    return p;
  }

  bool stopped() const { return stop_; }

  // The fields each section must have, checked before the first stage runs (the pretraining
  // presets are checked by r1 pretrain, which writes nothing before it has read them).
  void validate_sections() {
    try {
      check_sections();
    } catch (const Error& e) {
      std::string msg = e.what();
      throw Error(msg.find(preset_path_) == std::string::npos ? cat(preset_path_, ": ", msg) : msg);
    }
  }
  // Reads the sections given as file names into the preset, so each file is read once.
  void check_sections() {
    for (const char* name : kSections) {
      if (!preset_.contains(name)) throw Error(cat(preset_path_, ": missing section '", name, "'"));
      Json& s = preset_[name];
      if (s.is_string()) {
        std::string file = s.as_string();
        s = Json::parse_file(file);
        if (!s.is_object()) throw Error(cat(file, ": expected a JSON object (preset section '", name, "')"));
      } else if (!s.is_object()) {
        throw Error(cat(preset_path_, ": section '", name, "' must be an object or a file name"));
      }
    }
    auto where = [&](const std::string& s) { return preset_path_ + " (" + s + ")"; };
    for (const char* name : {"r1_zero", "reasoning_rl", "alignment_rl", "student_rl"})
      GrpoConfig::from_json(section(name), where(name));
    Json cold = section("cold_start");
    reject_unknown_fields(cold, {"rows", "tasks", "seed", "train"}, where("cold_start"), "field");
    cold.at("rows").as_int();
    cold.at("tasks").as_array();
    TrainConfig::from_json(cold.at("train"), where("cold_start.train"));
    for (const char* name : {"rs_sft", "distill"}) {
      reject_unknown_fields(section(name), {"train"}, where(name), "field");
      TrainConfig::from_json(section(name).at("train"), where(std::string(name) + ".train"));
    }
    Json rej = section("rejection");
    reject_unknown_fields(rej, {"tasks", "prompts", "k", "temperature", "max_new_tokens", "keep_per_prompt", "general",
                                "seed"}, where("rejection"), "field");
    rej.at("tasks").as_array();
    rej.at("prompts").as_int();
    Json rm = section("reward_model");
    reject_unknown_fields(rm, {"pairs", "seed", "init", "train"}, where("reward_model"), "field");
    rm.at("pairs").as_int();
    rm.at("train").as_object();
    reject_unknown_fields(section("eval"), {"tasks", "rows", "k", "temperature", "top_p", "max_new_tokens", "seed", "eval_dir"},
                          where("eval"), "field");
    section("eval").at("tasks").as_array();
  }

  // Runs one stage: skipped when `output` exists; a training stage (with checkpoints/) resumes.
  void stage(const std::string& name, const std::string& title, const std::string& kind, const std::string& output,
             Argv argv) {
    if (stop_) return;
    int index = int(status_.at("stages").as_array().size()) + 1;
    Json st = Json::object();
    st["name"] = name;
    st["title"] = title;
    st["kind"] = kind;
    st["dir"] = name;
    std::string dir = run_ + "/" + name;
    auto t0 = Clock::now();
    if (opt_.dry_run) {
      plan(name, kind, output, argv);
      if (name == opt_.until) stop_ = true;
      return;
    }
    if (fs::exists(output)) {
      std::fprintf(stderr, "== [%d] %s: done already (%s)\n", index, name.c_str(), output.c_str());
      st["status"] = "skipped";
    } else {
      bool resume = resumable(kind, dir);
      if (!resume && kind != "data" && fs::exists(dir)) fs::remove_all(dir);  // a start that never checkpointed
      std::string line = command_line(kind, resume, argv);
      std::fprintf(stderr, "\n== [%d] %s — %s\n   %s\n", index, name.c_str(), title.c_str(), line.c_str());
      st["command"] = line;
      run_command(argv);
      st["status"] = "done";
    }
    st["seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    record(st);
    std::fprintf(stderr, "== [%d] %s: %.0f s (pipeline %.1f min so far)\n", index, name.c_str(), st.at("seconds").as_number(),
                 std::chrono::duration<double>(Clock::now() - start_).count() / 60);
    if (name == opt_.until) stop_ = true;
  }

  // Every model on the frozen eval sets, with the preset's sampling settings.
  void evaluate_models() {
    if (stop_) return;
    if (opt_.dry_run) {
      std::printf("%-16s %s\n", "eval", "every model on the eval sets (rl/eval.h), then r1 report --recipe");
      return;
    }
    Json ev = section("eval");
    EvalOptions eo;
    eo.n_samples = ev.get_int("k", 4);
    eo.sampling.temperature = float(ev.get_number("temperature", 0.6));
    eo.sampling.top_p = float(ev.get_number("top_p", 0.95));
    validate(eo.sampling);
    eo.max_new_tokens = ev.get_int("max_new_tokens", 128);
    eo.seed = uint64_t(ev.get_int("seed", 7));
    int64_t n_rows = ev.get_int("rows", 200);
    std::string eval_dir = ev.get_string("eval_dir", "data/eval");
    std::vector<Json> rows;
    for (const Json& t : ev.at("tasks").as_array()) {
      std::vector<Json> part = read_jsonl(eval_dir + "/" + t.as_string() + ".jsonl");
      if (int64_t(part.size()) > n_rows) part.resize(size_t(n_rows));
      rows.insert(rows.end(), part.begin(), part.end());
    }
    fs::create_directories(run_ + "/eval");
    auto t0 = Clock::now();
    for (const EvalModel& m : kEvalModels) {
      std::string out = run_ + "/eval/" + m.name + ".json", dir = model(m.stage);
      if (fs::exists(out) || !fs::exists(dir + "/model.safetensors")) continue;
      std::fprintf(stderr, "== eval %s (%s template): %s\n", m.name, m.template_kind, dir.c_str());
      Transformer net = load_model(dir);
      net.to(usable_device(opt_.device));
      Tokenizer tok = Tokenizer::load(dir + "/tokenizer.json");
      eo.template_kind = m.template_kind;
      EvalResult res = evaluate(net, tok, rows, eo);
      std::string gens;
      for (const Json& g : res.generations) gens += g.dump() + "\n";
      write_file_atomic(run_ + "/eval/" + m.name + ".generations.jsonl", gens);
      Json j = Json::object();
      j["model"] = m.name;
      j["label"] = m.label;
      j["dir"] = dir;
      j["template"] = m.template_kind;
      Json o = Json::object();
      o["temperature"] = double(eo.sampling.temperature);
      o["top_p"] = double(eo.sampling.top_p);
      o["k"] = eo.n_samples;
      o["rows_per_task"] = n_rows;
      o["max_new_tokens"] = eo.max_new_tokens;
      o["seed"] = int64_t(eo.seed);
      j["options"] = o;
      j["result"] = res.to_json();
      write_file_atomic(out, j.dump(2) + "\n");  // last: its presence marks the model evaluated
    }
    Json st = Json::object();
    st["name"] = "eval";
    st["title"] = "Evaluation of every model";
    st["kind"] = "eval";
    st["dir"] = "eval";
    st["status"] = "done";
    st["seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
    record(st);
  }

 private:
  bool resumable(const std::string& kind, const std::string& dir) const {
    return kind != "data" && kind != "rejection" && fs::exists(dir + "/checkpoints");
  }
  // argv completed with the flags every stage gets: --threads, --device (the RM trains on the
  // CPU), --resume; in place, and as the "r1 ..." line printed for the user.
  std::string command_line(const std::string& kind, bool resume, Argv& argv) const {
    if (kind != "data") argv.insert(argv.end(), {"--threads", std::to_string(opt_.threads)});
    if (kind != "data" && kind != "rm") argv.insert(argv.end(), {"--device", opt_.device});
    if (resume) argv.push_back("--resume");
    std::string line = "r1";
    for (const std::string& a : argv) line += " " + a;
    return line;
  }
  // --dry-run: one stdout line per stage, what a real run would do now.
  void plan(const std::string& name, const std::string& kind, const std::string& output, Argv argv) const {
    std::string dir = run_ + "/" + name;
    if (fs::exists(output)) {
      std::printf("%-16s skip (%s exists)\n", name.c_str(), output.c_str());
      return;
    }
    std::printf("%-16s %s\n", name.c_str(), command_line(kind, resumable(kind, dir), argv).c_str());
  }
  void run_command(const Argv& argv) {
    auto it = commands().find(argv[0]);
    if (it == commands().end()) throw Error(cat("pipeline: no command '", argv[0], "'"));
    Args args(Argv(argv.begin() + 1, argv.end()), "r1 " + argv[0]);
    int rc = it->second.run(args);
    if (rc != 0) throw Error(cat("pipeline: r1 ", argv[0], " exited with ", rc));
  }
  void record(const Json& st) {
    status_["stages"].push_back(st);
    write_file_atomic(run_ + "/pipeline.json", status_.dump(2) + "\n");
  }

  RecipeOptions opt_;
  std::string run_, preset_path_;
  Json preset_, status_;
  Clock::time_point start_;
  bool stop_ = false;
};

// Tokens a trainer section processes: steps x batch_size x seq_len x grad_accum.
int64_t trained_tokens(const Json& train, const std::string& source) {
  TrainConfig tc = TrainConfig::from_json(train, source);
  return tc.steps * tc.batch_size * tc.seq_len * tc.grad_accum;
}

// A number as a flag value: "1", "0.6".
std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

std::string join(const Json& list) {
  std::string s;
  for (const Json& t : list.as_array()) s += (s.empty() ? "" : ",") + t.as_string();
  return s;
}

}  // namespace

std::string run_recipe(const RecipeOptions& opt) {
  Recipe r(opt);
  const std::string base = r.model("teacher-base"), student = r.model("student-base");

  // 0. Base models: the MoE teacher, and a dense student that shares its tokenizer.
  r.stage("teacher-base", "Teacher base model: MoE pretraining", "pretrain", base + "/model.safetensors",
          {"pretrain", "--config", r.config_file("teacher", r.section("teacher")), "--out", r.path("teacher-base")});
  r.stage("student-base", "Student base model: dense pretraining", "pretrain", student + "/model.safetensors",
          {"pretrain", "--config", r.config_file("student", r.section("student")), "--out", r.path("student-base"),
           "--tokenizer", base + "/tokenizer.json"});

  // 1. R1-Zero: GRPO straight from the base, rule rewards (accuracy + format), no SFT.
  r.stage("r1-zero", "R1-Zero: GRPO from the base", "grpo", r.model("r1-zero") + "/model.safetensors",
          {"grpo", "--model", base, "--config", r.config_file("r1_zero", r.section("r1_zero")), "--out", r.path("r1-zero")});

  // 2. Cold start: SFT of the base on a few thousand long, readable chains of thought.
  Json cold = r.section("cold_start");
  std::string cold_rows = r.path("cold-start-data.jsonl");
  r.stage("cold-start-data", "Cold-start data: readable chains of thought", "data", cold_rows,
          {"data", "cold-start", "--n", std::to_string(cold.at("rows").as_int()), "--seed",
           std::to_string(cold.get_int("seed", 0)), "--tasks", join(cold.at("tasks")), "--out", cold_rows});
  r.stage("cold-start", "Cold start: SFT of the base", "sft", r.model("cold-start") + "/model.safetensors",
          {"sft", "--model", base, "--data", cold_rows, "--config", r.config_file("cold_start_train", cold.at("train")),
           "--out", r.path("cold-start")});

  // 3. Reasoning RL from the cold start: accuracy + format + language consistency.
  r.stage("reasoning-rl", "Reasoning RL: GRPO from the cold start (+ language reward)", "grpo",
          r.model("reasoning-rl") + "/model.safetensors",
          {"grpo", "--model", r.model("cold-start"), "--config", r.config_file("reasoning_rl", r.section("reasoning_rl")),
           "--out", r.path("reasoning-rl")});

  // 4. Rejection sampling from the RL checkpoint, plus general data; SFT of the *base* on it.
  Json rej = r.section("rejection");
  std::string sft_data = r.path("rejection/sft_data.jsonl");
  r.stage("rejection", "Rejection sampling from reasoning RL (+ general SFT rows)", "rejection", sft_data,
          {"rejection-sample", "--model", r.model("reasoning-rl"), "--out", r.path("rejection"), "--tasks",
           join(rej.at("tasks")), "--n", std::to_string(rej.at("prompts").as_int()), "--k",
           std::to_string(rej.get_int("k", 4)), "--temperature", num(rej.get_number("temperature", 1.0)),
           "--max-new-tokens", std::to_string(rej.get_int("max_new_tokens", 128)), "--keep-per-prompt",
           std::to_string(rej.get_int("keep_per_prompt", 1)), "--general", std::to_string(rej.get_int("general", 0)),
           "--seed", std::to_string(rej.get_int("seed", 1))});
  Json rs = r.section("rs_sft");
  r.stage("rs-sft", "Rejection-sampling SFT of the base", "sft", r.model("rs-sft") + "/model.safetensors",
          {"sft", "--model", base, "--data", sft_data, "--config", r.config_file("rs_sft_train", rs.at("train")), "--out",
           r.path("rs-sft")});

  // 5. Alignment RL: a neural reward model for general prompts, rules for reasoning prompts.
  Json rm = r.section("reward_model");
  std::string pairs = r.path("rm-data.jsonl");
  r.stage("rm-data", "Preference pairs for the reward model", "data", pairs,
          {"data", "prefs", "--n", std::to_string(rm.at("pairs").as_int()), "--seed", std::to_string(rm.get_int("seed", 0)),
           "--out", pairs});
  r.stage("rm", "Reward model: Bradley-Terry on preference pairs", "rm", r.model("rm") + "/model.safetensors",
          {"rm", "train", "--model", r.model(rm.get_string("init", "rs-sft")), "--data", pairs, "--config",
           r.config_file("rm_train", rm.at("train")), "--out", r.path("rm")});
  Json align = r.section("alignment_rl");
  align["reward_model"] = r.model("rm");
  r.stage("alignment-rl", "Alignment RL: rules + reward model (R1 final)", "grpo",
          r.model("alignment-rl") + "/model.safetensors",
          {"grpo", "--model", r.model("rs-sft"), "--config", r.config_file("alignment_rl", align), "--out",
           r.path("alignment-rl")});

  // 6. Distillation: SFT of the student on the same data; and, for comparison, RL of the student
  //    base with the same number of trained tokens (docs/reproduction.md).
  Json distill = r.section("distill");
  r.stage("distill", "Distillation: SFT of the student on the R1 data", "sft", r.model("distill") + "/model.safetensors",
          {"sft", "--model", student, "--data", sft_data, "--config", r.config_file("distill_train", distill.at("train")),
           "--out", r.path("distill")});
  Json srl = r.section("student_rl");
  srl["token_budget"] = trained_tokens(distill.at("train"), "distill.train");
  r.stage("student-rl", "Student RL: GRPO from the student base, equal compute", "grpo",
          r.model("student-rl") + "/model.safetensors",
          {"grpo", "--model", student, "--config", r.config_file("student_rl", srl), "--out", r.path("student-rl")});

  // 7. Evaluation of every model, and the report.
  r.evaluate_models();
  if (r.stopped() || opt.dry_run) return "";
  write_recipe_report(opt.out);
  return r.path("report.md");
}

}  // namespace r1
