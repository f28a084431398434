// Hugging Face tokenizer.json load/save for byte-level BPE (see tokenizer.h).
// Supported components, anything else fails with an error naming it:
//   model           BPE (vocab; merges as "a b" strings or ["a", "b"] pairs; ignore_merges)
//   normalizer      null, NFC
//   pre_tokenizer   ByteLevel (use_regex: GPT-2 pattern), or Sequence[Split(Regex, Isolated or
//                   Removed+invert),
//                   ByteLevel(use_regex=false)] with one of the patterns of pretokenize.h
//   post_processor  null, ByteLevel, TemplateProcessing, Sequence of those (kept for saving;
//                   never applied: encode() adds no tokens)
//   decoder         ByteLevel
// normalizer, pre_tokenizer, post_processor and decoder are written back as they were read.
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

// --- small readers ---------------------------------------------------------------

static std::string type_of(const Json& j, const std::string& where) {
  check(j.is_object(), where, ": expected an object, got ", Json::type_name(j.type()));
  const Json* t = j.find("type");
  check(t && t->is_string(), where, ": missing string field 'type'");
  return t->as_string();
}

static bool get_bool(const Json& j, const std::string& key, bool def, const std::string& where) {
  const Json* v = j.find(key);
  if (!v || v->is_null()) return def;
  check(v->is_bool(), where, ".", key, ": expected bool, got ", Json::type_name(v->type()));
  return v->as_bool();
}

static void require_empty(const Json& m, const std::string& key) {
  const Json* v = m.find(key);
  if (!v || v->is_null()) return;
  bool empty = (v->is_string() && v->as_string().empty()) || (v->is_bool() && !v->as_bool()) ||
               (v->is_number() && v->as_number() == 0);
  check(empty, "model.", key, ": ", v->dump(), " is not supported (byte-level BPE needs it null/empty/false)");
}

// A token id: an integer in [0, kMaxVocab) (the bound keeps a typo from allocating gigabytes).
constexpr double kMaxVocab = 1 << 24;
static int token_id_value(const Json& v, const std::string& where) {
  double x = v.is_number() ? v.as_number() : -1;
  check(x >= 0 && x < kMaxVocab && x == double(int(x)), where, ": expected an integer id in [0, ",
        int64_t(kMaxVocab), "), got ", v.dump());
  return int(x);
}

static Json byte_level_json(bool add_prefix_space, bool use_regex) {
  Json j = Json::object();
  j["type"] = "ByteLevel";
  j["add_prefix_space"] = add_prefix_space;
  j["trim_offsets"] = false;
  j["use_regex"] = use_regex;
  return j;
}

// --- components --------------------------------------------------------------------

static SplitPattern parse_split(const Json& s, const std::string& where) {
  const Json* pat = s.find("pattern");
  check(pat && pat->is_object(), where, ".pattern: missing (expected {\"Regex\": ...})");
  const Json* re = pat->find("Regex");
  check(re && re->is_string(), where, ".pattern: only {\"Regex\": ...} patterns are supported, got ", pat->dump());
  // Every supported pattern matches every character, so keeping the matches as pieces
  // (Isolated) and removing the gaps between them (Removed + invert) split the same way.
  std::string behavior = s.get_string("behavior", "");
  bool invert = get_bool(s, "invert", false, where);
  check((behavior == "Isolated" && !invert) || (behavior == "Removed" && invert), where, ".behavior: '", behavior,
        "' with invert ", invert ? "true" : "false", " is not supported (Isolated, or Removed with invert)");
  for (SplitPattern p : {SplitPattern::Gpt2, SplitPattern::Qwen2, SplitPattern::Llama3})
    if (re->as_string() == split_pattern_regex(p)) return p;
  throw Error(cat(where, ".pattern.Regex: unsupported regex '", re->as_string(),
                  "' (supported: the GPT-2, Qwen2 and Llama-3 patterns)"));
}

// post_processor: ByteLevel, TemplateProcessing, or a Sequence of them (Llama-3.1).
static void check_post_processor(const Json& j, const std::string& where) {
  std::string type = type_of(j, where);
  if (type == "Sequence") {
    const Json* list = j.find("processors");
    check(list && list->is_array(), where, ".processors: missing array");
    for (size_t i = 0; i < list->size(); i++) check_post_processor((*list)[i], cat(where, ".processors[", i, "]"));
    return;
  }
  check(type == "ByteLevel" || type == "TemplateProcessing", where, ": type '", type,
        "' is not supported (supported: ByteLevel, TemplateProcessing, a Sequence of them, null)");
}

