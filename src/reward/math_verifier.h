// The math verifier: finds the final answer in a completion and decides whether it is
// equivalent to the gold answer, exactly (see math_value.h for the value model and
// docs/rewards.md for every rule).
//
// Extraction: the content of the final <answer>...</answer> if there is one, else the
// brace-matched \boxed{...} / \fbox{...} boxes; text inside <think>...</think> is never
// looked at. Boxes that agree are one answer; different ones joined by "and"/commas are
// one list answer, otherwise a hedge, which fails. Without a tag or box the trainer finds
// no answer; the CLI and gold strings read the text as Math-Verify does (whole, or the
// math of its prose). Answers are compared exactly, relations as relations.
// Does not do: partial credit, answers that need a CAS (functions, limits, solving),
// floating-point rounding (see docs/verify.md "Math answers" for where Math-Verify differs).
#pragma once
#include <string>

namespace r1 {

// The outcome of finding a final answer in a text.
struct Extraction {
  bool found = false;   // false: no answer, or hedged
  bool hedged = false;  // two different final answers
  std::string answer;   // the answer text (trimmed)
};

// Finds the final answer in a completion (countdown's reading: different boxes are always a
// hedge). When the text has no <answer> tag and no \boxed{}, `whole_if_none` makes the
// whole text (outside <think>) the answer; the trainer passes false (no tag, no answer).
Extraction extract_final_answer(const std::string& text, bool whole_if_none);

struct MathOptions {
  // Relative tolerance for numeric answers; 0 (the default) means exact comparison.
  // When > 0, two numeric scalars (rationals, square roots, \pi) also match when
  // |a - b| <= rel_tol * max(|a|, |b|). Non-numeric answers are always exact.
  double rel_tol = 0;
};

struct MathResult {
  bool correct = false;
  // equivalent | string_match | not_equivalent | wrong_variable | no_answer | hedged |
  // unparsable (the prediction is not math the verifier reads, the gold is) | bad_gold
  std::string verdict;
  std::string extracted;  // the prediction's extracted answer
};

// gold: the reference answer ("3/4", "\boxed{3/4}", "x = 2"); completion: model output.
// whole_if_none: false for the trainer (an answer needs a tag or a box), true for the CLI.
MathResult verify_math(const std::string& gold, const std::string& completion, bool whole_if_none,
                       const MathOptions& opt = {});

// True when a and b (bare answers, no extraction) are equivalent.
bool math_equivalent(const std::string& a, const std::string& b, const MathOptions& opt = {});

}  // namespace r1
