// The batched generation loop. See generate.h.
#include "sample/generate.h"

#include <algorithm>

#include "autograd/autograd.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#ifdef R1_CUDA
#include "sample/sample_cuda.h"
#endif

namespace r1 {

// --- cache compaction --------------------------------------------------------------

// x: (B, ...) -> the rows `keep` of x, (keep.size(), ...).
static Tensor select_rows(const Tensor& x, const Ids& keep) {
  Shape s = x.shape();
  Tensor rows = index_select(reshape(x, {s[0], -1}), keep);
  s[0] = int64_t(keep.size());
  return reshape(rows, s);
}

void compact_cache(KVCache& cache, const std::vector<int64_t>& keep) {
  Ids idx(keep.begin(), keep.end());
  for (LayerKV& l : cache.layers) {
    if (l.k.defined()) l.k = select_rows(l.k, idx);
    if (l.v.defined()) l.v = select_rows(l.v, idx);
  }
  std::vector<uint8_t> valid;
  std::vector<int32_t> length;
  for (int64_t b : keep) {
    valid.insert(valid.end(), cache.valid.begin() + b * cache.slots, cache.valid.begin() + (b + 1) * cache.slots);
    length.push_back(cache.length[size_t(b)]);
  }
  cache.valid = std::move(valid);
  cache.length = std::move(length);
  cache.batch = int64_t(keep.size());
}

// --- generation ----------------------------------------------------------------------

// The next token of every active sequence from logits (B_active, V) on the CUDA device: one
// kernel, B_active (token, log-prob) pairs copied back; the same choices as sample_token().
static std::vector<TokenChoice> sample_on_device(const Tensor& logits, const SamplingParams& p, std::vector<Rng>& rngs,
                                                 const std::vector<int64_t>& active) {
#ifdef R1_CUDA
  std::vector<Rng*> row_rngs;
  for (int64_t i : active) row_rngs.push_back(&rngs[size_t(i)]);
  return sample_tokens_cuda(logits, std::vector<SamplingParams>(active.size(), p), row_rngs);
#else
  (void)p, (void)rngs, (void)active;
  throw Error(cat("generate: logits on ", device_name(logits.device()), " in a build without CUDA"));
#endif
}

std::string decodable_text(const Tokenizer& tok, const Ids& tokens) {
  std::vector<int> ids;
  for (int32_t t : tokens)
    if (t >= 0 && t < tok.vocab_size()) ids.push_back(t);
  return tok.decode(ids);
}

std::vector<Generation> generate(Transformer& model, const std::vector<Ids>& prompts, const std::vector<uint64_t>& seeds,
                                 const GenerateOptions& opt) {
  validate(opt.sampling);
  size_t B = prompts.size();
  if (seeds.size() != B) throw Error(cat("generate: ", B, " prompts but ", seeds.size(), " seeds"));
  if (!opt.stop_strings.empty() && !opt.tokenizer) throw Error("generate: stop strings need a tokenizer");
  if (opt.max_new_tokens < 1) throw Error(cat("generate: max_new_tokens ", opt.max_new_tokens, " must be >= 1"));
  std::vector<Generation> out(B);
  if (B == 0) return out;
  int64_t V = model.config().vocab_size, P = 0;
  for (size_t i = 0; i < B; i++) {
    if (prompts[i].empty()) throw Error(cat("generate: prompt ", i, " is empty"));
    for (int32_t t : prompts[i])
      if (t < 0 || t >= V) throw Error(cat("generate: prompt ", i, " has token ", t, " outside the vocabulary of ", V));
    P = std::max(P, int64_t(prompts[i].size()));
  }
  if (P + opt.max_new_tokens > model.config().max_position_embeddings)
    throw Error(cat("generate: prompt of ", P, " tokens + ", opt.max_new_tokens, " new tokens exceeds max_position_embeddings ",
                    model.config().max_position_embeddings));
  size_t longest_stop = 0;
  for (const std::string& s : opt.stop_strings) longest_stop = std::max(longest_stop, s.size());
  NoGradGuard no_grad;
  std::vector<Rng> rngs;
  for (uint64_t s : seeds) rngs.emplace_back(s);

  // Prefill: right-padded prompts; each sequence's next-token logits are at its last real token.
  Ids ids(B * size_t(P), 0);
  std::vector<uint8_t> real(B * size_t(P), 0);
  for (size_t i = 0; i < B; i++)
    for (size_t t = 0; t < prompts[i].size(); t++) {
      ids[i * size_t(P) + t] = prompts[i][t];
      real[i * size_t(P) + t] = 1;
    }
  KVCache cache = model.new_cache(int64_t(B));
  Tensor logits = model.forward_cached(ids, int64_t(B), P, cache, real);  // (B*P, V)
  Ids last(B);  // (B) row of logits at each sequence's last prompt token
  for (size_t i = 0; i < B; i++) last[i] = int32_t(int64_t(i) * P + int64_t(prompts[i].size()) - 1);
  // What the next draw reads: on the CPU, a pointer to each active sequence's row of logits; on
  // CUDA, those rows as one device tensor (B_active, V) for the device sampler.
  std::vector<const float*> rows(B);
  Tensor device_rows;
  if (logits.is_cuda()) {
    device_rows = index_select(logits, last);  // (B, V)
  } else {
    for (size_t i = 0; i < B; i++) rows[i] = logits.data() + int64_t(last[i]) * V;
  }

  std::vector<int64_t> active(B);  // batch row -> sequence index
  for (size_t i = 0; i < B; i++) active[i] = int64_t(i);
  std::vector<TokenChoice> choices;
  while (!active.empty()) {
    // Sampling is a large share of a decode step at small models (a log-softmax over V per
    // row), so the rows are drawn in parallel; each row reads only its own logits and RNG, so
    // the draws do not depend on the thread count. Bookkeeping and callbacks stay in row order.
    const int64_t n_rows = int64_t(active.size());
    if (device_rows.defined()) {
      choices = sample_on_device(device_rows, opt.sampling, rngs, active);
    } else {
      choices.resize(active.size());
#pragma omp parallel for schedule(static) if (n_rows > 1)
      for (int64_t r = 0; r < n_rows; r++)
        choices[size_t(r)] = sample_token(rows[size_t(r)], V, opt.sampling, rngs[size_t(active[size_t(r)])]);
    }
    Ids next(active.size());
    std::vector<int64_t> keep_rows, still_active;
    for (size_t r = 0; r < active.size(); r++) {
      int64_t i = active[r];
      Generation& g = out[size_t(i)];
      const TokenChoice& c = choices[r];
      g.tokens.push_back(c.token);
      g.logprobs.push_back(c.logprob);
      next[r] = c.token;
      if (opt.on_token) opt.on_token(size_t(i), c.token);
      if (std::find(opt.eos_ids.begin(), opt.eos_ids.end(), c.token) != opt.eos_ids.end()) {
        g.finish = "eos";
      } else if (!opt.stop_strings.empty()) {
        // A stop string of L bytes spans at most L tokens (each is >= 1 byte): decode only that tail.
        size_t tail = std::min(g.tokens.size(), longest_stop + 1);
        std::string text = decodable_text(*opt.tokenizer, Ids(g.tokens.end() - long(tail), g.tokens.end()));
        for (const std::string& s : opt.stop_strings)
          if (text.find(s) != std::string::npos) g.finish = "stop";
      }
      if (g.finish.empty() && int64_t(g.tokens.size()) >= opt.max_new_tokens) g.finish = "length";
      if (g.finish.empty()) {
        keep_rows.push_back(int64_t(r));
        still_active.push_back(i);
      }
    }
    if (still_active.empty()) break;
    if (keep_rows.size() < active.size()) {
      compact_cache(cache, keep_rows);
      Ids kept_next;
      for (int64_t r : keep_rows) kept_next.push_back(next[size_t(r)]);
      next = kept_next;
    }
    active = still_active;
    logits = model.forward_cached(next, int64_t(active.size()), 1, cache);  // (B_active, V)
    if (logits.is_cuda()) {
      device_rows = logits;
    } else {
      rows.resize(active.size());
      for (size_t r = 0; r < active.size(); r++) rows[r] = logits.data() + int64_t(r) * V;
    }
  }
  return out;
}

}  // namespace r1
