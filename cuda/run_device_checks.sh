#!/usr/bin/env bash
# Everything in the CUDA backend that needs a GPU, in one run of a few minutes (see docs/cuda.md):
#   1. build r1 and r1_tests with CUDA (in build/device, so a CPU-only build/ is never mixed in)
#   2. the CUDA parity tests (r1_tests --gtest_filter='Cuda*'); they must run, not skip
#   3. the CPU op and autograd tests on the CUDA build (they must still pass there)
#   4. benchmarks: `r1 bench gemm --device cuda` if that flag exists, cuda/tools/bench_cuda.cu
#      (cuBLAS sgemm fp32/TF32, elementwise and sum_to bandwidth) and cuda/tools/bench_attention.cu
#      (fused attention forward/backward, AdamW, grad norm, sampling)
# Everything goes to one log: $OUT/device_checks.log when OUT is set, else build/device/device_checks.log.
# Usage (from the repository root): bash cuda/run_device_checks.sh
# Exit status: 0 when the build and every test passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=build/device
mkdir -p "$BUILD"
LOG=${OUT:-$BUILD}/device_checks.log
exec > >(tee "$LOG") 2>&1
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

step "CUDA tests"
"$BUILD/r1_tests" --gtest_filter='Cuda*' --gtest_color=no | tee "$BUILD/cuda_tests.txt" || status=1
# With a GPU only CudaUnavailable.* may skip; any other skip means the GPU was not usable.
if grep -E '^\[  SKIPPED \] Cuda[A-Za-z]*\.' "$BUILD/cuda_tests.txt" | grep -v CudaUnavailable; then
  echo "CUDA tests were SKIPPED: the GPU was not usable (see the skip reason above)"
  status=1
fi

step "CPU op tests on the CUDA build (the CPU paths of the ops compiled with R1_CUDA)"
timeout 120 "$BUILD/r1_tests" --gtest_filter='Ops*:Autograd*' --gtest_brief=1 --gtest_color=no || status=1

step "benchmarks"
if grep -q -- '"device"' src/cli/bench_gemm.cpp; then
  "$BUILD/r1" bench gemm --device cuda --sizes 1024,4096 || status=1
else
  echo "r1 bench gemm has no --device flag: using cuda/tools/bench_cuda.cu"
fi
# The benchmarks link every object of cuda/ from the CUDA build (the Makefile puts them under
# $BUILD/obj-cuda; none has a main).
CUDA_OBJS=("$BUILD"/obj-cuda/cuda/*.o)
NVCC_BENCH=(nvcc -std=c++17 -O3 -Isrc -Icuda -DR1_CUDA=1 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=sm_80)
"${NVCC_BENCH[@]}" cuda/tools/bench_cuda.cu "${CUDA_OBJS[@]}" -lcublas -o "$BUILD/bench_cuda" && "$BUILD/bench_cuda" || status=1

step "benchmark: attention, AdamW, sampling (cuda/tools/bench_attention.cu)"
"${NVCC_BENCH[@]}" cuda/tools/bench_attention.cu "${CUDA_OBJS[@]}" -lcublas -o "$BUILD/bench_attention" &&
  timeout 120 "$BUILD/bench_attention" || status=1

step "done: $([ $status -eq 0 ] && echo 'ALL PASSED' || echo 'SOMETHING FAILED (see above)')"
exit $status
