// GRPO advantages and objective. See grpo.h for the equations; docs/algorithm.md for the
// paper mapping.
#include "rl/grpo.h"

#include <algorithm>
#include <cmath>

#include "autograd/autograd.h"
#include "util/error.h"

namespace r1 {

void validate(const GrpoOptions& o) {
  if (o.loss != "grpo" && o.loss != "token-mean" && o.loss != "dr_grpo")
    throw Error(cat("option loss: '", o.loss, "' is not one of grpo, token-mean, dr_grpo"));
  if (o.scale_rewards != "group" && o.scale_rewards != "batch" && o.scale_rewards != "none")
    throw Error(cat("option scale_rewards: '", o.scale_rewards, "' is not one of group, batch, none"));
  if (o.std != "sample" && o.std != "population")
    throw Error(cat("option std: '", o.std, "' is not one of sample, population"));
  if (!(o.eps_low >= 0 && o.eps_low < 1)) throw Error(cat("option eps_low: ", o.eps_low, " is not in [0, 1)"));
  if (!(o.eps_high >= 0)) throw Error(cat("option eps_high: ", o.eps_high, " is negative"));
  if (!(o.beta >= 0)) throw Error(cat("option beta: ", o.beta, " is negative"));
  if (!(o.eps >= 0)) throw Error(cat("option eps: ", o.eps, " is negative"));
  if (o.max_len < 0) throw Error(cat("option max_len: ", o.max_len, " is negative"));
}

// --- advantages ------------------------------------------------------------------

static double mean_of(const double* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; i++) s += x[i];
  return s / double(n);
}

