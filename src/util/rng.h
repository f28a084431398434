// Seeded random numbers. The generator is xoshiro256** (Blackman & Vigna), its 256-bit
// state filled from the seed by splitmix64. Rng(seed, stream) gives independent streams
// (e.g. one per sampled sequence) so a draw never depends on what other streams did.
// Same seed -> same numbers on every machine: no std:: distributions (they are
// implementation-defined), only the integer and float recipes written here.
#pragma once
#include <cmath>
#include <cstdint>

namespace r1 {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0) { reseed(seed, stream); }

  void reseed(uint64_t seed, uint64_t stream = 0) {
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    for (auto& w : s_) w = splitmix64(x);
    has_spare_ = false;
  }

  // 64 random bits.
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), unbiased (rejection on the 64-bit product, Lemire's method).
  uint64_t below(uint64_t n) {
    if (n <= 1) return 0;
    while (true) {
      __uint128_t m = __uint128_t(next()) * n;
      uint64_t lo = uint64_t(m);
      if (lo >= n || lo >= (-n) % n) return uint64_t(m >> 64);
    }
  }

  // Uniform integer in [lo, hi] inclusive.
  int64_t range(int64_t lo, int64_t hi) { return lo + int64_t(below(uint64_t(hi - lo) + 1)); }

  // Standard normal by the Box-Muller transform (the second value is kept for the next call).
  double normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    double u1 = uniform(), u2 = uniform();
    double r = std::sqrt(-2.0 * std::log(1.0 - u1));  // 1-u1 in (0,1]: log is finite
    double th = 6.283185307179586 * u2;
    spare_ = r * std::sin(th);
    has_spare_ = true;
    return r * std::cos(th);
  }

  // Full state, for checkpoints (resume must continue the exact stream).
  struct State { uint64_t s[4]; bool has_spare; double spare; };
  State state() const { return {{s_[0], s_[1], s_[2], s_[3]}, has_spare_, spare_}; }
  void set_state(const State& st) {
    for (int i = 0; i < 4; i++) s_[i] = st.s[i];
    has_spare_ = st.has_spare;
    spare_ = st.spare;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace r1
