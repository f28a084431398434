// `r1 eval`: sampling-based evaluation of a model on task rows (see rl/eval.h).
#include <cstdio>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "rl/eval.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 eval --model DIR --data FILE.jsonl [--n-samples K] [--temperature T] [--top-p P] [--top-k K]\n"
    "               [--max-new-tokens N] [--template r1zero|chat|none] [--limit N] [--seed S] [--batch B]\n"
    "               [--generations OUT.jsonl] [--device cpu|cuda] [--json]\n"
    "  Samples K completions per row and scores them with the rule-based verifiers (docs/rewards.md).\n"
    "  Reports per task: pass@1 (mean over the K samples), pass@K, format rate (with --template chat:\n"
    "  the R1 layout, a summary may precede <answer>), language consistency of the chain of thought\n"
    "  (share of words in the target script, over chains of thought with words), mixed (share of\n"
    "  samples with a word in another script; docs/rewards.md), mean response length\n"
    "  (all / correct / incorrect, in tokens), rows by difficulty (rows with a \"difficulty\" field), candidates\n"
    "  tried per completion, reflection words per 1k tokens (correct / incorrect) and, with K > 1, the\n"
    "  unbiased pass@k for k = 1..K (--json: every k; docs/reproduction.md). Defaults: --n-samples 1 --temperature 1 --max-new-tokens 128\n"
    "  --template r1zero --seed 0 --batch 64; --limit 0 = all rows. Generations go to\n"
    "  --generations (default: FILE's name with .generations.jsonl, in the model directory).\n"
    "  --device cuda generates on the GPU (default cpu).";

static int run(Args& args) {
  std::string model_dir = args.str("model"), data = args.str("data");
  EvalOptions opt;
  opt.n_samples = args.integer("n-samples", 1);
  opt.sampling.temperature = float(args.number("temperature", 1.0));
  opt.sampling.top_p = float(args.number("top-p", 1.0));
  opt.sampling.top_k = args.integer("top-k", 0);
  validate(opt.sampling);
  opt.max_new_tokens = args.integer("max-new-tokens", 128);
  opt.template_kind = args.str("template", "r1zero");
  opt.seed = uint64_t(args.integer("seed", 0));
  opt.batch = args.integer("batch", 64);
  int64_t limit = args.integer("limit", 0);
  std::string base = data.substr(data.find_last_of('/') + 1);
  std::string gen_path = args.str("generations", model_dir + "/" + base.substr(0, base.rfind('.')) + ".generations.jsonl");
  bool json = args.flag("json");
  std::string device_flag = args.str("device", "cpu");
  args.finish();
  const Device device = usable_device(device_flag);
  Transformer model = load_model(model_dir, WeightMemory::Inference);  // BF16/FP8 matrices stay BF16
  model.to(device);
  Tokenizer tok = Tokenizer::load(model_dir + "/tokenizer.json");
  if (tok.vocab_size() > model.config().vocab_size)
    throw Error(cat(model_dir, ": tokenizer has ", tok.vocab_size(), " tokens but the model's vocab_size is ",
                    model.config().vocab_size));
  std::vector<int64_t> row_lines;  // (rows) file line of each row
  std::vector<Json> rows = read_jsonl(data, &row_lines);
  for (size_t i = 0; i < rows.size(); i++)
    for (const char* f : {"task", "prompt", "answer"})
      if (!rows[i].contains(f)) throw Error(cat(data, ":", row_lines[i], ": missing field '", f, "'"));
  if (limit > 0 && size_t(limit) < rows.size()) rows.resize(size_t(limit));
  EvalResult res = evaluate(model, tok, rows, opt);
  std::string lines;
  for (const Json& g : res.generations) lines += g.dump() + "\n";
  write_file_atomic(gen_path, lines);
  if (json) {
    Json out = res.to_json();
    out["generations"] = gen_path;
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("%-10s %6s %8s %8s %8s %8s %8s %8s\n", "task", "rows", "pass@1", "pass@k", "format", "language", "mixed",
                "length");
    auto line = [](const std::string& name, const TaskScore& s) {
      std::printf("%-10s %6lld %8.3f %8.3f %8.3f %8.3f %8.3f %8.1f\n", name.c_str(), (long long)s.rows, s.pass1, s.passk,
                  s.format_rate, s.language, s.mixed_rate, s.mean_length);
    };
    for (const auto& [name, s] : res.tasks) line(name, s);
    for (const auto& [name, s] : res.difficulties) line(name, s);
    line("overall", res.overall);
    std::printf("candidates per completion %.2f; reflection words per 1k tokens: correct %.2f, incorrect %.2f\n",
                res.overall.candidates, res.overall.reflection_per_1k_correct, res.overall.reflection_per_1k_incorrect);
    if (opt.n_samples > 1) {
      std::printf("pass@k (unbiased):");
      for (size_t k = 1; k <= res.overall.pass_at_k.size(); k *= 2) std::printf(" k=%zu %.3f", k, res.overall.pass_at_k[k - 1]);
      std::printf("\n");
    }
    std::printf("generations: %s\n", gen_path.c_str());
  }
  return 0;
}

static const bool registered = register_command({"eval", "pass@1 / pass@k / format rate of a model on task rows", kUsage, run});

}  // namespace r1
