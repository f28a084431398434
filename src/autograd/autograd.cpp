// The backward pass: topological order over the recorded graph, then each node's backward
// function in reverse. See autograd.h.
#include "autograd/autograd.h"

#include <algorithm>
#include <unordered_set>

#include "cpu/elementwise.h"
#include "ops/ops.h"
#include "util/error.h"

namespace r1 {

static thread_local bool t_grad_enabled = true;

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : prev_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = prev_; }

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(Tensor& out, const char* op, std::vector<Tensor> inputs,
            std::function<void(const Tensor& grad_out)> backward_fn) {
  TensorImpl& o = out.impl();
  o.requires_grad = true;
  o.op = op;
  o.parents = std::move(inputs);
  o.backward_fn = std::move(backward_fn);
}

// True when nobody but `impl` can see its data: no other handle to the TensorImpl and no
// other TensorImpl (a reshape view, a detach()ed capture) on the same Storage.
static bool exclusive(const std::shared_ptr<TensorImpl>& impl) {
  return impl.use_count() == 1 && impl->storage.use_count() == 1;
}

// The first gradient is adopted without a copy when we may; later ones are added in place
// into a buffer nobody else sees. Both give the same bits as clone() + add(acc, g).
//  - A leaf (a parameter: no backward_fn) must own its gradient buffer exclusively, because
//    callers write into it (clip_grad_norm scales it in place): it takes g only when g is
//    exclusive (g's only handle is the caller's temporary), else a private clone.
//  - An intermediate's gradient is read once by its backward function and dropped, so it may
//    share g's storage (add's backward hands the same g to both inputs).
// In-place += happens only when the accumulated buffer is exclusive; otherwise (a shared
// intermediate gradient, or a grad() handle held by the caller) add() allocates a new one,
// so no other tensor's gradient ever changes under it.
void accumulate_grad(const Tensor& t, const Tensor& g) {
  if (!t.requires_grad()) return;
  if (g.shape() != t.shape())
    throw std::logic_error(cat("autograd: gradient of shape ", shape_str(g.shape()), " for tensor of shape ",
                               shape_str(t.shape()), " (op ", t.op(), ")"));
  TensorImpl& impl = t.impl();
  const bool leaf = !impl.backward_fn;
  if (!impl.grad) {
    if (!leaf || exclusive(g.impl_ptr())) {
      impl.grad = std::make_shared<TensorImpl>();  // a fresh handle: never the caller's TensorImpl
      impl.grad->shape = g.shape();
      impl.grad->storage = g.impl().storage;
    } else {
      impl.grad = g.clone().impl_ptr();
    }
    return;
  }
  if (impl.grad->storage->device == Device::CPU && g.device() == Device::CPU && exclusive(impl.grad)) {
    cpu::add_inplace(impl.grad->storage->data, g.data(), g.numel());
    return;
  }
  NoGradGuard guard;
  Tensor acc(impl.grad);
  impl.grad = add(acc, g).impl_ptr();
}

// Views a shape as (outer, shape[axis], inner).
static void outer_inner(const Shape& s, int axis, int64_t& outer, int64_t& inner) {
  outer = inner = 1;
  for (int i = 0; i < axis; i++) outer *= s[size_t(i)];
  for (size_t i = size_t(axis) + 1; i < s.size(); i++) inner *= s[i];
}

void accumulate_grad_slice(const Tensor& t, const Tensor& g, int axis, int64_t offset) {
  if (!t.requires_grad()) return;
  const Shape& s = t.shape();
  Shape expect = s;
  const int64_t n = g.dim() == t.dim() ? g.shape()[size_t(axis)] : -1, total = s[size_t(axis)];
  expect[size_t(axis)] = n;
  if (g.shape() != expect || offset < 0 || offset + n > total || t.is_cuda() || g.is_cuda())
    throw std::logic_error(cat("autograd: slice gradient of shape ", shape_str(g.shape()), " at offset ", offset,
                               " of axis ", axis, " for tensor of shape ", shape_str(s), " (op ", t.op(), ")"));
  int64_t outer, inner;
  outer_inner(s, axis, outer, inner);
  TensorImpl& impl = t.impl();
  if (!impl.grad) impl.grad = Tensor::zeros(s, g.device()).impl_ptr();
  if (exclusive(impl.grad)) {  // add into the slice in place
    float* acc = impl.grad->storage->data;
    const float* pg = g.data();
    for (int64_t o = 0; o < outer; o++)
      cpu::add_inplace(acc + (o * total + offset) * inner, pg + o * n * inner, n * inner);
    return;
  }
  // Someone else sees the gradient buffer: a full-size gradient with g in its slice.
  Tensor full = Tensor::zeros(s, g.device());
  for (int64_t o = 0; o < outer; o++)
    std::copy(g.data() + o * n * inner, g.data() + (o + 1) * n * inner, full.data() + (o * total + offset) * inner);
  accumulate_grad(t, full);
}

void backward(const Tensor& loss) {
  if (loss.numel() != 1)
    throw Error(cat("backward() needs a one-element loss, got shape ", shape_str(loss.shape())));
  backward(loss, Tensor::ones(loss.shape(), loss.device()));
}

void backward(const Tensor& out, const Tensor& grad_out) {
  if (!out.requires_grad()) throw Error("backward(): the tensor does not require grad (no input requires grad?)");
  // Topological order by iterative DFS (graphs of deep models would overflow recursion).
  std::vector<TensorImpl*> order;
  std::unordered_set<TensorImpl*> seen;
  std::vector<std::pair<TensorImpl*, size_t>> stack{{&out.impl(), 0}};
  seen.insert(&out.impl());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->parents.size()) {
      TensorImpl* p = node->parents[next++].impl_ptr().get();
      if (p && p->requires_grad && !seen.count(p)) {
        seen.insert(p);
        stack.push_back({p, 0});
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  NoGradGuard guard;  // backward functions compute with ops, recording nothing
  accumulate_grad(out, grad_out);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* node = *it;
    if (!node->backward_fn || !node->grad) continue;
    Tensor g(node->grad);
    node->grad.reset();  // an intermediate's gradient is consumed here (a leaf has no backward_fn)
    node->backward_fn(g);
  }
}

}  // namespace r1
