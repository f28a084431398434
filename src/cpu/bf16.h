// CPU kernels for BF16 weights with float32 activations and float32 accumulation: the
// inference matmul y = x W^T when W is held as BF16 (Tensor::from_bf16), plus the scalar
// conversions. A BF16 number is the top 16 bits of a float32, so widening is exact and each
// product w * x below is the float32 product of the true weight with the float32 activation;
// only the weights were rounded (when the checkpoint was written), never the activations.
// Deterministic: every output element is summed by one thread in a fixed order, whatever the
// thread count.
// Does not do: BF16 activations, the AVX-512 BF16 dot-product instruction (it would round x to
// BF16; decode is bound by reading W, prefill by the float32 GEMM it reuses), gradients.
#pragma once
#include <cstdint>

namespace r1::cpu {

// Scalar conversions: util/bf16.h.
void bf16_to_f32_n(const uint16_t* src, int64_t n, float* dst);  // dst: (n,)

// y[M, N] = x[M, K] @ W[N, K]^T with W in BF16 (row n of W is the weights of output n).
// x rows are ldx apart (>= K), W rows ldw apart (>= K), y rows ldy apart (>= N); y is
// overwritten. Up to kBf16GemvRows rows of x (decode), each W row is read from memory once and
// dotted with every x row; more rows widen W a block of rows at a time and run the float32
// GEMM on it (batched decode, prefill; measured faster from 8 rows on). Threads: OpenMP over output features.
constexpr int64_t kBf16GemvRows = 4;
void gemm_bf16(int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const uint16_t* W, int64_t ldw,
               float* y, int64_t ldy);

// --- kernel selection (for tests and benchmarks) ---------------------------------------
// gemm_bf16() uses the widest kernel compiled in (-march decides); the portable one is always
// compiled, so both are tested on an AVX-512 machine.
enum class Bf16Kernel { Portable, Avx512 };
Bf16Kernel bf16_default_kernel();
bool bf16_kernel_compiled(Bf16Kernel k);
const char* bf16_kernel_name(Bf16Kernel k);  // "portable", "avx512"
// gemm_bf16() with a chosen kernel for the dot-product (M <= kBf16GemvRows) path; throws r1::Error
// when `k` is not compiled in.
void gemm_bf16_with(Bf16Kernel k, int64_t M, int64_t N, int64_t K, const float* x, int64_t ldx, const uint16_t* W,
                    int64_t ldw, float* y, int64_t ldy);

}  // namespace r1::cpu
