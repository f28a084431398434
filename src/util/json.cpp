// JSON parser and writer. See json.h for what is and is not supported.
#include "util/json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/error.h"

namespace r1 {

// --- typed access ------------------------------------------------------------

const char* Json::type_name(Type t) {
  switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "bool";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Array: return "array";
    case Type::Object: return "object";
  }
  return "?";
}

static void expect_type(Json::Type got, Json::Type want) {
  if (got != want) throw Error(cat("expected ", Json::type_name(want), ", got ", Json::type_name(got)));
}

bool Json::as_bool() const { expect_type(type_, Type::Bool); return bool_; }
double Json::as_number() const { expect_type(type_, Type::Number); return num_; }
int64_t Json::as_int() const {
  expect_type(type_, Type::Number);
  if (num_ != std::floor(num_) || std::fabs(num_) > 9007199254740992.0)
    throw Error(cat("expected an integer, got ", dump()));
  return int64_t(num_);
}
const std::string& Json::as_string() const { expect_type(type_, Type::String); return str_; }
const Json::Array& Json::as_array() const { expect_type(type_, Type::Array); return *arr_; }
Json::Array& Json::as_array() { expect_type(type_, Type::Array); detach(); return *arr_; }
const Json::Object& Json::as_object() const { expect_type(type_, Type::Object); return *obj_; }

void Json::detach() {
  if (arr_ && arr_.use_count() > 1) arr_ = std::make_shared<Array>(*arr_);
  if (obj_ && obj_.use_count() > 1) obj_ = std::make_shared<Object>(*obj_);
}

size_t Json::size() const {
  if (type_ == Type::Array) return arr_->size();
  if (type_ == Type::Object) return obj_->size();
  throw Error(cat("expected array or object, got ", type_name(type_)));
}

const Json& Json::operator[](size_t i) const {
  const Array& a = as_array();
  if (i >= a.size()) throw Error(cat("index ", i, " out of range for array of ", a.size()));
  return a[i];
}

void Json::push_back(Json v) {
  if (type_ == Type::Null) *this = array();
  as_array().push_back(std::move(v));
}

