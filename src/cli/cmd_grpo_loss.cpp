// `r1 grpo-loss --in CASE.json`: the GRPO objective on given log-probs, for checking other
// implementations (TRL, verl, OpenRLHF, your own) against r1. Prints one JSON document.
#include <cstdio>

#include "cli/command.h"
#include "rl/grpo_case.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 grpo-loss --in CASE.json [--convention NAME] [--json]\n"
    "  Computes GRPO advantages, loss, mean KL, clip fraction and dL/dlp in double precision.\n"
    "  CASE.json: {\"group_size\": G, \"rewards\": [N], \"lp\": [[...] x N], \"lp_old\": [[...] x N],\n"
    "              \"lp_ref\": [[...] x N], \"options\": {\"loss\": \"grpo\"|\"token-mean\"|\"dr_grpo\",\n"
    "              \"beta\": 0.001, \"eps_low\": 0.2, \"eps_high\": 0.2, \"scale_rewards\": \"group\"|\"batch\"|\"none\",\n"
    "              \"std\": \"sample\"|\"population\", \"eps\": 1e-4, \"max_len\": 0 (0 = longest completion)}}\n"
    "  More options: baseline mean|rloo, kl k1|k2|k3|low_var_kl, kl_clamp, kl_in loss|reward|return,\n"
    "  ratio token|sequence, policy clip|cispo, dual_clip (0 = off), tis_cap (0 = off; needs \"lp_rollout\").\n"
    "  --convention NAME (or options.convention) starts from a named framework convention; the options\n"
    "  given override it. Names: r1, deepseekmath, trl-grpo, trl-bnpo, trl-dr_grpo, trl-dapo,\n"
    "  verl-token-mean, verl-seq-mean-token-sum, verl-seq-mean-token-mean, verl-seq-mean-token-sum-norm,\n"
    "  verl-kl-in-reward, openrlhf, openrlhf-kl-loss, gspo, cispo, tis, rloo (docs/verify.md).\n"
    "  Missing options take the defaults shown. Output (stdout):\n"
    "  {\"advantages\": [N], \"loss\": x, \"kl_mean\": x, \"clip_fraction\": x, \"dual_clip_fraction\": x,\n"
    "   \"tis_capped_fraction\": x, \"grad_lp\": [[...] x N]} (+ \"token_advantages\" when kl_in is return).\n"
    "  See docs/algorithm.md for the equations.";

static int run(Args& args) {
  std::string path = args.str("in");
  std::string convention = args.str("convention", "");
  args.flag("json");  // output is always JSON; accepted for uniformity with other commands
  args.finish();
  GrpoCase c = parse_grpo_case(Json::parse_file(path), path, convention);
  std::printf("%s\n", run_grpo_case(c).dump().c_str());
  return 0;
}

static const bool registered =
    register_command({"grpo-loss", "the GRPO objective on given log-probs (reference numbers)", kUsage, run});

}  // namespace r1
