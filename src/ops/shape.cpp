// Shape ops: reshape (a free view), transpose/permute (copies), concat and split. On CUDA
// tensors every copy is one cuda::strided_copy (cuda/shape.cu).
#include <algorithm>
#include <numeric>

#include "autograd/autograd.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

#ifdef R1_CUDA
// Device copy of `rows` rows of `cols` floats from rows `src_pitch` apart to rows `dst_pitch`
// apart: one input's slab of a concat, one piece of a split.
static void copy_slab_cuda(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t rows,
                           int64_t cols) {
  const int64_t shape[4] = {1, 1, rows, cols};
  const int64_t src_stride[4] = {0, 0, src_pitch, 1}, dst_stride[4] = {0, 0, dst_pitch, 1};
  cuda::strided_copy(src, src_stride, dst, dst_stride, shape);
}
#endif

// --- reshape ----------------------------------------------------------------------

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape s = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == -1) {
      if (infer >= 0) throw Error(cat("reshape: more than one -1 in ", shape_str(shape)));
      infer = int64_t(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      throw Error(cat("reshape: cannot reshape ", shape_str(x.shape()), " to ", shape_str(shape)));
    s[size_t(infer)] = x.numel() / known;
  }
  if (shape_numel(s) != x.numel() || s.size() > 4)
    throw Error(cat("reshape: cannot reshape ", shape_str(x.shape()), " to ", shape_str(shape)));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = s;
  impl->storage = x.impl().storage;
  Tensor out(impl);
  if (needs_grad({x}))
    record(out, "reshape", {x}, [x](const Tensor& g) { accumulate_grad(x, reshape(g, x.shape())); });
  return out;
}

// --- permute ------------------------------------------------------------------------

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  int n = x.dim();
  std::vector<int> p(perm.size());
  std::vector<bool> used(size_t(n), false);
  if (int(perm.size()) != n) throw Error(cat("permute: ", perm.size(), " axes for shape ", shape_str(x.shape())));
  for (size_t i = 0; i < perm.size(); i++) {
    p[i] = norm_axis("permute", perm[i], x.shape());
    if (used[size_t(p[i])]) throw Error(cat("permute: axis ", perm[i], " repeated"));
    used[size_t(p[i])] = true;
  }
  // Pad to 4 dims: input strides, then read the input in output order.
  int64_t in4[4], in_stride[4];
  Shape in_shape = x.shape();
  pad4(in_shape, in4);
  int64_t s = 1;
  for (int i = 3; i >= 0; i--) { in_stride[i] = s; s *= in4[i]; }
  int pad = 4 - n;
  int64_t out4[4], st[4];  // output dims and the input stride that each output dim walks
  for (int i = 0; i < 4; i++) {
    int src = i < pad ? i : p[size_t(i - pad)] + pad;
    out4[i] = in4[src];
    st[i] = in_stride[src];
  }
  Shape out_shape(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) out_shape[size_t(i)] = x.shape()[size_t(p[size_t(i)])];
  Tensor out = Tensor::empty(out_shape, x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) {
    const int64_t out_stride[4] = {out4[1] * out4[2] * out4[3], out4[2] * out4[3], out4[3], 1};  // contiguous
    cuda::strided_copy(x.data(), st, out.data(), out_stride, out4);
  } else
#endif
  {
    const float* px = x.data();
    float* po = out.data();
    int64_t rows = out4[0] * out4[1] * out4[2];
#pragma omp parallel for if (x.numel() > 65536)
    for (int64_t r = 0; r < rows; r++) {
      int64_t i0 = r / (out4[1] * out4[2]), i1 = (r / out4[2]) % out4[1], i2 = r % out4[2];
      const float* src = px + i0 * st[0] + i1 * st[1] + i2 * st[2];
      float* dst = po + r * out4[3];
      if (st[3] == 1) std::copy(src, src + out4[3], dst);  // last dim kept: a contiguous row (heads <-> time)
      else for (int64_t i3 = 0; i3 < out4[3]; i3++) dst[i3] = src[i3 * st[3]];
    }
  }
  if (needs_grad({x})) {
    std::vector<int> inv(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) inv[size_t(p[size_t(i)])] = i;
    record(out, "permute", {x}, [x, inv](const Tensor& g) { accumulate_grad(x, permute(g, inv)); });
  }
  return out;
}

