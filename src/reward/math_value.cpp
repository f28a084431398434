// Symbolic values (Poly, Value) and the answer parser: a lexer that drops what carries
// no value (spacing, \left/\right, units in \text{} or as words, $, degree signs; it notes
// a % or "percent"), a recursive descent parser over + - * / : ^, \pm, implicit products,
// \frac, \sqrt, brackets, sets and matrices, and on top of it the lists and relations of an
// answer (items split at top-level commas, sides at relation signs). See math_value.h for
// the model and docs/rewards.md for the rules.
#include "reward/math_value.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
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
// An opaque factor: a value the Poly model cannot expand (sqrt of a sum, 1/(x+1), 2^x),
// kept as a symbol named by its canonical spelling. Equal names are equal values, so
// comparisons stay exact; only equalities that need rewriting inside it are missed.
static Poly opaque(const std::string& name) {
  if (name.size() > 2000) reject("expression too large");
  return Poly::symbol(name);
}

Poly divide(const Poly& a, const Poly& b) {
  if (b.terms.empty()) reject("division by zero");
  if (b.terms.size() == 2) {
    // 1 / (p + q) with p, q numbers (rationals times square roots): times (p - q) / (p - q),
    // whose denominator p^2 - q^2 is rational.
    auto first = b.terms.begin(), second = std::next(first);
    if (first->first.vars.empty() && second->first.vars.empty()) {
      Poly p, q;
      p.terms.insert(*first);
      q.terms.insert(*second);
      Poly den = b * (p - q);
      if (den.terms.size() == 1) return divide(a * (p - q), den);
    }
  }
  if (b.terms.size() != 1) return a * opaque("1/(" + b.key() + ")");
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
  if (!a.is_rational()) return opaque("sqrt(" + a.key() + ")");
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
  if (!exponent.is_rational()) {
    if (base.is_zero()) reject("0 to a symbolic power");
    return opaque("(" + base.key() + ")^(" + exponent.key() + ")");
  }
  Rational e = exponent.rational();
  if (!e.is_integer()) {
    if (e.den() != BigInt(2) || !base.is_rational()) return opaque("(" + base.key() + ")^(" + exponent.key() + ")");
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
    case Kind::Union:
    case Kind::Intersection: {
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      return (kind == Kind::Set ? "set{" : kind == Kind::Union ? "union{" : "intersection{") + join(keys) + "}";
    }
    case Kind::Matrix:
      return "matrix" + std::to_string(rows) + "x" + std::to_string(cols) + "[" + join(keys) + "]";
  }
  return "";
}

// --- lexer -----------------------------------------------------------------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }

namespace {

enum class Tok { Num, Ident, Op, Cmd, Begin, End, Eof };

struct Token {
  Tok type;
  std::string text;  // Num: digits with an optional '.', separators removed; Op: one char
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

const std::set<std::string> kSkipCommands = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
    "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "quad", "qquad", "degree", "circ",
    "mathrm", "mathbf", "mathit", "boldsymbol", "mathsf", "rm", "bf"};
const std::set<std::string> kTextCommands = {"text", "mbox", "textrm", "textnormal", "textit",
                                             "textbf", "hbox", "textup", "textsf"};
// Words that carry no value after a number (multi-letter only: single letters are variables).
const std::set<std::string> kUnitWords = {
    "cm", "mm", "km", "inches", "inch", "feet", "foot", "ft", "miles", "mile", "meters", "meter",
    "metres", "metre", "kg", "grams", "gram", "hours", "hour", "hrs", "minutes", "minute", "mins",
    "seconds", "days", "weeks", "years", "degrees", "degree", "dollars", "dollar", "cents", "cent",
    "units", "unit", "sq", "square", "mph", "liters", "litres", "ml", "pounds", "lbs", "ounces", "oz"};
const std::set<std::string> kPercentWords = {"percent", "percentage", "pct"};
// Commands also recognised when written with a doubled backslash (answers copied from
// escaped strings: "\\frac{1}{2}", "x \\le 7"); a real line break "\\" is followed by
// a space, a digit or '&' in the matrices where it occurs.
const std::set<std::string> kDoubledCommands = {
    "left", "right", "frac", "dfrac", "tfrac", "cfrac", "sqrt", "le", "leq", "ge", "geq", "lt", "gt",
    "ne", "neq", "in", "cup", "pi", "infty", "text", "mbox", "pm", "cdot", "times", "boxed"};
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
  bool percent() const { return percent_; }  // a % sign or the word percent/pct was seen

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

