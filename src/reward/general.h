// The gold judge of general prompts (tasks/general.h): the reply's final answer (the content of
// the last <answer>...</answer>) must equal the row's answer, words compared after folding runs
// of white space and surrounding punctuation ("pen sun cat", " pen  sun cat. "). Case matters
// only for the "upper" kind. No <answer> tag: no answer (as the math verifier with
// whole_if_none = false). This judge is the ground truth the learned reward model is measured
// against.
#pragma once
#include <string>

#include "util/json.h"

namespace r1 {

struct GeneralResult {
  bool correct = false;
  std::string verdict;    // "correct" | "wrong" | "no_answer"
  std::string extracted;  // the normalised answer that was compared
};

GeneralResult judge_general(const Json& row, const std::string& completion);

}  // namespace r1
