// Tests for teacher-forced log-probs (`r1 logprobs`, sample/logprobs.h) and for the model
// commands on a directory without tokenizer.json (ids-only use). Models come from `r1 init`.
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>

#include "autograd/autograd.h"
#include "cli_util.h"
#include "model/checkpoint.h"
#include "ops/ops.h"
#include "sample/logprobs.h"
#include "util/error.h"
#include "util/fs.h"

using namespace r1;
using r1::testing::run_r1;

namespace {

// Two `r1 init` directories with the same config and seed (so the same weights): one bare
// (ids only), one with a tokenizer. initializer_range 0.3 makes the distributions peaked
// enough that temperature and sampling matter.
struct Dirs {
  TempDir tmp;
  std::string ids_model, text_model;
  std::optional<Tokenizer> tok;
  bool ok = false;
  Dirs() {
    if (r1::testing::r1_bin().empty()) return;
    tok = r1::testing::write_small_tokenizer(tmp.file("tokenizer.json"));
    write_file_atomic(tmp.file("config.json"), R"({"model_type": "qwen2", "vocab_size": 300, "hidden_size": 32,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 64,
      "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "max_position_embeddings": 256, "tie_word_embeddings": false,
      "initializer_range": 0.3})");
    ids_model = tmp.file("ids_model");
    text_model = tmp.file("text_model");
    ok = run_r1("init --config " + tmp.file("config.json") + " --out " + ids_model, tmp).code == 0 &&
         run_r1("init --config " + tmp.file("config.json") + " --out " + text_model + " --tokenizer " +
                    tmp.file("tokenizer.json"), tmp).code == 0;
  }
};

const Dirs& dirs() {
  static Dirs d;
  return d;
}

const char* kNoDirs = "no r1 binary (set R1_BIN) or r1 init failed";

Json ids_row(const std::vector<int64_t>& prompt, const Json& completion) {
  Json r = Json::object();
  r["prompt_ids"] = Json(prompt);
  r["completion_ids"] = completion;
  return r;
}

std::string write_rows(const std::vector<Json>& rows, const std::string& path) {
  std::string s;
  for (const Json& r : rows) s += r.dump() + "\n";
  write_file_atomic(path, s);
  return path;
}

}  // namespace

// The sampler reports log_softmax(logits / T) of each token it draws (KV-cache decoding,
// float32); `r1 logprobs` recomputes it by teacher forcing (one full forward, log-softmax in
// double). Same weights, same tokens: the values agree up to float32 rounding of the logits in
// two different summation orders (measured: at most 4e-7 on this model): 1e-5 absolute. A
// missing or misapplied temperature moves them by ~1 (also measured).
TEST(Logprobs, EqualTheSamplersOwnLogprobsAtT1T07AndGreedy) {
  if (!dirs().ok) GTEST_SKIP() << kNoDirs;
  const TempDir& tmp = dirs().tmp;
  for (const char* T : {"1", "0.7", "0"}) {
    auto s = run_r1(cat("sample --model ", dirs().ids_model, " --prompt-ids 5,17,3 --n 3 --max-new-tokens 16 ",
                        "--temperature ", T, " --seed 11 --json"), tmp);
    ASSERT_EQ(s.code, 0) << s.err;
    Json samples = Json::parse(s.out, "r1 sample").at("samples");
    std::vector<Json> rows;
    for (size_t i = 0; i < samples.size(); i++) {
      EXPECT_FALSE(samples[i].contains("text")) << "no tokenizer, no text";
      rows.push_back(ids_row({5, 17, 3}, samples[i].at("ids")));
    }
    auto l = run_r1(cat("logprobs --model ", dirs().ids_model, " --data ", write_rows(rows, tmp.file("rows.jsonl")),
                        " --temperature ", T, " --batch 2 --json"), tmp);
    ASSERT_EQ(l.code, 0) << l.err;
    Json got = Json::parse(l.out, "r1 logprobs").at("rows");
    ASSERT_EQ(got.size(), samples.size());
    for (size_t i = 0; i < got.size(); i++) {
      const Json& want = samples[i].at("logprobs");
      ASSERT_EQ(got[i].at("logprobs").size(), want.size()) << "T " << T << " row " << i;
      double sum = 0;
      for (size_t t = 0; t < want.size(); t++) {
        EXPECT_NEAR(got[i].at("logprobs")[t].as_number(), want[t].as_number(), 1e-5) << "T " << T << " row " << i;
        sum += got[i].at("logprobs")[t].as_number();
      }
      EXPECT_NEAR(got[i].at("sum").as_number(), sum, 1e-12);
    }
  }
}

