// SFT rows made by the task programs for the R1 recipe (docs/data.md):
//
//   cold start (stage 2)   long, readable chains of thought in the R1 layout:
//       <think> we need x with 7x-6=43. move 6 to the right: 7x = 43+6 = 49. divide by 7:
//       x = 49/7 = 7. check: 7*7-6 = 43, correct. </think> so x = 7. <answer> 7 </answer>
//     "Readable" as the paper means it: one language (the corpus's second language never
//     appears), no repetition (each step once, one check), and a summary after </think>.
//   general (stage 4)      non-reasoning replies to general prompts (tasks/general.h): a short
//     reasoning, then the answer, in the same layout.
// Rows: {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content":
// reply}], "task": ..., "source": "cold_start" | "general"}; row i depends only on (seed, i),
// from the train split of each task (tasks.h), tasks taken in turn.
// Does not do: rejection-sampled data (rl/rejection.h makes that from a model's samples).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/json.h"

namespace r1 {

// One SFT row: {"messages": [user prompt, assistant reply], "task", "source"}.
Json sft_row(const std::string& prompt, const std::string& reply, const std::string& task, const std::string& source);

// The assistant reply of the R1 layout for a task row ("linear", "arith", "countdown",
// "general"): <think> explain-style reasoning </think> summary <answer> answer </answer>.
std::string readable_reply(const Json& row, uint64_t seed);

// n cold-start rows over `tasks` (reasoning tasks), difficulty 1.
std::vector<Json> cold_start_rows(int64_t n, uint64_t seed, const std::vector<std::string>& tasks);

// n general (non-reasoning) SFT rows.
std::vector<Json> general_sft_rows(int64_t n, uint64_t seed);

}  // namespace r1
