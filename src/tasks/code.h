// Procedural programming tasks for the code verifier: small stdin/stdout problems ("read n
// numbers, print their sum / maximum / sorted list", string and number puzzles) with
// hidden test cases, each with a short reference Python program.
// Rows: {"task": "code", "prompt": ..., "answer": <reference program>, "tests": [{"input", "output"}]}.
// Expected outputs are computed here in C++ (not by running the reference program), so a
// test that runs the reference program in the sandbox checks the two against each other.
// Deterministic: row i depends only on (seed, i, difficulty).
// Does not do: problems that need more than the Python standard library, floating point.
#pragma once
#include <cstdint>
#include <vector>

#include "util/json.h"

namespace r1 {

// difficulty 1..3: larger inputs, negative numbers and more problem families as it grows.
std::vector<Json> generate_code_tasks(int64_t n, uint64_t seed, int difficulty);

// The names of the problem families available at `difficulty` (for tests and docs).
std::vector<std::string> code_task_families(int difficulty);

}  // namespace r1
