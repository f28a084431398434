// DeepSeekMoE router and sparse expert dispatch. See moe.h.
#include "model/moe.h"

#include <algorithm>
#include <numeric>

#include "autograd/autograd.h"
#include "model/dump.h"
#include "util/error.h"

namespace r1 {

// --- router ---------------------------------------------------------------------------

Gate::Gate(const Config& c)
    : n_experts(c.n_routed_experts), top_k(c.num_experts_per_tok), n_group(c.n_group), topk_group(c.topk_group),
      sigmoid_scores(c.scoring_func == "sigmoid"), norm_topk_prob(c.norm_topk_prob),
      scaling(float(c.routed_scaling_factor)), weight(make_param({c.n_routed_experts, c.hidden_size})) {
  if (c.has_router_bias()) bias = Tensor::zeros({c.n_routed_experts});
}

void Gate::collect(const std::string& prefix, TensorSlots& out) {
  out.push_back({prefix + "weight", &weight});
  if (bias.defined()) out.push_back({prefix + "e_score_correction_bias", &bias});
}

// The `keep` best of `candidates`, best first: larger key, then smaller index (deterministic ties).
static std::vector<int64_t> ranked(const std::vector<float>& key, const std::vector<int64_t>& candidates,
                                   int64_t keep) {
  std::vector<int64_t> idx = candidates;
  std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(), [&](int64_t a, int64_t b) {
    return key[size_t(a)] != key[size_t(b)] ? key[size_t(a)] > key[size_t(b)] : a < b;
  });
  idx.resize(size_t(keep));
  return idx;
}

Ids Gate::select(const std::vector<float>& scores, int64_t N) const {
  const int64_t E = n_experts, K = top_k, per_group = E / n_group;
  std::vector<float> b = bias.defined() ? bias.to_vector() : std::vector<float>(size_t(E), 0.0f);
  std::vector<int64_t> all_groups(static_cast<size_t>(n_group));
  std::iota(all_groups.begin(), all_groups.end(), 0);
  Ids out(size_t(N * K));
  std::vector<float> biased(static_cast<size_t>(E)), group_score(static_cast<size_t>(n_group));
  for (int64_t n = 0; n < N; n++) {
    for (int64_t e = 0; e < E; e++) biased[size_t(e)] = scores[size_t(n * E + e)] + b[size_t(e)];
    // Eligible experts: all, or those of the topk_group best groups.
    std::vector<int64_t> eligible;
    if (n_group == 1) {
      eligible.resize(size_t(E));
      std::iota(eligible.begin(), eligible.end(), 0);
    } else {
      for (int64_t g = 0; g < n_group; g++) {
        auto first = biased.begin() + g * per_group, last = first + per_group;
        if (bias.defined()) {  // noaux_tc: sum of the group's two best biased scores
          std::vector<float> s(first, last);
          std::partial_sort(s.begin(), s.begin() + 2, s.end(), std::greater<float>());
          group_score[size_t(g)] = s[0] + s[1];
        } else {  // greedy: the group's best score
          group_score[size_t(g)] = *std::max_element(first, last);
        }
      }
      for (int64_t g : ranked(group_score, all_groups, topk_group))
        for (int64_t e = g * per_group; e < (g + 1) * per_group; e++) eligible.push_back(e);
    }
    std::vector<int64_t> chosen = ranked(biased, eligible, K);
    for (int64_t j = 0; j < K; j++) out[size_t(n * K + j)] = int32_t(chosen[size_t(j)]);
  }
  return out;
}

