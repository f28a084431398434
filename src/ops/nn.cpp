// Neural-net ops: rmsnorm, rope, softmax, log_softmax, cross_entropy. Each op checks its shapes,
// runs its CPU kernel (src/cpu/nn.cpp) or, on CUDA tensors, the kernel of the same contract in
// cuda/nn.cu, and records its backward, whose math is written above it.
// Does not do: other norms.
#include <cmath>

#include "autograd/autograd.h"
#include "cpu/nn.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

// The number of rows of x viewed as (N, D) over its last dim D.
static int64_t rows_of(const Tensor& x) { return x.numel() / x.size(-1); }

// --- rmsnorm ---------------------------------------------------------------------------
// y = x * r * w with r = 1 / sqrt(mean(x^2) + eps), per row of D.
// Backward, with g = dL/dy and dr/dx_j = -r^3 x_j / D:
//   dx = w*g*r - x * r^3 * mean(x * w * g)
//   dw = sum over rows of g * x * r

Tensor rmsnorm(const Tensor& x, const Tensor& w, float eps) {
  same_device("rmsnorm", {&x, &w});
  if (x.dim() < 1 || w.dim() != 1 || x.size(-1) != w.size(0) || x.numel() == 0)
    throw Error(cat("rmsnorm: x ", shape_str(x.shape()), " needs (..., D) with w (D), got w ", shape_str(w.shape())));
  if (!(eps >= 0)) throw Error(cat("rmsnorm: eps must be >= 0, got ", eps));
  int64_t D = x.size(-1), N = rows_of(x);
  Tensor y = Tensor::empty(x.shape(), x.device());  // (..., D)
  Tensor rstd = Tensor::empty({N}, x.device());     // (N)
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::rmsnorm_forward(x.data(), w.data(), eps, N, D, y.data(), rstd.data());
  else
#endif
    cpu::rmsnorm_forward(x.data(), w.data(), eps, N, D, y.data(), rstd.data());
  if (needs_grad({x, w})) {
    Tensor xd = x.detach(), wd = w.detach();
    record(y, "rmsnorm", {x, w}, [x, w, xd, wd, rstd, N, D](const Tensor& g) {
      Tensor dx = x.requires_grad() ? Tensor::empty(x.shape(), x.device()) : Tensor();
      Tensor dw = w.requires_grad() ? Tensor::empty(w.shape(), w.device()) : Tensor();
#ifdef R1_CUDA
      if (g.is_cuda())
        cuda::rmsnorm_backward(xd.data(), wd.data(), rstd.data(), g.data(), N, D, dx.defined() ? dx.data() : nullptr,
                               dw.defined() ? dw.data() : nullptr);
      else
#endif
        cpu::rmsnorm_backward(xd.data(), wd.data(), rstd.data(), g.data(), N, D, dx.defined() ? dx.data() : nullptr,
                              dw.defined() ? dw.data() : nullptr);
      if (dx.defined()) accumulate_grad(x, dx);
      if (dw.defined()) accumulate_grad(w, dw);
    });
  }
  return y;
}

// --- rope ------------------------------------------------------------------------------
// For each pair (x1, x2) = (x[i], x[i + Dh/2]), angle a = pos * inv_freq[i] and scale s:
//   y1 = s (x1 cos a - x2 sin a),   y2 = s (x2 cos a + x1 sin a)      (y = s R(a) x)
// Backward: dx = s R(a)^T g = s R(-a) g, the scaled rotation by -a.
// The angle follows the float32 recipe of transformers' rotary embeddings (inv_freq and
// pos * inv_freq rounded to float, see cpu/nn.cpp), so it rounds the way that code does at
// large positions (up to the last ulp of pow/cos/sin; not compared with torch on this machine).

RopeFreqs rope_default_freqs(float theta, int64_t dim) {
  if (!(theta > 0)) throw Error(cat("rope: theta must be > 0, got ", theta));
  RopeFreqs f;
  f.inv_freq.resize(size_t(dim / 2));  // (dim/2): HF's 1 / theta^(float(2i) / dim), in float
  for (int64_t i = 0; i < dim / 2; i++) f.inv_freq[size_t(i)] = 1.0f / std::pow(theta, float(2 * i) / float(dim));
  return f;
}

