#!/usr/bin/env bash
# Times r1's CPU sgemm next to OpenBLAS's cblas_sgemm, interleaved repeat by repeat in one run
# (`r1 bench gemm --compare-openblas`, which dlopens libopenblas.so.0; r1 never links it), with
# libgomp's default wait policy and with OMP_WAIT_POLICY=passive. Figures go to docs/perf.md.
#
#   data/bench/gemm_vs_openblas.sh [path/to/r1] [extra r1 bench gemm flags, e.g. --threads 1]
#
# Needs OpenBLAS: apt-get install -y libopenblas0-pthread. OpenBLAS picks its kernels from the
# CPU model; on a VM whose model it does not know it falls back to generic SSE3 kernels
# ("Prescott", 4x slower here), so on an AVX-512 machine this script asks for its AVX-512
# kernels (OPENBLAS_CORETYPE=SkylakeX) unless OPENBLAS_CORETYPE is already set.
set -euo pipefail
r1=${1:-build/r1}
shift || true
if grep -qw avx512f /proc/cpuinfo && [ -z "${OPENBLAS_CORETYPE:-}" ]; then export OPENBLAS_CORETYPE=SkylakeX; fi
shapes=1x512x512:nt,1x512x512,16x512x512:nt,64x256x256:nt,1024x512x512:nt,1024x512x2048,4096x512x512:nt,512x512x4096:tn,128x128x32:nt,128x32x128
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for policy in default passive; do
  echo "## OMP_WAIT_POLICY=$policy"
  if [ "$policy" = default ]; then env -u OMP_WAIT_POLICY "$r1" bench gemm --compare-openblas --shapes "$shapes" "$@"
  else OMP_WAIT_POLICY=passive "$r1" bench gemm --compare-openblas --shapes "$shapes" "$@"; fi
done