// The router's intermediates under HF DeepseekV3TopkRouter's names: scores (N, E), scores_for_choice
// (N, E) = s + b (noaux_tc only), and per token the K chosen experts (ids as floats) with their gate
// weights, (N, K) each, sorted by expert id: HF's top-k is unsorted, so only a canonical order compares.
void Gate::dump_routing(ForwardDump& d, const Routing& r) const {
  const int64_t N = r.scores.size(0), E = n_experts, K = top_k;
  std::vector<float> s = r.scores.to_vector(), g = r.gate.to_vector(), idx(size_t(N * K)), w(size_t(N * K));
  d.add(".mlp.gate:scores", r.scores);
  if (bias.defined()) {
    std::vector<float> b = bias.to_vector();
    for (size_t i = 0; i < s.size(); i++) s[i] += b[i % size_t(E)];
    d.add(".mlp.gate:scores_for_choice", Tensor::from_vector({N, E}, s));
  }
  for (int64_t n = 0; n < N; n++) {
    std::vector<int64_t> slots(static_cast<size_t>(K));
    std::iota(slots.begin(), slots.end(), n * K);
    std::sort(slots.begin(), slots.end(), [&](int64_t a, int64_t b) { return r.expert[size_t(a)] < r.expert[size_t(b)]; });
    for (int64_t j = 0; j < K; j++) {
      idx[size_t(n * K + j)] = float(r.expert[size_t(slots[size_t(j)])]);
      w[size_t(n * K + j)] = g[size_t(slots[size_t(j)])];
    }
  }
  d.add(".mlp.gate:topk_idx", Tensor::from_vector({N, K}, idx));
  d.add(".mlp.gate:topk_weight", Tensor::from_vector({N, K}, w));
}

Routing Gate::forward(const Tensor& x) const {
  const int64_t N = x.size(0);
  Routing r;
  Tensor logits = linear(x, weight);                         // (N, E)
  r.scores = sigmoid_scores ? sigmoid(logits) : softmax(logits);  // (N, E)
  // The decision is made on the host. On CUDA that is a round trip per MoE layer (scores and the
  // bias copied to the host, the expert lists back as index_select/scatter_add indices) and a sync
  // that stalls the device; a device top-k kernel producing the dispatch indices would remove it.
  r.expert = select(r.scores.to_vector(), N);                 // (N*K), host decision
  r.gate = gather(r.scores, r.expert, top_k);                 // (N, K) unbiased scores of the chosen
  // Renormalize over the chosen experts (not for K = 1, where it would make g == 1 and cut the
  // router off from the gradient; Hugging Face's DeepSeek code skips it too).
  if (norm_topk_prob && top_k > 1) r.gate = div(r.gate, sum(r.gate, -1, /*keepdim=*/true));
  if (scaling != 1.0f) r.gate = scale(r.gate, scaling);
  if (ForwardDump* d = active_dump()) dump_routing(*d, r);
  return r;
}

// --- statistics ------------------------------------------------------------------------

double RouterStats::max_over_mean() const {
  int64_t total = std::accumulate(load.begin(), load.end(), int64_t(0));
  if (total == 0) return 0.0;
  double mean = double(total) / double(load.size());
  return double(*std::max_element(load.begin(), load.end())) / mean;
}

// --- MoE layer ----------------------------------------------------------------------------

Moe::Moe(const Config& c)
    : gate(c), aux_loss_alpha(float(c.aux_loss_alpha)), bias_update_speed(float(c.bias_update_speed)) {
  for (int64_t e = 0; e < c.n_routed_experts; e++) experts.emplace_back(c.hidden_size, c.moe_intermediate_size);
  if (c.n_shared_experts > 0) shared.emplace(c.hidden_size, c.n_shared_experts * c.moe_intermediate_size);
  stats.load.assign(size_t(c.n_routed_experts), 0);
}

void Moe::collect(const std::string& prefix, TensorSlots& out) {
  gate.collect(prefix + "gate.", out);
  for (size_t e = 0; e < experts.size(); e++) experts[e].collect(cat(prefix, "experts.", e, "."), out);
  if (shared) shared->collect(prefix + "shared_experts.", out);
}

