// Unicode helpers for the tokenizer: UTF-8 decoding that tolerates invalid bytes, the
// character classes the pre-tokenizer regexes need (\p{L} \p{M} \p{N} \p{P} \p{S}, \s) and
// NFC normalization. Tables come from unicode_tables.cpp (generated from the UCD).
// Does not do: other normalization forms, case folding, grapheme clusters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace r1::unicode {

// A byte that does not start a valid UTF-8 sequence decodes to kInvalidBase + byte: it is
// one "character" of class Other, never normalized, so arbitrary bytes survive encoding.
constexpr uint32_t kInvalidBase = 0x80000000u;

// Decodes the character starting at s[i] (i < n) into *cp and returns its length in bytes
// (1..4). Overlong forms, surrogates, values above U+10FFFF and truncated sequences are
// invalid: one byte is consumed and *cp = kInvalidBase + that byte.
int decode_utf8(const char* s, size_t n, size_t i, uint32_t* cp);

// Appends cp as UTF-8 (kInvalidBase + b appends the raw byte b).
void append_utf8(uint32_t cp, std::string& out);

enum class Class : uint8_t { Other, Letter, Number, Space };
Class classify(uint32_t cp);  // Letter = \p{L}, Number = \p{N}, Space = White_Space (\s)

// The regex properties of a character, as a bit set: general categories L M N P S (one at
// most) and White_Space (\s). An invalid byte (kInvalidBase + b) has none.
enum Prop : uint8_t { kPropL = 1, kPropM = 2, kPropN = 4, kPropP = 8, kPropS = 16, kPropSpace = 32 };
uint8_t props(uint32_t cp);

// NFC (canonical decomposition, canonical ordering, canonical composition). Invalid bytes
// pass through unchanged and block composition across them.
std::string nfc(const std::string& s);

}  // namespace r1::unicode
