// `r1 pipeline`: the whole DeepSeek-R1 recipe in one command (pipeline/recipe.h).
#include <cstdio>

#include "cli/command.h"
#include "model/device.h"
#include "pipeline/recipe.h"
#include "util/error.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 pipeline --preset NAME|FILE.json --out RUN [--threads N] [--device cpu|cuda] [--until STAGE]\n"
    "                   [--dry-run]\n"
    "  The DeepSeek-R1 recipe end to end (docs/pipeline.md): teacher and student base models, R1-Zero,\n"
    "  cold-start SFT, reasoning RL, rejection sampling + SFT, reward model + alignment RL, distillation\n"
    "  and student RL at equal compute, then every model on the frozen eval sets and RUN/report.md.\n"
    "  --preset NAME reads data/presets/recipe_NAME.json (tiny: the 2-core CPU run of `make run`;\n"
    "  micro: seconds, for tests; small: the 105M model, for a GPU or a long CPU run).\n"
    "  Each stage runs the r1 command it prints (in RUN/<stage>/), is skipped when its output exists,\n"
    "  and resumes from its checkpoints when interrupted: run the same command again to continue.\n"
    "  --until STAGE stops after that stage (e.g. --until teacher-base). RUN/pipeline.json records\n"
    "  each stage's command, status and wall time.\n"
    "  --dry-run checks the preset and prints, one line per stage, the command a run would execute now\n"
    "  (or 'skip' when the stage's output exists), and writes nothing.";

static int run(Args& args) {
  RecipeOptions opt;
  opt.preset = args.str("preset");
  opt.out = args.str("out");
  opt.threads = args.integer("threads", 0);
  opt.device = args.str("device", "cpu");
  opt.until = args.str("until", "");
  opt.dry_run = args.flag("dry-run");
  args.finish();
  usable_device(opt.device);  // fails before anything is written
  set_threads(opt.threads);
  std::string report = run_recipe(opt);
  if (!report.empty()) std::printf("report: %s\n", report.c_str());
  return 0;
}

static const bool registered =
    register_command({"pipeline", "the whole R1 recipe: bases, R1-Zero, cold start, RL, rejection SFT, RM, distillation",
                      kUsage, run});

}  // namespace r1
