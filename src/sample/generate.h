// Batched autoregressive generation with a KV cache: the engine that GRPO spends most of its
// time in. All prompts are prefilled in one batched forward (right-padded, padding masked),
// then every step decodes one token for each unfinished sequence. A sequence finishes on an
// end-of-sequence token, a stop string, or max_new_tokens; finished sequences are dropped
// from the batch (the cache is compacted) so they stop costing compute.
//
// Reproducibility: sequence i draws from its own Rng(seeds[i]), so its tokens do not depend
// on which other sequences share the batch, nor on the batch size.
// Devices: generation runs where the model lives. On CUDA the logits stay on the device and the
// device sampler (sample_cuda.h) picks the tokens with the same rules and the same random draws;
// a decode step copies back only the B_active chosen tokens and their log-probs (plus the MoE
// routing copies, moe.h).
// Does not do: speculative decoding, beam search, prefix sharing between the G samples of a
// prompt (each prompt copy is prefilled separately).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "sample/sampler.h"

namespace r1 {

class Tokenizer;

struct GenerateOptions {
  SamplingParams sampling;
  int64_t max_new_tokens = 128;
  std::vector<int32_t> eos_ids;           // generation ends after emitting one of these (kept in the output)
  std::vector<std::string> stop_strings;  // ends once the decoded completion contains one (needs tokenizer)
  const Tokenizer* tokenizer = nullptr;   // for stop strings
  // Called after every sampled token with (sequence index, token), e.g. to stream text.
  std::function<void(size_t, int32_t)> on_token;
};

struct Generation {
  Ids tokens;                  // generated tokens only (up to and including the EOS or stop token)
  std::vector<float> logprobs; // per token, see sampler.h for the convention
  std::string finish;          // "eos" | "stop" | "length"
};

// prompts: B token lists (each non-empty); seeds: B per-sequence seeds.
std::vector<Generation> generate(Transformer& model, const std::vector<Ids>& prompts, const std::vector<uint64_t>& seeds,
                                 const GenerateOptions& opt);

// The text of tokens, skipping ids the tokenizer does not have: Hugging Face checkpoints pad
// the embedding beyond the tokenizer (Qwen2.5: 151936 rows for 151665 tokens), and a padding
// id, if ever sampled, decodes to nothing.
std::string decodable_text(const Tokenizer& tok, const Ids& tokens);

// Keeps the cache rows `keep` (in that order), dropping the others.
void compact_cache(KVCache& cache, const std::vector<int64_t>& keep);

}  // namespace r1
