// matmul and linear, forward and backward, over the CPU GEMM (src/cpu/gemm.h) or cuBLAS.
//
// Backward of C = op(A) op(B) with dC:
//   dA = dC op(B)^T   (stored transposed when trans_a: dA = op(B) dC^T)
//   dB = op(A)^T dC   (stored transposed when trans_b: dB = dC^T op(A))
// A 2-d operand shared by a batched one gets the sum over the batch.
#include "autograd/autograd.h"
#include "cpu/bf16.h"
#include "cpu/gemm.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

static void gemm_dispatch(Device dev, bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K,
                          const float* A, int64_t lda, int64_t sa, const float* B, int64_t ldb, int64_t sb,
                          float* C, int64_t ldc, int64_t sc) {
  if (dev == Device::CPU) {
    if (batch == 1) cpu::sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
    else cpu::sgemm_batched(ta, tb, batch, M, N, K, 1.0f, A, lda, sa, B, ldb, sb, 0.0f, C, ldc, sc);
    return;
  }
#ifdef R1_CUDA
  if (batch == 1) cuda::sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
  else cuda::sgemm_batched(ta, tb, batch, M, N, K, 1.0f, A, lda, sa, B, ldb, sb, 0.0f, C, ldc, sc);
#else
  throw Error("matmul: this r1 was built without CUDA");
#endif
}

// Sums a batched gradient (..., R, C) over its batch dims when the operand was a shared 2-d matrix.
static Tensor unbatch(const Tensor& g, const Tensor& operand) {
  if (operand.dim() == 2 && g.dim() > 2) return sum(reshape(g, {-1, g.size(-2), g.size(-1)}), 0);
  return g;
}

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  Device dev = same_device("matmul", {&a, &b});
  auto fail = [&](const char* why) {
    throw Error(cat("matmul: ", why, ": a ", shape_str(a.shape()), (ta ? "^T" : ""), " @ b ", shape_str(b.shape()),
                    (tb ? "^T" : "")));
  };
  if (a.dim() < 2 || b.dim() < 2) fail("operands need at least 2 dims");
  int64_t M = ta ? a.size(-1) : a.size(-2), Ka = ta ? a.size(-2) : a.size(-1);
  int64_t Kb = tb ? b.size(-1) : b.size(-2), N = tb ? b.size(-2) : b.size(-1);
  if (Ka != Kb) fail("inner dims differ");
  int64_t K = Ka;
  // Batch dims: those of the batched operand; a 2-d operand is shared by every batch entry.
  Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  if (!a_batch.empty() && !b_batch.empty() && a_batch != b_batch) fail("batch dims differ");
  Shape out_shape = a_batch.empty() ? b_batch : a_batch;
  int64_t batch = shape_numel(out_shape);
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = Tensor::empty(out_shape, dev);
  int64_t lda = a.size(-1), ldb = b.size(-1);
  if (b_batch.empty() && !ta) {
    // One GEMM over the flattened batch: (batch*M, K) @ op(B).
    gemm_dispatch(dev, false, tb, 1, batch * M, N, K, a.data(), lda, 0, b.data(), ldb, 0, out.data(), N, 0);
  } else {
    gemm_dispatch(dev, ta, tb, batch, M, N, K, a.data(), lda, a_batch.empty() ? 0 : M * K, b.data(), ldb,
                  b_batch.empty() ? 0 : K * N, out.data(), N, M * N);
  }
  if (needs_grad({a, b})) {
    Tensor ad = a.detach(), bd = b.detach();
    record(out, "matmul", {a, b}, [a, b, ad, bd, ta, tb](const Tensor& g) {
      if (a.requires_grad()) {
        Tensor ga = ta ? matmul(bd, g, tb, true) : matmul(g, bd, false, !tb);
        accumulate_grad(a, unbatch(ga, a));
      }
      if (b.requires_grad()) {
        Tensor gb;
        if (b.dim() == 2 && !ta) {
          // Flatten the batch so one GEMM sums over it.
          Tensor a2 = reshape(ad, {-1, ad.size(-1)}), g2 = reshape(g, {-1, g.size(-1)});
          gb = tb ? matmul(g2, a2, true, false) : matmul(a2, g2, true, false);
        } else {
          gb = tb ? matmul(g, ad, true, ta) : matmul(ad, g, !ta, false);
        }
        accumulate_grad(b, unbatch(gb, b));
      }
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  if (w.dim() != 2) throw Error(cat("linear: weight must be (out, in), got ", shape_str(w.shape())));
  if (x.dim() < 1 || x.size(-1) != w.size(1))
    throw Error(cat("linear: x ", shape_str(x.shape()), " does not match weight ", shape_str(w.shape())));
  Shape lead(x.shape().begin(), x.shape().end() - 1);
  Tensor y;  // (N, out)
  const uint16_t* w16 = w.bf16_data();
  if (w16 && x.device() == Device::CPU && !needs_grad({x, w})) {
    // Inference with BF16 weights (Tensor::from_bf16): float32 x times the BF16 W, float32 sums.
    Tensor x2 = reshape(x, {-1, w.size(1)});  // (N, in)
    y = Tensor::empty({x2.size(0), w.size(0)});
    cpu::gemm_bf16(x2.size(0), w.size(0), w.size(1), x2.data(), w.size(1), w16, w.size(1), y.data(), w.size(0));
  } else {
    y = matmul(reshape(x, {-1, w.size(1)}), w, false, true);  // widens BF16 weights to float32 once
  }
  if (bias.defined()) {
    if (bias.shape() != Shape{w.size(0)})
      throw Error(cat("linear: bias ", shape_str(bias.shape()), " for weight ", shape_str(w.shape())));
    y = add(y, bias);
  }
  lead.push_back(w.size(0));
  return reshape(y, lead);
}

}  // namespace r1
