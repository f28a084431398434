// CPU kernels for the neural-net row ops: RMSNorm, rotary embedding (RoPE), softmax,
// log-softmax and cross-entropy, forward and backward. Plain functions over float arrays;
// shapes are checked by the caller (src/ops/nn.cpp), which also writes the math of each
// backward next to its forward. Every kernel is deterministic: each output element is
// computed by one thread in a fixed order, so the thread count never changes a bit.
// Does not do: autograd, shape checks, other dtypes.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace r1::cpu {

// --- exp for softmax ------------------------------------------------------------------------
// e^x for x <= 0 (what a max-subtracted softmax feeds it) in plain float arithmetic that the
// compiler vectorizes (std::exp is a libm call per element: softmax over (2048, 1024) takes
// 2.4 ms instead of 10 ms of CPU time). Cephes' expf recipe: x = n ln2 + r with |r| <= ln2/2
// (ln2 split in two so n ln2 is exact), e^r by a degree-7 polynomial, 2^n written into the
// exponent bits. Relative error 8.4e-8 (~1.4 ulp; tests/test_ops_nn.cpp checks it against
// double exp). x > 0 is treated as 0 (returns 1); x < -87.5, where e^x leaves the normal
// floats, returns 0; NaN stays NaN.
inline float exp_nonpositive(float x) {
  const float xc = std::min(std::max(x, -87.5f), 0.0f);
  // n = round(x / ln2) in [-126, 0] by adding 1.5 * 2^23 (the float then has no fraction bits
  // left); a plain add, unlike nearbyint(), vectorizes.
  const float shifter = 12582912.0f;
  const float n = (xc * 1.44269504088896341f + shifter) - shifter;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;  // e^r
  const int32_t bits = (int32_t(n) + 127) << 23;
  float two_n;  // 2^n
  std::memcpy(&two_n, &bits, sizeof two_n);
  return x < -87.5f ? 0.0f : p * two_n;
}

// --- rmsnorm ---------------------------------------------------------------------------
// x: (N, D), w: (D) -> y: (N, D), rstd: (N) = 1 / sqrt(mean(x^2) + eps) (saved for backward).
void rmsnorm_forward(const float* x, const float* w, float eps, int64_t N, int64_t D, float* y, float* rstd);
// g: (N, D) = dL/dy. dx: (N, D) overwritten (may be null); dw: (D) overwritten (may be null).
void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* g, int64_t N, int64_t D,
                      float* dx, float* dw);

// --- rope ------------------------------------------------------------------------------
// x, out: (B, T, H, Dh), Dh even; positions: T entries (per_batch false) or B*T entries.
// inv_freq: (Dh/2). Rotates pair (i, i + Dh/2) by direction * pos * inv_freq[i] and multiplies it
// by scale (direction +1 forward; -1 is the backward, the transpose of the scaled rotation).
// out may alias x.
void rope(const float* x, const int32_t* positions, bool per_batch, const float* inv_freq, float scale,
          float direction, int64_t B, int64_t T, int64_t H, int64_t Dh, float* out);

// --- softmax and log-softmax over the last dim ----------------------------------------
// x, y: (N, D).
void softmax_forward(const float* x, int64_t N, int64_t D, float* y);
// y: (N, D) the softmax output, g: (N, D) = dL/dy -> dx: (N, D).
void softmax_backward(const float* y, const float* g, int64_t N, int64_t D, float* dx);
void log_softmax_forward(const float* x, int64_t N, int64_t D, float* y);
// y: (N, D) the log-softmax output, g: (N, D) = dL/dy -> dx: (N, D).
void log_softmax_backward(const float* y, const float* g, int64_t N, int64_t D, float* dx);

// --- cross-entropy ----------------------------------------------------------------------
// logits: (N, V), targets: (N) already checked to be in [0, V) or == ignore_index.
// lse: (N) log-sum-exp of each row (saved for backward); loss: (N) = lse - logit[target],
// 0 for ignored rows.
void cross_entropy_forward(const float* logits, const int32_t* targets, int32_t ignore_index, int64_t N,
                           int64_t V, float* lse, float* loss);
// dlogits: (N, V) = coef * (softmax(logits) - onehot(target)) on counted rows, 0 on ignored rows.
void cross_entropy_backward(const float* logits, const int32_t* targets, int32_t ignore_index, const float* lse,
                            float coef, int64_t N, int64_t V, float* dlogits);

}  // namespace r1::cpu
