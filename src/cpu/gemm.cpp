// CPU single-precision GEMM (see gemm.h for the contract).
//
// Design (the Goto/BLIS scheme, arranged so threads rarely wait for each other):
//
//   for jc in N step nc:                       a panel of columns (K x nc floats, about 1 MB)
//     pack op(B)[0:K, jc:jc+nc] into NR-wide slivers, every KC-deep slice   (all threads share it)
//     -- barrier --
//     for each unit (mc rows x nb columns of C), dynamic schedule, one thread per unit:
//       for pc in K step KC:                   one slice of the shared dimension
//         pack op(A)[rows, pc:pc+KC] into MR-tall slivers                  (thread-private)
//         for each NR sliver jr of the unit, for each MR sliver ir:
//           micro-kernel: C[MR,NR] (+)= alpha * Asliver[MR,KC] @ Bsliver[KC,NR]
//
// Packing turns any layout (transposed or not, any lda/ldb) into the one layout the
// micro-kernel reads: a sliver of A is [KC][MR] (one column of MR values per k step), a sliver of
// B is [KC][NR] (one row of NR values per k step). The micro-kernel keeps the MR x NR tile of C in
// registers for the whole KC loop: per k step it loads NR/W vectors of B, broadcasts MR scalars of
// A and issues MR*NR/W fused multiply-adds. With KC=256 a B sliver (32 KB for NR=32) stays in L1
// while the unit's A slivers (up to MC=168 rows, 168 KB) stay in L2. The copies that pack are
// SIMD too (masked row copies; 16x16 in-register transposes for the transposed operand).
//
// Threads: about four units per thread, taken dynamically, so a thread that the OS delays (the
// machine is shared) costs little; small M is cut into column blocks instead. A product has one
// barrier per panel plus the end of the parallel region. A product under kParallelMinFlops runs
// on the calling thread with no OpenMP construct at all, so sgemm may be called inside a caller's
// parallel region (attention runs one head per thread; sgemm_batched one product per thread).
//
// Micro-kernels, chosen at compile time from the target macros (-march=native):
//   avx512    MR=14, NR=32: 28 zmm accumulators + 2 for B + 1 broadcast (of 32 registers)
//   avx2      MR=6,  NR=16: 12 ymm accumulators + 2 for B + 1 broadcast (of 16 registers)
//   portable  MR=4,  NR=16: plain loops the compiler vectorizes; always compiled, and tested
// All three are one template over a small vector type (the SIMD ones) or plain C++ (portable).
// Edges: a tile with m < MR valid rows uses the kernel instantiated for m rows (no wasted rows);
// columns n < NR are handled with masked loads/stores of C (packed B is zero-padded).
//
// Small and skinny shapes:
//   - M == 1 with B transposed, or N == 1 with A not transposed, is a set of dot products
//     (decode GEMVs), four rows at a time: no packing at all.
//   - When B is not transposed and M is small (or the whole product is tiny), B is read in place
//     (packing it would cost as much as the product); only a ragged last sliver is packed.
//   - When A is not transposed and N <= 128 (attention's P V, narrow layers), the micro-kernel
//     reads the rows of A in place (a kernel variant): packing A would cost about as much.
//
// Determinism: the k order of every C element is fixed by KC and the kernel, never by the thread
// count or schedule, and every C tile is written by exactly one thread. So the same inputs give
// bitwise-identical results for any thread count (the tests check this).
//
// Does not do: runtime CPU dispatch (the binary is built with -march=native), prefetch hints,
// hand-written assembly. On a machine shared with busy processes, OpenMP threads that spin while
// waiting (libgomp's default) slow every multithreaded product badly; run with
// OMP_WAIT_POLICY=passive there (docs/perf.md has the figures).
#include "cpu/gemm.h"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <utility>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

#include "util/error.h"

