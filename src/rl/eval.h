// Evaluation: sample K completions per task row, score them with the rule-based rewards,
// and report per task pass@1 (mean accuracy over the K samples), pass@K (a row counts when
// any sample is right), the unbiased pass@k for k = 1..K, the format rate, mean response lengths
// (all, correct, incorrect), candidates tried and reflection words (correct vs incorrect), also
// per difficulty level for rows that record one (the search task).
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
  double candidates = 0;  // candidates tried per completion (rl/emergence.h)
  double reflection_per_1k_correct = 0, reflection_per_1k_incorrect = 0;  // reflection words per 1k tokens
  std::vector<double> pass_at_k;  // (K) unbiased pass@k for k = 1..K, averaged over rows (rl/emergence.h)
  Json to_json() const;
};

struct EvalResult {
  std::map<std::string, TaskScore> tasks;  // by task name
  std::map<std::string, TaskScore> difficulties;  // "<task>/d<level>", for rows with a "difficulty" field
  TaskScore overall;
  std::vector<Json> generations;  // one row per completion: task, prompt, answer, completion, scores
  Json to_json() const;           // {"overall": {...}, "tasks": {"arith": {...}, ...}, "difficulties": {...}}
};

// rows: {"task", "prompt", "answer", ...}. Completions end at <|endoftext|>, at "</answer>",
// or after max_new_tokens.
EvalResult evaluate(Transformer& model, const Tokenizer& tok, const std::vector<Json>& rows, const EvalOptions& opt);

// The text of generated tokens without the end-of-sequence token (ids beyond the tokenizer's
// vocabulary decode to nothing, see decodable_text()).
std::string completion_text(const Tokenizer& tok, const std::vector<int32_t>& tokens);

}  // namespace r1
