// Host-callable interface of the CUDA backend. This header includes no CUDA headers, so
// host C++ in src/ can call it; it is only linked in builds with R1_CUDA (make CUDA=1,
// the default when nvcc is on the PATH). Every pointer argument named d_* is device memory.
// Every function throws r1::Error with the CUDA/cuBLAS error string on failure.
//
// Execution model: one device (device 0 of CUDA_VISIBLE_DEVICES), the default stream for
// every kernel, copy and cuBLAS call, so work runs in program order. Kernels are launched
// asynchronously: a fault inside a kernel is reported by the next synchronizing call
// (a device-to-host copy, synchronize()). Implementations: cuda/runtime.cu (device, memory),
// cuda/gemm.cu (cuBLAS), cuda/elementwise.cu (kernels mirroring src/cpu/elementwise.h),
// cuda/reduce.cu, cuda/shape.cu, cuda/index.cu, cuda/nn.cu (the other ops of src/ops/ops.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/elementwise.h"  // BinaryOp, UnaryOp, Broadcast4: the CUDA kernels take the CPU plans
#include "cpu/attention.h"    // AttentionShape

namespace r1::cuda {

// --- device and memory --------------------------------------------------------
bool available();                 // built with CUDA and a usable GPU is present (checked once)
const char* unavailable_reason(); // why available() is false ("no CUDA device available (...)")
std::string device_description(); // "NVIDIA H200, sm_90, 139.8 GiB" (needs available())
void* malloc(size_t bytes);       // from the caching allocator
void free(void* d_ptr);           // returns the block to the caching allocator (nullptr: no-op)
void memcpy_h2d(void* d_dst, const void* src, size_t bytes);  // src pageable; does not wait for the device
void memcpy_d2h(void* dst, const void* d_src, size_t bytes);
void memcpy_d2d(void* d_dst, const void* d_src, size_t bytes);
void memset_zero(void* d_ptr, size_t bytes);
void synchronize();

// The caching allocator's counters (see cuda/runtime.cu).
struct MemoryStats {
  size_t in_use_bytes = 0;    // handed out by malloc() and not yet freed (bucket-rounded sizes)
  size_t cached_bytes = 0;    // freed blocks kept for reuse
  int64_t device_mallocs = 0; // cudaMalloc calls so far (a reused block makes none)
};
MemoryStats memory_stats();
void empty_cache();  // cudaFree every cached block (blocks in use are untouched)

// --- GEMM (cuBLAS) -------------------------------------------------------------
// Same contract as r1::cpu::sgemm (row-major, see src/cpu/gemm.h), on device pointers.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* d_A, int64_t lda, const float* d_B, int64_t ldb, float beta, float* d_C, int64_t ldc);
void sgemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* d_A, int64_t lda, int64_t stride_a, const float* d_B, int64_t ldb, int64_t stride_b,
                   float beta, float* d_C, int64_t ldc, int64_t stride_c);
// TF32 tensor-core math for sgemm (inputs rounded to 10-bit mantissas, fp32 accumulation).
// Off by default: sgemm is full fp32 and matches the CPU to ~K * eps.
void set_tf32(bool on);
bool tf32();

// --- elementwise (same contracts as src/cpu/elementwise.h, on device pointers) ----------
void binary(cpu::BinaryOp op, const float* d_a, const float* d_b, float* d_out, const cpu::Broadcast4& bc);
void unary(cpu::UnaryOp op, const float* d_x, float* d_out, int64_t n);
void silu_backward(const float* d_x, const float* d_g, float* d_out, int64_t n);
// d_out += the sum of d_g over the broadcast dims (stride 0); d_out usually starts at zero.
void reduce_broadcast(const float* d_g, const int64_t shape[4], const int64_t stride[4], float* d_out);
void clamp(const float* d_x, float lo, float hi, float* d_out, int64_t n);
void clamp_backward(const float* d_x, float lo, float hi, const float* d_g, float* d_out, int64_t n);
// d_out = m != 0 ? a : b over bc's output shape; the mask is read with m_stride (0 = broadcast).
void where(const float* d_m, const int64_t m_stride[4], const float* d_a, const float* d_b, float* d_out,
           const cpu::Broadcast4& bc);

// --- reductions (cuda/reduce.cu) -----------------------------------------------------
// Deterministic: the grid and the summation tree depend only on the shape (no atomics), so
// results are bitwise the same run to run; the order is not the CPU's. Sums accumulate in double.
void sum_all(const float* d_x, int64_t n, float* d_out);  // d_out: one float = sum of n floats
// x viewed as (outer, n, inner) -> d_out (outer, inner), the sum over the middle axis (overwritten).
void sum_axis(const float* d_x, int64_t outer, int64_t n, int64_t inner, float* d_out);

// --- shape copies (cuda/shape.cu) ------------------------------------------------------
// For every index (i0, i1, i2, i3) of `shape`: dst[sum i_k dst_stride[k]] = src[sum i_k src_stride[k]]
// (strides in elements). Permute, concat and split are each one call.
void strided_copy(const float* d_src, const int64_t src_stride[4], float* d_dst, const int64_t dst_stride[4],
                  const int64_t shape[4]);