namespace r1::cpu {
namespace {

// --- blocking parameters -----------------------------------------------------------------

constexpr int64_t KC = 256;          // depth of a packed slice (fixes the summation order)
constexpr int64_t MC = 14 * 12;      // at most this many rows of A per unit of work (a multiple of every MR)
// Columns per packed panel of B: as many as keep the panel (K x nc) within 1 MB, so it stays in L2
// while the units stream through it, but at least kMinPanelColumns: each panel repacks A.
constexpr int64_t kPackedBFloats = int64_t(1) << 18;
constexpr int64_t kMinPanelColumns = 256;
constexpr int64_t kUnitsPerThread = 4;     // units of work per thread in a multithreaded product
// B not transposed is read in place (not packed) when M is this small or the product is tiny:
// packing would cost about as much as the product.
constexpr int64_t kInPlaceBMaxM = 8;
constexpr double kInPlaceBMaxFlops = 1 << 19;
// A not transposed is read in place when N is this small: each element of A then meets only a
// sliver or two of B, so packing A would cost about as much as using it.
constexpr int64_t kInPlaceAMaxN = 128;
constexpr double kParallelMinFlops = 4e6;  // below this a product runs on the calling thread

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// --- packing buffers ---------------------------------------------------------------------
// One pair per calling thread, grown on demand and reused, 64-byte aligned.

struct PackBuffer {
  float* data = nullptr;
  size_t size = 0;
  ~PackBuffer() { std::free(data); }
  float* get(size_t n) {
    if (n > size) {
      std::free(data);
      data = nullptr, size = 0;
      size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data) throw std::bad_alloc();
      size = n;
    }
    return data;
  }
};
thread_local PackBuffer tl_pack_a, tl_pack_b;

// --- micro-kernels -----------------------------------------------------------------------
// kernel(kc, a, lda, b, ldb, c, ldc, n, alpha, beta):
//   a: packed A sliver [kc][MR] (only the kernel's ROWS rows are read), or for the DIRECT_A
//      variants ROWS rows of A in place, row i at a + i*lda (lda is unused otherwise)
//   b: B sliver, row k at b + k*ldb, NR floats wide (packed: ldb == NR; in place: ldb of B)
//   c: C tile [ROWS, n] with row stride ldc, n <= NR
//   C = alpha * acc + beta * C; beta == 0 never reads C.
using MicroKernel = void (*)(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                             int64_t ldc, int n, float alpha, float beta);

// Packing copies into dst[kc][width] (see "packing copies" below).
using PackCopy = void (*)(const float* src, int64_t ld, int count, int64_t kc, int width, float* dst);

constexpr int kMaxMR = 14, kMaxNR = 32;
struct KernelSet {
  int mr, nr;
  std::array<MicroKernel, kMaxMR + 1> by_rows;  // by_rows[m]: kernel for a tile of m rows, 1 <= m <= mr
  std::array<MicroKernel, kMaxMR + 1> by_rows_direct;  // the same, reading rows of A in place
  PackCopy copy_rows;                           // packs A (transposed) and B (not transposed)
  PackCopy copy_transposed;                     // packs A (not transposed) and B (transposed)
};

#if defined(__AVX512F__)
struct Vec512 {
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static __mmask16 mask(int lanes) { return static_cast<__mmask16>((1u << lanes) - 1); }
  static V load_part(const float* p, int lanes) {
    return lanes == W ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(mask(lanes), p);
  }
  static void store_part(float* p, V v, int lanes) {
    if (lanes == W) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, mask(lanes), v);
  }
};
#endif

#if defined(__AVX2__) && defined(__FMA__)
struct Vec256 {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static __m256i mask(int lanes) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V load_part(const float* p, int lanes) {
    return lanes == W ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask(lanes));
  }
  static void store_part(float* p, V v, int lanes) {
    if (lanes == W) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, mask(lanes), v);
  }
};
#endif

// SIMD kernel: ROWS x (NV vectors) accumulators live in registers for the whole k loop.
template <class Vec, int MR, int NV, int ROWS, bool DIRECT_A>
void micro_kernel_simd(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc,
                       int n, float alpha, float beta) {
  using V = typename Vec::V;
  V acc[ROWS][NV];
#pragma GCC unroll 16
  for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = Vec::zero();
  for (int64_t p = 0; p < kc; p++) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) bv[v] = Vec::load(b + v * Vec::W);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) {
      V ai = Vec::set1(DIRECT_A ? a[i * lda] : a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = Vec::fma(ai, bv[v], acc[i][v]);
    }
    a += DIRECT_A ? 1 : MR;
    b += ldb;
  }
  const V va = Vec::set1(alpha), vb = Vec::set1(beta);
