// Rejection sampling (DeepSeek-R1, section 2.3.3): sample K completions per prompt from a
// model (the reasoning-RL checkpoint), keep only the good ones, and turn them into SFT rows.
// A completion is kept when it passes every filter:
//   correct     the rule-based verifier accepts the final answer (reward/reward.h)
//   format      the R1 layout: <think> ... </think> summary <answer> ... </answer>
//   language    one language: its chain of thought's language consistency >= min_language
//   length      not overlong: it ended by itself (not at max_new_tokens) within max_length tokens
// and then at most keep_per_prompt distinct completions of a prompt are kept (the first ones).
// Sampling is evaluate()'s (rl/eval.h): sample k of row i draws from Rng(seed, i*K + k), so the
// kept set does not depend on the batch size.
// Does not do: the paper's generative-reward-model judging of non-verifiable prompts, or
// filtering by a neural model (the general SFT rows come from the task programs, sft_data.h).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "rl/eval.h"
#include "util/json.h"

namespace r1 {

struct RejectionOptions {
  EvalOptions sampling;         // K samples per row, temperature, template ("chat"), seed
  int64_t keep_per_prompt = 1;  // distinct accepted completions kept per prompt
  double min_language = 1.0;    // language-consistency threshold of the chain of thought
  int64_t max_length = 0;       // tokens; 0 = only completions cut at max_new_tokens are overlong
};

struct RejectionResult {
  std::vector<Json> kept;     // SFT rows {"messages": [...], "task", "source": "rejection_sampling"}
  std::vector<Json> samples;  // every completion with its verdicts: {"task","prompt","completion",
                              //  "correct","format","language","length","finish","accepted","kept"}
  Json stats;                 // {"overall": {...}, "tasks": {task: {...}}}: prompts, samples, accepted,
                              // kept, prompts_with_kept, acceptance_rate, rejected_by: {filter: n}
};

RejectionResult rejection_sample(Transformer& model, const Tokenizer& tok, const std::vector<Json>& rows,
                                 const RejectionOptions& opt);

// The filters one completion passes: {"correct", "format", "language", "length"} -> passed.
// generation: a row of EvalResult::generations ("correct", "format", "language", "finish", "length").
std::map<std::string, bool> rejection_filters(const Json& generation, const RejectionOptions& opt);

}  // namespace r1
