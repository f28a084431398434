// DeepSeekMoE feed-forward layer (DeepSeek-V3 paper, section 2.1.2):
//   y = shared(x) + sum_{i in topk(x)} g_i * expert_i(x)
// Router (Gate): s = sigmoid(x Wg^T) (or softmax, DeepSeek-V2 style). The top-k experts are
// chosen on s + b, where b is the auxiliary-loss-free balancing bias (topk_method noaux_tc;
// plain s for greedy); with n_group > 1 only experts of the best topk_group groups compete,
// groups ranked by the sum of their top-2 biased scores (noaux_tc) or their best score
// (greedy). Gate values use the unbiased scores of the chosen experts:
//   g = s_sel / sum(s_sel) (when norm_topk_prob and K > 1), then * routed_scaling_factor.
// Dispatch is sparse: tokens are gathered per expert (index_select), each expert runs on its
// tokens only, and the weighted outputs are scatter-added back. The top-k choice runs on the host
// (select), also for a model on CUDA: one device-to-host copy of the scores per layer.
// Balancing: b_i += bias_update_speed * sign(mean_load - load_i) after each optimizer step
// (update_bias), and the sequence-wise balance loss alpha * sum_i f_i P_i when aux_loss_alpha > 0.
// Does not do: capacity limits / token dropping, expert parallelism, node-limited routing.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "model/config.h"
#include "model/mlp.h"
#include "model/param.h"

namespace r1 {

class ForwardDump;

// Which experts each of N tokens uses and with what weight.
struct Routing {
  Ids expert;     // (N*K): expert of token n in slot j is expert[n*K + j], best first
  Tensor gate;    // (N, K): gate values g, differentiable (through the router weight and x)
  Tensor scores;  // (N, E): affinities s (sigmoid or softmax scores), differentiable
};

struct Gate {
  int64_t n_experts, top_k, n_group, topk_group;  // E, K, groups, eligible groups
  bool sigmoid_scores;  // scoring_func == "sigmoid" (else softmax)
  bool norm_topk_prob;  // renormalize the selected gate values to sum 1
  float scaling;        // routed_scaling_factor
  Tensor weight;        // (E, D)
  Tensor bias;          // (E) e_score_correction_bias (noaux_tc only, else undefined); not trained by gradients

  explicit Gate(const Config& c);
  void collect(const std::string& prefix, TensorSlots& out);  // prefix "...mlp.gate."
  // x: (N, D)
  Routing forward(const Tensor& x) const;
  // The routing decision on host data: scores (N*E) row-major -> (N*K) chosen experts.
  Ids select(const std::vector<float>& scores, int64_t N) const;
  // Records r's scores and choices in a forward dump (model/dump.h).
  void dump_routing(ForwardDump& d, const Routing& r) const;
};

// Per-expert load of one MoE layer, summed over the training forwards since the last reset.
struct RouterStats {
  std::vector<int64_t> load;  // (E): token-slots routed to each expert
  int64_t tokens = 0;         // tokens routed (each occupies K slots)
  // max_i load_i / mean_i load_i (1 = perfectly balanced; 0 when nothing was routed)
  double max_over_mean() const;
};

struct Moe {
  Gate gate;
  std::vector<Mlp> experts;   // E routed experts, each SwiGLU of width moe_intermediate_size
  std::optional<Mlp> shared;  // n_shared_experts fused into one SwiGLU (absent when 0)
  float aux_loss_alpha;       // alpha of the sequence-wise balance loss (0 = off)
  float bias_update_speed;    // gamma of the bias update (0 = off)
  RouterStats stats;          // accumulated while autograd is on (training forwards only)
  Ids last_expert;            // (N*K) experts chosen in the most recent forward (any mode), for diagnostics

  explicit Moe(const Config& c);
  void collect(const std::string& prefix, TensorSlots& out);  // prefix "model.layers.{i}.mlp."

  // x: (B*T, D) for B sequences of T tokens -> (B*T, D). When aux_loss_alpha > 0 and aux_loss
  // is given, *aux_loss becomes this layer's balance loss (shape ()).
  Tensor forward(const Tensor& x, int64_t B, int64_t T, Tensor* aux_loss = nullptr);

  // b_i += gamma * sign(mean_load - load_i) over stats.load, then resets stats.
  // Without a bias or with gamma == 0 it only resets stats.
  void update_bias();
};

}  // namespace r1