#pragma GCC unroll 4
  for (int v = 0; v < NV; v++) {
    int lanes = std::min(n - v * Vec::W, Vec::W);
    if (lanes <= 0) break;
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) {
      float* ci = c + i * ldc + v * Vec::W;
      V r = Vec::mul(va, acc[i][v]);
      if (beta != 0.0f) r = Vec::fma(vb, Vec::load_part(ci, lanes), r);
      Vec::store_part(ci, r, lanes);
    }
  }
}

// Portable kernel: the same computation in plain C++; the compiler vectorizes the j loops.
template <int MR, int NR, int ROWS, bool DIRECT_A>
void micro_kernel_portable(int64_t kc, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
                           int64_t ldc, int n, float alpha, float beta) {
  float acc[ROWS][NR] = {};
  for (int64_t p = 0; p < kc; p++) {
    for (int i = 0; i < ROWS; i++) {
      const float ai = DIRECT_A ? a[i * lda] : a[i];
#pragma omp simd
      for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
    }
    a += DIRECT_A ? 1 : MR;
    b += ldb;
  }
  for (int i = 0; i < ROWS; i++) {
    float* ci = c + i * ldc;
    for (int j = 0; j < n; j++) ci[j] = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * ci[j];
  }
}

// --- packing copies ------------------------------------------------------------------

// Both operands are packed by one of two copies into dst[kc][width] (width = MR for A, NR for B),
// zero-filling columns count..width:
//   copy_rows:       dst[p][i] = src[p * ld + i]   (the operand's rows run along the sliver)
//   copy_transposed: dst[p][i] = src[i * ld + p]   (they run along k: a transpose)
// The transposed copy walks p outermost, so its stores are contiguous; its loads come from
// `count` rows whose cache lines stay in L1 across consecutive p.
void copy_rows(const float* src, int64_t ld, int count, int64_t kc, int width, float* dst) {
  for (int64_t p = 0; p < kc; p++) {
    const float* s = src + p * ld;
    float* d = dst + p * width;
    for (int i = 0; i < count; i++) d[i] = s[i];
    for (int i = count; i < width; i++) d[i] = 0.0f;
  }
}

void copy_transposed(const float* src, int64_t ld, int count, int64_t kc, int width, float* dst) {
  const float* rows[kMaxNR];
  for (int i = 0; i < count; i++) rows[i] = src + i * ld;
  for (int64_t p = 0; p < kc; p++) {
    float* d = dst + p * width;
    for (int i = 0; i < count; i++) d[i] = rows[i][p];
    for (int i = count; i < width; i++) d[i] = 0.0f;
  }
}

#if defined(__AVX512F__)
// The same transposed copy, 16 x 16 at a time: 16 rows of 16 floats are loaded, transposed in
// registers (unpack, shuffle, 2 x shuffle_f32x4: 64 shuffles) and stored as 16 contiguous rows.
// (GCC 12's intrinsic headers trip -Wmaybe-uninitialized on these shuffles: a known false positive.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 4; j++) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + 4 + j], 0xdd);
    }
  }
  for (int j = 0; j < 8; j++) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}
#pragma GCC diagnostic pop

// copy_rows with one masked load and store per 16 floats (rows are only MR or NR floats long,
// so a memcpy call per row would cost more than the copy).
void copy_rows_avx512(const float* src, int64_t ld, int count, int64_t kc, int width, float* dst) {
  for (int i0 = 0; i0 < width; i0 += 16) {
    const __mmask16 load_mask = static_cast<__mmask16>((1u << std::clamp(count - i0, 0, 16)) - 1);
    const __mmask16 store_mask = static_cast<__mmask16>((1u << std::min(16, width - i0)) - 1);
    for (int64_t p = 0; p < kc; p++)
      _mm512_mask_storeu_ps(dst + p * width + i0, store_mask, _mm512_maskz_loadu_ps(load_mask, src + p * ld + i0));
  }
}

