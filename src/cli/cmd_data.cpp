// `r1 data gen`: writes procedurally generated task rows (tasks/) as JSONL. The frozen
// eval sets under data/eval/ are made with this command (see docs/tasks.md).
// `r1 data corpus`: writes the synthetic pretraining corpus (tasks/corpus.h, docs/data.md).
// `r1 data cold-start` / `r1 data general-sft`: SFT rows of the R1 recipe (tasks/sft_data.h).
// `r1 data prefs`: writes preference pairs for the reward model (tasks/preferences.h).
// Does not do: tokenization.
#include <cstdio>

#include "cli/command.h"
#include "tasks/corpus.h"
#include "tasks/sft_data.h"
#include "tasks/preferences.h"
#include "tasks/tasks.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 data gen --task NAME --n N --seed S [--difficulty D] [--split S] --out FILE.jsonl [--json]\n"
    "  --task        arith | countdown | linear | code | general | search\n"
    "  --n           number of rows (row i depends only on seed, i and difficulty)\n"
    "  --seed        generator seed (the eval sets use seed 1000000007; train with others)\n"
    "  --difficulty  1 = the default, learnable by a tiny model; arith and countdown 1..4,\n"
    "                linear and code 1..3, search 0..3 (0 = mixed)\n                (docs/tasks.md lists what each level means)\n"
    "  --split       train (default) | eval | all: rows whose prompt hashes to the eval split\n"
    "                (1 in 5) are never in train, so eval sets stay unseen whatever the seeds\n"
    "  --out         output JSONL file, written atomically\n"
    "  --json        print {\"task\", \"n\", \"seed\", \"difficulty\", \"split\", \"out\"} on stdout\n"
    "\n"
    "usage: r1 data corpus --n-docs N --seed S --out FILE.txt|FILE.jsonl [--config CORPUS.json]\n"
    "  The synthetic pretraining corpus (docs/data.md): worked solutions of train-split task rows in\n"
    "  several reasoning styles and document formats. .txt: one document per line (newlines inside a\n"
    "  document are escaped as \\n); .jsonl: {\"text\": ...} per line. CORPUS.json holds mix knobs (the\n"
    "  \"corpus\" section of data/presets/tiny.json); --n-docs and --seed override it.\n"
    "\n"
    "usage: r1 data cold-start --n N --seed S --tasks T1,T2 --out FILE.jsonl\n"
    "       r1 data general-sft --n N --seed S --out FILE.jsonl\n"
    "  SFT rows {\"messages\": [...]} for the R1 recipe (docs/data.md): cold-start rows are long,\n"
    "  readable chains of thought in the R1 layout (<think> ... </think> summary <answer> ... </answer>)\n"
    "  over train-split rows of the reasoning tasks (taken in turn); general-sft rows answer general\n"
    "  (non-reasoning) prompts in the same layout.\n"
    "\n"
    "usage: r1 data prefs --n N --seed S --out FILE.jsonl [--difficulty D] [--split S]\n"
    "  Preference pairs over general prompts for r1 rm train (docs/rewards.md): rows {\"task\", \"prompt\",\n"
    "  \"answer\", \"chosen\", \"rejected\", \"kind\"}; kind = why the rejected reply is worse (wrong,\n"
    "  truncated, off_topic, bad_format). Pair i depends only on seed, i, difficulty and split.\n"
    "  --difficulty 1..3 (default 1); --split train (default) | eval | all, as for r1 data gen.";

static int run_gen(Args& args) {
  std::string task = args.str("task");
  int64_t n = args.integer("n");
  int64_t seed = args.integer("seed");
  int64_t difficulty = args.integer("difficulty", kDefaultDifficulty);
  Split split = parse_split(args.str("split", "train"));
  std::string out = args.str("out");
  bool json = args.flag("json");
  args.finish();
  check(n >= 0, "r1 data gen: --n must be >= 0, got ", n);
  check(seed >= 0, "r1 data gen: --seed must be >= 0, got ", seed);
  std::vector<Json> rows = generate_tasks(task, n, uint64_t(seed), int(difficulty), split);
  std::string text;
  for (const Json& row : rows) text += row.dump() + "\n";
  write_file_atomic(out, text);
  if (json) {
    std::printf("%s\n", Json(Json::Object{{"task", task}, {"n", n}, {"seed", seed}, {"difficulty", difficulty},
                                          {"split", args.str("split", "train")}, {"out", out}})
                            .dump()
                            .c_str());
  } else {
    std::fprintf(stderr, "wrote %lld %s rows (seed %lld, difficulty %lld) to %s\n", (long long)n, task.c_str(),
                 (long long)seed, (long long)difficulty, out.c_str());
  }
  return 0;
}