// out = the scaled rotation of x (B, T, H, Dh) by direction * angle, on x's device.
static void rope_raw(const Tensor& x, const Ids& positions, bool per_batch, const RopeFreqs& f, float direction,
                     Tensor& out) {
  int64_t B = x.size(0), T = x.size(1), H = x.size(2), Dh = x.size(3);
#ifdef R1_CUDA
  if (x.is_cuda())
    return cuda::rope(x.data(), positions.data(), per_batch, f.inv_freq.data(), f.scale, direction, B, T, H, Dh,
                      out.data());
#endif
  cpu::rope(x.data(), positions.data(), per_batch, f.inv_freq.data(), f.scale, direction, B, T, H, Dh, out.data());
}

Tensor rope(const Tensor& x, const Ids& positions, const RopeFreqs& f) {
  if (x.dim() != 4 || x.size(3) % 2 != 0)
    throw Error(cat("rope: x must be (B, T, H, Dh) with Dh even, got ", shape_str(x.shape())));
  int64_t B = x.size(0), T = x.size(1);
  int64_t n = int64_t(positions.size());
  if (n != T && n != B * T)
    throw Error(cat("rope: x ", shape_str(x.shape()), " needs T = ", T, " or B*T = ", B * T, " positions, got ", n));
  if (int64_t(f.inv_freq.size()) != x.size(3) / 2)
    throw Error(cat("rope: x ", shape_str(x.shape()), " needs Dh/2 = ", x.size(3) / 2, " frequencies, got ",
                    f.inv_freq.size()));
  bool per_batch = n != T;  // when B == 1 both forms are the same
  Tensor y = Tensor::empty(x.shape(), x.device());  // (B, T, H, Dh)
  rope_raw(x, positions, per_batch, f, 1.0f, y);
  if (needs_grad({x}))
    record(y, "rope", {x}, [x, positions, per_batch, f](const Tensor& g) {
      Tensor dx = Tensor::empty(x.shape(), x.device());
      rope_raw(g, positions, per_batch, f, -1.0f, dx);
      accumulate_grad(x, dx);
    });
  return y;
}

Tensor rope(const Tensor& x, const Ids& positions, float theta) {
  if (x.dim() != 4) throw Error(cat("rope: x must be (B, T, H, Dh) with Dh even, got ", shape_str(x.shape())));
  return rope(x, positions, rope_default_freqs(theta, x.size(3)));
}

// --- softmax ---------------------------------------------------------------------------
// y = exp(x - max) / sum(exp(x - max)) per row.
// Backward: dx = y * (g - sum(g * y)).