Tensor transpose(const Tensor& x, int d0, int d1) {
  std::vector<int> perm(size_t(x.dim()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[size_t(norm_axis("transpose", d0, x.shape()))], perm[size_t(norm_axis("transpose", d1, x.shape()))]);
  return permute(x, perm);
}

// --- concat and split ---------------------------------------------------------------

// Views a shape as (outer, n, inner) around axis.
static void outer_inner(const Shape& s, int axis, int64_t& outer, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int i = 0; i < axis; i++) outer *= s[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < s.size(); i++) inner *= s[i];
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) throw Error("concat: no tensors");
  int a = norm_axis("concat", axis, xs[0].shape());
  Shape out_shape = xs[0].shape();
  int64_t total = 0;
  for (const Tensor& t : xs) {
    Shape s = t.shape();
    if (s.size() != out_shape.size()) throw Error(cat("concat: shapes ", shape_str(xs[0].shape()), " and ", shape_str(s)));
    for (size_t i = 0; i < s.size(); i++)
      if (int(i) != a && s[i] != out_shape[i])
        throw Error(cat("concat: shapes ", shape_str(xs[0].shape()), " and ", shape_str(s), " differ off axis ", axis));
    if (t.device() != xs[0].device()) throw Error("concat: tensors on different devices");
    total += s[size_t(a)];
  }
  out_shape[size_t(a)] = total;
  Tensor out = Tensor::empty(out_shape, xs[0].device());
  int64_t outer, inner;
  outer_inner(out_shape, a, outer, inner);
  int64_t offset = 0;  // along the axis
  std::vector<int64_t> sizes;
  for (const Tensor& t : xs) {
    int64_t n = t.shape()[size_t(a)];
#ifdef R1_CUDA
    if (t.is_cuda()) copy_slab_cuda(t.data(), n * inner, out.data() + offset * inner, total * inner, outer, n * inner);
    else
#endif
      for (int64_t o = 0; o < outer; o++)
        std::copy(t.data() + o * n * inner, t.data() + (o + 1) * n * inner, out.data() + (o * total + offset) * inner);
    offset += n;
    sizes.push_back(n);
  }
  if (needs_grad(xs))
    record(out, "concat", xs, [xs, sizes, a](const Tensor& g) {
      std::vector<Tensor> parts = split(g, sizes, a);
      for (size_t i = 0; i < xs.size(); i++) accumulate_grad(xs[i], parts[i]);
    });
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int axis) {
  int a = norm_axis("split", axis, x.shape());
  int64_t total = 0;
  for (int64_t n : sizes) total += n;
  if (total != x.shape()[size_t(a)])
    throw Error(cat("split: sizes sum to ", total, " but axis ", axis, " of ", shape_str(x.shape()), " has ",
                    x.shape()[size_t(a)]));
  int64_t outer, inner;
  outer_inner(x.shape(), a, outer, inner);
  std::vector<Tensor> outs;
  int64_t offset = 0;
  for (size_t k = 0; k < sizes.size(); k++) {
    int64_t n = sizes[k];
    Shape s = x.shape();
    s[size_t(a)] = n;
    Tensor out = Tensor::empty(s, x.device());
#ifdef R1_CUDA
    if (x.is_cuda()) copy_slab_cuda(x.data() + offset * inner, total * inner, out.data(), n * inner, outer, n * inner);
    else
#endif
      for (int64_t o = 0; o < outer; o++)
        std::copy(x.data() + (o * total + offset) * inner, x.data() + (o * total + offset + n) * inner,
                  out.data() + o * n * inner);
    if (needs_grad({x})) {
      // Each piece's gradient lands in its slice of x's gradient. On CUDA (accumulate_grad_slice
      // is host-only) the piece is copied into a zero gradient of x's shape.
      record(out, "split", {x}, [x, a, offset, outer, inner, total, n](const Tensor& g) {
#ifdef R1_CUDA
        if (g.is_cuda()) {
          Tensor full = Tensor::zeros(x.shape(), g.device());
          copy_slab_cuda(g.data(), n * inner, full.data() + offset * inner, total * inner, outer, n * inner);
          return accumulate_grad(x, full);
        }
#endif
        accumulate_grad_slice(x, g, a, offset);
      });
    }
    outs.push_back(out);
    offset += n;
  }
  return outs;
}

}  // namespace r1
