// BPE training (see Tokenizer::train in tokenizer.h).
//
// 1. Split each text on the special tokens (they are never learned from text), normalize,
//    pre-tokenize with the Qwen2 pattern and count each distinct piece ("word").
// 2. Every word starts as its bytes (token id = byte value). Count adjacent pairs, weighted by
//    word frequency, and remember which words contain each pair.
// 3. Repeatedly take the most frequent pair (ties: smallest (left id, right id)), add the
//    merged token, and rewrite only the words that contain the pair, adjusting the pair
//    counts by the difference (incremental: nothing is recounted). A max-heap with lazy
//    deletion finds the best pair; an entry whose count is out of date is skipped.
// Ids: 0..255 the bytes, then merges in order, then the special tokens.
// Does not do: min-frequency cut-offs, an initial alphabet other than the 256 bytes.
#include <algorithm>
#include <queue>
#include <unordered_map>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/error.h"

namespace r1 {

const std::vector<std::string>& Tokenizer::default_specials() {
  static const std::vector<std::string> s = {"<|endoftext|>", "<|pad|>", "<think>", "</think>",
                                             "<answer>", "</answer>", "<|user|>", "<|assistant|>"};
  return s;
}

static uint64_t pair_key(int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

namespace {

struct Word {
  std::vector<int> syms;  // (len,) current token ids
  int64_t freq;
};

struct Candidate {
  int64_t count;
  int a, b;
  bool operator<(const Candidate& o) const {  // priority_queue top = largest
    if (count != o.count) return count < o.count;
    return pair_key(a, b) > pair_key(o.a, o.b);
  }
};

// Splits text on any of `specials` (leftmost, longest first) and calls f(ptr, len) for each
// stretch of ordinary text between them.
template <typename F>
void for_each_ordinary(const std::string& text, const std::vector<std::string>& specials, F f) {
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    for (const std::string& s : specials)
      if (s.size() > len && text.compare(i, s.size(), s) == 0) len = s.size();
    if (!len) { i++; continue; }
    f(text.data() + start, i - start);
    start = i = i + len;
  }
  f(text.data() + start, text.size() - start);
}

}  // namespace

Tokenizer Tokenizer::train(const std::vector<std::string>& texts, const TrainOptions& opts) {
  std::vector<std::string> specials = default_specials();
  for (const std::string& s : opts.specials) {
    check(!s.empty(), "train: empty special token");
    if (std::find(specials.begin(), specials.end(), s) == specials.end()) specials.push_back(s);
  }
  int n_model = opts.vocab_size - int(specials.size());  // bytes + merges
  check(n_model >= 256, "train: vocab size ", opts.vocab_size, " is too small: need at least 256 byte tokens + ",
        specials.size(), " special tokens = ", 256 + specials.size());

  // --- 1. count words ---
  std::unordered_map<std::string, int64_t> counts;
  std::vector<size_t> ends;
  for (const std::string& text : texts) {
    for_each_ordinary(text, specials, [&](const char* p, size_t n) {
      std::string s(p, n);
      if (opts.nfc) s = unicode::nfc(s);
      ends.clear();
      pretokenize(SplitPattern::Qwen2, s.data(), s.size(), ends);
      size_t begin = 0;
      for (size_t end : ends) {
        counts[s.substr(begin, end - begin)]++;
        begin = end;
      }
    });
  }
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end());  // word order must not depend on hashing
  counts.clear();
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [w, f] : sorted) {
    Word word{std::vector<int>(w.size()), f};
    for (size_t i = 0; i < w.size(); i++) word.syms[i] = (unsigned char)w[i];
    words.push_back(std::move(word));
  }
  sorted.clear();

  // --- 2. initial pair counts ---
  std::vector<std::string> tokens(256);  // id -> bytes
  for (int b = 0; b < 256; b++) tokens[b] = std::string(1, char(b));
  std::unordered_map<std::string, int> token_id;
  for (int b = 0; b < 256; b++) token_id[tokens[b]] = b;
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int>> where;  // pair -> words that may contain it
  for (size_t w = 0; w < words.size(); w++) {
    const std::vector<int>& s = words[w].syms;
    for (size_t i = 0; i + 1 < s.size(); i++) {
      uint64_t k = pair_key(s[i], s[i + 1]);
      pair_count[k] += words[w].freq;
      std::vector<int>& list = where[k];
      if (list.empty() || list.back() != int(w)) list.push_back(int(w));
    }
  }
  std::priority_queue<Candidate> heap;
  for (const auto& [k, c] : pair_count) heap.push({c, int(k >> 32), int(uint32_t(k))});

  // --- 3. merge loop ---
  std::vector<std::pair<int, int>> merges;
  std::unordered_map<uint64_t, int64_t> delta;
  std::vector<int> last_seen(words.size(), -1);  // last merge that rewrote each word
  int total = n_model - 256;
  while (int(tokens.size()) < n_model && !heap.empty()) {
    Candidate c = heap.top();
    heap.pop();
    uint64_t key = pair_key(c.a, c.b);
    auto pc = pair_count.find(key);
    if (pc == pair_count.end() || pc->second != c.count || c.count <= 0) continue;  // stale entry

    std::string merged = tokens[c.a] + tokens[c.b];
    auto found = token_id.find(merged);  // the same bytes may already exist via another split
    int id = found != token_id.end() ? found->second : int(tokens.size());
    if (found == token_id.end()) {
      tokens.push_back(merged);
      token_id.emplace(merged, id);
    }
    int merge_no = int(merges.size());
    merges.emplace_back(c.a, c.b);

    std::vector<int> affected = std::move(where[key]);
    where.erase(key);
    delta.clear();
    for (int w : affected) {
      if (last_seen[w] == merge_no) continue;
      last_seen[w] = merge_no;
      std::vector<int>& s = words[w].syms;
      int64_t f = words[w].freq;
      bool has = false;
      for (size_t i = 0; i + 1 < s.size() && !has; i++) has = s[i] == c.a && s[i + 1] == c.b;
      if (!has) continue;  // an older merge already rewrote this occurrence
      for (size_t i = 0; i + 1 < s.size(); i++) delta[pair_key(s[i], s[i + 1])] -= f;
      size_t out = 0;
      for (size_t i = 0; i < s.size(); i++) {
        if (i + 1 < s.size() && s[i] == c.a && s[i + 1] == c.b) {
          s[out++] = id;
          i++;
        } else {
          s[out++] = s[i];
        }
      }
      s.resize(out);
      for (size_t i = 0; i + 1 < s.size(); i++) {
        uint64_t k = pair_key(s[i], s[i + 1]);
        delta[k] += f;
        if (s[i] == id || s[i + 1] == id) {
          std::vector<int>& list = where[k];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
    }
    for (const auto& [k, d] : delta) {
      if (d == 0) continue;
      int64_t& cnt = pair_count[k];
      cnt += d;
      if (cnt > 0) heap.push({cnt, int(k >> 32), int(uint32_t(k))});
    }
    pair_count.erase(key);
    if (opts.progress && (merges.size() % 64 == 0 || int(tokens.size()) == n_model))
      opts.progress(int(tokens.size()) - 256, total);
  }

  // --- 4. the tokenizer ---
  Tokenizer t;
  auto spell = [](const std::string& bytes) {
    std::string s;
    for (unsigned char b : bytes) unicode::append_utf8(byte_to_unicode()[b], s);
    return s;
  };
  for (size_t id = 0; id < tokens.size(); id++) t.vocab_.emplace_back(spell(tokens[id]), int(id));
  for (const auto& [a, b] : merges) t.merges_.emplace_back(spell(tokens[a]), spell(tokens[b]));
  for (size_t i = 0; i < specials.size(); i++) {
    AddedToken a;
    a.id = int(tokens.size() + i);
    a.content = specials[i];
    t.added_.push_back(a);
  }
  t.nfc_ = opts.nfc;
  t.set_default_sections();
  t.build();
  return t;
}

}  // namespace r1
