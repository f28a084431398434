// Fixed-order gradient reduction and global router load. See data_parallel.h.
#include "dist/data_parallel.h"

#include <chrono>

#include "autograd/autograd.h"
#include "ops/ops.h"
#include "util/error.h"

namespace r1 {

GradReducer::GradReducer(Communicator& comm, std::vector<Tensor> params) : comm_(comm), params_(std::move(params)) {
  for (const Tensor& p : params_) numel_ += p.numel();
  int64_t n = numel_ + int64_t(params_.size());  // values, then one flag per parameter
  padded_ = (n + comm_.size() - 1) / comm_.size() * comm_.size();
}

Tensor GradReducer::flatten() const {
  NoGradGuard ng;
  std::vector<Tensor> parts;  // each (numel_i), then the flags and padding
  std::vector<float> flags(size_t(padded_ - numel_), 0.0f);
  for (size_t i = 0; i < params_.size(); i++) {
    Tensor g = params_[i].grad();
    flags[i] = g.defined() ? 1.0f : 0.0f;
    parts.push_back(g.defined() ? reshape(g, {g.numel()}) : Tensor::zeros({params_[i].numel()}, params_[i].device()));
  }
  Device dev = params_.empty() ? Device::CPU : params_[0].device();
  parts.push_back(Tensor::from_vector({int64_t(flags.size())}, flags, dev));
  Tensor flat = concat(parts, 0);
  // One rank communicates nothing: the running sum stays beside the parameters (no device copies).
  return comm_.size() > 1 ? flat.to(comm_.buffer_device()) : flat;
}

void GradReducer::write_back(const Tensor& flat) {
  NoGradGuard ng;
  std::vector<int64_t> sizes;
  for (const Tensor& p : params_) sizes.push_back(p.numel());
  sizes.push_back(padded_ - numel_);
  Device dev = params_.empty() ? Device::CPU : params_[0].device();
  std::vector<Tensor> parts = split(flat.to(dev), sizes, 0);
  std::vector<float> flags = parts.back().to_vector();
  for (size_t i = 0; i < params_.size(); i++) {
    params_[i].zero_grad();
    if (flags[i] > 0) params_[i].impl().grad = reshape(parts[i], params_[i].shape()).impl_ptr();
  }
}

void GradReducer::add_unit() {
  NoGradGuard ng;
  Tensor flat = flatten();
  for (Tensor& p : params_) p.zero_grad();
  if (comm_.size() == 1)
    sum_ = sum_.defined() ? add(sum_, flat) : flat;  // ((u_0 + u_1) + u_2) + ...
  else
    units_.push_back(flat);
}

void GradReducer::reduce() {
  NoGradGuard ng;
  const int N = comm_.size();
  if (N == 1) {
    check(sum_.defined(), "GradReducer::reduce: no unit was added");
    write_back(sum_);
    sum_ = Tensor();
    return;
  }
  check(!units_.empty(), "GradReducer::reduce: no unit was added");
  const int64_t S = padded_ / N;
  const Device dev = comm_.buffer_device();
  auto t0 = std::chrono::steady_clock::now();
  // recv[k]: (N, S), row q = slice `rank` of rank q's unit k, i.e. of global unit q*K + k.
  std::vector<std::vector<Tensor>> rows;
  for (Tensor& u : units_) {
    Tensor recv = Tensor::empty({padded_}, dev);
    comm_.alltoall(u.data(), recv.data(), S);
    rows.push_back(split(recv, std::vector<int64_t>(size_t(N), S), 0));
  }
  double t_comm = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Tensor slice;  // (S): this rank's slice of the sum, units added in global order
  for (int q = 0; q < N; q++)
    for (size_t k = 0; k < units_.size(); k++) {
      const Tensor& unit = rows[k][size_t(q)];
      slice = slice.defined() ? add(slice, unit) : unit;
    }
  Tensor full = Tensor::empty({padded_}, dev);
  auto t1 = std::chrono::steady_clock::now();
  comm_.allgather(slice.data(), full.data(), S);
  comm_seconds_ += t_comm + std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  units_.clear();
  write_back(full);
}

void reduce_router_load(Transformer& model, Communicator& comm) {
  if (comm.size() == 1) return;
  std::vector<double> v;  // per MoE layer: E loads, then the routed-token count
  for (Block& b : model.blocks())
    if (b.moe) {
      for (int64_t l : b.moe->stats.load) v.push_back(double(l));
      v.push_back(double(b.moe->stats.tokens));
    }
  sum_over_ranks(comm, v);
  size_t i = 0;
  for (Block& b : model.blocks())
    if (b.moe) {
      for (int64_t& l : b.moe->stats.load) l = int64_t(v[i++]);
      b.moe->stats.tokens = int64_t(v[i++]);
    }
}

}  // namespace r1
