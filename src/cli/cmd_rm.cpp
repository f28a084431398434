// `r1 rm train`: trains a neural reward model (reward/reward_model.h) on preference pairs from a
// causal-LM model directory, in a run folder (train/rm_trainer.h). `r1 rm score`: scores
// (prompt, completion) rows with a trained reward model.
// Does not do: generating pairs (r1 data prefs), using the scores in RL (rl/).
#include <cstdio>

#include "cli/command.h"
#include "train/data.h"
#include "train/rm_trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 rm train --model DIR --data PAIRS.jsonl --out RUN_DIR [--config RM.json] [--steps N] [--lr X]\n"
    "                   [--batch-size B] [--heldout-frac F] [--threads N] [--resume] [--seed S]\n"
    "                   [--stop-after N]\n"
    "  Trains a reward model (docs/rewards.md): the causal LM in DIR (config.json, model.safetensors,\n"
    "  tokenizer.json) with its lm_head replaced by a scalar head score.weight, on rows\n"
    "  {\"prompt\", \"chosen\", \"rejected\"} (r1 data prefs writes them) with the Bradley-Terry loss.\n"
    "  The last --heldout-frac of the rows (default 0.1) are held out for heldout_loss/heldout_accuracy.\n"
    "  RM.json holds trainer fields: steps (200), batch_size (16 pairs), lr (1e-3), min_lr (1e-4),\n"
    "  warmup_steps (10), decay (cosine), weight_decay (0), beta1, beta2, grad_clip (1), eval_every (50),\n"
    "  checkpoint_every (0 = at the end), keep_last (2), seed (0: pair order and head init), head_std (0.02).\n"
    "  Flags override them. Writes RUN_DIR/{run_config.json, metrics.jsonl, checkpoints/, model/}; model/\n"
    "  is a reward model directory (docs/formats.md). --resume continues from the last checkpoint;\n"
    "  --stop-after N ends this invocation after N steps with a checkpoint (as in r1 pretrain).\n"
    "\n"
    "usage: r1 rm score --model RM_DIR --data ROWS.jsonl [--json] [--batch-size B] [--threads N]\n"
    "  Scores rows {\"prompt\", \"completion\"}: prints one score per row, or with --json each row as\n"
    "  JSONL with \"score\" added.";

static int run_train(Args& args) {
  std::string model_dir = args.str("model"), data = args.str("data"), out = args.str("out");
  bool resume = args.flag("resume");
  set_threads(args.integer("threads", 0));
  std::string config_source = "r1 rm train";
  Json train_json = Json::object();
  if (args.has("config")) {
    config_source = args.str("config");
    train_json = Json::parse_file(config_source);
    if (!train_json.is_object()) throw Error(cat(config_source, ": expected a JSON object of trainer fields"));
  }
  if (args.has("steps")) train_json["steps"] = args.integer("steps");
  if (args.has("lr")) train_json["lr"] = args.number("lr");
  if (args.has("batch-size")) train_json["batch_size"] = args.integer("batch-size");
  if (args.has("seed")) train_json["seed"] = args.integer("seed");
  double heldout_frac = args.number("heldout-frac", 0.1);
  int64_t stop_after = args.integer("stop-after", 0);
  args.finish();
  if (stop_after < 0) throw Error("r1 rm train: --stop-after must be >= 0");
  if (!(heldout_frac >= 0 && heldout_frac < 1)) throw Error("r1 rm train: --heldout-frac must be in [0, 1)");
  RmTrainConfig cfg = RmTrainConfig::from_json(train_json, config_source);

  // Everything that can fail on the user's input is checked before the run folder is touched.
  RewardModel rm = RewardModel::from_causal_lm(model_dir, cfg.train.seed, cfg.head_std);
  std::vector<TokenPair> pairs = read_preference_pairs(data, rm);
  size_t n_held = size_t(double(pairs.size()) * heldout_frac);
  if (pairs.size() <= n_held) throw Error(cat(data, ": ", pairs.size(), " pairs leave none to train on"));
  std::vector<TokenPair> heldout(pairs.end() - long(n_held), pairs.end());
  pairs.resize(pairs.size() - n_held);

  Json run_cfg = Json::object();
  run_cfg["model"] = model_dir;
  run_cfg["data"] = data;
  run_cfg["heldout_frac"] = heldout_frac;
  run_cfg["train"] = cfg.to_json();
  RunDir run(out, run_cfg, resume);
  std::fprintf(stderr, "rm: %zu training pairs, %zu held out, %lld parameters\n", pairs.size(), heldout.size(),
               (long long)rm.backbone().config().num_parameters());
  train_rm(rm, pairs, heldout, cfg.train, run, resume, stop_after);
  return 0;
}

static int run_score(Args& args) {
  std::string model_dir = args.str("model"), data = args.str("data");
  bool json = args.flag("json");
  int64_t batch_size = args.integer("batch-size", 16);
  set_threads(args.integer("threads", 0));
  args.finish();
  if (batch_size < 1) throw Error("r1 rm score: --batch-size must be >= 1");
  std::vector<int64_t> lines;
  std::vector<Json> rows = read_jsonl(data, &lines);
  std::vector<std::string> prompts, completions;
  for (size_t r = 0; r < rows.size(); r++) {
    for (const char* field : {"prompt", "completion"}) {
      const Json* v = rows[r].find(field);
      if (!v || !v->is_string()) throw Error(cat(data, ":", lines[r], ": field '", field, "' must be a string"));
    }
    prompts.push_back(rows[r].at("prompt").as_string());
    completions.push_back(rows[r].at("completion").as_string());
  }
  RewardModel rm = RewardModel::load(model_dir);
  std::vector<double> scores = rm.score(prompts, completions, batch_size);
  for (size_t r = 0; r < rows.size(); r++) {
    if (json) {
      Json row = rows[r];
      row["score"] = scores[r];
      std::printf("%s\n", row.dump().c_str());
    } else {
      std::printf("%.6f\n", scores[r]);
    }
  }
  return 0;
}

static int run_rm(Args& args) {
  std::string sub = args.next_positional("subcommand (train, score)");
  if (sub == "train") return run_train(args);
  if (sub == "score") return run_score(args);
  throw Error(cat("r1 rm: unknown subcommand '", sub, "'\n", kUsage));
}

static const bool registered =
    register_command({"rm", "the neural reward model: train on preference pairs (r1 rm train), score rows (r1 rm score)",
                      kUsage, run_rm});

}  // namespace r1
