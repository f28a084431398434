// AdamW and gradient clipping. See optim.h for the equations and conventions.
#include "train/optim.h"

#include <cmath>
#include <set>

#include "util/error.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

// --- the update --------------------------------------------------------------------------

void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2,
                  float eps, float weight_decay, int64_t step) {
  // Per-step scalars in double, then used in float like PyTorch's single-tensor path.
  const double bias1 = 1.0 - std::pow(double(beta1), double(step));
  const double bias2 = 1.0 - std::pow(double(beta2), double(step));
  const float step_size = float(double(lr) / bias1);
  const float bias2_sqrt = float(std::sqrt(bias2));
  const float decay = 1.0f - lr * weight_decay;  // exactly 1 when weight_decay is 0
#pragma omp parallel for simd schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; i++) {
    float gi = g[i];
    float pi = p[i] * decay;
    float mi = m[i] + (1.0f - beta1) * (gi - m[i]);  // = beta1 m + (1 - beta1) g, PyTorch's lerp form
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    float denom = std::sqrt(vi) / bias2_sqrt + eps;
    p[i] = pi - step_size * (mi / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

// --- clipping ----------------------------------------------------------------------------

#ifdef R1_CUDA
// The CUDA side of clip_grad_norm for gradients that all live on the device: the sum of squares
// is a deterministic device reduction (cuda/optim.cu) and the one scalar comes to the host,
// because the decision to clip (and the returned norm) is made here.
static float clip_grad_norm_cuda(std::vector<Tensor> grads, float max_norm) {
  std::vector<const float*> ptrs;
  std::vector<int64_t> sizes;
  for (const Tensor& g : grads) {
    ptrs.push_back(g.data());
    sizes.push_back(g.numel());
  }
  const float norm = float(std::sqrt(cuda::sum_squares(ptrs, sizes)));
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const float scale = max_norm / (norm + 1e-6f);
    for (Tensor& g : grads) cuda::scale_in_place(g.data(), g.numel(), scale);
  }
  return norm;
}
#endif

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
#ifdef R1_CUDA
  std::vector<Tensor> cuda_grads;
  for (const Tensor& p : params)
    if (p.grad().defined() && p.grad().is_cuda()) cuda_grads.push_back(p.grad());
  if (!cuda_grads.empty()) {
    for (const Tensor& p : params)
      check(!p.grad().defined() || p.grad().is_cuda(), "clip_grad_norm: gradients on both cpu and cuda");
    return clip_grad_norm_cuda(std::move(cuda_grads), max_norm);
  }
#endif
  double sumsq = 0;  // one sequential sum in parameter order: deterministic
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    check(!g.is_cuda(), "clip_grad_norm: CUDA gradients but this r1 was built without CUDA");
    const float* d = g.data();
    for (int64_t i = 0, n = g.numel(); i < n; i++) sumsq += double(d[i]) * double(d[i]);
  }
  const float norm = float(std::sqrt(sumsq));
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const float scale = max_norm / (norm + 1e-6f);
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      float* d = g.data();
      for (int64_t i = 0, n = g.numel(); i < n; i++) d[i] *= scale;
    }
  }
  return norm;
}

// --- optimizer ---------------------------------------------------------------------------

bool default_decay_rule(const std::string& name, const Tensor& param) {
  return param.dim() >= 2 && name.find("embed") == std::string::npos;
}

static void check_config(const AdamWConfig& c) {
  check(std::isfinite(c.lr) && c.lr >= 0, "AdamW: lr must be >= 0, got ", c.lr);
  check(c.beta1 >= 0 && c.beta1 < 1, "AdamW: beta1 must be in [0, 1), got ", c.beta1);
  check(c.beta2 >= 0 && c.beta2 < 1, "AdamW: beta2 must be in [0, 1), got ", c.beta2);
  check(c.eps > 0, "AdamW: eps must be > 0, got ", c.eps);
  check(std::isfinite(c.weight_decay) && c.weight_decay >= 0, "AdamW: weight_decay must be >= 0, got ", c.weight_decay);
}

AdamW::AdamW(const std::vector<std::pair<std::string, Tensor>>& params, AdamWConfig cfg, DecayRule decay)
    : cfg_(cfg) {
  check_config(cfg_);
  std::set<std::string> seen;
  for (const auto& np : params) {
    check(np.second.defined(), "AdamW: parameter '", np.first, "' is an undefined tensor");
    check(seen.insert(np.first).second, "AdamW: duplicate parameter name '", np.first, "'");
    Slot s;
    s.name = np.first;
    s.param = np.second;
    s.decay = decay(np.first, np.second);
    s.m = Tensor::zeros(np.second.shape(), np.second.device());
    s.v = Tensor::zeros(np.second.shape(), np.second.device());
    slots_.push_back(std::move(s));
  }
}

