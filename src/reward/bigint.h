// Exact arithmetic for the verifiers: a signed big integer (BigInt) and a reduced
// fraction of two of them (Rational). Equality of answers is decided with these, never
// with doubles.
//
// The numbers are bounded on purpose: a verifier reads untrusted model output, so every
// result larger than kMaxLimbs limbs (~540 decimal digits) and every thread that spends
// more than its work budget (see WorkBudget) throws MathLimit instead of growing or
// spinning. Does not do: bit operations, fast (Karatsuba) multiplication, arbitrary size.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace r1 {

// Thrown when an input would exceed a size or work bound; the verifier turns it into a
// "rejected" verdict. Also used for malformed math (parse errors), see math_parse.h.
class MathLimit : public std::runtime_error {
 public:
  explicit MathLimit(const std::string& why) : std::runtime_error(why) {}
};

// Per-thread budget of elementary limb operations. A verifier call opens a WorkBudget;
// BigInt charges its multiplications, divisions and trial divisions to it and throws
// MathLimit("work budget exceeded") when it runs out. Without an open budget, work is
// unlimited (sizes are still capped).
class WorkBudget {
 public:
  explicit WorkBudget(uint64_t units);
  ~WorkBudget();
  WorkBudget(const WorkBudget&) = delete;
  WorkBudget& operator=(const WorkBudget&) = delete;
  static void charge(uint64_t units);

 private:
  uint64_t saved_left_;
  bool saved_active_;
};

class BigInt {
 public:
  static constexpr uint32_t kBase = 1000000000;  // 9 decimal digits per limb
  static constexpr size_t kMaxLimbs = 60;

  BigInt() = default;
  BigInt(int64_t v);  // NOLINT: implicit from integers is the natural spelling
  // Decimal digits only ("00123" is 123). Throws MathLimit when too long.
  static BigInt from_digits(const std::string& digits);

  bool is_zero() const { return mag_.empty(); }
  bool negative() const { return neg_; }
  int sign() const { return is_zero() ? 0 : (neg_ ? -1 : 1); }
  size_t limbs() const { return mag_.size(); }
  bool fits_int64() const;
  int64_t to_int64() const;  // requires fits_int64()
  double to_double() const;  // approximate
  std::string str() const;

  BigInt operator-() const;
  BigInt abs() const;
  friend BigInt operator+(const BigInt& a, const BigInt& b);
  friend BigInt operator-(const BigInt& a, const BigInt& b);
  friend BigInt operator*(const BigInt& a, const BigInt& b);
  // Truncating division (like C++ on int): a = q*b + r, |r| < |b|, r has a's sign.
  static void divmod(const BigInt& a, const BigInt& b, BigInt& q, BigInt& r);
  friend BigInt operator/(const BigInt& a, const BigInt& b);
  friend BigInt operator%(const BigInt& a, const BigInt& b);
  static BigInt gcd(BigInt a, BigInt b);  // >= 0
  BigInt pow(uint32_t e) const;

  friend int compare(const BigInt& a, const BigInt& b);  // -1, 0, 1
  friend bool operator==(const BigInt& a, const BigInt& b) { return compare(a, b) == 0; }
  friend bool operator!=(const BigInt& a, const BigInt& b) { return compare(a, b) != 0; }
  friend bool operator<(const BigInt& a, const BigInt& b) { return compare(a, b) < 0; }

 private:
  using Mag = std::vector<uint32_t>;  // little-endian limbs in base 1e9, no leading zeros
  static int cmp_mag(const Mag& a, const Mag& b);
  static Mag add_mag(const Mag& a, const Mag& b);
  static Mag sub_mag(const Mag& a, const Mag& b);  // requires a >= b
  static Mag mul_mag(const Mag& a, const Mag& b);
  static void divmod_mag(const Mag& a, const Mag& b, Mag& q, Mag& r);
  static BigInt make(bool neg, Mag m);
  bool neg_ = false;
  Mag mag_;
};

// A fraction num/den in lowest terms with den > 0.
class Rational {
 public:
  Rational() : num_(0), den_(1) {}
  Rational(int64_t v) : num_(v), den_(1) {}  // NOLINT
  Rational(BigInt v) : num_(std::move(v)), den_(1) {}  // NOLINT
  Rational(BigInt num, BigInt den);  // throws MathLimit on den == 0

  // "12", "-3.25", ".5", "12.": exact decimal.
  static Rational from_decimal(const std::string& text);

  const BigInt& num() const { return num_; }
  const BigInt& den() const { return den_; }
  bool is_zero() const { return num_.is_zero(); }
  bool is_integer() const { return den_ == BigInt(1); }
  int sign() const { return num_.sign(); }
  double to_double() const;
  std::string str() const;  // "7", "-3/4"

  friend Rational operator+(const Rational& a, const Rational& b);
  friend Rational operator-(const Rational& a, const Rational& b);
  friend Rational operator*(const Rational& a, const Rational& b);
  friend Rational operator/(const Rational& a, const Rational& b);  // throws on b == 0
  Rational operator-() const;
  friend bool operator==(const Rational& a, const Rational& b) {
    return a.num_ == b.num_ && a.den_ == b.den_;
  }
  friend bool operator!=(const Rational& a, const Rational& b) { return !(a == b); }
  friend bool operator<(const Rational& a, const Rational& b);

 private:
  BigInt num_, den_;
};

}  // namespace r1
