// Tests for cpu/gemm: sgemm and sgemm_batched against a naive double-precision reference over
// many shapes (odd sizes, all four transpose combinations, alpha/beta variants, padded leading
// dimensions, sizes that cross the blocking boundaries), for every micro-kernel compiled into the
// binary (so the portable fallback is tested on AVX-512 machines too), plus determinism across
// runs and thread counts, and the BLAS conventions for beta == 0 and alpha == 0.
#include <gtest/gtest.h>
#include <omp.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "cpu/gemm.h"
#include "util/rng.h"

using r1::cpu::GemmKernel;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kSentinel = 12345.0f;  // fills padding that must never be written

// One test case: operands as stored (A is [M,K] or [K,M] when trans_a, etc.), with padding.
struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
  int64_t pad = 0;  // extra leading-dimension padding for A, B and C
};

struct Operands {
  int64_t lda, ldb, ldc;
  std::vector<float> A, B, C0;  // C0: C before the call
};

Operands make_operands(const Case& c, uint64_t seed) {
  Operands o;
  o.lda = (c.ta ? c.M : c.K) + c.pad;
  o.ldb = (c.tb ? c.K : c.N) + c.pad;
  o.ldc = c.N + c.pad;
  r1::Rng rng(seed);
  auto fill = [&](std::vector<float>& v, size_t n) {
    v.resize(n);
    for (float& x : v) x = float(2.0 * rng.uniform() - 1.0);
  };
  fill(o.A, size_t((c.ta ? c.K : c.M) * o.lda));
  fill(o.B, size_t((c.tb ? c.N : c.K) * o.ldb));
  fill(o.C0, size_t(c.M * o.ldc));
  // Padding columns of C hold a sentinel, so a write past N is caught.
  for (int64_t i = 0; i < c.M; i++)
    for (int64_t j = c.N; j < o.ldc; j++) o.C0[size_t(i * o.ldc + j)] = kSentinel;
  return o;
}

