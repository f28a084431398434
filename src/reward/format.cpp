// Format check and language-consistency fraction. See format.h.
#include "reward/format.h"

#include <vector>

namespace r1 {

// --- format ------------------------------------------------------------------------

static bool only_space(const std::string& s, size_t b, size_t e) {
  for (size_t i = b; i < e; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return false;
  return true;
}

// Whitespace and end-of-sequence markers only (what may follow </answer>).
static bool only_space_or_eos(const std::string& s, size_t b) {
  static const std::vector<std::string> kEos = {"<|endoftext|>", "<|im_end|>", "</s>", "<eos>",
                                                "<|end_of_text|>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>"};
  size_t i = b;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') { i++; continue; }
    bool matched = false;
    for (const std::string& eos : kEos) {
      if (s.compare(i, eos.size(), eos) == 0) {
        i += eos.size();
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}

static size_t count(const std::string& s, const std::string& tag) {
  size_t n = 0;
  for (size_t i = s.find(tag); i != std::string::npos; i = s.find(tag, i + tag.size())) n++;
  return n;
}

FormatResult check_format(const std::string& c, bool allow_summary) {
  static const std::string kThink = "<think>", kEndThink = "</think>", kAnswer = "<answer>",
                           kEndAnswer = "</answer>";
  FormatResult r;
  size_t counts[4] = {count(c, kThink), count(c, kEndThink), count(c, kAnswer), count(c, kEndAnswer)};
  for (size_t n : counts) {
    if (n == 0) { r.verdict = "missing_tag"; return r; }
    if (n > 1) { r.verdict = "repeated_tag"; return r; }
  }
  size_t t0 = c.find(kThink), t1 = c.find(kEndThink), a0 = c.find(kAnswer), a1 = c.find(kEndAnswer);
  if (!(t0 < t1 && t1 < a0 && a0 < a1)) { r.verdict = "wrong_order"; return r; }
  r.think = c.substr(t0 + kThink.size(), t1 - t0 - kThink.size());
  r.answer = c.substr(a0 + kAnswer.size(), a1 - a0 - kAnswer.size());
  if (!only_space(c, 0, t0)) r.verdict = "text_before_think";
  else if (!allow_summary && !only_space(c, t1 + kEndThink.size(), a0)) r.verdict = "text_between";
  else if (!only_space_or_eos(c, a1 + kEndAnswer.size())) r.verdict = "text_after_answer";
  else r.verdict = "ok";
  r.ok = r.verdict == "ok";
  return r;
}

std::string chain_of_thought(const std::string& c) {
  size_t t0 = c.find("<think>");
  if (t0 != std::string::npos) {
    size_t start = t0 + 7;
    size_t t1 = c.find("</think>", start);
    return c.substr(start, t1 == std::string::npos ? std::string::npos : t1 - start);
  }
  size_t end_think = c.find("</think>");  // the <think> was in the prompt
  if (end_think != std::string::npos) return c.substr(0, end_think);
  return c.substr(0, c.find("<answer>"));
}

// --- language ------------------------------------------------------------------------

// Non-ASCII code points that separate words rather than form them: Latin-1 punctuation
// and symbols, general punctuation, arrows and math symbols, CJK punctuation, fullwidth
// ASCII punctuation and digits, emoji and pictographs.
static bool is_separator(uint32_t cp) {
  return (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7 || (cp >= 0x2000 && cp <= 0x2BFF) ||
         (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFF20) ||
         (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0x1F000 && cp <= 0x1FAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F);
}

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes decode as U+FFFD.
static uint32_t decode(const std::string& s, size_t& i) {
  unsigned char c = s[i];
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) { i++; return 0xFFFD; }
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (int k = 1; k < len; k++) {
    unsigned char d = s[i + k];
    if ((d >> 6) != 2) { i++; return 0xFFFD; }
    cp = (cp << 6) | (d & 0x3F);
  }
  i += len;
  return cp;
}

LanguageCount count_language(const std::string& text) {
  size_t words = 0, target = 0;
  bool in_word = false, word_ascii = true;
  size_t i = 0;
  auto end_word = [&]() {
    if (in_word) {
      words++;
      if (word_ascii) target++;
    }
    in_word = false;
    word_ascii = true;
  };
  while (i < text.size()) {
    uint32_t cp = decode(text, i);
    bool ascii_letter = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    bool other_letter = cp >= 0x80 && !is_separator(cp);
    if (!ascii_letter && !other_letter) {
      end_word();
      continue;
    }
    in_word = true;
    if (other_letter) word_ascii = false;
  }
  end_word();
  return {words, target};
}

double language_consistency(const std::string& text) {
  LanguageCount c = count_language(text);
  return c.words == 0 ? 0.0 : double(c.target) / double(c.words);
}

}  // namespace r1
