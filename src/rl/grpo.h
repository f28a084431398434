// The GRPO objective: group-relative advantages and the clipped surrogate with a KL
// penalty, in double precision, with the orthogonal options (aggregation, KL estimator and
// placement, ratio level, clip/dual clip/CISPO, TIS, RLOO baseline) that the named
// conventions of DeepSeekMath, TRL, verl, OpenRLHF, GSPO and CISPO combine. This is the reference semantics that `r1 grpo-loss`
// prints, that the golden vectors in data/golden/grpo/ check, and that the trainer
// differentiates (grpo_objective() wraps the same function as an autograd op).
// docs/algorithm.md maps each equation here to the paper.
//
// Notation: completion i = 1..N (N = prompts x G), group g(i) = the G completions of one
// prompt, reward r_i, completion tokens t = 1..|o_i|, log-probs of the sampled tokens under
// the current policy (lp), the policy that sampled them (lp_old), the reference (lp_ref)
// and, for TIS, the rollout engine's own log-probs of the same tokens (lp_rollout).
// Not here: value functions/GAE, entropy bonuses, multi-step gradient accumulation.
#pragma once
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace r1 {

struct GrpoOptions {
  // Aggregation of per-token losses l_{i,t} (n_i = |o_i|, T = sum_i n_i):
  //   "grpo"       (DeepSeekMath; verl seq-mean-token-mean)  L = (1/N) sum_i (1/n_i) sum_t l_{i,t}
  //   "token-mean" (DAPO; TRL bnpo/dapo; verl token-mean)    L = sum_{i,t} l_{i,t} / T
  //   "dr_grpo"    (Dr. GRPO; TRL dr_grpo)                   L = sum_{i,t} l_{i,t} / (N * max_len)
  //   "seq-mean-token-sum"      (verl)                       L = (1/N) sum_i sum_t l_{i,t}
  //   "seq-mean-token-sum-norm" (verl)                       L = sum_{i,t} l_{i,t} / max_len
  std::string loss = "grpo";
  double beta = 0.001;      // KL coefficient (R1-Zero: 0.001), in the loss or in the reward (kl_in)
  double eps_low = 0.2;     // ratio clip range [1 - eps_low, 1 + eps_high]
  double eps_high = 0.2;
  // Advantage scaling: "group" (r - b_i) / (std_g + eps); "batch" (r - b_i) / (std_all + eps);
  // "none" (Dr. GRPO) r - b_i, where b_i is the baseline.
  std::string scale_rewards = "group";
  std::string std = "sample";  // "sample" (divide by n-1) or "population" (divide by n)
  double eps = 1e-4;           // added to the std
  int64_t max_len = 0;         // dr_grpo's / seq-mean-token-sum-norm's constant; 0 = the longest completion
  double len_eps = 0;          // "grpo" divides by n_i + len_eps (verl's seq-mean-token-mean: 1e-8)
  // --- the orthogonal options the named conventions (grpo_convention()) combine ---
  // Baseline b_i: "mean" (the group mean, GRPO) or "rloo" (the mean of the group's other
  // rewards, RLOO: r_i - b_i = G/(G-1) (r_i - mean_g)).
  std::string baseline = "mean";
  // KL estimator of KL(pi || pi_ref) per token, with d = lp_ref - lp (Schulman's k1/k2/k3):
  //   "k1" -d;  "k2" d^2 / 2;  "k3" exp(d) - d - 1;
  //   "low_var_kl" verl's k3: d clamped to [-20, 20], then the value clamped to [-10, 10].
  std::string kl = "k3";
  double kl_clamp = 0;  // > 0: clamp every estimate to [-kl_clamp, kl_clamp] (OpenRLHF: 10); 0 = off
  // Where the KL term goes:
  //   "loss"   l_{i,t} += beta kl(lp, lp_ref)_{i,t} (differentiated);
  //   "reward" verl use_kl_in_reward: r_i -= beta sum_t kl(lp_old, lp_ref)_{i,t} before the baseline;
  //   "return" OpenRLHF: A_{i,t} = A_i - beta sum_{s >= t} kl(lp_old, lp_ref)_{i,s} (gamma = 1).
  std::string kl_in = "loss";
  // Importance ratio: "token" rho_{i,t} = exp(lp - lp_old); "sequence" (GSPO)
  // s_i = exp((1/n_i) sum_t (lp - lp_old)), shared by the completion's tokens.
  std::string ratio = "token";
  // Policy term: "clip" (PPO) -min(rho A, clip(rho, 1-eps_low, 1+eps_high) A); "cispo"
  // -sg(clip(rho, 1-eps_low, 1+eps_high)) A lp (gradient only through lp).
  std::string policy = "clip";
  double dual_clip = 0;  // > 1: dual-clip PPO (verl clip_ratio_c): for A < 0 the term is at most -c A
  // Truncated importance sampling for rollout/trainer mismatch: the policy term of each token
  // is multiplied by sg(min(exp(lp_old - lp_rollout), tis_cap)); needs lp_rollout. 0 = off.
  double tis_cap = 0;
  std::string convention;  // the name of the preset these options started from ("" = none)
};

// The named conventions (presets of the options above) and the framework version each was
// read from: docs/verify.md "GRPO conventions". Throws r1::Error listing the known names.
GrpoOptions grpo_convention(const std::string& name);
std::vector<std::string> grpo_convention_names();

// Checks option names and values; throws r1::Error naming the bad option.
void validate(const GrpoOptions& opt);

using Ragged = std::vector<std::vector<double>>;  // N rows, row i of length n_i

// One advantage per completion (shared by its tokens), from the rewards alone (baseline and
// scaling; kl_in "reward"/"return" need the log-probs: grpo_token_advantages()).
// rewards.size() must be a multiple of group_size; a group of size 1 gets advantage 0.
std::vector<double> grpo_advantages(const std::vector<double>& rewards, int64_t group_size, const GrpoOptions& opt);

// Per-token advantages A_{i,t} for every option, KL-in-reward placements included (they use
// the KL of lp_old against lp_ref, without gradient). `seq_adv` (optional) receives the
// per-completion advantages before the "return" shaping.
Ragged grpo_token_advantages(const std::vector<double>& rewards, int64_t group_size, const Ragged& lp_old,
                             const Ragged& lp_ref, const GrpoOptions& opt, std::vector<double>* seq_adv = nullptr);

struct GrpoLoss {
  double loss = 0;
  double kl_mean = 0;        // mean over all completion tokens of the KL estimate (of lp, or of lp_old
                             // when kl_in is "reward"/"return"), after clamping; reported for any beta
  double clip_fraction = 0;  // tokens whose clipped policy term is active (no gradient through rho;
                             // cispo: tokens whose weight was clipped)
  double dual_clip_fraction = 0;  // tokens with A < 0 held at -c A by the dual clip
  double tis_capped_fraction = 0; // tokens whose TIS weight was capped
  Ragged grad_lp;            // dL/dlp, same ragged shape as lp
};

// Per token (see GrpoOptions for each option): the policy term pg_{i,t} (clipped surrogate
// or CISPO, token or sequence ratio, dual clip, TIS weight), plus beta kl_{i,t} when kl_in is
// "loss"; l = pg + beta kl, aggregated per opt.loss. lp, lp_old, lp_ref, advantages and (when
// tis_cap > 0) lp_rollout: N ragged rows of the same lengths; lp_rollout may be empty otherwise.
GrpoLoss grpo_loss(const Ragged& advantages, const Ragged& lp, const Ragged& lp_old, const Ragged& lp_ref,
                   const Ragged& lp_rollout, const GrpoOptions& opt);
// The same with one advantage per completion and no rollout log-probs.
GrpoLoss grpo_loss(const std::vector<double>& advantages, const Ragged& lp, const Ragged& lp_old, const Ragged& lp_ref,
                   const GrpoOptions& opt);

// Data parallel: a global minibatch of n_global completions (t_global tokens) split over ranks,
// this rank holding n_local of them (t_local tokens). grpo_loss() over the local completions,
// times rank_share(), is this rank's part of grpo_loss() over the global minibatch (the parts
// sum to it), given the same max_len on every rank: the local aggregate divides by what
// opt.loss divides by locally, and the share swaps that for the global count:
//   token-mean                         1/T            -> t_local / t_global
//   seq-mean-token-sum-norm            1/max_len      -> 1 (no per-rank count)
//   grpo, dr_grpo, seq-mean-token-sum  1/N (x ...)    -> n_local / n_global
// The other options (ratio, policy, KL, TIS) act per token or per completion and do not change it.
double rank_share(const GrpoOptions& opt, int64_t n_local, int64_t t_local, int64_t n_global, int64_t t_global);

// The same objective as an autograd op for training. lp: (total_tokens,) log-probs of the
// sampled tokens under the current policy (requires grad), rows laid end to end in the
// order of `lengths`; advantages, lp_old, lp_ref, lp_rollout: host values in the same layout
// (lp_rollout may be empty when tis_cap is 0). Returns the loss (shape ()), whose backward
// multiplies grpo_loss()'s grad_lp by the incoming gradient. `stats` (optional) receives the metrics.
Tensor grpo_objective(const Tensor& lp, const std::vector<int64_t>& lengths, const std::vector<double>& token_advantages,
                      const std::vector<float>& lp_old, const std::vector<float>& lp_ref,
                      const std::vector<float>& lp_rollout, const GrpoOptions& opt, GrpoLoss* stats = nullptr);
// One advantage per completion, no rollout log-probs (the trainer's call).
Tensor grpo_objective(const Tensor& lp, const std::vector<int64_t>& lengths, const std::vector<double>& advantages,
                      const std::vector<float>& lp_old, const std::vector<float>& lp_ref, const GrpoOptions& opt,
                      GrpoLoss* stats = nullptr);

}  // namespace r1
