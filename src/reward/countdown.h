// The countdown verifier (TinyZero semantics): the answer is an arithmetic expression
// over + - * / and parentheses that uses each given number exactly once (all of them)
// and evaluates, exactly over the rationals, to the target. Division by zero is a wrong
// answer, never a crash. An optional "= N" suffix is allowed when N is the target.
// Does not do: unary minus, concatenating digits, numbers that were not given.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"

namespace r1 {

struct CountdownProblem {
  std::vector<int64_t> numbers;
  int64_t target = 0;
};

// From a task row: {"numbers": [3, 5, 7], "target": 22, ...}. Throws r1::Error naming
// the missing/invalid field.
CountdownProblem countdown_problem_from_row(const Json& row);

// From the CLI's --gold: a JSON row (as above) or "numbers=3,5,7 target=22".
CountdownProblem parse_countdown_spec(const std::string& spec);

struct CountdownResult {
  bool correct = false;
  // correct | no_answer | hedged | unparsable | wrong_numbers | division_by_zero | wrong_value
  std::string verdict;
  std::string extracted;
};

// Checks one bare expression ("(7-3)*5+2").
CountdownResult check_countdown_expression(const CountdownProblem& p, const std::string& expr);

// Extracts the final answer from a completion (as verify_math does: <answer> tag, else
// \boxed{}; whole_if_none takes the whole text when neither exists) and checks it.
CountdownResult verify_countdown(const CountdownProblem& p, const std::string& completion, bool whole_if_none);

}  // namespace r1
