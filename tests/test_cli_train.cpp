// CLI tests of `r1 pretrain`, `r1 sft` and `r1 eval` on tiny models:
//   - N steps (--stop-after) + --resume == one uninterrupted run, bitwise, for pretrain and sft;
//   - user mistakes (malformed JSONL, missing fields, unknown preset sections/fields, tokenizer
//     and model vocabularies that do not fit, a truncated checkpoint on --resume) exit 2 with a
//     message naming the file/field, and write nothing into existing runs or new folders;
//   - r1 eval's JSON has the documented fields, counts rows per task, and its pass@1 / pass@k /
//     format rate / mean length agree with its generations file.
// They run the built CLI named by $R1_BIN (`make test` sets it) and skip when it is not set.
// Everything runs with one thread (--threads 1 / OMP_NUM_THREADS=1).
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "cli_util.h"
#include "model/checkpoint.h"
#include "tasks/corpus.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

using namespace r1;
using r1::testing::CliRun;
using r1::testing::metrics_lines;
using r1::testing::run_r1;

namespace {

const char* kNoBin = "R1_BIN is not set (make test sets it to build/r1)";


void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Every file under dir (relative path -> bytes), to prove a failed command changed nothing.
void snapshot_into(const std::string& dir, const std::string& rel, std::map<std::string, std::string>& out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string p = dir + "/" + n;
    struct stat st;
    stat(p.c_str(), &st);
    if (S_ISDIR(st.st_mode))
      snapshot_into(p, rel + n + "/", out);
    else
      out[rel + n] = read_file(p);
  }
  closedir(d);
}

std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  snapshot_into(dir, "", out);
  return out;
}


// The preset of these tests: a 2-layer MoE (layer 1: 4 experts, top-2, router bias updates)
// on 300 corpus documents with a 300-token tokenizer; 6 steps of 2 micro-batches of 4 x 32.
const char* kPreset = R"({
  "model": {"model_type": "deepseek_v3", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 1, "intermediate_size": 64, "max_position_embeddings": 64,
            "moe_intermediate_size": 16, "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2,
            "first_k_dense_replace": 1, "aux_loss_alpha": 0.001, "bias_update_speed": 0.01},
  "tokenizer": {"vocab_size": 300, "train_docs": 200},
  "corpus": {"n_docs": 300, "seed": 1},
  "heldout_docs": 40,
  "init_seed": 0,
  "train": {"steps": 6, "batch_size": 4, "seq_len": 32, "grad_accum": 2, "lr": 0.003, "min_lr": 0.0003,
            "warmup_steps": 2, "eval_every": 3, "eval_batches": 1, "checkpoint_every": 3, "keep_last": 2, "seed": 0}
})";

// A preset with one change: `section.field = value` (value is JSON text); field "" replaces
// the whole section.
std::string preset_with(const std::string& section, const std::string& field, const std::string& value) {
  Json p = Json::parse(kPreset);
  if (field.empty())
    p[section] = Json::parse(value);
  else
    p[section][field] = Json::parse(value);
  return p.dump(2);
}

// SFT rows: "Compute: a+b" -> a worked answer.
std::string sft_rows(int n) {
  std::string out;
  for (int i = 0; i < n; i++) {
    int a = i % 10, b = (i * 7) % 10;
    out += cat(R"({"messages": [{"role": "user", "content": "Compute: )", a, "+", b,
               R"("}, {"role": "assistant", "content": "<think> )", a, "+", b, " = ", a + b,
               R"(. </think> <answer> )", a + b, R"( </answer>"}]})", "\n");
  }
  return out;
}

bool losses_equal(const std::string& a, const std::string& b, size_t want_lines) {
  std::vector<Json> ma = metrics_lines(a), mb = metrics_lines(b);
  EXPECT_EQ(ma.size(), want_lines);
  EXPECT_EQ(mb.size(), want_lines);
  if (ma.size() != want_lines || mb.size() != want_lines) return false;
  for (size_t i = 0; i < ma.size(); i++) {
    if (ma[i].at("step").as_int() != int64_t(i + 1) || mb[i].at("step").as_int() != int64_t(i + 1)) return false;
    if (ma[i].at("loss").as_number() != mb[i].at("loss").as_number()) return false;
    if (ma[i].at("grad_norm").as_number() != mb[i].at("grad_norm").as_number()) return false;
  }
  return true;
}

}  // namespace

