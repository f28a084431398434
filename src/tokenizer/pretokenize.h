// Pre-tokenization: splits text into the pieces BPE runs on, exactly as the regexes of
// byte-level BPE tokenizers do, but with hand-written scanners instead of a regex engine.
//   Gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Qwen2:  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   Llama3: the Qwen2 pattern with \p{N}{1,3} in place of \p{N}
// Bytes that are not valid UTF-8 count as one character each of none of the classes.
// Does not do: any other pattern (tokenizer.json files naming one fail to load).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace r1 {

enum class SplitPattern { None, Gpt2, Qwen2, Llama3 };

// The regex source text of each pattern, as written in tokenizer.json.
const char* split_pattern_regex(SplitPattern p);

// Appends to `ends` the end offset (in bytes) of every piece of s[0, n), in order; the pieces
// cover the input exactly. SplitPattern::None yields one piece. `ends` is not cleared.
void pretokenize(SplitPattern p, const char* s, size_t n, std::vector<size_t>& ends);

}  // namespace r1
