// Training data for pretraining and SFT: documents become one token stream, batches are
// windows of that stream.
//
//   stream:  doc_0 EOS doc_1 EOS doc_2 EOS ...        (packing; EOS marks every boundary)
//   mask:    which stream tokens are prediction targets (pretraining: all; SFT: the
//            assistant's tokens and the EOS that ends each assistant turn)
//   window w covers stream[w*T .. w*T + T]: inputs are its first T tokens, targets the last
//            T, with targets whose mask is 0 set to -100 (ignored by cross_entropy).
// Attention is not blocked at EOS: a window may span two documents, as in GPT-style
// pretraining; the EOS token teaches the model where a document ends.
// The Loader visits every window once per epoch in an order shuffled by Rng(seed, epoch),
// so its whole state is one counter (for --resume).
// Does not do: per-document attention masks, streaming from disk (streams fit in memory).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ops/ops.h"
#include "util/json.h"

namespace r1 {

class Tokenizer;

struct TokenStream {
  Ids tokens;                 // (N) all documents, each followed by EOS
  std::vector<uint8_t> mask;  // (N) 1 = counts as a target
  int64_t documents = 0;
  void append(const Ids& ids, uint8_t target);  // one piece of a document
  void end_document(int32_t eos);               // EOS (a target) closes the document
};

// Plain-text documents (pretraining): every token is a target.
TokenStream stream_from_texts(const std::vector<std::string>& docs, const Tokenizer& tok);

// SFT rows {"messages": [{"role": "user"|"assistant", "content": ...}, ...]} in chat format
// (sample/template.h); only assistant contents and their closing EOS are targets. Errors name
// `source` and the row's line ("sft.jsonl:12: field 'messages' ..."): lines (rows) holds each
// row's file line (from read_jsonl); when empty, row r is taken to be line r+1.
TokenStream stream_from_chat_rows(const std::vector<Json>& rows, const Tokenizer& tok, const std::string& source,
                                  const std::vector<int64_t>& lines = {});

// Reads a JSONL file (blank lines skipped); an invalid line is an error naming file:line.
// When lines is given, it receives each row's 1-based line number, for later errors.
std::vector<Json> read_jsonl(const std::string& path, std::vector<int64_t>* lines = nullptr);

struct Batch {
  Ids inputs;   // (B*T)
  Ids targets;  // (B*T), -100 where not a target
  int64_t B = 0, T = 0;
  int64_t target_count() const;  // targets that count
};

class Loader {
 public:
  // Throws when the stream holds fewer than T+1 tokens.
  Loader(const TokenStream& stream, int64_t B, int64_t T, uint64_t seed, bool shuffle = true);
  Batch next();                 // the next B windows
  int64_t windows() const { return windows_; }
  int64_t position() const { return position_; }     // windows consumed so far (all epochs)
  void set_position(int64_t p) { position_ = p; }     // for --resume
  Batch window_batch(int64_t first, int64_t count) const;  // fixed windows, unshuffled (held-out eval)

 private:
  int64_t window_at(int64_t k) const;  // k-th window visited (epoch k / windows_, shuffled)
  void fill(Batch& b, int64_t row, int64_t window) const;
  const TokenStream& s_;
  int64_t B_, T_, windows_;
  uint64_t seed_;
  bool shuffle_;
  int64_t position_ = 0;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<int64_t> order_;
};

}  // namespace r1