// Reads pre_tokenizer into (pattern, add_prefix_space).
static void parse_pre_tokenizer(const Json& j, SplitPattern* pattern, bool* add_prefix_space) {
  check(!j.is_null(), "pre_tokenizer: null is not supported (byte-level BPE needs ByteLevel)");
  std::string type = type_of(j, "pre_tokenizer");
  if (type == "ByteLevel") {
    *add_prefix_space = get_bool(j, "add_prefix_space", true, "pre_tokenizer");
    *pattern = get_bool(j, "use_regex", true, "pre_tokenizer") ? SplitPattern::Gpt2 : SplitPattern::None;
    return;
  }
  check(type == "Sequence", "pre_tokenizer: type '", type, "' is not supported (supported: ByteLevel, Sequence)");
  const Json* list = j.find("pretokenizers");
  check(list && list->is_array(), "pre_tokenizer.pretokenizers: missing array");
  std::string names;
  for (size_t i = 0; i < list->size(); i++)
    names += (i ? ", " : "") + type_of((*list)[i], cat("pre_tokenizer.pretokenizers[", i, "]"));
  check(names == "Split, ByteLevel", "pre_tokenizer: Sequence [", names,
        "] is not supported (supported: [Split, ByteLevel])");
  *pattern = parse_split((*list)[0], "pre_tokenizer.pretokenizers[0]");
  const Json& bl = (*list)[1];
  check(!get_bool(bl, "use_regex", true, "pre_tokenizer.pretokenizers[1]"),
        "pre_tokenizer.pretokenizers[1].use_regex: true after a Split is not supported");
  *add_prefix_space = get_bool(bl, "add_prefix_space", true, "pre_tokenizer.pretokenizers[1]");
}

static AddedToken parse_added(const Json& a, size_t i) {
  std::string where = cat("added_tokens[", i, "]");
  check(a.is_object(), where, ": expected an object");
  AddedToken t;
  const Json* id = a.find("id");
  const Json* content = a.find("content");
  check(id && id->is_number(), where, ": missing integer field 'id'");
  check(content && content->is_string(), where, ": missing string field 'content'");
  t.id = token_id_value(*id, where + ".id");
  t.content = content->as_string();
  t.special = get_bool(a, "special", false, where);
  t.lstrip = get_bool(a, "lstrip", false, where);
  t.rstrip = get_bool(a, "rstrip", false, where);
  t.normalized = get_bool(a, "normalized", false, where);
  check(!get_bool(a, "single_word", false, where), where, ".single_word: true is not supported");
  return t;
}

// --- load ------------------------------------------------------------------------

Tokenizer Tokenizer::from_json(const Json& j) {
  check(j.is_object(), "top level: expected an object");
  Tokenizer t;
  for (const char* key : {"truncation", "padding"}) {
    const Json* v = j.find(key);
    check(!v || v->is_null(), key, ": ", v ? v->dump() : "", " is not supported (must be null)");
  }

  // model
  const Json* m = j.find("model");
  check(m != nullptr, "missing field 'model'");
  check(m->is_object(), "model: expected an object");
  std::string type = m->get_string("type", "BPE");
  check(type == "BPE", "model.type: '", type, "' is not supported (only BPE)");
  for (const char* key : {"dropout", "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback"})
    require_empty(*m, key);
  t.ignore_merges_ = get_bool(*m, "ignore_merges", false, "model");
  const Json* vocab = m->find("vocab");
  check(vocab && vocab->is_object(), "missing field 'model.vocab' (an object token -> id)");
  for (const auto& [tok, id] : vocab->as_object()) {
    t.vocab_.emplace_back(tok, token_id_value(id, cat("model.vocab['", tok, "']")));
  }
  const Json* merges = m->find("merges");
  check(merges && merges->is_array(), "missing field 'model.merges' (an array)");
  for (size_t i = 0; i < merges->size(); i++) {
    const Json& e = (*merges)[i];
    if (e.is_string()) {
      const std::string& s = e.as_string();
      size_t sp = s.find(' ');
      check(sp != std::string::npos && sp > 0 && sp + 1 < s.size() && s.find(' ', sp + 1) == std::string::npos,
            "model.merges[", i, "]: '", s, "' is not two tokens separated by one space");
      t.merges_.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else {
      check(e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string(), "model.merges[", i,
            "]: expected \"a b\" or [\"a\", \"b\"], got ", e.dump());
      t.merges_.emplace_back(e[0].as_string(), e[1].as_string());
    }
  }

  if (const Json* added = j.find("added_tokens"); added && !added->is_null()) {
    check(added->is_array(), "added_tokens: expected an array");
    for (size_t i = 0; i < added->size(); i++) t.added_.push_back(parse_added((*added)[i], i));
  }

  // normalizer
  t.normalizer_json_ = j.find("normalizer") ? *j.find("normalizer") : Json();
  if (!t.normalizer_json_.is_null()) {
    std::string nt = type_of(t.normalizer_json_, "normalizer");
    check(nt == "NFC", "normalizer: type '", nt, "' is not supported (supported: NFC, null)");
    t.nfc_ = true;
  }

  // pre_tokenizer
  t.pre_tokenizer_json_ = j.find("pre_tokenizer") ? *j.find("pre_tokenizer") : Json();
  parse_pre_tokenizer(t.pre_tokenizer_json_, &t.pattern_, &t.add_prefix_space_);

  // post_processor: never applied (encode adds no tokens), kept for saving.
  t.post_processor_json_ = j.find("post_processor") ? *j.find("post_processor") : Json();
  if (!t.post_processor_json_.is_null()) check_post_processor(t.post_processor_json_, "post_processor");

  // decoder
  t.decoder_json_ = j.find("decoder") ? *j.find("decoder") : Json();
  check(!t.decoder_json_.is_null(), "decoder: null is not supported (byte-level BPE needs ByteLevel)");
  std::string dt = type_of(t.decoder_json_, "decoder");
  check(dt == "ByteLevel", "decoder: type '", dt, "' is not supported (only ByteLevel)");

  t.build();
  return t;
}

Tokenizer Tokenizer::load(const std::string& path) {
  try {
    return from_json(Json::parse_file(path));
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(path, 0) == 0) throw;  // already names the file
    throw Error(cat(path, ": ", msg));
  }
}

