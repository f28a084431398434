// Tests for src/tokenizer: Unicode tables and NFC, the pre-tokenizer scanners, BPE merges
// by rank (hand-checked), added/special tokens, byte round trips, training (hand-checked
// and deterministic), tokenizer.json save/load and malformed-file errors, and the CLI.
// The Hugging Face equivalence test is in test_tokenizer_hf.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <tuple>
#include <sys/wait.h>

#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/rng.h"
#include "test_util.h"

using r1::Json;
using r1::SplitPattern;
using r1::Tokenizer;

namespace {

std::vector<std::string> pieces(SplitPattern p, const std::string& s) {
  std::vector<size_t> ends;
  r1::pretokenize(p, s.data(), s.size(), ends);
  std::vector<std::string> out;
  size_t b = 0;
  for (size_t e : ends) {
    out.push_back(s.substr(b, e - b));
    b = e;
  }
  return out;
}

std::string spell(const std::string& bytes) {  // bytes -> byte-level spelling
  std::string s;
  for (unsigned char b : bytes) r1::unicode::append_utf8(r1::byte_to_unicode()[b], s);
  return s;
}

// A tokenizer.json with the 256 byte tokens (id = byte value), `extra` tokens from 256 on,
// the given merges ("a b", in byte-level spelling) and no normalizer; Qwen2 split.
Json small_json(const std::vector<std::string>& extra, const std::vector<std::string>& merges) {
  Json vocab = Json::object();
  for (int b = 0; b < 256; b++) vocab[spell(std::string(1, char(b)))] = b;
  for (size_t i = 0; i < extra.size(); i++) vocab[spell(extra[i])] = int(256 + i);
  Json m = Json::object();
  m["type"] = "BPE";
  m["vocab"] = vocab;
  Json ms = Json::array();
  for (const std::string& x : merges) ms.push_back(x);
  m["merges"] = ms;
  Json j = Json::parse(R"({"version": "1.0", "added_tokens": [], "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
       "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
    "post_processor": null, "decoder": {"type": "ByteLevel"}})");
  j["model"] = m;
  return j;
}

std::string random_bytes(r1::Rng& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = char(rng.below(256));
  return s;
}

// A saved merge ["a", "b"] as "a b".
std::string merge_str(const Json& m) { return m[0].as_string() + " " + m[1].as_string(); }

// The error message of f(), or "" when it does not throw r1::Error.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const r1::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// --- Unicode -------------------------------------------------------------------

TEST(TokenizerUnicode, Classes) {
  using r1::unicode::Class;
  using r1::unicode::classify;
  EXPECT_EQ(classify('a'), Class::Letter);
  EXPECT_EQ(classify(0x4F60), Class::Letter);   // 你
  EXPECT_EQ(classify(0x00E9), Class::Letter);   // é
  EXPECT_EQ(classify('7'), Class::Number);
  EXPECT_EQ(classify(0x00BD), Class::Number);   // ½ (No)
  EXPECT_EQ(classify(0x0663), Class::Number);   // Arabic-Indic 3
  EXPECT_EQ(classify(' '), Class::Space);
  EXPECT_EQ(classify(0x3000), Class::Space);    // ideographic space
  EXPECT_EQ(classify(0x0085), Class::Space);
  EXPECT_EQ(classify(0x200B), Class::Other);    // zero width space is not White_Space
  EXPECT_EQ(classify(0x0301), Class::Other);    // combining acute (Mn)
  EXPECT_EQ(classify(0x1F600), Class::Other);   // 😀
  EXPECT_EQ(classify(r1::unicode::kInvalidBase + 0xFF), Class::Other);
}

