// The report of the whole R1 recipe: `r1 pipeline` leaves a run folder, `r1 report --recipe RUN`
// turns it into RUN/report.md and RUN/recipe_*.svg. Sections: stage times; a results table in the
// shape of the paper's (nine models x reasoning pass@1 per task, pass@k, general-prompt gold score,
// format, language consistency, response length) with the command that re-measures a cell; curves
// over the steps of every RL stage, of the reward model and of the pretraining/SFT stages (held-out
// loss); response length by problem difficulty before and after RL; rejection-sampling statistics;
// sample completions; and the paper's claims, each marked reproduced / not reproduced at this scale
// / not measured.
//
// Inputs, all under RUN (see docs/cli.md, `r1 pipeline`): pipeline.json, <stage>/metrics.jsonl,
// rejection/stats.json, eval/<model>.json and eval/<model>.generations.jsonl. Missing stages and
// models are reported as missing; a malformed file throws r1::Error naming it (file:line for JSONL).
// Does not do: run any model or evaluation (every number comes from the files), compare runs.
#pragma once
#include <string>

namespace r1 {

// Writes RUN/report.md and RUN/*.svg from the run folder; returns the markdown.
std::string write_recipe_report(const std::string& run_dir);

}  // namespace r1
