// Elementwise ops: broadcasting binary ops, scalar ops and unary functions, each forward
// next to its backward. Kernels: src/cpu/elementwise.cpp and, on CUDA tensors, cuda/elementwise.cu.
#include <cmath>

#include "autograd/autograd.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

// --- binary ---------------------------------------------------------------------

// Forward of any binary op; no autograd.
static Tensor binary_raw(cpu::BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  Device dev = same_device(name, {&a, &b});
  Shape out_shape = broadcast_shape(name, a.shape(), b.shape());
  Tensor out = Tensor::empty(out_shape, dev);
  cpu::Broadcast4 bc = plan_broadcast(out_shape, a.shape(), b.shape());
#ifdef R1_CUDA
  if (dev == Device::CUDA) cuda::binary(op, a.data(), b.data(), out.data(), bc);
  else
#endif
    cpu::binary(op, a.data(), b.data(), out.data(), bc);
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(cpu::BinaryOp::Add, "add", a, b);
  if (needs_grad({a, b}))
    record(out, "add", {a, b}, [a, b](const Tensor& g) {
      accumulate_grad(a, sum_to(g, a.shape()));
      accumulate_grad(b, sum_to(g, b.shape()));
    });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(cpu::BinaryOp::Sub, "sub", a, b);
  if (needs_grad({a, b}))
    record(out, "sub", {a, b}, [a, b](const Tensor& g) {
      accumulate_grad(a, sum_to(g, a.shape()));
      if (b.requires_grad()) accumulate_grad(b, sum_to(neg(g), b.shape()));
    });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(cpu::BinaryOp::Mul, "mul", a, b);
  if (needs_grad({a, b})) {
    Tensor ad = a.detach(), bd = b.detach();
    record(out, "mul", {a, b}, [a, b, ad, bd](const Tensor& g) {
      if (a.requires_grad()) accumulate_grad(a, sum_to(mul(g, bd), a.shape()));
      if (b.requires_grad()) accumulate_grad(b, sum_to(mul(g, ad), b.shape()));
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(cpu::BinaryOp::Div, "div", a, b);
  if (needs_grad({a, b})) {
    Tensor bd = b.detach(), od = out.detach();
    record(out, "div", {a, b}, [a, b, bd, od](const Tensor& g) {
      Tensor ga = div(g, bd);  // d(a/b)/da = 1/b
      if (a.requires_grad()) accumulate_grad(a, sum_to(ga, a.shape()));
      if (b.requires_grad()) accumulate_grad(b, sum_to(neg(mul(ga, od)), b.shape()));  // -a/b^2 = -(1/b)(a/b)
    });
  }
  return out;
}

// minimum/maximum: the gradient goes to the operand that was chosen (a on ties).
static Tensor min_max(bool is_min, const Tensor& a, const Tensor& b) {
  const char* name = is_min ? "minimum" : "maximum";
  Tensor out = binary_raw(is_min ? cpu::BinaryOp::Min : cpu::BinaryOp::Max, name, a, b);
  if (needs_grad({a, b})) {
    Tensor pick_a = binary_raw(is_min ? cpu::BinaryOp::LessEq : cpu::BinaryOp::GreaterEq, name, a, b);
    record(out, name, {a, b}, [a, b, pick_a](const Tensor& g) {
      Tensor ga = mul(g, pick_a);
      if (a.requires_grad()) accumulate_grad(a, sum_to(ga, a.shape()));
      if (b.requires_grad()) accumulate_grad(b, sum_to(sub(g, ga), b.shape()));
    });
  }
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) { return min_max(true, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return min_max(false, a, b); }

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  Device dev = same_device("where", {&mask, &a, &b});
  Shape ab = broadcast_shape("where", a.shape(), b.shape());
  Shape out_shape = broadcast_shape("where", mask.shape(), ab);
  Tensor out = Tensor::empty(out_shape, dev);
  cpu::Broadcast4 bc = plan_broadcast(out_shape, a.shape(), b.shape());
  int64_t sm[4];
  broadcast_strides(mask.shape(), bc.shape, sm);
#ifdef R1_CUDA
  if (dev == Device::CUDA) cuda::where(mask.data(), sm, a.data(), b.data(), out.data(), bc);
  else
#endif
    cpu::where(mask.data(), sm, a.data(), b.data(), out.data(), bc);
  if (needs_grad({a, b})) {
    Tensor m = mask.detach();
    record(out, "where", {a, b}, [a, b, m](const Tensor& g) {
      Tensor zero = Tensor::zeros({}, g.device());
      if (a.requires_grad()) accumulate_grad(a, sum_to(where(m, g, zero), a.shape()));
      if (b.requires_grad()) accumulate_grad(b, sum_to(where(m, zero, g), b.shape()));
    });
  }
  return out;
}

// --- scalar ops ------------------------------------------------------------------

Tensor scale(const Tensor& x, float s) {
  Tensor out = binary_raw(cpu::BinaryOp::Mul, "scale", x, Tensor::scalar(s, x.device()));
  if (needs_grad({x})) record(out, "scale", {x}, [x, s](const Tensor& g) { accumulate_grad(x, scale(g, s)); });
  return out;
}

Tensor add_scalar(const Tensor& x, float s) {
  Tensor out = binary_raw(cpu::BinaryOp::Add, "add_scalar", x, Tensor::scalar(s, x.device()));
  if (needs_grad({x})) record(out, "add_scalar", {x}, [x](const Tensor& g) { accumulate_grad(x, g); });
  return out;
}

// --- unary -------------------------------------------------------------------------

static Tensor unary_raw(cpu::UnaryOp op, const Tensor& x) {
  Tensor out = Tensor::empty(x.shape(), x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::unary(op, x.data(), out.data(), x.numel());
  else
#endif
    cpu::unary(op, x.data(), out.data(), x.numel());
  return out;
}

Tensor neg(const Tensor& x) {
  Tensor out = unary_raw(cpu::UnaryOp::Neg, x);
  if (needs_grad({x})) record(out, "neg", {x}, [x](const Tensor& g) { accumulate_grad(x, neg(g)); });
  return out;
}

Tensor exp(const Tensor& x) {
  Tensor out = unary_raw(cpu::UnaryOp::Exp, x);
  if (needs_grad({x})) {
    Tensor od = out.detach();
    record(out, "exp", {x}, [x, od](const Tensor& g) { accumulate_grad(x, mul(g, od)); });
  }
  return out;
}

Tensor log(const Tensor& x) {
  Tensor out = unary_raw(cpu::UnaryOp::Log, x);
  if (needs_grad({x})) {
    Tensor xd = x.detach();
    record(out, "log", {x}, [x, xd](const Tensor& g) { accumulate_grad(x, div(g, xd)); });
  }
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary_raw(cpu::UnaryOp::Sigmoid, x);
  if (needs_grad({x})) {
    Tensor od = out.detach();
    record(out, "sigmoid", {x}, [x, od](const Tensor& g) {
      // s' = s (1 - s)
      accumulate_grad(x, mul(g, mul(od, add_scalar(neg(od), 1.0f))));
    });
  }
  return out;
}

Tensor silu(const Tensor& x) {
  if (!needs_grad({x})) return unary_raw(cpu::UnaryOp::Silu, x);
  Tensor xd = x.detach();
#ifdef R1_CUDA
  if (x.is_cuda()) {
    Tensor out = unary_raw(cpu::UnaryOp::Silu, x);
    record(out, "silu", {x}, [x, xd](const Tensor& g) {
      Tensor gx = Tensor::empty(xd.shape(), xd.device());
      cuda::silu_backward(xd.data(), g.data(), gx.data(), xd.numel());
      accumulate_grad(x, gx);
    });
    return out;
  }
#endif
  // On the CPU the forward keeps sigmoid(x) for the backward, which then needs no second
  // exp per element (expf was ~4% of a tiny-model training step); same values either way.
  Tensor out = Tensor::empty(x.shape(), x.device()), sig = Tensor::empty(x.shape(), x.device());
  cpu::silu_keep_sigmoid(x.data(), out.data(), sig.data(), x.numel());
  record(out, "silu", {x}, [x, xd, sig](const Tensor& g) {
    Tensor gx = Tensor::empty(xd.shape(), xd.device());
    cpu::silu_backward_sigmoid(xd.data(), sig.data(), g.data(), gx.data(), xd.numel());
    accumulate_grad(x, gx);
  });
  return out;
}

Tensor clamp(const Tensor& x, float lo, float hi) {
  if (!(lo <= hi)) throw Error(cat("clamp: lo ", lo, " > hi ", hi));
  Tensor out = Tensor::empty(x.shape(), x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::clamp(x.data(), lo, hi, out.data(), x.numel());
  else
#endif
    cpu::clamp(x.data(), lo, hi, out.data(), x.numel());
  if (needs_grad({x})) {
    Tensor xd = x.detach();
    record(out, "clamp", {x}, [x, xd, lo, hi](const Tensor& g) {
      Tensor gx = Tensor::empty(xd.shape(), xd.device());
#ifdef R1_CUDA
      if (g.is_cuda()) cuda::clamp_backward(xd.data(), lo, hi, g.data(), gx.data(), xd.numel());
      else
#endif
        cpu::clamp_backward(xd.data(), lo, hi, g.data(), gx.data(), xd.numel());
      accumulate_grad(x, gx);
    });
  }
  return out;
}

}  // namespace r1
