#!/usr/bin/env bash
# Regenerates the frozen held-out eval sets (500 rows per task, difficulty 1, the eval
# split, seed 1000000007, which training never uses). Run from the repository root after
# `make`. tests/test_tasks.cpp checks the committed files still match the generators.
set -euo pipefail
for task in arith countdown linear code general; do
  build/r1 data gen --task "$task" --n 500 --seed 1000000007 --difficulty 1 --split eval \
    --out "data/eval/$task.jsonl"
done
# The search task (issue #17): 200 eval rows per difficulty level, and search.jsonl interleaving
# them (d1, d2, d3, d1, ...) so that its first N rows hold every level equally.
for d in 1 2 3; do
  build/r1 data gen --task search --n 200 --seed 1000000007 --difficulty "$d" --split eval \
    --out "data/eval/search_d$d.jsonl"
done
paste -d '\n' data/eval/search_d1.jsonl data/eval/search_d2.jsonl data/eval/search_d3.jsonl > data/eval/search.jsonl