const Json* Json::find(const std::string& key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& kv : *obj_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

const Json& Json::at(const std::string& key) const {
  expect_type(type_, Type::Object);
  const Json* v = find(key);
  if (!v) throw Error(cat("missing field '", key, "'"));
  return *v;
}

Json& Json::operator[](const std::string& key) {
  if (type_ == Type::Null) *this = object();
  expect_type(type_, Type::Object);
  detach();
  for (auto& kv : *obj_)
    if (kv.first == key) return kv.second;
  obj_->emplace_back(key, Json());
  return obj_->back().second;
}

// Typed optional getters: absent -> default; present with the wrong type -> error naming the field.
template <typename F>
static auto field_or(const Json& j, const std::string& key, F get) -> decltype(get(j)) {
  try {
    return get(j.at(key));
  } catch (const Error& e) {
    throw Error(cat("field '", key, "': ", e.what()));
  }
}
double Json::get_number(const std::string& key, double def) const {
  return contains(key) ? field_or(*this, key, [](const Json& v) { return v.as_number(); }) : def;
}
int64_t Json::get_int(const std::string& key, int64_t def) const {
  return contains(key) ? field_or(*this, key, [](const Json& v) { return v.as_int(); }) : def;
}
bool Json::get_bool(const std::string& key, bool def) const {
  return contains(key) ? field_or(*this, key, [](const Json& v) { return v.as_bool(); }) : def;
}
std::string Json::get_string(const std::string& key, const std::string& def) const {
  return contains(key) ? field_or(*this, key, [](const Json& v) { return v.as_string(); }) : def;
}

void reject_unknown_fields(const Json& j, std::initializer_list<const char*> known, const std::string& context,
                           const std::string& what) {
  for (const auto& kv : j.as_object()) {
    bool ok = false;
    for (const char* k : known) ok = ok || kv.first == k;
    if (!ok) throw Error(cat(context, ": unknown ", what, " '", kv.first, "'"));
  }
}

// --- writer --------------------------------------------------------------------

// Length of the valid UTF-8 sequence at s[i] (1-4), or 0 when the bytes there are not one
// (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, > U+10FFFF).
static size_t utf8_sequence_length(const std::string& s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? (unsigned char)s[i + k] : 0u; };
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  unsigned c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;  // no overlongs, no surrogates
    return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;  // no overlongs, <= U+10FFFF
    return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Writes s as a JSON string. The output is always valid UTF-8, as RFC 8259 requires: a byte that
// does not start a valid UTF-8 sequence (e.g. a model's completion cut inside a multi-byte
// character) is written as U+FFFD, the replacement character, as Python's errors="replace" does.
void json_escape(const std::string& s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x80) {
      size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
      } else {
        out.append(s, i, n);
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

static void dump_number(double x, std::string& out) {
  if (!std::isfinite(x)) { out += "null"; return; }
  if (x == std::floor(x) && std::fabs(x) < 9007199254740992.0) {
    out += std::to_string(int64_t(x));
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip form
  out.append(buf, res.ptr);
}

void Json::dump_to(std::string& out, int indent, int level) const {
  auto newline = [&](int lvl) {
    if (indent > 0) {
      out += '\n';
      out.append(size_t(indent * lvl), ' ');
    }
  };
  switch (type_) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += bool_ ? "true" : "false"; break;
    case Type::Number: dump_number(num_, out); break;
    case Type::String: json_escape(str_, out); break;
    case Type::Array:
      out += '[';
      for (size_t i = 0; i < arr_->size(); i++) {
        if (i) out += indent > 0 ? "," : ", ";
        if (indent > 0) newline(level + 1);
        (*arr_)[i].dump_to(out, indent, level + 1);
      }
      if (indent > 0 && !arr_->empty()) newline(level);
      out += ']';
      break;
    case Type::Object:
      out += '{';
      for (size_t i = 0; i < obj_->size(); i++) {
        if (i) out += indent > 0 ? "," : ", ";
        if (indent > 0) newline(level + 1);
        json_escape((*obj_)[i].first, out);
        out += ": ";
        (*obj_)[i].second.dump_to(out, indent, level + 1);
      }
      if (indent > 0 && !obj_->empty()) newline(level);
      out += '}';
      break;
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  dump_to(out, indent, 0);
  return out;
}

// --- parser ----------------------------------------------------------------------

namespace {

constexpr int kMaxDepth = 512;  // bounds recursion on hostile input

class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  Json parse_document() {
    skip_ws();
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); i++) {
      if (s_[i] == '\n') { line++; col = 1; } else { col++; }
    }
    throw Error(cat(source_, ": invalid JSON at line ", line, " column ", col, ": ", msg));
  }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) pos_++;
  }

  bool consume(const char* lit) {
    size_t n = std::strlen(lit);
    if (s_.compare(pos_, n, lit) == 0) { pos_ += n; return true; }
    return false;
  }

  Json parse_value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    if (pos_ >= s_.size()) fail("unexpected end of input");
    char c = s_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') return Json(parse_string());
    if (c == '-' || (c >= '0' && c <= '9')) return Json(parse_number());
    if (consume("true")) return Json(true);
    if (consume("false")) return Json(false);
    if (consume("null")) return Json();
    fail(cat("unexpected character '", c, "'"));
  }

  Json parse_object(int depth) {
    pos_++;  // '{'
    Json::Object obj;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') { pos_++; return Json(std::move(obj)); }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key");
      std::string key = parse_string();
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') fail("expected ':'");
      pos_++;
      skip_ws();
      Json v = parse_value(depth + 1);
      obj.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') { pos_++; continue; }
      if (pos_ < s_.size() && s_[pos_] == '}') { pos_++; break; }
      fail("expected ',' or '}'");
    }
    return Json(std::move(obj));
  }

  Json parse_array(int depth) {
    pos_++;  // '['
    Json::Array arr;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') { pos_++; return Json(std::move(arr)); }
    while (true) {
      skip_ws();
      arr.push_back(parse_value(depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') { pos_++; continue; }
      if (pos_ < s_.size() && s_[pos_] == ']') { pos_++; break; }
      fail("expected ',' or ']'");
    }
    return Json(std::move(arr));
  }

  double parse_number() {
    size_t start = pos_;
    if (s_[pos_] == '-') pos_++;
    if (pos_ >= s_.size() || !isdigit((unsigned char)s_[pos_])) fail("invalid number");
    if (s_[pos_] == '0') pos_++;
    else while (pos_ < s_.size() && isdigit((unsigned char)s_[pos_])) pos_++;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      pos_++;
      if (pos_ >= s_.size() || !isdigit((unsigned char)s_[pos_])) fail("invalid number");
      while (pos_ < s_.size() && isdigit((unsigned char)s_[pos_])) pos_++;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      pos_++;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) pos_++;
      if (pos_ >= s_.size() || !isdigit((unsigned char)s_[pos_])) fail("invalid number");
      while (pos_ < s_.size() && isdigit((unsigned char)s_[pos_])) pos_++;
    }
    double x = 0;
    auto res = std::from_chars(s_.data() + start, s_.data() + pos_, x);
    if (res.ec == std::errc::result_out_of_range) fail("number out of range");
    return x;
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else fail("invalid \\u escape");
    }
    return v;
  }

  static void append_utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) out += char(cp);
    else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    pos_++;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') break;
      if ((unsigned char)c < 0x20) fail("control character in string");
      if (c != '\\') { out += c; continue; }
      if (pos_ >= s_.size()) fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // high surrogate: a low one must follow
            if (s_.compare(pos_, 2, "\\u") != 0) fail("unpaired surrogate");
            pos_ += 2;
            unsigned lo = parse_hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate");
          }
          append_utf8(cp, out);
          break;
        }
        default: fail(cat("invalid escape '\\", e, "'"));
      }
    }
    return out;
  }

  const std::string& s_;
  std::string source_;
  size_t pos_ = 0;
};

}  // namespace

Json Json::parse(const std::string& text, const std::string& source) {
  return Parser(text, source).parse_document();
}

Json Json::parse_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(cat(path, ": cannot open file"));
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse(ss.str(), path);
}

}  // namespace r1
