// The rule-based reward the GRPO trainer calls: one entry point that scores a completion
// against its task row and returns the breakdown (DeepSeek-R1, section 2.2.2):
//
//   total = w_accuracy * accuracy + w_format * format + w_language * language
//
// accuracy is 1 when the final answer is right (dispatch on row["task"]: arith, linear
// and math go to the math verifier with row["answer"] as gold; countdown goes to the
// countdown verifier with row["numbers"] and row["target"]; general goes to its gold judge
// (reward/general.h); code runs the extracted
// program on row["tests"] in the sandbox, reward/code.h), format is 1 when the
// completion has the <think>/<answer> format, language is the language-consistency
// fraction of the chain of thought. Accuracy never depends on format: a well-formed but
// empty completion earns only the format weight.
// Does not do: the neural reward model, length penalties.
#pragma once
#include <string>

#include "util/json.h"

namespace r1 {

struct RewardWeights {
  double accuracy = 1.0;  // the paper weighs accuracy and format equally
  double format = 1.0;
  double language = 0.0;  // R1 stage-2 RL turns this on
  // The R1 layout (chat template, cold-start data): a short summary may stand between </think>
  // and <answer>. The R1-Zero template asks for nothing there, so it stays off for it.
  bool allow_summary = false;
};

struct RewardBreakdown {
  double accuracy = 0, format = 0, language = 0, total = 0;
  std::string verdict;    // the accuracy verifier's verdict ("equivalent", "no_answer", ...)
  std::string extracted;  // the answer it extracted
};

// row: {"task": ..., "answer": ..., (task fields)}. Throws r1::Error on an unknown task
// or a row missing a field its task needs.
RewardBreakdown compute_reward(const Json& row, const std::string& completion, const RewardWeights& w = {});

}  // namespace r1
