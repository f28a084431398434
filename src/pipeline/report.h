// The run report: curves from metrics.jsonl files as SVG charts and a markdown summary with
// the held-out evaluation before and after RL. `r1 report` writes it; docs/reproduction.md
// quotes it.
#pragma once
#include <string>

namespace r1 {

struct ReportInputs {
  std::string pretrain_run;  // optional: a `r1 pretrain` run folder
  std::string grpo_run;      // a `r1 grpo` run folder
  std::string out_dir;       // where report.md and the .svg files go
  int smooth = 5;            // moving-average window for per-step RL curves
};

// Writes out_dir/report.md and one SVG per chart; returns the markdown text.
std::string write_report(const ReportInputs& in);

}  // namespace r1