TEST(TokenizerUnicode, DecodeUtf8RejectsInvalidSequences) {
  auto decode_all = [](const std::string& s) {
    std::vector<uint32_t> cps;
    for (size_t i = 0; i < s.size();) {
      uint32_t cp;
      i += r1::unicode::decode_utf8(s.data(), s.size(), i, &cp);
      cps.push_back(cp);
    }
    return cps;
  };
  const uint32_t X = r1::unicode::kInvalidBase;
  EXPECT_EQ(decode_all("a\xc3\xa9\xe4\xbd\xa0\xf0\x9f\x98\x80"), (std::vector<uint32_t>{'a', 0xE9, 0x4F60, 0x1F600}));
  EXPECT_EQ(decode_all("\xc0\x80"), (std::vector<uint32_t>{X + 0xC0, X + 0x80}));              // overlong NUL
  EXPECT_EQ(decode_all("\xed\xa0\x80"), (std::vector<uint32_t>{X + 0xED, X + 0xA0, X + 0x80}));  // surrogate
  EXPECT_EQ(decode_all("\xe4\xbd"), (std::vector<uint32_t>{X + 0xE4, X + 0xBD}));              // truncated
  EXPECT_EQ(decode_all("\xf4\x90\x80\x80").front(), X + 0xF4);                                 // > U+10FFFF
  EXPECT_EQ(decode_all("\xf8\x9f\x91\xa6").front(), X + 0xF8);  // F8 is never a lead byte (found by fuzzing)
  EXPECT_EQ(r1::unicode::nfc("e\xcc\x81\xf8\x9f\x91\xa6"), "\xc3\xa9\xf8\x9f\x91\xa6");
}

TEST(TokenizerUnicode, NfcMatchesNormalizationTestSample) {
  Json sample = Json::parse_file(r1::testing::repo_root() + "/data/tokenizer/nfc_test_sample.json");
  const Json& cases = sample.at("cases");
  ASSERT_GT(cases.size(), 400u);
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& src = cases[i][0].as_string();
    const std::string& want = cases[i][1].as_string();
    EXPECT_EQ(r1::unicode::nfc(src), want) << "case " << i;
  }
}

TEST(TokenizerUnicode, NfcHandChecked) {
  using r1::unicode::nfc;
  EXPECT_EQ(nfc("cafe\xcc\x81"), "caf\xc3\xa9");                    // e + U+0301 -> é
  EXPECT_EQ(nfc("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"), "\xea\xb0\x81");  // Hangul L V T -> 각
  EXPECT_EQ(nfc("\xe2\x84\xab"), "\xc3\x85");                       // Angstrom sign -> Å
  EXPECT_EQ(nfc("q\xcc\xa3\xcc\x87"), "q\xcc\xa3\xcc\x87");         // already ordered, no composite
  EXPECT_EQ(nfc("q\xcc\x87\xcc\xa3"), "q\xcc\xa3\xcc\x87");         // reordered by combining class
  EXPECT_EQ(nfc("\xff" "e\xcc\x81\xff"), "\xff\xc3\xa9\xff");       // invalid bytes pass through
  EXPECT_EQ(nfc("\xcc\x81" "a"), "\xcc\x81" "a");                   // leading combining mark stays
}

// --- pre-tokenizer ------------------------------------------------------------------

using V = std::vector<std::string>;

