// Reductions: sum and mean over everything or over one axis, with their backward
// (the gradient is broadcast back over the reduced positions). CUDA tensors use cuda/reduce.cu.
#include "autograd/autograd.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

// Views x as (outer, n, inner) around `axis` and sums over n -> (outer, inner).
static Tensor sum_axis_raw(const Tensor& x, int axis, bool keepdim) {
  const Shape& s = x.shape();
  int64_t outer = 1, n = s[size_t(axis)], inner = 1;
  for (int i = 0; i < axis; i++) outer *= s[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < s.size(); i++) inner *= s[i];
  Shape out_shape = s;
  if (keepdim) out_shape[size_t(axis)] = 1;
  else out_shape.erase(out_shape.begin() + axis);
  Tensor out = Tensor::zeros(out_shape, x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) {
    cuda::sum_axis(x.data(), outer, n, inner, out.data());
    return out;
  }
#endif
  const float* px = x.data();
  float* po = out.data();
#pragma omp parallel for if (outer * n * inner > 65536)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < n; j++)
      for (int64_t i = 0; i < inner; i++) po[o * inner + i] += px[(o * n + j) * inner + i];
  return out;
}

// g (x's shape with the reduced axis of size 1, or the full reduction's ()) -> x's shape.
static Tensor expand_to(const Tensor& g, const Shape& shape) {
  return add(Tensor::zeros(shape, g.device()), g);
}

// The sum of every element -> shape (). Double accumulation on both devices: the sum of many
// floats stays accurate.
static Tensor sum_all_raw(const Tensor& x) {
#ifdef R1_CUDA
  if (x.is_cuda()) {
    Tensor out = Tensor::empty({}, x.device());
    cuda::sum_all(x.data(), x.numel(), out.data());
    return out;
  }
#endif
  double acc = 0;
  const float* p = x.data();
  int64_t n = x.numel();
  for (int64_t i = 0; i < n; i++) acc += p[i];
  return Tensor::scalar(float(acc), x.device());
}

Tensor sum(const Tensor& x) {
  Tensor out = sum_all_raw(x);
  if (needs_grad({x}))
    record(out, "sum", {x}, [x](const Tensor& g) { accumulate_grad(x, expand_to(g, x.shape())); });
  return out;
}

Tensor mean(const Tensor& x) {
  if (x.numel() == 0) throw Error("mean: empty tensor");
  return scale(sum(x), 1.0f / float(x.numel()));
}

Tensor sum(const Tensor& x, int axis, bool keepdim) {
  int a = norm_axis("sum", axis, x.shape());
  Tensor out = sum_axis_raw(x, a, keepdim);
  if (needs_grad({x}))
    record(out, "sum_axis", {x}, [x, a](const Tensor& g) {
      Shape kept = x.shape();
      kept[size_t(a)] = 1;
      accumulate_grad(x, expand_to(reshape(g, kept), x.shape()));
    });
  return out;
}

Tensor mean(const Tensor& x, int axis, bool keepdim) {
  int a = norm_axis("mean", axis, x.shape());
  int64_t n = x.shape()[size_t(a)];
  if (n == 0) throw Error(cat("mean: axis ", axis, " of shape ", shape_str(x.shape()), " is empty"));
  return scale(sum(x, a, keepdim), 1.0f / float(n));
}

}  // namespace r1
