// Byte-level BPE tokenizer (the GPT-2 / Qwen / DeepSeek family), compatible with Hugging
// Face tokenizer.json files, plus a trainer for our own vocabularies.
//
//   Tokenizer tok = Tokenizer::load("tokenizer.json");
//   std::vector<int> ids = tok.encode("<think>2+2=4</think>");  // no BOS/EOS added
//   std::vector<int> with = tok.encode("Hello", true);          // + post-processor's tokens
//   std::string text = tok.decode(ids);
//   int eos = tok.token_id("<|endoftext|>");                    // -1 when absent
//
// encode(), as Hugging Face does it: added tokens with "normalized": false are matched first
// in the raw text (leftmost, then longest); each stretch between them is normalized (NFC or
// none), then added tokens with "normalized": true are matched in it (only when the file has
// a normalizer; otherwise they join the first pass); each remaining stretch is split by the
// pre-tokenizer (pretokenize.h), mapped byte -> printable character (the GPT-2
// byte-to-unicode table) and merged by rank. encode(text, true) (HF's add_special_tokens)
// also puts the post-processor's TemplateProcessing tokens (e.g. Llama 3's
// <|begin_of_text|>) around the ids; files with a ByteLevel post-processor add none. decode() inverts the byte mapping; for any byte string s and a tokenizer
// without a normalizer, decode(encode(s)) == s. With NFC the text between added tokens is
// normalized piecewise (as HF does), so nfc(decode(encode(s))) == nfc(s).
// encode() and decode() are const and safe to call from several threads at once. The cache
// of pre-token -> ids is per thread and holds one tokenizer at a time (alternating two
// tokenizers on one thread is correct but clears it at each switch).
//
// Does not do: offsets, truncation/padding, pair templates ($B), BPE dropout,
// WordPiece/Unigram models.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenize.h"
#include "util/json.h"

namespace r1 {

// An entry of tokenizer.json's "added_tokens": matched in raw text before BPE.
struct AddedToken {
  int id = -1;
  std::string content;
  bool special = true;
  bool lstrip = false;      // also swallow whitespace before the token
  bool rstrip = false;      // also swallow whitespace after the token
  bool normalized = false;  // kept for saving; matching always runs on the raw text
};

struct TrainOptions {
  int vocab_size = 4096;               // total, including the 256 byte tokens and the specials
  std::vector<std::string> specials;   // added to Tokenizer::default_specials()
  bool nfc = false;                    // normalizer NFC (default none: lossless round trip)
  std::function<void(int done, int total)> progress;  // called every few merges, may be empty
};

class Tokenizer {
 public:
  // tokenizer.json I/O. Errors (r1::Error) name the file and the field, e.g.
  // "tok.json: model.merges[17]: 'a b': the right token 'b' is not in model.vocab".
  static Tokenizer load(const std::string& path);
  static Tokenizer from_json(const Json& j);  // errors name the field only
  void save(const std::string& path) const;   // atomic: temp file + rename
  Json to_json() const;

  std::vector<int> encode(const std::string& text) const;             // add_special_tokens = false
  void encode(const std::string& text, std::vector<int>& out) const;  // appends to out
  std::vector<int> encode(const std::string& text, bool add_special_tokens) const;
  std::string decode(const std::vector<int>& ids) const;              // throws on an unknown id

  // The id of an added token by its content, or of a vocab entry by its byte-level spelling
  // ("Ġthe"); -1 when absent.
  int token_id(const std::string& token) const;
  const std::string& token(int id) const;  // byte-level spelling or added-token content
  int vocab_size() const { return int(id_to_token_.size()); }  // max id + 1
  const std::vector<AddedToken>& added_tokens() const { return added_; }

  // Trains a byte-level BPE vocabulary on texts (Qwen2 pre-tokenizer; NFC if opts.nfc).
  // Merge order: the most frequent adjacent pair first; ties go to the pair whose
  // (left id, right id) is smallest. Deterministic: same texts + options -> same file.
  static Tokenizer train(const std::vector<std::string>& texts, const TrainOptions& opts);
  // <|endoftext|> <|pad|> <think> </think> <answer> </answer> <|user|> <|assistant|>
  static const std::vector<std::string>& default_specials();

 private:
  Tokenizer() = default;
  void set_default_sections();  // Qwen2 split + ByteLevel, normalizer from nfc_ (trained files)
  void build();  // derives every lookup table below from vocab/merges/added; validates
  struct AddedIndex;
  void split_on_added(const std::string& text, const AddedIndex& index, std::vector<int>& out,
                      const std::function<void(size_t, size_t)>& gap) const;
  void encode_ordinary(const char* s, size_t n, std::vector<int>& out) const;
  void bpe(const std::string& piece, std::vector<int>& out) const;

  // --- configuration (what tokenizer.json says) ---
  std::vector<std::pair<std::string, int>> vocab_;        // model.vocab, byte-level spellings
  std::vector<std::pair<std::string, std::string>> merges_;  // model.merges in rank order
  std::vector<AddedToken> added_;
  bool nfc_ = false;
  bool has_normalizer_ = false;    // normalizer is not null (decides where "normalized" tokens match)
  PreTokenizer pre_;
  bool add_prefix_space_ = false;  // ByteLevel pre-tokenizer's add_prefix_space
  std::vector<int> special_prefix_, special_suffix_;  // TemplateProcessing's tokens around $A
  bool ignore_merges_ = false;     // model.ignore_merges: a piece found whole in vocab is one token
  // These sections as read (or made by train()), written back verbatim by save().
  Json normalizer_json_, pre_tokenizer_json_, post_processor_json_, decoder_json_;

  // --- derived tables (build()) ---
  struct Merge { int rank; int id; };
  std::vector<std::string> id_to_token_;    // (vocab_size,) "" for unused ids
  std::vector<std::string> id_bytes_;       // (vocab_size,) the bytes each id decodes to
  std::vector<bool> id_used_;               // (vocab_size,)
  std::unordered_map<std::string, int> token_to_id_;  // byte-level spelling -> id (model.vocab)
  std::unordered_map<std::string, int> added_to_id_;  // added-token content -> id
  std::unordered_map<uint64_t, Merge> merge_of_;       // (left id << 32 | right id) -> merge
  int byte_id_[256] = {};                   // byte -> id of its single-character token
  struct AddedIndex {  // one pass of added-token matching
    std::vector<std::string> content;                // (added_.size(),) text to match; "" = not in this pass
    std::vector<std::vector<int>> by_first_byte;     // (256,) indices into added_, longest first
  };
  AddedIndex raw_added_, normalized_added_;
  uint64_t instance_ = 0;                   // identifies this tokenizer to the thread-local cache
};

// The GPT-2 byte -> unicode table: printable bytes map to themselves, the rest to U+0100+.
const std::vector<uint32_t>& byte_to_unicode();

}  // namespace r1
