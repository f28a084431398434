// CLI tests of `r1 rm train`, `r1 rm score` and `r1 data prefs` on a micro model:
//   - a micro reward model trains a few steps; metrics.jsonl has the documented fields and held-out
//     accuracy; RUN_DIR/model is a reward model directory that `r1 rm score` reads;
//   - --stop-after N + --resume == one uninterrupted run, bitwise;
//   - run_config.json holds the RM's trainer fields and defaults, without the LM-only ones;
//   - a bad config (unknown or LM-only field, out-of-range value) exits 2 naming the file and field;
//   - a bad pairs file (missing field, wrong type) exits 2 naming file:line and the field, and
//     touches neither a new nor an existing run folder.
// They run the built CLI named by $R1_BIN (`make test` sets it) and skip when it is not set.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "cli_util.h"
#include "model/checkpoint.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1 {
namespace {

using testing::CliRun;
using testing::metrics_lines;
using testing::run_r1;

const char* kNoBin = "R1_BIN is not set (make test sets it to build/r1)";

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// A causal-LM directory (1 layer, width 16) over the small test tokenizer, and 40 train-split pairs.
struct Fixture {
  TempDir d;
  std::string lm = d.file("lm"), pairs = d.file("pairs.jsonl");
  Fixture() {
    Tokenizer tok = testing::write_small_tokenizer(d.file("tokenizer.json"));
    Config c = testing::tiny_llama_config(tok.vocab_size());
    c.max_position_embeddings = 128;
    Transformer m(c);
    m.init_weights(1);
    save_model(lm, m, d.file("tokenizer.json"));
  }
};

TEST(RmCli, TrainsReportsHeldoutAccuracyAndScores) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  Fixture f;
  CliRun r = run_r1("data prefs --n 40 --seed 3 --out " + f.pairs, f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  write_file_atomic(f.d.file("rm.json"), R"({"eval_every": 2, "warmup_steps": 1, "lr": 0.003})");
  std::string train = "rm train --model " + f.lm + " --data " + f.pairs + " --config " + f.d.file("rm.json") +
                      " --steps 4 --batch-size 4 --heldout-frac 0.25 --threads 1 --out ";
  r = run_r1(train + f.d.file("A"), f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<Json> m = metrics_lines(f.d.file("A/metrics.jsonl"));
  ASSERT_EQ(m.size(), 4u);
  for (size_t i = 0; i < m.size(); i++) {
    EXPECT_EQ(m[i].at("step").as_int(), int64_t(i + 1));
    for (const char* k : {"loss", "accuracy", "lr", "grad_norm"}) EXPECT_TRUE(m[i].at(k).is_number()) << k;
    EXPECT_EQ(m[i].contains("heldout_accuracy"), i % 2 == 1) << i;
  }
  double acc = m[3].at("heldout_accuracy").as_number();
  EXPECT_GE(acc, 0.0);
  EXPECT_LE(acc, 1.0);
  EXPECT_GT(m[3].at("heldout_loss").as_number(), 0.0);
  Json cfg = Json::parse_file(f.d.file("A/model/config.json"));
  EXPECT_EQ(cfg.at("architectures")[0].as_string(), "LlamaForSequenceClassification");
  // run_config.json's "train": the RM's fields and defaults, flags over the config file, no LM-only fields.
  Json tc = Json::parse_file(f.d.file("A/run_config.json")).at("train");
  EXPECT_EQ(tc.at("steps").as_int(), 4);
  EXPECT_EQ(tc.at("batch_size").as_int(), 4);
  EXPECT_EQ(tc.at("eval_every").as_int(), 2);
  EXPECT_EQ(tc.at("weight_decay").as_number(), 0.0);
  EXPECT_EQ(tc.at("keep_last").as_int(), 2);
  EXPECT_FLOAT_EQ(float(tc.at("head_std").as_number()), 0.02f);
  for (const char* lm_only : {"seq_len", "grad_accum", "eval_batches"}) EXPECT_FALSE(tc.contains(lm_only)) << lm_only;

  // --stop-after 2, then --resume: bitwise the weights of the uninterrupted run.
  r = run_r1(train + f.d.file("B") + " --stop-after 2", f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_r1(train + f.d.file("B") + " --resume", f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(f.d.file("A/model/model.safetensors")), read_file(f.d.file("B/model/model.safetensors")));
  EXPECT_EQ(read_file(f.d.file("A/metrics.jsonl")).size(), read_file(f.d.file("B/metrics.jsonl")).size());

  // r1 rm score: one score per row; --json adds "score" to each row.
  write_file_atomic(f.d.file("rows.jsonl"),
                    "{\"prompt\": \"Count the words: cat sun\", \"completion\": \"<answer> 2 </answer>\", \"id\": 7}\n"
                    "{\"prompt\": \"Count the words: cat sun\", \"completion\": \"3\"}\n");
  r = run_r1("rm score --model " + f.d.file("A/model") + " --data " + f.d.file("rows.jsonl"), f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2);
  r = run_r1("rm score --json --model " + f.d.file("A/model") + " --data " + f.d.file("rows.jsonl"), f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  Json first = Json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_EQ(first.at("id").as_int(), 7);
  EXPECT_TRUE(first.at("score").is_number());
  // A causal LM is not a reward model.
  r = run_r1("rm score --model " + f.lm + " --data " + f.d.file("rows.jsonl"), f.d);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("architectures"), std::string::npos) << r.err;
}

TEST(RmCli, BadConfigExitsTwoNamingTheFileAndField) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  Fixture f;
  struct Case {
    std::string config, message;
  };
  std::vector<Case> cases = {
      {R"({"stepz": 3})", "rm.json: unknown training field 'stepz'"},
      {R"({"steps": 3, "seq_len": 32})", "rm.json: unknown training field 'seq_len'"},
      {R"({"grad_accum": 2})", "rm.json: unknown training field 'grad_accum'"},
      {R"({"eval_batches": 1})", "rm.json: unknown training field 'eval_batches'"},
      {R"({"head_std": 0})", "rm.json: training field 'head_std' must be > 0"},
      {R"({"head_std": "x"})", "rm.json: "},
      {R"({"min_lr": 0.5})", "rm.json: training field 'min_lr' must be in [0, lr]"},
  };
  for (const Case& c : cases) {
    write_file_atomic(f.d.file("rm.json"), c.config);
    CliRun r = run_r1("rm train --model " + f.lm + " --data " + f.pairs + " --config " + f.d.file("rm.json") +
                          " --out " + f.d.file("run"),
                      f.d);
    EXPECT_EQ(r.code, 2) << c.config << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.config << r.err;
  }
  EXPECT_FALSE(exists(f.d.file("run")));
}

TEST(RmCli, BadPairsFileExitsTwoNamingTheLine) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  Fixture f;
  CliRun r = run_r1("data prefs --n 12 --seed 3 --out " + f.pairs, f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string good = read_file(f.pairs);
  std::string train = "rm train --model " + f.lm + " --steps 1 --batch-size 2 --threads 1";
  r = run_r1(train + " --data " + f.pairs + " --out " + f.d.file("run"), f.d);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string metrics = read_file(f.d.file("run/metrics.jsonl"));

  struct Case {
    std::string third_line, message;
  };
  std::vector<Case> cases = {
      {R"({"prompt": "p", "chosen": "a"})", "bad.jsonl:3: missing field 'rejected'"},
      {R"({"prompt": "p", "chosen": 5, "rejected": "b"})", "bad.jsonl:3: field 'chosen' must be a string, got number"},
      {R"({"prompt": "p", "chosen": "a", )", "bad.jsonl:3"},
  };
  for (const Case& c : cases) {
    size_t second_end = good.find('\n', good.find('\n') + 1);
    write_file_atomic(f.d.file("bad.jsonl"), good.substr(0, second_end + 1) + c.third_line + "\n");
    for (const std::string& out : {f.d.file("new_run"), f.d.file("run") + " --resume"}) {
      r = run_r1(train + " --data " + f.d.file("bad.jsonl") + " --out " + out, f.d);
      EXPECT_EQ(r.code, 2) << r.err;
      EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    }
    EXPECT_FALSE(exists(f.d.file("new_run")));
    EXPECT_EQ(read_file(f.d.file("run/metrics.jsonl")), metrics);
  }
}

}  // namespace
}  // namespace r1
