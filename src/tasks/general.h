// General (non-reasoning) prompts: short instructions whose reply a rule can check. They
// stand for the "general capability" of DeepSeek-R1's recipe (writing, factual QA, ...): the
// pipeline measures whether reasoning-only RL loses it and whether the multi-stage recipe keeps
// it. The rule checker (reward/general.h) is the *gold* judge; the neural reward model
// (reward/reward_model.h) is a learned *proxy* trained only on preference pairs.
//
// Kinds (row["kind"]); n = the number of words in the list (2..difficulty+2):
//   reverse  "Reverse the words: cat sun pen"        -> "pen sun cat"
//   sort     "Sort the words: pear fig kiwi"         -> "fig kiwi pear"
//   count    "Count the words: cat sun pen"          -> "3"
//   repeat   "Repeat the word sun 3 times"           -> "sun sun sun"
//   upper    "Write in capitals: cat sun"            -> "CAT SUN"
//   last     "Last word of: cat sun pen"             -> "pen"
//   fact     "What color is a lemon?"                -> "yellow"  (a fixed fact table, taught by the
//            corpus as plain statements, so a held-out prompt asks about a known fact)
// Rows: {"task":"general","kind":...,"prompt":...,"answer":...,"n":3}. Row i depends only on
// (seed, i, difficulty), as for every task generator (tasks.h).
// Does not do: open-ended writing (nothing a rule could judge).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/json.h"

namespace r1 {

// difficulty 1..3: list lengths 2..difficulty+2.
std::vector<Json> generate_general_tasks(int64_t n, uint64_t seed, int difficulty);

// The fact table: (thing with its article, color). The corpus states each fact ("a lemon is yellow.").
const std::vector<std::pair<std::string, std::string>>& general_facts();

// The words of a space-separated list ("pen sun cat" -> {pen, sun, cat}), and back.
std::vector<std::string> split_words(const std::string& s);
std::string join_words(const std::vector<std::string>& words, const std::string& sep = " ");

// The word list a list prompt names ("Sort the words: pear fig kiwi" -> {pear, fig, kiwi}); empty
// for prompts without one (repeat, fact).
std::vector<std::string> listed_words(const Json& row);

// A short worked reply's reasoning for a general row, e.g. for reverse
// "the words are cat, sun, pen. from the end: pen, sun, cat." (what goes inside <think>).
std::string general_reasoning(const Json& row);

}  // namespace r1
