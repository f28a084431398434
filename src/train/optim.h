// AdamW (decoupled weight decay, bias correction) and global gradient-norm clipping over the
// model's parameter Tensors and their .grad. The update itself is adamw_update(), a plain loop
// over float arrays that a CUDA kernel can mirror line by line.
//
// The equations and their order follow PyTorch's torch.optim.AdamW (single-tensor path), so
// numbers can be compared with it to float32 rounding (not bit for bit):
//   p <- p * (1 - lr * wd)                           (decoupled decay; wd = 0 multiplies by 1)
//   m <- m + (1 - beta1) * (g - m)                   (= beta1 * m + (1 - beta1) * g)
//   v <- beta2 * v + (1 - beta2) * g^2
//   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// where t is the parameter's own 1-based step count. A parameter whose grad is undefined
// (no backward pass reached it since zero_grad) is skipped entirely, as in PyTorch.
//
// CUDA (builds with R1_CUDA): a parameter on the device keeps its moments on the device and
// step() runs one fused kernel per parameter (cuda/optim.cu); clip_grad_norm reduces on the
// device and copies only the norm to the host. No other host copies.
// Does not do: AMSGrad, parameter groups with different learning rates, gradient accumulation
// (autograd does that).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"
#include "util/safetensors.h"

namespace r1 {

// --- the update --------------------------------------------------------------------------

// One AdamW update of n values in place. p, g, m, v: (n,). step: this update's 1-based
// step number t (for bias correction). Elementwise, so any split across threads gives the
// same bits.
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                  float eps, float weight_decay, int64_t step);

// --- clipping ----------------------------------------------------------------------------

// Global L2 norm of all defined grads (summed in double, in parameter order). When
// max_norm > 0 and the norm exceeds it, every grad is scaled by max_norm / (norm + 1e-6)
// (PyTorch's clip_grad_norm_). Returns the norm before clipping. A non-finite norm is
// returned as is and the grads are left untouched: the caller should skip the step.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm);

// --- optimizer ---------------------------------------------------------------------------

struct AdamWConfig {
  float lr = 3e-4f;  // set per step from the schedule: opt.config().lr = schedule.at(step)
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;
};

// Which parameters get weight decay, by name and tensor.
using DecayRule = std::function<bool(const std::string& name, const Tensor& param)>;

// The default rule: matrices (2+ dims) decay, except embeddings (names containing "embed");
// vectors (norm weights, biases) and scalars do not.
bool default_decay_rule(const std::string& name, const Tensor& param);

class AdamW {
 public:
  // params: (name, tensor) pairs, names unique (they key the saved state). Throws r1::Error
  // on duplicate names, undefined tensors or out-of-range hyperparameters.
  AdamW(const std::vector<std::pair<std::string, Tensor>>& params, AdamWConfig cfg,
        DecayRule decay = default_decay_rule);

  void step();       // updates every parameter that has a grad
  void zero_grad();  // drops every parameter's grad

  AdamWConfig& config() { return cfg_; }
  const AdamWConfig& config() const { return cfg_; }
  bool decays(const std::string& name) const;  // throws for an unknown name
  int64_t step_count(const std::string& name) const;

  // State for checkpoints (optimizer.safetensors): per parameter "<name>.exp_avg",
  // "<name>.exp_avg_sq" (the parameter's shape) and "<name>.step" (a scalar; float32 like
  // PyTorch's, exact below 2^24 steps). Metadata {"optimizer": "adamw"}.
  std::vector<StTensor> export_state() const;
  std::map<std::string, std::string> state_metadata() const { return {{"optimizer", "adamw"}}; }
  // Replaces the state. Every parameter needs its three entries with matching shapes and no
  // unknown entries may be present; errors name `source` (the file) and the entry.
  void import_state(const std::vector<StTensor>& state, const std::string& source);

  void save_state(const std::string& path) const;  // atomic; see util/safetensors.h
  void load_state(const std::string& path);

 private:
  struct Slot {
    std::string name;
    Tensor param;
    bool decay = false;
    Tensor m, v;  // exp_avg, exp_avg_sq: param's shape, zeros at first
    int64_t step = 0;
  };
  const Slot& slot(const std::string& name) const;

  std::vector<Slot> slots_;
  AdamWConfig cfg_;
};

}  // namespace r1
