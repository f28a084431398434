// `r1 pretrain` (grow a base model from the synthetic corpus) and `r1 sft` (supervised
// fine-tuning on chat rows). Both run the shared trainer (train/trainer.h) in a run folder
// (train/run.h) and can be resumed.
#include <cstdio>

#include "cli/command.h"
#include "dist/comm.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "tasks/corpus.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

// Applies --steps / --lr style overrides to a "train" section.
static void train_overrides(Args& args, Json& train) {
  if (args.has("steps")) train["steps"] = args.integer("steps");
  if (args.has("lr")) train["lr"] = args.number("lr");
  if (args.has("batch-size")) train["batch_size"] = args.integer("batch-size");
  if (args.has("seq-len")) train["seq_len"] = args.integer("seq-len");
}

// --- pretrain -------------------------------------------------------------------------

static const char* kPretrainUsage =
    "usage: r1 pretrain --config PRESET.json --out RUN_DIR [--resume] [--steps N] [--lr X]\n"
    "                   [--batch-size B] [--seq-len T] [--threads N] [--stop-after N] [--device cpu|cuda]\n"
    "                   [--tokenizer TOKENIZER.json]\n"
    "  Generates the synthetic corpus, trains a byte-level BPE tokenizer on it, initialises the\n"
    "  model and trains it. PRESET.json sections (see data/presets/tiny.json, docs/training.md):\n"
    "    \"model\":     a config.json object (vocab_size may be omitted: the tokenizer's size)\n"
    "    \"tokenizer\": {\"vocab_size\": N, \"train_docs\": D}  (a tokenizer trained on D corpus documents)\n"
    "    \"corpus\":    corpus knobs (docs/data.md); \"heldout_docs\": documents kept for held-out loss\n"
    "    \"train\":     trainer fields (steps, batch_size, seq_len, lr, ...); \"init_seed\": model init seed\n"
    "  Writes RUN_DIR/{run_config.json, tokenizer.json, metrics.jsonl, checkpoints/, model/}.\n"
    "  --resume continues from the last checkpoint (the flags must match the original run).\n"
    "  --stop-after N ends this invocation after N steps with a checkpoint (the run config, and so\n"
    "  the schedule, is unchanged; not part of the flags --resume compares): N steps, then --resume,\n"
    "  gives bitwise the weights of one uninterrupted run.\n"
    "  --device cuda trains on the GPU (default cpu); run_config.json records the device the run\n"
    "  started on, and --resume may continue it on either device.\n"
    "  --tokenizer uses that tokenizer instead of training one (the preset's tokenizer section is then\n"
    "  ignored): a student pretrained with its teacher's tokenizer can learn from the teacher's text.";

