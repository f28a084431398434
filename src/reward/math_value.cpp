// Symbolic values (Poly, Value) and the answer parser: a lexer that drops what carries
// no value (spacing, \left/\right, units in \text{}, $, %, degree signs) and a recursive
// descent parser over + - * / ^, implicit products, \frac, \sqrt, brackets, sets and
// matrices. See math_value.h for the model and docs/rewards.md for the rules.
#include "reward/math_value.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace r1 {

// --- limits --------------------------------------------------------------------

static constexpr size_t kMaxInputChars = 1000;
static constexpr size_t kMaxTerms = 64;
static constexpr int kMaxExponent = 1000;       // |exponent| of a power, and of a symbol
static constexpr int kMaxDepth = 100;           // parser nesting
static constexpr size_t kMaxItems = 100;        // elements of a tuple/set/matrix

[[noreturn]] static void reject(const std::string& why) { throw MathLimit(why); }

// --- Poly ------------------------------------------------------------------------

Poly Poly::constant(const Rational& c) {
  Poly p;
  if (!c.is_zero()) p.terms[Monomial()] = c;
  return p;
}

Poly Poly::symbol(const std::string& name) {
  Poly p;
  Monomial m;
  m.vars[name] = 1;
  p.terms[m] = Rational(1);
  return p;
}

bool Poly::is_rational() const {
  if (terms.empty()) return true;
  if (terms.size() != 1) return false;
  const Monomial& m = terms.begin()->first;
  return m.vars.empty() && m.rad == BigInt(1);
}

Rational Poly::rational() const { return terms.empty() ? Rational(0) : terms.begin()->second; }

bool Poly::is_single_variable(std::string* name) const {
  if (terms.size() != 1) return false;
  const auto& [m, c] = *terms.begin();
  if (c != Rational(1) || m.rad != BigInt(1) || m.vars.size() != 1 || m.vars.begin()->second != 1)
    return false;
  const std::string& v = m.vars.begin()->first;
  if (v == "\\pi" || v == "\\infty") return false;
  *name = v;
  return true;
}

bool Poly::numeric(double* out) const {
  double sum = 0;
  for (const auto& [m, c] : terms) {
    double t = c.to_double() * std::sqrt(m.rad.to_double());
    for (const auto& [v, e] : m.vars) {
      if (v != "\\pi") return false;
      t *= std::pow(3.141592653589793, e);
    }
    sum += t;
  }
  *out = sum;
  return true;
}

std::string Poly::key() const {
  if (terms.empty()) return "0";
  std::string s;
  for (const auto& [m, c] : terms) {
    if (!s.empty()) s += " + ";
    s += c.str();
    if (m.rad != BigInt(1)) s += "*sqrt(" + m.rad.str() + ")";
    for (const auto& [v, e] : m.vars) s += "*" + v + "^" + std::to_string(e);
  }
  return s;
}

static void check_terms(const Poly& p) {
  if (p.terms.size() > kMaxTerms) reject("expression too large");
}

Poly operator+(const Poly& a, const Poly& b) {
  Poly r = a;
  for (const auto& [m, c] : b.terms) {
    auto it = r.terms.find(m);
    if (it == r.terms.end()) {
      r.terms[m] = c;
    } else {
      it->second = it->second + c;
      if (it->second.is_zero()) r.terms.erase(it);
    }
  }
  check_terms(r);
  return r;
}

Poly operator-(const Poly& a) {
  Poly r = a;
  for (auto& kv : r.terms) kv.second = -kv.second;
  return r;
}

Poly operator-(const Poly& a, const Poly& b) { return a + (-b); }

// sqrt(r1)*sqrt(r2) = g*sqrt((r1/g)*(r2/g)) with g = gcd(r1, r2): both squarefree, so
// the result's radicand is squarefree again without any factoring.
static void multiply_monomials(const Monomial& a, const Monomial& b, Monomial& out, BigInt& factor) {
  out.vars = a.vars;
  for (const auto& [v, e] : b.vars) {
    int sum = out.vars[v] + e;
    if (std::abs(sum) > kMaxExponent) reject("exponent too large");
    if (sum == 0) out.vars.erase(v); else out.vars[v] = sum;
  }
  BigInt g = BigInt::gcd(a.rad, b.rad);
  out.rad = (a.rad / g) * (b.rad / g);
  factor = g;
}

