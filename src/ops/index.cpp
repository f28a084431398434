// Indexing ops: embedding lookup, per-row gather (token log-probs, router gates),
// index_select and scatter_add over rows (MoE dispatch and combine). Indices are host
// integers; each is range-checked and an out-of-range index names the op and the value.
// On CUDA tensors the kernels are cuda/index.cu's (they copy the host indices to the device).
#include <cstring>

#include "autograd/autograd.h"
#include "cpu/bf16.h"
#include "ops/op_util.h"
#include "ops/ops.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

static void check_indices(const char* op, const Ids& idx, int64_t n) {
  for (size_t i = 0; i < idx.size(); i++)
    if (idx[i] < 0 || idx[i] >= n)
      throw Error(cat(op, ": index ", idx[i], " at position ", i, " out of range [0, ", n, ")"));
}

// --- row gather / scatter (the kernels every op here reduces to) -------------------

// out[m] = x[idx[m]] for rows of width d.
static void gather_rows(const float* x, const Ids& idx, int64_t d, float* out) {
  int64_t m = int64_t(idx.size());
#pragma omp parallel for if (m * d > 65536)
  for (int64_t i = 0; i < m; i++) std::memcpy(out + i * d, x + int64_t(idx[size_t(i)]) * d, size_t(d) * sizeof(float));
}

// out[idx[m]] += src[m] for rows of width d. Serial over m: two rows may hit the same target,
// and a fixed order keeps the sums bitwise deterministic.
static void scatter_rows(const float* src, const Ids& idx, int64_t d, float* out) {
  for (size_t i = 0; i < idx.size(); i++) {
    float* o = out + int64_t(idx[i]) * d;
    const float* s = src + int64_t(i) * d;
    for (int64_t j = 0; j < d; j++) o[j] += s[j];
  }
}

// --- ops ---------------------------------------------------------------------------

Tensor index_select(const Tensor& x, const Ids& idx) {
  if (x.dim() != 2) throw Error(cat("index_select: x must be (N, D), got ", shape_str(x.shape())));
  check_indices("index_select", idx, x.size(0));
  int64_t d = x.size(1);
  Tensor out = Tensor::empty({int64_t(idx.size()), d}, x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::gather_rows(x.data(), idx.data(), int64_t(idx.size()), d, out.data());
  else
#endif
    gather_rows(x.data(), idx, d, out.data());
  if (needs_grad({x}))
    record(out, "index_select", {x}, [x, idx](const Tensor& g) { accumulate_grad(x, scatter_add(g, idx, x.size(0))); });
  return out;
}

Tensor scatter_add(const Tensor& src, const Ids& idx, int64_t n) {
  if (src.dim() != 2 || src.size(0) != int64_t(idx.size()))
    throw Error(cat("scatter_add: src ", shape_str(src.shape()), " needs (", idx.size(), ", D) for ", idx.size(),
                    " indices"));
  check_indices("scatter_add", idx, n);
  Tensor out = Tensor::zeros({n, src.size(1)}, src.device());
#ifdef R1_CUDA
  if (src.is_cuda()) cuda::scatter_add_rows(src.data(), idx.data(), int64_t(idx.size()), src.size(1), n, out.data());
  else
#endif
    scatter_rows(src.data(), idx, src.size(1), out.data());
  if (needs_grad({src}))
    record(out, "scatter_add", {src}, [src, idx](const Tensor& g) { accumulate_grad(src, index_select(g, idx)); });
  return out;
}

Tensor embedding(const Tensor& weight, const Ids& ids, const Shape& ids_shape) {
  if (weight.dim() != 2) throw Error(cat("embedding: weight must be (V, D), got ", shape_str(weight.shape())));
  if (shape_numel(ids_shape) != int64_t(ids.size()))
    throw Error(cat("embedding: ", ids.size(), " ids for ids shape ", shape_str(ids_shape)));
  Shape out_shape = ids_shape;
  out_shape.push_back(weight.size(1));
  if (const uint16_t* w16 = weight.bf16_data(); w16 && !needs_grad({weight})) {
    // BF16 inference weights: widen only the rows looked up.
    check_indices("embedding", ids, weight.size(0));
    const int64_t d = weight.size(1);
    Tensor out = Tensor::empty(out_shape);
    float* po = out.data();
    for (size_t i = 0; i < ids.size(); i++) cpu::bf16_to_f32_n(w16 + int64_t(ids[i]) * d, d, po + int64_t(i) * d);
    return out;
  }
  return reshape(index_select(weight, ids), out_shape);
}

Tensor gather(const Tensor& x, const Ids& idx, int64_t k) {
  if (x.dim() != 2 || k < 1 || int64_t(idx.size()) != x.size(0) * k)
    throw Error(cat("gather: x ", shape_str(x.shape()), " with ", idx.size(), " indices and k = ", k,
                    " (need x (N, V) and N*k indices)"));
  int64_t n = x.size(0), v = x.size(1);
  check_indices("gather", idx, v);
  Tensor out = Tensor::empty({n, k}, x.device());
#ifdef R1_CUDA
  if (x.is_cuda()) cuda::gather_cols(x.data(), idx.data(), n, v, k, out.data());
  else
#endif
  {
    const float* px = x.data();
    float* po = out.data();
    for (int64_t i = 0; i < n * k; i++) po[i] = px[(i / k) * v + idx[size_t(i)]];
  }
  if (needs_grad({x}))
    record(out, "gather", {x}, [x, idx, n, k, v](const Tensor& g) {
      Tensor gx = Tensor::zeros({n, v}, g.device());
#ifdef R1_CUDA
      if (g.is_cuda()) cuda::scatter_add_cols(g.data(), idx.data(), n, v, k, gx.data());
      else
#endif
        for (int64_t i = 0; i < n * k; i++) gx.data()[(i / k) * v + idx[size_t(i)]] += g.data()[i];
      accumulate_grad(x, gx);
    });
  return out;
}

}  // namespace r1
