// Token streams, JSONL reading and the window loader. See data.h.
#include "train/data.h"

#include <fstream>
#include <numeric>

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

// --- streams -----------------------------------------------------------------------

void TokenStream::append(const Ids& ids, uint8_t target) {
  tokens.insert(tokens.end(), ids.begin(), ids.end());
  mask.insert(mask.end(), ids.size(), target);
}

void TokenStream::end_document(int32_t eos) {
  tokens.push_back(eos);
  mask.push_back(1);
  documents++;
}

static int32_t eos_id(const Tokenizer& tok) {
  int id = tok.token_id("<|endoftext|>");
  if (id < 0) throw Error("the tokenizer has no <|endoftext|> token");
  return id;
}

static Ids encode_ids(const Tokenizer& tok, const std::string& text) {
  std::vector<int> v = tok.encode(text);
  return Ids(v.begin(), v.end());
}

TokenStream stream_from_texts(const std::vector<std::string>& docs, const Tokenizer& tok) {
  TokenStream s;
  int32_t eos = eos_id(tok);
  for (const std::string& d : docs) {
    s.append(encode_ids(tok, d), 1);
    s.end_document(eos);
  }
  return s;
}

TokenStream stream_from_chat_rows(const std::vector<Json>& rows, const Tokenizer& tok, const std::string& source,
                                  const std::vector<int64_t>& lines) {
  if (!lines.empty() && lines.size() != rows.size()) throw Error("stream_from_chat_rows: one line number per row");
  TokenStream s;
  int32_t eos = eos_id(tok);
  Ids user_marker = encode_ids(tok, "<|user|>"), assistant_marker = encode_ids(tok, "<|assistant|>");
  for (size_t r = 0; r < rows.size(); r++) {
    std::string where = cat(source, ":", lines.empty() ? int64_t(r + 1) : lines[r]);
    const Json* msgs = rows[r].find("messages");
    if (!msgs || !msgs->is_array() || msgs->size() == 0)
      throw Error(cat(where, ": field 'messages' must be a non-empty array"));
    bool has_assistant = false;
    for (size_t m = 0; m < msgs->size(); m++) {
      const Json& msg = (*msgs)[m];
      const Json* role = msg.find("role");
      const Json* content = msg.find("content");
      if (!role || !role->is_string() || !content || !content->is_string())
        throw Error(cat(where, ": messages[", m, "] needs string fields 'role' and 'content'"));
      // Special tokens split the text, so encoding piece by piece equals encoding the whole.
      if (role->as_string() == "user") {
        s.append(user_marker, 0);
        s.append(encode_ids(tok, content->as_string()), 0);
      } else if (role->as_string() == "assistant") {
        s.append(assistant_marker, 0);
        s.append(encode_ids(tok, content->as_string()), 1);
        s.tokens.push_back(eos);  // ends the turn; a target, so the model learns to stop
        s.mask.push_back(1);
        has_assistant = true;
      } else {
        throw Error(cat(where, ": messages[", m, "].role '", role->as_string(), "' is not user or assistant"));
      }
    }
    if (!has_assistant) throw Error(cat(where, ": no assistant message (nothing to train on)"));
    s.documents++;
  }
  return s;
}

std::vector<Json> read_jsonl(const std::string& path, std::vector<int64_t>* lines) {
  std::ifstream f(path);
  if (!f) throw Error(cat(path, ": cannot open file"));
  std::vector<Json> rows;
  std::string line;
  for (int64_t n = 1; std::getline(f, line); n++) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, cat(path, ":", n));
    if (!j.is_object()) throw Error(cat(path, ":", n, ": expected a JSON object"));
    rows.push_back(std::move(j));
    if (lines) lines->push_back(n);
  }
  return rows;
}

// --- loader --------------------------------------------------------------------------

int64_t Batch::target_count() const {
  int64_t n = 0;
  for (int32_t t : targets) n += t != -100;
  return n;
}

Loader::Loader(const TokenStream& stream, int64_t B, int64_t T, uint64_t seed, bool shuffle)
    : s_(stream), B_(B), T_(T), seed_(seed), shuffle_(shuffle) {
  if (B < 1 || T < 1) throw Error(cat("loader: batch ", B, " and seq ", T, " must be >= 1"));
  int64_t n = int64_t(stream.tokens.size());
  windows_ = n > T ? (n - 1) / T : 0;
  if (windows_ == 0) throw Error(cat("loader: the data has ", n, " tokens, fewer than one window of ", T + 1));
}

int64_t Loader::window_at(int64_t k) const {
  int64_t epoch = k / windows_, i = k % windows_;
  if (!shuffle_) return i;
  if (epoch != cached_epoch_) {
    order_.resize(size_t(windows_));
    std::iota(order_.begin(), order_.end(), 0);
    Rng rng(seed_, uint64_t(epoch));
    for (int64_t j = windows_ - 1; j > 0; j--) std::swap(order_[size_t(j)], order_[rng.below(uint64_t(j) + 1)]);
    cached_epoch_ = epoch;
  }
  return order_[size_t(i)];
}

void Loader::fill(Batch& b, int64_t row, int64_t w) const {
  int64_t start = w * T_;
  for (int64_t t = 0; t < T_; t++) {
    b.inputs[size_t(row * T_ + t)] = s_.tokens[size_t(start + t)];
    size_t nxt = size_t(start + t + 1);
    b.targets[size_t(row * T_ + t)] = s_.mask[nxt] ? s_.tokens[nxt] : -100;
  }
}

Batch Loader::next() {
  Batch b;
  b.B = B_;
  b.T = T_;
  b.inputs.resize(size_t(B_ * T_));
  b.targets.resize(size_t(B_ * T_));
  for (int64_t r = 0; r < B_; r++) fill(b, r, window_at(position_++));
  return b;
}

Batch Loader::window_batch(int64_t first, int64_t count) const {
  Batch b;
  b.B = count;
  b.T = T_;
  b.inputs.resize(size_t(count * T_));
  b.targets.resize(size_t(count * T_));
  for (int64_t r = 0; r < count; r++) fill(b, r, (first + r) % windows_);
  return b;
}

}  // namespace r1