// --- save ------------------------------------------------------------------------

Json Tokenizer::to_json() const {
  Json j = Json::object();
  j["version"] = "1.0";
  j["truncation"] = Json();
  j["padding"] = Json();
  Json added = Json::array();
  for (const AddedToken& a : added_) {
    Json e = Json::object();
    e["id"] = a.id;
    e["content"] = a.content;
    e["single_word"] = false;
    e["lstrip"] = a.lstrip;
    e["rstrip"] = a.rstrip;
    e["normalized"] = a.normalized;
    e["special"] = a.special;
    added.push_back(e);
  }
  j["added_tokens"] = added;
  j["normalizer"] = normalizer_json_;
  j["pre_tokenizer"] = pre_tokenizer_json_;
  j["post_processor"] = post_processor_json_;
  j["decoder"] = decoder_json_;

  Json m = Json::object();
  m["type"] = "BPE";
  m["dropout"] = Json();
  m["unk_token"] = Json();
  m["continuing_subword_prefix"] = "";
  m["end_of_word_suffix"] = "";
  m["fuse_unk"] = false;
  m["byte_fallback"] = false;
  m["ignore_merges"] = ignore_merges_;
  Json::Object vocab;
  vocab.reserve(vocab_.size());
  for (const auto& [tok, id] : vocab_) vocab.emplace_back(tok, Json(id));
  m["vocab"] = Json(std::move(vocab));
  Json::Array merges;
  merges.reserve(merges_.size());
  for (const auto& [a, b] : merges_) merges.push_back(Json(Json::Array{Json(a), Json(b)}));
  m["merges"] = Json(std::move(merges));
  j["model"] = m;
  return j;
}

void Tokenizer::save(const std::string& path) const { write_file_atomic(path, to_json().dump(2) + "\n"); }

// The sections of our own trained tokenizers: Qwen2 split + ByteLevel, NFC or none.
void Tokenizer::set_default_sections() {
  normalizer_json_ = Json();
  if (nfc_) {
    normalizer_json_ = Json::object();
    normalizer_json_["type"] = "NFC";
  }
  Json split = Json::object();
  split["type"] = "Split";
  Json pattern = Json::object();
  pattern["Regex"] = split_pattern_regex(SplitPattern::Qwen2);
  split["pattern"] = pattern;
  split["behavior"] = "Isolated";
  split["invert"] = false;
  pre_tokenizer_json_ = Json::object();
  pre_tokenizer_json_["type"] = "Sequence";
  pre_tokenizer_json_["pretokenizers"] = Json(Json::Array{split, byte_level_json(false, false)});
  pattern_ = SplitPattern::Qwen2;
  add_prefix_space_ = false;
  post_processor_json_ = byte_level_json(false, false);
  decoder_json_ = byte_level_json(false, false);
}

}  // namespace r1
