// GRPO advantages, objective and named conventions. See grpo.h for the equations;
// docs/algorithm.md for the paper mapping, docs/verify.md for the conventions.
#include "rl/grpo.h"

#include <algorithm>
#include <cmath>

#include "autograd/autograd.h"
#include "util/error.h"

namespace r1 {

static bool one_of(const std::string& v, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (v == n) return true;
  return false;
}

void validate(const GrpoOptions& o) {
  if (!one_of(o.loss, {"grpo", "token-mean", "dr_grpo", "seq-mean-token-sum", "seq-mean-token-sum-norm"}))
    throw Error(cat("option loss: '", o.loss,
                    "' is not one of grpo, token-mean, dr_grpo, seq-mean-token-sum, seq-mean-token-sum-norm"));
  if (!one_of(o.scale_rewards, {"group", "batch", "none"}))
    throw Error(cat("option scale_rewards: '", o.scale_rewards, "' is not one of group, batch, none"));
  if (!one_of(o.std, {"sample", "population"}))
    throw Error(cat("option std: '", o.std, "' is not one of sample, population"));
  if (!one_of(o.baseline, {"mean", "rloo"})) throw Error(cat("option baseline: '", o.baseline, "' is not one of mean, rloo"));
  if (!one_of(o.kl, {"k1", "k2", "k3", "low_var_kl"}))
    throw Error(cat("option kl: '", o.kl, "' is not one of k1, k2, k3, low_var_kl"));
  if (!one_of(o.kl_in, {"loss", "reward", "return"}))
    throw Error(cat("option kl_in: '", o.kl_in, "' is not one of loss, reward, return"));
  if (!one_of(o.ratio, {"token", "sequence"})) throw Error(cat("option ratio: '", o.ratio, "' is not one of token, sequence"));
  if (!one_of(o.policy, {"clip", "cispo"})) throw Error(cat("option policy: '", o.policy, "' is not one of clip, cispo"));
  // eps_low = 1 is allowed: no lower bound (CISPO as TRL writes it clips from above only).
  if (!(o.eps_low >= 0 && o.eps_low <= 1)) throw Error(cat("option eps_low: ", o.eps_low, " is not in [0, 1]"));
  if (!(o.eps_high >= 0)) throw Error(cat("option eps_high: ", o.eps_high, " is negative"));
  if (!(o.beta >= 0)) throw Error(cat("option beta: ", o.beta, " is negative"));
  if (!(o.eps >= 0)) throw Error(cat("option eps: ", o.eps, " is negative"));
  if (o.max_len < 0) throw Error(cat("option max_len: ", o.max_len, " is negative"));
  if (!(o.len_eps >= 0)) throw Error(cat("option len_eps: ", o.len_eps, " is negative"));
  if (!(o.kl_clamp >= 0)) throw Error(cat("option kl_clamp: ", o.kl_clamp, " is negative"));
  if (!(o.dual_clip == 0 || o.dual_clip > 1)) throw Error(cat("option dual_clip: ", o.dual_clip, " is neither 0 (off) nor > 1"));
  if (o.dual_clip > 0 && o.policy != "clip") throw Error("option dual_clip: only with policy clip");
  if (!(o.tis_cap >= 0)) throw Error(cat("option tis_cap: ", o.tis_cap, " is negative"));
}

// --- named conventions -----------------------------------------------------------
// Each is written from the framework's source at the version named; docs/verify.md has the
// table (equation, r1 options, the framework's own option names).

namespace {
struct Convention {
  const char* name;
  GrpoOptions (*make)();
};

GrpoOptions trl(const char* loss) {  // TRL v1.9.0 GRPOConfig defaults
  GrpoOptions o;
  o.loss = loss;
  o.beta = 0.0;                       // beta = 0.0 (no reference model)
  o.eps_low = o.eps_high = 0.2;       // epsilon = 0.2, epsilon_high = None -> epsilon
  o.scale_rewards = "group";          // scale_rewards = "group"; nanstd is Bessel-corrected
  o.std = "sample";
  o.eps = 1e-4;                       // (std + 1e-4)
  o.kl = "k3";                        // per_token_kl, unclamped
  o.max_len = std::string(loss) == "dr_grpo" ? 256 : 0;  // max_completion_length = 256
  return o;
}

GrpoOptions verl(const char* agg) {  // verl v0.7.0, GRPO as its docs run it (use_kl_loss=True)
  GrpoOptions o;
  o.loss = agg;                       // actor.loss_agg_mode
  o.beta = 0.001;                     // actor.kl_loss_coef
  o.kl = "low_var_kl";                // actor.kl_loss_type
  o.eps_low = o.eps_high = 0.2;       // actor.clip_ratio (clip_ratio_low/high default to it)
  o.dual_clip = 3.0;                  // actor.clip_ratio_c (always on in the vanilla policy loss)
  o.scale_rewards = "group";          // algorithm.norm_adv_by_std_in_grpo = True, torch.std
  o.std = "sample";
  o.eps = 1e-6;                       // compute_grpo_outcome_advantage(epsilon=1e-6)
  return o;
}

const Convention kConventions[] = {
    {"r1", [] { return GrpoOptions(); }},
    {"deepseekmath",
     [] {  // DeepSeekMath (arXiv 2402.03300) eq. 3 + 4, outcome supervision; beta = 0.04, eps = 0.2
       GrpoOptions o;
       o.loss = "grpo";
       o.beta = 0.04;
       o.kl = "k3";
       o.eps = 0;  // r~ = (r - mean(r)) / std(r): no epsilon in the paper (0/0 -> 0 here)
       return o;
     }},
    {"trl-grpo", [] { return trl("grpo"); }},
    {"trl-bnpo", [] { return trl("token-mean"); }},
    {"trl-dr_grpo", [] { return trl("dr_grpo"); }},
    {"trl-dapo", [] { return trl("token-mean"); }},
    {"verl-token-mean", [] { return verl("token-mean"); }},
    {"verl-seq-mean-token-sum", [] { return verl("seq-mean-token-sum"); }},
    {"verl-seq-mean-token-mean",
     [] {
       GrpoOptions o = verl("grpo");
       o.len_eps = 1e-8;  // agg_loss: sum_t l / (n_i + 1e-8)
       return o;
     }},
    {"verl-seq-mean-token-sum-norm",
     [] {  // agg_loss divides by loss_mask.shape[-1]: the async agent loop (the default rollout mode)
           // pads every response to rollout.response_length = data.max_response_length = 512
       GrpoOptions o = verl("seq-mean-token-sum-norm");
       o.max_len = 512;
       return o;
     }},
    {"verl-kl-in-reward",
     [] {  // algorithm.use_kl_in_reward = True, kl_penalty = "kl" (k1), kl_ctrl.kl_coef = 0.001; use_kl_loss = False
       GrpoOptions o = verl("token-mean");
       o.kl_in = "reward";
       o.kl = "k1";
       o.beta = 0.001;
       return o;
     }},
    {"openrlhf",
     [] {  // OpenRLHF v0.11.0: advantage.estimator group_norm, KL in the reward (kl.use_loss False),
           // kl.estimator k1, kl.init_coef 0.01, compute_approx_kl clamps to [-10, 10], eps_clip 0.2,
           // token-level loss (masked mean over the batch's tokens), no dual clip
       GrpoOptions o;
       o.loss = "token-mean";
       o.beta = 0.01;
       o.kl = "k1";
       o.kl_clamp = 10;
       o.kl_in = "return";
       o.scale_rewards = "group";
       o.std = "sample";
       o.eps = 1e-9;  // (rewards.std() + 1e-9)
       return o;
     }},
    {"openrlhf-kl-loss",
     [] {  // the same with --algo.kl.use_loss and --algo.kl.estimator k3 (its GRPO recipe)
       GrpoOptions o;
       o.loss = "token-mean";
       o.beta = 0.01;
       o.kl = "k3";
       o.kl_clamp = 10;
       o.kl_in = "loss";
       o.eps = 1e-9;
       return o;
     }},
    {"gspo",
     [] {  // GSPO (arXiv 2507.18071): sequence ratio, eps 3e-4 / 4e-4, no KL; TRL importance_sampling_level
           // = "sequence" with loss_type "grpo" (its 1e-4 in the advantage). verl's policy_loss.loss_mode =
           // "gspo" uses 1e-6 there and n_i + 1e-8: set eps 1e-6, len_eps 1e-8 (differences ~1e-9)
       GrpoOptions o;
       o.loss = "grpo";
       o.ratio = "sequence";
       o.eps_low = 3e-4;
       o.eps_high = 4e-4;
       o.beta = 0;
       o.eps = 1e-4;
       return o;
     }},
    {"cispo",
     [] {  // CISPO (MiniMax-M1, arXiv 2506.13585) as TRL v1.9.0 loss_type "cispo": weight
           // sg(min(rho, epsilon_high)) with epsilon_high = 5.0 (its documented value), no lower bound,
           // normalised by the batch's tokens, beta 0
       GrpoOptions o = trl("token-mean");
       o.policy = "cispo";
       o.eps_low = 1.0;
       o.eps_high = 4.0;  // 1 + eps_high = 5
       return o;
     }},
    {"tis",
     [] {  // verl v0.7.0 token-mean GRPO with rollout correction: algorithm.rollout_is = "token",
           // rollout_is_threshold = 2.0 (truncated IS of lp_old against the rollout engine's lp)
       GrpoOptions o = verl("token-mean");
       o.tis_cap = 2.0;
       return o;
     }},
    {"rloo",
     [] {  // verl v0.7.0 algorithm.adv_estimator = rloo (= OpenRLHF rloo): leave-one-out baseline, no std
           // scaling, verl's default actor (token-mean, dual clip 3) and no KL (use_kl_loss False)
       GrpoOptions o = verl("token-mean");
       o.baseline = "rloo";
       o.scale_rewards = "none";
       o.beta = 0;
       return o;
     }},
};
}  // namespace

std::vector<std::string> grpo_convention_names() {
  std::vector<std::string> out;
  for (const Convention& c : kConventions) out.push_back(c.name);
  return out;
}

GrpoOptions grpo_convention(const std::string& name) {
  for (const Convention& c : kConventions)
    if (name == c.name) {
      GrpoOptions o = c.make();
      o.convention = name;
      return o;
    }
  std::string known;
  for (const Convention& c : kConventions) known += cat(known.empty() ? "" : ", ", c.name);
  throw Error(cat("unknown GRPO convention '", name, "'; known: ", known));
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
    // RLOO: r_i - mean of the other G-1 rewards = G/(G-1) (r_i - m).
    double gain = opt.baseline == "rloo" ? double(G) / double(G - 1) : 1.0;
    // denom is 0 only when eps is 0 and every reward in the group (or batch) is equal, so
    // the numerator is 0 too: the advantage is 0, not 0/0.
    for (int64_t i = g0; i < g0 + G; i++)
      adv[size_t(i)] = denom > 0 ? gain * (r[size_t(i)] - m) / denom : 0.0;
  }
  return adv;
}

