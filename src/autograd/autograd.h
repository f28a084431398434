// Reverse-mode autograd over whole-tensor ops (micrograd's design, on tensors).
// An op computes its output, then calls record() with its inputs and a backward function;
// backward(loss) visits the graph in reverse topological order and calls each backward
// function with the gradient of its output. Gradients accumulate (+=) into .grad, so
// several backward passes add up (gradient accumulation) until zero_grad().
#pragma once
#include <functional>
#include <vector>

#include "tensor/tensor.h"

namespace r1 {

// Autograd on/off for the current thread (on by default).
bool grad_enabled();

// While alive, ops record nothing (rollouts, evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when autograd is on and any input requires grad: the op must then call record().
bool needs_grad(const std::vector<Tensor>& inputs);

// Marks `out` as the result of `op` over `inputs`. The backward function receives
// d(loss)/d(out) and must call accumulate_grad() for every input that requires grad.
// It must not capture `out` itself (that would be a reference cycle): capture out.detach().
void record(Tensor& out, const char* op, std::vector<Tensor> inputs,
            std::function<void(const Tensor& grad_out)> backward_fn);

// t.grad += g (allocating t.grad on first use). g must have t's shape and device.
void accumulate_grad(const Tensor& t, const Tensor& g);
// t.grad[..., offset : offset + n, ...] += g along `axis` (n = g's size there; every other dim
// matches t): the gradient of one piece of a split, without a full-size zero tensor per piece.
// CPU only (split has no CUDA kernel).
void accumulate_grad_slice(const Tensor& t, const Tensor& g, int axis, int64_t offset);

// Runs the backward pass from a one-element tensor (d loss / d loss = 1), or from `out`
// with a given output gradient `grad_out` of the same shape.
void backward(const Tensor& loss);
void backward(const Tensor& out, const Tensor& grad_out);

}  // namespace r1