Poly operator*(const Poly& a, const Poly& b) {
  if (a.terms.size() * b.terms.size() > kMaxTerms * kMaxTerms) reject("expression too large");
  Poly r;
  for (const auto& [ma, ca] : a.terms) {
    for (const auto& [mb, cb] : b.terms) {
      Monomial m;
      BigInt factor;
      multiply_monomials(ma, mb, m, factor);
      Poly t;
      t.terms[m] = ca * cb * Rational(factor);
      r = r + t;
    }
  }
  return r;
}

// 1 / (c * sqrt(r) * v) = sqrt(r) / (c * r) * v^-1.
Poly divide(const Poly& a, const Poly& b) {
  if (b.terms.empty()) reject("division by zero");
  if (b.terms.size() != 1) reject("division by a sum is not supported");
  const auto& [m, c] = *b.terms.begin();
  Monomial inv;
  inv.rad = m.rad;
  for (const auto& [v, e] : m.vars) inv.vars[v] = -e;
  Poly reciprocal;
  reciprocal.terms[inv] = Rational(1) / (c * Rational(m.rad));
  return a * reciprocal;
}

// Largest s with s*s <= n (n < 2^63).
static uint64_t isqrt(uint64_t n) {
  uint64_t s = uint64_t(std::sqrt(double(n)));
  while (s * s > n) s--;
  while ((s + 1) * (s + 1) <= n) s++;
  return s;
}

// n = s^2 * r with r squarefree, by trial division (n < 1e18, so d < 1e6).
static void split_square(uint64_t n, uint64_t& s, uint64_t& r) {
  s = 1;
  r = 1;
  uint64_t d = 2;
  for (; d * d * d <= n; d++) {
    if (d % 1024 == 0) WorkBudget::charge(16 * 1024);  // a 64-bit modulo costs ~16 limb steps
    int count = 0;
    while (n % d == 0) {
      n /= d;
      count++;
    }
    for (int i = 0; i < count / 2; i++) s *= d;
    if (count % 2) r *= d;
  }
  // n has no prime factor below d and n < d^3: n is 1, p, p^2 or p*q.
  uint64_t t = isqrt(n);
  if (t * t == n) s *= t; else r *= n;
}

Poly square_root(const Poly& a) {
  if (!a.is_rational()) reject("sqrt of a non-rational is not supported");
  Rational q = a.rational();
  if (q.sign() < 0) reject("sqrt of a negative number");
  if (q.is_zero()) return Poly();
  // sqrt(p/d) = sqrt(p*d) / d.
  BigInt n = q.num() * q.den();
  if (n.limbs() > 2) reject("sqrt argument too large");
  uint64_t s, r;
  split_square(uint64_t(n.to_int64()), s, r);
  Poly out;
  Monomial m;
  m.rad = BigInt(int64_t(r));
  out.terms[m] = Rational(BigInt(int64_t(s)), q.den());
  return out;
}

Poly power(const Poly& base, const Poly& exponent) {
  if (!exponent.is_rational()) reject("non-numeric exponent");
  Rational e = exponent.rational();
  if (!e.is_integer()) {
    if (e.den() != BigInt(2) || !base.is_rational()) reject("fractional exponent");
    return power(square_root(base), Poly::constant(Rational(e.num())));
  }
  if (!e.num().fits_int64() || std::llabs(e.num().to_int64()) > kMaxExponent) reject("exponent too large");
  int64_t k = e.num().to_int64();
  if (k == 0) {
    if (base.is_zero()) reject("0^0");
    return Poly::constant(Rational(1));
  }
  if (k < 0) return divide(Poly::constant(Rational(1)), power(base, Poly::constant(Rational(-k))));
  if (base.terms.size() > 1 && k > 16) reject("exponent too large for a sum");
  Poly result = Poly::constant(Rational(1)), b = base;
  while (k) {  // square-and-multiply; sizes are capped inside the products
    if (k & 1) result = result * b;
    k >>= 1;
    if (k) b = b * b;
  }
  return result;
}

// --- Value keys ----------------------------------------------------------------------

std::string Value::key() const {
  std::vector<std::string> keys;
  for (const Value& v : items) keys.push_back(v.key());
  auto join = [](const std::vector<std::string>& ks) {
    std::string s;
    for (size_t i = 0; i < ks.size(); i++) s += (i ? "; " : "") + ks[i];
    return s;
  };
  switch (kind) {
    case Kind::Scalar: return scalar.key();
    case Kind::Tuple: return std::string(1, open) + join(keys) + std::string(1, close);
    case Kind::Set:
    case Kind::Union: {
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      return (kind == Kind::Set ? "set{" : "union{") + join(keys) + "}";
    }
    case Kind::Matrix:
      return "matrix" + std::to_string(rows) + "x" + std::to_string(cols) + "[" + join(keys) + "]";
  }
  return "";
}

