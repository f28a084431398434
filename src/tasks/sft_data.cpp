// Cold-start and general SFT rows. See sft_data.h.
#include "tasks/sft_data.h"

#include "tasks/corpus.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

namespace {

// The one-sentence summary after </think>.
std::string summary_of(const Json& row) {
  const std::string task = row.at("task").as_string(), answer = row.at("answer").as_string();
  if (task == "linear") return "so x = " + answer + ".";
  if (task == "arith") return "so " + row.at("prompt").as_string().substr(9) + " = " + answer + ".";
  if (task == "countdown") return "so " + answer + " = " + std::to_string(row.at("target").as_int()) + ".";
  if (task == "general") return "so the reply is " + answer + ".";
  throw Error(cat("sft data: no readable replies for task '", task, "'"));
}

}  // namespace

Json sft_row(const std::string& prompt, const std::string& reply, const std::string& task, const std::string& source) {
  Json user = Json::object(), assistant = Json::object();
  user["role"] = "user";
  user["content"] = prompt;
  assistant["role"] = "assistant";
  assistant["content"] = reply;
  Json out = Json::object();
  out["messages"] = Json(std::vector<Json>{user, assistant});
  out["task"] = task;
  out["source"] = source;
  return out;
}

std::string readable_reply(const Json& row, uint64_t seed) {
  return "<think> " + worked_solution(row, "explain", seed) + " </think> " + summary_of(row) + " <answer> " +
         row.at("answer").as_string() + " </answer>";
}

std::vector<Json> cold_start_rows(int64_t n, uint64_t seed, const std::vector<std::string>& tasks) {
  check(!tasks.empty(), "cold start: no tasks");
  std::vector<std::vector<Json>> pools;
  int64_t per_task = (n + int64_t(tasks.size()) - 1) / int64_t(tasks.size());
  for (const std::string& t : tasks) pools.push_back(generate_tasks(t, per_task, seed, 1, Split::Train));
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    const Json& row = pools[size_t(i) % tasks.size()][size_t(i) / tasks.size()];
    rows.push_back(sft_row(row.at("prompt").as_string(), readable_reply(row, Rng(seed, uint64_t(i)).next()),
                           row.at("task").as_string(), "cold_start"));
  }
  return rows;
}

std::vector<Json> general_sft_rows(int64_t n, uint64_t seed) {
  std::vector<Json> rows;
  for (const Json& row : generate_tasks("general", n, seed, 1, Split::Train))
    rows.push_back(sft_row(row.at("prompt").as_string(), readable_reply(row, 0), "general", "general"));
  return rows;
}

}  // namespace r1