// --- indexing (cuda/index.cu) ------------------------------------------------------------
// Index arguments (idx, targets, positions) are HOST pointers, already range-checked by the op:
// r1::Ids live on the host, and each call copies its indices to the device (a small H2D copy).
// d_out (m, d): row i is row idx[i] of d_x.
void gather_rows(const float* d_x, const int32_t* idx, int64_t m, int64_t d, float* d_out);
// d_out (n, d) (overwritten): row r is the sum of the rows i of d_src (m, d) with idx[i] == r, added
// in increasing i from zero: the CPU's order, so bitwise equal to it and deterministic.
void scatter_add_rows(const float* d_src, const int32_t* idx, int64_t m, int64_t d, int64_t n, float* d_out);
// d_x (N, V), idx (N*K) -> d_out (N, K): out[n][k] = x[n][idx[n*K + k]].
void gather_cols(const float* d_x, const int32_t* idx, int64_t N, int64_t V, int64_t K, float* d_out);
// d_gx (N, V) += d_g (N, K) scattered back: gx[n][idx[n*K + k]] += g[n][k], k in order.
void scatter_add_cols(const float* d_g, const int32_t* idx, int64_t N, int64_t V, int64_t K, float* d_gx);

// --- nn row ops (cuda/nn.cu): the contracts of src/cpu/nn.h on device pointers --------------
// One block per row; row sums in double with a fixed tree (deterministic, not the CPU's order).
void rmsnorm_forward(const float* d_x, const float* d_w, float eps, int64_t N, int64_t D, float* d_y, float* d_rstd);
void rmsnorm_backward(const float* d_x, const float* d_w, const float* d_rstd, const float* d_g, int64_t N, int64_t D,
                      float* d_dx, float* d_dw);  // d_dx or d_dw may be null
// positions: a HOST pointer (T or B*T entries); inv_freq: a HOST pointer (Dh/2 entries).
void rope(const float* d_x, const int32_t* positions, bool per_batch, const float* inv_freq, float scale,
          float direction, int64_t B, int64_t T, int64_t H, int64_t Dh, float* d_out);
void softmax_forward(const float* d_x, int64_t N, int64_t D, float* d_y);
void softmax_backward(const float* d_y, const float* d_g, int64_t N, int64_t D, float* d_dx);
void log_softmax_forward(const float* d_x, int64_t N, int64_t D, float* d_y);
void log_softmax_backward(const float* d_y, const float* d_g, int64_t N, int64_t D, float* d_dx);
// targets: a HOST pointer (N entries); count = the rows whose target is not ignore_index.
// d_lse (N) as on the CPU; d_loss: one float, the mean over counted rows of lse - logit[target]
// (0 when count == 0), the rows summed in double by a fixed tree.
void cross_entropy_forward(const float* d_logits, const int32_t* targets, int32_t ignore_index, int64_t N, int64_t V,
                           int64_t count, float* d_lse, float* d_loss);
// d_g: one float on the device, dL/dloss; the CPU's coef is g / count (count > 0).
void cross_entropy_backward(const float* d_logits, const int32_t* targets, int32_t ignore_index, const float* d_lse,
                            const float* d_g, int64_t count, int64_t N, int64_t V, float* d_dlogits);

// --- attention, optimizer, sampling (cuda/attention.cu, cuda/optim.cu, cuda/sample.cu) ------------
// Fused attention with the semantics of r1::attention (src/ops/ops.h) and the shapes of
// src/cpu/attention.h. key_mask is a HOST pointer to (B, S) bytes or null (copied per call).
// The forward saves lse: (B, H, T) log-sum-exp of each query's scaled scores (-inf for a query
// that sees no key) instead of the probabilities; the backward recomputes them from q, k, lse.
constexpr int64_t kAttentionMaxHeadDim = 256;  // Dk and Dv up to this
void attention_forward(const cpu::AttentionShape& s, const float* d_q, const float* d_k, const float* d_v,
                       bool causal, float scale, const uint8_t* key_mask, float* d_out, float* d_lse);
// d_out: the forward's output, d_dout: dL/dout -> d_dq, d_dk, d_dv (overwritten).
void attention_backward(const cpu::AttentionShape& s, const float* d_q, const float* d_k, const float* d_v,
                        const float* d_out, const float* d_lse, const float* d_dout, bool causal, float scale,
                        const uint8_t* key_mask, float* d_dq, float* d_dk, float* d_dv);

// One AdamW update of n values in place; same contract as r1::adamw_update (src/train/optim.h).
void adamw_update(float* d_p, const float* d_g, float* d_m, float* d_v, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int64_t step);
// Sum of squares of every array (d_xs[i] has sizes[i] floats), in double, deterministic; the
// result is copied to the host (one 8-byte transfer).
double sum_squares(const std::vector<const float*>& d_xs, const std::vector<int64_t>& sizes);
void scale_in_place(float* d_x, int64_t n, float s);  // x *= s

// Token sampling with the rules of r1::sample_token (src/sample/sampler.h) for B rows of V logits.
// u is the row's uniform draw in [0, 1) (ignored when greedy), taken on the host from the
// sequence's own Rng, so the CPU and the device pick the same token from the same u.
struct SampleRequest {
  float temperature;  // 0 = greedy
  int64_t top_k;
  float top_p;
  float min_p;
  double u;
};
struct SampleResult {
  int32_t token;
  float logprob;  // log_softmax(logits / temperature)[token], before truncation
};
// d_logits: (B, V) on the device; rows, out: B entries on the host.
void sample(const float* d_logits, int64_t B, int64_t V, const SampleRequest* rows, SampleResult* out);

}  // namespace r1::cuda
