// The GRPO objective: group-relative advantages and the clipped surrogate with a k3 KL
// penalty, in double precision. This is the reference semantics that `r1 grpo-loss`
// prints, that the golden vectors in data/golden/grpo/ check, and that the trainer
// differentiates (grpo_objective() wraps the same function as an autograd op).
// docs/algorithm.md maps each equation here to the paper.
//
// Notation: completion i = 1..N (N = prompts x G), group g(i) = the G completions of one
// prompt, reward r_i, completion tokens t = 1..|o_i|, log-probs of the sampled tokens under
// the current policy (lp), the policy that sampled them (lp_old) and the reference (lp_ref).
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace r1 {

struct GrpoOptions {
  // Aggregation of per-token losses l_{i,t}:
  //   "grpo"       (DeepSeekMath)  L = (1/N) sum_i (1/|o_i|) sum_t l_{i,t}
  //   "token-mean" (DAPO)          L = sum_{i,t} l_{i,t} / sum_i |o_i|
  //   "dr_grpo"    (Dr. GRPO)      L = sum_{i,t} l_{i,t} / (N * max_len)
  std::string loss = "grpo";
  double beta = 0.001;      // KL coefficient (R1-Zero: 0.001)
  double eps_low = 0.2;     // ratio clip range [1 - eps_low, 1 + eps_high]
  double eps_high = 0.2;
  // Advantage scaling: "group" (r - mean_g) / (std_g + eps); "batch" (r - mean_g) / (std_all + eps);
  // "none" (Dr. GRPO) r - mean_g.
  std::string scale_rewards = "group";
  std::string std = "sample";  // "sample" (divide by n-1) or "population" (divide by n)
  double eps = 1e-4;           // added to the std
  int64_t max_len = 0;         // dr_grpo's constant; 0 = the longest completion in the batch
};

// Checks option names and values; throws r1::Error naming the bad option.
void validate(const GrpoOptions& opt);

// One advantage per completion (shared by its tokens). rewards.size() must be a multiple of
// group_size; a group of size 1 gets advantage 0.
std::vector<double> grpo_advantages(const std::vector<double>& rewards, int64_t group_size, const GrpoOptions& opt);

struct GrpoLoss {
  double loss = 0;
  double kl_mean = 0;        // mean over all completion tokens of the k3 estimate
  double clip_fraction = 0;  // fraction of tokens whose clipped term is strictly smaller
  std::vector<std::vector<double>> grad_lp;  // dL/dlp, same ragged shape as lp
};

// Per token: rho = exp(lp - lp_old), surr = min(rho A, clip(rho, 1-eps_low, 1+eps_high) A),
// kl = exp(lp_ref - lp) - (lp_ref - lp) - 1, l = -(surr - beta kl), aggregated per opt.loss.
// lp, lp_old, lp_ref: N ragged rows, row i of length |o_i| (the same in all three).
GrpoLoss grpo_loss(const std::vector<double>& advantages, const std::vector<std::vector<double>>& lp,
                   const std::vector<std::vector<double>>& lp_old, const std::vector<std::vector<double>>& lp_ref,
                   const GrpoOptions& opt);

// The same objective as an autograd op for training. lp: (total_tokens,) log-probs of the
// sampled tokens under the current policy (requires grad), rows laid end to end in the
// order of `lengths`; lp_old and lp_ref: host values in the same layout. Returns the loss
// (shape ()), whose backward multiplies grpo_loss()'s grad_lp by the incoming gradient.
// `stats` (optional) receives kl_mean and clip_fraction.
Tensor grpo_objective(const Tensor& lp, const std::vector<int64_t>& lengths, const std::vector<double>& advantages,
                      const std::vector<float>& lp_old, const std::vector<float>& lp_ref, const GrpoOptions& opt,
                      GrpoLoss* stats = nullptr);

}  // namespace r1
