#!/usr/bin/env bash
# `make run`: the first milestone end to end on a CPU.
#   1. r1 pretrain  grows a tiny MoE base model from the synthetic corpus (data/presets/tiny.json)
#   2. r1 grpo      R1-Zero: GRPO from that base with rule-based rewards (data/presets/grpo_tiny.json),
#                   with held-out pass@1 measured before, during and after
#   3. r1 report    markdown + SVG curves in $OUT/report/, and a final evaluation of the base and
#                   the GRPO model on every eval row (4 samples per row, and greedy)
# Each stage is skipped when its model already exists and resumed when its run folder has a
# checkpoint, so an interrupted `make run` continues where it stopped.
# Environment: OUT (default runs), THREADS (default: all cores), OMP_WAIT_POLICY (default
# passive: libgomp's spinning threads slow small models 5-20x on a busy 2-core machine;
# see docs/perf.md).
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
R1=build/r1
OUT=${OUT:-runs}
THREADS=${THREADS:-$(nproc)}
mkdir -p "$OUT"

# stage NAME RUN_DIR COMMAND...: runs, resumes or skips one stage.
stage() {
  local name=$1 dir=$2
  shift 2
  if [ -f "$dir/model/model.safetensors" ]; then
    echo "== $name: done already ($dir/model)"
  elif [ -d "$dir/checkpoints" ]; then
    echo "== $name: resuming $dir"
    "$@" --resume
  else
    rm -rf "$dir"
    echo "== $name: $*"
    "$@"
  fi
}

start=$(date +%s)
stage "pretrain" "$OUT/tiny-base" \
  $R1 pretrain --config data/presets/tiny.json --out "$OUT/tiny-base" --threads "$THREADS"
t1=$(date +%s)
stage "grpo" "$OUT/tiny-zero" \
  $R1 grpo --model "$OUT/tiny-base/model" --config data/presets/grpo_tiny.json --out "$OUT/tiny-zero" --threads "$THREADS"
t2=$(date +%s)
$R1 report --pretrain "$OUT/tiny-base" --grpo "$OUT/tiny-zero" --out "$OUT/report" --final-eval 4 > /dev/null
t3=$(date +%s)
echo "== pretrain $((t1 - start)) s, grpo $((t2 - t1)) s, report $((t3 - t2)) s"
echo "== report: $OUT/report/report.md"
grep '^|' "$OUT/report/report.md" || true
