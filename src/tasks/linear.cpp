// The linear generator: a x + b = c with integer coefficients. At difficulty 1 the
// solution x is drawn first (an integer) and c computed from it; above, a, b and c are
// drawn and x = (c - b) / a is a reduced fraction or an integer.
#include <numeric>

#include "tasks/tasks.h"
#include "util/error.h"
#include "util/rng.h"

namespace r1 {

namespace {

struct LinearLevel {
  bool integer_solution;
  int max_coef;  // |a| <= max_coef, a != 0 (a > 0 at difficulty 1)
  int max_term;  // |b|, |c| (or |x| at difficulty 1) <= max_term
};

// difficulty 1..3
const LinearLevel kLevels[] = {{true, 9, 9}, {false, 9, 20}, {false, 99, 99}};

// "3x+4=19", "-x-2=5", "7x=0"
std::string equation(int64_t a, int64_t b, int64_t c) {
  std::string s = a == 1 ? "x" : a == -1 ? "-x" : std::to_string(a) + "x";
  if (b > 0) s += "+" + std::to_string(b);
  if (b < 0) s += std::to_string(b);
  return s + "=" + std::to_string(c);
}

}  // namespace

std::vector<Json> generate_linear_tasks(int64_t n, uint64_t seed, int difficulty) {
  check(difficulty >= 1 && difficulty <= 3, "linear: difficulty must be 1..3, got ", difficulty);
  const LinearLevel& L = kLevels[difficulty - 1];
  std::vector<Json> rows;
  for (int64_t i = 0; i < n; i++) {
    Rng rng(seed, uint64_t(i));
    int64_t a, b, c;
    if (L.integer_solution) {
      a = rng.range(1, L.max_coef);
      int64_t x = rng.range(-L.max_term, L.max_term);
      b = rng.range(-L.max_term, L.max_term);
      c = a * x + b;
    } else {
      do a = rng.range(-L.max_coef, L.max_coef); while (a == 0);
      b = rng.range(-L.max_term, L.max_term);
      c = rng.range(-L.max_term, L.max_term);
    }
    int64_t num = c - b, den = a;
    if (den < 0) { num = -num; den = -den; }
    int64_t g = std::gcd(num < 0 ? -num : num, den);
    num /= g;
    den /= g;
    std::string answer = den == 1 ? std::to_string(num) : std::to_string(num) + "/" + std::to_string(den);
    rows.push_back(Json(Json::Object{{"task", "linear"},
                                     {"prompt", "Solve for x: " + equation(a, b, c)},
                                     {"answer", answer},
                                     {"a", Json(a)},
                                     {"b", Json(b)},
                                     {"c", Json(c)}}));
  }
  return rows;
}

}  // namespace r1
