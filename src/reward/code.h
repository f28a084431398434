// The code verifier: runs a program (Python, or C++ compiled with g++) on hidden test cases
// in the sandbox (reward/sandbox.h) and says whether every test's stdout matches.
// Comparison: exact after trailing-whitespace normalization (trailing spaces/tabs/CR on each
// line and trailing empty lines are ignored); a test with "tolerance": t compares
// whitespace-separated numeric tokens with |got - want| <= t * max(1, |want|).
// Reward is all or nothing, so tests stop at the first failure.
// Does not do: partial credit, interactive problems, special judges.
#pragma once
#include <string>
#include <vector>

#include "reward/sandbox.h"
#include "util/json.h"

namespace r1 {

struct CodeTestResult {
  // pass | wrong_answer | runtime_error | time_limit | memory_limit | output_limit | sandbox_error
  std::string verdict;
  std::string stdout_excerpt;  // the first 200 bytes of what the program printed
  double seconds = 0;          // wall time of the run
  std::string detail;          // why, when not pass
};

struct CodeResult {
  bool correct = false;  // every test passed
  double reward = 0;     // 1 when correct, else 0
  // "pass", the first failing test's verdict, or "compile_error" / "sandbox_error" /
  // "wrong_answer" (no program could be extracted).
  std::string verdict;
  std::string detail;                 // compiler errors, sandbox failure, ...
  std::vector<CodeTestResult> tests;  // the tests that ran, in order
};

// The program in a completion: the content of the final <answer>...</answer>, or of the
// first ``` fenced block inside it (its language tag dropped). "" when there is none.
// Without an <answer> tag, `whole_if_none` takes the whole text instead (the same rule:
// a fenced block in it wins); the trainer passes false, the CLI true.
std::string extract_program(const std::string& completion, bool whole_if_none = false);

// Runs `program` on `tests` (a JSON array of {"input": str, "output": str[, "tolerance": num]}).
// language: "python" or "cpp". Throws r1::Error only for malformed tests or an unknown
// language (a caller's mistake); everything the program does becomes a verdict.
CodeResult verify_code(const std::string& program, const Json& tests, const std::string& language,
                       const SandboxLimits& limits = {});

// extract_program + verify_code; an empty extraction is "wrong_answer" without running.
CodeResult verify_code_completion(const std::string& completion, const Json& tests, const std::string& language,
                                  const SandboxLimits& limits = {}, bool whole_if_none = false);

// Does `got` match `want` under the rules above? tolerance <= 0 means exact.
bool outputs_match(const std::string& got, const std::string& want, double tolerance);

// {"correct", "reward", "verdict", "extracted", "detail", "tests": [{"verdict", "stdout", "seconds", "detail"}]}
Json code_result_json(const CodeResult& r, const std::string& extracted);

}  // namespace r1
