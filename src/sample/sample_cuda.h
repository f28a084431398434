// Sampling a batch of next tokens from logits that live on the CUDA device: the same choice
// sample_token() (sampler.h) makes on the CPU, computed by one kernel (cuda/sample.cu), with
// only B (token, log-prob) pairs copied back per decode step. A caller switches on the device:
//   logits.is_cuda() ? sample_tokens_cuda(logits, params, rngs) : sample_token per row.
// Only in builds with R1_CUDA (make CUDA=1); the declarations vanish otherwise.
// Does not do: choose the device, run generation (generate.cpp does that), repetition penalties.
#pragma once
#ifdef R1_CUDA
#include <vector>

#include "sample/sampler.h"
#include "tensor/tensor.h"
#include "util/rng.h"

namespace r1 {

// logits: (B, V) on CUDA; params: B entries (one per row, each validated); rngs: B generators,
// rngs[b] is row b's own stream. Consumes each Rng exactly as sample_token() would for the same
// row (one uniform() unless the row is greedy), so CPU and CUDA draw the same numbers.
// -> B choices, row order.
std::vector<TokenChoice> sample_tokens_cuda(const Tensor& logits, const std::vector<SamplingParams>& params,
                                            const std::vector<Rng*>& rngs);

}  // namespace r1
#endif