// --- KL estimators -----------------------------------------------------------------

namespace {
struct KlTerm {
  double value = 0, grad = 0;  // the estimate and its derivative w.r.t. lp
};

KlTerm kl_estimate(double lp, double lp_ref, const GrpoOptions& o) {
  double d = lp_ref - lp;
  KlTerm k;
  if (o.kl == "k1") {
    k = {-d, 1.0};
  } else if (o.kl == "k2") {
    k = {0.5 * d * d, -d};
  } else if (o.kl == "k3") {
    k = {std::exp(d) - d - 1.0, 1.0 - std::exp(d)};
  } else {  // low_var_kl: clamp d to [-20, 20] (no gradient outside), then the value to [-10, 10]
    double dc = std::clamp(d, -20.0, 20.0);
    k = {std::exp(dc) - dc - 1.0, dc == d ? 1.0 - std::exp(d) : 0.0};
    if (k.value > 10.0) k = {10.0, 0.0};
  }
  if (o.kl_clamp > 0 && std::fabs(k.value) > o.kl_clamp) k = {std::copysign(o.kl_clamp, k.value), 0.0};
  return k;
}
}  // namespace

static void check_rows(const Ragged& a, const Ragged& b, const char* an, const char* bn) {
  if (a.size() != b.size()) throw Error(cat("grpo: ", a.size(), " ", an, " rows but ", b.size(), " ", bn, " rows"));
  for (size_t i = 0; i < a.size(); i++)
    if (a[i].size() != b[i].size())
      throw Error(cat("grpo: completion ", i, " has ", a[i].size(), " ", an, " but ", b[i].size(), " ", bn, " values"));
}

