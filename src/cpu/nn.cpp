// CPU kernels for RMSNorm, RoPE, softmax, log-softmax and cross-entropy. See nn.h; the math of
// each backward is written next to its op in src/ops/nn.cpp.
//
// Rows are independent, so each kernel splits its rows over OpenMP threads (when there is enough
// work to pay for the team) and walks a row in a fixed order: results do not depend on the thread
// count. Row sums (mean of squares, sum of exponentials, dot products) accumulate in double, as
// `omp simd` reductions (a fixed interleaving chosen at compile time). Exponentials use
// exp_nonpositive (nn.h), whose arguments are always max-subtracted.
#include "cpu/nn.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace r1::cpu {

// Below this many elements a kernel runs on one thread (starting a team costs ~microseconds).
static constexpr int64_t kParallelMin = 1 << 15;

// --- rmsnorm ---------------------------------------------------------------------------

void rmsnorm_forward(const float* x, const float* w, float eps, int64_t N, int64_t D, float* y, float* rstd) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    const float* xr = x + n * D;  // (D)
    float* yr = y + n * D;        // (D)
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int64_t d = 0; d < D; d++) ss += double(xr[d]) * double(xr[d]);
    float r = float(1.0 / std::sqrt(ss / double(D) + double(eps)));
    rstd[n] = r;
    // (x * r) * w: the order of Hugging Face's LlamaRMSNorm.
    for (int64_t d = 0; d < D; d++) yr[d] = (xr[d] * r) * w[d];
  }
}

void rmsnorm_backward(const float* x, const float* w, const float* rstd, const float* g, int64_t N, int64_t D,
                      float* dx, float* dw) {
  if (dx) {
    // dx = w*g*r - x * r^3 * mean(x * w * g)
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
    for (int64_t n = 0; n < N; n++) {
      const float* xr = x + n * D;  // (D)
      const float* gr = g + n * D;  // (D)
      float* dxr = dx + n * D;      // (D)
      double dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t d = 0; d < D; d++) dot += double(xr[d]) * double(w[d]) * double(gr[d]);
      float r = rstd[n];
      float c = float(double(r) * r * r * dot / double(D));
      for (int64_t d = 0; d < D; d++) dxr[d] = w[d] * gr[d] * r - xr[d] * c;
    }
  }
  if (dw) {
    // dw = sum over rows of g * x * r. Columns are split into blocks, one thread per block, and
    // every column sums its rows in order.
    constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
    for (int64_t d0 = 0; d0 < D; d0 += kBlock) {
      int64_t d1 = std::min(D, d0 + kBlock);
      double acc[kBlock] = {0};
      for (int64_t n = 0; n < N; n++) {
        const float* xr = x + n * D;
        const float* gr = g + n * D;
        double r = rstd[n];
        for (int64_t d = d0; d < d1; d++) acc[d - d0] += double(gr[d]) * double(xr[d]) * r;
      }
      for (int64_t d = d0; d < d1; d++) dw[d] = float(acc[d - d0]);
    }
  }
}

// --- rope ------------------------------------------------------------------------------

void rope(const float* x, const int32_t* positions, bool per_batch, const float* inv_freq, float scale,
          float direction, int64_t B, int64_t T, int64_t H, int64_t Dh, float* out) {
  const int64_t half = Dh / 2;
  const int64_t R = per_batch ? B * T : T;  // rows of distinct positions
  // Hugging Face's float32 recipe: the angle float(inv_freq) * float(pos) rounded to float. cos and
  // sin of that float angle are evaluated in double and rounded, i.e. correctly rounded (torch's
  // float cos/sin are within an ulp), then multiplied by scale in float (HF: cos * attention_scaling).
  std::vector<float> cos_t(static_cast<size_t>(R * half)), sin_t(static_cast<size_t>(R * half));  // (R, Dh/2)
#pragma omp parallel for schedule(static) if (R * half >= 4096)
  for (int64_t r = 0; r < R; r++)
    for (int64_t i = 0; i < half; i++) {
      float angle = inv_freq[i] * float(positions[r]);
      cos_t[size_t(r * half + i)] = float(std::cos(double(angle))) * scale;
      sin_t[size_t(r * half + i)] = direction * (float(std::sin(double(angle))) * scale);
    }
#pragma omp parallel for schedule(static) if (B * T * H * Dh >= kParallelMin)
  for (int64_t bt = 0; bt < B * T; bt++) {
    const float* c = cos_t.data() + (per_batch ? bt : bt % T) * half;  // (Dh/2)
    const float* s = sin_t.data() + (per_batch ? bt : bt % T) * half;  // (Dh/2)
    for (int64_t h = 0; h < H; h++) {
      const float* xh = x + (bt * H + h) * Dh;  // (Dh)
      float* oh = out + (bt * H + h) * Dh;      // (Dh)
      for (int64_t i = 0; i < half; i++) {
        float x1 = xh[i], x2 = xh[i + half];
        oh[i] = x1 * c[i] - x2 * s[i];
        oh[i + half] = x2 * c[i] + x1 * s[i];
      }
    }
  }
}