void copy_transposed_avx512(const float* src, int64_t ld, int count, int64_t kc, int width, float* dst) {
  const int64_t kc16 = kc / 16 * 16;
  for (int i0 = 0; i0 < width; i0 += 16) {
    const int rows = std::clamp(count - i0, 0, 16);
    const __mmask16 store_mask = static_cast<__mmask16>((1u << std::min(16, width - i0)) - 1);
    for (int64_t p0 = 0; p0 < kc16; p0 += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(src + (i0 + i) * ld + p0) : _mm512_setzero_ps();
      transpose16x16(r);
      for (int p = 0; p < 16; p++) _mm512_mask_storeu_ps(dst + (p0 + p) * width + i0, store_mask, r[p]);
    }
  }
  for (int64_t p = kc16; p < kc; p++) {  // the last kc % 16 steps, one at a time
    float* d = dst + p * width;
    for (int i = 0; i < count; i++) d[i] = src[i * ld + p];
    for (int i = count; i < width; i++) d[i] = 0.0f;
  }
}
#endif

// --- kernel sets ------------------------------------------------------------------------

template <int MR, int NR, size_t... R>
KernelSet make_portable_set(std::index_sequence<R...>) {
  return {MR,
          NR,
          {nullptr, &micro_kernel_portable<MR, NR, int(R) + 1, false>...},
          {nullptr, &micro_kernel_portable<MR, NR, int(R) + 1, true>...},
          copy_rows,
          copy_transposed};
}
template <class Vec, int MR, int NV, size_t... R>
KernelSet make_simd_set(PackCopy rows, PackCopy transposed, std::index_sequence<R...>) {
  return {MR,
          NV * Vec::W,
          {nullptr, &micro_kernel_simd<Vec, MR, NV, int(R) + 1, false>...},
          {nullptr, &micro_kernel_simd<Vec, MR, NV, int(R) + 1, true>...},
          rows,
          transposed};
}

const KernelSet& kernel_set(GemmKernel k) {
  static const KernelSet portable = make_portable_set<4, 16>(std::make_index_sequence<4>());
#if defined(__AVX2__) && defined(__FMA__)
  static const KernelSet avx2 =
      make_simd_set<Vec256, 6, 2>(copy_rows, copy_transposed, std::make_index_sequence<6>());
#endif
#if defined(__AVX512F__)
  static const KernelSet avx512 =
      make_simd_set<Vec512, 14, 2>(copy_rows_avx512, copy_transposed_avx512, std::make_index_sequence<14>());
#endif
  switch (k) {
#if defined(__AVX2__) && defined(__FMA__)
    case GemmKernel::Avx2: return avx2;
#endif
#if defined(__AVX512F__)
    case GemmKernel::Avx512: return avx512;
#endif
    case GemmKernel::Portable: return portable;
    default: throw Error(cat("sgemm: micro-kernel '", gemm_kernel_name(k), "' is not compiled into this binary"));
  }
}

// --- packing -----------------------------------------------------------------------------

// dst[kc][mr] <- op(A)[row0 : row0+m, p0 : p0+kc]
void pack_a_sliver(const KernelSet& ks, bool trans_a, const float* A, int64_t lda, int64_t row0, int m, int64_t p0,
                   int64_t kc, int mr, float* dst) {
  if (trans_a) ks.copy_rows(A + p0 * lda + row0, lda, m, kc, mr, dst);
  else ks.copy_transposed(A + row0 * lda + p0, lda, m, kc, mr, dst);
}

// dst[kc][nr] <- op(B)[p0 : p0+kc, col0 : col0+n]
void pack_b_sliver(const KernelSet& ks, bool trans_b, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t col0,
                   int n, int nr, float* dst) {
  if (trans_b) ks.copy_transposed(B + col0 * ldb + p0, ldb, n, kc, nr, dst);
  else ks.copy_rows(B + p0 * ldb + col0, ldb, n, kc, nr, dst);
}

// --- the blocked product -----------------------------------------------------------------

struct Problem {
  bool trans_a, trans_b;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
};

// How C is cut into independent units of work: blocks of mc rows x nb columns.
struct Blocking {
  int64_t nc;  // columns of B packed at once (all K rows of them), a multiple of NR
  int64_t mc;  // rows of A per unit, a multiple of MR, <= MC
  int64_t nb;  // columns per unit, a multiple of NR
};

