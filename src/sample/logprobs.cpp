// Teacher-forced log-probs of given completions. See logprobs.h for the rules.
#include "sample/logprobs.h"

#include <algorithm>
#include <cmath>

#include "autograd/autograd.h"
#include "util/error.h"

namespace r1 {

Ids cut_after_eos(const Ids& completion, int32_t eos, int64_t* dropped) {
  Ids out = completion;
  if (eos >= 0) {
    auto it = std::find(out.begin(), out.end(), eos);
    if (it != out.end()) out.erase(it + 1, out.end());
  }
  if (dropped) *dropped = int64_t(completion.size() - out.size());
  return out;
}

std::vector<std::vector<double>> teacher_forced_logprobs(Transformer& model, const std::vector<Ids>& prompts,
                                                         const std::vector<Ids>& completions, float temperature,
                                                         int64_t batch) {
  if (prompts.size() != completions.size())
    throw Error(cat("logprobs: ", prompts.size(), " prompts but ", completions.size(), " completions"));
  if (!(temperature >= 0)) throw Error(cat("logprobs: temperature ", temperature, " is negative"));
  if (batch < 1) throw Error(cat("logprobs: batch ", batch, " must be >= 1"));
  const int64_t V = model.config().vocab_size;
  const double inv_t = temperature > 0 ? 1.0 / double(temperature) : 1.0;
  for (size_t i = 0; i < prompts.size(); i++) {
    if (prompts[i].empty()) throw Error(cat("logprobs: row ", i, " has an empty prompt (the first token needs one)"));
    for (const Ids* ids : {&prompts[i], &completions[i]})
      for (int32_t t : *ids)
        if (t < 0 || t >= V) throw Error(cat("logprobs: row ", i, ": token id ", t, " is outside [0, ", V, ")"));
  }
  NoGradGuard guard;
  std::vector<std::vector<double>> out(prompts.size());
  for (size_t r0 = 0; r0 < prompts.size(); r0 += size_t(batch)) {
    size_t r1_ = std::min(prompts.size(), r0 + size_t(batch));
    int64_t B = int64_t(r1_ - r0), T = 0;
    for (size_t i = r0; i < r1_; i++) T = std::max(T, int64_t(prompts[i].size() + completions[i].size()));
    Ids ids(size_t(B * T), 0);  // (B, T) right-padded with id 0
    for (size_t i = r0; i < r1_; i++) {
      int32_t* row = &ids[(i - r0) * size_t(T)];
      std::copy(prompts[i].begin(), prompts[i].end(), row);
      std::copy(completions[i].begin(), completions[i].end(), row + prompts[i].size());
    }
    std::vector<float> logits = model.forward(ids, B, T).logits.to_vector();  // (B*T, V)
    for (size_t i = r0; i < r1_; i++) {
      size_t P = prompts[i].size();
      for (size_t t = 0; t < completions[i].size(); t++) {
        const float* z = &logits[((i - r0) * size_t(T) + P - 1 + t) * size_t(V)];  // predicts token P + t
        double m = -INFINITY;
        for (int64_t v = 0; v < V; v++) m = std::max(m, double(z[v]) * inv_t);
        double s = 0;
        for (int64_t v = 0; v < V; v++) s += std::exp(double(z[v]) * inv_t - m);
        out[i].push_back(double(z[completions[i][t]]) * inv_t - m - std::log(s));
      }
    }
  }
  return out;
}

}  // namespace r1
