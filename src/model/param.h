// How model parts expose their tensors: each part appends (checkpoint name, pointer to its
// Tensor field) to a list, in a fixed order. The Transformer builds everything else on that
// one list: parameters() for the optimizer, the checkpoint reader/writer, weight init, and
// moving to a device (which rebinds the fields through the pointers).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace r1 {

struct TensorSlot {
  std::string name;  // Hugging Face checkpoint name, e.g. "model.layers.0.self_attn.q_proj.weight"
  Tensor* tensor;    // the field holding it (stable while the model lives)
};
using TensorSlots = std::vector<TensorSlot>;

// (checkpoint name, handle sharing the model's storage): what AdamW's constructor takes.
using NamedTensor = std::pair<std::string, Tensor>;

// A zero-filled parameter of the given shape that requires grad. Its memory is taken on first
// use (Tensor::lazy_zeros), so a model built only to receive a checkpoint's tensors never holds
// a float32 copy of the ones kept in BF16.
inline Tensor make_param(const Shape& shape) { return Tensor::lazy_zeros(shape).set_requires_grad(true); }

}  // namespace r1
