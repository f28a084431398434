// Differentiable ops over Tensors: the whole op set the model, the trainers and GRPO use.
// Each op checks its shapes (an r1::Error names the op and the shapes), computes the forward
// with a CPU kernel (src/cpu/) or a CUDA kernel (cuda/), and, when autograd is on and an input
// requires grad, records its backward next to the forward in the same .cpp file.
//
// Where the ops live:
//   elementwise.cpp  add sub mul div minimum maximum (broadcasting), scale, add_scalar, neg,
//                    exp log silu sigmoid clamp where
//   reduce.cpp       sum, mean (all, or over one axis)
//   matmul.cpp       matmul (plain, transposed operands, batched), linear
//   shape.cpp        reshape transpose permute concat split
//   index.cpp        embedding gather index_select scatter_add
//   nn.cpp           rmsnorm rope softmax log_softmax cross_entropy
//   attention.cpp    causal scaled-dot-product attention (fused, GQA, padding mask)
//
// Broadcasting (binary ops): numpy rules over up to 4 dims: shapes are right-aligned and each
// dim must be equal or 1 in one operand (e.g. (B,T,D)+(D), (N,K)/(N,1), x*scalar()). The
// gradient of a broadcast operand is the output gradient summed over the broadcast dims.
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace r1 {

using Ids = std::vector<int32_t>;  // integer inputs (token ids, indices) live on the host

// --- elementwise ------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);  // grad goes to a where a <= b, else to b
Tensor maximum(const Tensor& a, const Tensor& b);  // grad goes to a where a >= b, else to b
Tensor scale(const Tensor& x, float s);            // x * s
Tensor add_scalar(const Tensor& x, float s);       // x + s
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor silu(const Tensor& x);                      // x * sigmoid(x)
Tensor sigmoid(const Tensor& x);
Tensor clamp(const Tensor& x, float lo, float hi); // grad 1 inside [lo, hi], 0 outside
// mask ? a : b elementwise; mask is a constant 0/1 tensor (no gradient), broadcast like a binary op.
// Multiplying by a mask is mul(x, mask) with a mask that does not require grad.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& a) { return neg(a); }
inline Tensor operator*(const Tensor& a, float s) { return scale(a, s); }

// --- reductions -------------------------------------------------------------------
Tensor sum(const Tensor& x);                                  // -> shape ()
Tensor mean(const Tensor& x);                                 // -> shape ()
Tensor sum(const Tensor& x, int axis, bool keepdim = false);  // axis may be negative
Tensor mean(const Tensor& x, int axis, bool keepdim = false);

// --- matmul -----------------------------------------------------------------------
// a: (..., M, K) or, with trans_a, (..., K, M);  b: (K, N) or, with trans_b, (N, K);
// Either operand may be batched (leading dims); when both are, the leading dims must match.
// A 2-d operand is shared by every batch entry.  -> (..., M, N)
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
// x: (..., in), w: (out, in) (Hugging Face Linear layout), bias: (out) or undefined -> (..., out)
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias = Tensor());

// --- shape ------------------------------------------------------------------------
Tensor reshape(const Tensor& x, const Shape& shape);  // one entry may be -1; shares storage
Tensor transpose(const Tensor& x, int d0, int d1);    // copies
Tensor permute(const Tensor& x, const std::vector<int>& perm);  // copies
Tensor concat(const std::vector<Tensor>& xs, int axis);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int axis);

// --- indexing ---------------------------------------------------------------------
// weight: (V, D), ids: numel(ids_shape) entries in [0, V) -> ids_shape + (D)
Tensor embedding(const Tensor& weight, const Ids& ids, const Shape& ids_shape);
// x: (N, V), idx: N*K entries in [0, V) -> (N, K): out[n][k] = x[n][idx[n*K + k]]
Tensor gather(const Tensor& x, const Ids& idx, int64_t k);
// x: (N, D), idx: M entries in [0, N) -> (M, D): rows of x (MoE dispatch)
Tensor index_select(const Tensor& x, const Ids& idx);
// src: (M, D), idx: M entries in [0, n) -> (n, D): out[idx[m]] += src[m] (MoE combine)
Tensor scatter_add(const Tensor& src, const Ids& idx, int64_t n);

// --- neural-net ops -----------------------------------------------------------------
// x: (..., D), w: (D) -> x * rsqrt(mean(x^2, -1) + eps) * w
Tensor rmsnorm(const Tensor& x, const Tensor& w, float eps);
// RoPE's frequencies: pair i rotates by pos * inv_freq[i]; cos and sin are multiplied by scale
// (1 for plain RoPE; YaRN's attention factor, model/rope_scaling.h, for scaled RoPE).
struct RopeFreqs {
  std::vector<float> inv_freq;  // (Dh/2)
  float scale = 1.0f;
};
// Plain RoPE with base theta over a head of width dim: inv_freq[i] = 1 / theta^(2i/dim), in the
// float32 recipe of Hugging Face's default rotary embedding.
RopeFreqs rope_default_freqs(float theta, int64_t dim);
// x: (B, T, H, Dh), Dh even. positions: T entries (shared by every batch row) or B*T entries.
// Hugging Face rotate-half convention: for i < Dh/2, pair (i, i + Dh/2) is rotated by angle
// pos * inv_freq[i] and scaled by f.scale. f.inv_freq must have Dh/2 entries.
Tensor rope(const Tensor& x, const Ids& positions, const RopeFreqs& f);
// The same with rope_default_freqs(theta, Dh).
Tensor rope(const Tensor& x, const Ids& positions, float theta);
Tensor softmax(const Tensor& x);      // over the last dim, stable (max subtracted)
Tensor log_softmax(const Tensor& x);  // over the last dim, stable
// logits: (N, V), targets: N entries; entries equal to ignore_index do not count.
// -> shape (): mean over counted rows of -log_softmax(logits)[n][target[n]] (0 if none count)
Tensor cross_entropy(const Tensor& logits, const Ids& targets, int32_t ignore_index = -100);

// --- attention --------------------------------------------------------------------
// q: (B, H, T, Dk), k: (B, Hkv, S, Dk), v: (B, Hkv, S, Dv) -> (B, H, T, Dv).
// softmax(q k^T * scale) v over keys. GQA: H % Hkv == 0 and query head h reads kv head
// h / (H / Hkv). causal: query t sits at absolute position S - T + t and sees keys s <= that
// (so a prefill with T == S is the usual causal mask, and a decode step with T == 1 sees all S).
// key_mask: empty, or B*S entries, 0 = padding key never attended. A query that sees no key
// outputs zeros.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, float scale,
                 const std::vector<uint8_t>& key_mask = {});

}  // namespace r1
