// JSON cases for `r1 grpo-loss` and the golden vectors. See grpo_case.h.
#include "rl/grpo_case.h"

#include "util/error.h"

namespace r1 {

static std::vector<double> number_list(const Json& j, const std::string& where) {
  if (!j.is_array()) throw Error(cat(where, ": expected an array of numbers"));
  std::vector<double> out;
  for (size_t i = 0; i < j.size(); i++) {
    if (!j[i].is_number()) throw Error(cat(where, "[", i, "]: expected a number, got ", j[i].dump()));
    out.push_back(j[i].as_number());
  }
  return out;
}

static std::vector<std::vector<double>> ragged(const Json& root, const char* field, const std::string& source) {
  const Json* j = root.find(field);
  if (!j) throw Error(cat(source, ": missing field '", field, "'"));
  if (!j->is_array()) throw Error(cat(source, ": field '", field, "' must be an array of arrays"));
  std::vector<std::vector<double>> out;
  for (size_t i = 0; i < j->size(); i++) out.push_back(number_list((*j)[i], cat(source, ": field '", field, "' row ", i)));
  return out;
}

GrpoOptions parse_grpo_options(const Json& o, const std::string& source, const std::string& convention) {
  GrpoOptions opt;
  if (!o.is_null() && !o.is_object()) throw Error(cat(source, ": field 'options' must be an object"));
  if (!o.is_null())
    reject_unknown_fields(o, {"convention", "loss", "beta", "eps_low", "eps_high", "scale_rewards", "std", "eps",
                              "max_len", "len_eps", "baseline", "kl", "kl_clamp", "kl_in", "ratio", "policy",
                              "dual_clip", "tis_cap"}, source, "option");
  try {
    // The convention first (from the caller, else the options' own field), then every field
    // given overrides it.
    std::string name = !convention.empty() ? convention : o.is_null() ? "" : o.get_string("convention", "");
    if (!name.empty()) opt = grpo_convention(name);
    if (o.is_null()) return opt;
    opt.loss = o.get_string("loss", opt.loss);
    opt.beta = o.get_number("beta", opt.beta);
    opt.eps_low = o.get_number("eps_low", opt.eps_low);
    opt.eps_high = o.get_number("eps_high", opt.eps_high);
    opt.scale_rewards = o.get_string("scale_rewards", opt.scale_rewards);
    opt.std = o.get_string("std", opt.std);
    opt.eps = o.get_number("eps", opt.eps);
    opt.max_len = o.get_int("max_len", opt.max_len);
    opt.len_eps = o.get_number("len_eps", opt.len_eps);
    opt.baseline = o.get_string("baseline", opt.baseline);
    opt.kl = o.get_string("kl", opt.kl);
    opt.kl_clamp = o.get_number("kl_clamp", opt.kl_clamp);
    opt.kl_in = o.get_string("kl_in", opt.kl_in);
    opt.ratio = o.get_string("ratio", opt.ratio);
    opt.policy = o.get_string("policy", opt.policy);
    opt.dual_clip = o.get_number("dual_clip", opt.dual_clip);
    opt.tis_cap = o.get_number("tis_cap", opt.tis_cap);
    validate(opt);
  } catch (const Error& e) {
    throw Error(cat(source, ": options: ", e.what()));
  }
  return opt;
}

GrpoCase parse_grpo_case(const Json& j, const std::string& source, const std::string& convention) {
  if (!j.is_object()) throw Error(cat(source, ": expected a JSON object"));
  GrpoCase c;
  try {
    c.group_size = j.at("group_size").as_int();
  } catch (const Error& e) {
    throw Error(cat(source, ": field 'group_size': ", e.what()));
  }
  const Json* r = j.find("rewards");
  if (!r) throw Error(cat(source, ": missing field 'rewards'"));
  c.rewards = number_list(*r, cat(source, ": field 'rewards'"));
  c.lp = ragged(j, "lp", source);
  c.lp_old = ragged(j, "lp_old", source);
  c.lp_ref = ragged(j, "lp_ref", source);
  if (j.contains("lp_rollout")) c.lp_rollout = ragged(j, "lp_rollout", source);
  const Json* o = j.find("options");
  c.options = parse_grpo_options(o ? *o : Json(), source, convention);
  size_t N = c.rewards.size();
  if (c.lp.size() != N || c.lp_old.size() != N || c.lp_ref.size() != N)
    throw Error(cat(source, ": ", N, " rewards but ", c.lp.size(), " lp, ", c.lp_old.size(), " lp_old, ",
                    c.lp_ref.size(), " lp_ref rows"));
  for (size_t i = 0; i < N; i++)
    if (c.lp_old[i].size() != c.lp[i].size() || c.lp_ref[i].size() != c.lp[i].size())
      throw Error(cat(source, ": row ", i, " has ", c.lp[i].size(), " lp, ", c.lp_old[i].size(), " lp_old, ",
                      c.lp_ref[i].size(), " lp_ref values"));
  if (!c.lp_rollout.empty()) {
    if (c.lp_rollout.size() != N) throw Error(cat(source, ": ", N, " rewards but ", c.lp_rollout.size(), " lp_rollout rows"));
    for (size_t i = 0; i < N; i++)
      if (c.lp_rollout[i].size() != c.lp[i].size())
        throw Error(cat(source, ": row ", i, " has ", c.lp[i].size(), " lp but ", c.lp_rollout[i].size(),
                        " lp_rollout values"));
  }
  if (c.options.tis_cap > 0 && c.lp_rollout.empty())
    throw Error(cat(source, ": options: tis_cap needs field 'lp_rollout' (the rollout engine's log-probs)"));
  if (c.group_size < 1 || N % size_t(c.group_size) != 0)
    throw Error(cat(source, ": ", N, " completions do not split into groups of group_size ", c.group_size));
  return c;
}

Json run_grpo_case(const GrpoCase& c) {
  std::vector<double> adv;
  Ragged token_adv = grpo_token_advantages(c.rewards, c.group_size, c.lp_old, c.lp_ref, c.options, &adv);
  GrpoLoss res = grpo_loss(token_adv, c.lp, c.lp_old, c.lp_ref, c.lp_rollout, c.options);
  Json out = Json::object();
  if (!c.options.convention.empty()) out["convention"] = c.options.convention;
  out["advantages"] = Json(adv);
  if (c.options.kl_in == "return") {  // per-token advantages differ from the per-completion ones
    Json rows = Json::array();
    for (const auto& row : token_adv) rows.push_back(Json(row));
    out["token_advantages"] = rows;
  }
  out["loss"] = res.loss;
  out["kl_mean"] = res.kl_mean;
  out["clip_fraction"] = res.clip_fraction;
  out["dual_clip_fraction"] = res.dual_clip_fraction;
  out["tis_capped_fraction"] = res.tis_capped_fraction;
  Json grad = Json::array();
  for (const auto& row : res.grad_lp) grad.push_back(Json(row));
  out["grad_lp"] = grad;
  return out;
}

}  // namespace r1
