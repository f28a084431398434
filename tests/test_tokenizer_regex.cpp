// The pre-tokenizer regex engine (src/tokenizer/regex.*) and the Split steps built on it
// (PreTokenizer in pretokenize.h): hand-checked matches for each construct of the subset,
// the DeepSeek-V3 pattern on hand-split strings, the hand-written scanners checked equal to
// the engine on random text, and unsupported patterns rejected by name (library and CLI).
// The equivalence with the reference JS tokenizer on real files is tests/test_tokenizer_hf.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cli_util.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"

using r1::PreTokenizer;
using r1::Regex;
using r1::SplitPattern;
using r1::SplitStep;
using V = std::vector<std::string>;

namespace {

// The pieces of text under Split steps with these regexes (and keep modes).
V split(const std::vector<std::pair<std::string, SplitStep::Keep>>& steps, const std::string& text,
        bool use_scanners = false) {
  PreTokenizer pre;
  for (const auto& [re, keep] : steps) {
    SplitStep st;
    st.regex = std::make_shared<const Regex>(re);
    st.keep = keep;
    if (use_scanners && keep == SplitStep::Keep::All) st.scanner = r1::split_pattern_of(re);
    pre.steps.push_back(st);
  }
  std::vector<std::pair<uint32_t, uint32_t>> pieces;
  pre.split(text, pieces);
  V out;
  for (auto [b, e] : pieces) out.push_back(text.substr(b, e - b));
  return out;
}
V isolated(const std::string& re, const std::string& text) { return split({{re, SplitStep::Keep::All}}, text); }

// The end (in characters) of the match of re at character 0 of text, or -1.
long match(const std::string& re, const std::string& text) {
  std::vector<r1::CharInfo> chars;
  r1::decode_chars(text.data(), text.size(), chars);
  return Regex(re).match_at(chars.data(), 0, chars.size() - 1);
}

std::string error_of(const std::string& re) {
  try {
    Regex r(re);
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// --- constructs, hand-checked ---------------------------------------------------------------

TEST(TokenizerRegex, ConstructsHandChecked) {
  EXPECT_EQ(match("abc", "abcd"), 3);
  EXPECT_EQ(match("abc", "abd"), -1);
  EXPECT_EQ(match("a|ab", "ab"), 1);        // leftmost-first: the first alternative wins
  EXPECT_EQ(match("ab|a", "ab"), 2);
  EXPECT_EQ(match("a+", "aaab"), 3);         // greedy
  EXPECT_EQ(match("a*ab", "aaab"), 4);       // gives characters back
  EXPECT_EQ(match("\\p{N}{1,3}", "12345"), 3);
  EXPECT_EQ(match("\\p{N}{2}", "1x"), -1);
  EXPECT_EQ(match("\\p{N}{2,}", "12345x"), 5);
  EXPECT_EQ(match("x?\\p{L}+", "xyz1"), 3);
  EXPECT_EQ(match("(?i:'s|'ll)", "'LL"), 3);
  EXPECT_EQ(match("(?i:[a-c]+)", "AbCd"), 3);
  EXPECT_EQ(match("'s", "'S"), -1);          // case-sensitive outside (?i:)
  EXPECT_EQ(match("(?i:k)", "\u212A"), -1);  // ASCII folding only (the Kelvin sign is not k), as JS
  EXPECT_EQ(match("\\s+(?!\\S)", "   x"), 2);  // leaves one space for the word
  EXPECT_EQ(match("\\s+(?!\\S)", "   "), 3);   // the end of the input is not \S
  EXPECT_EQ(match("a(?=b)", "ab"), 1);
  EXPECT_EQ(match("a(?=b)", "ac"), -1);
  EXPECT_EQ(match("[^\\s\\p{L}]+", "!?1 a"), 3);
  EXPECT_EQ(match("[\\p{L}\\p{M}]+", "e\u0301x!"), 3);   // a letter, a combining mark, a letter
  EXPECT_EQ(match("[\\p{P}\\p{S}]+", "!+$\u2014a"), 4);  // punctuation and symbols (— is Pd)
  EXPECT_EQ(match("\\P{L}+", "12a"), 2);
  EXPECT_EQ(match("[\\-\\]\\\\]+", "-]\\x"), 3);         // escaped -, ] and \ in a class
  EXPECT_EQ(match("[a-]+", "a-a-b"), 4);                 // a trailing - is literal
  EXPECT_EQ(match("[一-龥]+", "中文かな"), 2);            // ranges of CJK code points
  EXPECT_EQ(match("\\x41\\u00e9", "A\u00e9"), 2);
  EXPECT_EQ(match("\\S", "\xff"), 1);                    // an invalid byte is a character of no class
  EXPECT_EQ(match("\\p{L}", "\xff"), -1);
  EXPECT_EQ(match("(?:ab)+c", "ababc"), 5);
  EXPECT_EQ(match("(ab|a)(?:c)", "ac"), 2);
}

TEST(TokenizerRegex, LongRunsDoNotOverflowTheStack) {
  std::string spaces(200000, ' ');
  EXPECT_EQ(match("\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", spaces + "x"), long(spaces.size()) - 1);
  EXPECT_EQ(isolated(r1::split_pattern_regex(SplitPattern::Llama3), spaces + "x"), (V{spaces.substr(1), " x"}));
}

// --- Split steps ---------------------------------------------------------------------------

TEST(TokenizerRegex, SplitBehaviours) {
  using K = SplitStep::Keep;
  EXPECT_EQ(isolated("\\p{N}{1,3}", "ab1234c"), (V{"ab", "123", "4", "c"}));  // matches and gaps
  EXPECT_EQ(split({{" ", K::Gaps}}, " a  b c "), (V{"a", "b", "c"}));        // Removed
  EXPECT_EQ(split({{"\\p{L}+", K::Matches}}, "12ab 3cd!"), (V{"ab", "cd"}));  // invert: matches only
  // A Sequence: each step splits every piece of the one before; lookahead stops at a piece's
  // end, so "a  " keeps both spaces together (in the whole text, (?!\S) would fail before "1").
  EXPECT_EQ(split({{"\\p{N}{1,3}", K::All}, {"\\s+(?!\\S)|\\s+", K::All}}, "a  1234  "),
            (V{"a", "  ", "123", "4", "  "}));
}

// The DeepSeek-V3 pre-tokenizer (three Split steps of its tokenizer.json), hand-split.
TEST(TokenizerRegex, DeepSeekV3PatternHandChecked) {
  using K = SplitStep::Keep;
  std::vector<std::pair<std::string, K>> ds = {
      {"\\p{N}{1,3}", K::All},
      {"[一-龥぀-ゟ゠-ヿ]+", K::All},
      {"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|"
       "\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
       K::All}};
  EXPECT_EQ(split(ds, "Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(split(ds, "1234567"), (V{"123", "456", "7"}));
  EXPECT_EQ(split(ds, "x=.foo(bar)"), (V{"x", "=.", "foo", "(bar", ")"}));  // punctuation + ASCII letters
  EXPECT_EQ(split(ds, "日本語のテキスト and 中文"), (V{"日本語のテキスト", " and", " ", "中文"}));
  EXPECT_EQ(split(ds, "it's"), (V{"it", "'s"}));
  EXPECT_EQ(split(ds, "a\n\n  b"), (V{"a", "\n\n", " ", " b"}));
  EXPECT_EQ(split(ds, "!!\n x"), (V{"!!\n", " x"}));
}

// The hand-written scanners split exactly like the engine running their regexes.
TEST(TokenizerRegex, ScannersEqualEngine) {
  const std::vector<std::string> pool = {"a", "Z", "é", "ж", "中", "か", "1", "٣", "½", " ", "  ", "\t", "\n", "\r",
                                         "\u00a0", "\u3000", "\u2028", "\u0085", "'", "'s", "'LL", "'Re", "!", "?",
                                         ".", "-", "😀", "\u0301", "\xff", "\xc3", "x", "\u212A"};
  r1::Rng rng(11);
  for (SplitPattern p : {SplitPattern::Gpt2, SplitPattern::Qwen2, SplitPattern::Llama3}) {
    std::string re = r1::split_pattern_regex(p);
    for (int i = 0; i < 400; i++) {
      std::string s;
      for (int k = int(rng.below(30)); k > 0; k--) s += pool[rng.below(pool.size())];
      ASSERT_EQ(split({{re, SplitStep::Keep::All}}, s, true), split({{re, SplitStep::Keep::All}}, s, false))
          << "pattern " << int(p) << " case " << i << ": " << r1::Json(s).dump();
    }
  }
}

// --- unsupported patterns -------------------------------------------------------------------

TEST(TokenizerRegex, UnsupportedPatternsNamed) {
  struct Case {
    const char* re;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{{"a.b", "'.' at offset 1"},
                                         {"^a", "'^' at offset 0"},
                                         {"\\d+", "the escape '\\d' at offset 0"},
                                         {"\\w", "the escape '\\w'"},
                                         {"(?<=a)b", "a group kind other than"},
                                         {"a*?", "a lazy or possessive quantifier"},
                                         {"a++", "a lazy or possessive quantifier"},
                                         {"\\p{Lu}", "the property \\p{Lu}"},
                                         {"(a*)*", "a repeated item that can match the empty string"},
                                         {"[a-\\p{L}]", "a range to a class escape"},
                                         {"a{3,1}", "{n,m} with m < n"},
                                         {"a|", "a pattern that can match the empty string"},
                                         {"[z-a]", "a range out of order"},
                                         {"(ab", "missing ')'"},
                                         {"ab)", "unmatched ')'"},
                                         {"[ab", "missing ']'"},
                                         {"*a", "a quantifier with nothing to repeat"}}) {
    std::string err = error_of(c.re);
    EXPECT_NE(err.find(c.says), std::string::npos) << c.re << " -> " << err;
    EXPECT_NE(err.find(std::string("regex '") + c.re + "'"), std::string::npos) << err;
  }
}

// A tokenizer.json naming an unsupported pattern: `error:` with the file and the pattern, exit 2.
TEST(TokenizerRegex, CliRejectsUnsupportedPattern) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "r1 binary not found (set R1_BIN)";
  r1::TempDir dir;
  r1::TrainOptions opts;
  opts.vocab_size = 300;
  r1::Json j = r1::Tokenizer::train({"hello world"}, opts).to_json();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\p{Lu}+|\\s+";
  std::string path = dir.file("tok.json");
  r1::write_file_atomic(path, j.dump());
  r1::testing::CliRun r = r1::testing::run_r1("tokenizer encode --tokenizer " + path + " --text hi", dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: " + path + ": pre_tokenizer.pretokenizers[0].pattern.Regex: unsupported regex "
                       "'\\p{Lu}+|\\s+': the property \\p{Lu}"),
            std::string::npos)
      << r.err;
}
