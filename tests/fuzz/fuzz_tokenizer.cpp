// libFuzzer target for the tokenizer (built by its own command, not by make; see
// docs/tokenizer.md):
//   clang++-14 -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -Isrc \
//     tests/fuzz/fuzz_tokenizer.cpp src/tokenizer/*.cpp src/util/json.cpp src/util/fs.cpp \
//     -o build/fuzz_tokenizer
//   build/fuzz_tokenizer -max_total_time=300 -max_len=512
// For every input it checks, aborting on a violation:
//   - the pre-tokenizers' pieces cover the input exactly, in order (all three patterns)
//   - nfc() is idempotent
//   - decode(encode(x)) == x for a trained tokenizer without normalizer; nfc of it == nfc(x)
//     with NFC and for the tokenizer.json named by $R1_QWEN3_TOKENIZER when set
//   - the input parsed as a tokenizer.json either loads (and encodes it) or throws r1::Error
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/error.h"
#include "util/json.h"

namespace {

struct Fixture {
  std::unique_ptr<r1::Tokenizer> plain, nfc, qwen3;
  Fixture() {
    std::vector<std::string> texts = {
        "The quick brown fox jumps over the lazy dog. It's 42!\n\tdef f(x): return x * 2\n",
        "caf\xc3\xa9 na\xc3\xafve \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80 <think>2+2=4</think> \\frac{1}{2}"};
    r1::TrainOptions opts;
    opts.vocab_size = 400;
    plain = std::make_unique<r1::Tokenizer>(r1::Tokenizer::train(texts, opts));
    opts.nfc = true;
    nfc = std::make_unique<r1::Tokenizer>(r1::Tokenizer::train(texts, opts));
    if (const char* q = std::getenv("R1_QWEN3_TOKENIZER"))
      qwen3 = std::make_unique<r1::Tokenizer>(r1::Tokenizer::load(q));
  }
};

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  std::string s(reinterpret_cast<const char*>(data), size);

  for (r1::SplitPattern p : {r1::SplitPattern::Gpt2, r1::SplitPattern::Qwen2, r1::SplitPattern::Llama3}) {
    std::vector<size_t> ends;
    r1::pretokenize(p, s.data(), s.size(), ends);
    size_t prev = 0;
    for (size_t e : ends) {
      require(e > prev, "pieces are non-empty and in order");
      prev = e;
    }
    require(prev == s.size(), "pieces cover the input");
  }

  std::string n = r1::unicode::nfc(s);
  require(r1::unicode::nfc(n) == n, "nfc is idempotent");
  require(fx.plain->decode(fx.plain->encode(s)) == s, "round trip without normalizer");
  // With NFC, text between added tokens is normalized separately (as HF does), so a combining
  // mark right after "<think>" stays uncomposed: the invariant is equality up to NFC.
  require(r1::unicode::nfc(fx.nfc->decode(fx.nfc->encode(s))) == n, "round trip with NFC");
  if (fx.qwen3) require(r1::unicode::nfc(fx.qwen3->decode(fx.qwen3->encode(s))) == n, "Qwen3 round trip");

  try {
    r1::Tokenizer t = r1::Tokenizer::from_json(r1::Json::parse(s, "fuzz"));
    t.decode(t.encode(s));  // must not crash (sanitizers watch)
  } catch (const r1::Error&) {
  }
  return 0;
}
