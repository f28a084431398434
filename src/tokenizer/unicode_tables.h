// Declarations of the generated Unicode tables: the regex classes in unicode_classes.cpp
// (data/tokenizer/gen_unicode_classes.mjs) and the NFC tables in unicode_tables.cpp
// (data/tokenizer/gen_unicode_tables.py). Only src/tokenizer/unicode.cpp reads them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace r1::unicode_tables {

struct CodeRange { uint32_t lo, hi; };                  // inclusive
struct CccRange { uint32_t lo, hi; uint8_t ccc; };      // canonical combining class != 0
struct Decomposition {
  uint32_t cp, first, second;  // cp -> first [second]; second == 0 for a singleton
  bool composes;               // pair recomposes under NFC (not Full_Composition_Exclusion)
};

// Regex classes (unicode_classes.cpp): \p{L} \p{M} \p{N} \p{P} \p{S} and White_Space (\s).
extern const CodeRange kLetters[];
extern const size_t kLettersCount;
extern const CodeRange kMarks[];
extern const size_t kMarksCount;
extern const CodeRange kNumbers[];
extern const size_t kNumbersCount;
extern const CodeRange kPunctuation[];
extern const size_t kPunctuationCount;
extern const CodeRange kSymbols[];
extern const size_t kSymbolsCount;
extern const CodeRange kSpaces[];
extern const size_t kSpacesCount;
// NFC (unicode_tables.cpp).
extern const CccRange kCcc[];
extern const size_t kCccCount;
extern const Decomposition kDecompositions[];  // sorted by cp
extern const size_t kDecompositionsCount;

}  // namespace r1::unicode_tables