// Checks C (after the call) against the double-precision product. Each element may differ by the
// standard floating-point error bound of a length-K dot product in float32, (K+2) * eps * (|alpha| *
// sum_p |a_ip||b_pj| + |beta * c_ij|): K roundings of the running sum, one for alpha, one for the beta
// update (blocking and FMA only reorder or remove roundings). A wrong index gives errors of order
// the magnitude itself, far above this bound.
void expect_matches_reference(const Case& c, const Operands& o, const std::vector<float>& C, const char* what) {
  const double eps = FLT_EPSILON;
  int64_t bad = 0;
  for (int64_t i = 0; i < c.M; i++) {
    for (int64_t j = 0; j < o.ldc; j++) {
      const float got = C[size_t(i * o.ldc + j)];
      if (j >= c.N) {  // padding: untouched
        if (got != kSentinel && bad++ < 5) ADD_FAILURE() << what << ": wrote C padding at (" << i << "," << j << ")";
        continue;
      }
      double sum = 0, abs_sum = 0;
      for (int64_t p = 0; p < c.K; p++) {
        double a = c.ta ? o.A[size_t(p * o.lda + i)] : o.A[size_t(i * o.lda + p)];
        double b = c.tb ? o.B[size_t(j * o.ldb + p)] : o.B[size_t(p * o.ldb + j)];
        sum += a * b;
        abs_sum += std::fabs(a * b);
      }
      const double c0 = o.C0[size_t(i * o.ldc + j)];
      const double beta_term = c.beta == 0.0f ? 0.0 : double(c.beta) * c0;
      const double want = double(c.alpha) * sum + beta_term;
      const double tol = double(c.K + 2) * eps * (std::fabs(c.alpha) * abs_sum + std::fabs(beta_term)) + 1e-30;
      if (!(std::fabs(got - want) <= tol) && bad++ < 5)
        ADD_FAILURE() << what << ": C(" << i << "," << j << ") = " << got << ", want " << want << " (tol " << tol
                      << ")";
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " wrong elements";
}

std::string describe(const Case& c, GemmKernel k) {
  return std::string(r1::cpu::gemm_kernel_name(k)) + " " + (c.ta ? "T" : "N") + (c.tb ? "T" : "N") + " M=" +
         std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
         " alpha=" + std::to_string(c.alpha) + " beta=" + std::to_string(c.beta) + " pad=" + std::to_string(c.pad);
}

void run_case(const Case& c, GemmKernel k, uint64_t seed) {
  Operands o = make_operands(c, seed);
  std::vector<float> C = o.C0;
  r1::cpu::sgemm_with(k, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta,
                      C.data(), o.ldc);
  expect_matches_reference(c, o, C, describe(c, k).c_str());
}

std::vector<GemmKernel> compiled_kernels() {
  std::vector<GemmKernel> ks;
  for (GemmKernel k : {GemmKernel::Portable, GemmKernel::Avx2, GemmKernel::Avx512})
    if (r1::cpu::gemm_kernel_compiled(k)) ks.push_back(k);
  return ks;
}

}  // namespace

// --- correctness against the reference -----------------------------------------------------

TEST(Gemm, OddShapesAllTransposesEveryKernel) {
  const int64_t sizes[] = {1, 3, 17, 33, 65, 127};
  uint64_t seed = 1;
  for (GemmKernel k : compiled_kernels())
    for (int t = 0; t < 4; t++)
      for (int64_t M : sizes)
        for (int64_t N : sizes)
          for (int64_t K : {int64_t(1), int64_t(17), int64_t(127)}) {
            // alpha/beta and padding vary with the case so every combination meets many shapes.
            const float alphas[] = {1.0f, -0.5f, 2.0f};
            const float betas[] = {0.0f, 1.0f, -1.5f};
            Case c{bool(t & 1), bool(t & 2), M, N, K, alphas[seed % 3], betas[(seed / 3) % 3],
                   int64_t(seed % 4 == 0 ? 5 : 0)};
            run_case(c, k, seed++);
          }
}

TEST(Gemm, ShapesCrossingBlockBoundaries) {
  // K > 256 (two and three depth slices), M > 168 (several row blocks), K * N > 256K floats
  // (several column panels), M or N small enough for the in-place B or A paths, GEMV shapes, and
  // products big enough to run on several threads.
  const Case cases[] = {
      {false, false, 200, 70, 600, 1.0f, 0.0f, 3},  {true, true, 200, 70, 600, 0.7f, 0.3f, 0},
      {false, true, 37, 4200, 5, 1.0f, 1.0f, 0},     {true, false, 3, 4200, 300, 1.0f, 0.0f, 2},
      {false, false, 5, 4133, 40, -1.0f, 2.0f, 1},   {false, true, 1, 1000, 513, 1.0f, 0.5f, 0},
      {true, true, 1, 300, 700, 2.0f, 0.0f, 4},      {false, false, 1, 300, 700, 1.0f, 0.0f, 0},
      {false, false, 700, 1, 300, 1.0f, 1.0f, 2},    {true, true, 700, 1, 300, 1.0f, 0.0f, 0},
      {false, true, 300, 257, 256, 1.0f, 0.0f, 0},   {true, false, 169, 96, 512, -2.0f, 1.0f, 0},
      {false, false, 20, 4200, 1030, 1.0f, 0.5f, 0},  // K * N > the packed-B cap: several column panels
      {false, true, 200, 40, 600, 1.0f, 0.5f, 2},     // N <= 128: A read in place, with padded lda
      {false, false, 300, 128, 700, -1.0f, 1.0f, 1},
  };
  uint64_t seed = 100;
  for (GemmKernel k : compiled_kernels())
    for (const Case& c : cases) run_case(c, k, seed++);
}

TEST(Gemm, DefaultEntryPointUsesWidestKernel) {
  GemmKernel k = r1::cpu::gemm_default_kernel();
  EXPECT_TRUE(r1::cpu::gemm_kernel_compiled(k));
#if defined(__AVX512F__)
  EXPECT_EQ(k, GemmKernel::Avx512);
#endif
  Case c{false, true, 65, 33, 127, 1.0f, 0.5f, 1};
  Operands o = make_operands(c, 7);
  std::vector<float> C = o.C0, C_with = o.C0;
  r1::cpu::sgemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta, C.data(), o.ldc);
  r1::cpu::sgemm_with(k, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta,
                      C_with.data(), o.ldc);
  expect_matches_reference(c, o, C, "sgemm");
  EXPECT_EQ(0, std::memcmp(C.data(), C_with.data(), C.size() * sizeof(float)));
}

// --- BLAS conventions ----------------------------------------------------------------------

