// BF16-weight matmul kernels. See bf16.h.
//
// Dot-product path (M <= kBf16GemvRows, decode): output features are split over threads; for
// each feature n the W row is widened 16 values at a time and multiplied into G rows of x at
// once (G accumulators), so W streams from memory once per call and the x rows stay in cache.
// GEMM path (prefill, batched decode): the threads share out blocks of kWidenRows W rows; each
// widens its block into a float32 buffer and runs sgemm (src/cpu/gemm.h) on it.
#include "cpu/bf16.h"

#include <algorithm>
#include <vector>

#include "cpu/gemm.h"
#include "util/bf16.h"
#include "util/error.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define R1_BF16_AVX512 1
#include <immintrin.h>
#endif

namespace r1::cpu {

void bf16_to_f32_n(const uint16_t* src, int64_t n, float* dst) {
  for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

// --- dot-product kernels: y[m, n] for G rows of x and one W row ---------------------------

namespace {

template <int G>
void dots_portable(int64_t K, const float* x, int64_t ldx, const uint16_t* w, float* y, int64_t ldy) {
  float acc[G] = {};
  for (int64_t k = 0; k < K; k++) {
    float wk = bf16_to_f32(w[k]);
    for (int g = 0; g < G; g++) acc[g] += wk * x[g * ldx + k];
  }
  for (int g = 0; g < G; g++) y[g * ldy] = acc[g];
}

#ifdef R1_BF16_AVX512
// 16 BF16 values -> 16 float32 (zero-extend each to 32 bits, shift into the top half). The
// zero-masking forms with a full mask are the plain instructions; GCC 12 warns about the
// unmasked intrinsics' undefined pass-through operand.
inline __m512 widen_bits(__m256i v) {
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xffff, _mm512_maskz_cvtepu16_epi32(0xffff, v), 16));
}
inline __m512 widen16(const uint16_t* p) { return widen_bits(_mm256_loadu_si256((const __m256i*)p)); }
inline __m512 widen16_masked(const uint16_t* p, __mmask16 m) { return widen_bits(_mm256_maskz_loadu_epi16(m, p)); }

// U accumulators per x row (U-way unrolled over k) hide the FMA latency when G is small.
template <int G, int U>
void dots_avx512(int64_t K, const float* x, int64_t ldx, const uint16_t* w, float* y, int64_t ldy) {
  __m512 acc[G][U];
  for (int g = 0; g < G; g++)
    for (int u = 0; u < U; u++) acc[g][u] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 * U <= K; k += 16 * U) {
    for (int u = 0; u < U; u++) {
      __m512 wv = widen16(w + k + 16 * u);
      for (int g = 0; g < G; g++) acc[g][u] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + g * ldx + k + 16 * u), acc[g][u]);
    }
  }
  for (; k + 16 <= K; k += 16) {
    __m512 wv = widen16(w + k);
    for (int g = 0; g < G; g++) acc[g][0] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + g * ldx + k), acc[g][0]);
  }
  if (k < K) {
    __mmask16 m = __mmask16((1u << (K - k)) - 1);
    __m512 wv = widen16_masked(w + k, m);
    for (int g = 0; g < G; g++) acc[g][0] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + g * ldx + k), acc[g][0]);
  }
  for (int g = 0; g < G; g++) {
    __m512 s = acc[g][0];
    for (int u = 1; u < U; u++) s = _mm512_add_ps(s, acc[g][u]);
    alignas(64) float lanes[16];  // horizontal sum in a fixed order (GCC 12 warns on _mm512_reduce_add_ps)
    _mm512_store_ps(lanes, s);
    for (int w = 8; w > 0; w /= 2)
      for (int i = 0; i < w; i++) lanes[i] += lanes[i + w];
    y[g * ldy] = lanes[0];
  }
}
#endif

