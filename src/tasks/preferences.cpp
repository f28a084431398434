// The preference-pair generator. See preferences.h.
#include "tasks/preferences.h"

#include <algorithm>

#include "reward/general.h"
#include "tasks/general.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(tolower((unsigned char)c));
  return s;
}

std::string upper(std::string s) {
  for (char& c : s) c = char(toupper((unsigned char)c));
  return s;
}

std::string reply(const std::string& reasoning, const std::string& answer) {
  return "<think> " + reasoning + " </think> <answer> " + answer + " </answer>";
}

std::string chosen_reply(const Json& row) { return reply(general_reasoning(row), row.at("answer").as_string()); }

// A plausible wrong answer for the row, and the row as if that were its answer (for reasoning
// that leads to it).
Json wrong_row(const Json& row, Rng& rng) {
  const std::string kind = row.at("kind").as_string();
  const std::string answer = row.at("answer").as_string();
  const int64_t n = row.at("n").as_int();
  std::vector<std::string> list = listed_words(row);
  Json wrong = row;
  if (kind == "reverse" || kind == "sort") {
    // The words as listed, or shuffled, in an order other than the answer's.
    std::vector<std::string> order = list;
    for (int tries = 0; join_words(order) == answer && tries < 100; tries++) {
      for (size_t k = order.size(); k > 1; k--) std::swap(order[k - 1], order[rng.below(k)]);
    }
    if (rng.below(2) == 0 || join_words(order) == answer) {
      order = split_words(answer);
      std::reverse(order.begin(), order.end());
    }
    wrong["answer"] = join_words(order);
  } else if (kind == "count") {
    wrong["answer"] = std::to_string(rng.below(2) == 0 ? n + 1 : n - 1);
  } else if (kind == "repeat") {
    int64_t m = rng.below(2) == 0 ? n + 1 : n - 1;
    wrong["n"] = m;
    wrong["answer"] = join_words(std::vector<std::string>(size_t(m), split_words(answer)[0]));
  } else if (kind == "upper") {
    std::vector<std::string> reversed(list.rbegin(), list.rend());
    wrong["answer"] = rng.below(2) == 0 ? lower(answer) : upper(join_words(reversed));
  } else if (kind == "last") {
    wrong["answer"] = rng.below(2) == 0 ? list.front() : list[list.size() - 2];
  } else {  // fact: another color
    std::vector<std::string> colors;
    for (const auto& f : general_facts())
      if (f.second != answer && std::find(colors.begin(), colors.end(), f.second) == colors.end())
        colors.push_back(f.second);
    wrong["answer"] = colors[rng.below(colors.size())];
  }
  return wrong;
}

std::string truncated_reply(const std::string& chosen, Rng& rng) {
  size_t close = chosen.rfind(" </answer>");
  size_t cut = size_t(rng.range(int64_t(chosen.size() / 4), int64_t(close) - 1));
  std::string out = chosen.substr(0, cut);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string off_topic_reply(const Json& row, int difficulty, Rng& rng) {
  for (int tries = 0; tries < 100; tries++) {
    Json other = generate_general_tasks(1, rng.next(), difficulty)[0];
    std::string r = chosen_reply(other);
    if (other.at("prompt").as_string() != row.at("prompt").as_string() && !judge_general(row, r).correct) return r;
  }
  throw Error(cat("preferences: no off-topic reply found for '", row.at("prompt").as_string(), "'"));
}

std::string bad_format_reply(const Json& row, Rng& rng) {
  std::string reasoning = general_reasoning(row), answer = row.at("answer").as_string();
  if (rng.below(2) == 0) return reasoning + " " + answer;  // no tags at all
  return "<answer> " + answer + " </answer> <think> " + reasoning + " </think>";  // tags out of order
}

}  // namespace

Json PreferencePair::to_json() const {
  Json j = Json::object();
  j["task"] = "general";
  j["prompt"] = row.at("prompt");
  j["answer"] = row.at("answer");
  j["chosen"] = chosen;
  j["rejected"] = rejected;
  j["kind"] = kind;
  return j;
}

const std::vector<std::string>& preference_kinds() {
  static const std::vector<std::string> k = {"wrong", "truncated", "off_topic", "bad_format"};
  return k;
}

std::vector<PreferencePair> generate_preference_pairs(int64_t n, uint64_t seed, int difficulty, Split split) {
  check(n >= 0, "preferences: n must be >= 0, got ", n);
  std::vector<Json> rows = generate_tasks("general", n, seed, difficulty, split);
  std::vector<PreferencePair> pairs;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed ^ 0x7072656673ull, uint64_t(i));  // "prefs": not the stream that drew row i
    PreferencePair p;
    p.row = rows[size_t(i)];
    p.chosen = chosen_reply(p.row);
    p.kind = preference_kinds()[rng.below(preference_kinds().size())];
    if (p.kind == "wrong") {
      Json w = wrong_row(p.row, rng);
      p.rejected = reply(general_reasoning(w), w.at("answer").as_string());
    } else if (p.kind == "truncated") {
      p.rejected = truncated_reply(p.chosen, rng);
    } else if (p.kind == "off_topic") {
      p.rejected = off_topic_reply(p.row, difficulty, rng);
    } else {
      p.rejected = bad_format_reply(p.row, rng);
    }
    pairs.push_back(std::move(p));
  }
  return pairs;
}

}  // namespace r1
