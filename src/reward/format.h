// Format and language rewards (DeepSeek-R1, section 2.2.2 and 2.3.2).
//
// Format: the completion is exactly <think>...</think> then <answer>...</answer>;
// whitespace is allowed before, between and after, and end-of-sequence markers after
// </answer>; each of the four tags appears exactly once (so nothing is nested). The
// format reward says nothing about correctness: an empty <answer></answer> has the format.
//
// Language consistency: the fraction of words in the chain of thought that are in the
// target language. A word is a maximal run of letters (ASCII letters, or any non-ASCII
// character that is not punctuation/symbol/space); it is in the target language when all
// of its letters are ASCII. No words at all scores 0.
#pragma once
#include <string>

namespace r1 {

struct FormatResult {
  bool ok = false;
  // ok | missing_tag | repeated_tag | wrong_order | text_before_think | text_between |
  // text_after_answer
  std::string verdict;
  std::string think;   // content of <think>...</think> when the tags exist
  std::string answer;  // content of <answer>...</answer> when the tags exist
};

// allow_summary: the R1 layout "<think> ... </think> summary <answer> ... </answer>" (any text
// between </think> and <answer>); off, only white space may stand there.
FormatResult check_format(const std::string& completion, bool allow_summary = false);

// The chain of thought of a completion: the content of its (first) <think> block, or the
// text before <answer> when there is no think block.
std::string chain_of_thought(const std::string& completion);

// Words in `text` and how many of them are made of ASCII letters (the target language).
struct LanguageCount {
  size_t words = 0, target = 0;
};
LanguageCount count_language(const std::string& text);

// Fraction of words in `text` that are made of ASCII letters, in [0, 1]; 0 when no words.
double language_consistency(const std::string& text);

}  // namespace r1