  // The length of a thousands separator at j, or 0: "," or " " alone, or LaTeX's spellings
  // "{,}" "{, }" ",\!" "\," "\!" "\ ", which may have spaces around them ("14 {, }916",
  // "11,\! 111"); a plain "," must touch both digit groups ("32, 349" is a list).
  size_t separator_at(size_t j) const {
    size_t k = j;
    while (k < s_.size() && s_[k] == ' ') k++;
    size_t latex = 0;
    for (const char* sep : {"{,}", "{, }", ",\\!", "\\,", "\\!", "\\ "}) {
      if (at_at(k, sep)) {
        latex = std::char_traits<char>::length(sep);
        break;
      }
    }
    // Plain "," and " " only outside brackets: "(12,102)" is an interval, "1 000" a number.
    if (latex == 0) return depth_ == 0 && (at_at(j, ",") || at_at(j, " ")) ? 1 : 0;
    k += latex;
    while (k < s_.size() && s_[k] == ' ') k++;
    return k - j;
  }

  void number() {
    std::string digits;
    size_t j = i_;
    while (j < s_.size() && is_digit(s_[j])) digits += s_[j++];
    // Thousands groups: 1-3 leading digits (not a leading 0), then groups of exactly three.
    if (!digits.empty() && digits.size() <= 3 && digits[0] != '0') {
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
    // Scientific notation 1.5e-3, 2E5: read as (1.5 * 10^{-3}) when no letter follows.
    if (j + 1 < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      bool negative = s_[k] == '-';
      if (s_[k] == '-' || s_[k] == '+') k++;
      size_t first = k;
      while (k < s_.size() && is_digit(s_[k])) k++;
      if (k > first && (k == s_.size() || !is_alpha(s_[k]))) {
        for (Token t : std::vector<Token>{{Tok::Op, "("}, {Tok::Num, digits}, {Tok::Op, "*"}, {Tok::Num, "10"},
                                          {Tok::Op, "^"}, {Tok::Op, "{"}})
          out_.push_back(t);
        if (negative) out_.push_back({Tok::Op, "-"});
        out_.push_back({Tok::Num, s_.substr(first, k - first)});
        out_.push_back({Tok::Op, "}"});
        out_.push_back({Tok::Op, ")"});
        i_ = k;
        return;
      }
    }
    out_.push_back({Tok::Num, digits});
    i_ = j;
  }

  // Skips a "^2", "^3", "^{2}" or "^{3}" right after a unit ("cm^2").
  void skip_unit_power() {
    for (const char* p : {"^2", "^3", "^{2}", "^{3}"}) {
      if (at(p)) {
        i_ += std::char_traits<char>::length(p);
        return;
      }
    }
  }

  void command() {
    i_++;  // the backslash
    if (i_ >= s_.size()) reject("trailing backslash");
    char c = s_[i_];
    if (c == '\\') {  // "\\name" for a known command: an escaped "\name"
      size_t j = i_ + 1;
      while (j < s_.size() && is_alpha(s_[j])) j++;
      if (kDoubledCommands.count(s_.substr(i_ + 1, j - i_ - 1))) c = s_[++i_];
    }
    if (!is_alpha(c)) {
      i_++;
      switch (c) {
        case '\\': out_.push_back({Tok::Cmd, "\\\\"}); return;
        case '{': depth_++; out_.push_back({Tok::Cmd, "{"}); return;
        case '}': depth_--; out_.push_back({Tok::Cmd, "}"}); return;
        case '%': percent_ = true; return;
        case ',': case '!': case ';': case ':': case ' ': case '$': return;
        default: reject(std::string("unsupported command \\") + c);
      }
    }
    std::string name;
    while (i_ < s_.size() && is_alpha(s_[i_])) name += s_[i_++];
    for (const char* space : {"qquad", "quad"}) {  // "\quadx_2": spacing run into a name
      size_t n = std::char_traits<char>::length(space);
      if (name.size() > n && name.compare(0, n, space) == 0) {
        i_ -= name.size() - n;
        return;
      }
    }
    if (kSkipCommands.count(name)) {
      if ((name == "left" || name == "right") && i_ < s_.size() && s_[i_] == '.') i_++;  // \right.
      return;
    }
    if (kTextCommands.count(name)) {  // units, currency words: dropped; "and"/"or" separate items
      while (i_ < s_.size() && s_[i_] == ' ') i_++;
      if (i_ < s_.size() && s_[i_] == '{') {
        size_t open = i_;
        skip_group();
        std::string word = s_.substr(open + 1, i_ - open - 2);
        word.erase(0, word.find_first_not_of(' '));
        word.erase(word.find_last_not_of(' ') + 1);
        if (word == "and" || word == "or" || word == ",") out_.push_back({Tok::Op, ","});
        else if (kPercentWords.count(word) || word == "\\%") percent_ = true;
        skip_unit_power();
      }
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
    if (name == "dfrac" || name == "tfrac" || name == "cfrac") name = "frac";
    static const std::map<std::string, std::string> relations = {
        {"le", "<="}, {"leq", "<="}, {"leqslant", "<="}, {"ge", ">="}, {"geq", ">="}, {"geqslant", ">="},
        {"lt", "<"}, {"gt", ">"}, {"ne", "!="}, {"neq", "!="}, {"approx", "~"}, {"in", "in"}, {"pm", "pm"}};
    auto rel = relations.find(name);
    if (rel != relations.end()) { out_.push_back({Tok::Op, rel->second}); return; }
    if (name == "cdot" || name == "times" || name == "ast") { out_.push_back({Tok::Op, "*"}); return; }
    if (name == "div") { out_.push_back({Tok::Op, "/"}); return; }
    if (name == "lbrace") { depth_++; out_.push_back({Tok::Cmd, "{"}); return; }
    if (name == "rbrace") { depth_--; out_.push_back({Tok::Cmd, "}"}); return; }
    if (name == "pi" || name == "infty" || kGreek.count(name)) {
      out_.push_back({Tok::Ident, "\\" + name});
      return;
    }
    out_.push_back({Tok::Cmd, name});
  }

  void identifier() {
    // A whole word at a word start: list words, percent words and units carry no value.
    if (i_ == 0 || !is_alpha(s_[i_ - 1])) {
      size_t j = i_;
      while (j < s_.size() && is_alpha(s_[j])) j++;
      std::string word = s_.substr(i_, j - i_);
      if (word == "and" || word == "or") {
        out_.push_back({Tok::Op, ","});
        i_ = j;
        return;
      }
      if (kPercentWords.count(word) || kUnitWords.count(word)) {
        percent_ = percent_ || kPercentWords.count(word) > 0;
        i_ = j;
        skip_unit_power();
        return;
      }
    }
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

  // True where a sign may stand: at the start, after an opening bracket, a separator, a
  // relation or an operator ("(–1, –2)", "x = –3", "2 \\cdot –3"); false after a value.
  bool unary_position() const {
    if (out_.empty()) return true;
    const Token& t = out_.back();
    if (t.type == Tok::Begin) return true;
    if (t.type == Tok::Cmd) return t.text == "{" || t.text == "\\\\";
    return t.type == Tok::Op && t.text != ")" && t.text != "]" && t.text != "}";
  }

  void step() {
    char c = s_[i_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '~' || c == '$') { i_++; return; }
    if (c == '%') { percent_ = true; i_++; return; }
    if (c == '<' || c == '>' || c == '!') {  // < <= > >= !=
      bool eq = i_ + 1 < s_.size() && s_[i_ + 1] == '=';
      if (c == '!' && !eq) reject("unsupported '!'");
      out_.push_back({Tok::Op, std::string(1, c) + (eq ? "=" : "")});
      i_ += eq ? 2 : 1;
      return;
    }
    if (c == ';') { out_.push_back({Tok::Op, ";"}); i_++; return; }  // a list separator like a comma
    if (c == '^') {  // degree signs: ^\circ, ^{\circ}
      size_t j = i_ + 1;
      while (j < s_.size() && s_[j] == ' ') j++;
      for (const char* deg : {"\\circ", "{\\circ}", "{ \\circ }", "{\\circ }", "{ \\circ}"}) {
        if (at_at(j, deg)) { i_ = j + std::char_traits<char>::length(deg); return; }
      }
    }
    if (at("\xc2\xb0")) { i_ += 2; return; }                                           // °
    if (at("\xe2\x88\x92")) { i_ += 3; out_.push_back({Tok::Op, "-"}); return; }        // −
    if (at("\xe2\x80\x93")) {  // – (en dash): a minus sign only where no value precedes it
      if (!unary_position()) reject("an en dash after a value (a range such as 1\xe2\x80\x93" "3)");
      i_ += 3;
      out_.push_back({Tok::Op, "-"});
      return;
    }
    if (at("\xc3\x97")) { i_ += 2; out_.push_back({Tok::Op, "*"}); return; }            // ×
    if (at("\xc3\xb7")) { i_ += 2; out_.push_back({Tok::Op, "/"}); return; }            // ÷
    if (at("\xcf\x80")) { i_ += 2; out_.push_back({Tok::Ident, "\\pi"}); return; }      // π
    if (at("\xe2\x88\x9e")) { i_ += 3; out_.push_back({Tok::Ident, "\\infty"}); return; }  // ∞
    if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) { number(); return; }
    if (c == '\\') { command(); return; }
    if (is_alpha(c)) { identifier(); return; }
    if (std::string("+-*/^()[]{},=&|:").find(c) != std::string::npos) {
      if (c == '(' || c == '[' || c == '{') depth_++;
      if (c == ')' || c == ']' || c == '}') depth_--;
      out_.push_back({Tok::Op, std::string(1, c)});
      i_++;
      return;
    }
    reject(std::string("unexpected character '") + c + "'");
  }

  const std::string& s_;
  size_t i_ = 0;
  std::vector<Token> out_;
  bool percent_ = false;
  int depth_ = 0;  // brackets open at i_
};

// --- parser ----------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  // One side of a relation, or one list item: the whole token list must be one value.
  Value whole() {
    if (peek().type == Tok::Eof) reject("empty answer");
    Value v = union_value();
    if (peek().type != Tok::Eof) reject("unexpected '" + peek().text + "'");
    return v;
  }

 private:
  const Token& peek() const { return t_[p_]; }
  Token next() { return t_[p_ < t_.size() - 1 ? p_++ : p_]; }
  bool is_op(const char* op) const { return peek().type == Tok::Op && peek().text == op; }
  bool is_cmd(const char* c) const { return peek().type == Tok::Cmd && peek().text == c; }
  bool is_comma() const { return is_op(",") || is_op(";"); }  // (0;0;1) is (0,0,1)
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

  // A \cup B over A \cap B (\cap binds tighter): finite sets are combined into one set
  // ({1,2} \cup {2,3} = {1,2,3}, {1,2} \cap {2,3} = {2}); other operands (intervals) stay
  // an unordered union or intersection of them.
  Value union_value() { return set_operation("cup", &Parser::intersection_value, Value::Kind::Union); }
  Value intersection_value() { return set_operation("cap", &Parser::sum, Value::Kind::Intersection); }

  Value set_operation(const char* op, Value (Parser::*operand)(), Value::Kind kind) {
    Value first = (this->*operand)();
    if (!is_cmd(op)) return first;
    std::vector<Value> items{first};
    while (is_cmd(op)) {
      next();
      items.push_back((this->*operand)());
      if (items.size() > kMaxItems) reject("too many items");
    }
    bool finite = std::all_of(items.begin(), items.end(), [](const Value& v) { return v.kind == Value::Kind::Set; });
    Value r;
    r.kind = finite ? Value::Kind::Set : kind;
    if (!finite) {
      r.items = std::move(items);
    } else if (kind == Value::Kind::Union) {
      for (const Value& v : items) r.items.insert(r.items.end(), v.items.begin(), v.items.end());
      if (r.items.size() > kMaxItems) reject("too many items");
    } else {
      for (const Value& e : items[0].items) {
        bool everywhere = true;
        for (size_t k = 1; k < items.size() && everywhere; k++)
          everywhere = std::any_of(items[k].items.begin(), items[k].items.end(),
                                   [&](const Value& x) { return x.key() == e.key(); });
        if (everywhere) r.items.push_back(e);
      }
    }
    return r;
  }

  // a \pm b: the set {a + b, a - b}, spliced into an enclosing list.
  static Value plus_minus(const Poly& a, const Poly& b) {
    Value v;
    v.kind = Value::Kind::Set;
    v.plus_minus = true;
    v.items = {make_scalar(a + b), make_scalar(a - b)};
    return v;
  }

  Value sum() {
    Depth guard(depth_);
    Value v = term();
    while (is_op("+") || is_op("-") || is_op("pm")) {
      std::string op = next().text;
      Value r = term();
      if (op == "pm") {
        if (is_op("+") || is_op("-") || is_op("pm")) reject("\\pm inside a longer sum");
        return plus_minus(scalar(v), scalar(r));
      }
      v = combine(v, r, op[0]);
    }
    return v;
  }

  // a op b for scalars, and for matrices: + - of equal shapes, products with a scalar,
  // matrix products of matching shapes.
  static Value combine(const Value& a, const Value& b, char op) {
    using K = Value::Kind;
    if (a.kind == K::Scalar && b.kind == K::Scalar) {
      switch (op) {
        case '+': return make_scalar(a.scalar + b.scalar);
        case '-': return make_scalar(a.scalar - b.scalar);
        case '*': return make_scalar(a.scalar * b.scalar);
        default: return make_scalar(divide(a.scalar, b.scalar));
      }
    }
    if (a.kind == K::Matrix && b.kind == K::Matrix && (op == '+' || op == '-')) {
      if (a.rows != b.rows || a.cols != b.cols) reject("matrix shapes differ");
      Value m = a;
      for (size_t i = 0; i < m.items.size(); i++) m.items[i] = combine(a.items[i], b.items[i], op);
      return m;
    }
    if (op == '*' && a.kind == K::Matrix && b.kind == K::Matrix) {
      if (a.cols != b.rows) reject("matrix shapes do not multiply");
      Value m;
      m.kind = K::Matrix;
      m.rows = a.rows;
      m.cols = b.cols;
      for (int i = 0; i < a.rows; i++) {
        for (int j = 0; j < b.cols; j++) {
          Poly cell;
          for (int k = 0; k < a.cols; k++) cell = cell + scalar(a.items[i * a.cols + k]) * scalar(b.items[k * b.cols + j]);
          m.items.push_back(make_scalar(cell));
        }
      }
      return m;
    }
    if ((op == '*' || op == '/') && a.kind == K::Matrix && b.kind == K::Scalar) {
      Value m = a;
      for (Value& c : m.items) c = combine(c, b, op);
      return m;
    }
    if (op == '*' && a.kind == K::Scalar && b.kind == K::Matrix) return combine(b, a, op);
    reject("arithmetic on a non-number");
  }

  bool starts_implicit_factor() const {
    const Token& t = peek();
    if (t.type == Tok::Ident || t.type == Tok::Begin) return true;
    if (t.type == Tok::Op) return t.text == "(" || t.text == "{";
    if (t.type == Tok::Cmd) return t.text == "frac" || t.text == "sqrt";
    return false;
  }

  Value term() {
    Value v = unary();
    while (true) {
      if (is_op("*")) {
        next();
        v = combine(v, unary(), '*');
      } else if (is_op("/") || is_op(":")) {  // a ratio 7:32 is 7/32
        next();
        v = combine(v, unary(), '/');
      } else if (starts_implicit_factor()) {
        v = combine(v, power_value(), '*');
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
    if (is_op("pm")) {  // \pm a: {a, -a}
      next();
      return plus_minus(Poly(), scalar(unary()));
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
        if (t.text == "{") {  // a group {x+1}, or a set written with plain braces {1, 2}
          std::vector<Value> items;
          add_item(items, union_value());
          while (is_comma()) {
            next();
            add_item(items, union_value());
          }
          expect_op("}");
          if (items.size() == 1 && !items[0].plus_minus) return items[0];
          Value set;
          set.kind = Value::Kind::Set;
          set.items = std::move(items);
          return set;
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
    while (is_comma()) {
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

  // Appends a list item; the two values of an a \pm b item are spliced in.
  static void add_item(std::vector<Value>& items, const Value& v) {
    if (v.plus_minus) items.insert(items.end(), v.items.begin(), v.items.end());
    else items.push_back(v);
    if (items.size() > kMaxItems) reject("too many items");
  }

  Value braced_set() {
    Value v;
    v.kind = Value::Kind::Set;
    if (is_cmd("}")) {
      next();
      return v;
    }
    add_item(v.items, union_value());
    while (is_comma()) {
      next();
      add_item(v.items, union_value());
    }
    if (!is_cmd("}")) reject("unclosed \\{");
    next();
    return v;
  }

  Value matrix(const std::string& env) {
    if (env != "pmatrix" && env != "bmatrix" && env != "matrix" && env != "Bmatrix" && env != "array")
      reject("unsupported environment " + env);
    if (env == "array" && is_op("{")) {  // the column spec {cc}, {c|c}
      while (peek().type != Tok::Eof && !is_op("}")) next();
      expect_op("}");
    }
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

// --- relations and lists ------------------------------------------------------------------

using Tokens = std::vector<Token>;

bool opens(const Token& t) {
  return (t.type == Tok::Op && (t.text == "(" || t.text == "[" || t.text == "{")) ||
         (t.type == Tok::Cmd && t.text == "{") || t.type == Tok::Begin;
}
bool closes(const Token& t) {
  return (t.type == Tok::Op && (t.text == ")" || t.text == "]" || t.text == "}")) ||
         (t.type == Tok::Cmd && t.text == "}") || t.type == Tok::End;
}
bool is_relation_op(const Token& t) {
  static const std::set<std::string> ops = {"=", "<", "<=", ">", ">=", "!=", "~", "in"};
  return t.type == Tok::Op && ops.count(t.text);
}

// Splits tokens at the top-level tokens for which `at` is true (outside any bracket).
template <typename Pred>
std::vector<Tokens> split_top(const Tokens& toks, Pred at, std::vector<std::string>* separators = nullptr) {
  std::vector<Tokens> parts(1);
  int depth = 0;
  for (const Token& t : toks) {
    if (opens(t)) depth++;
    if (closes(t)) depth--;
    if (depth == 0 && at(t)) {
      if (separators) separators->push_back(t.text);
      parts.emplace_back();
      continue;
    }
    parts.back().push_back(t);
  }
  return parts;
}

Value parse_value(Tokens toks) {
  toks.push_back({Tok::Eof, ""});
  return Parser(std::move(toks)).whole();
}

// A name: what answers write left of "=" ("x", "f(x)", "(p,q)", "|AB|", "\\frac{NO}{BO}",
// "A:B"): letters and brackets only, no number and no + or -.
bool is_name(const Tokens& toks) {
  bool letter = false;
  for (const Token& t : toks) {
    if (t.type == Tok::Num || t.type == Tok::Begin) return false;
    if (t.type == Tok::Op && (t.text == "+" || t.text == "-" || t.text == "pm")) return false;
    if (t.type == Tok::Ident) letter = letter || (t.text != "\\pi" && t.text != "\\infty");
  }
  return letter;
}

std::string name_text(const Tokens& toks) {
  std::string s;
  for (const Token& t : toks) s += t.type == Tok::Cmd && std::isalpha(static_cast<unsigned char>(t.text[0])) ? "\\" + t.text : t.text;
  return s;
}

Value infinity(int sign) {
  Value v;
  v.scalar = sign > 0 ? Poly::symbol("\\infty") : -Poly::symbol("\\infty");
  return v;
}

Value interval(Value lo, bool lo_closed, Value hi, bool hi_closed) {
  Value v;
  v.kind = Value::Kind::Tuple;
  v.items = {std::move(lo), std::move(hi)};
  v.open = lo_closed ? '[' : '(';
  v.close = hi_closed ? ']' : ')';
  return v;
}

// True when a value holds numbers only (\\pi counts as one): a scalar, or a tuple, set or
// matrix of them.
bool numeric_value(const Value& v) {
  double unused;
  if (v.kind == Value::Kind::Scalar) return v.scalar.numeric(&unused);
  return std::all_of(v.items.begin(), v.items.end(), numeric_value);
}

// True when the numeric sides after the name of "name = a = b = ..." are all equal (sides
// with symbols, "x = 2y = 6", are not checked: the text may define y).
bool named_chain_holds(const std::vector<Tokens>& sides) {
  std::string first;
  for (size_t i = 1; i < sides.size() && sides.size() > 2; i++) {
    Value v;
    try {
      v = parse_value(sides[i]);
    } catch (const MathLimit&) {
      continue;  // not math the parser reads: not checked
    }
    if (!numeric_value(v)) continue;
    if (first.empty()) first = v.key();
    else if (v.key() != first) return false;
  }
  return true;
}

// One list item: a value, or a relation chain side op side op side ...
ParsedAnswer parse_item(const Tokens& toks) {
  std::vector<std::string> ops;
  std::vector<Tokens> sides = split_top(toks, is_relation_op, &ops);
  ParsedAnswer a;
  if (ops.empty()) {
    a.value = parse_value(sides[0]);
    return a;
  }
  for (const Tokens& side : sides)
    if (side.empty()) reject("a relation with an empty side");
  // "x = 1/3 \\approx 0.33": the approximation after an equality is dropped; alone,
  // "x \\approx 11" reads as "x = 11".
  auto approx = std::find(ops.begin(), ops.end(), "~");
  if (approx != ops.end()) {
    if (std::find(ops.begin(), approx, "=") != approx) {
      sides.resize(size_t(approx - ops.begin()) + 1);
      ops.erase(approx, ops.end());
    } else {
      for (std::string& op : ops)
        if (op == "~") op = "=";
    }
  }
  bool all_eq = std::all_of(ops.begin(), ops.end(), [](const std::string& o) { return o == "="; });
  bool is_in = ops.size() == 1 && ops[0] == "in";
  bool inequality = std::all_of(ops.begin(), ops.end(), [](const std::string& o) {
    return o == "<" || o == "<=" || o == ">" || o == ">=";
  });

  // x = 5, x = 2 + 3 = 5, x \\in [1, 2]. A chain's sides that are numbers must be equal for
  // its last side to be the value: "x = 1 = 2" is a (false) relation, not 2.
  if ((all_eq || is_in) && is_name(sides[0]) && named_chain_holds(sides)) {
    a.var = name_text(sides[0]);
    a.value = parse_value(sides.back());
    if (all_eq && a.value.kind == Value::Kind::Scalar) {
      try {
        Value lhs = parse_value(sides[0]);
        if (lhs.kind == Value::Kind::Scalar) a.relations.push_back({lhs.scalar - a.value.scalar, "="});
      } catch (const MathLimit&) {
        // a name that is not a polynomial (f(x), |AB|): no relation form
      }
    }
    return a;
  }
  if (is_in) reject("\\in after something that is not a name");

  std::vector<Value> values;
  for (const Tokens& side : sides) values.push_back(parse_value(side));
  auto scalar_of = [](const Value& v) -> const Poly& {
    if (v.kind != Value::Kind::Scalar) reject("a relation between non-numbers");
    return v.scalar;
  };
  if (all_eq) {
    // Only numbers ("2 + 3 = 5"): a calculation whose value is its last side, when true.
    bool constant = true, holds = true;
    for (const Value& v : values) {
      double d;
      constant = constant && v.kind == Value::Kind::Scalar && v.scalar.numeric(&d);
      holds = holds && v.key() == values[0].key();
    }
    if (constant && holds) {
      a.value = values.back();
      return a;
    }
  }
  if (!all_eq && !inequality && !(ops.size() == 1 && ops[0] == "!=")) reject("mixed relation signs");
  a.relational = true;
  a.has_value = false;
  for (size_t i = 0; i < ops.size(); i++) {
    const Poly& l = scalar_of(values[i]);
    const Poly& r = scalar_of(values[i + 1]);
    const std::string& op = ops[i];
    if (op == ">" || op == ">=") a.relations.push_back({r - l, op == ">" ? "<" : "<="});
    else a.relations.push_back({l - r, op});
  }
  if (!inequality) return a;
  // The interval a name lies in: x < 3 is (-\\infty, 3); 1 < x <= 2 is (1, 2].
  auto less = [](const std::string& o) { return o == "<" || o == "<="; };
  if (ops.size() == 1) {
    bool name_left = is_name(sides[0]), name_right = is_name(sides[1]);
    if (name_left == name_right) return a;
    const Value& bound = name_left ? values[1] : values[0];
    bool up = less(ops[0]) == name_left;  // the name is below the bound
    bool closed = ops[0].size() == 2;
    a.var = name_text(name_left ? sides[0] : sides[1]);
    a.value = up ? interval(infinity(-1), false, bound, closed) : interval(bound, closed, infinity(1), false);
    a.has_value = true;
  } else if (ops.size() == 2 && is_name(sides[1]) && less(ops[0]) == less(ops[1])) {
    bool asc = less(ops[0]);
    a.var = name_text(sides[1]);
    const Value& lo = asc ? values[0] : values[2];
    const Value& hi = asc ? values[2] : values[0];
    a.value = interval(lo, (asc ? ops[0] : ops[1]).size() == 2, hi, (asc ? ops[1] : ops[0]).size() == 2);
    a.has_value = true;
  }
  return a;
}

}  // namespace

bool is_answer_word(const std::string& word) {
  return kUnitWords.count(word) || kPercentWords.count(word) || word == "and" || word == "or";
}

ParsedAnswer parse_math_answer(const std::string& text) {
  if (text.size() > kMaxInputChars) reject("answer too long");
  Lexer lexer(text);
  Tokens toks = lexer.run();
  toks.pop_back();  // Eof
  if (toks.empty()) reject("empty answer");
  // "p=5, q=2; p=7, q=2": groups of the same names, one solution per group, are the set of
  // the tuples (5, 2), (7, 2) named (p,q). Otherwise ';' separates items like ','.
  std::vector<Tokens> groups = split_top(toks, [](const Token& t) { return t.type == Tok::Op && t.text == ";"; });
  std::vector<std::vector<ParsedAnswer>> grouped;
  std::vector<ParsedAnswer> items;
  for (const Tokens& group : groups) {
    grouped.emplace_back();
    for (const Tokens& part : split_top(group, [](const Token& t) { return t.type == Tok::Op && t.text == ","; })) {
      grouped.back().push_back(parse_item(part));
      items.push_back(grouped.back().back());
      if (items.size() > kMaxItems) reject("too many items");
    }
  }
  auto names_of = [](const std::vector<ParsedAnswer>& g) {
    std::vector<std::string> names;
    for (const ParsedAnswer& item : g) names.push_back(item.relational ? "" : item.var);
    return names;
  };
  std::vector<std::string> first_names = names_of(grouped[0]);
  bool solutions = grouped.size() > 1 && first_names.size() > 1 &&
                   std::set<std::string>(first_names.begin(), first_names.end()).size() == first_names.size() &&
                   std::find(first_names.begin(), first_names.end(), "") == first_names.end() &&
                   std::all_of(grouped.begin(), grouped.end(),
                               [&](const std::vector<ParsedAnswer>& g) { return names_of(g) == first_names; });
  ParsedAnswer a;
  if (solutions) {
    a.value.kind = Value::Kind::Set;
    a.var = "(";
    for (size_t k = 0; k < first_names.size(); k++) a.var += (k ? "," : "") + first_names[k];
    a.var += ")";
    for (const std::vector<ParsedAnswer>& g : grouped) {
      Value tuple;
      tuple.kind = Value::Kind::Tuple;
      tuple.open = '(';
      tuple.close = ')';
      for (const ParsedAnswer& item : g) tuple.items.push_back(item.value);
      a.value.items.push_back(tuple);
    }
  } else if (items.size() == 1) {
    a = items[0];
    if (a.value.plus_minus) a.value.plus_minus = false;  // 1 \pm \sqrt{2}: the set of both
  } else {
    // A list: the set of its items' values. One name for all ("x = 1, 2" or "x = 1, x = 2")
    // names the set; different names ("a = 1, b = 2") are kept in named_key.
    a.value.kind = Value::Kind::Set;
    std::set<std::string> names;
    std::vector<std::string> named;
    bool all_named = true;
    for (const ParsedAnswer& item : items) {
      if (item.relational || !item.has_value) reject("a relation inside a list");
      if (item.value.plus_minus) a.value.items.insert(a.value.items.end(), item.value.items.begin(), item.value.items.end());
      else a.value.items.push_back(item.value);
      if (!item.var.empty()) names.insert(item.var);
      all_named = all_named && !item.var.empty();
      named.push_back(item.var + "=" + item.value.key());
    }
    if (names.size() == 1 && !items[0].var.empty()) a.var = *names.begin();
    if (names.size() > 1 && all_named) {
      std::sort(named.begin(), named.end());
      named.erase(std::unique(named.begin(), named.end()), named.end());
      for (const std::string& n : named) a.named_key += n + "; ";
    }
  }
  a.percent = lexer.percent();
  return a;
}

}  // namespace r1