Tensor softmax(const Tensor& x) {
  if (x.dim() < 1 || x.numel() == 0) throw Error(cat("softmax: needs a non-empty (..., D) input, got ", shape_str(x.shape())));
  int64_t D = x.size(-1), N = rows_of(x);
  Tensor y = Tensor::empty(x.shape(), x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::softmax_forward(x.data(), N, D, y.data());
  else
#endif
    cpu::softmax_forward(x.data(), N, D, y.data());
  if (needs_grad({x})) {
    Tensor yd = y.detach();
    record(y, "softmax", {x}, [x, yd, N, D](const Tensor& g) {
      Tensor dx = Tensor::empty(x.shape(), x.device());
#ifdef R1_CUDA
      if (g.is_cuda()) cuda::softmax_backward(yd.data(), g.data(), N, D, dx.data());
      else
#endif
        cpu::softmax_backward(yd.data(), g.data(), N, D, dx.data());
      accumulate_grad(x, dx);
    });
  }
  return y;
}

// --- log_softmax -------------------------------------------------------------------------
// y = (x - max) - log(sum(exp(x - max))) per row.
// Backward: dx = g - exp(y) * sum(g).

Tensor log_softmax(const Tensor& x) {
  if (x.dim() < 1 || x.numel() == 0)
    throw Error(cat("log_softmax: needs a non-empty (..., D) input, got ", shape_str(x.shape())));
  int64_t D = x.size(-1), N = rows_of(x);
  Tensor y = Tensor::empty(x.shape(), x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::log_softmax_forward(x.data(), N, D, y.data());
  else
#endif
    cpu::log_softmax_forward(x.data(), N, D, y.data());
  if (needs_grad({x})) {
    Tensor yd = y.detach();
    record(y, "log_softmax", {x}, [x, yd, N, D](const Tensor& g) {
      Tensor dx = Tensor::empty(x.shape(), x.device());
#ifdef R1_CUDA
      if (g.is_cuda()) cuda::log_softmax_backward(yd.data(), g.data(), N, D, dx.data());
      else
#endif
        cpu::log_softmax_backward(yd.data(), g.data(), N, D, dx.data());
      accumulate_grad(x, dx);
    });
  }
  return y;
}

// --- cross_entropy -----------------------------------------------------------------------
// L = (1/C) sum over counted rows n of (lse_n - x[n][t_n]), lse_n = log(sum_v exp(x[n][v])),
// C = the number of counted rows (L = 0 when C == 0). Never log(softmax): lse is computed
// with the row max subtracted.
// Backward, with g = dL/dL_out (a scalar): dx[n] = (g / C) * (softmax(x[n]) - onehot(t_n)) on
// counted rows, 0 on ignored rows.

#ifdef R1_CUDA
// The CUDA side of cross_entropy (shapes and targets already checked): the loss stays on the
// device, and the backward reads g there too (no host round trip).
static Tensor cross_entropy_cuda(const Tensor& logits, const Ids& targets, int32_t ignore_index, int64_t count,
                                 Tensor lse) {
  int64_t N = logits.size(0), V = logits.size(1);
  Tensor out = Tensor::empty({}, logits.device());
  cuda::cross_entropy_forward(logits.data(), targets.data(), ignore_index, N, V, count, lse.data(), out.data());
  if (needs_grad({logits})) {
    Tensor xd = logits.detach();
    record(out, "cross_entropy", {logits}, [logits, xd, targets, ignore_index, lse, count, N, V](const Tensor& g) {
      if (count == 0) return accumulate_grad(logits, Tensor::zeros(logits.shape(), logits.device()));
      Tensor dx = Tensor::empty(logits.shape(), logits.device());  // every row written, ignored ones with 0
      cuda::cross_entropy_backward(xd.data(), targets.data(), ignore_index, lse.data(), g.data(), count, N, V,
                                   dx.data());
      accumulate_grad(logits, dx);
    });
  }
  return out;
}
#endif

Tensor cross_entropy(const Tensor& logits, const Ids& targets, int32_t ignore_index) {
  if (logits.dim() != 2 || logits.size(1) == 0)
    throw Error(cat("cross_entropy: logits must be (N, V) with V > 0, got ", shape_str(logits.shape())));
  int64_t N = logits.size(0), V = logits.size(1);
  if (int64_t(targets.size()) != N)
    throw Error(cat("cross_entropy: logits ", shape_str(logits.shape()), " need ", N, " targets, got ",
                    targets.size()));
  int64_t count = 0;
  for (int64_t n = 0; n < N; n++) {
    int32_t t = targets[size_t(n)];
    if (t == ignore_index) continue;
    if (t < 0 || t >= V)
      throw Error(cat("cross_entropy: target ", t, " at row ", n, " is outside [0, ", V, ") for logits ",
                      shape_str(logits.shape()), " (ignore_index ", ignore_index, ")"));
    count++;
  }
  Tensor lse = Tensor::empty({N}, logits.device());  // (N)
#ifdef R1_CUDA
  if (logits.is_cuda()) return cross_entropy_cuda(logits, targets, ignore_index, count, lse);
#endif
  std::vector<float> row_loss(static_cast<size_t>(N));  // (N)
  cpu::cross_entropy_forward(logits.data(), targets.data(), ignore_index, N, V, lse.data(), row_loss.data());
  double total = 0;  // rows summed in order: deterministic
  for (float l : row_loss) total += l;
  Tensor out = Tensor::scalar(count > 0 ? float(total / double(count)) : 0.0f, logits.device());
  if (needs_grad({logits})) {
    Tensor xd = logits.detach();
    record(out, "cross_entropy", {logits}, [logits, xd, targets, ignore_index, lse, count, N, V](const Tensor& g) {
      if (count == 0) return accumulate_grad(logits, Tensor::zeros(logits.shape(), logits.device()));
      Tensor dx = Tensor::empty(logits.shape(), logits.device());  // every row written, ignored ones with 0
      float coef = g.item() / float(count);
      cpu::cross_entropy_backward(xd.data(), targets.data(), ignore_index, lse.data(), coef, N, V, dx.data());
      accumulate_grad(logits, dx);
    });
  }
  return out;
}

}  // namespace r1
