// Dispatch from a task name to its generator, and the content-hash train/eval split.
#include "tasks/tasks.h"

#include "tasks/code.h"
#include "tasks/general.h"
#include "tasks/search.h"
#include "util/error.h"

namespace r1 {

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "eval") return Split::Eval;
  if (name == "all") return Split::All;
  throw Error(cat("unknown split '", name, "' (expected train, eval or all)"));
}

bool in_eval_split(const Json& row) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a, 64-bit
  for (unsigned char c : row.at("prompt").as_string()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h % 5 == 0;
}

std::vector<std::string> task_names() { return {"arith", "countdown", "linear", "code", "general", "search"}; }

// The first n rows of the raw stream.
static std::vector<Json> raw_rows(const std::string& task, int64_t n, uint64_t seed, int difficulty) {
  if (task == "arith") return generate_arith_tasks(n, seed, difficulty);
  if (task == "countdown") return generate_countdown_tasks(n, seed, difficulty);
  if (task == "linear") return generate_linear_tasks(n, seed, difficulty);
  if (task == "code") return generate_code_tasks(n, seed, difficulty);
  if (task == "general") return generate_general_tasks(n, seed, difficulty);
  if (task == "search") return generate_search_tasks(n, seed, difficulty);
  throw Error(cat("unknown task '", task, "' (expected arith, countdown, linear, code, general or search)"));
}

std::vector<Json> generate_tasks(const std::string& task, int64_t n, uint64_t seed, int difficulty, Split split) {
  check(n >= 0, "generate_tasks: n must be >= 0, got ", n);
  if (split == Split::All || n == 0) return raw_rows(task, n, seed, difficulty);
  // Draw a longer stream and keep the rows of the split; about 1 in 5 rows is eval.
  for (int64_t m = (split == Split::Eval ? 6 * n : 2 * n) + 64;; m *= 2) {
    std::vector<Json> kept;
    for (Json& row : raw_rows(task, m, seed, difficulty)) {
      if (in_eval_split(row) == (split == Split::Eval)) kept.push_back(std::move(row));
      if (int64_t(kept.size()) == n) return kept;
    }
    check(m < 100 * n + 100000, "generate_tasks: ", task, " yields too few rows for split (n=", n, ")");
  }
}

}  // namespace r1