static int run_pretrain(Args& args) {
  std::string preset_path = args.str("config"), out = args.str("out");
  bool resume = args.flag("resume");
  set_threads(args.integer("threads", 0));
  int64_t stop_after = args.integer("stop-after", 0);
  std::string device_flag = args.str("device", "cpu");
  std::string tokenizer_from = args.str("tokenizer", "");
  Json preset = Json::parse_file(preset_path);
  if (!preset.is_object()) throw Error(cat(preset_path, ": expected a JSON object"));
  reject_unknown_fields(preset, {"model", "tokenizer", "corpus", "heldout_docs", "train", "init_seed"}, preset_path, "section");
  Json train_json = preset.find("train") ? preset.at("train") : Json::object();
  train_overrides(args, train_json);
  args.finish();
  const Device device = usable_device(device_flag);
  preset["train"] = train_json;

  CorpusConfig corpus = CorpusConfig::from_json(preset.find("corpus") ? preset.at("corpus") : Json::object(), preset_path);
  TrainConfig tc = TrainConfig::from_json(train_json, preset_path);
  int64_t heldout_docs = preset.get_int("heldout_docs", 500);
  if (heldout_docs < 0) throw Error(cat(preset_path, ": 'heldout_docs' must be >= 0"));
  for (const char* section : {"tokenizer", "model"})
    if (!preset.contains(section)) throw Error(cat(preset_path, ": missing section '", section, "'"));
  const Json& tok_json = preset.at("tokenizer");
  if (!tok_json.is_object()) throw Error(cat(preset_path, ": the tokenizer section must be an object"));
  for (const auto& kv : tok_json.as_object())
    if (kv.first != "vocab_size" && kv.first != "train_docs")
      throw Error(cat(preset_path, ": unknown tokenizer field '", kv.first, "'"));
  int vocab = int(tok_json.get_int("vocab_size", 1024));
  int64_t tok_docs = tok_json.get_int("train_docs", 20000);
  int min_vocab = 256 + int(Tokenizer::default_specials().size());
  if (vocab < min_vocab)
    throw Error(cat(preset_path, ": tokenizer vocab_size ", vocab, " must be >= ", min_vocab, " (256 bytes + special tokens)"));
  if (stop_after < 0) throw Error("r1 pretrain: --stop-after must be >= 0");
  // The model section is checked before anything is written (the tokenizer, trained later,
  // has at most tokenizer.vocab_size tokens; an absent model vocab_size becomes its size).
  Json model_json = preset.at("model");
  {
    Json probe = model_json;
    if (!probe.contains("vocab_size")) probe["vocab_size"] = int64_t(vocab);
    Config mc = Config::from_json(probe, preset_path + " (model)");
    if (mc.vocab_size < vocab)
      throw Error(cat(preset_path, ": model vocab_size ", mc.vocab_size, " is smaller than the tokenizer's vocab_size ", vocab));
    if (tc.seq_len > mc.max_position_embeddings)
      throw Error(cat(preset_path, ": seq_len ", tc.seq_len, " exceeds max_position_embeddings ", mc.max_position_embeddings));
  }

  if (!tokenizer_from.empty()) {
    Tokenizer::load(tokenizer_from);  // a bad file fails here, before the run folder exists
    preset["tokenizer_from"] = tokenizer_from;
  }
  set_run_device(preset, device, out, resume);
  // Under mpirun every rank runs this command; rank 0 writes the run folder (docs/distributed.md).
  // The other ranks build the same corpus and tokenizer (deterministic) without writing them.
  const bool rank0 = world().rank() == 0;
  RunDir run(out, preset, resume, rank0);
  // Corpus: n_docs training documents, then heldout_docs more from the same stream.
  CorpusConfig all = corpus;
  all.n_docs = corpus.n_docs + heldout_docs;
  std::fprintf(stderr, "pretrain: generating %lld corpus documents\n", (long long)all.n_docs);
  std::vector<std::string> docs = generate_corpus(all);
  std::vector<std::string> heldout(docs.end() - heldout_docs, docs.end());
  docs.resize(size_t(corpus.n_docs));
  if (!resume && rank0) {
    std::string sample;
    for (size_t i = 0; i < docs.size() && i < 200; i++) sample += docs[i] + "\n";
    write_file_atomic(run.file("corpus_sample.txt"), sample);
  }

  // Tokenizer: trained once per run folder.
  std::string tok_path = run.file("tokenizer.json");
  Tokenizer tok = [&] {
    if (resume) return Tokenizer::load(tok_path);
    if (!tokenizer_from.empty()) {
      if (rank0) write_file_atomic(tok_path, read_file(tokenizer_from));
      return Tokenizer::load(tokenizer_from);
    }
    TrainOptions to;
    to.vocab_size = vocab;
    std::vector<std::string> tok_texts(docs.begin(), docs.begin() + std::min<int64_t>(tok_docs, int64_t(docs.size())));
    std::fprintf(stderr, "pretrain: training a %d-token tokenizer on %zu documents\n", vocab, tok_texts.size());
    Tokenizer t = Tokenizer::train(tok_texts, to);
    if (rank0) t.save(tok_path);
    return t;
  }();

  if (!model_json.contains("vocab_size")) model_json["vocab_size"] = int64_t(tok.vocab_size());
  Config mc = Config::from_json(model_json, preset_path + " (model)");
  Transformer model(mc);
  model.init_weights(uint64_t(preset.get_int("init_seed", 0)));  // on the CPU: the same weights on every device
  model.to(device);
  std::fprintf(stderr, "pretrain: %s model, %lld parameters (%lld active per token), on %s\n", mc.model_type.c_str(),
               (long long)mc.num_parameters(), (long long)mc.num_active_parameters(), device_name(device));

  TokenStream train = stream_from_texts(docs, tok), held = stream_from_texts(heldout, tok);
  std::fprintf(stderr, "pretrain: %zu training tokens, %zu held-out tokens\n", train.tokens.size(), held.tokens.size());
  bool use_held = held.tokens.size() > size_t(tc.seq_len);  // at least one window
  train_lm(model, train, use_held ? &held : nullptr, tc, run, tok_path, resume, "pretrain", stop_after);
  return 0;
}

// --- sft -------------------------------------------------------------------------------

