#!/usr/bin/env bash
# Everything in the CUDA backend that needs a GPU (see docs/cuda.md), in two parts that each fit
# one call of the device tool (<= 10 minutes; a session has 15 minutes of device time in all):
#   tests  1. build r1 and r1_tests with CUDA (in build/device, so a CPU-only build/ is never mixed in)
#          2. the CUDA parity tests (r1_tests --gtest_filter='Cuda*'); they must run, not skip
#          3. the CPU op, autograd and --device tests on the CUDA build (they must still pass there)
#   bench  4. `r1 bench gemm --device cuda` (fp32 and TF32), cuda/tools/bench_cuda.cu (cuBLAS sgemm,
#             elementwise, reductions and row-op bandwidth), cuda/tools/bench_attention.cu (fused
#             attention forward/backward, AdamW, grad norm, sampling)
#          5. cuda/bench_device.sh: r1 vs PyTorch eager / torch.compile on the `small` preset's model,
#             training tokens/s and decode tokens/s at batch 1, 64, 256 (JSON lines)
#   (bench builds first when build/device has no binaries, e.g. on a fresh machine)
# Everything goes to one log: $OUT/device_checks.log when OUT is set, else build/device/device_checks.log
# (appended to, so the two parts of a session end up in one file).
# Usage (from the repository root): bash cuda/run_device_checks.sh [tests|bench|all]   (default all)
# Exit status: 0 when the build and every test passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build/device
mkdir -p "$BUILD"
PART=${1:-all}
case "$PART" in tests | bench | all) ;; *) echo "usage: $0 [tests|bench|all]"; exit 2 ;; esac
LOG=${OUT:-$BUILD}/device_checks.log
exec > >(tee -a "$LOG") 2>&1
JOBS=$(nproc)
status=0

step() { printf '\n=== %s === (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "machine"
date -u
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi: not available"
command -v nvcc >/dev/null && nvcc --version | tail -2 || { echo "nvcc is not on the PATH: cannot build with CUDA"; exit 1; }
git log --oneline -1 2>/dev/null || true

step "build (CUDA=1, -j$JOBS, $BUILD)"
if ! make -j"$JOBS" CUDA=1 BUILD="$BUILD" "$BUILD/r1" "$BUILD/r1_tests"; then
  echo "BUILD FAILED"
  exit 1
fi

export R1_BIN=$PWD/$BUILD/r1 R1_ROOT=$PWD OMP_WAIT_POLICY=passive
if [ "$PART" != bench ]; then
  step "CUDA tests"
  "$BUILD/r1_tests" --gtest_filter='Cuda*' --gtest_color=no | tee "$BUILD/cuda_tests.txt" || status=1
  # With a GPU only CudaUnavailable.* may skip; any other skip means the GPU was not usable.
  if grep -E '^\[  SKIPPED \] Cuda[A-Za-z]*\.' "$BUILD/cuda_tests.txt" | grep -v CudaUnavailable; then
    echo "CUDA tests were SKIPPED: the GPU was not usable (see the skip reason above)"
    status=1
  fi

  step "CPU op, autograd and --device tests on the CUDA build (CPU paths compiled with R1_CUDA)"
  timeout 180 "$BUILD/r1_tests" --gtest_filter='Ops*:Autograd*:Device*' --gtest_brief=1 --gtest_color=no || status=1
fi

if [ "$PART" != tests ]; then
  step "benchmarks: r1 bench gemm --device cuda (fp32, then TF32)"
  timeout 120 "$BUILD/r1" bench gemm --device cuda --sizes 1024,2048,4096 || status=1
  timeout 120 "$BUILD/r1" bench gemm --device cuda --sizes 1024,2048,4096 --tf32 || status=1
  # The benchmarks link every object of cuda/ from the CUDA build (the Makefile puts them under
  # $BUILD/obj-cuda; none has a main).
  CUDA_OBJS=("$BUILD"/obj-cuda/cuda/*.o)
  NVCC_BENCH=(nvcc -std=c++17 -O3 -Isrc -Icuda -DR1_CUDA=1 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80)
  "${NVCC_BENCH[@]}" cuda/tools/bench_cuda.cu "${CUDA_OBJS[@]}" -lcublas -o "$BUILD/bench_cuda" && "$BUILD/bench_cuda" || status=1

  step "benchmark: attention, AdamW, sampling (cuda/tools/bench_attention.cu)"
  "${NVCC_BENCH[@]}" cuda/tools/bench_attention.cu "${CUDA_OBJS[@]}" -lcublas -o "$BUILD/bench_attention" &&
    timeout 120 "$BUILD/bench_attention" || status=1

  step "benchmark: r1 vs PyTorch on the small preset's model (cuda/bench_device.sh)"
  timeout 480 bash cuda/bench_device.sh "$BUILD/r1" || status=1
fi

step "done: $([ $status -eq 0 ] && echo 'ALL PASSED' || echo 'SOMETHING FAILED (see above)')"
exit $status