Ragged grpo_token_advantages(const std::vector<double>& rewards, int64_t G, const Ragged& lp_old, const Ragged& lp_ref,
                             const GrpoOptions& opt, std::vector<double>* seq_adv) {
  validate(opt);
  if (lp_old.size() != rewards.size())
    throw Error(cat("grpo: ", rewards.size(), " rewards but ", lp_old.size(), " lp_old rows"));
  bool kl_in_reward = opt.kl_in != "loss" && opt.beta > 0;
  if (kl_in_reward) check_rows(lp_old, lp_ref, "lp_old", "lp_ref");
  // kl_{i,t} of the sampling policy against the reference (no gradient).
  Ragged kl(lp_old.size());
  for (size_t i = 0; i < lp_old.size(); i++)
    for (size_t t = 0; kl_in_reward && t < lp_old[i].size(); t++)
      kl[i].push_back(kl_estimate(lp_old[i][t], lp_ref[i][t], opt).value);
  std::vector<double> r = rewards;
  if (kl_in_reward && opt.kl_in == "reward")
    for (size_t i = 0; i < r.size(); i++)
      for (double k : kl[i]) r[i] -= opt.beta * k;
  std::vector<double> a = grpo_advantages(r, G, opt);
  if (seq_adv) *seq_adv = a;
  Ragged out(lp_old.size());
  for (size_t i = 0; i < lp_old.size(); i++) {
    out[i].assign(lp_old[i].size(), a[i]);
    if (kl_in_reward && opt.kl_in == "return") {
      double to_go = 0;  // sum_{s >= t} kl_{i,s}
      for (size_t t = lp_old[i].size(); t-- > 0;) {
        to_go += kl[i][t];
        out[i][t] -= opt.beta * to_go;
      }
    }
  }
  return out;
}