Blocking choose_blocking(const KernelSet& ks, const Problem& pr, int threads) {
  Blocking bl;
  const int64_t nc_budget = std::max(kMinPanelColumns, kPackedBFloats / pr.K / ks.nr * ks.nr);
  bl.nc = std::min(ceil_div(pr.N, ks.nr) * ks.nr, nc_budget);
  if (threads == 1) {
    bl.mc = std::min(MC, ceil_div(pr.M, ks.mr) * ks.mr);
    bl.nb = bl.nc;
    return bl;
  }
  // About kUnitsPerThread units per thread, so a thread that the OS delays costs little: the
  // others take its share (dynamic schedule). Cut rows first; cut columns only when M is small.
  const int64_t units = kUnitsPerThread * threads;
  bl.mc = std::clamp<int64_t>(ceil_div(ceil_div(pr.M, units), ks.mr) * ks.mr, ks.mr, MC);
  const int64_t n_blocks = std::clamp<int64_t>(ceil_div(units, ceil_div(pr.M, bl.mc)), 1, bl.nc / ks.nr);
  bl.nb = ceil_div(ceil_div(bl.nc, n_blocks), ks.nr) * ks.nr;
  return bl;
}

// for (i < n0) for (j < n1) f(i, j): shared among the threads of the enclosing team when `team`
// (dynamic schedule, no barrier at the end: callers place their own), else a plain loop on this
// thread. The plain loop matters when sgemm is called inside someone else's parallel region
// (attention runs one head per thread): an orphaned `omp for` would bind to that region and split
// our loop across threads that are not running it.
template <class F>
void for_2d(bool team, int64_t n0, int64_t n1, F f) {
  if (team) {
#pragma omp for collapse(2) schedule(dynamic) nowait
    for (int64_t i = 0; i < n0; i++)
      for (int64_t j = 0; j < n1; j++) f(i, j);
  } else {
    for (int64_t i = 0; i < n0; i++)
      for (int64_t j = 0; j < n1; j++) f(i, j);
  }
}