// The batched, right-padded library call against a direct computation per row: one unpadded
// forward, logits / T, r1's float32 log_softmax op, the completion's entries. Float32
// log-softmax of the same logits vs double: 1e-5 absolute.
TEST(Logprobs, EqualADirectForwardPerRow) {
  if (!dirs().ok) GTEST_SKIP() << kNoDirs;
  Transformer m = load_model(dirs().ids_model);
  std::vector<Ids> prompts = {{1, 2, 3, 4}, {9}, {250, 7}};
  std::vector<Ids> completions = {{10, 11}, {12, 13, 14, 15, 16, 17}, {}};
  const float T = 0.7f;
  auto lps = teacher_forced_logprobs(m, prompts, completions, T, 2);
  ASSERT_EQ(lps.size(), 3u);
  NoGradGuard guard;
  for (size_t i = 0; i < prompts.size(); i++) {
    ASSERT_EQ(lps[i].size(), completions[i].size());
    Ids seq = prompts[i];
    seq.insert(seq.end(), completions[i].begin(), completions[i].end());
    int64_t L = int64_t(seq.size()), V = m.config().vocab_size;
    std::vector<float> logp = log_softmax(scale(m.forward(seq, 1, L).logits, 1.0f / T)).to_vector();  // (L, V)
    for (size_t t = 0; t < completions[i].size(); t++) {
      size_t pos = prompts[i].size() - 1 + t;
      EXPECT_NEAR(lps[i][t], logp[pos * size_t(V) + size_t(completions[i][t])], 1e-5) << "row " << i << " t " << t;
    }
  }
  EXPECT_THROW(teacher_forced_logprobs(m, {{}}, {{1}}, 1.0f), Error);         // no prompt token
  EXPECT_THROW(teacher_forced_logprobs(m, {{1}}, {{300}}, 1.0f), Error);      // id outside the vocab
}

// Text rows are encoded with the directory's tokenizer (prompt and completion separately) and
// score exactly like the same ids; the completion ends at its first <|endoftext|>, which is
// scored, and what follows is dropped.
TEST(Logprobs, TextRowsAndTheEosRule) {
  if (!dirs().ok) GTEST_SKIP() << kNoDirs;
  const TempDir& tmp = dirs().tmp;
  const Tokenizer& tok = *dirs().tok;
  int32_t eos = tok.token_id("<|endoftext|>");
  ASSERT_GE(eos, 0);
  std::vector<int> p = tok.encode("What is 3 + 4?"), c = tok.encode(" It is 7.");
  std::vector<int64_t> pi(p.begin(), p.end());
  Json text = Json::object();
  text["prompt"] = "What is 3 + 4?";
  text["completion"] = " It is 7.";
  std::vector<int64_t> with_eos(c.begin(), c.end());
  with_eos.push_back(eos);
  std::vector<int64_t> padded = with_eos;
  padded.push_back(eos);
  padded.push_back(c[0]);
  std::vector<Json> rows = {text, ids_row(pi, Json(std::vector<int64_t>(c.begin(), c.end()))), ids_row(pi, Json(padded))};
  auto r = run_r1(cat("logprobs --model ", dirs().text_model, " --data ", write_rows(rows, tmp.file("t.jsonl")),
                      " --out ", tmp.file("out.jsonl")), tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<Json> got;
  std::string text_out = read_file(tmp.file("out.jsonl"));
  for (size_t a = 0, b; (b = text_out.find('\n', a)) != std::string::npos; a = b + 1)
    got.push_back(Json::parse(text_out.substr(a, b - a)));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].at("logprobs").dump(), got[1].at("logprobs").dump());
  EXPECT_EQ(got[0].at("tokens").size(), c.size());
  EXPECT_EQ(got[2].at("ids").dump(), Json(with_eos).dump());
  EXPECT_EQ(got[2].at("dropped").as_int(), 2);
  // The same ids on the ids-only twin (same weights, no EOS known: nothing dropped).
  auto u = run_r1(cat("logprobs --model ", dirs().ids_model, " --data ",
                      write_rows({ids_row(pi, Json(padded))}, tmp.file("u.jsonl")), " --json"), tmp);
  ASSERT_EQ(u.code, 0) << u.err;
  Json all = Json::parse(u.out).at("rows")[0];
  EXPECT_EQ(all.at("logprobs").size(), padded.size());
  for (size_t t = 0; t < with_eos.size(); t++)
    EXPECT_EQ(all.at("logprobs")[t].as_number(), got[2].at("logprobs")[t].as_number()) << t;
}

// Every model command on a bare `r1 init` directory, given ids; text needs the tokenizer and
// says so.
TEST(IdsOnly, ModelCommandsWorkWithoutTokenizerJson) {
  if (!dirs().ok) GTEST_SKIP() << kNoDirs;
  const TempDir& tmp = dirs().tmp;
  const std::string& dir = dirs().ids_model;
  ASSERT_FALSE(file_exists(dir + "/tokenizer.json"));
  auto s = run_r1("sample --model " + dir + " --prompt-ids 1,2,3 --max-new-tokens 4", tmp);
  EXPECT_EQ(s.code, 0) << s.err;
  auto f = run_r1("forward --model " + dir + " --tokens 1,2,3 --out " + tmp.file("logits.safetensors") + " --json", tmp);
  EXPECT_EQ(f.code, 0) << f.err;
  auto l = run_r1("logprobs --model " + dir + " --data " +
                      write_rows({ids_row({1, 2}, Json(std::vector<int64_t>{3, 4}))}, tmp.file("r.jsonl")), tmp);
  EXPECT_EQ(l.code, 0) << l.err;
  EXPECT_EQ(Json::parse(l.out).at("logprobs").size(), 2u);
  auto bad = run_r1("sample --model " + dir + " --prompt hello", tmp);
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("tokenizer.json"), std::string::npos) << bad.err;
  Json text = Json::object();
  text["prompt"] = "hi";
  text["completion_ids"] = Json(std::vector<int64_t>{3});
  auto bad2 = run_r1("logprobs --model " + dir + " --data " + write_rows({text}, tmp.file("x.jsonl")), tmp);
  EXPECT_EQ(bad2.code, 2);
  EXPECT_NE(bad2.err.find("x.jsonl:1: field 'prompt' needs"), std::string::npos) << bad2.err;
}