static const char* kSftUsage =
    "usage: r1 sft --model DIR --data FILE.jsonl --out RUN_DIR [--config TRAIN.json] [--resume]\n"
    "              [--steps N] [--lr X] [--batch-size B] [--seq-len T] [--heldout-frac F] [--threads N]\n"
    "              [--stop-after N] [--device cpu|cuda]\n"
    "  Fine-tunes the model in DIR on rows {\"messages\": [{\"role\": \"user\"|\"assistant\", \"content\": ...}]}\n"
    "  in chat format; only assistant tokens (and the <|endoftext|> closing each turn) count in the loss.\n"
    "  TRAIN.json holds trainer fields (as a preset's \"train\" section); flags override them.\n"
    "  Defaults: lr 1e-4, warmup 10, --heldout-frac 0.05 (the last rows are held out).\n"
    "  --stop-after N: end this invocation after N steps with a checkpoint (as in r1 pretrain).\n"
    "  --device cuda trains on the GPU (default cpu); --resume may continue on either device.";

static int run_sft(Args& args) {
  std::string model_dir = args.str("model"), data = args.str("data"), out = args.str("out");
  bool resume = args.flag("resume");
  set_threads(args.integer("threads", 0));
  Json train_json = Json::object();
  train_json["lr"] = 1e-4;
  train_json["min_lr"] = 1e-5;
  train_json["warmup_steps"] = 10;
  std::string config_source = "r1 sft";
  if (args.has("config")) {
    config_source = args.str("config");
    Json file = Json::parse_file(config_source);
    if (!file.is_object()) throw Error(cat(config_source, ": expected a JSON object of trainer fields"));
    for (const auto& kv : file.as_object()) train_json[kv.first] = kv.second;
  }
  train_overrides(args, train_json);
  double heldout_frac = args.number("heldout-frac", 0.05);
  int64_t stop_after = args.integer("stop-after", 0);
  std::string device_flag = args.str("device", "cpu");
  args.finish();
  const Device device = usable_device(device_flag);
  if (!(heldout_frac >= 0 && heldout_frac < 1)) throw Error("r1 sft: --heldout-frac must be in [0, 1)");
  if (stop_after < 0) throw Error("r1 sft: --stop-after must be >= 0");
  TrainConfig tc = TrainConfig::from_json(train_json, config_source);

  Transformer model = load_model(model_dir);
  model.to(device);
  Tokenizer tok = Tokenizer::load(model_dir + "/tokenizer.json");
  if (tok.vocab_size() > model.config().vocab_size)
    throw Error(cat(model_dir, ": tokenizer has ", tok.vocab_size(), " tokens but the model's vocab_size is ",
                    model.config().vocab_size));
  std::vector<int64_t> lines;  // (rows) file line of each row, for errors
  std::vector<Json> rows = read_jsonl(data, &lines);
  if (rows.empty()) throw Error(cat(data, ": no rows"));
  size_t n_held = size_t(double(rows.size()) * heldout_frac);
  std::vector<Json> held_rows(rows.end() - long(n_held), rows.end());
  std::vector<int64_t> held_lines(lines.end() - long(n_held), lines.end());
  rows.resize(rows.size() - n_held);
  lines.resize(rows.size());
  TokenStream train = stream_from_chat_rows(rows, tok, data, lines);
  TokenStream held;
  if (!held_rows.empty()) held = stream_from_chat_rows(held_rows, tok, data, held_lines);

  Json cfg = Json::object();
  cfg["model"] = model_dir;
  cfg["data"] = data;
  cfg["heldout_frac"] = heldout_frac;
  cfg["train"] = tc.to_json();
  set_run_device(cfg, device, out, resume);
  const bool rank0 = world().rank() == 0;  // under mpirun rank 0 writes the run folder
  RunDir run(out, cfg, resume, rank0);
  std::string tok_path = run.file("tokenizer.json");
  if (!resume && rank0) write_file_atomic(tok_path, read_file(model_dir + "/tokenizer.json"));
  bool use_held = held.tokens.size() > size_t(tc.seq_len);
  train_lm(model, train, use_held ? &held : nullptr, tc, run, tok_path, resume, "sft", stop_after);
  return 0;
}

static const bool registered_pretrain =
    register_command({"pretrain", "grow a base model: corpus -> tokenizer -> model -> training", kPretrainUsage, run_pretrain});
static const bool registered_sft = register_command({"sft", "supervised fine-tuning on chat rows", kSftUsage, run_sft});

}  // namespace r1
