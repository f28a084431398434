// Exact symbolic values of final answers, and the parser from LaTeX-ish answer text to
// them. Two answers are equivalent when their canonical keys (Value::key) are equal.
//
// A scalar is a Poly: a sum of terms coeff * sqrt(rad) * x^a * y^b * ..., with a
// Rational coeff, a squarefree integer rad >= 1 and symbols with nonzero integer
// exponents (variables such as x, x_1, \alpha, and the constants \pi, \infty, kept
// symbolic). Products are expanded and like terms collected, so the representation is
// canonical: 3\sqrt{13} and \sqrt{117} both become 3*sqrt(13); (x+1)^2 and x^2+2x+1
// are the same map. Non-scalars: tuples/intervals (ordered, bracket kinds kept), sets and
// unions of intervals (unordered), matrices.
//
// Does not do: functions (\sin, \log), division by a sum (1/(1+\sqrt2)), roots other
// than square roots, complex numbers, inequalities. Those inputs throw MathLimit and the
// verifier falls back to comparing normalized strings. All work is bounded (see
// bigint.h and the limits in math_value.cpp).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "reward/bigint.h"

namespace r1 {

struct Monomial {
  BigInt rad = BigInt(1);            // the term carries sqrt(rad); rad squarefree, >= 1
  std::map<std::string, int> vars;   // symbol -> exponent, never 0
  bool operator<(const Monomial& o) const {
    if (vars != o.vars) return vars < o.vars;
    return rad < o.rad;
  }
};

// A canonical sum of terms; no zero coefficients are stored (zero is the empty map).
struct Poly {
  std::map<Monomial, Rational> terms;

  static Poly constant(const Rational& c);
  static Poly symbol(const std::string& name);
  bool is_zero() const { return terms.empty(); }
  bool is_rational() const;            // zero, or a single term without sqrt or symbols
  Rational rational() const;           // requires is_rational()
  bool is_single_variable(std::string* name) const;  // exactly "x" (coefficient 1)
  bool numeric(double* out) const;     // value if the only symbol is \pi
  std::string key() const;
};

Poly operator+(const Poly& a, const Poly& b);
Poly operator-(const Poly& a);
Poly operator-(const Poly& a, const Poly& b);
Poly operator*(const Poly& a, const Poly& b);
Poly divide(const Poly& a, const Poly& b);   // b must be a single nonzero term
Poly power(const Poly& base, const Poly& exponent);  // integer (or half-integer of a rational) exponent
Poly square_root(const Poly& a);             // a must be a nonnegative rational

struct Value {
  enum class Kind { Scalar, Tuple, Set, Union, Matrix };
  Kind kind = Kind::Scalar;
  Poly scalar;                // Kind::Scalar
  std::vector<Value> items;   // Tuple/Set/Union elements; Matrix cells, row-major
  char open = 0, close = 0;   // Tuple brackets: '(' or '[', ')' or ']'
  int rows = 0, cols = 0;     // Matrix
  std::string key() const;    // canonical: equal keys <=> equivalent values
};

// An answer, optionally written as "x = <value>" (var is then "x").
struct ParsedAnswer {
  std::string var;
  Value value;
};

// Parses one final answer. Throws MathLimit (with a short reason) when the text is not
// a supported math expression or exceeds a bound.
ParsedAnswer parse_math_answer(const std::string& text);

}  // namespace r1
