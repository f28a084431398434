// Tests for the pretraining/SFT infrastructure (src/train/data, run, trainer) at library level:
//   - resume is exact: N steps straight == N/2 steps, a fresh model loaded from the checkpoint,
//     N/2 more (MoE with router-bias updates, gradient accumulation): bitwise equal weights and
//     equal metrics;
//   - the window Loader: every window once per epoch, deterministic, masked targets, errors;
//   - SFT masking: exactly the assistant contents and their EOS are targets; malformed rows
//     give errors naming file:line;
//   - RunDir: new/non-empty/resume-with-other-config, keep_last, truncate_metrics;
//   - the held-out loss leaves router statistics, gradients and later training unchanged.
// Models are tiny (hidden 32, 2 layers) and use one thread, so the suite runs in seconds.
// CLI-level checks of the same machinery are in test_cli_train.cpp.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include "cli_util.h"
#include "test_util.h"
#include "autograd/autograd.h"
#include "model/checkpoint.h"
#include "sample/template.h"
#include "tasks/corpus.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/run.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/safetensors.h"

using namespace r1;

namespace {

using r1::testing::metrics_lines;
using r1::testing::OneThread;


// Tiny models gain nothing from threads; one thread also makes the bitwise checks independent
// of the machine's core count.

// 300 corpus documents and a 300-token tokenizer trained on them (built once).
const std::vector<std::string>& corpus_docs() {
  static const std::vector<std::string> docs = [] {
    CorpusConfig c;
    c.n_docs = 300;
    return generate_corpus(c);
  }();
  return docs;
}

const Tokenizer& tokenizer() {
  static const Tokenizer tok = [] {
    TrainOptions o;
    o.vocab_size = 300;
    return Tokenizer::train(corpus_docs(), o);
  }();
  return tok;
}

// A DeepSeek-V3-style MoE: layer 0 dense, layer 1 with 4 routed experts (top-2) + 1 shared,
// router bias updated after every step, a small balance loss.
Config moe_config() {
  Config c;
  c.model_type = "deepseek_v3";
  c.vocab_size = tokenizer().vocab_size();
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 16;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  c.moe_intermediate_size = 16;
  c.n_routed_experts = 4;
  c.n_shared_experts = 1;
  c.num_experts_per_tok = 2;
  c.first_k_dense_replace = 1;
  c.aux_loss_alpha = 0.001;
  c.bias_update_speed = 0.01;
  return c;
}

TrainConfig small_train(int64_t steps) {
  TrainConfig t;
  t.steps = steps;
  t.batch_size = 4;
  t.seq_len = 32;
  t.grad_accum = 2;
  t.lr = 3e-3f;
  t.min_lr = 3e-4f;
  t.warmup_steps = 2;
  t.eval_every = 2;
  t.eval_batches = 2;
  t.checkpoint_every = 0;
  t.keep_last = 2;
  t.seed = 5;
  return t;
}


std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

// --- resume ---------------------------------------------------------------------------------

TEST(TrainResume, SplitRunEqualsStraightRunBitwise) {
  OneThread one;
  TempDir d;
  const Tokenizer& tok = tokenizer();
  std::string tok_path = d.file("tokenizer.json");
  tok.save(tok_path);
  const std::vector<std::string>& docs = corpus_docs();
  TokenStream train = stream_from_texts(std::vector<std::string>(docs.begin(), docs.begin() + 250), tok);
  TokenStream held = stream_from_texts(std::vector<std::string>(docs.begin() + 250, docs.end()), tok);
  const int64_t N = 6;
  TrainConfig tc = small_train(N);
  Json run_cfg = tc.to_json();

  // A: N steps straight.
  {
    RunDir run(d.file("A"), run_cfg, false);
    Transformer m(moe_config());
    m.init_weights(0);
    train_lm(m, train, &held, tc, run, tok_path, false, "A");
  }
  // B: N/2 steps, stop; then a new model (other init, so nothing but the checkpoint counts),
  // a new RunDir and resume for the rest.
  {
    RunDir run(d.file("B"), run_cfg, false);
    Transformer m(moe_config());
    m.init_weights(0);
    train_lm(m, train, &held, tc, run, tok_path, false, "B", N / 2);
    EXPECT_FALSE(std::ifstream(d.file("B/model/model.safetensors")).good()) << "a stopped run has no final model";
    EXPECT_EQ(run.latest_checkpoint(), d.file("B/checkpoints/step_00000003"));
  }
  {
    RunDir run(d.file("B"), run_cfg, true);
    Transformer m(moe_config());
    m.init_weights(123);
    train_lm(m, train, &held, tc, run, tok_path, true, "B");
  }

  // Every tensor of the final models, byte for byte (and the files as a whole).
  SafetensorsFile a = load_safetensors(d.file("A/model/model.safetensors"));
  SafetensorsFile b = load_safetensors(d.file("B/model/model.safetensors"));
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  bool saw_bias = false;
  for (const StTensor& ta : a.tensors) {
    const StTensor* tb = b.find(ta.name);
    ASSERT_NE(tb, nullptr) << ta.name;
    ASSERT_EQ(ta.shape, tb->shape) << ta.name;
    EXPECT_EQ(0, std::memcmp(ta.data.data(), tb->data.data(), ta.data.size() * sizeof(float))) << ta.name;
    if (contains(ta.name, "e_score_correction_bias")) {
      saw_bias = true;
      // The bias moved (N updates of +-0.01 each), so the comparison covers it.
      EXPECT_TRUE(std::any_of(ta.data.begin(), ta.data.end(), [](float x) { return x != 0; })) << ta.name;
    }
  }
  EXPECT_TRUE(saw_bias);
  EXPECT_EQ(read_file(d.file("A/model/model.safetensors")), read_file(d.file("B/model/model.safetensors")));
  EXPECT_EQ(read_file(d.file("A/checkpoints/step_00000006/optimizer.safetensors")),
            read_file(d.file("B/checkpoints/step_00000006/optimizer.safetensors")));

  // The half-way weights differ from the final ones: training really moved them.
  EXPECT_NE(read_file(d.file("B/checkpoints/step_00000003/model.safetensors")),
            read_file(d.file("B/model/model.safetensors")));

  // metrics.jsonl: one line per step in both runs, the same numbers (except the timing).
  std::vector<Json> ma = metrics_lines(d.file("A/metrics.jsonl")), mb = metrics_lines(d.file("B/metrics.jsonl"));
  ASSERT_EQ(ma.size(), size_t(N));
  ASSERT_EQ(mb.size(), size_t(N));
  for (size_t i = 0; i < ma.size(); i++) {
    EXPECT_EQ(ma[i].at("step").as_int(), int64_t(i + 1));
    EXPECT_EQ(mb[i].at("step").as_int(), int64_t(i + 1));
    for (const char* f : {"loss", "aux_loss", "lr", "grad_norm", "router_max_over_mean_load"})
      EXPECT_EQ(ma[i].at(f).as_number(), mb[i].at(f).as_number()) << "step " << i + 1 << " " << f;
    ASSERT_EQ(ma[i].contains("heldout_loss"), mb[i].contains("heldout_loss")) << "step " << i + 1;
    EXPECT_EQ(ma[i].contains("heldout_loss"), (i + 1) % 2 == 0) << "eval_every 2";
    if (ma[i].contains("heldout_loss")) {
      EXPECT_EQ(ma[i].at("heldout_loss").as_number(), mb[i].at("heldout_loss").as_number()) << "step " << i + 1;
    }
  }
  // Warmup 2 then cosine to min_lr over the remaining 4 steps: the logged lr is the schedule's.
  EXPECT_FLOAT_EQ(float(ma[0].at("lr").as_number()), 1.5e-3f);
  EXPECT_FLOAT_EQ(float(ma[1].at("lr").as_number()), 3e-3f);
}

TEST(TrainResume, ResumeWithoutCheckpointIsAnError) {
  TempDir d;
  TrainConfig tc = small_train(2);
  { RunDir run(d.file("R"), tc.to_json(), false); }
  RunDir run(d.file("R"), tc.to_json(), true);
  Transformer m(moe_config());
  TokenStream s = stream_from_texts({corpus_docs().begin(), corpus_docs().begin() + 50}, tokenizer());
  std::string e = error_of([&] { train_lm(m, s, nullptr, tc, run, "", true, "t"); });
  EXPECT_TRUE(contains(e, "has no checkpoint yet")) << e;
}

// --- loader -----------------------------------------------------------------------------------

namespace {

// tokens 0..n-1; mask 0 on multiples of 5.
TokenStream counting_stream(int64_t n) {
  TokenStream s;
  for (int32_t i = 0; i < int32_t(n); i++) {
    s.tokens.push_back(i);
    s.mask.push_back(i % 5 != 0);
  }
  return s;
}

}  // namespace

TEST(TrainLoader, EveryWindowOncePerEpochWithMaskedTargets) {
  const int64_t T = 4, W = 7;
  TokenStream s = counting_stream(T * W + 3);  // 31 tokens: windows need T+1, so still 7 (3 left over)
  Loader loader(s, 2, T, 11);
  ASSERT_EQ(loader.windows(), W);
  // 7 batches of 2 = 14 windows = exactly two epochs.
  std::vector<int64_t> seen;
  for (int b = 0; b < W; b++) {
    Batch batch = loader.next();
    ASSERT_EQ(batch.B, 2);
    ASSERT_EQ(batch.T, T);
    for (int64_t r = 0; r < 2; r++) {
      int32_t first = batch.inputs[size_t(r * T)];
      ASSERT_EQ(first % T, 0) << "a window starts at a multiple of T";
      for (int64_t t = 0; t < T; t++) {
        int32_t in = batch.inputs[size_t(r * T + t)], tg = batch.targets[size_t(r * T + t)];
        EXPECT_EQ(in, first + t);
        EXPECT_EQ(tg, (in + 1) % 5 == 0 ? -100 : in + 1) << "target of input " << in;
      }
      seen.push_back(first / T);
    }
  }
  EXPECT_EQ(loader.position(), 2 * W);
  std::vector<int64_t> e0(seen.begin(), seen.begin() + W), e1(seen.begin() + W, seen.end());
  std::vector<int64_t> all(static_cast<size_t>(W));
  for (int64_t i = 0; i < W; i++) all[size_t(i)] = i;
  std::vector<int64_t> s0 = e0, s1 = e1;
  std::sort(s0.begin(), s0.end());
  std::sort(s1.begin(), s1.end());
  EXPECT_EQ(s0, all) << "epoch 0 visits every window once";
  EXPECT_EQ(s1, all) << "epoch 1 visits every window once";
  EXPECT_NE(e0, e1) << "each epoch has its own order (seed 11: checked to differ)";
  EXPECT_TRUE(e0 != all || e1 != all) << "shuffled";

  // Deterministic, and resumable from a position.
  Loader again(s, 2, T, 11), resumed(s, 2, T, 11), other(s, 2, T, 12);
  resumed.set_position(6);
  std::vector<int32_t> from_start, from_resume;
  bool differs = false;
  for (int b = 0; b < W; b++) {
    Batch x = again.next(), y = other.next();
    differs = differs || x.inputs != y.inputs;
    if (b >= 3) from_start.insert(from_start.end(), x.inputs.begin(), x.inputs.end());
  }
  for (int b = 3; b < W; b++) {
    Batch x = resumed.next();
    from_resume.insert(from_resume.end(), x.inputs.begin(), x.inputs.end());
  }
  EXPECT_EQ(from_start, from_resume);
  EXPECT_TRUE(differs) << "another seed gives another order";

  // Unshuffled loaders and window_batch take windows in stream order.
  Loader plain(s, 3, T, 11, false);
  EXPECT_EQ(plain.next().inputs[0], 0);
  EXPECT_EQ(plain.next().inputs[0], 3 * T);
  Batch wb = loader.window_batch(5, 3);  // windows 5, 6, then 0 (wraps)
  ASSERT_EQ(wb.B, 3);
  EXPECT_EQ(wb.inputs[0], 5 * T);
  EXPECT_EQ(wb.inputs[size_t(T)], 6 * T);
  EXPECT_EQ(wb.inputs[size_t(2 * T)], 0);
  // Targets 21..24, 25..28, 1..4: only 25 (a multiple of 5) is masked.
  EXPECT_EQ(wb.targets[size_t(T)], -100);
  EXPECT_EQ(wb.target_count(), 3 * T - 1);
}

TEST(TrainLoader, ShortStreamsAndBadShapesAreErrors) {
  TokenStream s = counting_stream(8);
  EXPECT_TRUE(contains(error_of([&] { Loader l(s, 1, 8, 0); }), "fewer than one window of 9")) << "8 tokens, T 8";
  Loader one(s, 1, 7, 0);  // exactly T+1 tokens: one window
  EXPECT_EQ(one.windows(), 1);
  TokenStream empty;
  EXPECT_TRUE(contains(error_of([&] { Loader l(empty, 1, 4, 0); }), "has 0 tokens"));
  EXPECT_TRUE(contains(error_of([&] { Loader l(s, 0, 4, 0); }), "must be >= 1"));
}

// --- SFT streams --------------------------------------------------------------------------------

TEST(TrainSft, OnlyAssistantContentAndItsEosAreTargets) {
  const Tokenizer& tok = tokenizer();
  std::string u1 = "Compute: 12+3", a1 = "<think> 12+3 = 15. </think> <answer> 15 </answer>";
  std::string u2 = "Solve for x: 2x + 1 = 7", a2 = "<answer> 3 </answer>";
  Json row = Json::parse(cat(R"({"messages": [{"role": "user", "content": ")", u1, R"("}, {"role": "assistant", "content": ")",
                             a1, R"("}, {"role": "user", "content": ")", u2, R"("}, {"role": "assistant", "content": ")", a2,
                             R"("}]})"));
  TokenStream s = stream_from_chat_rows({row}, tok, "mem");
  EXPECT_EQ(s.documents, 1);
  // The stream is the chat format's encoding...
  std::vector<int> whole = tok.encode(chat_format({{"user", u1}, {"assistant", a1}, {"user", u2}, {"assistant", a2}}));
  ASSERT_EQ(s.tokens, Ids(whole.begin(), whole.end()));
  // ... and the targets are exactly: <|user|> u1 <|assistant|> [a1 EOS] <|user|> u2 <|assistant|> [a2 EOS].
  auto n = [&](const std::string& t) { return tok.encode(t).size(); };
  std::vector<uint8_t> want;
  for (auto [len, bit] : std::vector<std::pair<size_t, uint8_t>>{{1 + n(u1) + 1, 0}, {n(a1) + 1, 1},
                                                                  {1 + n(u2) + 1, 0}, {n(a2) + 1, 1}})
    want.insert(want.end(), len, bit);
  ASSERT_EQ(s.mask, want);
  int eos = tok.token_id("<|endoftext|>");
  std::vector<int> on, off;
  for (size_t i = 0; i < s.tokens.size(); i++) (s.mask[i] ? on : off).push_back(s.tokens[i]);
  EXPECT_EQ(tok.decode(on), a1 + "<|endoftext|>" + a2 + "<|endoftext|>");
  EXPECT_EQ(tok.decode(off), "<|user|>" + u1 + "<|assistant|><|user|>" + u2 + "<|assistant|>");
  EXPECT_EQ(s.tokens.back(), eos);

  // Through the loader: a window's counted targets are the next tokens at mask-1 positions.
  Loader l(s, 1, int64_t(s.tokens.size()) - 1, 0, false);
  Batch b = l.next();
  for (size_t t = 0; t < b.targets.size(); t++)
    EXPECT_EQ(b.targets[t], s.mask[t + 1] ? s.tokens[t + 1] : -100) << t;
}

