// Evaluation: sample K completions per task row, score them with the rule-based rewards,
// and report per task pass@1 (mean accuracy over the K samples), pass@K (a row counts when
// any sample is right), the format rate and mean response lengths (all, correct, incorrect).
// Used by `r1 eval`, by `r1 pretrain`'s report and by `r1 grpo`'s periodic held-out eval.
// Sample k of row i uses the RNG stream (seed, i*K + k), so results do not depend on the
// batch size. Generation runs on the model's device (sample/generate.h); scoring on the host.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "reward/reward.h"
#include "sample/sampler.h"
#include "util/json.h"

namespace r1 {

class Tokenizer;

struct EvalOptions {
  int64_t n_samples = 1;              // K
  SamplingParams sampling;            // temperature 1 by default (the paper's pass@1 setting)
  int64_t max_new_tokens = 128;
  std::string template_kind = "r1zero";
  uint64_t seed = 0;
  int64_t batch = 64;                 // completions generated together
  RewardWeights weights;
};

struct TaskScore {
  int64_t rows = 0;
  double pass1 = 0, passk = 0, format_rate = 0, language = 1, mixed_rate = 0;
  double mean_length = 0, mean_length_correct = 0, mean_length_incorrect = 0;  // in tokens
  Json to_json() const;
};

struct EvalResult {
  std::map<std::string, TaskScore> tasks;  // by task name
  TaskScore overall;
  std::vector<Json> generations;  // one row per completion: task, prompt, answer, completion, scores
  Json to_json() const;           // {"overall": {...}, "tasks": {"arith": {...}, ...}}
};

// rows: {"task", "prompt", "answer", ...}. Completions end at <|endoftext|>, at "</answer>",
// or after max_new_tokens.
EvalResult evaluate(Transformer& model, const Tokenizer& tok, const std::vector<Json>& rows, const EvalOptions& opt);

// The text of generated tokens without the end-of-sequence token (ids beyond the tokenizer's
// vocabulary decode to nothing, see decodable_text()).
std::string completion_text(const Tokenizer& tok, const std::vector<int32_t>& tokens);

}  // namespace r1