static int run_corpus(Args& args) {
  Json cfg_json = args.has("config") ? Json::parse_file(args.str("config")) : Json::object();
  if (args.has("n-docs")) cfg_json["n_docs"] = args.integer("n-docs");
  if (args.has("seed")) cfg_json["seed"] = args.integer("seed");
  std::string out = args.str("out");
  args.finish();
  CorpusConfig cfg = CorpusConfig::from_json(cfg_json, "corpus config");
  bool jsonl = out.size() > 6 && out.substr(out.size() - 6) == ".jsonl";
  std::string text;
  for (const std::string& doc : generate_corpus(cfg)) {
    if (jsonl) {
      text += Json(Json::Object{{"text", doc}}).dump() + "\n";
      continue;
    }
    for (char c : doc) text += c == '\n' ? std::string("\\n") : std::string(1, c);
    text += "\n";
  }
  write_file_atomic(out, text);
  std::fprintf(stderr, "wrote %lld corpus documents (seed %lld) to %s\n", (long long)cfg.n_docs, (long long)cfg.seed,
               out.c_str());
  return 0;
}

static int run_sft_rows(Args& args, bool cold_start) {
  int64_t n = args.integer("n"), seed = args.integer("seed");
  std::vector<std::string> tasks = cold_start ? args.list("tasks") : std::vector<std::string>{};
  std::string out = args.str("out");
  args.finish();
  check(n >= 1, "r1 data: --n must be >= 1, got ", n);
  check(seed >= 0, "r1 data: --seed must be >= 0, got ", seed);
  std::vector<Json> rows = cold_start ? cold_start_rows(n, uint64_t(seed), tasks) : general_sft_rows(n, uint64_t(seed));
  std::string text;
  for (const Json& row : rows) text += row.dump() + "\n";
  write_file_atomic(out, text);
  std::fprintf(stderr, "wrote %lld %s rows to %s\n", (long long)n, cold_start ? "cold-start" : "general SFT", out.c_str());
  return 0;
}

static int run_prefs(Args& args) {
  int64_t n = args.integer("n");
  int64_t seed = args.integer("seed");
  int64_t difficulty = args.integer("difficulty", kDefaultDifficulty);
  Split split = parse_split(args.str("split", "train"));
  std::string out = args.str("out");
  args.finish();
  check(n >= 0, "r1 data prefs: --n must be >= 0, got ", n);
  check(seed >= 0, "r1 data prefs: --seed must be >= 0, got ", seed);
  std::string text;
  for (const PreferencePair& p : generate_preference_pairs(n, uint64_t(seed), int(difficulty), split))
    text += p.to_json().dump() + "\n";
  write_file_atomic(out, text);
  std::fprintf(stderr, "wrote %lld preference pairs (seed %lld, difficulty %lld) to %s\n", (long long)n,
               (long long)seed, (long long)difficulty, out.c_str());
  return 0;
}

static int run_data(Args& args) {
  std::string sub = args.next_positional("subcommand (gen, corpus, cold-start, general-sft, prefs)");
  if (sub == "gen") return run_gen(args);
  if (sub == "corpus") return run_corpus(args);
  if (sub == "cold-start") return run_sft_rows(args, true);
  if (sub == "general-sft") return run_sft_rows(args, false);
  if (sub == "prefs") return run_prefs(args);
  throw Error(cat("r1 data: unknown subcommand '", sub, "'\n", kUsage));
}

static const bool registered =
    register_command({"data", "task rows, the pretraining corpus, SFT rows and preference pairs (r1 data gen/corpus/cold-start/general-sft/prefs)",
                      kUsage, run_data});

}  // namespace r1