TEST(TrainSft, MalformedRowsNameFileAndLine) {
  const Tokenizer& tok = tokenizer();
  TempDir d;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(d.file(name)) << text;
    return d.file(name);
  };
  std::string good = R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]})";
  // Bad JSON on line 3 (line 2 is blank).
  std::string p = write("bad.jsonl", good + "\n\n{\"messages\": [\n");
  std::string e = error_of([&] { read_jsonl(p); });
  EXPECT_TRUE(contains(e, p + ":3")) << e;
  p = write("array.jsonl", good + "\n[1, 2]\n");
  e = error_of([&] { read_jsonl(p); });
  EXPECT_TRUE(contains(e, p + ":2: expected a JSON object")) << e;
  EXPECT_TRUE(contains(error_of([&] { read_jsonl(d.file("absent.jsonl")); }), "cannot open"));

  // Row errors name the file line, blank lines included.
  auto row_error = [&](const std::string& bad_row) {
    std::string path = write("rows.jsonl", good + "\n\n" + good + "\n" + bad_row + "\n");
    std::vector<int64_t> lines;
    std::vector<Json> rows = read_jsonl(path, &lines);
    EXPECT_EQ(lines, (std::vector<int64_t>{1, 3, 4}));
    return error_of([&] { stream_from_chat_rows(rows, tok, path, lines); });
  };
  std::string where = d.file("rows.jsonl") + ":4: ";
  e = row_error(R"({"msgs": []})");
  EXPECT_TRUE(contains(e, where + "field 'messages' must be a non-empty array")) << e;
  e = row_error(R"({"messages": []})");
  EXPECT_TRUE(contains(e, where + "field 'messages'")) << e;
  e = row_error(R"({"messages": [{"role": "user"}]})");
  EXPECT_TRUE(contains(e, where + "messages[0] needs string fields 'role' and 'content'")) << e;
  e = row_error(R"({"messages": [{"role": "system", "content": "be nice"}]})");
  EXPECT_TRUE(contains(e, where + "messages[0].role 'system' is not user or assistant")) << e;
  e = row_error(R"({"messages": [{"role": "user", "content": "hi"}]})");
  EXPECT_TRUE(contains(e, where + "no assistant message")) << e;
  // Without line numbers, row r is line r+1.
  e = error_of([&] { stream_from_chat_rows({Json::parse(R"({"messages": 3})")}, tok, "x.jsonl"); });
  EXPECT_TRUE(contains(e, "x.jsonl:1: field 'messages'")) << e;
}