// Runs on every thread of the team (team == true) or alone. Per panel of nc columns: all threads
// pack the panel of B (every depth slice), one barrier, then each unit (mc rows x nb columns of C)
// is computed by one thread from start to end: for each depth slice, pack its rows of A
// (thread-private buffer) and run the micro-kernel over its tiles. So a product costs one barrier
// per panel plus the end of the parallel region, whatever its size.
void blocked_product(const KernelSet& ks, const Problem& pr, const Blocking& bl, float* bbuf, bool team) {
  const int mr = ks.mr, nr = ks.nr;
  const bool b_in_place = !pr.trans_b && (pr.M <= kInPlaceBMaxM || 2.0 * pr.M * pr.N * pr.K <= kInPlaceBMaxFlops);
  const bool a_in_place = !pr.trans_a && pr.N <= kInPlaceAMaxN;
  const int64_t n_slices = ceil_div(pr.K, KC);
  float* abuf = tl_pack_a.get(size_t(bl.mc * std::min(KC, pr.K)));  // [mc/mr][kc][mr], this thread's

  for (int64_t jc = 0; jc < pr.N; jc += bl.nc) {
    const int64_t nc = std::min(bl.nc, pr.N - jc);
    const int64_t n_slivers = ceil_div(nc, nr);
    // bbuf: [n_slices][n_slivers][kc][nr]; slice q starts at q * KC * nc_pad.
    const int64_t slice_stride = KC * n_slivers * nr;

    if (!b_in_place || nc % nr != 0) {  // in place, only a ragged last sliver is packed
      for_2d(team, n_slices, n_slivers, [&](int64_t q, int64_t s) {
        const int64_t kc = std::min(KC, pr.K - q * KC);
        const int n = int(std::min<int64_t>(nr, nc - s * nr));
        if (!b_in_place || n < nr)
          pack_b_sliver(ks, pr.trans_b, pr.B, pr.ldb, q * KC, kc, jc + s * nr, n, nr,
                        bbuf + q * slice_stride + s * nr * kc);
      });
      if (team) {
#pragma omp barrier
      }
    }

    const int64_t m_blocks = ceil_div(pr.M, bl.mc), n_blocks = ceil_div(nc, bl.nb);
    for_2d(team, m_blocks, n_blocks, [&](int64_t ib, int64_t jb) {
      const int64_t row0 = ib * bl.mc, mc = std::min(bl.mc, pr.M - row0);
      const int64_t sliver0 = jb * bl.nb / nr, sliver1 = std::min(n_slivers, (jb + 1) * bl.nb / nr);
      for (int64_t q = 0; q < n_slices; q++) {
        const int64_t pc = q * KC, kc = std::min(KC, pr.K - pc);
        const float beta = q == 0 ? pr.beta : 1.0f;  // later slices accumulate onto C
        if (!a_in_place) {
          for (int64_t ir = 0; ir * mr < mc; ir++) {
            const int m = int(std::min<int64_t>(mr, mc - ir * mr));
            pack_a_sliver(ks, pr.trans_a, pr.A, pr.lda, row0 + ir * mr, m, pc, kc, mr, abuf + ir * mr * kc);
          }
        }
        for (int64_t jr = sliver0; jr < sliver1; jr++) {
          const int n = int(std::min<int64_t>(nr, nc - jr * nr));
          const int64_t col = jc + jr * nr;
          const bool in_place = b_in_place && n == nr;
          const float* b = in_place ? pr.B + pc * pr.ldb + col : bbuf + q * slice_stride + jr * nr * kc;
          for (int64_t ir = 0; ir * mr < mc; ir++) {
            const int m = int(std::min<int64_t>(mr, mc - ir * mr));
            float* c = pr.C + (row0 + ir * mr) * pr.ldc + col;
            const int64_t ldb = in_place ? pr.ldb : nr;
            if (a_in_place)
              ks.by_rows_direct[m](kc, pr.A + (row0 + ir * mr) * pr.lda + pc, pr.lda, b, ldb, c, pr.ldc, n, pr.alpha,
                                   beta);
            else
              ks.by_rows[m](kc, abuf + ir * mr * kc, 0, b, ldb, c, pr.ldc, n, pr.alpha, beta);
          }
        }
      }
    });
    if (team && jc + nc < pr.N) {  // the next panel overwrites bbuf; the region's end is the last barrier
#pragma omp barrier
    }
  }
}

// --- dot-product path (GEMV shapes) ------------------------------------------------------

// out[i * inc_out] = alpha * dot(x, rows[i]) + beta * out[i * inc_out] for i < count; x is contiguous.
// Four rows at a time: four independent vector sums (one alone would wait on its own FMA latency)
// that share each load of x.
void dots(int64_t count, int64_t K, float alpha, const float* x, const float* rows, int64_t ld_rows, float beta,
          float* out, int64_t inc_out, bool parallel) {
  auto store = [&](int64_t i, float sum) {
    float* o = out + i * inc_out;
    *o = beta == 0.0f ? alpha * sum : alpha * sum + beta * *o;
  };
  auto group = [&](int64_t g) {
    const float *r0 = rows + 4 * g * ld_rows, *r1 = r0 + ld_rows, *r2 = r1 + ld_rows, *r3 = r2 + ld_rows;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t p = 0; p < K; p++) {
      s0 += x[p] * r0[p];
      s1 += x[p] * r1[p];
      s2 += x[p] * r2[p];
      s3 += x[p] * r3[p];
    }
    store(4 * g, s0), store(4 * g + 1, s1), store(4 * g + 2, s2), store(4 * g + 3, s3);
  };
  const int64_t groups = count / 4;
  if (parallel) {
#pragma omp parallel for schedule(static)
    for (int64_t g = 0; g < groups; g++) group(g);
  } else {
    for (int64_t g = 0; g < groups; g++) group(g);  // no OpenMP region: decode GEMVs are small
  }
  for (int64_t i = 4 * groups; i < count; i++) {
    const float* r = rows + i * ld_rows;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t p = 0; p < K; p++) s += x[p] * r[p];
    store(i, s);
  }
}

// The vector of a GEMV, made contiguous (copied into this thread's buffer when strided).
const float* contiguous(const float* x, int64_t inc, int64_t K) {
  if (inc == 1) return x;
  float* buf = tl_pack_a.get(size_t(K));
  for (int64_t p = 0; p < K; p++) buf[p] = x[p * inc];
  return buf;
}