// All M rows of x against W rows [0, N): groups of 4 rows, then 2, then 1.
void dots_all(Bf16Kernel kernel, int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const uint16_t* W,
              int64_t ldw, float* y, int64_t ldy) {
  // Enough work per thread to pay for waking the team (about 64 KB of weights).
  const bool parallel = N * K >= 32768;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t n = 0; n < N; n++) {
    const uint16_t* w = W + n * ldw;
    int64_t m = 0;
    if (kernel == Bf16Kernel::Avx512) {
#ifdef R1_BF16_AVX512
      for (; m + 4 <= M; m += 4) dots_avx512<4, 2>(K, x + m * ldx, ldx, w, y + m * ldy + n, ldy);
      for (; m + 2 <= M; m += 2) dots_avx512<2, 2>(K, x + m * ldx, ldx, w, y + m * ldy + n, ldy);
      for (; m < M; m++) dots_avx512<1, 4>(K, x + m * ldx, ldx, w, y + m * ldy + n, ldy);
#endif
    } else {
      for (; m + 4 <= M; m += 4) dots_portable<4>(K, x + m * ldx, ldx, w, y + m * ldy + n, ldy);
      for (; m < M; m++) dots_portable<1>(K, x + m * ldx, ldx, w, y + m * ldy + n, ldy);
    }
  }
}

// Rows of W widened per sgemm call in the GEMM path: 128 rows of K = 1536 are 768 KB of float32
// (in L2), and a 256-row projection still gives each of two threads a block.
constexpr int64_t kWidenRows = 128;

void check_args(int64_t M, int64_t N, int64_t K, int64_t ldx, int64_t ldw, int64_t ldy) {
  if (M < 0 || N < 0 || K < 0 || ldx < K || ldw < K || ldy < N)
    throw Error(cat("gemm_bf16: bad sizes M=", M, " N=", N, " K=", K, " ldx=", ldx, " ldw=", ldw, " ldy=", ldy));
}

}  // namespace

// --- entry points ----------------------------------------------------------------------

Bf16Kernel bf16_default_kernel() {
#ifdef R1_BF16_AVX512
  return Bf16Kernel::Avx512;
#else
  return Bf16Kernel::Portable;
#endif
}

bool bf16_kernel_compiled(Bf16Kernel k) { return k == Bf16Kernel::Portable || k == bf16_default_kernel(); }

const char* bf16_kernel_name(Bf16Kernel k) { return k == Bf16Kernel::Avx512 ? "avx512" : "portable"; }

void gemm_bf16_with(Bf16Kernel k, int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const uint16_t* W,
                    int64_t ldw, float* y, int64_t ldy) {
  check_args(M, N, K, ldx, ldw, ldy);
  if (!bf16_kernel_compiled(k)) throw Error(cat("gemm_bf16: the ", bf16_kernel_name(k), " kernel is not compiled in"));
  dots_all(k, M, N, K, x, ldx, W, ldw, y, ldy);
}

void gemm_bf16(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const uint16_t* W, int64_t ldw,
               float* y, int64_t ldy) {
  check_args(M, N, K, ldx, ldw, ldy);
  if (M <= kBf16GemvRows) {
    dots_all(bf16_default_kernel(), M, N, K, x, ldx, W, ldw, y, ldy);
    return;
  }
  // One parallel region per call: each thread widens its own blocks of W rows and runs sgemm on
  // them (sgemm stays on the calling thread inside a parallel region). A region per block cost
  // ~6,000 fork/joins per 1.5B-model step, which a loaded machine turns into seconds.
  const int64_t blocks = (N + kWidenRows - 1) / kWidenRows;
#pragma omp parallel if (M * N * K >= (int64_t(1) << 22))
  {
    std::vector<float> block(size_t(std::min(N, kWidenRows) * K));  // (rows, K) widened W rows
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      const int64_t n0 = b * kWidenRows, rows = std::min(kWidenRows, N - n0);
      for (int64_t r = 0; r < rows; r++) bf16_to_f32_n(W + (n0 + r) * ldw, K, block.data() + r * K);
      sgemm(false, true, M, rows, K, 1.0f, x, ldx, block.data(), K, 0.0f, y + n0, ldy);
    }
  }
}

}  // namespace r1::cpu
