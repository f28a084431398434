// Shared by the CUDA parity suites (tests/test_cuda*.cpp): the fixture that skips without a GPU,
// and the comparisons of a CUDA result with the CPU's.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "util/error.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1::testing {

#ifdef R1_CUDA
// Base of every suite that needs a GPU: skips with the reason when none is usable.
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda::available()) GTEST_SKIP() << "no CUDA device: " << cuda::unavailable_reason();
  }
};
#endif

// got[i] within tol(i) of want[i] for every i (NaN only matches NaN, inf only the same inf);
// reports the count and the first misses.
inline ::testing::AssertionResult all_close(const std::vector<float>& got, const std::vector<float>& want,
                                            const std::function<double(size_t)>& tol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "sizes differ: " << got.size() << " vs " << want.size();
  size_t bad = 0;
  std::string first;
  for (size_t i = 0; i < got.size(); i++) {
    if ((std::isnan(got[i]) && std::isnan(want[i])) || got[i] == want[i]) continue;
    double d = std::fabs(double(got[i]) - double(want[i]));
    if (d <= tol(i)) continue;
    if (bad++ < 3) first += cat(" [", i, "] got ", got[i], " want ", want[i], " (|d| ", d, " > tol ", tol(i), ")");
  }
  if (bad) return ::testing::AssertionFailure() << bad << " of " << got.size() << " differ:" << first;
  return ::testing::AssertionSuccess();
}

// Equal values (+0 == -0, NaN matches NaN): what a kernel computing the same float operations in
// the same order gives.
inline ::testing::AssertionResult equal_values(const std::vector<float>& got, const std::vector<float>& want) {
  return all_close(got, want, [](size_t) { return 0.0; });
}

// The same bits (copies, selections, scatters in the CPU's order).
inline ::testing::AssertionResult bitwise_equal(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "sizes differ: " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); i++)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "[" << i << "] got " << got[i] << " want " << want[i];
  return ::testing::AssertionSuccess();
}

}  // namespace r1::testing