// --- the objective ---------------------------------------------------------------

// The share of a global minibatch's loss that a rank's local grpo_loss() stands for (grpo.h): the
// local token_weight() below divides by the local count of what opt.loss normalises by.
double rank_share(const GrpoOptions& opt, int64_t n_local, int64_t t_local, int64_t n_global, int64_t t_global) {
  check(n_global > 0 && t_global > 0 && n_local <= n_global && t_local <= t_global, "rank_share: local ", n_local,
        " completions / ", t_local, " tokens of ", n_global, " / ", t_global);
  if (opt.loss == "token-mean") return double(t_local) / double(t_global);
  if (opt.loss == "seq-mean-token-sum-norm") return 1.0;  // each token weighs 1/max_len wherever it is
  return double(n_local) / double(n_global);               // grpo, dr_grpo, seq-mean-token-sum: 1/N
}

namespace {
// Weight of each token of a completion of n tokens in the aggregate L (opt.loss).
double token_weight(const GrpoOptions& opt, size_t N, size_t n, int64_t total, int64_t max_len) {
  if (opt.loss == "grpo") return 1.0 / (double(N) * (double(n) + opt.len_eps));
  if (opt.loss == "token-mean") return 1.0 / double(total);
  if (opt.loss == "dr_grpo") return 1.0 / (double(N) * double(max_len));
  if (opt.loss == "seq-mean-token-sum") return 1.0 / double(N);
  return 1.0 / double(max_len);  // seq-mean-token-sum-norm
}

// The policy term of one token (to be minimised) and its derivatives w.r.t. the ratio and
// w.r.t. lp directly (CISPO's only path).
struct PolicyTerm {
  double value = 0, d_rho = 0, d_lp = 0;
  bool clipped = false;  // the clip decides: no gradient through rho (cispo: the weight was clipped)
  bool dual = false;     // held at -c A by the dual clip
};

PolicyTerm policy_term(double rho, double a, double lp, const GrpoOptions& opt) {
  const double lo = 1.0 - opt.eps_low, hi = 1.0 + opt.eps_high;
  PolicyTerm p;
  if (opt.policy == "cispo") {
    double w = std::clamp(rho, lo, hi);  // stop-gradient weight
    p.value = -w * a * lp;
    p.d_lp = -w * a;
    p.clipped = w != rho;
    return p;
  }
  double unclipped = rho * a, clipped = std::clamp(rho, lo, hi) * a;
  p.clipped = clipped < unclipped;  // min picks the clipped term: no gradient
  double surr = p.clipped ? clipped : unclipped;
  p.d_rho = p.clipped ? 0.0 : -a;
  if (opt.dual_clip > 0 && a < 0 && surr < opt.dual_clip * a) {  // -surr > -c A: held at -c A
    surr = opt.dual_clip * a;
    p.d_rho = 0;
    p.dual = true;
  }
  p.value = -surr;
  return p;
}
}  // namespace

