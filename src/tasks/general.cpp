// The general-prompt generator. See general.h.
#include "tasks/general.h"

#include <algorithm>

#include "util/error.h"
#include "util/rng.h"

namespace r1 {

namespace {

const std::vector<std::string>& words() {
  static const std::vector<std::string> w = {"cat", "dog", "sun", "pen", "cup", "map", "box", "hat", "fig",
                                             "kiwi", "pear", "lamp", "tree", "ship", "bird", "fish", "rock",
                                             "star", "moon", "rain", "milk", "door", "leaf", "ring"};
  return w;
}

const char* kKinds[] = {"reverse", "sort", "count", "repeat", "upper", "last", "fact"};

std::string upper(std::string s) {
  for (char& c : s) c = char(toupper((unsigned char)c));
  return s;
}

}  // namespace

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string join_words(const std::vector<std::string>& words, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < words.size(); i++) s += (i ? sep : "") + words[i];
  return s;
}

std::vector<std::string> listed_words(const Json& row) {
  const std::string& prompt = row.at("prompt").as_string();
  size_t colon = prompt.find(": ");
  return colon == std::string::npos ? std::vector<std::string>{} : split_words(prompt.substr(colon + 2));
}

const std::vector<std::pair<std::string, std::string>>& general_facts() {
  static const std::vector<std::pair<std::string, std::string>> f = {
      {"a lemon", "yellow"},   {"the grass", "green"}, {"the sky", "blue"},    {"the snow", "white"},
      {"the coal", "black"},   {"the blood", "red"},   {"an orange", "orange"}, {"a plum", "purple"},
      {"the milk", "white"},   {"a leaf", "green"},    {"a banana", "yellow"}, {"a tomato", "red"},
      {"the sea", "blue"},     {"the night", "black"}, {"a cherry", "red"},    {"the corn", "yellow"}};
  return f;
}

std::vector<Json> generate_general_tasks(int64_t n, uint64_t seed, int difficulty) {
  check(difficulty >= 1 && difficulty <= 3, "general: difficulty must be 1..3, got ", difficulty);
  const std::vector<std::string>& W = words();
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed, uint64_t(i));
    std::string kind = kKinds[rng.below(7)];
    int64_t len = rng.range(2, difficulty + 2);
    std::vector<std::string> list;  // distinct words
    while (int64_t(list.size()) < len) {
      const std::string& w = W[rng.below(W.size())];
      if (std::find(list.begin(), list.end(), w) == list.end()) list.push_back(w);
    }
    std::string prompt, answer;
    if (kind == "reverse") {
      prompt = "Reverse the words: " + join_words(list, " ");
      std::vector<std::string> r(list.rbegin(), list.rend());
      answer = join_words(r, " ");
    } else if (kind == "sort") {
      prompt = "Sort the words: " + join_words(list, " ");
      std::vector<std::string> s = list;
      std::sort(s.begin(), s.end());
      answer = join_words(s, " ");
    } else if (kind == "count") {
      prompt = "Count the words: " + join_words(list, " ");
      answer = std::to_string(len);
    } else if (kind == "repeat") {
      prompt = "Repeat the word " + list[0] + " " + std::to_string(len) + " times";
      answer = join_words(std::vector<std::string>(size_t(len), list[0]), " ");
    } else if (kind == "upper") {
      prompt = "Write in capitals: " + join_words(list, " ");
      answer = upper(join_words(list, " "));
    } else if (kind == "last") {
      prompt = "Last word of: " + join_words(list, " ");
      answer = list.back();
    } else {  // fact
      const auto& f = general_facts()[rng.below(general_facts().size())];
      prompt = "What color is " + f.first + "?";
      answer = f.second;
      len = 1;
    }
    Json row = Json::object();
    row["task"] = "general";
    row["kind"] = kind;
    row["prompt"] = prompt;
    row["answer"] = answer;
    row["n"] = len;
    rows.push_back(row);
  }
  return rows;
}

std::string general_reasoning(const Json& row) {
  const std::string kind = row.at("kind").as_string();
  const std::string answer = row.at("answer").as_string();
  std::string listed = join_words(listed_words(row), ", ");          // "cat, sun, pen"
  std::string answered = join_words(split_words(answer), ", ");
  if (kind == "reverse") return "the words are " + listed + ". from the end: " + answered + ".";
  if (kind == "sort") return "the words are " + listed + ". in order: " + answered + ".";
  if (kind == "count") return "the words are " + listed + ". that is " + answer + " words.";
  if (kind == "repeat") return "the word " + answer.substr(0, answer.find(' ')) + ", " + std::to_string(row.at("n").as_int()) + " times.";
  if (kind == "upper") return "the words are " + listed + ". in capitals: " + answered + ".";
  if (kind == "last") return "the words are " + listed + ". the last is " + answer + ".";
  if (kind == "fact") return "the question asks for a color. it is " + answer + ".";
  throw Error(cat("general: unknown kind '", kind, "'"));
}

}  // namespace r1