// --- lexer -----------------------------------------------------------------------------

namespace {

enum class Tok { Num, Ident, Op, Cmd, Begin, End, Eof };

struct Token {
  Tok type;
  std::string text;  // Num: digits with an optional '.', separators removed; Op: one char
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

const std::set<std::string> kSkipCommands = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
    "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "quad", "qquad", "degree", "circ",
    "mathrm", "mathbf", "mathit", "boldsymbol", "mathsf", "rm", "bf"};
const std::set<std::string> kTextCommands = {"text", "mbox", "textrm", "textnormal", "textit",
                                             "textbf", "hbox", "textup", "textsf"};
const std::set<std::string> kGreek = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Sigma", "Phi", "Psi", "Omega"};

class Lexer {
 public:
  explicit Lexer(const std::string& s) : s_(s) {}

  std::vector<Token> run() {
    while (i_ < s_.size()) step();
    out_.push_back({Tok::Eof, ""});
    return out_;
  }

 private:
  bool at(const char* lit) const { return s_.compare(i_, std::char_traits<char>::length(lit), lit) == 0; }
  bool at_at(size_t j, const char* lit) const {
    return s_.compare(j, std::char_traits<char>::length(lit), lit) == 0;
  }

  // Skips a {...} group starting at i_ (which must be '{'); brace-matched.
  void skip_group() {
    int depth = 0;
    for (; i_ < s_.size(); i_++) {
      if (s_[i_] == '\\' && i_ + 1 < s_.size()) { i_++; continue; }
      if (s_[i_] == '{') depth++;
      if (s_[i_] == '}' && --depth == 0) { i_++; return; }
    }
    reject("unbalanced braces");
  }

  // The length of a thousands separator at j, or 0: "," "{,}" "\," "\!" "\ ".
  size_t separator_at(size_t j) const {
    if (at_at(j, "{,}")) return 3;
    if (at_at(j, ",")) return 1;
    if (at_at(j, "\\,") || at_at(j, "\\!") || at_at(j, "\\ ")) return 2;
    return 0;
  }

  void number() {
    std::string digits;
    size_t j = i_;
    while (j < s_.size() && is_digit(s_[j])) digits += s_[j++];
    // Thousands groups: 1-3 leading digits, then groups of exactly three.
    if (!digits.empty() && digits.size() <= 3) {
      while (true) {
        size_t sep = separator_at(j);
        size_t k = j + sep;
        if (sep == 0 || k + 3 > s_.size() || !is_digit(s_[k]) || !is_digit(s_[k + 1]) ||
            !is_digit(s_[k + 2]) || (k + 3 < s_.size() && is_digit(s_[k + 3])))
          break;
        digits += s_.substr(k, 3);
        j = k + 3;
      }
    }
    if (j + 1 < s_.size() && s_[j] == '.' && is_digit(s_[j + 1])) {
      digits += '.';
      j++;
      while (j < s_.size() && is_digit(s_[j])) digits += s_[j++];
    }
    out_.push_back({Tok::Num, digits});
    i_ = j;
  }