TEST(TrainData, TextStreamsEndEveryDocumentWithATargetEos) {
  const Tokenizer& tok = tokenizer();
  TokenStream s = stream_from_texts({"Q: 1+1 A: 2", "Q: 2+2 A: 4"}, tok);
  EXPECT_EQ(s.documents, 2);
  int eos = tok.token_id("<|endoftext|>");
  std::vector<int> a = tok.encode("Q: 1+1 A: 2"), b = tok.encode("Q: 2+2 A: 4");
  Ids want(a.begin(), a.end());
  want.push_back(eos);
  want.insert(want.end(), b.begin(), b.end());
  want.push_back(eos);
  EXPECT_EQ(s.tokens, want);
  EXPECT_EQ(s.mask, std::vector<uint8_t>(want.size(), 1));
}

// --- run folders --------------------------------------------------------------------------------

TEST(TrainRunDir, NewResumeAndConfigMismatch) {
  TempDir d;
  Json cfg = Json::parse(R"({"train": {"lr": 0.001, "steps": 10}, "model": "m"})");
  std::string path = d.file("a/b/run");  // parents are created
  { RunDir run(path, cfg, false); }
  EXPECT_EQ(Json::parse_file(path + "/run_config.json").dump(), cfg.dump());
  // Non-empty folder without resume.
  std::string e = error_of([&] { RunDir r(path, cfg, false); });
  EXPECT_TRUE(contains(e, "already exists and is not empty")) << e;
  // An existing empty folder is fine for a new run.
  std::string empty = d.file("empty");
  { RunDir make(empty, cfg, false); }
  std::remove((empty + "/run_config.json").c_str());
  { RunDir again(empty, cfg, false); }
  // Resume: same config fine, another config names the differing field.
  { RunDir same(path, cfg, true); }
  Json other = cfg;
  other["train"]["lr"] = 0.002;
  e = error_of([&] { RunDir r(path, other, true); });
  EXPECT_TRUE(contains(e, "train.lr: 0.001 vs 0.002")) << e;
  Json extra = cfg;
  extra["data"] = "x.jsonl";
  e = error_of([&] { RunDir r(path, extra, true); });
  EXPECT_TRUE(contains(e, "data: (absent) vs \"x.jsonl\"")) << e;
  e = error_of([&] { RunDir r(d.file("nope"), cfg, true); });
  EXPECT_TRUE(contains(e, "does not exist")) << e;
  EXPECT_EQ(json_difference(cfg, cfg), "");
}

