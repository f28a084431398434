// Hugging Face tokenizer.json load/save for byte-level BPE (see tokenizer.h).
// Supported components, anything else fails with an error naming it:
//   model           BPE (vocab; merges as "a b" strings or ["a", "b"] pairs; ignore_merges)
//   normalizer      null, NFC, Sequence of those (an empty Sequence changes nothing)
//   pre_tokenizer   ByteLevel (use_regex: the GPT-2 pattern), or a Sequence of Split steps
//                   ({"Regex": ...} in the subset of regex.h; Isolated, Removed, or Removed
//                   with invert) ending with ByteLevel (use_regex true adds the GPT-2 split;
//                   add_prefix_space only where no Split comes before it)
//   post_processor  null, ByteLevel, TemplateProcessing (its "single" template: special
//                   tokens around $A, added by encode(text, true)), Sequence of those
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

// A Split step: {"type": "Split", "pattern": {"Regex": ...}, "behavior": ..., "invert": ...}.
static SplitStep parse_split(const Json& s, const std::string& where) {
  const Json* pat = s.find("pattern");
  check(pat && pat->is_object(), where, ".pattern: missing (expected {\"Regex\": ...})");
  const Json* re = pat->find("Regex");
  check(re && re->is_string(), where, ".pattern: only {\"Regex\": ...} patterns are supported, got ", pat->dump());
  SplitStep step;
  try {
    step.regex = std::make_shared<const Regex>(re->as_string());
  } catch (const Error& e) {
    throw Error(cat(where, ".pattern.Regex: ", e.what()));
  }
  std::string behavior = s.get_string("behavior", "");
  bool invert = get_bool(s, "invert", false, where);
  // invert keeps only the matches (JS and Rust agree for Removed; for Isolated they differ).
  if (behavior == "Isolated" && !invert) step.keep = SplitStep::Keep::All;
  else if (behavior == "Removed") step.keep = invert ? SplitStep::Keep::Matches : SplitStep::Keep::Gaps;
  else
    throw Error(cat(where, ".behavior: '", behavior, "' with invert ", invert ? "true" : "false",
                    " is not supported (Isolated, or Removed with or without invert)"));
  check(!(step.keep == SplitStep::Keep::Gaps && step.regex->has_groups()), where,
        ".pattern.Regex: a (group) with behavior Removed is not supported (JS split would keep what it captures)");
  if (step.keep == SplitStep::Keep::All) step.scanner = split_pattern_of(re->as_string());
  return step;
}

// post_processor: ByteLevel (changes no ids), TemplateProcessing (the special tokens its
// "single" template puts before and after $A), or a Sequence of them (Llama-3.1).
static void parse_post_processor(const Json& j, const std::string& where, bool* have_template,
                                 std::vector<int>* prefix, std::vector<int>* suffix) {
  std::string type = type_of(j, where);
  if (type == "Sequence") {
    const Json* list = j.find("processors");
    check(list && list->is_array(), where, ".processors: missing array");
    for (size_t i = 0; i < list->size(); i++)
      parse_post_processor((*list)[i], cat(where, ".processors[", i, "]"), have_template, prefix, suffix);
    return;
  }
  if (type == "ByteLevel") return;
  check(type == "TemplateProcessing", where, ": type '", type,
        "' is not supported (supported: ByteLevel, TemplateProcessing, a Sequence of them, null)");
  check(!*have_template, where, ": a second TemplateProcessing is not supported");
  *have_template = true;
  const Json* single = j.find("single");
  const Json* specials = j.find("special_tokens");
  check(single && single->is_array(), where, ".single: missing array");
  bool seen_a = false;
  for (size_t i = 0; i < single->size(); i++) {
    const Json& item = (*single)[i];
    std::string at = cat(where, ".single[", i, "]");
    if (const Json* seq = item.is_object() ? item.find("Sequence") : nullptr) {
      check(!seen_a && seq->is_object() && seq->get_string("id", "") == "A", at, ": expected one {\"Sequence\": {\"id\": \"A\"}}");
      seen_a = true;
      continue;
    }
    const Json* sp = item.is_object() ? item.find("SpecialToken") : nullptr;
    check(sp && sp->is_object() && sp->find("id") && sp->find("id")->is_string(), at,
          ": expected {\"SpecialToken\": {\"id\": ...}} or {\"Sequence\": ...}, got ", item.dump());
    const std::string& name = sp->find("id")->as_string();
    const Json* entry = specials && specials->is_object() ? specials->find(name) : nullptr;
    const Json* ids = entry && entry->is_object() ? entry->find("ids") : nullptr;
    check(ids && ids->is_array(), at, ": special token '", name, "' has no ", where, ".special_tokens['", name, "'].ids");
    for (size_t k = 0; k < ids->size(); k++)
      (seen_a ? suffix : prefix)->push_back(token_id_value((*ids)[k], cat(where, ".special_tokens['", name, "'].ids[", k, "]")));
  }
  check(seen_a, where, ".single: no {\"Sequence\": {\"id\": \"A\"}}");
}