  void command() {
    i_++;  // the backslash
    if (i_ >= s_.size()) reject("trailing backslash");
    char c = s_[i_];
    if (!is_alpha(c)) {
      i_++;
      switch (c) {
        case '\\': out_.push_back({Tok::Cmd, "\\\\"}); return;
        case '{': out_.push_back({Tok::Cmd, "{"}); return;
        case '}': out_.push_back({Tok::Cmd, "}"}); return;
        case ',': case '!': case ';': case ':': case ' ': case '%': case '$': return;
        default: reject(std::string("unsupported command \\") + c);
      }
    }
    std::string name;
    while (i_ < s_.size() && is_alpha(s_[i_])) name += s_[i_++];
    if (kSkipCommands.count(name)) {
      if ((name == "left" || name == "right") && i_ < s_.size() && s_[i_] == '.') i_++;  // \right.
      return;
    }
    if (kTextCommands.count(name)) {  // units, currency words: dropped
      while (i_ < s_.size() && s_[i_] == ' ') i_++;
      if (i_ < s_.size() && s_[i_] == '{') skip_group();
      return;
    }
    if (name == "begin" || name == "end") {
      while (i_ < s_.size() && s_[i_] == ' ') i_++;
      if (i_ >= s_.size() || s_[i_] != '{') reject("\\" + name + " without {environment}");
      size_t close = s_.find('}', i_);
      if (close == std::string::npos) reject("unbalanced braces");
      out_.push_back({name == "begin" ? Tok::Begin : Tok::End, s_.substr(i_ + 1, close - i_ - 1)});
      i_ = close + 1;
      return;
    }
    if (name == "dfrac" || name == "tfrac") name = "frac";
    if (name == "cdot" || name == "times" || name == "ast") { out_.push_back({Tok::Op, "*"}); return; }
    if (name == "div") { out_.push_back({Tok::Op, "/"}); return; }
    if (name == "lbrace") { out_.push_back({Tok::Cmd, "{"}); return; }
    if (name == "rbrace") { out_.push_back({Tok::Cmd, "}"}); return; }
    if (name == "pi" || name == "infty" || kGreek.count(name)) {
      out_.push_back({Tok::Ident, "\\" + name});
      return;
    }
    out_.push_back({Tok::Cmd, name});
  }

  void identifier() {
    std::string name(1, s_[i_++]);
    if (i_ + 1 < s_.size() && s_[i_] == '_') {  // x_1, x_{12}, a_n
      if (s_[i_ + 1] == '{') {
        size_t close = s_.find('}', i_ + 2);
        if (close == std::string::npos) reject("unbalanced braces");
        std::string sub = s_.substr(i_ + 2, close - i_ - 2);
        for (char c : sub)
          if (!is_alpha(c) && !is_digit(c)) reject("unsupported subscript");
        name += "_" + sub;
        i_ = close + 1;
      } else if (is_alpha(s_[i_ + 1]) || is_digit(s_[i_ + 1])) {
        name += "_" + std::string(1, s_[i_ + 1]);
        i_ += 2;
      }
    }
    out_.push_back({Tok::Ident, name});
  }

  void step() {
    char c = s_[i_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '~' || c == '$' || c == '%') { i_++; return; }
    if (c == '^') {  // degree signs: ^\circ, ^{\circ}
      size_t j = i_ + 1;
      while (j < s_.size() && s_[j] == ' ') j++;
      for (const char* deg : {"\\circ", "{\\circ}", "{ \\circ }", "{\\circ }", "{ \\circ}"}) {
        if (at_at(j, deg)) { i_ = j + std::char_traits<char>::length(deg); return; }
      }
    }
    if (at("\xc2\xb0")) { i_ += 2; return; }                                           // °
    if (at("\xe2\x88\x92")) { i_ += 3; out_.push_back({Tok::Op, "-"}); return; }        // −
    if (at("\xc3\x97")) { i_ += 2; out_.push_back({Tok::Op, "*"}); return; }            // ×
    if (at("\xc3\xb7")) { i_ += 2; out_.push_back({Tok::Op, "/"}); return; }            // ÷
    if (at("\xcf\x80")) { i_ += 2; out_.push_back({Tok::Ident, "\\pi"}); return; }      // π
    if (at("\xe2\x88\x9e")) { i_ += 3; out_.push_back({Tok::Ident, "\\infty"}); return; }  // ∞
    if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) { number(); return; }
    if (c == '\\') { command(); return; }
    if (is_alpha(c)) { identifier(); return; }
    if (std::string("+-*/^()[]{},=&|").find(c) != std::string::npos) {
      out_.push_back({Tok::Op, std::string(1, c)});
      i_++;
      return;
    }
    reject(std::string("unexpected character '") + c + "'");
  }

  const std::string& s_;
  size_t i_ = 0;
  std::vector<Token> out_;
};

