// Reading and writing the JSON cases of `r1 grpo-loss` (the reference interface for other
// GRPO implementations) and of the golden vectors in data/golden/grpo/.
//   input:  {"group_size": G, "rewards": [N], "lp": [[...] x N], "lp_old": [[...] x N],
//            "lp_ref": [[...] x N], "options": {...GrpoOptions fields...}}
//   output: {"advantages": [N], "loss": x, "kl_mean": x, "clip_fraction": x, "grad_lp": [[...] x N]}
#pragma once
#include <string>

#include "rl/grpo.h"
#include "util/json.h"

namespace r1 {

struct GrpoCase {
  int64_t group_size = 1;
  std::vector<double> rewards;
  std::vector<std::vector<double>> lp, lp_old, lp_ref;
  GrpoOptions options;
};

// Parses a case; errors name `source` and the field ("case.json: field 'lp' row 2: ...").
GrpoCase parse_grpo_case(const Json& j, const std::string& source);
GrpoOptions parse_grpo_options(const Json& options, const std::string& source);
// Runs advantages + objective and returns the output document.
Json run_grpo_case(const GrpoCase& c);

}  // namespace r1
