// Procedural task generators for RL and evaluation: arith, countdown, linear (this
// folder), and code (tasks/code.h, with hidden tests). Each returns n rows
// {"task", "prompt", "answer", ...task fields}; row i depends only on (seed, i,
// difficulty), drawn from r1::Rng(seed, /*stream=*/i), so a bigger n extends a smaller
// one. Prompts are short and in a small fixed phrasing: a ~2M-parameter model is
// pretrained on these tasks from scratch, so difficulty 1 (the default) is learnable by it.
// Difficulty tables are in docs/tasks.md.
// Does not do: natural-language word problems, deduplication across seeds.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"

namespace r1 {

constexpr int kDefaultDifficulty = 1;

// Integer expressions over + - * and parentheses; answer: the value ("-17").
// difficulty 1..4. Rows: {"task":"arith","prompt":"Compute: (12+3)*4","answer":"60"}.
std::vector<Json> generate_arith_tasks(int64_t n, uint64_t seed, int difficulty);

// Countdown: reach the target using each number once with + - * /; the answer is one
// solution, so every row is solvable. difficulty 1..4.
// Rows: {"task":"countdown","prompt":...,"answer":"3*5+7","numbers":[3,5,7],"target":22}.
std::vector<Json> generate_countdown_tasks(int64_t n, uint64_t seed, int difficulty);

// Solve a x + b = c for x; answer: an integer or a reduced fraction ("-2/3").
// difficulty 1..3 (1: integer solutions only). Rows also carry "a", "b", "c".
std::vector<Json> generate_linear_tasks(int64_t n, uint64_t seed, int difficulty);

// Held-out split by content: a row belongs to the eval split when the FNV-1a hash of its
// prompt is 0 mod 5. Train rows never share a prompt with eval rows, whatever the seeds
// (the small tasks have only thousands of distinct problems, so seeds alone would not
// keep the eval set unseen).
enum class Split { Train, Eval, All };
Split parse_split(const std::string& name);  // "train" | "eval" | "all"
bool in_eval_split(const Json& row);

// The task names generate_tasks knows, and the dispatch by name ("arith", "countdown",
// "linear", "code", "general" (tasks/general.h), "search" (tasks/search.h)): the first n rows of the task's stream (the per-task generators
// above, or generate_code_tasks) that fall in `split`. Deterministic, with the same
// prefix property. Throws r1::Error on an unknown task or difficulty.
std::vector<std::string> task_names();
std::vector<Json> generate_tasks(const std::string& task, int64_t n, uint64_t seed, int difficulty,
                                 Split split = Split::Train);

}  // namespace r1
