// `r1 grpo-loss --in CASE.json`: the GRPO objective on given log-probs, for checking other
// implementations (TRL, verl, OpenRLHF, your own) against r1. Prints one JSON document.
#include <cstdio>

#include "cli/command.h"
#include "rl/grpo_case.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 grpo-loss --in CASE.json\n"
    "  Computes GRPO advantages, loss, mean KL, clip fraction and dL/dlp in double precision.\n"
    "  CASE.json: {\"group_size\": G, \"rewards\": [N], \"lp\": [[...] x N], \"lp_old\": [[...] x N],\n"
    "              \"lp_ref\": [[...] x N], \"options\": {\"loss\": \"grpo\"|\"token-mean\"|\"dr_grpo\",\n"
    "              \"beta\": 0.001, \"eps_low\": 0.2, \"eps_high\": 0.2, \"scale_rewards\": \"group\"|\"batch\"|\"none\",\n"
    "              \"std\": \"sample\"|\"population\", \"eps\": 1e-4, \"max_len\": 0 (0 = longest completion)}}\n"
    "  Missing options take the defaults shown. Output (stdout):\n"
    "  {\"advantages\": [N], \"loss\": x, \"kl_mean\": x, \"clip_fraction\": x, \"grad_lp\": [[...] x N]}\n"
    "  See docs/algorithm.md for the equations.";

static int run(Args& args) {
  std::string path = args.str("in");
  args.flag("json");  // output is always JSON; accepted for uniformity with other commands
  args.finish();
  GrpoCase c = parse_grpo_case(Json::parse_file(path), path);
  std::printf("%s\n", run_grpo_case(c).dump().c_str());
  return 0;
}

static const bool registered =
    register_command({"grpo-loss", "the GRPO objective on given log-probs (reference numbers)", kUsage, run});

}  // namespace r1
