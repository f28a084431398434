// Choosing the device a command runs on (the `--device cpu|cuda` flag). A model is placed with
// Transformer::to(device) once it is built or loaded; everything it creates afterwards (KV caches,
// MoE helpers) follows its parameters. Checkpoints do not record the device: a model saved from
// CUDA loads on the CPU and the other way round.
// Does not do: multiple GPUs, mixed placement (a model lives on one device).
#pragma once
#include <string>

#include "tensor/tensor.h"

namespace r1 {

// name: the --device flag's value ("cpu" | "cuda") -> that device, once tensors can be created
// on it. Throws r1::Error for an unknown name and "--device cuda: <reason>" when there is no
// usable GPU or this r1 was built without CUDA. Commands call it before they write anything.
Device usable_device(const std::string& name);

}  // namespace r1
