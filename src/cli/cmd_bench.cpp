// `r1 bench <what>`: benchmarks. Each benchmark lives in its own src/cli/bench_<what>.cpp
// and registers itself with register_bench(); this file only dispatches.
#include "cli/bench.h"

#include <cstdio>
#include <map>

#include "util/error.h"

namespace r1 {

static std::map<std::string, Bench>& bench_registry() {
  static std::map<std::string, Bench> r;
  return r;
}

bool register_bench(Bench b) {
  std::string name = b.name;
  bench_registry()[name] = std::move(b);
  return true;
}

static std::string bench_usage() {
  std::string s = "usage: r1 bench <what> [flags]   (r1 bench <what> --help for its flags)\n\nbenchmarks:\n";
  for (const auto& kv : bench_registry()) s += "  " + kv.first + ": " + kv.second.help + "\n";
  return s;
}

static int run_bench(Args& args) {
  if (!args.has_positional()) {
    if (!args.flag("help")) throw Error(cat("r1 bench: missing benchmark name\n", bench_usage()));
    std::printf("%s", bench_usage().c_str());
    return 0;
  }
  std::string what = args.next_positional("benchmark name");
  auto it = bench_registry().find(what);
  if (it == bench_registry().end()) throw Error(cat("r1 bench: unknown benchmark '", what, "'\n", bench_usage()));
  if (args.flag("help")) {
    std::printf("usage: r1 bench %s: %s\n", what.c_str(), it->second.help.c_str());
    return 0;
  }
  return it->second.run(args);
}

static const bool registered = register_command(
    {"bench", "benchmarks: r1 bench gemm|tokenizer|train|generate ...",
     "usage: r1 bench <what> [flags]\n  each benchmark prints human-readable figures, or one JSON object with --json.\n"
     "  r1 bench <what> --help lists its flags.",
     run_bench, /*handles_help=*/true});

}  // namespace r1