void AdamW::step() {
  check_config(cfg_);
  for (Slot& s : slots_) {
    Tensor g = s.param.grad();
    if (!g.defined()) continue;
    check(g.shape() == s.param.shape(), "AdamW: grad of '", s.name, "' has shape ", shape_str(g.shape()),
          ", parameter has ", shape_str(s.param.shape()));
#ifdef R1_CUDA
    if (s.param.is_cuda()) {  // the moments were created on the parameter's device
      check(g.is_cuda() && s.m.is_cuda() && s.v.is_cuda(), "AdamW: parameter '", s.name,
            "' is on cuda but its grad or moments are not");
      s.step++;
      cuda::adamw_update(s.param.data(), g.data(), s.m.data(), s.v.data(), s.param.numel(), cfg_.lr, cfg_.beta1,
                         cfg_.beta2, cfg_.eps, s.decay ? cfg_.weight_decay : 0.0f, s.step);
      continue;
    }
#endif
    check(!s.param.is_cuda(), "AdamW: parameter '", s.name, "' is on cuda but this r1 was built without CUDA");
    s.step++;
    adamw_update(s.param.data(), g.data(), s.m.data(), s.v.data(), s.param.numel(), cfg_.lr, cfg_.beta1,
                 cfg_.beta2, cfg_.eps, s.decay ? cfg_.weight_decay : 0.0f, s.step);
  }
}

void AdamW::zero_grad() {
  for (Slot& s : slots_) s.param.zero_grad();
}

const AdamW::Slot& AdamW::slot(const std::string& name) const {
  for (const Slot& s : slots_)
    if (s.name == name) return s;
  throw Error(cat("AdamW: no parameter named '", name, "'"));
}

bool AdamW::decays(const std::string& name) const { return slot(name).decay; }
int64_t AdamW::step_count(const std::string& name) const { return slot(name).step; }

// --- state for checkpoints -----------------------------------------------------------------

std::vector<StTensor> AdamW::export_state() const {
  std::vector<StTensor> out;
  for (const Slot& s : slots_) {
    check(s.step < (int64_t(1) << 24), "AdamW: step count of '", s.name, "' too large to store exactly in float32");
    out.push_back({s.name + ".exp_avg", s.param.shape(), s.m.to_vector(), ""});
    out.push_back({s.name + ".exp_avg_sq", s.param.shape(), s.v.to_vector(), ""});
    out.push_back({s.name + ".step", {}, {float(s.step)}, ""});
  }
  return out;
}

void AdamW::import_state(const std::vector<StTensor>& state, const std::string& source) {
  std::map<std::string, const StTensor*> by_name;
  for (const StTensor& t : state) by_name[t.name] = &t;
  auto take = [&](const std::string& name, const Shape& shape) -> const StTensor& {
    auto it = by_name.find(name);
    check(it != by_name.end(), source, ": missing optimizer state '", name, "'");
    check(it->second->shape == shape, source, ": optimizer state '", name, "' has shape ",
          shape_str(it->second->shape), ", expected ", shape_str(shape));
    const StTensor& t = *it->second;
    by_name.erase(it);
    return t;
  };
  // Check everything before changing anything, so a bad file leaves the optimizer as it was.
  std::vector<Tensor> m, v;
  std::vector<int64_t> steps;
  for (const Slot& s : slots_) {
    m.push_back(Tensor::from_vector(s.param.shape(), take(s.name + ".exp_avg", s.param.shape()).data, s.param.device()));
    v.push_back(Tensor::from_vector(s.param.shape(), take(s.name + ".exp_avg_sq", s.param.shape()).data, s.param.device()));
    float step = take(s.name + ".step", {}).data[0];
    check(step >= 0 && step == std::floor(step) && step < float(1 << 24), source, ": optimizer state '", s.name,
          ".step' is not a valid step count: ", step);
    steps.push_back(int64_t(step));
  }
  check(by_name.empty(), source, ": optimizer state '", by_name.empty() ? "" : by_name.begin()->first,
        "' belongs to no parameter of this model");
  for (size_t i = 0; i < slots_.size(); i++) {
    slots_[i].m = m[i];
    slots_[i].v = v[i];
    slots_[i].step = steps[i];
  }
}

void AdamW::save_state(const std::string& path) const { save_safetensors(path, export_state(), state_metadata()); }

void AdamW::load_state(const std::string& path) {
  SafetensorsFile f = load_safetensors(path);
  auto it = f.metadata.find("optimizer");
  check(it != f.metadata.end() && it->second == "adamw", path, ": not an AdamW state file (metadata 'optimizer' is '",
        it == f.metadata.end() ? "" : it->second, "')");
  import_state(f.tensors, path);
}

}  // namespace r1
