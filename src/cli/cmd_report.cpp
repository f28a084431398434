// `r1 report`: markdown + SVG charts from run folders: one R1-Zero run (pipeline/report.h) or a
// whole `r1 pipeline` run (pipeline/recipe_report.h).
#include <cstdio>

#include "cli/command.h"
#include "pipeline/recipe_report.h"
#include "pipeline/report.h"
#include "util/error.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 report --grpo RUN_DIR [--pretrain RUN_DIR] --out DIR [--smooth W]\n"
    "                 [--final-eval K] [--final-eval-seed S] [--final-eval-rows N]\n"
    "       r1 report --recipe RUN_DIR\n"
    "  Reads metrics.jsonl of the runs and writes DIR/report.md with the held-out pass@1 before and\n"
    "  after GRPO per task, and SVG charts: pretraining loss, held-out pass@1, reward/accuracy/format,\n"
    "  response length (correct vs incorrect), reflection words per 1k tokens, KL and entropy.\n"
    "  --smooth: moving-average window for per-step RL curves (default 5).\n"
    "  --final-eval K: also evaluate the base model (the GRPO run's starting point) and the GRPO model on\n"
    "  every row of the run's eval sets, K samples per row at the run's eval temperature (seed S, default\n"
    "  7) and greedily; adds a table to report.md (with K > 1 also pass@k for k = 1..K, unbiased) and writes\n"
    "  DIR/final_eval.json (default 0 = skip). --final-eval-rows N: only the first N rows of each eval set.\n"
    "  Runs whose evaluations record difficulty levels (the search task) get a table and curves by level,\n"
    "  and runs with the emergence metrics charts of candidates tried and reflection words (correct vs\n"
    "  incorrect; docs/reproduction.md).\n"
    "  --recipe: the report of a whole `r1 pipeline` run folder, written to RUN_DIR/report.md and\n"
    "  RUN_DIR/recipe_*.svg: stage times, the results table of every model (pass@1 per task, pass@k,\n"
    "  general gold score, format, language, length), curves over the RL steps, response length by\n"
    "  difficulty, rejection sampling, sample completions and the paper's claims checked against the\n"
    "  numbers. Prints the path of report.md.";

static int run(Args& args) {
  if (args.has("recipe")) {
    std::string dir = args.str("recipe");
    args.finish();
    write_recipe_report(dir);
    std::printf("%s/report.md\n", dir.c_str());
    return 0;
  }
  ReportInputs in;
  in.grpo_run = args.str("grpo");
  in.pretrain_run = args.str("pretrain", "");
  in.out_dir = args.str("out");
  in.smooth = int(args.integer("smooth", 5));
  in.final_eval_samples = int(args.integer("final-eval", 0));
  in.final_eval_seed = uint64_t(args.integer("final-eval-seed", 7));
  in.final_eval_rows = args.integer("final-eval-rows", 0);
  args.finish();
  if (in.final_eval_samples < 0) throw Error("--final-eval: must be >= 0");
  if (in.final_eval_rows < 0) throw Error("--final-eval-rows: must be >= 0");
  std::string md = write_report(in);
  std::fputs(md.c_str(), stdout);
  return 0;
}

static const bool registered = register_command({"report", "markdown report and SVG charts from run folders", kUsage, run});

}  // namespace r1
