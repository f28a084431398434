// A small backtracking regex engine for the pre-tokenizer patterns of tokenizer.json files
// (the Split pre-tokenizer's {"Regex": ...}). It matches over decoded characters (code
// points), with JavaScript/Oniguruma leftmost-first semantics: alternatives are tried in
// order, quantifiers are greedy and give characters back when the rest fails.
//
// Supported subset (what the GPT-2, Llama 3, Qwen2/3 and DeepSeek-V3 files use):
//   literals (UTF-8, any script), escapes \r \n \t \f \v \xHH \uHHHH and \<punctuation>
//   classes [...] with ranges a-z, negation [^...], and inside them the class escapes below
//   \p{L} \p{M} \p{N} \p{P} \p{S} and \P{...} (also \p{Letter} ... long names), \s \S
//   groups (?:...) and (...) (nothing is captured), (?i:...) (ASCII case folding, as the
//   reference JS tokenizer applies it), lookahead (?=...) (?!...)
//   alternation |, quantifiers ? * + {n} {n,} {n,m} (greedy)
// Anything else (., anchors, \d \w \b, lookbehind, lazy or possessive quantifiers, other
// properties, backreferences, a pattern that can match the empty string) is rejected: the constructor throws r1::Error naming the
// construct, its offset and the pattern.
// Does not do: captures, flags other than (?i:), matching on bytes of invalid UTF-8 (an
// invalid byte is one character with no properties, matched only by negated classes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace r1 {

// One decoded character of a text: code point (or unicode::kInvalidBase + byte), its byte
// offset, and its unicode::props() bits.
struct CharInfo {
  uint32_t cp;
  uint32_t pos;
  uint8_t props;
};

// Decodes s[0, n) (n < 4 GiB) into characters, plus a sentinel whose pos is n.
void decode_chars(const char* s, size_t n, std::vector<CharInfo>& out);

class Regex {
 public:
  explicit Regex(const std::string& pattern);  // throws r1::Error on an unsupported pattern
  const std::string& source() const { return source_; }
  bool has_groups() const { return has_groups_; }  // any (...) (they would capture in JS)

  // The end (a character index) of the match that starts at c[i], where c[begin, end) is
  // the whole input (lookahead sees nothing beyond end), or -1 when none starts there.
  long match_at(const CharInfo* c, size_t i, size_t end) const;

  // A set of characters: [..] or one escape or literal.
  struct Set {
    bool negated = false;
    uint8_t props = 0;      // matches a character having any of these props
    uint8_t not_props = 0;  // ... or lacking any of these (\P{..}, \S inside a class)
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // ... or in one of these (inclusive)
    uint64_t ascii[2] = {0, 0};  // the answer for code points < 128, one bit each (finish())
    bool has(uint32_t cp, uint8_t p) const {
      return cp < 128 ? (ascii[cp >> 6] >> (cp & 63)) & 1 : has_slow(cp, p);
    }
    bool has_slow(uint32_t cp, uint8_t p) const;
    void finish();  // fills ascii from the rest
  };
  enum class Op : uint8_t { Set, Split, Jmp, Look, Match };
  struct Inst {
    Op op = Op::Match;
    bool negative = false;  // Look: (?!...) rather than (?=...)
    int x = 0, y = 0;       // Set: set index; Split: first x then y; Jmp: x; Look: sub-program start x
  };

 private:
  std::string source_;
  bool has_groups_ = false;
  std::vector<Set> sets_;
  std::vector<Inst> prog_;  // the main program starts at 0; lookahead sub-programs follow
  // The sets a match can start with (a character in none of them starts no match), or
  // first_any_ when that is not known (a lookahead first).
  std::vector<int> first_sets_;
  bool first_any_ = false;
  long run(int pc, const CharInfo* c, size_t i, size_t end) const;
  friend class RegexCompiler;
};

}  // namespace r1
