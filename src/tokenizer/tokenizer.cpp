// Byte-level BPE encode and decode (see tokenizer.h). tokenizer.json I/O lives in
// tokenizer_json.cpp and training in train.cpp.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <queue>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace r1 {

// --- the byte <-> unicode table -------------------------------------------------------

const std::vector<uint32_t>& byte_to_unicode() {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; b++) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? b : next++;
    }
    return t;
  }();
  return table;
}

// Decodes a byte-level spelling ("Ġthe") to bytes (" the"). A spelling with a character
// outside the table (e.g. an added token "<|endoftext|>" in vocab) decodes to itself, as
// HF's ByteLevel decoder does.
static std::string byte_level_to_bytes(const std::string& tok) {
  static const std::unordered_map<uint32_t, char> inverse = [] {
    std::unordered_map<uint32_t, char> m;
    for (int b = 0; b < 256; b++) m[byte_to_unicode()[b]] = char(b);
    return m;
  }();
  std::string out;
  for (size_t i = 0; i < tok.size();) {
    uint32_t cp;
    i += unicode::decode_utf8(tok.data(), tok.size(), i, &cp);
    auto it = inverse.find(cp);
    if (it == inverse.end()) return tok;
    out += it->second;
  }
  return out;
}

static uint64_t pair_key(int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

// --- build: derived tables ------------------------------------------------------------

void Tokenizer::build() {
  static std::atomic<uint64_t> next_instance{1};
  instance_ = next_instance++;

  int size = 0;
  for (const auto& [tok, id] : vocab_) {
    check(id >= 0, "model.vocab: token '", tok, "' has negative id ", id);
    size = std::max(size, id + 1);
  }
  for (const AddedToken& a : added_) {
    check(a.id >= 0, "added_tokens: '", a.content, "' has negative id ", a.id);
    check(!a.content.empty(), "added_tokens: token ", a.id, " has empty content");
    size = std::max(size, a.id + 1);
  }
  id_to_token_.assign(size, "");
  id_bytes_.assign(size, "");
  id_used_.assign(size, false);
  token_to_id_.clear();
  added_to_id_.clear();
  merge_of_.clear();

  for (const auto& [tok, id] : vocab_) {
    check(!id_used_[id], "model.vocab: id ", id, " is used by both '", id_to_token_[id], "' and '", tok, "'");
    id_used_[id] = true;
    id_to_token_[id] = tok;
    id_bytes_[id] = byte_level_to_bytes(tok);
    token_to_id_[tok] = id;
  }
  for (const AddedToken& a : added_) {
    // An added token may repeat a vocab entry with the same id (GPT-2's <|endoftext|>).
    check(!id_used_[a.id] || id_to_token_[a.id] == a.content, "added_tokens: id ", a.id, " ('", a.content,
          "') is already model.vocab's '", id_to_token_[a.id], "'");
    id_used_[a.id] = true;
    id_to_token_[a.id] = a.content;
    id_bytes_[a.id] = a.content;
    added_to_id_[a.content] = a.id;
  }

  const std::vector<uint32_t>& b2u = byte_to_unicode();
  for (int b = 0; b < 256; b++) {
    std::string ch;
    unicode::append_utf8(b2u[b], ch);
    auto it = token_to_id_.find(ch);
    check(it != token_to_id_.end(), "model.vocab: byte-level BPE needs all 256 byte tokens, missing '", ch,
          "' (byte ", b, ")");
    byte_id_[b] = it->second;
  }

  for (size_t r = 0; r < merges_.size(); r++) {
    const auto& [a, b] = merges_[r];
    auto ia = token_to_id_.find(a), ib = token_to_id_.find(b), iab = token_to_id_.find(a + b);
    const char* missing = ia == token_to_id_.end() ? "left" : ib == token_to_id_.end() ? "right"
                          : iab == token_to_id_.end() ? "merged" : nullptr;
    if (missing)
      throw Error(cat("model.merges[", r, "]: '", a, " ", b, "': the ", missing, " token '",
                      std::string(missing[0] == 'l' ? a : missing[0] == 'r' ? b : a + b), "' is not in model.vocab"));
    merge_of_.emplace(pair_key(ia->second, ib->second), Merge{int(r), iab->second});  // first rank wins
  }

  // Added tokens: "normalized" ones match after normalization (when there is a normalizer),
  // the others in the raw text first.
  for (AddedIndex* index : {&raw_added_, &normalized_added_}) {
    index->content.assign(added_.size(), "");
    index->by_first_byte.assign(256, {});
  }
  for (size_t i = 0; i < added_.size(); i++) {
    bool second = added_[i].normalized && has_normalizer_;
    AddedIndex& index = second ? normalized_added_ : raw_added_;
    index.content[i] = second && nfc_ ? unicode::nfc(added_[i].content) : added_[i].content;
    index.by_first_byte[(unsigned char)index.content[i][0]].push_back(int(i));
  }
  for (AddedIndex* index : {&raw_added_, &normalized_added_})
    for (auto& list : index->by_first_byte)
      std::stable_sort(list.begin(), list.end(),
                       [&](int x, int y) { return index->content[x].size() > index->content[y].size(); });
}

int Tokenizer::token_id(const std::string& token) const {
  auto a = added_to_id_.find(token);
  if (a != added_to_id_.end()) return a->second;
  auto v = token_to_id_.find(token);
  return v == token_to_id_.end() ? -1 : v->second;
}

const std::string& Tokenizer::token(int id) const {
  check(id >= 0 && id < vocab_size() && id_used_[id], "token id ", id, " is not in the vocabulary (size ",
        vocab_size(), ")");
  return id_to_token_[id];
}

// --- BPE merge loop --------------------------------------------------------------------

// Merges one pre-token. Symbols form a linked list; a min-heap holds candidate pairs
// ordered by (rank, position), so the lowest-rank pair is merged first and, among equal
// ranks, the leftmost: the order HF's BPE uses. Entries made stale by earlier merges are
// recognised on pop (the pair at that position is no longer the one recorded).
void Tokenizer::bpe(const std::string& piece, std::vector<int>& out) const {
  size_t n = piece.size();
  if (n == 1) {
    out.push_back(byte_id_[(unsigned char)piece[0]]);
    return;
  }
  if (ignore_merges_) {  // a piece spelled exactly like a vocab entry is that entry
    std::string spelling;
    for (unsigned char b : piece) unicode::append_utf8(byte_to_unicode()[b], spelling);
    auto it = token_to_id_.find(spelling);
    if (it != token_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  struct Sym { int id, prev, next; };
  struct Cand {
    int rank, pos, left, right;  // the pair (left, right) at symbol pos has this rank
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<Sym> sym;   // (n,)
  thread_local std::vector<Cand> heap;
  sym.resize(n);
  heap.clear();
  for (size_t i = 0; i < n; i++) sym[i] = {byte_id_[(unsigned char)piece[i]], int(i) - 1, i + 1 < n ? int(i) + 1 : -1};

  auto push = [&](int pos) {
    int nx = sym[pos].next;
    if (nx < 0) return;
    auto it = merge_of_.find(pair_key(sym[pos].id, sym[nx].id));
    if (it == merge_of_.end()) return;
    heap.push_back({it->second.rank, pos, sym[pos].id, sym[nx].id});
    std::push_heap(heap.begin(), heap.end(), std::greater<Cand>());
  };
  for (size_t i = 0; i + 1 < n; i++) push(int(i));

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<Cand>());
    Cand c = heap.back();
    heap.pop_back();
    Sym& s = sym[c.pos];
    if (s.id != c.left || s.next < 0 || sym[s.next].id != c.right) continue;  // stale
    int nx = s.next;
    s.id = merge_of_.at(pair_key(c.left, c.right)).id;
    s.next = sym[nx].next;
    if (s.next >= 0) sym[s.next].prev = c.pos;
    sym[nx].id = -1;  // dead
    if (s.prev >= 0) push(s.prev);
    push(c.pos);
  }
  for (int i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

// --- encode ----------------------------------------------------------------------------

// A per-thread cache of pre-token -> ids: text repeats its words, so most pre-tokens are
// merged once. It belongs to one tokenizer at a time (cleared when another one encodes).
struct PieceCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<int>> map;
};
static constexpr size_t kCacheMaxEntries = 1 << 18;
static constexpr size_t kCacheMaxPieceBytes = 64;

void Tokenizer::encode_ordinary(const char* s, size_t n, std::vector<int>& out) const {
  if (n == 0) return;
  std::string text(s, n);
  if (add_prefix_space_ && text[0] != ' ') text.insert(text.begin(), ' ');

  thread_local std::vector<std::pair<uint32_t, uint32_t>> pieces;
  thread_local PieceCache cache;
  if (cache.owner != instance_) {
    cache.map.clear();
    cache.owner = instance_;
  }
  pre_.split(text, pieces);
  std::string piece;
  for (auto [begin, end] : pieces) {
    piece.assign(text, begin, end - begin);
    if (piece.size() > kCacheMaxPieceBytes) {
      bpe(piece, out);
      continue;
    }
    auto it = cache.map.find(piece);
    if (it == cache.map.end()) {
      if (cache.map.size() >= kCacheMaxEntries) cache.map.clear();
      std::vector<int> ids;
      bpe(piece, ids);
      it = cache.map.emplace(piece, std::move(ids)).first;
    }
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
}

static bool is_space_at(const std::string& s, size_t i, size_t* len) {
  uint32_t cp;
  *len = unicode::decode_utf8(s.data(), s.size(), i, &cp);
  return unicode::classify(cp) == unicode::Class::Space;
}

// Splits text on the added tokens of `index` (leftmost, then longest): their ids go to out,
// and gap(begin, end) is called, in order, for each stretch of text between them.
void Tokenizer::split_on_added(const std::string& text, const AddedIndex& index, std::vector<int>& out,
                               const std::function<void(size_t, size_t)>& gap) const {
  size_t start = 0;  // start of the pending ordinary text
  for (size_t i = 0; i < text.size();) {
    const AddedToken* hit = nullptr;
    size_t len = 0;
    for (int k : index.by_first_byte[(unsigned char)text[i]]) {
      const std::string& c = index.content[k];
      if (text.compare(i, c.size(), c) == 0) {
        hit = &added_[k];
        len = c.size();
        break;
      }
    }
    if (!hit) {
      i++;
      continue;
    }
    size_t before = i, after = i + len, n;
    if (hit->lstrip)  // swallow whitespace before, stepping back one character at a time
      while (before > start) {
        size_t b = before - 1;
        while (b > start && (text[b] & 0xC0) == 0x80) b--;
        if (!is_space_at(text, b, &n) || b + n != before) break;
        before = b;
      }
    if (hit->rstrip)
      while (after < text.size() && is_space_at(text, after, &n)) after += n;
    if (before > start) gap(start, before);
    out.push_back(hit->id);
    start = i = after;
  }
  if (start < text.size()) gap(start, text.size());
}

void Tokenizer::encode(const std::string& text, std::vector<int>& out) const {
  split_on_added(text, raw_added_, out, [&](size_t b, size_t e) {
    std::string section = nfc_ ? unicode::nfc(text.substr(b, e - b)) : text.substr(b, e - b);
    split_on_added(section, normalized_added_, out,
                   [&](size_t b2, size_t e2) { encode_ordinary(section.data() + b2, e2 - b2, out); });
  });
}

std::vector<int> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  std::vector<int> ids;
  if (add_special_tokens) ids = special_prefix_;
  encode(text, ids);
  if (add_special_tokens) ids.insert(ids.end(), special_suffix_.begin(), special_suffix_.end());
  return ids;
}

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  encode(text, ids);
  return ids;
}

// --- decode ----------------------------------------------------------------------------

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) {
    check(id >= 0 && id < vocab_size() && id_used_[id], "decode: token id ", id,
          " is not in the vocabulary (size ", vocab_size(), ")");
    out += id_bytes_[id];
  }
  return out;
}

}  // namespace r1