GrpoLoss grpo_loss(const Ragged& A, const Ragged& lp, const Ragged& lp_old, const Ragged& lp_ref,
                   const Ragged& lp_rollout, const GrpoOptions& opt) {
  validate(opt);
  size_t N = lp.size();
  if (N == 0) throw Error("grpo: no completions");
  check_rows(lp, A, "lp", "advantage");
  check_rows(lp, lp_old, "lp", "lp_old");
  check_rows(lp, lp_ref, "lp", "lp_ref");
  if (opt.tis_cap > 0) {
    if (lp_rollout.empty()) throw Error("grpo: option tis_cap needs the rollout log-probs (lp_rollout)");
    check_rows(lp, lp_rollout, "lp", "lp_rollout");
  }
  int64_t total = 0, longest = 0;
  for (size_t i = 0; i < N; i++) {
    total += int64_t(lp[i].size());
    longest = std::max(longest, int64_t(lp[i].size()));
  }
  if (total == 0) throw Error("grpo: every completion is empty");
  int64_t max_len = opt.max_len > 0 ? opt.max_len : longest;
  if ((opt.loss == "dr_grpo" || opt.loss == "seq-mean-token-sum-norm") && max_len < longest)
    throw Error(cat("grpo: max_len ", max_len, " is shorter than a completion of ", longest, " tokens"));

  GrpoLoss out;
  out.grad_lp.resize(N);
  int64_t clipped = 0, dual = 0, capped = 0;
  double kl_sum = 0;
  for (size_t i = 0; i < N; i++) {
    size_t n = lp[i].size();
    if (n == 0) continue;
    double w = token_weight(opt, N, n, total, max_len);
    // GSPO: one ratio per completion, s_i = exp(mean_t (lp - lp_old)); ds_i/dlp_{i,u} = s_i / n.
    double seq_log_ratio = 0;
    for (size_t t = 0; t < n; t++) seq_log_ratio += lp[i][t] - lp_old[i][t];
    double s = std::exp(seq_log_ratio / double(n));
    double seq_grad = 0;  // sum_t w * d pg_{i,t} / d s_i (sequence ratio only)
    out.grad_lp[i].assign(n, 0.0);
    for (size_t t = 0; t < n; t++) {
      double a = A[i][t];
      double rho = opt.ratio == "sequence" ? s : std::exp(lp[i][t] - lp_old[i][t]);
      PolicyTerm pt = policy_term(rho, a, lp[i][t], opt);
      clipped += pt.clipped;
      dual += pt.dual;
      double tis = 1.0;
      if (opt.tis_cap > 0) {
        double wr = std::exp(lp_old[i][t] - lp_rollout[i][t]);
        tis = std::min(wr, opt.tis_cap);
        capped += wr > opt.tis_cap;
      }
      double l = tis * pt.value, dl = tis * pt.d_lp;
      if (opt.ratio == "sequence") seq_grad += w * tis * pt.d_rho;
      else dl += tis * pt.d_rho * rho;
      // The KL estimate is reported whatever beta is; it enters the loss only with kl_in "loss".
      if (opt.kl_in == "loss") {
        KlTerm k = kl_estimate(lp[i][t], lp_ref[i][t], opt);
        l += opt.beta * k.value;
        dl += opt.beta * k.grad;
        kl_sum += k.value;
      } else {
        kl_sum += kl_estimate(lp_old[i][t], lp_ref[i][t], opt).value;
      }
      out.loss += w * l;
      out.grad_lp[i][t] = w * dl;
    }
    if (opt.ratio == "sequence")
      for (size_t t = 0; t < n; t++) out.grad_lp[i][t] += seq_grad * s / double(n);
  }
  out.kl_mean = kl_sum / double(total);
  out.clip_fraction = double(clipped) / double(total);
  out.dual_clip_fraction = double(dual) / double(total);
  out.tis_capped_fraction = double(capped) / double(total);
  return out;
}

