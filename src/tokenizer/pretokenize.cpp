// Hand-written scanners for the GPT-2 and Qwen2/Llama-3 pre-tokenizer regexes (see
// pretokenize.h). Each scanner tries the regex's alternatives in order at the current
// character and returns where the first one that matches ends, reproducing the regex's
// greedy matching and backtracking case by case (comments name the alternative).
#include "tokenizer/pretokenize.h"

#include <cstdint>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace r1 {

using unicode::Class;

const char* split_pattern_regex(SplitPattern p) {
  switch (p) {
    case SplitPattern::Gpt2:
      return R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
    case SplitPattern::Qwen2:
      return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    case SplitPattern::Llama3:
      return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    case SplitPattern::None:
      break;
  }
  return "";
}

// --- the decoded text ----------------------------------------------------------

namespace {

struct Char {
  uint32_t cp;   // code point, or unicode::kInvalidBase + byte
  uint32_t pos;  // byte offset of its first byte (texts are under 4 GiB)
  Class cls;
};

struct Text {
  std::vector<Char> c;  // (n_chars + 1,): a sentinel at the end holds the total byte length
  size_t n = 0;         // number of characters

  Text(const char* s, size_t len) {
    check(len < UINT32_MAX, "pretokenize: a text of ", len, " bytes is over the 4 GiB limit");
    c.reserve(len + 1);
    for (size_t i = 0; i < len;) {
      uint32_t cp;
      int k = unicode::decode_utf8(s, len, i, &cp);
      c.push_back({cp, uint32_t(i), unicode::classify(cp)});
      i += k;
    }
    n = c.size();
    c.push_back({0, uint32_t(len), Class::Other});
  }
  bool is(size_t i, Class k) const { return i < n && c[i].cls == k; }
  bool is_cp(size_t i, uint32_t cp) const { return i < n && c[i].cp == cp; }
  bool is_crlf(size_t i) const { return is_cp(i, '\r') || is_cp(i, '\n'); }
  size_t run(size_t i, Class k) const {  // end of the run of class k starting at i
    while (is(i, k)) i++;
    return i;
  }
};

uint32_t ascii_lower(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

// 's|'t|'re|'ve|'m|'ll|'d at i (ASCII case-insensitive when `fold`): end, or 0 for no match.
size_t contraction(const Text& t, size_t i, bool fold) {
  if (!t.is_cp(i, '\'') || i + 1 >= t.n) return 0;
  auto at = [&](size_t k) { return k < t.n ? (fold ? ascii_lower(t.c[k].cp) : t.c[k].cp) : 0u; };
  uint32_t a = at(i + 1), b = at(i + 2);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
  return 0;
}

// Whitespace alternatives shared by both patterns, at a whitespace character i:
// \s+(?!\S) then \s+ (and first \s*[\r\n]+ when `crlf_alt`).
size_t whitespace(const Text& t, size_t i, bool crlf_alt) {
  size_t j = t.run(i, Class::Space);
  if (crlf_alt) {  // \s*[\r\n]+ : backtracks to just after the last CR/LF of the run
    for (size_t k = j; k > i; k--)
      if (t.is_crlf(k - 1)) return k;
  }
  if (j == t.n || j - i >= 2) return j == t.n ? j : j - 1;  // \s+(?!\S): leave one space for the next word
  return j;                                                 // \s+
}

size_t match_gpt2(const Text& t, size_t i) {
  if (size_t e = contraction(t, i, false)) return e;
  size_t k = (t.is_cp(i, ' ') && i + 1 < t.n && !t.is(i + 1, Class::Space)) ? i + 1 : i;  // " ?"
  switch (t.c[k].cls) {
    case Class::Letter: return t.run(k, Class::Letter);  //  ?\p{L}+
    case Class::Number: return t.run(k, Class::Number);  //  ?\p{N}+
    case Class::Other: return t.run(k, Class::Other);    //  ?[^\s\p{L}\p{N}]+
    case Class::Space: break;
  }
  return whitespace(t, i, false);
}

size_t match_qwen2(const Text& t, size_t i, size_t max_digits) {
  if (size_t e = contraction(t, i, true)) return e;
  Class cls = t.c[i].cls;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (cls == Class::Letter) return t.run(i, Class::Letter);
  if (cls != Class::Number && !t.is_crlf(i) && t.is(i + 1, Class::Letter)) return t.run(i + 1, Class::Letter);
  // \p{N} (Qwen2) or \p{N}{1,3} (Llama3)
  if (cls == Class::Number) {
    size_t j = i + 1;
    while (j - i < max_digits && t.is(j, Class::Number)) j++;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  size_t k = (t.is_cp(i, ' ') && t.is(i + 1, Class::Other)) ? i + 1 : i;
  if (t.c[k].cls == Class::Other) {
    size_t j = t.run(k, Class::Other);
    while (t.is_crlf(j)) j++;
    return j;
  }
  return whitespace(t, i, true);
}

}  // namespace

// --- entry point -------------------------------------------------------------------

void pretokenize(SplitPattern p, const char* s, size_t n, std::vector<size_t>& ends) {
  if (n == 0) return;
  if (p == SplitPattern::None) {
    ends.push_back(n);
    return;
  }
  Text t(s, n);
  for (size_t i = 0; i < t.n;) {
    size_t j = p == SplitPattern::Gpt2 ? match_gpt2(t, i) : match_qwen2(t, i, p == SplitPattern::Llama3 ? 3 : 1);
    ends.push_back(t.c[j].pos);
    i = j;
  }
}

}  // namespace r1