// C = beta * C (used when alpha == 0 or K == 0; beta == 0 writes zeros without reading C).
void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

void gemm(const KernelSet& ks, const Problem& pr) {
  if (pr.M <= 0 || pr.N <= 0) return;
  if (pr.K <= 0 || pr.alpha == 0.0f) return scale_c(pr.M, pr.N, pr.beta, pr.C, pr.ldc);

  const double flops = 2.0 * double(pr.M) * double(pr.N) * double(pr.K);
  const int threads = (flops >= kParallelMinFlops && !omp_in_parallel()) ? omp_get_max_threads() : 1;

  if (pr.M == 1 && pr.trans_b)  // c[1,N]: dots of the row of op(A) with the rows of B
    return dots(pr.N, pr.K, pr.alpha, contiguous(pr.A, pr.trans_a ? pr.lda : 1, pr.K), pr.B, pr.ldb, pr.beta, pr.C, 1,
                threads > 1);
  if (pr.N == 1 && !pr.trans_a)  // c[M,1]: dots of the rows of A with the column of op(B)
    return dots(pr.M, pr.K, pr.alpha, contiguous(pr.B, pr.trans_b ? 1 : pr.ldb, pr.K), pr.A, pr.lda, pr.beta, pr.C,
                pr.ldc, threads > 1);

  const Blocking bl = choose_blocking(ks, pr, threads);
  float* bbuf = tl_pack_b.get(size_t(ceil_div(pr.K, KC) * KC * bl.nc));  // the caller's; shared by the team
  if (threads == 1) {
    blocked_product(ks, pr, bl, bbuf, false);
  } else {
#pragma omp parallel num_threads(threads)
    blocked_product(ks, pr, bl, bbuf, true);
  }
}

}  // namespace

// --- public entry points -----------------------------------------------------------------

GemmKernel gemm_default_kernel() {
#if defined(__AVX512F__)
  return GemmKernel::Avx512;
#elif defined(__AVX2__) && defined(__FMA__)
  return GemmKernel::Avx2;
#else
  return GemmKernel::Portable;
#endif
}

bool gemm_kernel_compiled(GemmKernel k) {
  switch (k) {
    case GemmKernel::Portable: return true;
#if defined(__AVX2__) && defined(__FMA__)
    case GemmKernel::Avx2: return true;
#endif
#if defined(__AVX512F__)
    case GemmKernel::Avx512: return true;
#endif
    default: return false;
  }
}

const char* gemm_kernel_name(GemmKernel k) {
  switch (k) {
    case GemmKernel::Portable: return "portable";
    case GemmKernel::Avx2: return "avx2";
    case GemmKernel::Avx512: return "avx512";
  }
  return "?";
}

void sgemm_with(GemmKernel k, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  // A caller's bug, not a user's mistake: say exactly what was passed.
  if (M < 0 || N < 0 || K < 0 || lda < (trans_a ? M : K) || ldb < (trans_b ? K : N) || ldc < N)
    throw std::invalid_argument(cat("sgemm: bad arguments: trans_a=", trans_a, " trans_b=", trans_b, " M=", M,
                                    " N=", N, " K=", K, " lda=", lda, " ldb=", ldb, " ldc=", ldc));
  gemm(kernel_set(k), Problem{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc});
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  sgemm_with(gemm_default_kernel(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b,
                   float beta, float* C, int64_t ldc, int64_t stride_c) {
  // Many small products: one product per thread (each then runs single-threaded, see gemm()).
  // Large products: one after another, each using all threads. Results are identical either way.
  const double flops = 2.0 * double(M) * double(N) * double(K);
  const bool across = batch > 1 && flops * double(batch) >= kParallelMinFlops && flops < 64 * kParallelMinFlops &&
                      !omp_in_parallel();
  auto one = [&](int64_t b) {
    sgemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta, C + b * stride_c,
          ldc);
  };
  if (across) {
#pragma omp parallel for schedule(dynamic)
    for (int64_t b = 0; b < batch; b++) one(b);
  } else {
    for (int64_t b = 0; b < batch; b++) one(b);
  }
}

}  // namespace r1::cpu
