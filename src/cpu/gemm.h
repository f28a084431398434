// CPU single-precision GEMM: the hot path of every matmul (forward and backward) and of
// attention. Row-major, no allocation visible to the caller (packing buffers are internal and
// reused). Deterministic: the result depends only on the inputs and the micro-kernel, not on the
// thread count (every element of C is computed by one thread in a fixed order). Uses OpenMP
// threads for products of 4 MFLOP and more; inside a caller's parallel region it runs on the
// calling thread. See gemm.cpp for the kernel design.
// Does not do: other dtypes, aliasing of C with A or B. Negative sizes, or a leading dimension
// shorter than the stored rows, throw std::invalid_argument (a caller bug).
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

// --- micro-kernel selection (for tests and `r1 bench gemm`) ---------------------------------
// sgemm() uses the widest kernel this binary was compiled for (-march decides). The others that
// were compiled in can be run directly, so the portable fallback is tested on every machine.
enum class GemmKernel { Portable, Avx2, Avx512 };
GemmKernel gemm_default_kernel();
bool gemm_kernel_compiled(GemmKernel k);
const char* gemm_kernel_name(GemmKernel k);  // "portable", "avx2", "avx512"
// sgemm() with a chosen micro-kernel; throws r1::Error when `k` is not compiled in.
void sgemm_with(GemmKernel k, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace r1::cpu
