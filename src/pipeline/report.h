// The run report: curves from metrics.jsonl files as SVG charts and a markdown summary with
// the held-out evaluation before and after RL. `r1 report` writes it; docs/reproduction.md
// quotes it.
#pragma once
#include <cstdint>
#include <string>

namespace r1 {

struct ReportInputs {
  std::string pretrain_run;  // optional: a `r1 pretrain` run folder
  std::string grpo_run;      // a `r1 grpo` run folder
  std::string out_dir;       // where report.md and the .svg files go
  int smooth = 5;            // moving-average window for per-step RL curves
  // Final evaluation (0 = skip): the base model (run_config.json's "model") and the GRPO run's
  // final model on ALL rows of each task's eval set, twice: final_eval_samples samples per row at
  // the run's eval temperature (seed final_eval_seed, a different seed from the periodic eval's),
  // and greedy (temperature 0). Greedy accuracy tells sharpening (sampled accuracy rising toward
  // the greedy one) from new ability (greedy accuracy rising too).
  int final_eval_samples = 0;
  uint64_t final_eval_seed = 7;
  int64_t final_eval_rows = 0;  // the first N rows of each eval set (0 = all); with K = 64, pass@1..64
                                // on a subset keeps the final evaluation affordable on a CPU
};

// Writes out_dir/report.md and one SVG per chart (and out_dir/final_eval.json with the final
// evaluation when asked for); returns the markdown text.
std::string write_report(const ReportInputs& in);

}  // namespace r1