Tensor Moe::forward(const Tensor& x, int64_t B, int64_t T, Tensor* aux_loss) {
  const int64_t N = x.size(0), K = gate.top_k, E = gate.n_experts;
  Routing r = gate.forward(x);

  // Group the N*K (token, slot) pairs by expert (a counting sort): expert e's pairs take
  // positions [fill[e], fill[e] + count[e]) of the grouped order, in token order.
  std::vector<int64_t> count(size_t(E), 0), fill(size_t(E), 0);
  for (int32_t e : r.expert) count[size_t(e)]++;
  for (int64_t e = 1; e < E; e++) fill[size_t(e)] = fill[size_t(e - 1)] + count[size_t(e - 1)];
  Ids slot_of(size_t(N * K));   // flat slot n*K + j of each grouped position
  Ids token_of(size_t(N * K));  // its token n
  for (int64_t i = 0; i < N * K; i++) {
    int64_t p = fill[size_t(r.expert[size_t(i)])]++;
    slot_of[size_t(p)] = int32_t(i);
    token_of[size_t(p)] = int32_t(i / K);
  }

  // Gather -> each expert on its own tokens -> weighted scatter-add back.
  Tensor xs = index_select(x, token_of);  // (N*K, D), grouped by expert
  std::vector<int64_t> sizes;
  std::vector<int64_t> used;  // experts that got tokens, in order
  for (int64_t e = 0; e < E; e++)
    if (count[size_t(e)] > 0) sizes.push_back(count[size_t(e)]), used.push_back(e);
  std::vector<Tensor> parts = split(xs, sizes, 0);
  std::vector<Tensor> ys;
  for (size_t i = 0; i < used.size(); i++) {
    ys.push_back(experts[size_t(used[i])].forward(parts[i]));  // (count[e], D), the expert's tokens in order
    if (ForwardDump* d = active_dump()) d->add(cat(".mlp.experts.", used[i], ":out"), ys.back());
  }
  Tensor y = ys.size() == 1 ? ys[0] : concat(ys, 0);                    // (N*K, D)
  Tensor g = index_select(reshape(r.gate, {N * K, 1}), slot_of);        // (N*K, 1)
  Tensor out = scatter_add(mul(y, g), token_of, N);                     // (N, D)
  if (shared) {
    Tensor s = shared->forward(x);  // (N, D)
    dump_tensor(".mlp.shared_experts:out", s);
    out = add(out, s);
  }

  last_expert = r.expert;
  if (grad_enabled()) {
    for (int64_t e = 0; e < E; e++) stats.load[size_t(e)] += count[size_t(e)];
    stats.tokens += N;
  }

  // Sequence-wise balance loss: alpha * mean_b sum_i f_{b,i} P_{b,i}.
  if (aux_loss && aux_loss_alpha > 0) {
    std::vector<float> f(size_t(B * E), 0.0f);  // (B, E): f_i = E / (K T) * #{t : i selected at t}
    for (int64_t i = 0; i < N * K; i++)
      f[size_t((i / K) / T * E + r.expert[size_t(i)])] += float(E) / float(K * T);
    Tensor s_norm = div(r.scores, sum(r.scores, -1, /*keepdim=*/true));  // (N, E): s_{i,t} / sum_j s_{j,t}
    Tensor P = mean(reshape(s_norm, {B, T, E}), 1);                      // (B, E)
    *aux_loss = scale(sum(mul(P, Tensor::from_vector({B, E}, f, x.device()))), aux_loss_alpha / float(B));
  }
  return out;
}

void Moe::update_bias() {
  const int64_t E = gate.n_experts;
  if (gate.bias.defined() && bias_update_speed > 0 && stats.tokens > 0) {
    double mean_load = double(std::accumulate(stats.load.begin(), stats.load.end(), int64_t(0))) / double(E);
    std::vector<float> b = gate.bias.to_vector();
    for (int64_t e = 0; e < E; e++) {
      double diff = mean_load - double(stats.load[size_t(e)]);
      b[size_t(e)] += bias_update_speed * float((diff > 0) - (diff < 0));
    }
    gate.bias.copy_from(Tensor::from_vector({E}, b, gate.bias.device()));
  }
  stats.load.assign(size_t(E), 0);
  stats.tokens = 0;
}

}  // namespace r1
