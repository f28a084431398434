// Reward composition: dispatch to the task's verifier, add format and language terms.
#include "reward/reward.h"

#include "reward/code.h"
#include "reward/countdown.h"
#include "reward/format.h"
#include "reward/general.h"
#include "reward/math_verifier.h"
#include "util/error.h"

namespace r1 {

// The gold answer of a row as text (generators write strings; numbers are accepted).
static std::string gold_answer(const Json& row) {
  const Json& a = row.at("answer");
  return a.is_string() ? a.as_string() : a.dump();
}

RewardBreakdown compute_reward(const Json& row, const std::string& completion, const RewardWeights& w) {
  RewardBreakdown r;
  std::string task = row.at("task").as_string();
  if (task == "arith" || task == "linear" || task == "math") {
    MathResult m = verify_math(gold_answer(row), completion, /*whole_if_none=*/false);
    r.accuracy = m.correct ? 1.0 : 0.0;
    r.verdict = m.verdict;
    r.extracted = m.extracted;
  } else if (task == "countdown" || task == "search") {  // search: countdown over chains (tasks/search.h)
    CountdownResult c = verify_countdown(countdown_problem_from_row(row), completion, /*whole_if_none=*/false);
    r.accuracy = c.correct ? 1.0 : 0.0;
    r.verdict = c.verdict;
    r.extracted = c.extracted;
  } else if (task == "code") {  // the program runs in the sandbox on the row's tests
    CodeResult c = verify_code_completion(completion, row.at("tests"), row.get_string("language", "python"));
    r.accuracy = c.correct ? 1.0 : 0.0;
    r.verdict = c.verdict;
    r.extracted = extract_program(completion);
  } else if (task == "general") {
    GeneralResult g = judge_general(row, completion);
    r.accuracy = g.correct ? 1.0 : 0.0;
    r.verdict = g.verdict;
    r.extracted = g.extracted;
  } else {
    throw Error(cat("reward: unknown task '", task, "' (expected arith, linear, math, countdown, search, code or general)"));
  }
  r.format = check_format(completion, w.allow_summary).ok ? 1.0 : 0.0;
  r.language = language_consistency(chain_of_thought(completion));
  r.total = w.accuracy * r.accuracy + w.format * r.format + w.language * r.language;
  return r;
}

}  // namespace r1
