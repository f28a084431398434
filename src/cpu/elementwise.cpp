// Elementwise CPU kernels. The same-shape case (all strides contiguous) runs as one flat,
// vectorizable loop; the broadcast case walks the 4-d index with strides.
#include "cpu/elementwise.h"

#include <algorithm>
#include <cmath>

namespace r1::cpu {

// --- binary -------------------------------------------------------------------

static inline float apply(BinaryOp op, float x, float y) {
  switch (op) {
    case BinaryOp::Add: return x + y;
    case BinaryOp::Sub: return x - y;
    case BinaryOp::Mul: return x * y;
    case BinaryOp::Div: return x / y;
    case BinaryOp::Min: return std::min(x, y);
    case BinaryOp::Max: return std::max(x, y);
    case BinaryOp::LessEq: return x <= y ? 1.0f : 0.0f;
    case BinaryOp::GreaterEq: return x >= y ? 1.0f : 0.0f;
  }
  return 0;
}

template <BinaryOp OP>
static void binary_loop(const float* a, const float* b, float* out, const Broadcast4& bc) {
  const int64_t* s = bc.shape;
  int64_t n = s[0] * s[1] * s[2] * s[3];
  const int64_t *sa = bc.a_stride, *sb = bc.b_stride;
  bool a_flat = sa[3] == 1 && sa[2] == s[3] && sa[1] == s[2] * s[3] && sa[0] == s[1] * s[2] * s[3];
  bool b_flat = sb[3] == 1 && sb[2] == s[3] && sb[1] == s[2] * s[3] && sb[0] == s[1] * s[2] * s[3];
  if (a_flat && b_flat) {
#pragma omp parallel for simd if (n > 65536)
    for (int64_t i = 0; i < n; i++) out[i] = apply(OP, a[i], b[i]);
    return;
  }
  int64_t rows = s[0] * s[1] * s[2];
#pragma omp parallel for if (n > 65536)
  for (int64_t r = 0; r < rows; r++) {
    int64_t i0 = r / (s[1] * s[2]), i1 = (r / s[2]) % s[1], i2 = r % s[2];
    const float* pa = a + i0 * sa[0] + i1 * sa[1] + i2 * sa[2];
    const float* pb = b + i0 * sb[0] + i1 * sb[1] + i2 * sb[2];
    float* po = out + r * s[3];
    // The innermost dim is contiguous or broadcast in each operand; the three common
    // cases get loops the compiler vectorizes (a row + a row, a row op a scalar, ...).
    const int64_t n3 = s[3];
    if (sa[3] == 1 && sb[3] == 1) {
      for (int64_t j = 0; j < n3; j++) po[j] = apply(OP, pa[j], pb[j]);
    } else if (sa[3] == 1 && sb[3] == 0) {
      const float y = *pb;
      for (int64_t j = 0; j < n3; j++) po[j] = apply(OP, pa[j], y);
    } else if (sa[3] == 0 && sb[3] == 1) {
      const float x = *pa;
      for (int64_t j = 0; j < n3; j++) po[j] = apply(OP, x, pb[j]);
    } else {
      for (int64_t j = 0; j < n3; j++) po[j] = apply(OP, pa[j * sa[3]], pb[j * sb[3]]);
    }
  }
}

void binary(BinaryOp op, const float* a, const float* b, float* out, const Broadcast4& bc) {
  switch (op) {
    case BinaryOp::Add: return binary_loop<BinaryOp::Add>(a, b, out, bc);
    case BinaryOp::Sub: return binary_loop<BinaryOp::Sub>(a, b, out, bc);
    case BinaryOp::Mul: return binary_loop<BinaryOp::Mul>(a, b, out, bc);
    case BinaryOp::Div: return binary_loop<BinaryOp::Div>(a, b, out, bc);
    case BinaryOp::Min: return binary_loop<BinaryOp::Min>(a, b, out, bc);
    case BinaryOp::Max: return binary_loop<BinaryOp::Max>(a, b, out, bc);
    case BinaryOp::LessEq: return binary_loop<BinaryOp::LessEq>(a, b, out, bc);
    case BinaryOp::GreaterEq: return binary_loop<BinaryOp::GreaterEq>(a, b, out, bc);
  }
}

void add_inplace(float* acc, const float* x, int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; i++) acc[i] += x[i];
}

// --- unary --------------------------------------------------------------------

static inline float sigmoid_f(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void unary(UnaryOp op, const float* x, float* out, int64_t n) {
  switch (op) {
    case UnaryOp::Neg:
      for (int64_t i = 0; i < n; i++) out[i] = -x[i];
      return;
    case UnaryOp::Exp:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++) out[i] = std::exp(x[i]);
      return;
    case UnaryOp::Log:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++) out[i] = std::log(x[i]);
      return;
    case UnaryOp::Silu:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++) out[i] = x[i] * sigmoid_f(x[i]);
      return;
    case UnaryOp::Sigmoid:
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++) out[i] = sigmoid_f(x[i]);
      return;
  }
}

void silu_backward(const float* x, const float* g, float* out, int64_t n) {
  // d/dx x*s(x) = s(x) * (1 + x * (1 - s(x)))
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    float s = sigmoid_f(x[i]);
    out[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

void silu_keep_sigmoid(const float* x, float* out, float* s, int64_t n) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; i++) {
    s[i] = sigmoid_f(x[i]);
    out[i] = x[i] * s[i];
  }
}

void silu_backward_sigmoid(const float* x, const float* s, const float* g, float* out, int64_t n) {
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; i++) out[i] = g[i] * s[i] * (1.0f + x[i] * (1.0f - s[i]));
}

void clamp(const float* x, float lo, float hi, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = std::min(std::max(x[i], lo), hi);
}

void clamp_backward(const float* x, float lo, float hi, const float* g, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = (x[i] >= lo && x[i] <= hi) ? g[i] : 0.0f;
}

// --- where and broadcast reduction ----------------------------------------------

void where(const float* m, const int64_t sm[4], const float* a, const float* b, float* out, const Broadcast4& bc) {
  const int64_t* s = bc.shape;
  const int64_t *sa = bc.a_stride, *sb = bc.b_stride;
  int64_t i = 0;
  for (int64_t i0 = 0; i0 < s[0]; i0++)
    for (int64_t i1 = 0; i1 < s[1]; i1++)
      for (int64_t i2 = 0; i2 < s[2]; i2++)
        for (int64_t i3 = 0; i3 < s[3]; i3++, i++) {
          float mv = m[i0 * sm[0] + i1 * sm[1] + i2 * sm[2] + i3 * sm[3]];
          out[i] = mv != 0.0f ? a[i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3]]
                              : b[i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3]];
        }
}

void reduce_broadcast(const float* g, const int64_t s[4], const int64_t st[4], float* out) {
  int64_t i = 0;
  for (int64_t i0 = 0; i0 < s[0]; i0++)
    for (int64_t i1 = 0; i1 < s[1]; i1++)
      for (int64_t i2 = 0; i2 < s[2]; i2++) {
        float* po = out + i0 * st[0] + i1 * st[1] + i2 * st[2];
        if (st[3] == 1) {
          for (int64_t i3 = 0; i3 < s[3]; i3++) po[i3] += g[i + i3];
        } else {
          float acc = 0;  // this row collapses onto one element
          for (int64_t i3 = 0; i3 < s[3]; i3++) acc += g[i + i3];
          *po += acc;
        }
        i += s[3];
      }
}

}  // namespace r1::cpu
