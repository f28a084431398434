// libFuzzer target for the math verifier (answer extraction, the LaTeX answer parser,
// BigInt/Rational). Not part of `make test`; build and run it as docs/rewards.md says:
//   clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     tests/fuzz/fuzz_math.cpp src/reward/bigint.cpp src/reward/math_value.cpp \
//     src/reward/math_verifier.cpp -o build/fuzz_math
//   mkdir -p build/fuzz_math_corpus
//   build/fuzz_math build/fuzz_math_corpus -max_total_time=60 -timeout=5 -rss_limit_mb=1024
// Input: "gold\npred". Bytes >= 0xC0 are replaced by LaTeX tokens from a table so random
// inputs reach deep into the parser. Besides crashes, hangs and leaks, it checks two
// invariants: every answer is equivalent to itself, and equivalence is symmetric.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "reward/math_verifier.h"

static const char* kTokens[] = {
    "\\frac", "\\dfrac", "\\sqrt", "{", "}", "^", "\\pi", "\\infty", ",", "(", ")", "[", "]", "\\{", "\\}",
    "\\begin{pmatrix}", "\\end{pmatrix}", "&", "\\\\", "x", "y", "=", "\\cdot", "\\times", "-", "+", "/",
    "\\boxed{", "<answer>", "</answer>", "<think>", "</think>", "\\text{ cm}", "\\%", "^\\circ", "1,000",
    "\\,", "\\!", ".5", "123456789", "\\left(", "\\right)", "\\cup", "x_1", "\\alpha", "0", "2", "10",
    "\\emptyset", "\\$", "99999999999999999", "^{-1}", "^{1/2}", "\\sqrt{2}", "\\fbox{", " or ", "e", "$",
    "\\le", "<", ">=", "\\neq", "\\in", "\\pm", "\\approx", " and ", " percent", ";", ":", "\\\\frac",
    "\\begin{array}{cc}", "\\end{array}", "{,}", " answer is ", "\\(", "\\)", "f(x)", "1,5", "^x", "\\cap", "e-3", "\xe2\x80\x93"};

static std::string expand(const uint8_t* data, size_t size) {
  std::string s;
  const size_t n_tokens = sizeof(kTokens) / sizeof(kTokens[0]);
  for (size_t i = 0; i < size; i++) {
    if (data[i] >= 0xC0) s += kTokens[(data[i] - 0xC0) % n_tokens];
    else s += char(data[i]);
  }
  return s;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = expand(data, size);
  size_t nl = text.find('\n');
  std::string gold = nl == std::string::npos ? text : text.substr(0, nl);
  std::string pred = nl == std::string::npos ? "" : text.substr(nl + 1);

  r1::verify_math(gold, pred, false);
  r1::verify_math(gold, pred, true);
  r1::verify_math(std::string(reinterpret_cast<const char*>(data), size), pred, true);
  r1::MathOptions tol;
  tol.rel_tol = 1e-6;
  r1::math_equivalent(gold, pred, tol);

  if (!r1::math_equivalent(gold, gold)) std::abort();  // reflexive
  if (r1::math_equivalent(gold, pred) != r1::math_equivalent(pred, gold)) std::abort();  // symmetric
  return 0;
}
