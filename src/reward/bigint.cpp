// BigInt and Rational: schoolbook arithmetic on base-1e9 limbs, bounded in size and
// work. See bigint.h.
#include "reward/bigint.h"

#include <algorithm>
#include <cmath>

namespace r1 {

// --- work budget -------------------------------------------------------------

static thread_local uint64_t t_budget_left = 0;
static thread_local bool t_budget_active = false;

WorkBudget::WorkBudget(uint64_t units) : saved_left_(t_budget_left), saved_active_(t_budget_active) {
  t_budget_left = units;
  t_budget_active = true;
}

WorkBudget::~WorkBudget() {
  t_budget_left = saved_left_;
  t_budget_active = saved_active_;
}

void WorkBudget::charge(uint64_t units) {
  if (!t_budget_active) return;
  if (units > t_budget_left) {
    t_budget_left = 0;
    throw MathLimit("work budget exceeded");
  }
  t_budget_left -= units;
}

// --- magnitudes ----------------------------------------------------------------

static void trim(std::vector<uint32_t>& m) {
  while (!m.empty() && m.back() == 0) m.pop_back();
}

static void check_size(const std::vector<uint32_t>& m) {
  if (m.size() > BigInt::kMaxLimbs) throw MathLimit("number too large");
}

int BigInt::cmp_mag(const Mag& a, const Mag& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (size_t i = a.size(); i-- > 0;)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

BigInt::Mag BigInt::add_mag(const Mag& a, const Mag& b) {
  Mag r(std::max(a.size(), b.size()) + 1, 0);
  uint64_t carry = 0;
  for (size_t i = 0; i < r.size(); i++) {
    uint64_t s = carry + (i < a.size() ? a[i] : 0) + (i < b.size() ? b[i] : 0);
    r[i] = uint32_t(s % kBase);
    carry = s / kBase;
  }
  trim(r);
  check_size(r);
  return r;
}

BigInt::Mag BigInt::sub_mag(const Mag& a, const Mag& b) {
  Mag r(a.size(), 0);
  int64_t borrow = 0;
  for (size_t i = 0; i < a.size(); i++) {
    int64_t d = int64_t(a[i]) - borrow - (i < b.size() ? int64_t(b[i]) : 0);
    borrow = d < 0;
    r[i] = uint32_t(d + (borrow ? kBase : 0));
  }
  trim(r);
  return r;
}

BigInt::Mag BigInt::mul_mag(const Mag& a, const Mag& b) {
  if (a.empty() || b.empty()) return {};
  if (a.size() + b.size() > kMaxLimbs + 1) throw MathLimit("number too large");
  WorkBudget::charge(a.size() * b.size());
  std::vector<uint64_t> acc(a.size() + b.size() + 1, 0);
  for (size_t i = 0; i < a.size(); i++) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b.size(); j++) {
      uint64_t cur = acc[i + j] + uint64_t(a[i]) * b[j] + carry;  // < 2^64: 1e18 + 2e9
      acc[i + j] = cur % kBase;
      carry = cur / kBase;
    }
    size_t k = i + b.size();
    while (carry) {
      uint64_t cur = acc[k] + carry;
      acc[k++] = cur % kBase;
      carry = cur / kBase;
    }
  }
  Mag r(acc.begin(), acc.end());
  trim(r);
  check_size(r);
  return r;
}

