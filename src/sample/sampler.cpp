// Token sampling: temperature, then truncation (top-k, top-p, min-p as Hugging Face's
// logits warpers define them), then one inverse-CDF draw over the kept tokens in id order.
// Probabilities are computed in double so that truncation boundaries are not decided by
// float rounding.
#include "sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace r1 {

void validate(const SamplingParams& p) {
  if (!(p.temperature >= 0)) throw Error(cat("temperature ", p.temperature, " must be >= 0"));
  if (p.top_k < 0) throw Error(cat("top_k ", p.top_k, " must be >= 0"));
  if (!(p.top_p > 0 && p.top_p <= 1)) throw Error(cat("top_p ", p.top_p, " must be in (0, 1]"));
  if (!(p.min_p >= 0 && p.min_p <= 1)) throw Error(cat("min_p ", p.min_p, " must be in [0, 1]"));
}

// log_softmax(logits / t) in double: (V).
static std::vector<double> log_probs(const float* logits, int64_t V, double t) {
  std::vector<double> lp(static_cast<size_t>(V));
  double mx = -INFINITY;
  for (int64_t i = 0; i < V; i++) mx = std::max(mx, double(logits[i]) / t);
  double s = 0;
  for (int64_t i = 0; i < V; i++) s += std::exp(double(logits[i]) / t - mx);
  double lse = mx + std::log(s);
  for (int64_t i = 0; i < V; i++) lp[size_t(i)] = double(logits[i]) / t - lse;
  return lp;
}

static int32_t argmax(const float* x, int64_t V) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; i++)
    if (x[i] > x[best]) best = i;
  return int32_t(best);
}

// Marks the tokens that survive top-k, top-p and min-p, given log-probs after temperature.
static std::vector<uint8_t> kept_tokens(const std::vector<double>& lp, const SamplingParams& p) {
  size_t V = lp.size();
  std::vector<uint8_t> keep(V, 1);
  bool truncates = (p.top_k > 0 && size_t(p.top_k) < V) || p.top_p < 1.0f || p.min_p > 0.0f;
  if (!truncates) return keep;
  // Token ids by decreasing probability (ties: lower id first), so cut-offs are well defined.
  std::vector<int32_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return lp[size_t(a)] > lp[size_t(b)]; });
  size_t n = V;  // tokens still kept: order[0..n)
  // top-k: HF removes scores < the k-th largest, so ties with the k-th stay.
  if (p.top_k > 0 && size_t(p.top_k) < n) {
    double kth = lp[size_t(order[size_t(p.top_k) - 1])];
    size_t m = size_t(p.top_k);
    while (m < n && lp[size_t(order[m])] >= kth) m++;
    n = m;
  }
  // Renormalised probabilities of the kept prefix.
  auto probs = [&](size_t count) {
    std::vector<double> q(count);
    double mx = lp[size_t(order[0])], s = 0;
    for (size_t i = 0; i < count; i++) s += (q[i] = std::exp(lp[size_t(order[i])] - mx));
    for (double& x : q) x /= s;
    return q;
  };
  // top-p: HF sorts ascending and removes tokens whose cumulative mass (from the least likely
  // up to and including themselves) is <= 1 - top_p; the most likely token always stays.
  if (p.top_p < 1.0f && n > 1) {
    std::vector<double> q = probs(n);
    double cum = 0;
    size_t removed = 0;
    for (size_t i = n; i-- > 1;) {  // ascending probability = descending index
      cum += q[i];
      if (cum <= 1.0 - double(p.top_p)) removed++;
      else break;
    }
    n -= removed;
  }
  // min-p: remove tokens with p < min_p * p_max (the ratio does not depend on renormalisation).
  if (p.min_p > 0.0f && n > 1) {
    double cut = lp[size_t(order[0])] + std::log(double(p.min_p));
    size_t m = 1;
    while (m < n && lp[size_t(order[m])] >= cut) m++;
    n = m;
  }
  std::fill(keep.begin(), keep.end(), 0);
  for (size_t i = 0; i < n; i++) keep[size_t(order[i])] = 1;
  return keep;
}

// Unnormalised weights exp(lp - max) of the kept tokens (0 for dropped ones) and their sum,
// from log-probs after temperature. Each exp is computed once, and both the distribution and
// the draw divide by the same sum, so they agree to the bit.
static std::vector<double> kept_weights(const std::vector<double>& lp, const SamplingParams& p, double& total) {
  std::vector<uint8_t> keep = kept_tokens(lp, p);
  double mx = -INFINITY;
  for (size_t i = 0; i < lp.size(); i++)
    if (keep[i]) mx = std::max(mx, lp[i]);
  std::vector<double> w(lp.size(), 0.0);
  total = 0;
  for (size_t i = 0; i < lp.size(); i++)
    if (keep[i]) total += (w[i] = std::exp(lp[i] - mx));
  return w;
}

std::vector<std::pair<int32_t, double>> sampling_distribution(const float* logits, int64_t V, const SamplingParams& p) {
  validate(p);
  if (p.temperature == 0) return {{argmax(logits, V), 1.0}};
  double total;
  std::vector<double> w = kept_weights(log_probs(logits, V, p.temperature), p, total);
  std::vector<std::pair<int32_t, double>> out;
  for (size_t i = 0; i < w.size(); i++)
    if (w[i] > 0) out.push_back({int32_t(i), w[i] / total});
  return out;
}

TokenChoice sample_token(const float* logits, int64_t V, const SamplingParams& p, Rng& rng) {
  if (p.temperature == 0) {
    int32_t t = argmax(logits, V);
    return {t, float(log_probs(logits, V, 1.0)[size_t(t)])};
  }
  std::vector<double> lp = log_probs(logits, V, p.temperature);
  double total;
  std::vector<double> w = kept_weights(lp, p, total);
  // Inverse CDF in id order; the scan stops at the drawn token. If rounding leaves u above
  // the total, the last kept token is drawn.
  double u = rng.uniform(), cum = 0;
  int32_t token = -1, last = 0;
  for (size_t i = 0; i < w.size() && token < 0; i++) {
    if (w[i] == 0) continue;
    last = int32_t(i);
    cum += w[i] / total;
    if (u < cum) token = int32_t(i);
  }
  if (token < 0) token = last;
  return {token, float(lp[size_t(token)])};
}

}  // namespace r1