GrpoLoss grpo_loss(const std::vector<double>& A, const Ragged& lp, const Ragged& lp_old, const Ragged& lp_ref,
                   const GrpoOptions& opt) {
  if (A.size() != lp.size() || lp_old.size() != lp.size() || lp_ref.size() != lp.size())
    throw Error(cat("grpo: ", A.size(), " advantages, ", lp.size(), " lp rows, ", lp_old.size(), " lp_old rows, ",
                    lp_ref.size(), " lp_ref rows (all must match)"));
  Ragged token_adv(lp.size());
  for (size_t i = 0; i < lp.size(); i++) token_adv[i].assign(lp[i].size(), A[i]);
  return grpo_loss(token_adv, lp, lp_old, lp_ref, {}, opt);
}

// --- as an autograd op -----------------------------------------------------------

Tensor grpo_objective(const Tensor& lp, const std::vector<int64_t>& lengths, const std::vector<double>& token_adv,
                      const std::vector<float>& lp_old, const std::vector<float>& lp_ref,
                      const std::vector<float>& lp_rollout, const GrpoOptions& opt, GrpoLoss* stats) {
  int64_t total = 0;
  for (int64_t n : lengths) total += n;
  if (lp.dim() != 1 || lp.numel() != total || int64_t(token_adv.size()) != total || int64_t(lp_old.size()) != total ||
      int64_t(lp_ref.size()) != total || !(lp_rollout.empty() || int64_t(lp_rollout.size()) == total))
    throw Error(cat("grpo_objective: lp ", shape_str(lp.shape()), ", advantages ", token_adv.size(), ", lp_old ",
                    lp_old.size(), ", lp_ref ", lp_ref.size(), ", lp_rollout ", lp_rollout.size(), " values for ",
                    total, " completion tokens"));
  // Ragged double-precision copies, then the reference function.
  std::vector<float> lp_host = lp.to_vector();
  size_t rows = lengths.size();
  Ragged L(rows), Ad(rows), O(rows), R(rows), Ro(lp_rollout.empty() ? 0 : rows);
  size_t k = 0;
  for (size_t i = 0; i < rows; i++)
    for (int64_t t = 0; t < lengths[i]; t++, k++) {
      L[i].push_back(lp_host[k]);
      Ad[i].push_back(token_adv[k]);
      O[i].push_back(lp_old[k]);
      R[i].push_back(lp_ref[k]);
      if (!lp_rollout.empty()) Ro[i].push_back(lp_rollout[k]);
    }
  GrpoLoss res = grpo_loss(Ad, L, O, R, Ro, opt);
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

Tensor grpo_objective(const Tensor& lp, const std::vector<int64_t>& lengths, const std::vector<double>& advantages,
                      const std::vector<float>& lp_old, const std::vector<float>& lp_ref, const GrpoOptions& opt,
                      GrpoLoss* stats) {
  if (advantages.size() != lengths.size())
    throw Error(cat("grpo_objective: ", advantages.size(), " advantages for ", lengths.size(), " completions"));
  std::vector<double> token_adv;
  for (size_t i = 0; i < lengths.size(); i++) token_adv.insert(token_adv.end(), size_t(lengths[i]), advantages[i]);
  return grpo_objective(lp, lengths, token_adv, lp_old, lp_ref, {}, opt, stats);
}

}  // namespace r1