TEST(TokenizerPretokenize, Qwen2HandChecked) {
  auto q = [](const std::string& s) { return pieces(SplitPattern::Qwen2, s); };
  EXPECT_EQ(q("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(q("it's IT'S"), (V{"it", "'s", " IT", "'S"}));
  EXPECT_EQ(q("a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(q("x\n\n  y"), (V{"x", "\n\n", " ", " y"}));
  EXPECT_EQ(q("123"), (V{"1", "2", "3"}));
  EXPECT_EQ(q("(hello"), (V{"(hello"}));
  EXPECT_EQ(q("end  "), (V{"end", "  "}));
  EXPECT_EQ(q("!!\n\nx"), (V{"!!\n\n", "x"}));
  EXPECT_EQ(q(" !x"), (V{" !", "x"}));
  EXPECT_EQ(q("\tfoo"), (V{"\tfoo"}));
  EXPECT_EQ(q("\xff\xfe" "ab"), (V{"\xff\xfe", "ab"}));  // invalid bytes are "other" characters
  EXPECT_EQ(q("\xff" "ab"), (V{"\xff" "ab"}));
  EXPECT_EQ(q(""), V{});
}

TEST(TokenizerPretokenize, Gpt2AndLlama3HandChecked) {
  auto g = [](const std::string& s) { return pieces(SplitPattern::Gpt2, s); };
  EXPECT_EQ(g("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(g("IT'S it's"), (V{"IT", "'", "S", " it", "'s"}));  // GPT-2 contractions are case-sensitive
  EXPECT_EQ(g("(hello 123"), (V{"(", "hello", " 123"}));
  EXPECT_EQ(g("a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(g("\tfoo"), (V{"\t", "foo"}));
  EXPECT_EQ(g("x\n\ny"), (V{"x", "\n", "\n", "y"}));  // \s+(?!\S) leaves the last \n to \s+
  EXPECT_EQ(pieces(SplitPattern::Llama3, "1234567"), (V{"123", "456", "7"}));
}

// --- BPE merges by rank ------------------------------------------------------------

TEST(TokenizerBpe, MergesAppliedByRank) {
  // "abc": rank decides which pair merges first.
  Tokenizer t1 = Tokenizer::from_json(small_json({"ab", "bc"}, {"a b", "b c"}));
  EXPECT_EQ(t1.encode("abc"), (std::vector<int>{256, 'c'}));
  Tokenizer t2 = Tokenizer::from_json(small_json({"ab", "bc"}, {"b c", "a b"}));
  EXPECT_EQ(t2.encode("abc"), (std::vector<int>{'a', 257}));
  // "abcd" with ranks cd < bc < ab: cd first, then ab; (ab, cd) has no merge.
  Tokenizer t3 = Tokenizer::from_json(small_json({"ab", "bc", "cd"}, {"c d", "b c", "a b"}));
  EXPECT_EQ(t3.encode("abcd"), (std::vector<int>{256, 258}));
  // Equal pairs merge leftmost first: "aaa" -> aa a; a second-level merge joins aa aa.
  Tokenizer t4 = Tokenizer::from_json(small_json({"aa", "aaaa"}, {"a a", "aa aa"}));
  EXPECT_EQ(t4.encode("aaa"), (std::vector<int>{256, 'a'}));
  EXPECT_EQ(t4.encode("aaaaa"), (std::vector<int>{257, 'a'}));
  // Merges never cross pre-token boundaries: " a" and "a" are separate pieces.
  EXPECT_EQ(t4.encode("a a"), (std::vector<int>{'a', ' ', 'a'}));
}

TEST(TokenizerBpe, MergePairFormEqualsStringForm) {
  Json j = small_json({"ab", "bc"}, {"b c", "a b"});
  Json pairs = Json::parse(R"([["b", "c"], ["a", "b"]])");
  j["model"]["merges"] = pairs;
  EXPECT_EQ(Tokenizer::from_json(j).encode("abc"), (std::vector<int>{'a', 257}));
}

TEST(TokenizerBpe, IgnoreMergesTakesWholeVocabEntries) {
  // "abc" is in vocab but unreachable by merges; ignore_merges makes it one token.
  Json j = small_json({"ab", "abc"}, {"a b"});
  EXPECT_EQ(Tokenizer::from_json(j).encode("abc"), (std::vector<int>{256, 'c'}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(Tokenizer::from_json(j).encode("abc"), (std::vector<int>{257}));
}

// --- special tokens --------------------------------------------------------------

TEST(TokenizerSpecial, MatchedBeforeBpeLeftmostLongest) {
  Json j = small_json({"<t", "<th"}, {"< t", "<t h"});
  j["added_tokens"] = Json::parse(R"([{"id": 300, "content": "<think>", "special": true},
                                      {"id": 301, "content": "<think>>", "special": true},
                                      {"id": 302, "content": "</think>", "special": true}])");
  Tokenizer t = Tokenizer::from_json(j);
  EXPECT_EQ(t.encode("<think>"), (std::vector<int>{300}));
  EXPECT_EQ(t.encode("<think>>"), (std::vector<int>{301}));  // longest wins
  EXPECT_EQ(t.encode("a<think>b</think>"), (std::vector<int>{'a', 300, 'b', 302}));
  EXPECT_EQ(t.encode("<thin"), (std::vector<int>{257, 'i', 'n'}));  // not special: plain BPE
  EXPECT_EQ(t.token_id("<think>"), 300);
  EXPECT_EQ(t.token_id("<nope>"), -1);
  EXPECT_EQ(t.vocab_size(), 303);
  EXPECT_EQ(t.decode({'a', 300, 'b'}), "a<think>b");
}

TEST(TokenizerSpecial, LstripRstripSwallowWhitespace) {
  Json j = small_json({}, {});
  j["added_tokens"] = Json::parse(R"([{"id": 300, "content": "<m>", "lstrip": true, "rstrip": true}])");
  Tokenizer t = Tokenizer::from_json(j);
  EXPECT_EQ(t.encode("a \t<m>  b"), (std::vector<int>{'a', 300, 'b'}));
}

// --- round trips -------------------------------------------------------------------

TEST(TokenizerRoundTrip, RandomBytesAndNul) {
  std::vector<std::string> texts = {"the cat sat on the mat. the dog ate the hat!\n", "café 你好 123 <think>x</think>"};
  r1::TrainOptions opts;
  opts.vocab_size = 300;
  Tokenizer t = Tokenizer::train(texts, opts);
  r1::Rng rng(7);
  for (int i = 0; i < 300; i++) {
    std::string s = random_bytes(rng, rng.below(64));
    ASSERT_EQ(t.decode(t.encode(s)), s) << "case " << i;
  }
  std::string nul("a\0b\0\0 c", 7);
  EXPECT_EQ(t.decode(t.encode(nul)), nul);
  // Mixed: words, invalid UTF-8 and specials.
  for (int i = 0; i < 100; i++) {
    std::string s = "the " + random_bytes(rng, 5) + "<think>" + random_bytes(rng, 3) + " cat\xff</answer>";
    ASSERT_EQ(t.decode(t.encode(s)), s);
  }
}

TEST(TokenizerRoundTrip, NfcTokenizerDecodesToNfc) {
  r1::TrainOptions opts;
  opts.vocab_size = 280;
  opts.nfc = true;
  Tokenizer t = Tokenizer::train({"cafe\xcc\x81 caf\xc3\xa9"}, opts);
  EXPECT_EQ(t.decode(t.encode("cafe\xcc\x81")), "caf\xc3\xa9");
  r1::Rng rng(3);
  for (int i = 0; i < 100; i++) {
    std::string s = random_bytes(rng, rng.below(40));
    ASSERT_EQ(t.decode(t.encode(s)), r1::unicode::nfc(s));
  }
}

TEST(TokenizerRoundTrip, ThreadsAndTwoTokenizersGiveTheSameIds) {
  // Each thread alternates two tokenizers (the per-thread cache switches owner every call).
  r1::TrainOptions opts;
  opts.vocab_size = 330;
  Tokenizer a = Tokenizer::train({"the cat sat on the mat, the cat ate"}, opts);
  Tokenizer b = Tokenizer::train({"zzz yyy zzz xxx <think> q"}, opts);
  std::vector<std::string> texts = {"the cat sat", "zzz yyy", "mat <think> ate", "xxx the zzz"};
  std::vector<std::vector<int>> want_a, want_b;
  for (const std::string& t : texts) {
    want_a.push_back(a.encode(t));
    want_b.push_back(b.encode(t));
  }
  std::vector<int> bad(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; k++)
    threads.emplace_back([&, k] {
      for (int rep = 0; rep < 200; rep++)
        for (size_t i = 0; i < texts.size(); i++)
          bad[k] += (a.encode(texts[i]) != want_a[i]) + (b.encode(texts[i]) != want_b[i]);
    });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(bad, std::vector<int>(4, 0));
  EXPECT_NE(want_a[0], want_b[0]);  // the two tokenizers really differ
}

// --- training ----------------------------------------------------------------------

TEST(TokenizerTrain, HandCheckedMerges) {
  // One word "aaabdaaabac": pairs aa:4 ab:2 ...; merge 1 = (a,a). Then (aa,a) and (a,b) both
  // count 2: the tie goes to the smaller (left id, right id) = (97, 98) -> "ab". Then "aaab".
  r1::TrainOptions opts;
  opts.vocab_size = 256 + 3 + 8;
  Tokenizer t = Tokenizer::train({"aaabdaaabac"}, opts);
  Json m = t.to_json().at("model");
  const Json& merges = m.at("merges");
  ASSERT_EQ(merges.size(), 3u);
  EXPECT_EQ(merge_str(merges[0]), "a a");
  EXPECT_EQ(merge_str(merges[1]), "a b");
  EXPECT_EQ(merge_str(merges[2]), "aa ab");
  EXPECT_EQ(t.token_id("aaab"), 258);
  EXPECT_EQ(t.vocab_size(), 267);
  EXPECT_EQ(t.token_id("<|endoftext|>"), 259);
  EXPECT_EQ(t.token_id("<|assistant|>"), 266);
  EXPECT_EQ(t.encode("aaabdaaabac"), (std::vector<int>{258, 'd', 258, 'a', 'c'}));
}

TEST(TokenizerTrain, WordFrequencyWeightsPairs) {
  // Pieces: "xy" once, " ab" three times, " cd" twice. (' ',a) and (a,b) both count 3; the
  // tie goes to (32, 97) < (97, 98), so " a" first, then (" a", b) with count 3 beats (c,d)=2.
  r1::TrainOptions opts;
  opts.vocab_size = 256 + 2 + 8;
  Tokenizer t = Tokenizer::train({"xy ab ab ab cd cd"}, opts);
  Json saved = t.to_json();
  const Json& merges = saved.at("model").at("merges");
  ASSERT_EQ(merges.size(), 2u);
  EXPECT_EQ(merge_str(merges[0]), "Ġ a");
  EXPECT_EQ(merge_str(merges[1]), "Ġa b");
}

TEST(TokenizerTrain, DeterministicAndSpecialsNeverLearned) {
  std::vector<std::string> texts;
  r1::Rng rng(11);
  const char* words[] = {"the", "model", "<think>", "</think>", "answer", "reason", "step", "42", " ", "\n", "é"};
  for (int d = 0; d < 20; d++) {
    std::string s;
    for (int i = 0; i < 300; i++) s += std::string(words[rng.below(11)]) + (rng.below(3) ? " " : "");
    texts.push_back(s);
  }
  r1::TrainOptions opts;
  opts.vocab_size = 400;
  opts.specials = {"<|tool|>"};
  Tokenizer a = Tokenizer::train(texts, opts);
  Tokenizer b = Tokenizer::train(texts, opts);
  EXPECT_EQ(a.to_json().dump(), b.to_json().dump());
  EXPECT_EQ(a.vocab_size(), 400);
  // The specials are added tokens, not vocab entries learned from "<think>" in the text.
  Json saved = a.to_json();
  const Json& vocab = saved.at("model").at("vocab");
  EXPECT_EQ(vocab.find("<think>"), nullptr);
  EXPECT_NE(a.token_id("<|tool|>"), -1);
  std::vector<int> ids = a.encode("the model <think>step</think>");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), a.token_id("<think>")), 1);
  // Ordinary text never produces a special id.
  std::vector<int> plain = a.encode("the model answer reason step 42 <thin k> think");
  for (const std::string& s : Tokenizer::default_specials())
    EXPECT_EQ(std::count(plain.begin(), plain.end(), a.token_id(s)), 0) << s;
}

TEST(TokenizerTrain, RejectsTooSmallVocab) {
  r1::TrainOptions opts;
  opts.vocab_size = 100;
  EXPECT_NE(error_of([&] { Tokenizer::train({"x"}, opts); }).find("too small"), std::string::npos);
}

// --- tokenizer.json save/load and malformed files ------------------------------------

TEST(TokenizerJson, SaveLoadRoundTrip) {
  r1::TrainOptions opts;
  opts.vocab_size = 320;
  opts.nfc = true;
  Tokenizer t = Tokenizer::train({"hello hello world, worldly hellos \n\n  tabs\t\t"}, opts);
  r1::TempDir dir;
  t.save(dir.file("tokenizer.json"));
  Tokenizer u = Tokenizer::load(dir.file("tokenizer.json"));
  EXPECT_EQ(u.to_json().dump(), t.to_json().dump());
  std::string s = "hello world <answer>x</answer> caf\x65\xcc\x81";
  EXPECT_EQ(u.encode(s), t.encode(s));
  EXPECT_EQ(u.to_json().at("normalizer").at("type").as_string(), "NFC");
}

TEST(TokenizerJson, MalformedFilesGiveClearErrors) {
  auto err = [](Json j) { return error_of([&] { Tokenizer::from_json(j); }); };
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos ? ::testing::AssertionSuccess()
                                               : ::testing::AssertionFailure() << "'" << msg << "' lacks '" << part << "'";
  };
  Json ok = small_json({"ab"}, {"a b"});
  EXPECT_EQ(err(ok), "");

  Json j = ok;
  j = Json::parse(R"({"added_tokens": []})");
  EXPECT_TRUE(has(err(j), "missing field 'model'"));
  j = ok; j["model"] = Json::parse(R"({"type": "BPE", "merges": []})");
  EXPECT_TRUE(has(err(j), "model.vocab"));
  j = ok; j["model"]["merges"] = Json::parse(R"(["a b", "abc"])");
  EXPECT_TRUE(has(err(j), "model.merges[1]: 'abc' is not two tokens"));
  j = ok; j["model"]["merges"] = Json::parse(R"(["a b", "q z"])");
  EXPECT_TRUE(has(err(j), "model.merges[1]: 'q z': the merged token 'qz' is not in model.vocab"));
  j = ok; j["model"]["merges"] = Json::parse(R"([["a", "b", "c"]])");
  EXPECT_TRUE(has(err(j), "model.merges[0]: expected"));
  j = ok; j["model"]["type"] = "WordPiece";
  EXPECT_TRUE(has(err(j), "model.type: 'WordPiece' is not supported"));
  j = ok; j["model"]["continuing_subword_prefix"] = "##";
  EXPECT_TRUE(has(err(j), "model.continuing_subword_prefix"));
  j = ok; j["normalizer"] = Json::parse(R"({"type": "Lowercase"})");
  EXPECT_TRUE(has(err(j), "normalizer: type 'Lowercase' is not supported"));
  j = ok; j["pre_tokenizer"] = Json::parse(R"({"type": "Whitespace"})");
  EXPECT_TRUE(has(err(j), "pre_tokenizer: type 'Whitespace' is not supported"));
  j = ok; j["pre_tokenizer"] = Json::parse(R"({"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "use_regex": false}]})");
  EXPECT_TRUE(has(err(j), "unsupported regex '\\d+'"));
  EXPECT_TRUE(has(err(j), "\\d+': the escape '\\d' at offset 0"));
  j = ok; j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "MergedWithNext";
  EXPECT_TRUE(has(err(j), "behavior: 'MergedWithNext' with invert false is not supported"));
  j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  j["pre_tokenizer"]["pretokenizers"][0]["invert"] = true;  // cl100k files: same split as Isolated
  EXPECT_EQ(err(j), "");
  EXPECT_EQ(Tokenizer::from_json(j).encode("ab  ab"), Tokenizer::from_json(ok).encode("ab  ab"));
  j = ok; j["pre_tokenizer"]["pretokenizers"][0]["pattern"] = Json::parse(R"({"String": " "})");
  EXPECT_TRUE(has(err(j), "only {\"Regex\": ...} patterns are supported"));
  j = ok; j["pre_tokenizer"] = Json::parse(R"({"type": "Sequence", "pretokenizers": [
      {"type": "Digits"}, {"type": "ByteLevel", "use_regex": false}]})");
  EXPECT_TRUE(has(err(j), "pre_tokenizer.pretokenizers[0]: type 'Digits' is not supported in a Sequence"));
  j = ok; j["decoder"] = Json::parse(R"({"type": "WordPiece"})");
  EXPECT_TRUE(has(err(j), "decoder: type 'WordPiece' is not supported"));
  j = ok; j["post_processor"] = Json::parse(R"({"type": "BertProcessing"})");
  EXPECT_TRUE(has(err(j), "post_processor: type 'BertProcessing'"));
  j = ok; j["post_processor"] = Json::parse(R"({"type": "Sequence", "processors": [{"type": "ByteLevel"},
      {"type": "TemplateProcessing"}]})");
  EXPECT_TRUE(has(err(j), "post_processor.processors[1].single: missing array"));
  j["post_processor"]["processors"][1] = Json::parse(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {}})");
  EXPECT_TRUE(has(err(j), "post_processor.processors[1].single[0]: special token '<s>' has no"));
  j = ok; j["normalizer"] = Json::parse(R"({"type": "Sequence", "normalizers": [{"type": "NFKC"}]})");
  EXPECT_TRUE(has(err(j), "normalizer.normalizers[0]: type 'NFKC' is not supported"));
  j = ok; j["normalizer"] = Json::parse(R"({"type": "Sequence", "normalizers": []})");  // DeepSeek-V3
  EXPECT_EQ(err(j), "");
  j = ok; j["post_processor"] = Json::parse(R"({"type": "Sequence", "processors": [{"type": "ByteLevel"}, {}]})");
  j["post_processor"]["processors"][1]["type"] = "RobertaProcessing";
  EXPECT_TRUE(has(err(j), "post_processor.processors[1]: type 'RobertaProcessing' is not supported"));
  j = ok; j["added_tokens"] = Json::parse(R"([{"id": 400}])");
  EXPECT_TRUE(has(err(j), "added_tokens[0]: missing string field 'content'"));
  j = ok; j["model"]["vocab"]["zz"] = 1e12;
  EXPECT_TRUE(has(err(j), "model.vocab['zz']: expected an integer id in [0, 16777216), got 1000000000000"));
  j = ok; j["added_tokens"] = Json::parse(R"([{"id": -3, "content": "<x>"}])");
  EXPECT_TRUE(has(err(j), "added_tokens[0].id: expected an integer id"));
  j = ok; j["model"]["vocab"] = Json::parse(R"({"a": 0})");
  j["model"]["merges"] = Json::array();
  EXPECT_TRUE(has(err(j), "needs all 256 byte tokens"));

  r1::TempDir dir;
  std::string bad = dir.file("bad.json");
  r1::write_file_atomic(bad, "{\"model\": ");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(bad); }), bad));
  r1::write_file_atomic(bad, "{}");
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(bad); }), bad + ": missing field 'model'"));
  EXPECT_TRUE(has(error_of([&] { Tokenizer::load(dir.file("absent.json")); }), "absent.json"));
  EXPECT_TRUE(has(error_of([&] { Tokenizer::from_json(ok).decode({999}); }), "token id 999"));
}

