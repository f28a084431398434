// libFuzzer target for the format reward, the language reward, answer extraction and the
// countdown verifier. Not part of `make test`; build and run it as docs/rewards.md says:
//   clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
//     tests/fuzz/fuzz_format.cpp src/reward/bigint.cpp src/reward/math_value.cpp \
//     src/reward/math_verifier.cpp src/reward/format.cpp src/reward/countdown.cpp \
//     src/util/json.cpp -o build/fuzz_format
//   mkdir -p build/fuzz_format_corpus
//   build/fuzz_format build/fuzz_format_corpus -max_total_time=60 -timeout=5 -rss_limit_mb=1024
// Bytes >= 0xD0 become tags and other tokens, so random inputs form near-valid
// completions. Checks: the language fraction is in [0, 1]; a completion check_format
// accepts has exactly the think/answer contents it reports.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "reward/countdown.h"
#include "reward/format.h"
#include "reward/math_verifier.h"

static const char* kTokens[] = {"<think>", "</think>", "<answer>", "</answer>", "\\boxed{", "}", "{",
                                "<|endoftext|>", "</s>", " ", "\n", "\xe6\x88\x91", "\xef\xbc\x8c", "word",
                                "3", "5", "7", "22", "*", "/", "(", ")", "+", "-", "=", "\xc3\xa9", "0",
                                "\\times", "\xe2\x88\x92", "\xf0\x9f\x98\x80", "\xff", "\\fbox{"};

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s;
  const size_t n_tokens = sizeof(kTokens) / sizeof(kTokens[0]);
  for (size_t i = 0; i < size; i++) {
    if (data[i] >= 0xD0) s += kTokens[(data[i] - 0xD0) % n_tokens];
    else s += char(data[i]);
  }
  for (const std::string& c : {s, std::string(reinterpret_cast<const char*>(data), size)}) {
    r1::FormatResult f = r1::check_format(c);
    if (f.ok) {
      std::string rebuilt = "<think>" + f.think + "</think>";
      if (c.find(rebuilt) == std::string::npos) std::abort();
      if (c.find("<answer>" + f.answer + "</answer>") == std::string::npos) std::abort();
    }
    double lang = r1::language_consistency(r1::chain_of_thought(c));
    if (!(lang >= 0.0 && lang <= 1.0)) std::abort();
    r1::extract_final_answer(c, false);
    r1::verify_countdown(r1::CountdownProblem{{3, 5, 7}, 22}, c, true);
    r1::verify_countdown(r1::CountdownProblem{{4, 4, 2, 0}, 0}, c, true);
  }
  return 0;
}
