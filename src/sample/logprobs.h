// Teacher-forced log-probs: the log-probability a model gives each token of a given
// completion after a given prompt, the number every GRPO implementation computes for its
// ratio and KL (and where temperature, EOS and padding bugs live).
//
// Rules (docs/verify.md "Teacher-forced log-probs"):
//   lp_t = log_softmax(logits[P - 1 + t] / T)[c_t] for completion token t = 0..C-1 after a
//   prompt of P >= 1 tokens; logits[i] is the model's prediction for position i + 1.
//   Temperature divides the logits before the log-softmax (T = 0 means 1, the sampler's
//   greedy convention); no top-k/top-p truncation (the sampler reports the same quantity).
//   Tokens after the first EOS are padding and excluded; the EOS itself is scored.
// Does not do: chat templates or tokenisation (the caller gives ids), packing.
#pragma once
#include <vector>

#include "model/transformer.h"

namespace r1 {

// prompts[i] (P_i >= 1 ids) and completions[i] (C_i >= 0 ids, already cut after EOS).
// Rows are run `batch` at a time, right-padded (causal attention keeps real tokens from
// seeing the padding). Returns C_i log-probs per row, log-softmax computed in double from
// the float32 logits. No autograd.
std::vector<std::vector<double>> teacher_forced_logprobs(Transformer& model, const std::vector<Ids>& prompts,
                                                         const std::vector<Ids>& completions, float temperature,
                                                         int64_t batch = 8);

// The completion up to and including the first `eos` (eos < 0: unchanged). `dropped`
// (optional) receives the number of tokens cut.
Ids cut_after_eos(const Ids& completion, int32_t eos, int64_t* dropped = nullptr);

}  // namespace r1