// --- CLI ---------------------------------------------------------------------------

namespace {
// Runs a shell command, returns (exit code, stdout+stderr).
std::pair<int, std::string> shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WEXITSTATUS(status), out};
}
}  // namespace

TEST(TokenizerCli, TrainEncodeDecodeAndJsonlErrors) {
  const char* bin = std::getenv("R1_BIN");
  if (!bin) GTEST_SKIP() << "R1_BIN is not set (make test sets it to build/r1)";
  r1::TempDir dir;
  r1::write_file_atomic(dir.file("a.txt"), "low lower lowest newer newest wider <think>x</think>\n");
  auto [rc, out] = shell(r1::cat(bin, " tokenizer train --input ", dir.file("a.txt"), " --vocab-size 290 --out ",
                                 dir.file("tok.json")));
  ASSERT_EQ(rc, 0) << out;
  Tokenizer t = Tokenizer::load(dir.file("tok.json"));
  std::string tok = dir.file("tok.json");

  std::tie(rc, out) = shell(r1::cat(bin, " tokenizer encode --tokenizer ", tok, " --text 'lowest <think>' --json"));
  ASSERT_EQ(rc, 0) << out;
  std::vector<int> ids = t.encode("lowest <think>");
  Json want = Json::object();
  want["ids"] = ids;
  EXPECT_EQ(Json::parse(out).dump(), want.dump());

  std::string list;
  for (size_t i = 0; i < ids.size(); i++) list += (i ? "," : "") + std::to_string(ids[i]);
  std::tie(rc, out) = shell(r1::cat(bin, " tokenizer decode --tokenizer ", tok, " --ids ", list));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "lowest <think>\n");

  r1::write_file_atomic(dir.file("in.jsonl"), "{\"text\": \"low\"}\n{\"text\": \"newer\"}\n");
  std::tie(rc, out) = shell(r1::cat(bin, " tokenizer encode --tokenizer ", tok, " --input ", dir.file("in.jsonl")));
  EXPECT_EQ(rc, 0);
  Json l1 = Json::object(), l2 = Json::object();
  l1["ids"] = t.encode("low");
  l2["ids"] = t.encode("newer");
  size_t nl = out.find('\n');
  ASSERT_NE(nl, std::string::npos) << out;
  EXPECT_EQ(Json::parse(out.substr(0, nl)).dump(), l1.dump());
  EXPECT_EQ(Json::parse(out.substr(nl + 1)).dump(), l2.dump());

  r1::write_file_atomic(dir.file("bad.jsonl"), "{\"text\": \"low\"}\n{\"txt\": 1}\n");
  std::tie(rc, out) = shell(r1::cat(bin, " tokenizer encode --tokenizer ", tok, " --input ", dir.file("bad.jsonl")));
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("bad.jsonl:2"), std::string::npos) << out;
  r1::write_file_atomic(dir.file("bad2.jsonl"), "{\"text\": \"low\"}\n{\"text\": \n");
  std::tie(rc, out) = shell(r1::cat(bin, " tokenizer encode --tokenizer ", tok, " --input ", dir.file("bad2.jsonl")));
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("bad2.jsonl:2"), std::string::npos) << out;
}
