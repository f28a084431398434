// Preference pairs for training the neural reward model (reward/reward_model.h): for a general
// prompt (tasks/general.h), a chosen reply the gold judge (reward/general.h) accepts and a
// rejected reply with a known flaw. Pair rows (JSONL, docs/formats.md):
//   {"task":"general","prompt":...,"answer":...,"chosen":...,"rejected":...,"kind":...}
// chosen = "<think> " + general_reasoning(row) + " </think> <answer> " + answer + " </answer>".
// kind says why the rejected reply is worse:
//   wrong       the same layout around a plausible wrong answer (words in the wrong order, a count
//               off by one, lower case where capitals were asked, another color, ...) with
//               reasoning that leads to it
//   truncated   the chosen reply cut before </answer>
//   off_topic   a correct reply to a different general prompt
//   bad_format  the right answer without the tags, or with <answer> before <think>
// wrong, truncated and off_topic fail judge_general; bad_format fails it or check_format
// (reward/format.h). Pair i depends only on (seed, i, difficulty, split): the i-th general row
// of the split and Rng(seed, i) on a stream of its own.
// Does not do: reasoning-task pairs, pairs where both replies are correct (ties).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tasks/tasks.h"
#include "util/json.h"

namespace r1 {

struct PreferencePair {
  Json row;              // the general row (tasks/general.h) the replies answer
  std::string chosen;
  std::string rejected;
  std::string kind;      // wrong | truncated | off_topic | bad_format
  Json to_json() const;  // the pair row above
};

// The rejection kinds, in the order the generator draws them from (uniformly).
const std::vector<std::string>& preference_kinds();

// n pairs over general rows of `split` (difficulty 1..3). Train and eval pairs never share a
// prompt (tasks.h's content-hash split).
std::vector<PreferencePair> generate_preference_pairs(int64_t n, uint64_t seed, int difficulty,
                                                      Split split = Split::Train);

}  // namespace r1
