// Choosing the next token from logits: greedy, temperature, top-k, top-p (nucleus) and min-p,
// composable, applied in Hugging Face's order (temperature -> top-k -> top-p -> min-p).
//
// The reported log-probability of a sampled token is log_softmax(logits / temperature) at
// that token: the distribution after temperature scaling and BEFORE top-k/top-p/min-p
// truncation (as TRL computes the GRPO ratio). With temperature 0 (greedy) it is
// log_softmax(logits). docs/algorithm.md states the convention.
// Does not do: repetition penalties, beam search, logit bias.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "util/rng.h"

namespace r1 {

struct SamplingParams {
  float temperature = 1.0f;  // 0 = greedy (argmax, lowest id on ties)
  int64_t top_k = 0;         // keep the k most likely tokens (and ties with the k-th); 0 = off
  float top_p = 1.0f;        // keep the smallest set of most likely tokens with mass >= top_p; 1 = off
  float min_p = 0.0f;        // keep tokens with p >= min_p * p_max; 0 = off
};

// Throws r1::Error naming the bad parameter (negative temperature, top_p outside (0, 1], ...).
void validate(const SamplingParams& p);

struct TokenChoice {
  int32_t token = 0;
  float logprob = 0;  // log p(token) after temperature, before truncation
};

// logits: (V). One draw from rng (none when greedy).
TokenChoice sample_token(const float* logits, int64_t V, const SamplingParams& p, Rng& rng);

// The distribution sample_token() draws from: (token, probability) for every kept token,
// in increasing token order, probabilities renormalised to sum to 1. For tests and tools.
std::vector<std::pair<int32_t, double>> sampling_distribution(const float* logits, int64_t V, const SamplingParams& p);

}  // namespace r1
