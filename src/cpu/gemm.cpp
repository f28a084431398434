// CPU single-precision GEMM (see gemm.h). This first version is a simple, correct loop
// nest; the blocked SIMD kernel replaces it.
#include "cpu/gemm.h"

namespace r1::cpu {

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  #pragma omp parallel for if (M * N * K > (1 << 18))
  for (int64_t i = 0; i < M; i++) {
    float* c = C + i * ldc;
    for (int64_t j = 0; j < N; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
    for (int64_t p = 0; p < K; p++) {
      float a = alpha * (trans_a ? A[p * lda + i] : A[i * lda + p]);
      if (trans_b) {
        for (int64_t j = 0; j < N; j++) c[j] += a * B[j * ldb + p];
      } else {
        const float* b = B + p * ldb;
        for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
      }
    }
  }
}

void sgemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b,
                   float beta, float* C, int64_t ldc, int64_t stride_c) {
  for (int64_t b = 0; b < batch; b++)
    sgemm(trans_a, trans_b, M, N, K, alpha, A + b * stride_a, lda, B + b * stride_b, ldb, beta,
          C + b * stride_c, ldc);
}

}  // namespace r1::cpu