TEST(TrainRunDir, KeepLastAndTruncateMetrics) {
  TempDir d;
  RunDir run(d.file("run"), Json::object(), false);
  EXPECT_EQ(run.latest_checkpoint(), "");
  for (int64_t step : {10, 20, 30, 40}) {
    std::string dir = run.save_checkpoint(step, 2, [&](const std::string& tmp) {
      write_file_atomic(tmp + "/trainer_state.json", cat("{\"step\": ", step, "}\n"));
    });
    EXPECT_EQ(dir, run.latest_checkpoint());
  }
  EXPECT_EQ(run.latest_checkpoint(), d.file("run/checkpoints/step_00000040"));
  EXPECT_EQ(Json::parse_file(run.latest_checkpoint() + "/trainer_state.json").at("step").as_int(), 40);
  for (int64_t step : {10, 20}) EXPECT_FALSE(std::ifstream(d.file(cat("run/checkpoints/step_000000", step, "/trainer_state.json"))).good());
  EXPECT_TRUE(std::ifstream(d.file("run/checkpoints/step_00000030/trainer_state.json")).good());
  // Rewriting an existing step replaces it.
  run.save_checkpoint(40, 2, [&](const std::string& tmp) { write_file_atomic(tmp + "/trainer_state.json", "{\"step\": 41}\n"); });
  EXPECT_EQ(Json::parse_file(run.latest_checkpoint() + "/trainer_state.json").at("step").as_int(), 41);

  for (int64_t step = 1; step <= 5; step++) {
    Json m = Json::object();
    m["step"] = step;
    m["loss"] = 1.0 / double(step);
    run.log(m);
  }
  run.truncate_metrics(3);
  std::vector<Json> lines = metrics_lines(run.file("metrics.jsonl"));
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; i++) EXPECT_EQ(lines[i].at("step").as_int(), int64_t(i + 1));
  Json m = Json::object();
  m["step"] = 4;
  run.log(m);
  EXPECT_EQ(metrics_lines(run.file("metrics.jsonl")).size(), 4u) << "appends after a truncation";

  // A crash in the middle of writing a line: that last line is dropped on resume.
  { std::ofstream(run.file("metrics.jsonl"), std::ios::app) << "{\"step\": 5, \"lo"; }
  run.truncate_metrics(4);
  EXPECT_EQ(metrics_lines(run.file("metrics.jsonl")).size(), 4u);
  // An invalid line elsewhere is an error naming it.
  write_file_atomic(run.file("metrics.jsonl"), "{\"step\": 1}\n{\"step\": 2\n{\"step\": 3}\n");
  std::string e = error_of([&] { run.truncate_metrics(3); });
  EXPECT_TRUE(contains(e, run.file("metrics.jsonl") + ":2")) << e;
}

