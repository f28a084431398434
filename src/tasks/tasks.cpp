// Dispatch from a task name to its generator.
#include "tasks/tasks.h"

#include "tasks/code.h"
#include "util/error.h"

namespace r1 {

std::vector<std::string> task_names() { return {"arith", "countdown", "linear", "code"}; }

std::vector<Json> generate_tasks(const std::string& task, int64_t n, uint64_t seed, int difficulty) {
  check(n >= 0, "generate_tasks: n must be >= 0, got ", n);
  if (task == "arith") return generate_arith_tasks(n, seed, difficulty);
  if (task == "countdown") return generate_countdown_tasks(n, seed, difficulty);
  if (task == "linear") return generate_linear_tasks(n, seed, difficulty);
  if (task == "code") return generate_code_tasks(n, seed, difficulty);
  throw Error(cat("unknown task '", task, "' (expected arith, countdown, linear or code)"));
}

}  // namespace r1
