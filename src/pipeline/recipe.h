// The DeepSeek-R1 recipe, end to end: `r1 pipeline --preset tiny --out runs/tiny`.
//
//   stage            what it runs (each stage is a documented r1 command)          R1 paper
//   teacher-base     r1 pretrain: the MoE teacher base model                      DeepSeek-V3-Base
//   student-base     r1 pretrain: a dense student base, the teacher's tokenizer   Qwen2.5 / Llama bases
//   r1-zero          r1 grpo from the teacher base: accuracy + format rewards     2.2, R1-Zero
//   cold-start-data  r1 data cold-start: readable chains of thought               2.3.1
//   cold-start       r1 sft: the teacher base on the cold-start rows              2.3.1
//   reasoning-rl     r1 grpo from cold-start: + the language-consistency reward   2.3.2
//   rejection        r1 rejection-sample: K samples per prompt from reasoning-rl,
//                    the good ones + general SFT rows = sft_data.jsonl            2.3.3
//   rs-sft           r1 sft: the teacher *base* on sft_data.jsonl                 2.3.3
//   rm-data, rm      r1 data prefs; r1 rm train: a neural reward model           2.3.4
//   alignment-rl     r1 grpo from rs-sft: rules for reasoning prompts, the reward
//                    model for general prompts ("R1 final")                      2.3.4
//   distill          r1 sft: the student base on sft_data.jsonl                  2.4
//   student-rl       r1 grpo from the student base with the distillation's
//                    token count as its budget (equal compute)                    4.1
//   eval             every model on the frozen eval sets (rl/eval.h)
//   report           RUN/report.md (pipeline/recipe_report.h)
//
// Stages talk only through run folders (model dirs, JSONL files, metrics), so any stage can be
// re-run or replaced by hand with the command the pipeline prints for it. A stage whose output
// is complete is skipped; one with checkpoints is resumed (--resume); otherwise its folder is
// started afresh. RUN/pipeline.json records each stage's status and wall time.
//
// The preset (data/presets/recipe_<name>.json) has one section per stage; a section that is a
// string names a JSON file holding it (e.g. "teacher": "data/presets/tiny.json").
// Does not do: run stages in parallel, or on several machines.
#pragma once
#include <string>

namespace r1 {

struct RecipeOptions {
  std::string preset;       // a file path, or a name NAME for data/presets/recipe_NAME.json
  std::string out;          // RUN folder
  int64_t threads = 0;      // passed to every stage (0 = all cores)
  std::string device = "cpu";
  std::string until;        // stop after this stage ("" = run all)
  bool dry_run = false;     // print each stage's command (or "skip") on stdout; run and write nothing
};

// Runs (or resumes) the recipe; returns the path of the report ("" with --until or a dry run).
std::string run_recipe(const RecipeOptions& opt);

// The preset file a --preset value names.
std::string recipe_preset_path(const std::string& preset);

}  // namespace r1
