// Shared helpers for op implementations (not part of the public op API): device checks,
// broadcast planning, and the 4-d padding that kernels use.
#pragma once
#include <initializer_list>
#include <string>

#include "cpu/elementwise.h"
#include "tensor/tensor.h"
#include "util/error.h"

namespace r1 {

// Throws unless every defined tensor is on the same device. Returns that device.
Device same_device(const char* op, std::initializer_list<const Tensor*> ts);

// Throws "op: no CUDA kernel yet" when t is on CUDA and the op has no CUDA path.
void require_cpu(const char* op, const Tensor& t);

// Output shape of broadcasting a with b (numpy rules), or an r1::Error naming op and shapes.
Shape broadcast_shape(const char* op, const Shape& a, const Shape& b);
// Pads `shape` to 4 dims (leading 1s).
void pad4(const Shape& shape, int64_t out[4]);
// Element strides of an operand of shape `in` read over the 4-d output shape `out4`
// (0 along broadcast dims).
void broadcast_strides(const Shape& in, const int64_t out4[4], int64_t stride[4]);
cpu::Broadcast4 plan_broadcast(const Shape& out, const Shape& a, const Shape& b);

// Sums g (shape `from`) down to `to` along broadcast dims (the gradient of a broadcast).
Tensor sum_to(const Tensor& g, const Shape& to);
// Normalizes a possibly negative axis; throws naming op and shape when out of range.
int norm_axis(const char* op, int axis, const Shape& shape);

}  // namespace r1
