// Device checks and broadcast planning shared by the ops. See op_util.h.
#include "ops/op_util.h"

#include <algorithm>

#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

Device same_device(const char* op, std::initializer_list<const Tensor*> ts) {
  const Tensor* first = nullptr;
  for (const Tensor* t : ts) {
    if (!t->defined()) continue;
    if (!first) first = t;
    else if (t->device() != first->device())
      throw Error(cat(op, ": inputs on different devices (", device_name(first->device()), " and ",
                      device_name(t->device()), ")"));
  }
  if (!first) throw Error(cat(op, ": no defined input"));
  return first->device();
}

void require_cpu(const char* op, const Tensor& t) {
  if (t.is_cuda()) throw Error(cat(op, ": no CUDA kernel yet"));
}

Shape broadcast_shape(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; i++) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error(cat(op, ": shapes ", shape_str(a), " and ", shape_str(b), " do not broadcast"));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void pad4(const Shape& shape, int64_t out[4]) {
  size_t pad = 4 - shape.size();
  for (size_t i = 0; i < 4; i++) out[i] = i < pad ? 1 : shape[i - pad];
}

void broadcast_strides(const Shape& in, const int64_t out4[4], int64_t stride[4]) {
  int64_t in4[4];
  pad4(in, in4);
  int64_t s = 1;
  for (int i = 3; i >= 0; i--) {
    stride[i] = (in4[i] == 1 && out4[i] != 1) ? 0 : s;
    s *= in4[i];
  }
}

cpu::Broadcast4 plan_broadcast(const Shape& out, const Shape& a, const Shape& b) {
  cpu::Broadcast4 bc;
  pad4(out, bc.shape);
  broadcast_strides(a, bc.shape, bc.a_stride);
  broadcast_strides(b, bc.shape, bc.b_stride);
  return bc;
}

Tensor sum_to(const Tensor& g, const Shape& to) {
  if (g.shape() == to) return g;
  int64_t s4[4], st[4];
  pad4(g.shape(), s4);
  broadcast_strides(to, s4, st);
  Tensor out = Tensor::zeros(to, g.device());
#ifdef R1_CUDA
  if (g.is_cuda()) cuda::reduce_broadcast(g.data(), s4, st, out.data());
  else
#endif
    cpu::reduce_broadcast(g.data(), s4, st, out.data());
  return out;
}

int norm_axis(const char* op, int axis, const Shape& shape) {
  int n = int(shape.size());
  int a = axis < 0 ? axis + n : axis;
  if (a < 0 || a >= n) throw Error(cat(op, ": axis ", axis, " out of range for shape ", shape_str(shape)));
  return a;
}

}  // namespace r1