// --- held-out loss ---------------------------------------------------------------------------------

TEST(TrainHeldout, LeavesRouterStatsGradientsAndTrainingUnchanged) {
  OneThread one;
  const Tokenizer& tok = tokenizer();
  const std::vector<std::string>& docs = corpus_docs();
  TokenStream train = stream_from_texts(std::vector<std::string>(docs.begin(), docs.begin() + 100), tok);
  TokenStream held = stream_from_texts(std::vector<std::string>(docs.begin() + 250, docs.end()), tok);
  Loader train_loader(train, 4, 32, 1), held_loader(held, 4, 32, 1, false);
  Batch b = train_loader.next();

  // Two identical models; one also computes the held-out loss between backward and the update.
  Transformer m1(moe_config()), m2(moe_config());
  m1.init_weights(3);
  m2.init_weights(3);
  double h = 0;
  for (Transformer* m : {&m1, &m2}) {
    backward(lm_loss(m->forward(b.inputs, b.B, b.T), b.targets));
    if (m != &m2) continue;
    std::vector<RouterStats> stats = m->router_stats();
    std::vector<std::vector<float>> grads;
    for (auto& [name, t] : m->parameters()) grads.push_back(t.grad().defined() ? t.grad().to_vector() : std::vector<float>{});
    h = heldout_loss(*m, held_loader, 2, 4);
    double h2 = heldout_loss(*m, held_loader, 2, 4);
    EXPECT_EQ(h, h2) << "deterministic";
    ASSERT_EQ(m->router_stats().size(), stats.size());
    for (size_t i = 0; i < stats.size(); i++) {
      EXPECT_EQ(m->router_stats()[i].load, stats[i].load) << "layer " << i;
      EXPECT_EQ(m->router_stats()[i].tokens, stats[i].tokens) << "layer " << i;
    }
    size_t k = 0;
    for (auto& [name, t] : m->parameters()) {
      std::vector<float> g = t.grad().defined() ? t.grad().to_vector() : std::vector<float>{};
      EXPECT_EQ(g, grads[k++]) << name;
    }
  }
  // A random model's loss is near ln(V) (within 1: the init is small but not zero).
  EXPECT_NEAR(h, std::log(double(tok.vocab_size())), 1.0);
  // The mean over 2 batches equals the mean of the per-batch losses.
  {
    NoGradGuard g;
    double sum = 0;
    for (int64_t i = 0; i < 2; i++) {
      Batch hb = held_loader.window_batch(i * 4, 4);
      sum += cross_entropy(m1.forward(hb.inputs, hb.B, hb.T).logits, hb.targets).item();
    }
    EXPECT_EQ(h, sum / 2);
  }
  // Same update on both: the router bias step and the weights agree bitwise.
  for (Transformer* m : {&m1, &m2}) m->update_router_bias();
  auto w1 = export_weights(m1), w2 = export_weights(m2);
  ASSERT_EQ(w1.size(), w2.size());
  for (size_t i = 0; i < w1.size(); i++) EXPECT_EQ(w1[i].data, w2[i].data) << w1[i].name;
}
