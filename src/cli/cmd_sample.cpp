// `r1 sample` (generate completions) and `r1 chat` (interactive, streaming). Both load a
// model directory (config.json, model.safetensors, tokenizer.json).
#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "sample/generate.h"
#include "sample/template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace r1 {

static const char* kSampleUsage =
    "usage: r1 sample --model DIR (--prompt TEXT | --prompt-ids \"1,2,3\") [--n K] [--max-new-tokens N]\n"
    "                 [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--seed S]\n"
    "                 [--template r1zero|chat|none] [--think] [--stop STR] [--device cpu|cuda] [--json]\n"
    "  Generates K completions of one prompt. --temperature 0 is greedy. Defaults: --n 1\n"
    "  --max-new-tokens 128 --temperature 1 --top-k 0 (off) --top-p 1 (off) --min-p 0 (off) --seed 0\n"
    "  --template none (the text as given); --think appends <think> to a chat prompt.\n"
    "  Generation stops at <|endoftext|>, at --stop STR (comma-separated list) or after N tokens.\n"
    "  Sample i uses the RNG stream Rng(seed, i), so it does not depend on --n.\n"
    "  --json: {\"samples\": [{\"ids\": [...], \"text\": \"...\", \"logprobs\": [...], \"finish\": \"eos|stop|length\"}]}\n"
    "  (ids are the generated tokens only; logprobs after temperature, before truncation).\n"
    "  --device cuda generates on the GPU (default cpu): the same rules and random draws as the CPU.";

// Model + tokenizer of a model directory.
struct LoadedModel {
  Transformer model;
  Tokenizer tokenizer;
};

static LoadedModel load_model_dir(const std::string& dir, Device device) {
  Transformer m = load_model(dir, WeightMemory::Inference);  // BF16/FP8 matrices stay BF16
  m.to(device);
  Tokenizer t = Tokenizer::load(dir + "/tokenizer.json");
  if (t.vocab_size() > m.config().vocab_size)
    throw Error(cat(dir, ": tokenizer has ", t.vocab_size(), " tokens but the model's vocab_size is ",
                    m.config().vocab_size));
  return {std::move(m), std::move(t)};
}

static SamplingParams sampling_flags(Args& args) {
  SamplingParams p;
  p.temperature = float(args.number("temperature", 1.0));
  p.top_k = args.integer("top-k", 0);
  p.top_p = float(args.number("top-p", 1.0));
  p.min_p = float(args.number("min-p", 0.0));
  validate(p);
  return p;
}

// Per-sample seeds: sample i of a request with seed s gets a stream derived from (s, i).
static uint64_t sample_seed(uint64_t seed, uint64_t i) { return Rng(seed, i + 1).next(); }

static int run_sample(Args& args) {
  const Device device = usable_device(args.str("device", "cpu"));
  LoadedModel lm = load_model_dir(args.str("model"), device);
  bool has_text = args.has("prompt"), has_ids = args.has("prompt-ids");
  if (has_text == has_ids) throw Error("r1 sample: give exactly one of --prompt or --prompt-ids");
  std::string tmpl = args.str("template", "none");
  bool think = args.flag("think");
  Ids prompt;
  if (has_text) {
    std::vector<int> ids = lm.tokenizer.encode(format_prompt(tmpl, args.str("prompt"), think));
    prompt.assign(ids.begin(), ids.end());
  } else {
    for (int64_t x : args.int_list("prompt-ids")) prompt.push_back(int32_t(x));
  }
  int64_t n = args.integer("n", 1);
  if (n < 1) throw Error("r1 sample: --n must be >= 1");
  GenerateOptions opt;
  opt.sampling = sampling_flags(args);
  opt.max_new_tokens = args.integer("max-new-tokens", 128);
  opt.stop_strings = args.list("stop");
  opt.tokenizer = &lm.tokenizer;
  int eos = lm.tokenizer.token_id("<|endoftext|>");
  if (eos >= 0) opt.eos_ids.push_back(eos);
  uint64_t seed = uint64_t(args.integer("seed", 0));
  bool json = args.flag("json");
  args.finish();
  std::vector<uint64_t> seeds;
  for (int64_t i = 0; i < n; i++) seeds.push_back(sample_seed(seed, uint64_t(i)));
  std::vector<Generation> gens = generate(lm.model, std::vector<Ids>(size_t(n), prompt), seeds, opt);
  if (json) {
    Json samples = Json::array();
    for (const Generation& g : gens) {
      Json s = Json::object();
      s["ids"] = Json(g.tokens);
      s["text"] = lm.tokenizer.decode(std::vector<int>(g.tokens.begin(), g.tokens.end()));
      s["logprobs"] = Json(g.logprobs);
      s["finish"] = g.finish;
      samples.push_back(s);
    }
    Json out = Json::object();
    out["samples"] = samples;
    std::printf("%s\n", out.dump().c_str());
  } else {
    for (size_t i = 0; i < gens.size(); i++) {
      std::string text = lm.tokenizer.decode(std::vector<int>(gens[i].tokens.begin(), gens[i].tokens.end()));
      std::printf("--- sample %zu (%zu tokens, %s)\n%s\n", i, gens[i].tokens.size(), gens[i].finish.c_str(), text.c_str());
    }
  }
  return 0;
}

static const char* kChatUsage =
    "usage: r1 chat --model DIR [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--min-p P]\n"
    "               [--seed S] [--template chat|r1zero] [--think] [--device cpu|cuda]\n"
    "  Reads a line from stdin, streams the reply token by token, repeats until end of input.\n"
    "  Each turn is answered on its own (no history). Defaults: --template chat, --temperature 0.7,\n"
    "  --device cpu (cuda: generate on the GPU).";

static int run_chat(Args& args) {
  const Device device = usable_device(args.str("device", "cpu"));
  LoadedModel lm = load_model_dir(args.str("model"), device);
  GenerateOptions opt;
  SamplingParams p;
  p.temperature = float(args.number("temperature", 0.7));
  p.top_k = args.integer("top-k", 0);
  p.top_p = float(args.number("top-p", 1.0));
  p.min_p = float(args.number("min-p", 0.0));
  validate(p);
  opt.sampling = p;
  opt.max_new_tokens = args.integer("max-new-tokens", 256);
  std::string tmpl = args.str("template", "chat");
  bool think = args.flag("think");
  uint64_t seed = uint64_t(args.integer("seed", 0));
  args.finish();
  int eos = lm.tokenizer.token_id("<|endoftext|>");
  if (eos >= 0) opt.eos_ids.push_back(eos);
  std::string line;
  for (uint64_t turn = 0; std::fprintf(stderr, "> "), std::getline(std::cin, line); turn++) {
    std::vector<int> ids = lm.tokenizer.encode(format_prompt(tmpl, line, think));
    // Stream: write each token's bytes as soon as it is sampled (a character split across two
    // tokens is completed by the terminal when its last byte arrives).
    opt.on_token = [&](size_t, int32_t t) {
      if (t == eos) return;
      std::string bytes = lm.tokenizer.decode({t});
      std::fwrite(bytes.data(), 1, bytes.size(), stdout);
      std::fflush(stdout);
    };
    generate(lm.model, {Ids(ids.begin(), ids.end())}, {sample_seed(seed, turn)}, opt);
    std::printf("\n");
  }
  return 0;
}

static const bool registered_sample =
    register_command({"sample", "generate completions from a model", kSampleUsage, run_sample});
static const bool registered_chat = register_command({"chat", "interactive chat with a model", kChatUsage, run_chat});

}  // namespace r1
