#!/usr/bin/env bash
# The GPU benchmarks of issue #10, r1 against PyTorch on the same model and batch, in one run:
#   1. training step tokens/s and TFLOP/s of the `small` preset's model (~100M parameters, MoE):
#      `r1 bench train` vs data/fixtures/model/bench_torch.py, eager and torch.compile
#   2. decode tokens/s at batch 1, 64 and 256: `r1 bench generate` vs data/bench/bench_generate_torch.py
# Each result is one JSON line on stdout (and in $OUT/bench_device.jsonl when OUT is set);
# a failing or timed-out command prints {"error": ...} and the script goes on.
#
# Usage (repository root, after building r1 with CUDA):
#   bash cuda/bench_device.sh [R1_BINARY]          default build/device/r1
# Environment: DEVICE (cuda; `cpu` dry-runs the script here), PRESET (data/presets/small.json),
# BATCH / SEQ (training batch, default 16 x 512), BATCHES (decode batches, default 1,64,256),
# PYTHON (python3 with torch >= 2.0 for --device cuda).
set -uo pipefail
cd "$(dirname "$0")/.."
R1=${1:-build/device/r1}
DEVICE=${DEVICE:-cuda}
PRESET=${PRESET:-data/presets/small.json}
BATCH=${BATCH:-16}
SEQ=${SEQ:-512}
BATCHES=${BATCHES:-1,64,256}
PYTHON=${PYTHON:-python3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
LOG=${OUT:+$OUT/bench_device.jsonl}
emit() { echo "$1"; [ -n "$LOG" ] && echo "$1" >> "$LOG"; return 0; }

# run NAME TIMEOUT COMMAND...: the command's last stdout line (its JSON) tagged with NAME.
run() {
  local name=$1 limit=$2
  shift 2
  local out
  if out=$(timeout "$limit" "$@" 2> "$W/err"); then
    emit "{\"bench\": \"$name\", \"result\": $(echo "$out" | tail -1)}"
  else
    emit "{\"bench\": \"$name\", \"error\": \"exit $? ($(tail -c 300 "$W/err" | tr '\n"\\' '   '))\"}"
  fi
}

# The preset's model with the tokenizer's vocabulary size, random weights.
"$PYTHON" - "$PRESET" "$W/config.json" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
c = dict(p["model"], vocab_size=p["tokenizer"]["vocab_size"])
json.dump(c, open(sys.argv[2], "w"))
EOF
"$R1" init --config "$W/config.json" --out "$W/model" --json || { emit '{"error": "r1 init failed"}'; exit 1; }

run "train r1 $DEVICE" 120 "$R1" bench train --model "$W/model" --batch "$BATCH" --seq "$SEQ" --steps 10 \
  --device "$DEVICE" --json
run "train torch eager $DEVICE" 120 "$PYTHON" data/fixtures/model/bench_torch.py --config "$W/model/config.json" \
  --batch "$BATCH" --seq "$SEQ" --steps 10 --device "$DEVICE"
if [ "$DEVICE" = cuda ]; then
  run "train torch compile $DEVICE" 240 "$PYTHON" data/fixtures/model/bench_torch.py --config "$W/model/config.json" \
    --batch "$BATCH" --seq "$SEQ" --steps 10 --device "$DEVICE" --compile
fi
for b in ${BATCHES//,/ }; do
  run "generate r1 $DEVICE batch $b" 60 "$R1" bench generate --model "$W/model" --batch "$b" --prompt-len 32 \
    --new-tokens 64 --device "$DEVICE" --json
  run "generate torch $DEVICE batch $b" 60 "$PYTHON" data/bench/bench_generate_torch.py --model "$W/model" \
    --batch "$b" --prompt-len 32 --new-tokens 64 --device "$DEVICE"
done
