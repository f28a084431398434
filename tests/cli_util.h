// Helpers for tests that run the `r1` binary (the CLI suites), read run folders, or write the
// small hand-made model directories those tests feed to the CLI.
#pragma once
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/transformer.h"
#include "tasks/corpus.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1::testing {

// The r1 binary the CLI tests run: $R1_BIN (`make test` sets it), else the r1 beside the running
// test binary, else "" (the tests then skip).
inline std::string r1_bin() {
  const char* env = std::getenv("R1_BIN");
  if (env && *env) return env;
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string path(self, size_t(n));
  path = path.substr(0, path.rfind('/') + 1) + "r1";
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? path : "";
}

struct CliRun {
  int code = -1;
  std::string out, err;
};

// Runs a shell command line whose stderr the line itself sends to err_path; stdout is captured.
inline CliRun run_shell(const std::string& cmd, const std::string& err_path) {
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_path);
  return r;
}

// Runs `OMP_NUM_THREADS=1 r1 args` (r1_bin()); stderr goes through a file in scratch.
inline CliRun run_r1(const std::string& args, const TempDir& scratch) {
  std::string err_path = scratch.file("stderr.txt");
  return run_shell("OMP_NUM_THREADS=1 " + r1_bin() + " " + args + " 2>" + err_path, err_path);
}

// The non-empty lines of a metrics.jsonl, parsed.
inline std::vector<Json> metrics_lines(const std::string& path) {
  std::vector<Json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (!line.empty()) out.push_back(Json::parse(line, path));
  return out;
}

// A 280-token tokenizer trained on 100 synthetic-corpus documents (it has the chat and R1-Zero
// special tokens and the digits), saved to path.
inline Tokenizer write_small_tokenizer(const std::string& path) {
  CorpusConfig cc;
  cc.n_docs = 100;
  TrainOptions o;
  o.vocab_size = 280;
  Tokenizer tok = Tokenizer::train(generate_corpus(cc), o);
  tok.save(path);
  return tok;
}

// A 1-layer llama-style config of width 16 over `vocab` tokens: Transformer(c) is all zero, for
// tests that then set a few weights by hand.
inline Config tiny_llama_config(int64_t vocab) {
  Config c;
  c.model_type = "llama";
  c.vocab_size = vocab;
  c.hidden_size = 16;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 8;
  c.intermediate_size = 16;
  return c;
}

// The all-zero model of tiny_llama_config except that every position's logits are 0 but
// "</answer>"'s, which is stop_logit: completions end after a random number of tokens, so response
// lengths depend on the sampling seed and temperature. stop_logit < 0: all zero (uniform next
// token, so every completion runs to max_new_tokens).
inline Transformer stop_model(const Tokenizer& tok, float stop_logit) {
  Config c = tiny_llama_config(tok.vocab_size());
  Transformer m(c);  // all zero: attention and MLP add nothing, so the final hidden state is norm(embedding)
  if (stop_logit < 0) return m;
  const int64_t D = c.hidden_size, stop = tok.token_id("</answer>");
  if (stop < 0) throw Error("stop_model: the tokenizer has no </answer> token");
  for (const TensorSlot& s : m.slots()) {
    std::vector<float> v = s.tensor->to_vector();
    if (s.name == "model.norm.weight" || s.name == "model.embed_tokens.weight") std::fill(v.begin(), v.end(), 1.0f);
    if (s.name == "lm_head.weight")  // hidden state = rmsnorm(ones) = ones, so this row's logit is stop_logit
      std::fill(v.begin() + stop * D, v.begin() + (stop + 1) * D, stop_logit / float(D));
    s.tensor->copy_from(Tensor::from_vector(s.tensor->shape(), v));
  }
  return m;
}

}  // namespace r1::testing
