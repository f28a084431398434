// Reward-model training on preference pairs (`r1 rm train`): the Bradley-Terry loss over
// (chosen, rejected) pairs, AdamW with warmup + decay, gradient clipping, held-out pair loss and
// accuracy, atomic checkpoints and exact resume, in a run folder (train/run.h).
//
// One optimizer step over B pairs (chosen and rejected texts in one right-padded forward):
//   r_c, r_r = rm(chosen), rm(rejected);  loss = mean -log sigmoid(r_c - r_r) (+ MoE balance loss)
//   backward; grad_norm = clip_grad_norm(params, grad_clip); adamw.step(); update_router_bias()
// Pair order: epoch e visits the training pairs in a permutation drawn from Rng(seed, e); step s
// takes pairs s*B .. s*B+B-1 of that endless sequence, so the batch is a function of the step and
// resuming needs only the step count (plus weights and AdamW state).
// metrics.jsonl per step: {"step", "loss", "accuracy" (fraction of the batch's pairs with
// r_c > r_r), "lr", "grad_norm"}; every eval_every steps and at the last also "heldout_loss" and
// "heldout_accuracy" over all held-out pairs.
// Does not do: gradient accumulation, margin losses, ties.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "reward/reward_model.h"
#include "train/run.h"
#include "train/trainer.h"
#include "util/json.h"

namespace r1 {

// The `r1 rm train` config: one flat JSON object of TrainConfig's fields (trainer.h) without the
// LM-only ones (seq_len, grad_accum, eval_batches are unknown fields here), plus "head_std".
// train.seed draws both the pair order (train_rm) and the score head's init.
struct RmTrainConfig {
  TrainConfig train = default_train();  // optimizer, schedule, evaluation and checkpoint fields
  float head_std = 0.02f;               // std of the score head's normal init

  // The reward model's own defaults where they differ from TrainConfig's: steps 200, batch_size 16
  // (pairs per step), warmup_steps 10, weight_decay 0, eval_every 50 (held-out evaluation).
  static TrainConfig default_train();
  // Unknown fields are errors naming `source` and the field.
  static RmTrainConfig from_json(const Json& j, const std::string& source);
  Json to_json() const;
};

// One preference pair, tokenized (RewardModel::encode).
struct TokenPair {
  Ids chosen, rejected;
};

// A pairs file (JSONL rows with string fields "prompt", "chosen", "rejected"; other fields are
// ignored) tokenized by the reward model. Errors name path:line and the field.
std::vector<TokenPair> read_preference_pairs(const std::string& path, const RewardModel& rm);

struct PairEval {
  double loss = 0;      // mean Bradley-Terry loss
  double accuracy = 0;  // fraction of pairs with r_chosen > r_rejected
};
// Over all pairs, batch_size pairs per forward, no autograd.
PairEval evaluate_pairs(RewardModel& rm, const std::vector<TokenPair>& pairs, int64_t batch_size);

// Trains rm in place with cfg's optimizer, schedule, evaluation and checkpoint fields (batch_size
// counts pairs, seed draws the pair order; seq_len, grad_accum and eval_batches are not used).
// heldout may be empty. resume: continue from the run's latest checkpoint (an error if there is none). Writes RUN_DIR/model (an RM directory) at the end.
// stop_after > 0 ends this call after that many steps with a checkpoint (RUN_DIR/model not
// written), as train_lm does: a later resume continues as if never stopped.
void train_rm(RewardModel& rm, const std::vector<TokenPair>& train, const std::vector<TokenPair>& heldout,
              const TrainConfig& cfg, RunDir& run, bool resume, int64_t stop_after = 0);

}  // namespace r1
