// The gold judge of general prompts. See general.h.
#include "reward/general.h"

#include <cctype>

namespace r1 {

// Words separated by single spaces, surrounding punctuation dropped; lower-cased unless keep_case.
static std::string normalise(const std::string& s, bool keep_case) {
  std::string out, word;
  auto flush = [&]() {
    size_t b = 0, e = word.size();
    while (b < e && ispunct((unsigned char)word[b])) b++;
    while (e > b && ispunct((unsigned char)word[e - 1])) e--;
    if (e > b) out += (out.empty() ? "" : " ") + word.substr(b, e - b);
    word.clear();
  };
  for (char c : s) {
    if (isspace((unsigned char)c)) flush();
    else word += keep_case ? c : char(tolower((unsigned char)c));
  }
  flush();
  return out;
}

GeneralResult judge_general(const Json& row, const std::string& completion) {
  GeneralResult r;
  size_t open = completion.rfind("<answer>");
  size_t close = open == std::string::npos ? std::string::npos : completion.find("</answer>", open);
  if (close == std::string::npos) {
    r.verdict = "no_answer";
    return r;
  }
  bool keep_case = row.at("kind").as_string() == "upper";
  r.extracted = normalise(completion.substr(open + 8, close - open - 8), keep_case);
  r.correct = !r.extracted.empty() && r.extracted == normalise(row.at("answer").as_string(), keep_case);
  r.verdict = r.correct ? "correct" : "wrong";
  return r;
}

}  // namespace r1
