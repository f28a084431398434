// Reading and writing the JSON cases of `r1 grpo-loss` (the reference interface for other
// GRPO implementations) and of the golden vectors in data/golden/grpo/.
//   input:  {"group_size": G, "rewards": [N], "lp": [[...] x N], "lp_old": [[...] x N],
//            "lp_ref": [[...] x N], "lp_rollout": [[...] x N] (optional, for TIS),
//            "options": {"convention": NAME, ...GrpoOptions fields (override the convention)...}}
//   output: {"convention": NAME (when one is used), "advantages": [N],
//            "token_advantages": [[...] x N] (kl_in "return" only), "loss": x, "kl_mean": x,
//            "clip_fraction": x, "dual_clip_fraction": x, "tis_capped_fraction": x, "grad_lp": [[...] x N]}
#pragma once
#include <string>

#include "rl/grpo.h"
#include "util/json.h"

namespace r1 {

struct GrpoCase {
  int64_t group_size = 1;
  std::vector<double> rewards;
  std::vector<std::vector<double>> lp, lp_old, lp_ref, lp_rollout;  // lp_rollout may be empty
  GrpoOptions options;
};

// Parses a case; errors name `source` and the field ("case.json: field 'lp' row 2: ...").
// `convention` (optional) replaces the options' own "convention" field; the other fields given
// override the convention's values.
GrpoCase parse_grpo_case(const Json& j, const std::string& source, const std::string& convention = "");
GrpoOptions parse_grpo_options(const Json& options, const std::string& source, const std::string& convention = "");
// Runs advantages + objective and returns the output document.
Json run_grpo_case(const GrpoCase& c);

}  // namespace r1