// --- softmax and log-softmax -----------------------------------------------------------

// Max of a row (the shift that keeps exp() from overflowing). Written as a compare-select,
// which GCC vectorizes (std::max it does not). A NaN is skipped here and propagates through exp.
static float row_max(const float* xr, int64_t D) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t d = 0; d < D; d++) m = xr[d] > m ? xr[d] : m;
  return m;
}

// sum over d of exp(x[d] - m). Chunks of 256 are summed in float by an `omp simd` reduction
// (8 or 16 lanes of at most 32 terms: relative error < 2e-6) and the chunks in double. The lanes interleave
// in an order fixed at compile time, so the result does not depend on threads. (A double
// reduction of the exps does not vectorize with GCC 12.)
static double sum_exp(const float* xr, int64_t D, float m) {
  double s = 0;
  for (int64_t d0 = 0; d0 < D; d0 += 256) {
    const int64_t d1 = std::min(D, d0 + 256);
    float chunk = 0;
#pragma omp simd reduction(+ : chunk)
    for (int64_t d = d0; d < d1; d++) chunk += exp_nonpositive(xr[d] - m);
    s += chunk;
  }
  return s;
}

void softmax_forward(const float* x, int64_t N, int64_t D, float* y) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    const float* xr = x + n * D;  // (D)
    float* yr = y + n * D;        // (D)
    float m = row_max(xr, D);
    float inv = float(1.0 / sum_exp(xr, D, m));
    for (int64_t d = 0; d < D; d++) yr[d] = exp_nonpositive(xr[d] - m) * inv;
  }
}

void softmax_backward(const float* y, const float* g, int64_t N, int64_t D, float* dx) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    const float* yr = y + n * D;
    const float* gr = g + n * D;
    float* dxr = dx + n * D;
    double dot = 0;
#pragma omp simd reduction(+ : dot)
    for (int64_t d = 0; d < D; d++) dot += double(gr[d]) * double(yr[d]);
    float fdot = float(dot);
    for (int64_t d = 0; d < D; d++) dxr[d] = yr[d] * (gr[d] - fdot);
  }
}

void log_softmax_forward(const float* x, int64_t N, int64_t D, float* y) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    const float* xr = x + n * D;
    float* yr = y + n * D;
    float m = row_max(xr, D);
    float log_s = float(std::log(sum_exp(xr, D, m)));
    for (int64_t d = 0; d < D; d++) yr[d] = (xr[d] - m) - log_s;
  }
}

void log_softmax_backward(const float* y, const float* g, int64_t N, int64_t D, float* dx) {
#pragma omp parallel for schedule(static) if (N * D >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    const float* yr = y + n * D;
    const float* gr = g + n * D;
    float* dxr = dx + n * D;
    double gsum = 0;
#pragma omp simd reduction(+ : gsum)
    for (int64_t d = 0; d < D; d++) gsum += gr[d];
    float fsum = float(gsum);
    for (int64_t d = 0; d < D; d++) dxr[d] = gr[d] - exp_nonpositive(yr[d]) * fsum;
  }
}

// --- cross-entropy ----------------------------------------------------------------------

void cross_entropy_forward(const float* logits, const int32_t* targets, int32_t ignore_index, int64_t N,
                           int64_t V, float* lse, float* loss) {
#pragma omp parallel for schedule(static) if (N * V >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    if (targets[n] == ignore_index) {
      lse[n] = 0;
      loss[n] = 0;
      continue;
    }
    const float* xr = logits + n * V;  // (V)
    float m = row_max(xr, V);
    double log_s = std::log(sum_exp(xr, V, m));
    lse[n] = float(double(m) + log_s);
    // -log_softmax[target] = (m - x[target]) + log(sum exp(x - m)), in double.
    loss[n] = float(double(m) - double(xr[targets[n]]) + log_s);
  }
}

void cross_entropy_backward(const float* logits, const int32_t* targets, int32_t ignore_index, const float* lse,
                            float coef, int64_t N, int64_t V, float* dlogits) {
#pragma omp parallel for schedule(static) if (N * V >= kParallelMin)
  for (int64_t n = 0; n < N; n++) {
    float* dr = dlogits + n * V;  // (V)
    if (targets[n] == ignore_index) {
      std::fill(dr, dr + V, 0.0f);
      continue;
    }
    const float* xr = logits + n * V;
    const float l = lse[n];
    for (int64_t v = 0; v < V; v++) dr[v] = coef * exp_nonpositive(xr[v] - l);
    int32_t t = targets[n];
    dr[t] = coef * (exp_nonpositive(xr[t] - l) - 1.0f);  // (p - 1) before scaling: no cancellation against coef
  }
}

}  // namespace r1::cpu
