// sample_tokens_cuda: the host side of device sampling (see sample_cuda.h).
//
// Matching the CPU's random numbers: sample_token() draws exactly one rng.uniform() per token
// when the temperature is > 0 (the inverse-CDF draw; truncation uses no randomness) and none
// when greedy. The count depends only on the row's parameters, never on the logits, so the
// draws are taken here on the host, before the kernel runs, in row order, one per non-greedy
// row, and handed to the kernel as u.
#include "sample/sample_cuda.h"

#ifdef R1_CUDA
#include "cuda_api.h"
#include "util/error.h"

namespace r1 {

std::vector<TokenChoice> sample_tokens_cuda(const Tensor& logits, const std::vector<SamplingParams>& params,
                                            const std::vector<Rng*>& rngs) {
  check(logits.is_cuda(), "sample_tokens_cuda: logits must be on cuda, got ", device_name(logits.device()));
  check(logits.dim() == 2, "sample_tokens_cuda: logits must be (B, V), got ", shape_str(logits.shape()));
  const int64_t B = logits.size(0), V = logits.size(1);
  check(int64_t(params.size()) == B && int64_t(rngs.size()) == B, "sample_tokens_cuda: ", B, " rows but ",
        params.size(), " sampling params and ", rngs.size(), " generators");
  for (size_t b = 0; b < params.size(); b++) {  // every row first, so an error advances no generator
    validate(params[b]);
    check(rngs[b] != nullptr, "sample_tokens_cuda: row ", b, " has no generator");
  }
  std::vector<cuda::SampleRequest> req(static_cast<size_t>(B));
  for (size_t b = 0; b < req.size(); b++) {
    const SamplingParams& p = params[b];
    const double u = p.temperature == 0 ? 0.0 : rngs[b]->uniform();  // exactly sample_token's draws
    req[b] = {p.temperature, p.top_k, p.top_p, p.min_p, u};
  }
  std::vector<cuda::SampleResult> res(static_cast<size_t>(B));
  cuda::sample(logits.data(), B, V, req.data(), res.data());
  std::vector<TokenChoice> out(static_cast<size_t>(B));
  for (size_t b = 0; b < out.size(); b++) out[b] = {res[b].token, res[b].logprob};
  return out;
}

}  // namespace r1
#endif
