// attention: fused causal scaled-dot-product attention with grouped-query heads and a key
// padding mask, forward and backward (semantics in ops.h, kernels and math in
// src/cpu/attention.cpp).
//
// Forward:  O = softmax(Q K^T * scale, over the keys each query sees) V
// Backward: dP = dO V^T; dS = P * (dP - rowsum(P * dP)); dQ = scale dS K;
//           dK = scale dS^T Q and dV = P^T dO, each summed over the query heads sharing a kv head.
// The probabilities P (B, H, T, S) are saved by the forward when a gradient is needed, and
// read by the backward (no recomputation). Without autograd P is not kept.
// On CUDA (cuda/attention.cu, flash-style) the forward saves its output and the per-query
// log-sum-exp (B, H, T) instead of P, and the backward recomputes P tile by tile from them.
// Does not do: dropout; head dims above 256 on CUDA.
#include "autograd/autograd.h"
#include "cpu/attention.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

#ifdef R1_CUDA
// The CUDA path (shapes already checked): out and lse from the fused forward; the backward
// reads q, k, v, out and lse.
static Tensor attention_cuda(const Tensor& q, const Tensor& k, const Tensor& v, const cpu::AttentionShape& s,
                             bool causal, float scale, const std::vector<uint8_t>& key_mask) {
  Tensor out = Tensor::empty({s.B, s.H, s.T, s.Dv}, Device::CUDA);  // (B, H, T, Dv)
  Tensor lse = Tensor::empty({s.B, s.H, s.T}, Device::CUDA);        // (B, H, T)
  const uint8_t* mask = key_mask.empty() ? nullptr : key_mask.data();
  cuda::attention_forward(s, q.data(), k.data(), v.data(), causal, scale, mask, out.data(), lse.data());
  if (needs_grad({q, k, v})) {
    Tensor qd = q.detach(), kd = k.detach(), vd = v.detach(), od = out.detach();
    record(out, "attention", {q, k, v},
           [q, k, v, qd, kd, vd, od, lse, s, causal, scale, key_mask](const Tensor& g) {
             Tensor dq = Tensor::empty(q.shape(), Device::CUDA);  // (B, H, T, Dk)
             Tensor dk = Tensor::empty(k.shape(), Device::CUDA);  // (B, Hkv, S, Dk)
             Tensor dv = Tensor::empty(v.shape(), Device::CUDA);  // (B, Hkv, S, Dv)
             cuda::attention_backward(s, qd.data(), kd.data(), vd.data(), od.data(), lse.data(), g.data(), causal,
                                      scale, key_mask.empty() ? nullptr : key_mask.data(), dq.data(), dk.data(),
                                      dv.data());
             accumulate_grad(q, dq);
             accumulate_grad(k, dk);
             accumulate_grad(v, dv);
           });
  }
  return out;
}
#endif

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal, float scale,
                 const std::vector<uint8_t>& key_mask) {
  same_device("attention", {&q, &k, &v});
  auto fail = [&](const std::string& why) {
    throw Error(cat("attention: ", why, ": q ", shape_str(q.shape()), ", k ", shape_str(k.shape()), ", v ",
                    shape_str(v.shape())));
  };
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4)
    fail("q, k, v must be (B, H, T, Dk), (B, Hkv, S, Dk), (B, Hkv, S, Dv)");
  if (q.numel() == 0 || k.numel() == 0 || v.numel() == 0) fail("empty input");
  cpu::AttentionShape s{q.size(0), q.size(1), k.size(1), q.size(2), k.size(2), q.size(3), v.size(3)};
  if (k.size(0) != s.B || v.size(0) != s.B) fail("batch sizes differ");
  if (v.size(1) != s.Hkv || v.size(2) != s.S) fail("k and v differ in heads or length");
  if (k.size(3) != s.Dk) fail("q and k head dims differ");
  if (s.H % s.Hkv != 0) fail("query heads are not a multiple of kv heads");
  if (!key_mask.empty() && int64_t(key_mask.size()) != s.B * s.S)
    fail(cat("key_mask has ", key_mask.size(), " entries, expected B*S = ", s.B * s.S));
#ifdef R1_CUDA
  if (q.is_cuda()) {
    if (s.Dk > cuda::kAttentionMaxHeadDim || s.Dv > cuda::kAttentionMaxHeadDim)
      fail(cat("the CUDA kernel takes head dims up to ", cuda::kAttentionMaxHeadDim));
    return attention_cuda(q, k, v, s, causal, scale, key_mask);
  }
#endif
  require_cpu("attention", q);
  const uint8_t* mask = key_mask.empty() ? nullptr : key_mask.data();

  Tensor out = Tensor::empty({s.B, s.H, s.T, s.Dv}, q.device());  // (B, H, T, Dv)
  bool grad = needs_grad({q, k, v});
  Tensor probs = grad ? Tensor::empty({s.B, s.H, s.T, s.S}, q.device()) : Tensor();  // (B, H, T, S)
  cpu::attention_forward(s, q.data(), k.data(), v.data(), causal, scale, mask, out.data(),
                         grad ? probs.data() : nullptr);
  if (grad) {
    Tensor qd = q.detach(), kd = k.detach(), vd = v.detach();
    record(out, "attention", {q, k, v}, [q, k, v, qd, kd, vd, probs, s, scale](const Tensor& g) {
      Tensor dq = Tensor::empty(q.shape(), q.device());  // (B, H, T, Dk)
      Tensor dk = Tensor::empty(k.shape(), k.device());  // (B, Hkv, S, Dk)
      Tensor dv = Tensor::empty(v.shape(), v.device());  // (B, Hkv, S, Dv)
      cpu::attention_backward(s, qd.data(), kd.data(), vd.data(), probs.data(), g.data(), scale, dq.data(),
                              dk.data(), dv.data());
      accumulate_grad(q, dq);
      accumulate_grad(k, dk);
      accumulate_grad(v, dv);
    });
  }
  return out;
}

}  // namespace r1
