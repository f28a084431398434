// sgemm and sgemm_batched on cuBLAS, with the row-major contract of src/cpu/gemm.h.
//
// cuBLAS is column-major. A row-major matrix X[r, c] with leading dimension ld is, read
// column-major, X^T[c, r] with the same ld. So the row-major product C = op(A) op(B) is computed
// as the column-major product C^T = op(B)^T op(A)^T: swap the operands (B first), swap M and N,
// keep each operand's own transpose flag and leading dimension. No data is moved.
//
// One cuBLAS handle, created on first use, on the default stream. Math mode: full fp32 by
// default (CUBLAS_DEFAULT_MATH never uses TF32 for sgemm); set_tf32(true) switches to
// CUBLAS_TF32_TENSOR_OP_MATH (tensor cores, inputs rounded to TF32, fp32 accumulation).
// Does not do: other dtypes, more than INT_MAX rows/columns/leading dimension, several host
// threads calling at once (the handle is not shared safely across concurrent callers).
#include <climits>
#include <mutex>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

// --- handle and math mode ---------------------------------------------------------------

static std::mutex g_mu;
static cublasHandle_t g_handle = nullptr;
static bool g_tf32 = false;

static cublasMath_t math_mode() { return g_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH; }

static cublasHandle_t handle() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_handle) {
    if (!available()) throw Error(cat("cuda::sgemm: ", unavailable_reason()));
    check(cublasCreate(&g_handle), "cuda::sgemm: cublasCreate");
    check(cublasSetMathMode(g_handle, math_mode()), "cuda::sgemm: cublasSetMathMode");
  }
  return g_handle;
}

void set_tf32(bool on) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_tf32 = on;
  if (g_handle) check(cublasSetMathMode(g_handle, math_mode()), "cuda::set_tf32: cublasSetMathMode");
}

bool tf32() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_tf32;
}

// --- sgemm --------------------------------------------------------------------------------

static int to_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) throw Error(cat("cuda::sgemm: ", what, " = ", v, " is outside cuBLAS's int range"));
  return int(v);
}

// cuBLAS wants every leading dimension >= 1 even when the matrix is empty.
static int to_ld(int64_t ld, const char* what) { return ld < 1 ? 1 : to_int(ld, what); }

static cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* d_A, int64_t lda,
           const float* d_B, int64_t ldb, float beta, float* d_C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  // C^T[N, M] = op(B)^T[N, K] op(A)^T[K, M], column-major.
  check(cublasSgemm(handle(), op(trans_b), op(trans_a), to_int(N, "N"), to_int(M, "M"), to_int(K, "K"), &alpha, d_B,
                    to_ld(ldb, "ldb"), d_A, to_ld(lda, "lda"), &beta, d_C, to_ld(ldc, "ldc")),
        "cuda::sgemm: cublasSgemm");
}

void sgemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* d_A, int64_t lda, int64_t stride_a, const float* d_B, int64_t ldb, int64_t stride_b,
                   float beta, float* d_C, int64_t ldc, int64_t stride_c) {
  if (batch == 0 || M == 0 || N == 0) return;
  check(cublasSgemmStridedBatched(handle(), op(trans_b), op(trans_a), to_int(N, "N"), to_int(M, "M"), to_int(K, "K"),
                                  &alpha, d_B, to_ld(ldb, "ldb"), stride_b, d_A, to_ld(lda, "lda"), stride_a, &beta,
                                  d_C, to_ld(ldc, "ldc"), stride_c, to_int(batch, "batch")),
        "cuda::sgemm_batched: cublasSgemmStridedBatched");
}

}  // namespace r1::cuda
