// `r1 bench tokenizer`: single-thread encode throughput of a tokenizer.json on a text file.
// The whole file is encoded as one string, the same way the JS reference is timed in
// data/tokenizer/bench_js.mjs; the best of --repeat runs is reported.
#include <chrono>
#include <cstdio>

#include "cli/bench.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

static int run(Args& args) {
  std::string tok_path = args.str("tokenizer");
  std::string input = args.str("input");
  int repeat = int(args.integer("repeat", 3));
  bool json = args.flag("json");
  args.finish();
  check(repeat >= 1, "--repeat: must be at least 1");

  Tokenizer tok = Tokenizer::load(tok_path);
  std::string text = read_file(input);

  double best = 1e30;
  size_t tokens = 0;
  for (int r = 0; r < repeat; r++) {  // run 0 starts with a cold pre-token cache
    auto t0 = std::chrono::steady_clock::now();
    std::vector<int> ids = tok.encode(text);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    tokens = ids.size();
    if (!json) std::fprintf(stderr, "run %d: %.3f s\n", r, s);
  }
  double mb_per_s = text.size() / 1e6 / best;
  if (json)
    std::printf("{\"mb_per_s\": %.3f, \"tokens\": %zu, \"bytes\": %zu, \"seconds\": %.4f}\n", mb_per_s, tokens,
                text.size(), best);
  else
    std::printf("encode: %.2f MB/s, %zu tokens from %zu bytes (best of %d: %.3f s)\n", mb_per_s, tokens,
                text.size(), repeat, best);
  return 0;
}

static const bool registered = register_bench(
    {"tokenizer", "encode throughput: --tokenizer FILE --input TEXTFILE [--repeat 3] [--json]", run});

}  // namespace r1