// normalizer: NFC, or a Sequence of NFC / Sequences (empty: no change). Returns whether NFC applies.
static bool parse_normalizer(const Json& j, const std::string& where) {
  std::string type = type_of(j, where);
  if (type == "NFC") return true;
  check(type == "Sequence", where, ": type '", type, "' is not supported (supported: NFC, Sequence, null)");
  const Json* list = j.find("normalizers");
  check(list && list->is_array(), where, ".normalizers: missing array");
  bool nfc = false;
  for (size_t i = 0; i < list->size(); i++) nfc = parse_normalizer((*list)[i], cat(where, ".normalizers[", i, "]")) || nfc;
  return nfc;  // NFC is idempotent, so several NFC steps are one
}

// pre_tokenizer: ByteLevel, or Sequence [Split..., ByteLevel].
static void parse_pre_tokenizer(const Json& j, PreTokenizer* pre, bool* add_prefix_space) {
  check(!j.is_null(), "pre_tokenizer: null is not supported (byte-level BPE needs ByteLevel)");
  std::string type = type_of(j, "pre_tokenizer");
  std::vector<std::pair<const Json*, std::string>> items;  // (step, where)
  if (type == "Sequence") {
    const Json* list = j.find("pretokenizers");
    check(list && list->is_array(), "pre_tokenizer.pretokenizers: missing array");
    for (size_t i = 0; i < list->size(); i++) items.push_back({&(*list)[i], cat("pre_tokenizer.pretokenizers[", i, "]")});
  } else {
    check(type == "ByteLevel", "pre_tokenizer: type '", type, "' is not supported (supported: ByteLevel, Sequence)");
    items.push_back({&j, "pre_tokenizer"});
  }
  pre->steps.clear();
  for (size_t i = 0; i < items.size(); i++) {
    const auto& [step, where] = items[i];
    std::string t = type_of(*step, where);
    if (t == "Split") {
      check(i + 1 < items.size(), where, ": the last step must be ByteLevel, not Split");
      pre->steps.push_back(parse_split(*step, where));
      continue;
    }
    check(t == "ByteLevel", where, ": type '", t, "' is not supported in a Sequence (supported: Split, ByteLevel)");
    check(i + 1 == items.size(), where, ": ByteLevel must be the last step");
    *add_prefix_space = get_bool(*step, "add_prefix_space", true, where);
    check(!*add_prefix_space || pre->steps.empty(), where,
          ".add_prefix_space: true after a Split is not supported (only on a ByteLevel that comes first)");
    if (get_bool(*step, "use_regex", true, where)) {
      SplitStep gpt2;
      gpt2.regex = std::make_shared<const Regex>(split_pattern_regex(SplitPattern::Gpt2));
      gpt2.scanner = SplitPattern::Gpt2;
      pre->steps.push_back(gpt2);
    }
    return;
  }
  throw Error("pre_tokenizer: a Sequence must end with ByteLevel");
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
  t.has_normalizer_ = !t.normalizer_json_.is_null();
  if (t.has_normalizer_) t.nfc_ = parse_normalizer(t.normalizer_json_, "normalizer");

  // pre_tokenizer
  t.pre_tokenizer_json_ = j.find("pre_tokenizer") ? *j.find("pre_tokenizer") : Json();
  parse_pre_tokenizer(t.pre_tokenizer_json_, &t.pre_, &t.add_prefix_space_);

  // post_processor
  t.post_processor_json_ = j.find("post_processor") ? *j.find("post_processor") : Json();
  bool have_template = false;
  if (!t.post_processor_json_.is_null())
    parse_post_processor(t.post_processor_json_, "post_processor", &have_template, &t.special_prefix_, &t.special_suffix_);

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
  has_normalizer_ = nfc_;
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
  parse_pre_tokenizer(pre_tokenizer_json_, &pre_, &add_prefix_space_);
  post_processor_json_ = byte_level_json(false, false);
  decoder_json_ = byte_level_json(false, false);
}

}  // namespace r1
