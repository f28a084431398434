// CPU single-precision GEMM: the hot path of every matmul (forward and backward) and of
// attention. Row-major, no allocation visible to the caller, deterministic for a given
// thread count. See gemm.cpp for the kernel design.
// Does not do: other dtypes, complex, in-place aliasing of C with A or B.
#pragma once
#include <cstdint>

namespace r1::cpu {

// C[M,N] = alpha * op(A) @ op(B) + beta * C, row-major. op(A) is A[M,K] (lda >= K) or, when trans_a,
// A is stored [K,M] (lda >= M) and used transposed. Same for B: [K,N] or stored [N,K] when trans_b.
// beta == 0 means C is overwritten (never read, so NaN garbage in C is fine).
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// A batch of independent products with strides between consecutive matrices (attention uses this).
void sgemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* A, int64_t lda, int64_t stride_a, const float* B, int64_t ldb, int64_t stride_b,
                   float beta, float* C, int64_t ldc, int64_t stride_c);

}  // namespace r1::cpu
