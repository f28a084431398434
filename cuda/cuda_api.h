// Host-callable interface of the CUDA backend. This header includes no CUDA headers, so
// host C++ in src/ can call it; it is only linked in builds with R1_CUDA (make CUDA=1,
// the default when nvcc is on the PATH). Every pointer argument named d_* is device memory.
// Every function throws r1::Error with the CUDA/cuBLAS error string on failure.
//
// Execution model: one device (device 0 of CUDA_VISIBLE_DEVICES), the default stream for
// every kernel, copy and cuBLAS call, so work runs in program order. Kernels are launched
// asynchronously: a fault inside a kernel is reported by the next synchronizing call
// (a device-to-host copy, synchronize()). Implementations: cuda/runtime.cu (device, memory),
// cuda/gemm.cu (cuBLAS), cuda/elementwise.cu (kernels mirroring src/cpu/elementwise.h).
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
void memcpy_h2d(void* d_dst, const void* src, size_t bytes);
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
