// UTF-8 decoding, character classes and NFC normalization (see unicode.h).
// NFC follows UAX #15: decompose fully (table + Hangul arithmetic), sort runs of non-zero
// canonical combining class stably, then recompose left to right.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace r1::unicode {

using namespace unicode_tables;

// --- UTF-8 -------------------------------------------------------------------

int decode_utf8(const char* s, size_t n, size_t i, uint32_t* cp) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s) + i;
  size_t left = n - i;
  unsigned b0 = p[0];
  if (b0 < 0x80) { *cp = b0; return 1; }
  int len = b0 >= 0xF8 ? 0 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;  // F8..FF never lead
  uint32_t c = len == 4 ? (b0 & 0x07) : len == 3 ? (b0 & 0x0F) : (b0 & 0x1F);
  bool ok = len != 0 && size_t(len) <= left;
  for (int k = 1; ok && k < len; k++) {
    if ((p[k] & 0xC0) != 0x80) ok = false;
    c = (c << 6) | (p[k] & 0x3F);
  }
  static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};  // shortest form per length
  if (ok && (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))) ok = false;
  if (!ok) { *cp = kInvalidBase + b0; return 1; }
  *cp = c;
  return len;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp >= kInvalidBase) { out += char(cp - kInvalidBase); return; }
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// --- classes -------------------------------------------------------------------

static bool in_ranges(const CodeRange* r, size_t n, uint32_t cp) {
  const CodeRange* end = r + n;
  const CodeRange* it = std::upper_bound(r, end, cp, [](uint32_t c, const CodeRange& x) { return c < x.lo; });
  return it != r && cp <= (it - 1)->hi;
}

static uint8_t props_slow(uint32_t cp) {
  if (cp >= kInvalidBase) return 0;
  uint8_t p = 0;
  if (in_ranges(kLetters, kLettersCount, cp)) p |= kPropL;
  else if (in_ranges(kMarks, kMarksCount, cp)) p |= kPropM;
  else if (in_ranges(kNumbers, kNumbersCount, cp)) p |= kPropN;
  else if (in_ranges(kPunctuation, kPunctuationCount, cp)) p |= kPropP;
  else if (in_ranges(kSymbols, kSymbolsCount, cp)) p |= kPropS;
  if (in_ranges(kSpaces, kSpacesCount, cp)) p |= kPropSpace;
  return p;
}

uint8_t props(uint32_t cp) {
  // The Basic Multilingual Plane from a 64 KiB table (the hot path of the pre-tokenizers);
  // the rest by binary search.
  struct Bmp {
    uint8_t p[0x10000];
    Bmp() { for (uint32_t i = 0; i < 0x10000; i++) p[i] = props_slow(i); }
  };
  static const Bmp bmp;
  return cp < 0x10000 ? bmp.p[cp] : props_slow(cp);
}

Class classify(uint32_t cp) {
  uint8_t p = props(cp);
  return p & kPropL ? Class::Letter : p & kPropN ? Class::Number : p & kPropSpace ? Class::Space : Class::Other;
}

// --- NFC -------------------------------------------------------------------------

// Hangul syllables are composed arithmetically (Unicode ch. 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

static uint8_t ccc(uint32_t cp) {
  if (cp < 0x300 || cp >= kInvalidBase) return 0;
  const CccRange* end = kCcc + kCccCount;
  const CccRange* it = std::upper_bound(kCcc, end, cp, [](uint32_t c, const CccRange& x) { return c < x.lo; });
  return (it != kCcc && cp <= (it - 1)->hi) ? (it - 1)->ccc : 0;
}

static const Decomposition* find_decomposition(uint32_t cp) {
  const Decomposition* end = kDecompositions + kDecompositionsCount;
  const Decomposition* it = std::lower_bound(kDecompositions, end, cp,
                                             [](const Decomposition& d, uint32_t c) { return d.cp < c; });
  return (it != end && it->cp == cp) ? it : nullptr;
}

static void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  const Decomposition* d = cp >= 0xC0 && cp < kInvalidBase ? find_decomposition(cp) : nullptr;
  if (!d) { out.push_back(cp); return; }
  decompose(d->first, out);
  if (d->second) decompose(d->second, out);
}

static uint64_t pair_key(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }

// (first, second) -> composite for every decomposition that recomposes.
static const std::unordered_map<uint64_t, uint32_t>& compositions() {
  static const std::unordered_map<uint64_t, uint32_t> table = [] {
    std::unordered_map<uint64_t, uint32_t> t;
    for (size_t i = 0; i < kDecompositionsCount; i++) {
      const Decomposition& d = kDecompositions[i];
      if (d.composes) t[pair_key(d.first, d.second)] = d.cp;
    }
    return t;
  }();
  return table;
}

// Code points that can be the second half of a composition (they never pass the quick check).
static bool is_composition_second(uint32_t cp) {
  static const std::unordered_map<uint32_t, bool> seconds = [] {
    std::unordered_map<uint32_t, bool> t;
    for (size_t i = 0; i < kDecompositionsCount; i++)
      if (kDecompositions[i].composes) t[kDecompositions[i].second] = true;
    return t;
  }();
  return seconds.count(cp) != 0;
}

static uint32_t compose(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  auto it = compositions().find(pair_key(a, b));
  return it == compositions().end() ? 0 : it->second;
}

// True when cp is certainly unchanged by NFC whatever surrounds it.
static bool nfc_stable(uint32_t cp) {
  if (cp < 0x300 || cp >= kInvalidBase) return true;
  if (cp >= kSBase && cp < kSBase + kSCount) return true;
  if (cp >= kVBase && cp < kTBase + kTCount) return false;  // Hangul V and T jamo combine
  return ccc(cp) == 0 && !find_decomposition(cp) && !is_composition_second(cp);
}

std::string nfc(const std::string& s) {
  // Fast path: every byte below 0xCC means every character is below U+0300.
  bool simple = true;
  for (unsigned char b : s)
    if (b >= 0xCC) { simple = false; break; }
  if (simple) return s;

  std::vector<uint32_t> cps;  // (n_chars,) fully decomposed
  bool stable = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    i += decode_utf8(s.data(), s.size(), i, &cp);
    stable = stable && nfc_stable(cp);
    decompose(cp, cps);
  }
  if (stable) return s;

  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 0; i < cps.size();) {
    if (ccc(cps[i]) == 0) { i++; continue; }
    size_t j = i;
    while (j < cps.size() && ccc(cps[j]) != 0) j++;
    std::stable_sort(cps.begin() + i, cps.begin() + j, [](uint32_t a, uint32_t b) { return ccc(a) < ccc(b); });
    i = j;
  }

  // Canonical composition (UAX #15 reference algorithm).
  size_t starter = 0, out = 1;
  int last_class = ccc(cps[0]) ? 256 : 0;  // a leading non-starter composes with nothing
  for (size_t i = 1; i < cps.size(); i++) {
    uint32_t ch = cps[i];
    int ch_class = ccc(ch);
    bool unblocked = last_class < ch_class || last_class == 0;
    uint32_t composite = unblocked ? compose(cps[starter], ch) : 0;
    if (composite) {
      cps[starter] = composite;
      continue;
    }
    if (ch_class == 0) starter = out;
    last_class = ch_class;
    cps[out++] = ch;
  }
  cps.resize(out);

  std::string result;
  result.reserve(s.size());
  for (uint32_t cp : cps) append_utf8(cp, result);
  return result;
}

}  // namespace r1::unicode
