// `r1 rejection-sample`: sample K completions per prompt from a model, keep the correct,
// well-formed, single-language, not overlong ones (rl/rejection.h), add general SFT rows
// (tasks/sft_data.h), and write the SFT set of the R1 recipe's stage 3.
#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "rl/rejection.h"
#include "tasks/sft_data.h"
#include "tasks/tasks.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 rejection-sample --model DIR --out DIR (--data ROWS.jsonl | --tasks T1,T2 --n N)\n"
    "              [--k K] [--temperature T] [--top-p P] [--max-new-tokens N] [--template chat|r1zero]\n"
    "              [--keep-per-prompt N] [--min-language F] [--max-length N] [--general N] [--seed S]\n"
    "              [--threads N] [--device cpu|cuda] [--json]\n"
    "  Samples K completions per prompt (rows from --data, or the first N train-split rows of each task\n"
    "  in --tasks, seed --seed) and keeps those that are correct, in the R1 layout, in one language\n"
    "  (chain-of-thought language consistency >= --min-language) and not overlong (ended by themselves,\n"
    "  within --max-length tokens when > 0), at most --keep-per-prompt distinct ones per prompt.\n"
    "  Writes OUT/ (atomically, as a whole): kept.jsonl (SFT rows), samples.jsonl (every completion\n"
    "  with its verdicts), stats.json (acceptance per task and rejections per filter), and\n"
    "  sft_data.jsonl = kept rows + --general N general (non-reasoning) SFT rows, interleaved.\n"
    "  Defaults: --k 4 --temperature 1 --top-p 1 --max-new-tokens 128 --template chat\n"
    "  --keep-per-prompt 1 --min-language 1 --max-length 0 --general 0 --seed 0.";

static int run(Args& args) {
  std::string model_dir = args.str("model"), out = args.str("out");
  std::string data = args.str("data", "");
  std::vector<std::string> tasks = args.list("tasks", "");
  int64_t n = args.integer("n", 0);
  RejectionOptions opt;
  opt.sampling.n_samples = args.integer("k", 4);
  opt.sampling.sampling.temperature = float(args.number("temperature", 1.0));
  opt.sampling.sampling.top_p = float(args.number("top-p", 1.0));
  validate(opt.sampling.sampling);
  opt.sampling.max_new_tokens = args.integer("max-new-tokens", 128);
  opt.sampling.template_kind = args.str("template", "chat");
  opt.sampling.seed = uint64_t(args.integer("seed", 0));
  opt.keep_per_prompt = args.integer("keep-per-prompt", 1);
  opt.min_language = args.number("min-language", 1.0);
  opt.max_length = args.integer("max-length", 0);
  int64_t general = args.integer("general", 0);
  set_threads(args.integer("threads", 0));
  std::string device_flag = args.str("device", "cpu");
  bool json = args.flag("json");
  args.finish();
  const Device device = usable_device(device_flag);
  if (data.empty() == tasks.empty()) throw Error("r1 rejection-sample: give either --data or --tasks (with --n)");
  if (!tasks.empty() && n < 1) throw Error("r1 rejection-sample: --tasks needs --n >= 1");
  if (opt.sampling.n_samples < 1) throw Error("r1 rejection-sample: --k must be >= 1");
  if (general < 0) throw Error("r1 rejection-sample: --general must be >= 0");

  std::vector<Json> rows;
  if (!data.empty()) {
    std::vector<int64_t> lines;
    rows = read_jsonl(data, &lines);
    for (size_t i = 0; i < rows.size(); i++)
      for (const char* f : {"task", "prompt", "answer"})
        if (!rows[i].contains(f)) throw Error(cat(data, ":", lines[i], ": missing field '", f, "'"));
  } else {
    for (const std::string& t : tasks) {
      std::vector<Json> part = generate_tasks(t, n, opt.sampling.seed, 1, Split::Train);
      rows.insert(rows.end(), part.begin(), part.end());
    }
  }
  Transformer model = load_model(model_dir);
  model.to(device);
  Tokenizer tok = Tokenizer::load(model_dir + "/tokenizer.json");
  RejectionResult res = rejection_sample(model, tok, rows, opt);

  // sft_data.jsonl: the kept rows with the general rows spread evenly between them, so that the
  // last rows `r1 sft` holds out (--heldout-frac) are a mix of both kinds.
  std::vector<Json> gen_rows = general_sft_rows(general, opt.sampling.seed + 1);
  std::string sft;
  size_t total = res.kept.size() + gen_rows.size(), gi = 0, ki = 0;
  for (size_t i = 0; i < total; i++) {
    bool take_general = gi < gen_rows.size() && (ki >= res.kept.size() || (gi + 1) * total <= (i + 1) * gen_rows.size());
    sft += (take_general ? gen_rows[gi++] : res.kept[ki++]).dump() + "\n";
  }
  auto lines_of = [](const std::vector<Json>& v) {
    std::string s;
    for (const Json& j : v) s += j.dump() + "\n";
    return s;
  };
  Json stats = res.stats;
  stats["general_rows"] = general;
  stats["sft_rows"] = int64_t(total);
  replace_dir_atomic(out, [&](const std::string& dir) {
    write_file_atomic(dir + "/kept.jsonl", lines_of(res.kept));
    write_file_atomic(dir + "/samples.jsonl", lines_of(res.samples));
    write_file_atomic(dir + "/stats.json", stats.dump(2) + "\n");
    write_file_atomic(dir + "/sft_data.jsonl", sft);
  });
  if (json) {
    std::printf("%s\n", stats.dump().c_str());
  } else {
    std::printf("%-10s %7s %8s %8s %6s   rejected by: correct format language length\n", "task", "prompts", "samples",
                "accepted", "kept");
    auto line = [](const std::string& name, const Json& c) {
      const Json& r = c.at("rejected_by");
      std::printf("%-10s %7lld %8lld %8.3f %6lld   %lld %lld %lld %lld\n", name.c_str(), (long long)c.at("prompts").as_int(),
                  (long long)c.at("samples").as_int(), c.at("acceptance_rate").as_number(), (long long)c.at("kept").as_int(),
                  (long long)r.at("correct").as_int(), (long long)r.at("format").as_int(),
                  (long long)r.at("language").as_int(), (long long)r.at("length").as_int());
    };
    for (const auto& [name, c] : stats.at("tasks").as_object()) line(name, c);
    line("overall", stats.at("overall"));
    std::printf("wrote %s/sft_data.jsonl (%zu kept + %lld general rows)\n", out.c_str(), res.kept.size(), (long long)general);
  }
  return 0;
}

static const bool registered = register_command(
    {"rejection-sample", "sample K completions per prompt, keep the good ones as SFT data (R1 stage 3)", kUsage, run});

}  // namespace r1
