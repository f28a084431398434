// Pre-tokenizers (see pretokenize.h): the Split steps run with the regex engine, and the
// hand-written scanners for the GPT-2 and Qwen2/Llama-3 regexes. Each scanner tries the
// regex's alternatives in order at the current character and returns where the first one
// that matches ends, reproducing the regex's greedy matching and backtracking case by case
// (comments name the alternative).
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

SplitPattern split_pattern_of(const std::string& regex) {
  for (SplitPattern p : {SplitPattern::Gpt2, SplitPattern::Qwen2, SplitPattern::Llama3})
    if (regex == split_pattern_regex(p)) return p;
  return SplitPattern::None;
}

// --- the decoded text ----------------------------------------------------------

namespace {

Class class_of(uint8_t props) {
  return props & unicode::kPropL ? Class::Letter : props & unicode::kPropN ? Class::Number
         : props & unicode::kPropSpace ? Class::Space : Class::Other;
}

// The scanners' view of a decoded text: c[0, n) and a sentinel holding the byte length.
struct Text {
  const std::vector<CharInfo>& c;
  size_t n;
  explicit Text(const std::vector<CharInfo>& chars) : c(chars), n(chars.size() - 1) {}
  Class cls(size_t i) const { return class_of(c[i].props); }
  bool is(size_t i, Class k) const { return i < n && cls(i) == k; }
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
  switch (t.cls(k)) {
    case Class::Letter: return t.run(k, Class::Letter);  //  ?\p{L}+
    case Class::Number: return t.run(k, Class::Number);  //  ?\p{N}+
    case Class::Other: return t.run(k, Class::Other);    //  ?[^\s\p{L}\p{N}]+
    case Class::Space: break;
  }
  return whitespace(t, i, false);
}

size_t match_qwen2(const Text& t, size_t i, size_t max_digits) {
  if (size_t e = contraction(t, i, true)) return e;
  Class cls = t.cls(i);
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
  if (t.cls(k) == Class::Other) {
    size_t j = t.run(k, Class::Other);
    while (t.is_crlf(j)) j++;
    return j;
  }
  return whitespace(t, i, true);
}

// Appends the end (a character index) of every piece of the scanner's split of t.
void scan(SplitPattern p, const Text& t, std::vector<size_t>& ends) {
  for (size_t i = 0; i < t.n;) {
    size_t j = p == SplitPattern::Gpt2 ? match_gpt2(t, i) : match_qwen2(t, i, p == SplitPattern::Llama3 ? 3 : 1);
    ends.push_back(j);
    i = j;
  }
}

}  // namespace

// --- entry points ------------------------------------------------------------------

void pretokenize(SplitPattern p, const char* s, size_t n, std::vector<size_t>& ends) {
  if (n == 0) return;
  if (p == SplitPattern::None) {
    ends.push_back(n);
    return;
  }
  thread_local std::vector<CharInfo> chars;
  thread_local std::vector<size_t> char_ends;
  decode_chars(s, n, chars);
  char_ends.clear();
  scan(p, Text(chars), char_ends);
  for (size_t e : char_ends) ends.push_back(chars[e].pos);
}

void PreTokenizer::split(const std::string& text, std::vector<std::pair<uint32_t, uint32_t>>& pieces) const {
  thread_local std::vector<CharInfo> chars;
  thread_local std::vector<std::pair<uint32_t, uint32_t>> cur, next;  // pieces as character ranges
  thread_local std::vector<size_t> ends;
  pieces.clear();
  if (text.empty()) return;
  decode_chars(text.data(), text.size(), chars);
  uint32_t n = uint32_t(chars.size() - 1);
  cur.assign(1, {0, n});
  for (size_t k = 0; k < steps.size(); k++) {
    const SplitStep& st = steps[k];
    next.clear();
    if (k == 0 && st.scanner != SplitPattern::None && st.keep == SplitStep::Keep::All) {
      ends.clear();  // every character is in some match: the pieces are the matches
      scan(st.scanner, Text(chars), ends);
      uint32_t b = 0;
      for (size_t e : ends) next.push_back({b, uint32_t(e)}), b = uint32_t(e);
    } else {
      for (auto [b, e] : cur) {
        uint32_t gap = b;  // start of the text not yet in a piece
        for (uint32_t i = b; i < e;) {
          long m = st.regex->match_at(chars.data(), i, e);
          if (m < 0) {  // no match starts here (patterns never match the empty string)
            i++;
            continue;
          }
          if (gap < i && st.keep != SplitStep::Keep::Matches) next.push_back({gap, i});
          if (st.keep != SplitStep::Keep::Gaps) next.push_back({i, uint32_t(m)});
          i = gap = uint32_t(m);
        }
        if (gap < e && st.keep != SplitStep::Keep::Matches) next.push_back({gap, e});
      }
    }
    std::swap(cur, next);
  }
  for (auto [b, e] : cur) pieces.push_back({chars[b].pos, chars[e].pos});
}

}  // namespace r1
