// Pre-tokenization: splits text into the pieces BPE runs on.
//
// PreTokenizer is what a tokenizer.json "pre_tokenizer" says: a list of Split steps, each a
// regex (regex.h) applied to every piece the previous steps made, then the ByteLevel
// mapping (done by the tokenizer). Steps keep, as the reference JS tokenizer does:
//   Keep::All      (Isolated)          the matches and the text between them, as pieces
//   Keep::Gaps     (Removed)           only the text between matches
//   Keep::Matches  (invert: true)      only the matches
// Empty pieces are dropped. Lookahead sees the end of the piece as the end of the input.
//
// The three patterns most files use also have hand-written scanners (faster than the
// engine; tests/test_tokenizer_regex.cpp checks they split exactly like it):
//   Gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Qwen2:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   Llama3: the Qwen2 pattern with \p{N}{1,3} in place of \p{N}
// A step whose regex is one of them, run first on the whole text, uses its scanner.
// Bytes that are not valid UTF-8 count as one character each of no class.
// Does not do: Split with a plain-string pattern, MergedWithPrevious/Next, Contiguous.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/regex.h"

namespace r1 {

enum class SplitPattern { None, Gpt2, Qwen2, Llama3 };

// The regex source text of each pattern, as written in tokenizer.json.
const char* split_pattern_regex(SplitPattern p);
// The pattern whose source is `regex`, or None.
SplitPattern split_pattern_of(const std::string& regex);

// Appends to `ends` the end offset (in bytes) of every piece of s[0, n), in order; the pieces
// cover the input exactly. SplitPattern::None yields one piece. `ends` is not cleared.
void pretokenize(SplitPattern p, const char* s, size_t n, std::vector<size_t>& ends);

struct SplitStep {
  enum class Keep { All, Gaps, Matches };
  std::shared_ptr<const Regex> regex;
  Keep keep = Keep::All;
  SplitPattern scanner = SplitPattern::None;  // != None: regex is this pattern, use its scanner
};

class PreTokenizer {
 public:
  std::vector<SplitStep> steps;  // applied in order; none: the whole text is one piece

  // Replaces `pieces` with the (begin, end) byte ranges of text's pieces, in order.
  void split(const std::string& text, std::vector<std::pair<uint32_t, uint32_t>>& pieces) const;
};

}  // namespace r1
