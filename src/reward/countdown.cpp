// Countdown verifier: a tiny expression parser over the rationals, a multiset check of
// the numbers used, and the comparison with the target. See countdown.h.
#include "reward/countdown.h"

#include <algorithm>
#include <cctype>

#include "reward/bigint.h"
#include "reward/math_verifier.h"
#include "util/error.h"

namespace r1 {

static constexpr size_t kMaxExpressionChars = 500;
static constexpr int kMaxDepth = 50;
static constexpr size_t kMaxNumberDigits = 18;

// --- problems -----------------------------------------------------------------------

CountdownProblem countdown_problem_from_row(const Json& row) {
  CountdownProblem p;
  const Json& nums = row.at("numbers");
  check(nums.is_array() && nums.size() > 0, "countdown row: field 'numbers' must be a non-empty array");
  for (const Json& n : nums.as_array()) p.numbers.push_back(n.as_int());
  p.target = row.at("target").as_int();
  return p;
}

// "3,5,7" -> {3, 5, 7}; throws naming `what` on anything else.
static std::vector<int64_t> parse_ints(const std::string& s, const std::string& what) {
  std::vector<int64_t> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string item = s.substr(i, j - i);
    bool digits = !item.empty() && item.size() <= kMaxNumberDigits;
    for (size_t k = 0; k < item.size(); k++)
      if (!std::isdigit(static_cast<unsigned char>(item[k])) && !(k == 0 && item[k] == '-' && item.size() > 1))
        digits = false;
    check(digits, "countdown task: ", what, ": '", item, "' is not an integer");
    out.push_back(std::stoll(item));
    i = j + 1;
  }
  return out;
}

CountdownProblem parse_countdown_spec(const std::string& spec) {
  size_t first = spec.find_first_not_of(" \t\n");
  if (first != std::string::npos && spec[first] == '{')
    return countdown_problem_from_row(Json::parse(spec, "countdown task"));
  // "numbers=3,5,7 target=22" (either order, separated by spaces)
  CountdownProblem p;
  bool has_numbers = false, has_target = false;
  std::string word;
  std::string padded = spec + " ";
  for (char c : padded) {
    if (c != ' ') {
      word += c;
      continue;
    }
    if (word.empty()) continue;
    if (word.rfind("numbers=", 0) == 0) {
      p.numbers = parse_ints(word.substr(8), "numbers");
      has_numbers = !p.numbers.empty();
    } else if (word.rfind("target=", 0) == 0) {
      std::vector<int64_t> t = parse_ints(word.substr(7), "target");
      check(t.size() == 1, "countdown task: target= takes one integer");
      p.target = t[0];
      has_target = true;
    } else {
      throw Error(cat("countdown task: unexpected '", word, "' (expected \"numbers=3,5,7 target=22\" or a JSON row)"));
    }
    word.clear();
  }
  check(has_numbers && has_target, "countdown task: need both numbers=... and target=... (got '", spec, "')");
  return p;
}

// --- expression parser -------------------------------------------------------------------

namespace {

struct Failure {
  std::string verdict;
};

class ExprParser {
 public:
  ExprParser(const std::string& s, size_t max_numbers) : s_(s), max_numbers_(max_numbers) {}

  Rational parse_all() {
    Rational v = sum();
    skip_space();
    if (i_ != s_.size()) throw Failure{"unparsable"};
    return v;
  }
  const std::vector<int64_t>& used() const { return used_; }

 private:
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) i_++;
  }
  bool eat(const char* lit) {
    skip_space();
    size_t n = std::char_traits<char>::length(lit);
    if (s_.compare(i_, n, lit) != 0) return false;
    i_ += n;
    return true;
  }
  bool eat_times() { return eat("*") || eat("\\times") || eat("\\cdot") || eat("\xc3\x97"); }
  bool eat_divide() { return eat("/") || eat("\\div") || eat("\xc3\xb7"); }

  Rational sum() {
    Rational v = product();
    while (true) {
      if (eat("+")) v = v + product();
      else if (eat("-") || eat("\xe2\x88\x92")) v = v - product();
      else return v;
    }
  }

  Rational product() {
    Rational v = atom();
    while (true) {
      if (eat_times()) {
        v = v * atom();
      } else if (eat_divide()) {
        Rational d = atom();
        if (d.is_zero()) throw Failure{"division_by_zero"};
        v = v / d;
      } else {
        return v;
      }
    }
  }

  Rational atom() {
    if (++depth_ > kMaxDepth) throw Failure{"unparsable"};
    Rational v;
    if (eat("(") || eat("\\left(")) {
      v = sum();
      if (!eat(")") && !eat("\\right)")) throw Failure{"unparsable"};
    } else {
      skip_space();
      size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) i_++;
      if (i_ == start || i_ - start > kMaxNumberDigits) throw Failure{"unparsable"};
      int64_t n = std::stoll(s_.substr(start, i_ - start));
      used_.push_back(n);
      if (used_.size() > max_numbers_) throw Failure{"wrong_numbers"};
      v = Rational(n);
    }
    depth_--;
    return v;
  }

  const std::string& s_;
  size_t i_ = 0;
  size_t max_numbers_;
  int depth_ = 0;
  std::vector<int64_t> used_;
};

}  // namespace

// --- checking --------------------------------------------------------------------------

CountdownResult check_countdown_expression(const CountdownProblem& p, const std::string& expr) {
  CountdownResult r;
  r.extracted = expr;
  if (expr.size() > kMaxExpressionChars) {
    r.verdict = "unparsable";
    return r;
  }
  std::string lhs = expr;
  std::string rhs;
  size_t eq = expr.find('=');
  if (eq != std::string::npos) {
    lhs = expr.substr(0, eq);
    rhs = expr.substr(eq + 1);
  }
  try {
    ExprParser parser(lhs, p.numbers.size());
    Rational value = parser.parse_all();
    std::vector<int64_t> used = parser.used(), given = p.numbers;
    std::sort(used.begin(), used.end());
    std::sort(given.begin(), given.end());
    if (used != given) throw Failure{"wrong_numbers"};
    if (eq != std::string::npos) {  // "... = 22": the stated result must be the target
      ExprParser stated(rhs, 1);
      if (stated.parse_all() != Rational(p.target)) throw Failure{"wrong_value"};
    }
    r.correct = value == Rational(p.target);
    r.verdict = r.correct ? "correct" : "wrong_value";
  } catch (const Failure& f) {
    r.verdict = f.verdict;
  } catch (const MathLimit&) {
    r.verdict = "unparsable";
  }
  return r;
}

CountdownResult verify_countdown(const CountdownProblem& p, const std::string& completion, bool whole_if_none) {
  Extraction e = extract_final_answer(completion, whole_if_none);
  CountdownResult r;
  if (e.hedged) {
    r.verdict = "hedged";
    return r;
  }
  if (!e.found) {
    r.verdict = "no_answer";
    return r;
  }
  return check_countdown_expression(p, e.answer);
}

}  // namespace r1
