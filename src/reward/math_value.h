// Exact symbolic values of final answers, and the parser from LaTeX-ish answer text to
// them. Two answers are equivalent when their canonical keys (Value::key) are equal.
//
// A scalar is a Poly: a sum of terms coeff * sqrt(rad) * x^a * y^b * ..., with a
// Rational coeff, a squarefree integer rad >= 1 and symbols with nonzero integer
// exponents (variables such as x, x_1, \alpha, and the constants \pi, \infty, kept
// symbolic). Products are expanded and like terms collected, so the representation is
// canonical: 3\sqrt{13} and \sqrt{117} both become 3*sqrt(13); (x+1)^2 and x^2+2x+1
// are the same map. Non-scalars: tuples/intervals (ordered, bracket kinds kept), sets and
// unions/intersections of intervals (unordered), matrices.
//
// What the model cannot expand (the square root of a sum, 1/(x+1), 2^x) is an opaque
// factor named by its canonical spelling: equal names are equal values, so comparison
// stays exact, and equalities that need rewriting inside it are missed. Division by
// p + q (numbers with square roots) is rationalized: 1/(1+\sqrt2) is \sqrt2 - 1.
// Relations (equations, inequalities, chains) are parsed into ParsedAnswer below.
// Does not do: functions (\sin, \log), roots other than square roots, complex numbers,
// solving. Those inputs throw MathLimit and the
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
  bool numeric(double* out) const;     // value if the only symbol is \pi
  std::string key() const;
};

Poly operator+(const Poly& a, const Poly& b);
Poly operator-(const Poly& a);
Poly operator-(const Poly& a, const Poly& b);
Poly operator*(const Poly& a, const Poly& b);
Poly divide(const Poly& a, const Poly& b);   // b nonzero; p + q numbers: rationalized
Poly power(const Poly& base, const Poly& exponent);  // integer (or half-integer of a rational) exponent
Poly square_root(const Poly& a);             // a nonnegative rational; else an opaque factor

struct Value {
  enum class Kind { Scalar, Tuple, Set, Union, Intersection, Matrix };
  Kind kind = Kind::Scalar;
  Poly scalar;                // Kind::Scalar
  std::vector<Value> items;   // Tuple/Set/Union/Intersection elements; Matrix cells, row-major
  bool plus_minus = false;    // a Set written a \pm b: spliced into an enclosing list
  char open = 0, close = 0;   // Tuple brackets: '(' or '[', ')' or ']'
  int rows = 0, cols = 0;     // Matrix
  std::string key() const;    // canonical: equal keys <=> equivalent values
};

// A relation written in an answer, as lhs - rhs OP 0 with OP one of = < <= != (a > b is
// stored as b - a < 0). Two relations are the same when their polynomials differ by a
// constant factor: positive for < and <=, nonzero for = and != (2x+4y-3=0 is
// y = -x/2 + 3/4; x < 1 is -x > -1).
struct Relation {
  Poly poly;
  std::string op;
};

// One final answer. A bare value ("3/4", "(1,2)", "\{1,2\}"); a named value: "x = 5",
// "x \in [1,2]", "(p,q) = (3,2)", "f(x) = 1", a chain "x = 2+3 = 5" (the last link is the
// value when the number sides are equal; "x = 1 = 2" is a false relation), an inequality
// with a name ("x < 3" is x in (-\infty, 3), "1 < x \le 2" is x in (1, 2]); or a relation
// with no value ("2x+4y-3=0", "-x > -1", "x \neq 3"). A list
// ("1, 2", "x = 1, x = 2", "a = 1, b = 2") is the set of its items' values.
struct ParsedAnswer {
  std::string var;                // the name written left of = / \in / around < (its tokens' text), or ""
  Value value;                    // the value; meaningful when has_value
  bool has_value = true;          // false: a relation with no value form
  bool relational = false;        // written as a relation other than "name = value" / "name \in set"
  std::vector<Relation> relations;  // the relation's links, when both sides are polynomials
  std::string named_key;          // a list of differently named items: sorted "name=value" keys
  bool percent = false;           // written with % or the word percent / pct
};

// True for an ASCII digit '0'..'9' (std::isdigit depends on the locale).
bool is_digit(char c);

// True for the words an answer may contain besides math: units ("cm", "miles"), "percent",
// "pct", "and", "or" (the parser drops or reads them; any other word makes a text prose).
bool is_answer_word(const std::string& word);

// Parses one final answer. Throws MathLimit (with a short reason) when the text is not
// a supported math expression or exceeds a bound.
ParsedAnswer parse_math_answer(const std::string& text);

}  // namespace r1
