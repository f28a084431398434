// The R1-Zero reinforcement-learning loop (`r1 grpo`): GRPO from a base model with
// rule-based rewards and no critic.
//
// One step:
//   1. take P prompts (task rows, train split) and format them with the R1-Zero template
//   2. sample G completions each with the policy            -> tokens, lp_old (sampler.h)
//   3. score each completion: accuracy + format (+ language)  -> r_i (reward/reward.h)
//   4. advantages A_i from the group statistics               (rl/grpo.h)
//      optionally drop zero-variance groups (DAPO dynamic sampling), mask truncated
//      completions, shape overlong ones (DAPO)
//   5. mu passes over `minibatches` minibatches: lp = log pi(token) from a training forward,
//      L = grpo_objective(lp, lp_old, lp_ref, A) (+ MoE balance loss); AdamW step
//   6. MoE balancing-bias update; every ref_reset_every steps the reference becomes the
//      current policy
// Devices: everything runs where `model` lives (the reference is placed beside it); the GRPO
// objective itself runs on the host in double precision (rl/grpo.h), so each minibatch copies its
// completion log-probs to the host and their gradient back.
// lp_old is what the sampler recorded (log-softmax at the sampling temperature, before
// truncation); the training forward divides logits by the same temperature so the ratio
// compares like with like. docs/algorithm.md has the equations and the defaults next to the
// paper's values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "reward/reward.h"
#include "rl/emergence.h"
#include "rl/grpo.h"
#include "util/json.h"

namespace r1 {

class Tokenizer;
class RunDir;

struct GrpoConfig {
  std::vector<std::string> tasks = {"arith"};  // task generators the prompts come from
  int difficulty = 1;
  int64_t steps = 100;
  int64_t prompts_per_step = 8;     // P
  int64_t group_size = 8;           // G (R1-Zero: 16)
  float lr = 5e-5f;                 // tiny models need more than R1-Zero's 3e-6 (docs/reproduction.md)
  float weight_decay = 0.0f;
  float grad_clip = 1.0f;
  GrpoOptions objective;            // "convention" preset + beta, eps_low, eps_high, loss, scale_rewards, ...
  int64_t mu = 1;                   // optimisation passes per batch of rollouts
  int64_t minibatches = 1;          // minibatches per pass
  float temperature = 1.0f;         // sampling temperature (R1-Zero: 1)
  float top_p = 1.0f;
  int64_t max_new_tokens = 96;
  int64_t ref_reset_every = 0;      // 0 = the reference stays the initial model (R1: 400)
  bool dynamic_sampling = false;    // drop groups whose rewards are all equal (DAPO)
  bool mask_truncated = false;      // completions that hit max_new_tokens get no loss (DAPO)
  int64_t overlong_buffer = 0;      // DAPO soft overlong penalty over the last N tokens (0 = off)
  double overlong_penalty = 1.0;    // ... reaching -overlong_penalty at max_new_tokens
  RewardWeights weights;            // accuracy + format (+ language)
  // Alignment RL (R1 stage 4): rows of rm_tasks are scored by a neural reward model
  // (reward/reward_model.h) instead of their rule: total = w_rm * rm_score + format (+ language).
  // The rule (the gold judge) is still computed and logged, never rewarded.
  std::string reward_model;         // RM directory; "" = rule rewards only
  double w_rm = 1.0;
  std::vector<std::string> rm_tasks = {"general"};
  // Compute budget: the run ends at the first step after which the rollouts' tokens (prompt +
  // completion, summed over the run) reach token_budget, even before `steps` (0 = off). Used to
  // give two runs the same compute (distillation vs RL of the student, docs/reproduction.md).
  int64_t token_budget = 0;
  std::string template_kind = "r1zero";
  int64_t eval_every = 25;          // held-out pass@1 every N steps (0 = only at start and end)
  int64_t eval_rows = 200;          // rows per task from data/eval/<task>.jsonl
  float eval_temperature = 1.0f;
  std::string eval_dir = "data/eval";
  int64_t checkpoint_every = 50;
  int keep_last = 2;
  uint64_t seed = 0;

  static GrpoConfig from_json(const Json& j, const std::string& source);  // unknown fields are errors
  Json to_json() const;
};

// Runs the loop in place on `model` (loaded from model_dir), writing metrics, checkpoints
// and RUN_DIR/model. Per-step metrics include, besides rewards, accuracy, format, length, KL and
// entropy: language_consistency, task_accuracy (per task), candidates_per_completion and reflection
// words per 1k tokens of correct and incorrect completions (rl/emergence.h) and, with a reward model, proxy_reward
// (mean RM score) and gold_accuracy (the rule judge) over the RM-scored completions. With resume, continues from the run's latest checkpoint.
void train_grpo(Transformer& model, const Tokenizer& tok, const std::string& tokenizer_json, const GrpoConfig& cfg,
                RunDir& run, bool resume);

}  // namespace r1
