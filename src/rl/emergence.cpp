// Emergence metrics. See emergence.h.
#include "rl/emergence.h"

#include <cctype>

#include "util/error.h"

namespace r1 {

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  check(n >= 1 && c >= 0 && c <= n, "pass_at_k: need 0 <= c <= n and n >= 1, got n=", n, " c=", c);
  check(k >= 1 && k <= n, "pass_at_k: k must be in [1, n=", n, "], got ", k);
  if (n - c < k) return 1.0;  // every k-subset holds a correct sample
  double miss = 1.0;          // C(n-c, k) / C(n, k)
  for (int64_t i = n - c + 1; i <= n; i++) miss *= 1.0 - double(k) / double(i);
  return 1.0 - miss;
}

namespace {

// The words (maximal runs of ASCII letters, lower-cased) of a text, each with the index just past it.
template <typename F>
void for_each_word(const std::string& text, F f) {
  size_t i = 0;
  while (i < text.size()) {
    if (!isalpha((unsigned char)text[i])) { i++; continue; }
    size_t j = i;
    std::string word;
    while (j < text.size() && isalpha((unsigned char)text[j])) word += char(tolower((unsigned char)text[j++]));
    f(word, j);
    i = j;
  }
}

}  // namespace

int64_t count_candidates(const std::string& completion) {
  std::string text = completion;
  size_t open = text.find("<think>");
  if (open != std::string::npos) {
    size_t close = text.find("</think>", open);
    text = text.substr(open + 7, close == std::string::npos ? std::string::npos : close - open - 7);
  }
  int64_t n = 0;
  for_each_word(text, [&](const std::string& w, size_t end) {
    if (w == "found") n++;
    if (w == "not" && end + 1 < text.size() && text[end] == ' ' && isdigit((unsigned char)text[end + 1])) n++;
  });
  return n;
}

const std::vector<std::string>& reflection_words() {
  static const std::vector<std::string> w = {"wait",   "mistake", "however", "but",      "retry",
                                             "error",  "verify",  "wrong",   "evaluate", "check"};
  return w;
}

int64_t count_reflection_words(const std::string& text) {
  int64_t n = 0;
  for_each_word(text, [&](const std::string& word, size_t) {
    for (const std::string& w : reflection_words()) n += word == w;
  });
  return n;
}

}  // namespace r1
