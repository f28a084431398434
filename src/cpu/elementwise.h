// CPU kernels for elementwise ops with numpy broadcasting, and the reductions that undo a
// broadcast. Shapes here are already checked and padded to 4 dims by the caller (src/ops).
#pragma once
#include <cstdint>

namespace r1::cpu {

enum class BinaryOp { Add, Sub, Mul, Div, Min, Max, LessEq, GreaterEq };  // LessEq/GreaterEq give 1 or 0
enum class UnaryOp { Neg, Exp, Log, Silu, Sigmoid };

// A broadcast of two operands onto a 4-d output: strides are 0 along broadcast dims.
struct Broadcast4 {
  int64_t shape[4];     // output shape, left-padded with 1s
  int64_t a_stride[4];  // element strides of a in the output's index space
  int64_t b_stride[4];
};

// out[i] = a[i'] op b[i''] over the output shape.
void binary(BinaryOp op, const float* a, const float* b, float* out, const Broadcast4& bc);
// acc[i] += x[i] for n elements (gradient accumulation; the same sums as binary Add).
void add_inplace(float* acc, const float* x, int64_t n);
// out[i] = op(x[i]) for n elements.
void unary(UnaryOp op, const float* x, float* out, int64_t n);
// Backward helpers for n elements: out = g * f'(x).
void silu_backward(const float* x, const float* g, float* out, int64_t n);
// silu that also stores s = sigmoid(x) for the backward; out is bitwise unary(Silu)'s.
void silu_keep_sigmoid(const float* x, float* out, float* s, int64_t n);
// silu_backward given s = sigmoid(x) from the forward; bitwise silu_backward's result.
void silu_backward_sigmoid(const float* x, const float* s, const float* g, float* out, int64_t n);
void clamp(const float* x, float lo, float hi, float* out, int64_t n);
void clamp_backward(const float* x, float lo, float hi, const float* g, float* out, int64_t n);
// out = m != 0 ? a : b over the output shape, with a, b, m broadcast (strides as in Broadcast4).
void where(const float* m, const int64_t m_stride[4], const float* a, const float* b, float* out,
           const Broadcast4& bc);
// Sums g (over `shape` of bc, as an operand with strides `stride`) into out: out must start at zero.
// This undoes a broadcast: out[j] = sum over all i mapping to j of g[i].
void reduce_broadcast(const float* g, const int64_t shape[4], const int64_t stride[4], float* out);

}  // namespace r1::cpu
