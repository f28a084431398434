// Declarations of the Unicode tables generated into unicode_tables.cpp by
// data/tokenizer/gen_unicode_tables.py. Only src/tokenizer/unicode.cpp reads them.
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

extern const CodeRange kLetters[];
extern const size_t kLettersCount;
extern const CodeRange kNumbers[];
extern const size_t kNumbersCount;
extern const CodeRange kSpaces[];
extern const size_t kSpacesCount;
extern const CccRange kCcc[];
extern const size_t kCccCount;
extern const Decomposition kDecompositions[];  // sorted by cp
extern const size_t kDecompositionsCount;

}  // namespace r1::unicode_tables
