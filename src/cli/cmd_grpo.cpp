// `r1 grpo`: the R1-Zero RL loop (rl/grpo_trainer.h) on a model directory.
#include <cstdio>

#include "cli/command.h"
#include "dist/comm.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "rl/grpo_trainer.h"
#include "tokenizer/tokenizer.h"
#include "train/run.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 grpo --model DIR --out RUN_DIR [--config GRPO.json] [--task arith[,linear,...]] [--resume]\n"
    "               [--steps N] [--prompts-per-step P] [--group-size G] [--lr X] [--beta X]\n"
    "               [--convention NAME] [--eps-low X] [--eps-high X] [--loss grpo|token-mean|dr_grpo|...]\n"
    "               [--scale-rewards group|batch|none]\n"
    "               [--mu N] [--minibatches N] [--temperature T] [--max-new-tokens N] [--ref-reset-every N]\n"
    "               [--dynamic-sampling] [--mask-truncated] [--overlong-buffer N] [--eval-every N] [--eval-rows N]\n"
    "               [--seed S] [--threads N] [--device cpu|cuda]\n"
    "  GRPO from the model in DIR with rule-based rewards (accuracy + format). GRPO.json holds any of the\n"
    "  fields of data/presets/grpo_tiny.json; flags override it. Defaults (docs/algorithm.md lists them next\n"
    "  to the paper's): --task arith --steps 100 --prompts-per-step 8 --group-size 8 --lr 5e-5 --beta 0.001 --eps-low/high 0.2\n"
    "  --loss grpo --scale-rewards group --mu 1 --temperature 1 --max-new-tokens 96 --ref-reset-every 0.\n"
    "  --convention NAME (or \"convention\" in GRPO.json) starts the objective from a named framework\n"
    "  convention (docs/verify.md; those with the KL in the reward or TIS are rejected); fields and flags\n"
    "  override it.\n"
    "  Writes RUN_DIR/{run_config.json, metrics.jsonl, checkpoints/, model/}; held-out pass@1 on\n"
    "  data/eval/<task>.jsonl every --eval-every steps (in metrics.jsonl as {\"step\", \"eval\"}).\n"
    "  --device cuda runs rollouts and updates on the GPU (default cpu); run_config.json records the\n"
    "  device the run started on, and --resume may continue it on either device.";

static int run(Args& args) {
  std::string model_dir = args.str("model"), out = args.str("out");
  bool resume = args.flag("resume");
  Json j = args.has("config") ? Json::parse_file(args.str("config")) : Json::object();
  if (args.has("task")) j["tasks"] = Json(args.list("task"));
  auto int_flag = [&](const char* flag, const char* field) {
    if (args.has(flag)) j[field] = args.integer(flag);
  };
  auto num_flag = [&](const char* flag, const char* field) {
    if (args.has(flag)) j[field] = args.number(flag);
  };
  auto str_flag = [&](const char* flag, const char* field) {
    if (args.has(flag)) j[field] = args.str(flag);
  };
  int_flag("steps", "steps");
  int_flag("prompts-per-step", "prompts_per_step");
  int_flag("group-size", "group_size");
  num_flag("lr", "lr");
  str_flag("convention", "convention");
  num_flag("beta", "beta");
  num_flag("eps-low", "eps_low");
  num_flag("eps-high", "eps_high");
  str_flag("loss", "loss");
  str_flag("scale-rewards", "scale_rewards");
  int_flag("mu", "mu");
  int_flag("minibatches", "minibatches");
  num_flag("temperature", "temperature");
  int_flag("max-new-tokens", "max_new_tokens");
  int_flag("ref-reset-every", "ref_reset_every");
  if (args.flag("dynamic-sampling")) j["dynamic_sampling"] = true;
  if (args.flag("mask-truncated")) j["mask_truncated"] = true;
  int_flag("overlong-buffer", "overlong_buffer");
  int_flag("eval-every", "eval_every");
  int_flag("eval-rows", "eval_rows");
  int_flag("seed", "seed");
  int64_t threads = args.integer("threads", 0);
  std::string device_flag = args.str("device", "cpu");
  args.finish();
  const Device device = usable_device(device_flag);
  set_threads(threads);
  GrpoConfig cfg = GrpoConfig::from_json(j, "grpo config");
  Transformer model = load_model(model_dir);
  model.to(device);
  Tokenizer tok = Tokenizer::load(model_dir + "/tokenizer.json");
  if (tok.vocab_size() > model.config().vocab_size)
    throw Error(cat(model_dir, ": tokenizer has ", tok.vocab_size(), " tokens but the model's vocab_size is ",
                    model.config().vocab_size));
  Json run_cfg = Json::object();
  run_cfg["model"] = model_dir;
  run_cfg["grpo"] = cfg.to_json();
  set_run_device(run_cfg, device, out, resume);
  const bool rank0 = world().rank() == 0;  // under mpirun rank 0 writes the run folder
  RunDir rd(out, run_cfg, resume, rank0);
  std::string tok_path = rd.file("tokenizer.json");
  if (!resume && rank0) write_file_atomic(tok_path, read_file(model_dir + "/tokenizer.json"));
  train_grpo(model, tok, tok_path, cfg, rd, resume);
  return 0;
}

static const bool registered = register_command({"grpo", "GRPO reinforcement learning from rule-based rewards", kUsage, run});

}  // namespace r1