TEST(Gemm, BetaZeroNeverReadsC) {
  for (GemmKernel k : compiled_kernels())
    for (const Case& c : {Case{false, false, 33, 65, 17, 1.0f, 0.0f, 0}, Case{false, true, 1, 40, 30, 1.0f, 0.0f, 0},
                          Case{false, false, 40, 1, 30, 1.0f, 0.0f, 0}, Case{true, false, 4, 50, 0, 1.0f, 0.0f, 0}}) {
      Operands o = make_operands(c, 3);
      std::vector<float> C(o.C0.size(), kNaN);
      r1::cpu::sgemm_with(k, c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, 0.0f,
                          C.data(), o.ldc);
      for (float x : C) ASSERT_FALSE(std::isnan(x)) << describe(c, k) << ": NaN from C leaked through beta = 0";
      if (c.K > 0) expect_matches_reference(c, o, C, describe(c, k).c_str());
    }
}

TEST(Gemm, AlphaZeroOnlyScalesC) {
  // BLAS: with alpha == 0, A and B are not read (NaN there must not appear in C).
  Case c{false, false, 9, 11, 13, 0.0f, 2.0f, 0};
  Operands o = make_operands(c, 4);
  std::fill(o.A.begin(), o.A.end(), kNaN);
  std::vector<float> C = o.C0;
  r1::cpu::sgemm(false, false, c.M, c.N, c.K, 0.0f, o.A.data(), o.lda, o.B.data(), o.ldb, 2.0f, C.data(), o.ldc);
  for (size_t i = 0; i < C.size(); i++) ASSERT_EQ(C[i], 2.0f * o.C0[i]) << "at " << i;
}

