#!/usr/bin/env bash
# Regenerates the frozen held-out eval sets (500 rows per task, difficulty 1, the eval
# split, seed 1000000007, which training never uses). Run from the repository root after
# `make`. tests/test_tasks.cpp checks the committed files still match the generators.
set -euo pipefail
for task in arith countdown linear code general; do
  build/r1 data gen --task "$task" --n 500 --seed 1000000007 --difficulty 1 --split eval \
    --out "data/eval/$task.jsonl"
done