// Long division, one base-1e9 quotient limb at a time. Each limb is bracketed from the top
// limbs (remainder's top three over divisor's top two, which pins it to within ~2) and then
// found exactly by binary search on b*d <= remainder inside that bracket.
void BigInt::divmod_mag(const Mag& a, const Mag& b, Mag& q, Mag& r) {
  using u128 = unsigned __int128;
  q.assign(a.size(), 0);
  r.clear();
  WorkBudget::charge((a.size() + 1) * (b.size() + 1));
  const size_t k = b.size();
  Mag prod;
  auto times = [&](uint32_t d, Mag& out) {  // out = b * d
    out.assign(k + 1, 0);
    uint64_t carry = 0;
    for (size_t j = 0; j < k; j++) {
      uint64_t cur = uint64_t(b[j]) * d + carry;
      out[j] = uint32_t(cur % kBase);
      carry = cur / kBase;
    }
    out[k] = uint32_t(carry);
    trim(out);
  };
  for (size_t i = a.size(); i-- > 0;) {
    r.insert(r.begin(), a[i]);  // r = r*base + a[i]
    trim(r);
    if (cmp_mag(r, b) < 0) continue;
    WorkBudget::charge(4 * (k + 1));
    auto limb = [&](size_t idx) -> u128 { return idx < r.size() ? r[idx] : 0; };
    u128 lo, hi;
    if (k == 1) {
      lo = hi = (limb(1) * kBase + limb(0)) / b[0];
    } else {
      u128 rt = (limb(k) * kBase + limb(k - 1)) * kBase + limb(k - 2);
      u128 bt = u128(b[k - 1]) * kBase + b[k - 2];
      lo = rt / (bt + 1);
      hi = (rt + 1) / bt;
    }
    if (hi > kBase - 1) hi = kBase - 1;
    if (lo > hi) lo = hi;
    uint32_t l = uint32_t(lo), h = uint32_t(hi);
    while (l < h) {
      uint32_t mid = l + (h - l + 1) / 2;
      times(mid, prod);
      if (cmp_mag(prod, r) <= 0) l = mid; else h = mid - 1;
    }
    times(l, prod);
    r = sub_mag(r, prod);
    q[i] = l;
  }
  trim(q);
}

// --- BigInt --------------------------------------------------------------------

BigInt BigInt::make(bool neg, Mag m) {
  BigInt x;
  x.mag_ = std::move(m);
  x.neg_ = neg && !x.mag_.empty();
  return x;
}

BigInt::BigInt(int64_t v) {
  neg_ = v < 0;
  uint64_t u = neg_ ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  while (u) {
    mag_.push_back(uint32_t(u % kBase));
    u /= kBase;
  }
}

BigInt BigInt::from_digits(const std::string& digits) {
  size_t start = digits.find_first_not_of('0');
  if (start == std::string::npos) return BigInt();
  if ((digits.size() - start) > kMaxLimbs * 9) throw MathLimit("number too large");
  Mag m;
  for (size_t end = digits.size(); end > start;) {
    size_t begin = end >= start + 9 ? end - 9 : start;
    uint32_t limb = 0;
    for (size_t i = begin; i < end; i++) {
      if (digits[i] < '0' || digits[i] > '9') throw MathLimit("not a digit");
      limb = limb * 10 + uint32_t(digits[i] - '0');
    }
    m.push_back(limb);
    end = begin;
  }
  trim(m);
  return make(false, std::move(m));
}

bool BigInt::fits_int64() const {
  // |x| < 1e18 always fits; that is all we need (callers use it for small values).
  return mag_.size() <= 2;
}

int64_t BigInt::to_int64() const {
  int64_t v = 0;
  for (size_t i = mag_.size(); i-- > 0;) v = v * kBase + mag_[i];
  return neg_ ? -v : v;
}

double BigInt::to_double() const {
  double v = 0;
  for (size_t i = mag_.size(); i-- > 0;) v = v * kBase + mag_[i];
  return neg_ ? -v : v;
}

std::string BigInt::str() const {
  if (mag_.empty()) return "0";
  std::string s = neg_ ? "-" : "";
  s += std::to_string(mag_.back());
  for (size_t i = mag_.size() - 1; i-- > 0;) {
    std::string limb = std::to_string(mag_[i]);
    s += std::string(9 - limb.size(), '0') + limb;
  }
  return s;
}

BigInt BigInt::operator-() const { return make(!neg_, mag_); }
BigInt BigInt::abs() const { return make(false, mag_); }

BigInt operator+(const BigInt& a, const BigInt& b) {
  if (a.neg_ == b.neg_) return BigInt::make(a.neg_, BigInt::add_mag(a.mag_, b.mag_));
  int c = BigInt::cmp_mag(a.mag_, b.mag_);
  if (c == 0) return BigInt();
  if (c > 0) return BigInt::make(a.neg_, BigInt::sub_mag(a.mag_, b.mag_));
  return BigInt::make(b.neg_, BigInt::sub_mag(b.mag_, a.mag_));
}