// Standard deviation, unbiased (n-1) for "sample"; 0 for a single value.
static double std_of(const double* x, int64_t n, const std::string& kind) {
  if (n < 2 && kind == "sample") return 0;
  double m = mean_of(x, n), ss = 0;
  for (int64_t i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
  return std::sqrt(ss / double(kind == "sample" ? n - 1 : n));
}

std::vector<double> grpo_advantages(const std::vector<double>& r, int64_t G, const GrpoOptions& opt) {
  validate(opt);
  int64_t N = int64_t(r.size());
  if (G < 1 || N % G != 0) throw Error(cat("grpo: ", N, " rewards do not split into groups of ", G));
  std::vector<double> adv(size_t(N), 0.0);
  if (G == 1) return adv;  // no group to compare against
  double std_all = std_of(r.data(), N, opt.std);
  for (int64_t g0 = 0; g0 < N; g0 += G) {
    double m = mean_of(&r[size_t(g0)], G);
    double denom = 1.0;
    if (opt.scale_rewards == "group") denom = std_of(&r[size_t(g0)], G, opt.std) + opt.eps;
    else if (opt.scale_rewards == "batch") denom = std_all + opt.eps;
    // denom is 0 only when eps is 0 and every reward in the group (or batch) is equal, so
    // the numerator is 0 too: the advantage is 0, not 0/0.
    for (int64_t i = g0; i < g0 + G; i++) adv[size_t(i)] = denom > 0 ? (r[size_t(i)] - m) / denom : 0.0;
  }
  return adv;
}

// --- the objective ---------------------------------------------------------------

GrpoLoss grpo_loss(const std::vector<double>& A, const std::vector<std::vector<double>>& lp,
                   const std::vector<std::vector<double>>& lp_old, const std::vector<std::vector<double>>& lp_ref,
                   const GrpoOptions& opt) {
  validate(opt);
  size_t N = lp.size();
  if (A.size() != N || lp_old.size() != N || lp_ref.size() != N)
    throw Error(cat("grpo: ", A.size(), " advantages, ", N, " lp rows, ", lp_old.size(), " lp_old rows, ",
                    lp_ref.size(), " lp_ref rows (all must match)"));
  if (N == 0) throw Error("grpo: no completions");
  int64_t total = 0, longest = 0;
  for (size_t i = 0; i < N; i++) {
    if (lp_old[i].size() != lp[i].size() || lp_ref[i].size() != lp[i].size())
      throw Error(cat("grpo: completion ", i, " has ", lp[i].size(), " lp, ", lp_old[i].size(), " lp_old, ",
                      lp_ref[i].size(), " lp_ref values"));
    total += int64_t(lp[i].size());
    longest = std::max(longest, int64_t(lp[i].size()));
  }
  if (total == 0) throw Error("grpo: every completion is empty");
  int64_t max_len = opt.max_len > 0 ? opt.max_len : longest;
  if (opt.loss == "dr_grpo" && max_len < longest)
    throw Error(cat("grpo: max_len ", max_len, " is shorter than a completion of ", longest, " tokens"));

  GrpoLoss out;
  out.grad_lp.resize(N);
  int64_t clipped = 0;
  double kl_sum = 0;
  for (size_t i = 0; i < N; i++) {
    size_t n = lp[i].size();
    // Weight of each of this completion's tokens in the aggregate L.
    double w = opt.loss == "grpo" ? 1.0 / (double(N) * double(n))
             : opt.loss == "token-mean" ? 1.0 / double(total)
             : 1.0 / (double(N) * double(max_len));
    out.grad_lp[i].resize(n);
    for (size_t t = 0; t < n; t++) {
      double rho = std::exp(lp[i][t] - lp_old[i][t]);
      double unclipped = rho * A[i];
      double clipped_term = std::clamp(rho, 1.0 - opt.eps_low, 1.0 + opt.eps_high) * A[i];
      bool clip_active = clipped_term < unclipped;  // min picks the clipped term: no gradient
      double surr = clip_active ? clipped_term : unclipped;
      double d = lp_ref[i][t] - lp[i][t];
      double kl = std::exp(d) - d - 1.0;
      double l = -(surr - opt.beta * kl);
      // dl/dlp = -dsurr/dlp + beta (1 - exp(lp_ref - lp)), dsurr/dlp = rho A when unclipped
      double dl = -(clip_active ? 0.0 : unclipped) + opt.beta * (1.0 - std::exp(d));
      out.loss += w * l;
      out.grad_lp[i][t] = w * dl;
      kl_sum += kl;
      clipped += clip_active;
    }
  }
  out.kl_mean = kl_sum / double(total);
  out.clip_fraction = double(clipped) / double(total);
  return out;
}

// --- as an autograd op -----------------------------------------------------------

Tensor grpo_objective(const Tensor& lp, const std::vector<int64_t>& lengths, const std::vector<double>& advantages,
                      const std::vector<float>& lp_old, const std::vector<float>& lp_ref, const GrpoOptions& opt,
                      GrpoLoss* stats) {
  int64_t total = 0;
  for (int64_t n : lengths) total += n;
  if (lp.dim() != 1 || lp.numel() != total || int64_t(lp_old.size()) != total || int64_t(lp_ref.size()) != total)
    throw Error(cat("grpo_objective: lp ", shape_str(lp.shape()), ", lp_old ", lp_old.size(), ", lp_ref ",
                    lp_ref.size(), " values for ", total, " completion tokens"));
  // Ragged double-precision copies, then the reference function.
  std::vector<float> lp_host = lp.to_vector();
  std::vector<std::vector<double>> L(lengths.size()), O(lengths.size()), R(lengths.size());
  size_t k = 0;
  for (size_t i = 0; i < lengths.size(); i++)
    for (int64_t t = 0; t < lengths[i]; t++, k++) {
      L[i].push_back(lp_host[k]);
      O[i].push_back(lp_old[k]);
      R[i].push_back(lp_ref[k]);
    }
  GrpoLoss res = grpo_loss(advantages, L, O, R, opt);
  if (stats) *stats = res;
  Tensor out = Tensor::scalar(float(res.loss), lp.device());
  if (needs_grad({lp})) {
    std::vector<float> grad;
    grad.reserve(size_t(total));
    for (const auto& row : res.grad_lp)
      for (double g : row) grad.push_back(float(g));
    record(out, "grpo_objective", {lp}, [lp, grad](const Tensor& g) {
      float upstream = g.item();  // d(total loss)/d(this loss), 1 unless the loss is scaled
      std::vector<float> v = grad;
      for (float& x : v) x *= upstream;
      accumulate_grad(lp, Tensor::from_vector(lp.shape(), v, lp.device()));
    });
  }
  return out;
}

}  // namespace r1
