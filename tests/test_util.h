// Small helpers shared by the test suites (model, MLA, training).
#pragma once
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "ops/ops.h"
#include "util/rng.h"

namespace r1::testing {

// Runs the enclosing scope on one OpenMP thread: tiny test shapes only pay barrier overhead
// for more threads, and a loaded machine makes that overhead large.
struct OneThread {
  int prev = omp_get_max_threads();
  OneThread() { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(prev); }
};

// n token ids uniform in [0, vocab), from Rng(seed).
inline Ids random_tokens(int64_t n, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  Ids ids(static_cast<size_t>(n));
  for (int32_t& t : ids) t = int32_t(rng.below(uint64_t(vocab)));
  return ids;
}

// Row row_a of a (rows of V logits) equals row row_b of b within 1e-4: the callers compare the
// same math evaluated in different orders (cached vs full forward), with logits of order 1.
inline void expect_rows_near(const std::vector<float>& a, int64_t row_a, const std::vector<float>& b, int64_t row_b,
                             int64_t V, const std::string& what) {
  for (int64_t v = 0; v < V; v++)
    EXPECT_NEAR(a[size_t(row_a * V + v)], b[size_t(row_b * V + v)], 1e-4) << what << " vocab " << v;
}

// |a - b| <= atol + rtol |b| elementwise, reporting the worst offender (callers state why
// their bounds fit the comparison).
inline void expect_close(const std::vector<float>& a, const std::vector<float>& b, double atol, double rtol,
                         const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); i++) {
    double excess = std::fabs(double(a[i]) - double(b[i])) - (atol + rtol * std::fabs(double(b[i])));
    if (excess > worst) worst = excess, at = i;
  }
  EXPECT_EQ(worst, 0.0) << what << ": element " << at << " is " << a[at] << ", reference " << b[at];
}

// The repository root: $R1_ROOT (make test sets it), or the current folder.
inline std::string repo_root() {
  const char* r = std::getenv("R1_ROOT");
  return r && *r ? r : ".";
}

// The path of a model fixture under data/fixtures/model/.
inline std::string model_fixture(const std::string& name) { return repo_root() + "/data/fixtures/model/" + name; }

}  // namespace r1::testing
