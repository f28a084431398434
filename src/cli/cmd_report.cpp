// `r1 report`: markdown + SVG charts from run folders (pipeline/report.h).
#include <cstdio>

#include "cli/command.h"
#include "pipeline/report.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 report --grpo RUN_DIR [--pretrain RUN_DIR] --out DIR [--smooth W]\n"
    "  Reads metrics.jsonl of the runs and writes DIR/report.md with the held-out pass@1 before and\n"
    "  after GRPO per task, and SVG charts: pretraining loss, held-out pass@1, reward/accuracy/format,\n"
    "  response length (correct vs incorrect), reflection words per 1k tokens, KL and entropy.\n"
    "  --smooth: moving-average window for per-step RL curves (default 5).";

static int run(Args& args) {
  ReportInputs in;
  in.grpo_run = args.str("grpo");
  in.pretrain_run = args.str("pretrain", "");
  in.out_dir = args.str("out");
  in.smooth = int(args.integer("smooth", 5));
  args.finish();
  std::string md = write_report(in);
  std::fputs(md.c_str(), stdout);
  return 0;
}

static const bool registered = register_command({"report", "markdown report and SVG charts from run folders", kUsage, run});

}  // namespace r1
