// SwiGLU feed-forward network, the dense FFN of every layer < first_k_dense_replace and the
// shape of every DeepSeekMoE expert:   y = down(silu(gate(x)) * up(x)).
#pragma once
#include <string>

#include "model/param.h"
#include "ops/ops.h"

namespace r1 {

struct Mlp {
  Tensor w_gate, w_up, w_down;  // (F, D), (F, D), (D, F)

  Mlp(int64_t dim, int64_t width)
      : w_gate(make_param({width, dim})), w_up(make_param({width, dim})), w_down(make_param({dim, width})) {}

  void collect(const std::string& prefix, TensorSlots& out) {  // prefix "...mlp." or "...experts.{j}."
    out.push_back({prefix + "gate_proj.weight", &w_gate});
    out.push_back({prefix + "up_proj.weight", &w_up});
    out.push_back({prefix + "down_proj.weight", &w_down});
  }

  // x: (..., D) -> (..., D)
  Tensor forward(const Tensor& x) const { return linear(mul(silu(linear(x, w_gate)), linear(x, w_up)), w_down); }
};

}  // namespace r1
