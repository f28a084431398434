// Minimal JSON value, parser and writer (RFC 8259), written for r1's file formats:
// config.json, tokenizer.json, safetensors headers, JSONL datasets, metrics, CLI --json.
// Objects keep insertion order (so files we write are stable and diffable). Numbers are
// doubles; integers up to 2^53 round-trip exactly and are written without a decimal point.
// Does not do: comments, NaN/Infinity literals (written as null), streaming.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace r1 {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;  // insertion order

  Json() = default;                       // null
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(double x) : type_(Type::Number), num_(x) {}
  Json(float x) : Json(double(x)) {}
  Json(int x) : Json(double(x)) {}
  Json(int64_t x) : Json(double(x)) {}
  Json(uint64_t x) : Json(double(x)) {}
  Json(long long x) : Json(double(x)) {}
  Json(unsigned x) : Json(double(x)) {}
  Json(const char* s) : type_(Type::String), str_(s) {}
  Json(std::string s) : type_(Type::String), str_(std::move(s)) {}
  Json(Array a) : type_(Type::Array), arr_(std::make_shared<Array>(std::move(a))) {}
  Json(Object o) : type_(Type::Object), obj_(std::make_shared<Object>(std::move(o))) {}
  template <typename T>
  Json(const std::vector<T>& v) : Json(Array(v.begin(), v.end())) {}

  static Json array() { return Json(Array{}); }
  static Json object() { return Json(Object{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }
  static const char* type_name(Type t);

  // Typed access; each throws r1::Error("expected <type>, got <type>") on mismatch.
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;  // also checks the number is integral
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;

  // Arrays.
  size_t size() const;  // array or object length
  const Json& operator[](size_t i) const;
  const Json& operator[](int i) const { return (*this)[size_t(i)]; }  // so j[0] is not a key
  Json& operator[](int i) { return as_array().at(size_t(i)); }
  void push_back(Json v);

  // Objects. find() returns nullptr when absent; at() throws "missing field 'key'".
  const Json* find(const std::string& key) const;
  const Json& at(const std::string& key) const;
  bool contains(const std::string& key) const { return find(key) != nullptr; }
  Json& operator[](const std::string& key);  // inserts null when absent (object or null)
  // Convenience getters with defaults for optional fields.
  double get_number(const std::string& key, double def) const;
  int64_t get_int(const std::string& key, int64_t def) const;
  bool get_bool(const std::string& key, bool def) const;
  std::string get_string(const std::string& key, const std::string& def) const;

  // Writer: compact by default; indent > 0 pretty-prints.
  std::string dump(int indent = 0) const;

  // Parser. `source` names the input in error messages ("config.json", "data.jsonl:12").
  static Json parse(const std::string& text, const std::string& source = "json");
  static Json parse_file(const std::string& path);

 private:
  void dump_to(std::string& out, int indent, int level) const;
  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0;
  std::string str_;
  std::shared_ptr<Array> arr_;   // shared, copy-on-write is not needed: values are
  std::shared_ptr<Object> obj_;  // deep-copied by detach() before mutation
  void detach();
};

// Throws r1::Error("<context>: unknown <what> '<key>'") for the first key of the object `j`
// that is not in `known` (config sections reject typos instead of ignoring them).
void reject_unknown_fields(const Json& j, std::initializer_list<const char*> known, const std::string& context,
                           const std::string& what = "field");

// Appends s as a JSON string literal (with quotes and escapes) to out.
void json_escape(const std::string& s, std::string& out);

}  // namespace r1