TEST(Gemm, EmptyShapesDoNothing) {
  float C[4] = {1, 2, 3, 4};
  float A[4] = {1, 1, 1, 1}, B[4] = {1, 1, 1, 1};
  r1::cpu::sgemm(false, false, 0, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
  r1::cpu::sgemm(false, false, 2, 0, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
  EXPECT_EQ(C[0], 1.0f);
  EXPECT_EQ(C[3], 4.0f);
  r1::cpu::sgemm(false, false, 2, 2, 0, 1.0f, A, 2, B, 2, 0.5f, C, 2);  // K == 0: C = beta * C
  EXPECT_EQ(C[0], 0.5f);
  EXPECT_EQ(C[3], 2.0f);
}

TEST(Gemm, RejectsBadLeadingDimensions) {
  float A[12] = {}, B[12] = {}, C[12] = {};
  EXPECT_THROW(r1::cpu::sgemm(false, false, 2, 3, 4, 1.0f, A, 3, B, 3, 0.0f, C, 3), std::invalid_argument);  // lda < K
  EXPECT_THROW(r1::cpu::sgemm(true, false, 2, 3, 4, 1.0f, A, 1, B, 3, 0.0f, C, 3), std::invalid_argument);   // lda < M
  EXPECT_THROW(r1::cpu::sgemm(false, true, 2, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 3), std::invalid_argument);   // ldb < K
  EXPECT_THROW(r1::cpu::sgemm(false, false, 2, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 2), std::invalid_argument);  // ldc < N
  EXPECT_THROW(r1::cpu::sgemm(false, false, -1, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 3), std::invalid_argument);
  EXPECT_NO_THROW(r1::cpu::sgemm(false, false, 2, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 3));
}

// --- batched -------------------------------------------------------------------------------

TEST(Gemm, BatchedMatchesPerMatrixReference) {
  // Small products (run one per thread) and a large one (each product uses all threads), with
  // strides larger than the matrices so a stride mix-up reads the wrong data.
  for (const Case& c : {Case{false, true, 17, 33, 16, 1.0f, 0.0f, 1}, Case{true, false, 64, 64, 64, 0.5f, 1.0f, 0},
                        Case{false, false, 300, 200, 100, 1.0f, 0.0f, 0}}) {
    const int64_t batch = 5;
    std::vector<Operands> ops;
    for (int64_t b = 0; b < batch; b++) ops.push_back(make_operands(c, 50 + uint64_t(b)));
    const int64_t sa = int64_t(ops[0].A.size()) + 7, sb = int64_t(ops[0].B.size()) + 3,
                  sc = int64_t(ops[0].C0.size()) + 11;
    std::vector<float> A(size_t(sa * batch)), B(size_t(sb * batch)), C(size_t(sc * batch), kSentinel);
    for (int64_t b = 0; b < batch; b++) {
      std::copy(ops[b].A.begin(), ops[b].A.end(), A.begin() + b * sa);
      std::copy(ops[b].B.begin(), ops[b].B.end(), B.begin() + b * sb);
      std::copy(ops[b].C0.begin(), ops[b].C0.end(), C.begin() + b * sc);
    }
    r1::cpu::sgemm_batched(c.ta, c.tb, batch, c.M, c.N, c.K, c.alpha, A.data(), ops[0].lda, sa, B.data(), ops[0].ldb,
                           sb, c.beta, C.data(), ops[0].ldc, sc);
    for (int64_t b = 0; b < batch; b++) {
      std::vector<float> Cb(C.begin() + b * sc, C.begin() + b * sc + int64_t(ops[b].C0.size()));
      expect_matches_reference(c, ops[b], Cb, ("batched " + describe(c, r1::cpu::gemm_default_kernel())).c_str());
      for (int64_t g = int64_t(ops[b].C0.size()); g < sc; g++)  // gap between matrices untouched
        ASSERT_EQ(C[size_t(b * sc + g)], kSentinel) << "batch " << b << " wrote past its matrix";
    }
  }
}

TEST(Gemm, CalledInsideACallersParallelRegion) {
  // Attention calls sgemm from its own `omp parallel for`, one head per thread. Each product here
  // is big enough that sgemm would use several threads on its own (5.5 MFLOP).
  const Case c{false, true, 150, 130, 141, 1.0f, 0.0f, 0};
  const int64_t heads = 4;
  std::vector<Operands> ops;
  std::vector<std::vector<float>> outs(heads);
  for (int64_t h = 0; h < heads; h++) ops.push_back(make_operands(c, 70 + uint64_t(h)));
#pragma omp parallel for num_threads(2)
  for (int64_t h = 0; h < heads; h++) {
    outs[h] = ops[h].C0;
    r1::cpu::sgemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, ops[h].A.data(), ops[h].lda, ops[h].B.data(), ops[h].ldb,
                   c.beta, outs[h].data(), ops[h].ldc);
  }
  for (int64_t h = 0; h < heads; h++) expect_matches_reference(c, ops[h], outs[h], "inside a parallel region");
}

// --- determinism ---------------------------------------------------------------------------

TEST(Gemm, BitwiseDeterministicAcrossRunsAndThreadCounts) {
  // Big enough to run multithreaded, with a ragged edge in every dimension.
  const int saved = omp_get_max_threads();
  for (const Case& c :
       {Case{false, false, 301, 259, 517, 1.0f, 0.0f, 0}, Case{true, true, 263, 129, 300, 1.0f, 0.5f, 0}}) {
    Operands o = make_operands(c, 9);
    std::vector<std::vector<float>> outs;
    for (int threads : {saved, saved, 1, 2, 3}) {
      omp_set_num_threads(threads);
      std::vector<float> C = o.C0;
      r1::cpu::sgemm(c.ta, c.tb, c.M, c.N, c.K, c.alpha, o.A.data(), o.lda, o.B.data(), o.ldb, c.beta, C.data(),
                     o.ldc);
      outs.push_back(C);
    }
    omp_set_num_threads(saved);
    for (size_t r = 1; r < outs.size(); r++)
      EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[r].data(), outs[0].size() * sizeof(float)))
          << describe(c, r1::cpu::gemm_default_kernel()) << ": run " << r << " differs from run 0";
  }
}

TEST(Gemm, BatchedBitwiseDeterministicAcrossThreadCounts) {
  const int saved = omp_get_max_threads();
  const int64_t batch = 6, T = 48, D = 32;  // attention-like scores: Q @ K^T per head
  std::vector<float> Q(size_t(batch * T * D)), Kt(size_t(batch * T * D));
  r1::Rng rng(11);
  for (float& x : Q) x = float(rng.uniform() - 0.5);
  for (float& x : Kt) x = float(rng.uniform() - 0.5);
  std::vector<std::vector<float>> outs;
  for (int threads : {1, saved, 2}) {
    omp_set_num_threads(threads);
    std::vector<float> S(size_t(batch * T * T), kNaN);
    r1::cpu::sgemm_batched(false, true, batch, T, T, D, 0.125f, Q.data(), D, T * D, Kt.data(), D, T * D, 0.0f,
                           S.data(), T, T * T);
    outs.push_back(S);
  }
  omp_set_num_threads(saved);
  for (size_t r = 1; r < outs.size(); r++)
    EXPECT_EQ(0, std::memcmp(outs[0].data(), outs[r].data(), outs[0].size() * sizeof(float))) << "run " << r;
}