BigInt operator-(const BigInt& a, const BigInt& b) { return a + (-b); }

BigInt operator*(const BigInt& a, const BigInt& b) {
  return BigInt::make(a.neg_ != b.neg_, BigInt::mul_mag(a.mag_, b.mag_));
}

void BigInt::divmod(const BigInt& a, const BigInt& b, BigInt& q, BigInt& r) {
  if (b.is_zero()) throw MathLimit("division by zero");
  Mag qm, rm;
  divmod_mag(a.mag_, b.mag_, qm, rm);
  q = make(a.neg_ != b.neg_, std::move(qm));
  r = make(a.neg_, std::move(rm));
}

BigInt operator/(const BigInt& a, const BigInt& b) {
  BigInt q, r;
  BigInt::divmod(a, b, q, r);
  return q;
}

BigInt operator%(const BigInt& a, const BigInt& b) {
  BigInt q, r;
  BigInt::divmod(a, b, q, r);
  return r;
}

BigInt BigInt::gcd(BigInt a, BigInt b) {
  a = a.abs();
  b = b.abs();
  while (!b.is_zero()) {
    BigInt r = a % b;
    a = std::move(b);
    b = std::move(r);
  }
  return a;
}

BigInt BigInt::pow(uint32_t e) const {
  BigInt result(1), base = *this;
  while (e) {
    if (e & 1) result = result * base;
    e >>= 1;
    if (e) base = base * base;
  }
  return result;
}

int compare(const BigInt& a, const BigInt& b) {
  if (a.neg_ != b.neg_) return a.neg_ ? -1 : 1;
  int c = BigInt::cmp_mag(a.mag_, b.mag_);
  return a.neg_ ? -c : c;
}

// --- Rational ------------------------------------------------------------------

Rational::Rational(BigInt num, BigInt den) {
  if (den.is_zero()) throw MathLimit("division by zero");
  if (den.negative()) {
    num = -num;
    den = -den;
  }
  BigInt g = BigInt::gcd(num, den);
  if (g != BigInt(1) && !g.is_zero()) {
    num = num / g;
    den = den / g;
  }
  num_ = std::move(num);
  den_ = std::move(den);
}

Rational Rational::from_decimal(const std::string& text) {
  std::string s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  size_t dot = s.find('.');
  std::string int_part = dot == std::string::npos ? s : s.substr(0, dot);
  std::string frac_part = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) throw MathLimit("empty number");
  if (frac_part.size() > BigInt::kMaxLimbs * 9) throw MathLimit("number too large");
  BigInt num = BigInt::from_digits(int_part + frac_part);
  BigInt den = BigInt(10).pow(uint32_t(frac_part.size()));
  return Rational(neg ? -num : num, den);
}

double Rational::to_double() const { return num_.to_double() / den_.to_double(); }

std::string Rational::str() const { return is_integer() ? num_.str() : num_.str() + "/" + den_.str(); }

Rational operator+(const Rational& a, const Rational& b) {
  if (a.is_integer() && b.is_integer()) return Rational(a.num_ + b.num_);
  return Rational(a.num_ * b.den_ + b.num_ * a.den_, a.den_ * b.den_);
}

Rational operator-(const Rational& a, const Rational& b) { return a + (-b); }

Rational operator*(const Rational& a, const Rational& b) {
  if (a.is_integer() && b.is_integer()) return Rational(a.num_ * b.num_);
  return Rational(a.num_ * b.num_, a.den_ * b.den_);
}

Rational operator/(const Rational& a, const Rational& b) {
  if (b.is_zero()) throw MathLimit("division by zero");
  return Rational(a.num_ * b.den_, a.den_ * b.num_);
}

Rational Rational::operator-() const {
  Rational r = *this;
  r.num_ = -r.num_;
  return r;
}

bool operator<(const Rational& a, const Rational& b) {
  return compare(a.num_ * b.den_, b.num_ * a.den_) < 0;
}

}  // namespace r1