// --- resume through the CLI ------------------------------------------------------------------

TEST(TrainCli, StopAfterThenResumeEqualsOneRun) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string preset = d.file("small.json");
  write(preset, kPreset);
  std::string common = "--config " + preset + " --threads 1";

  CliRun r = run_r1("pretrain " + common + " --out " + d.file("A"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_r1("pretrain " + common + " --out " + d.file("B") + " --stop-after 3", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("stopped after step 3 of 6"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(d.file("B/model"))) << "a stopped run has no final model yet";
  EXPECT_TRUE(exists(d.file("B/checkpoints/step_00000003/model.safetensors")));
  // A resume with other flags is another configuration: refused by name, nothing written.
  auto before = snapshot(d.file("B"));
  r = run_r1("pretrain " + common + " --out " + d.file("B") + " --resume --steps 8", d);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: --resume: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train.steps: 6 vs 8"), std::string::npos) << r.err;
  EXPECT_EQ(snapshot(d.file("B")), before);
  r = run_r1("pretrain " + common + " --out " + d.file("B") + " --resume", d);
  ASSERT_EQ(r.code, 0) << r.err;

  // 3 + 3 steps == 6 steps: the final model files are identical, byte for byte.
  EXPECT_EQ(read_file(d.file("A/model/model.safetensors")), read_file(d.file("B/model/model.safetensors")));
  EXPECT_EQ(read_file(d.file("A/model/config.json")), read_file(d.file("B/model/config.json")));
  EXPECT_EQ(read_file(d.file("A/tokenizer.json")), read_file(d.file("B/tokenizer.json")));
  EXPECT_EQ(read_file(d.file("A/checkpoints/step_00000006/optimizer.safetensors")),
            read_file(d.file("B/checkpoints/step_00000006/optimizer.safetensors")));
  EXPECT_TRUE(losses_equal(d.file("A/metrics.jsonl"), d.file("B/metrics.jsonl"), 6));
  EXPECT_NE(read_file(d.file("A/checkpoints/step_00000003/model.safetensors")),
            read_file(d.file("A/model/model.safetensors")))
      << "training moved the weights";

  // SFT on A's model, the same way: 4 steps straight vs 2 + resume 2.
  std::string rows = d.file("sft.jsonl");
  write(rows, sft_rows(40));
  std::string sft = "sft --model " + d.file("A/model") + " --data " + rows +
                    " --steps 4 --batch-size 2 --seq-len 32 --lr 0.001 --threads 1";
  r = run_r1(sft + " --out " + d.file("S1"), d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_r1(sft + " --out " + d.file("S2") + " --stop-after 2", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(exists(d.file("S2/model")));
  r = run_r1(sft + " --out " + d.file("S2") + " --resume", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_file(d.file("S1/model/model.safetensors")), read_file(d.file("S2/model/model.safetensors")));
  EXPECT_TRUE(losses_equal(d.file("S1/metrics.jsonl"), d.file("S2/metrics.jsonl"), 4));
  EXPECT_NE(read_file(d.file("S1/model/model.safetensors")), read_file(d.file("A/model/model.safetensors")));
}

// --- error paths ------------------------------------------------------------------------------------

TEST(TrainCli, UserMistakesExitTwoAndWriteNothing) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string preset = d.file("small.json");
  write(preset, kPreset);
  std::string good = d.file("G");  // a finished good run (2 steps)
  CliRun r = run_r1("pretrain --config " + preset + " --out " + good + " --steps 2 --threads 1", d);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string rows = d.file("sft.jsonl");
  write(rows, sft_rows(20));
  std::string sft_run = d.file("S");
  r = run_r1("sft --model " + good + "/model --data " + rows + " --out " + sft_run + " --steps 1 --batch-size 2 --seq-len 32", d);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto good_before = snapshot(good), sft_before = snapshot(sft_run);
  ASSERT_TRUE(good_before.count("model/model.safetensors"));
  std::string fresh = d.file("fresh");  // a new --out folder that must not appear

  // Each case: exit 2, "error: " + the expected text on stderr, no folder created, the good
  // runs untouched.
  auto expect_error = [&](const std::string& args, const std::string& want) {
    SCOPED_TRACE(args);
    CliRun x = run_r1(args, d);
    EXPECT_EQ(x.code, 2) << x.err;
    EXPECT_EQ(x.err.rfind("error: ", 0), 0u) << x.err;
    EXPECT_NE(x.err.find(want), std::string::npos) << "wanted '" << want << "' in: " << x.err;
    EXPECT_FALSE(exists(fresh)) << "a failed command created its --out folder";
    EXPECT_TRUE(snapshot(good) == good_before) << "the good pretrain run changed";
    EXPECT_TRUE(snapshot(sft_run) == sft_before) << "the good sft run changed";
  };
  std::string sft_to = "sft --model " + good + "/model --out ";

  // Malformed JSONL (line 3 after a blank line 2) and rows with missing or bad fields.
  std::string bad = d.file("bad.jsonl");
  write(bad, sft_rows(1) + "\n{\"messages\": [\n");
  expect_error(sft_to + fresh + " --data " + bad, bad + ":3");
  expect_error(sft_to + sft_run + " --data " + bad + " --steps 1 --batch-size 2 --seq-len 32 --resume", bad + ":3");
  write(bad, sft_rows(2) + "{\"msgs\": []}\n");
  expect_error(sft_to + fresh + " --data " + bad, bad + ":3: field 'messages' must be a non-empty array");
  write(bad, sft_rows(2) + "\n" + R"({"messages": [{"role": "system", "content": "x"}]})" + "\n");
  expect_error(sft_to + fresh + " --data " + bad, bad + ":4: messages[0].role 'system' is not user or assistant");
  write(bad, R"({"messages": [{"role": "user", "content": "x"}]})" "\n");
  expect_error(sft_to + fresh + " --data " + bad, bad + ":1: no assistant message");
  // A held-out row (the last 5%) still names its own line.
  write(bad, sft_rows(39) + R"({"messages": [{"role": "user"}]})" "\n");
  expect_error(sft_to + fresh + " --data " + bad, bad + ":40: messages[0] needs string fields");
  expect_error(sft_to + fresh + " --data " + d.file("absent.jsonl"), "absent.jsonl: cannot open");
  std::string train_cfg = d.file("train.json");
  write(train_cfg, R"({"stepz": 3})");
  expect_error(sft_to + fresh + " --data " + rows + " --config " + train_cfg, train_cfg + ": unknown training field 'stepz'");

  // Presets: unknown sections and fields, a missing section; against a new folder and as a
  // --resume of the good run.
  std::string p = d.file("p.json");
  auto preset_error = [&](const std::string& text, const std::string& want) {
    write(p, text);
    expect_error("pretrain --config " + p + " --out " + fresh, p + want);
    expect_error("pretrain --config " + p + " --out " + good + " --steps 2 --resume", p + want);
  };
  preset_error(preset_with("trainn", "", "{}"), ": unknown section 'trainn'");
  preset_error(preset_with("train", "stepz", "3"), ": unknown training field 'stepz'");
  preset_error(preset_with("corpus", "w_sums", "1"), ": unknown corpus field 'w_sums'");
  preset_error(preset_with("tokenizer", "vocab", "300"), ": unknown tokenizer field 'vocab'");
  preset_error(preset_with("model", "hiden_size", "32"), " (model): unknown field 'hiden_size'");
  {
    Json j = Json::parse(kPreset);
    Json no_model = Json::object();
    for (const auto& kv : j.as_object())
      if (kv.first != "model") no_model[kv.first] = kv.second;
    preset_error(no_model.dump(), ": missing section 'model'");
  }
  // Vocabularies: a model smaller than the tokenizer.
  preset_error(preset_with("tokenizer", "vocab_size", "200"), ": tokenizer vocab_size 200 must be >= 264");
  preset_error(preset_with("model", "vocab_size", "100"), ": model vocab_size 100 is smaller than the tokenizer's vocab_size 300");
  std::string small_cfg = d.file("small_model.json");
  Json mc = Json::parse(read_file(good + "/model/config.json"));
  mc["vocab_size"] = 200;
  write(small_cfg, mc.dump());
  std::string small_model = d.file("small_model");
  r = run_r1("init --config " + small_cfg + " --out " + small_model + " --tokenizer " + good + "/tokenizer.json", d);
  ASSERT_EQ(r.code, 0) << r.err;
  expect_error("sft --model " + small_model + " --data " + rows + " --out " + fresh,
               "tokens but the model's vocab_size is 200");
  std::string eval_rows = d.file("eval.jsonl");
  write(eval_rows, R"({"task": "arith", "prompt": "Compute: 1+2", "answer": "3"})" "\n");
  expect_error("eval --model " + small_model + " --data " + eval_rows + " --generations " + fresh,
               "tokens but the model's vocab_size is 200");
  write(bad, R"({"task": "arith", "prompt": "Compute: 1+2", "answer": "3"})" "\n\n" R"({"task": "arith", "prompt": "x"})" "\n");
  expect_error("eval --model " + good + "/model --data " + bad + " --generations " + fresh, bad + ":3: missing field 'answer'");

  // A truncated checkpoint on --resume: the error names the file and the run is left as it was.
  std::string broken = d.file("broken");
  ASSERT_EQ(std::system(("cp -r " + good + " " + broken).c_str()), 0);
  std::string ckpt = broken + "/checkpoints/step_00000002";
  for (const char* f : {"model.safetensors", "optimizer.safetensors"}) {
    std::string path = ckpt + "/" + f;
    std::string bytes = read_file(path);
    ASSERT_GT(bytes.size(), 100u);
    write(path, bytes.substr(0, bytes.size() / 2));
    auto broken_before = snapshot(broken);
    CliRun x = run_r1("pretrain --config " + preset + " --out " + broken + " --steps 2 --resume --threads 1", d);
    EXPECT_EQ(x.code, 2) << x.err;
    EXPECT_NE(x.err.find("error: " + path), std::string::npos) << x.err;
    EXPECT_TRUE(snapshot(broken) == broken_before) << f;
    write(path, bytes);
  }
  write(ckpt + "/trainer_state.json", "{\"step\": 2");
  CliRun x = run_r1("pretrain --config " + preset + " --out " + broken + " --steps 2 --resume --threads 1", d);
  EXPECT_EQ(x.code, 2) << x.err;
  EXPECT_NE(x.err.find("trainer_state.json"), std::string::npos) << x.err;
  EXPECT_EQ(read_file(broken + "/metrics.jsonl"), good_before.at("metrics.jsonl"));
}

// --- r1 eval ------------------------------------------------------------------------------------------

namespace {

// A model that is a bigram table: attention and MLP outputs are zero (o_proj, down_proj = 0), so
// the logits at a position depend only on its token. After the chat prompt's <|assistant|> it
// writes "<think></think><answer>", then "7" or "8" with probability 1/2 each, then "</answer>".
// So on "Compute: 3+4" each sample is right with probability 1/2 (pass@k > pass@1 for K = 8),
// "Compute: 1+1" is never right, and every completion has the format and 5 tokens.
void write_bigram_model(const std::string& dir, const TempDir& scratch) {
  std::string tok_path = scratch.file("tokenizer.json");
  Tokenizer tok = r1::testing::write_small_tokenizer(tok_path);
  Config c = r1::testing::tiny_llama_config(tok.vocab_size());
  Transformer m(c);  // all zero
  std::vector<int> chain;
  for (const char* t : {"<|assistant|>", "<think>", "</think>", "<answer>", "7", "8", "</answer>"}) {
    chain.push_back(tok.token_id(t));
    if (chain.back() < 0) throw Error(cat("bigram model: no token '", t, "'"));
  }
  // next[i]: the tokens that follow chain[i] (equally likely).
  std::vector<std::vector<int>> next = {{1}, {2}, {3}, {4, 5}, {6}, {6}};
  int64_t D = c.hidden_size;
  for (const TensorSlot& s : m.slots()) {
    std::vector<float> v = s.tensor->to_vector();
    if (s.name == "model.norm.weight") std::fill(v.begin(), v.end(), 1.0f);
    if (s.name == "model.embed_tokens.weight")
      for (size_t i = 0; i < next.size(); i++) v[size_t(chain[i] * D + int64_t(i))] = 1.0f;  // one-hot rows
    if (s.name == "lm_head.weight")
      for (size_t i = 0; i < next.size(); i++)
        for (int j : next[i]) v[size_t(chain[size_t(j)] * D + int64_t(i))] = 10.0f;  // logit ~ 10 * sqrt(D) = 40
    s.tensor->copy_from(Tensor::from_vector(s.tensor->shape(), v));
  }
  save_model(dir, m, tok_path);
}

}  // namespace

TEST(TrainCli, EvalReportsDocumentedFieldsConsistentWithGenerations) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir d;
  std::string model = d.file("model");
  write_bigram_model(model, d);
  std::string rows = d.file("rows.jsonl");
  write(rows, R"({"task": "arith", "prompt": "Compute: 3+4", "answer": "7"})" "\n"
              R"({"task": "arith", "prompt": "Compute: 1+1", "answer": "2"})" "\n\n"
              R"({"task": "linear", "prompt": "Solve for x: 2x = 16", "answer": "8"})" "\n");
  std::string gens = d.file("gens.jsonl");
  CliRun r = run_r1("eval --model " + model + " --data " + rows + " --template chat --n-samples 8 --max-new-tokens 10" +
                        " --batch 5 --generations " + gens + " --json",
                    d);
  ASSERT_EQ(r.code, 0) << r.err;
  Json out = Json::parse(r.out);
  EXPECT_EQ(out.at("generations").as_string(), gens);
  const Json& overall = out.at("overall");
  const Json& tasks = out.at("tasks");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(overall.at("rows").as_int(), 3);
  EXPECT_EQ(tasks.at("arith").at("rows").as_int(), 2);
  EXPECT_EQ(tasks.at("linear").at("rows").as_int(), 1);
  for (const Json* s : {&overall, &tasks.at("arith"), &tasks.at("linear")}) {
    ASSERT_EQ(s->size(), 13u) << s->dump();
    for (const char* f : {"rows", "pass@1", "pass@k", "format_rate", "language_consistency", "mixed_rate", "mean_length",
                          "mean_length_correct", "mean_length_incorrect", "candidates", "reflection_per_1k_correct",
                          "reflection_per_1k_incorrect", "pass_at_k"})
      ASSERT_TRUE(s->contains(f)) << f;
    EXPECT_GE(s->at("pass@k").as_number(), s->at("pass@1").as_number());
    EXPECT_EQ(s->at("format_rate").as_number(), 1.0) << "every completion is <think></think><answer>d</answer>";
    EXPECT_EQ(s->at("mean_length").as_number(), 5.0);
  }

  // Recompute everything from the generations: 3 rows x 8 samples, in row order.
  std::vector<Json> g = metrics_lines(gens);
  ASSERT_EQ(g.size(), 24u);
  std::map<std::string, int> correct;
  for (size_t i = 0; i < g.size(); i++) {
    const Json& x = g[i];
    std::string completion = x.at("completion").as_string();
    EXPECT_TRUE(completion == "<think></think><answer>7</answer>" || completion == "<think></think><answer>8</answer>")
        << completion;
    EXPECT_EQ(x.at("correct").as_bool(), completion.find(x.at("answer").as_string()) != std::string::npos);
    EXPECT_EQ(x.at("length").as_int(), 5);
    std::string task = x.at("task").as_string();
    correct[task] += x.at("correct").as_bool();
  }
  auto row_any = [&](size_t row) {
    for (size_t k = 0; k < 8; k++)
      if (g[row * 8 + k].at("correct").as_bool()) return 1;
    return 0;
  };
  EXPECT_EQ(row_any(1), 0) << "answer 2 is never written";
  const Json& arith = tasks.at("arith");
  EXPECT_EQ(arith.at("pass@1").as_number(), correct["arith"] / 16.0);
  EXPECT_EQ(arith.at("pass@k").as_number(), (row_any(0) + row_any(1)) / 2.0);
  EXPECT_EQ(tasks.at("linear").at("pass@1").as_number(), correct["linear"] / 8.0);
  EXPECT_EQ(overall.at("pass@1").as_number(), (correct["arith"] + correct["linear"]) / 24.0);
  EXPECT_EQ(overall.at("pass@k").as_number(), (row_any(0) + row_any(1) + row_any(2)) / 3.0);
  // With these seeds both "7" and "8" occur, so pass@k is strictly larger than pass@1 (each
  // sample is a fair coin; 8 samples all equal would have probability 1/128).
  EXPECT_GT(overall.at("pass@k").as_number(), overall.at("pass@1").as_number());
  EXPECT_GT(correct["arith"], 0);
  // The unbiased pass@k runs from pass@1 (k = 1) to pass@8 = "any sample right" (k = n); 1e-12: the
  // product form's rounding.
  const std::vector<Json>& curve = overall.at("pass_at_k").as_array();
  ASSERT_EQ(curve.size(), 8u);
  EXPECT_NEAR(curve.front().as_number(), overall.at("pass@1").as_number(), 1e-12);
  EXPECT_NEAR(curve.back().as_number(), overall.at("pass@k").as_number(), 1e-12);
  for (size_t k = 1; k < curve.size(); k++) EXPECT_GE(curve[k].as_number(), curve[k - 1].as_number());

  // --limit keeps the first rows; the result does not depend on --batch (per-sample RNG streams).
  r = run_r1("eval --model " + model + " --data " + rows + " --template chat --n-samples 8 --max-new-tokens 10" +
                 " --batch 64 --limit 1 --generations " + d.file("g1.jsonl") + " --json",
             d);
  ASSERT_EQ(r.code, 0) << r.err;
  Json one = Json::parse(r.out);
  EXPECT_EQ(one.at("overall").at("rows").as_int(), 1);
  EXPECT_EQ(one.at("tasks").size(), 1u);
  std::vector<Json> g1 = metrics_lines(d.file("g1.jsonl"));
  ASSERT_EQ(g1.size(), 8u);
  for (size_t k = 0; k < 8; k++) EXPECT_EQ(g1[k].dump(), g[k].dump()) << k;

  // A randomly initialised model of the same shape: rambling completions cut at
  // --max-new-tokens, still counted and reported with every field.
  std::string random = d.file("random");
  r = run_r1("init --config " + model + "/config.json --out " + random + " --tokenizer " + model + "/tokenizer.json --seed 1", d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_r1("eval --model " + random + " --data " + rows + " --n-samples 3 --max-new-tokens 4 --generations " +
                 d.file("g2.jsonl") + " --json",
             d);
  ASSERT_EQ(r.code, 0) << r.err;
  Json rnd = Json::parse(r.out).at("overall");
  EXPECT_EQ(rnd.at("rows").as_int(), 3);
  EXPECT_EQ(rnd.size(), 13u);
  EXPECT_GE(rnd.at("pass@k").as_number(), rnd.at("pass@1").as_number());
  std::vector<Json> g2 = metrics_lines(d.file("g2.jsonl"));
  ASSERT_EQ(g2.size(), 9u);
  double len = 0;
  for (const Json& x : g2) {
    EXPECT_LE(x.at("length").as_int(), 4);
    EXPECT_TRUE(x.at("finish").as_string() == "length" || x.at("finish").as_string() == "eos" ||
                x.at("finish").as_string() == "stop");
    len += double(x.at("length").as_int());
  }
  EXPECT_DOUBLE_EQ(rnd.at("mean_length").as_number(), len / 9);
}
