// The backward pass: topological order over the recorded graph, then each node's backward
// function in reverse. See autograd.h.
#include "autograd/autograd.h"

#include <unordered_set>

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

void accumulate_grad(const Tensor& t, const Tensor& g) {
  if (!t.requires_grad()) return;
  if (g.shape() != t.shape())
    throw std::logic_error(cat("autograd: gradient of shape ", shape_str(g.shape()), " for tensor of shape ",
                               shape_str(t.shape()), " (op ", t.op(), ")"));
  TensorImpl& impl = t.impl();
  if (!impl.grad) {
    impl.grad = g.clone().impl_ptr();  // a private copy: later += must not alias g
    return;
  }
  NoGradGuard guard;
  Tensor acc(impl.grad);
  impl.grad = add(acc, g).impl_ptr();
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
