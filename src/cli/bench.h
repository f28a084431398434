// Benchmark registry for `r1 bench <what>`. A benchmark file registers itself:
//   static const bool registered = r1::register_bench({"gemm", "one-line help", run});
#pragma once
#include <functional>
#include <string>

#include "cli/command.h"

namespace r1 {

struct Bench {
  std::string name;
  std::string help;
  std::function<int(Args&)> run;
};

bool register_bench(Bench b);

}  // namespace r1