// --- parser ----------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  ParsedAnswer answer() {
    if (peek().type == Tok::Eof) reject("empty answer");
    ParsedAnswer a;
    a.value = list_until_eof();
    if (is_op("=")) {
      next();
      if (a.value.kind != Value::Kind::Scalar || !a.value.scalar.is_single_variable(&a.var))
        reject("left side of '=' is not a variable");
      a.value = list_until_eof();
    }
    if (peek().type != Tok::Eof) reject("unexpected '" + peek().text + "'");
    return a;
  }

 private:
  const Token& peek() const { return t_[p_]; }
  Token next() { return t_[p_ < t_.size() - 1 ? p_++ : p_]; }
  bool is_op(const char* op) const { return peek().type == Tok::Op && peek().text == op; }
  bool is_cmd(const char* c) const { return peek().type == Tok::Cmd && peek().text == c; }
  void expect_op(const char* op) {
    if (!is_op(op)) reject(std::string("expected '") + op + "'");
    next();
  }

  struct Depth {  // recursion guard
    explicit Depth(int& d) : d_(d) { if (++d_ > kMaxDepth) reject("nesting too deep"); }
    ~Depth() { d_--; }
    int& d_;
  };

  static const Poly& scalar(const Value& v) {
    if (v.kind != Value::Kind::Scalar) reject("arithmetic on a non-number");
    return v.scalar;
  }
  static Value make_scalar(Poly p) {
    Value v;
    v.scalar = std::move(p);
    return v;
  }

  // A top-level answer: "1, 2, 3" (a bare list is an unordered set) or one value.
  Value list_until_eof() {
    std::vector<Value> items{union_value()};
    while (is_op(",")) {
      next();
      items.push_back(union_value());
      if (items.size() > kMaxItems) reject("too many items");
    }
    if (items.size() == 1) return items[0];
    Value set;
    set.kind = Value::Kind::Set;
    set.items = std::move(items);
    return set;
  }

  Value union_value() {
    Value first = sum();
    if (!is_cmd("cup")) return first;
    Value u;
    u.kind = Value::Kind::Union;
    u.items.push_back(first);
    while (is_cmd("cup")) {
      next();
      u.items.push_back(sum());
      if (u.items.size() > kMaxItems) reject("too many items");
    }
    return u;
  }

  Value sum() {
    Depth guard(depth_);
    Value v = term();
    while (is_op("+") || is_op("-")) {
      bool plus = next().text == "+";
      Value r = term();
      v = make_scalar(plus ? scalar(v) + scalar(r) : scalar(v) - scalar(r));
    }
    return v;
  }

  bool starts_implicit_factor() const {
    const Token& t = peek();
    if (t.type == Tok::Ident) return true;
    if (t.type == Tok::Op) return t.text == "(" || t.text == "{";
    if (t.type == Tok::Cmd) return t.text == "frac" || t.text == "sqrt";
    return false;
  }

  Value term() {
    Value v = unary();
    while (true) {
      if (is_op("*")) {
        next();
        v = make_scalar(scalar(v) * scalar(unary()));
      } else if (is_op("/")) {
        next();
        v = make_scalar(divide(scalar(v), scalar(unary())));
      } else if (starts_implicit_factor()) {
        v = make_scalar(scalar(v) * scalar(power_value()));
      } else {
        return v;
      }
    }
  }

  Value unary() {
    Depth guard(depth_);
    if (is_op("-")) {
      next();
      return make_scalar(-scalar(unary()));
    }
    if (is_op("+")) {
      next();
      return unary();
    }
    return power_value();
  }

  Value power_value() {
    Value base = primary();
    if (!is_op("^")) return base;
    next();
    Poly e = exponent();
    if (is_op("^")) reject("ambiguous repeated power");
    return make_scalar(power(scalar(base), e));
  }

  Poly exponent() {
    Depth guard(depth_);
    if (is_op("-")) {
      next();
      return -exponent();
    }
    if (is_op("+")) {
      next();
      return exponent();
    }
    return scalar(primary());
  }

  // The argument of \frac or \sqrt: a {group}, or a single digit/letter/command
  // (so the malformed \frac12 reads as \frac{1}{2}).
  Poly argument() {
    Depth guard(depth_);
    Token& t = t_[p_];
    if (t.type == Tok::Num) {
      if (t.text.size() == 1) return scalar(primary());
      std::string first(1, t.text[0]);
      t.text = t.text.substr(1);
      if (first == ".") reject("malformed number");
      if (t.text[0] == '.') reject("malformed number");
      return Poly::constant(Rational::from_decimal(first));
    }
    if (is_op("{") || t.type == Tok::Ident || t.type == Tok::Cmd) return scalar(primary());
    reject("missing argument");
  }

  Value primary() {
    Depth guard(depth_);
    Token t = next();
    switch (t.type) {
      case Tok::Num: {
        Rational n = Rational::from_decimal(t.text);
        Rational frac;
        if (n.is_integer() && mixed_fraction(&frac)) return make_scalar(Poly::constant(n + frac));
        return make_scalar(Poly::constant(n));
      }
      case Tok::Ident: return make_scalar(Poly::symbol(t.text));
      case Tok::Begin: return matrix(t.text);
      case Tok::Cmd: {
        if (t.text == "frac") {
          Poly num = argument();
          Poly den = argument();
          return make_scalar(divide(num, den));
        }
        if (t.text == "sqrt") {
          if (is_op("[")) reject("only square roots are supported");
          return make_scalar(square_root(argument()));
        }
        if (t.text == "{") return braced_set();
        if (t.text == "emptyset" || t.text == "varnothing") {
          Value v;
          v.kind = Value::Kind::Set;
          return v;
        }
        reject("unsupported command \\" + t.text);
      }
      case Tok::Op: {
        if (t.text == "{") {
          Value v = sum();
          expect_op("}");
          return v;
        }
        if (t.text == "(" || t.text == "[") return bracketed(t.text[0]);
        reject("unexpected '" + t.text + "'");
      }
      default: reject("unexpected end of answer");
    }
  }

  // A mixed number: an integer followed by \frac{integer}{integer} ("2\frac{1}{2}" is 5/2,
  // as written in answers, not 2 * 1/2). Consumes the fraction when it matches.
  bool mixed_fraction(Rational* out) {
    auto at = [&](size_t k) -> const Token& { return t_[std::min(p_ + k, t_.size() - 1)]; };
    auto is_int = [](const Token& t) { return t.type == Tok::Num && t.text.find('.') == std::string::npos; };
    auto is = [](const Token& t, Tok type, const char* text) { return t.type == type && t.text == text; };
    if (!is(at(0), Tok::Cmd, "frac") || !is(at(1), Tok::Op, "{") || !is_int(at(2)) || !is(at(3), Tok::Op, "}") ||
        !is(at(4), Tok::Op, "{") || !is_int(at(5)) || !is(at(6), Tok::Op, "}"))
      return false;
    *out = Rational::from_decimal(at(2).text) / Rational::from_decimal(at(5).text);
    p_ += 7;
    return true;
  }

  // (a), [a]: grouping. (a, b), [a, b), ...: a tuple or interval; brackets are kept.
  Value bracketed(char open) {
    std::vector<Value> items{union_value()};
    while (is_op(",")) {
      next();
      items.push_back(union_value());
      if (items.size() > kMaxItems) reject("too many items");
    }
    if (!is_op(")") && !is_op("]")) reject("unclosed bracket");
    char close = next().text[0];
    if (items.size() == 1) {
      if ((open == '(') != (close == ')')) reject("mismatched brackets");
      return items[0];
    }
    Value v;
    v.kind = Value::Kind::Tuple;
    v.items = std::move(items);
    v.open = open;
    v.close = close;
    return v;
  }

  Value braced_set() {
    Value v;
    v.kind = Value::Kind::Set;
    if (is_cmd("}")) {
      next();
      return v;
    }
    v.items.push_back(union_value());
    while (is_op(",")) {
      next();
      v.items.push_back(union_value());
      if (v.items.size() > kMaxItems) reject("too many items");
    }
    if (!is_cmd("}")) reject("unclosed \\{");
    next();
    return v;
  }

  Value matrix(const std::string& env) {
    if (env != "pmatrix" && env != "bmatrix" && env != "matrix" && env != "Bmatrix")
      reject("unsupported environment " + env);
    Value m;
    m.kind = Value::Kind::Matrix;
    int col = 0;
    while (true) {
      m.items.push_back(sum());
      if (m.items.size() > kMaxItems) reject("matrix too large");
      col++;
      if (is_op("&")) {
        next();
        continue;
      }
      if (m.rows == 0) m.cols = col;
      if (col != m.cols) reject("ragged matrix");
      m.rows++;
      col = 0;
      if (is_cmd("\\\\")) {
        next();
        if (peek().type == Tok::End) break;  // trailing \\ before \end
        continue;
      }
      break;
    }
    Token end = next();
    if (end.type != Tok::End || end.text != env) reject("unclosed matrix");
    return m;
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

ParsedAnswer parse_math_answer(const std::string& text) {
  if (text.size() > kMaxInputChars) reject("answer too long");
  std::vector<Token> toks = Lexer(text).run();
  return Parser(std::move(toks)).answer();
}

}  // namespace r1
