// Rejection sampling. See rejection.h.
#include "rl/rejection.h"

#include <set>

#include "tasks/sft_data.h"
#include "util/error.h"

namespace r1 {

namespace {

struct Counts {
  int64_t prompts = 0, samples = 0, accepted = 0, kept = 0, prompts_with_kept = 0;
  std::map<std::string, int64_t> rejected_by = {{"correct", 0}, {"format", 0}, {"language", 0}, {"length", 0}};
  Json to_json() const {
    Json j = Json::object();
    j["prompts"] = prompts;
    j["samples"] = samples;
    j["accepted"] = accepted;
    j["kept"] = kept;
    j["prompts_with_kept"] = prompts_with_kept;
    j["acceptance_rate"] = samples ? double(accepted) / double(samples) : 0.0;
    Json r = Json::object();
    for (const auto& [filter, n] : rejected_by) r[filter] = n;
    j["rejected_by"] = r;  // a completion failing several filters counts under each
    return j;
  }
};

}  // namespace

std::map<std::string, bool> rejection_filters(const Json& g, const RejectionOptions& opt) {
  int64_t length = g.at("length").as_int();
  return {{"correct", g.at("correct").as_bool()},
          {"format", g.at("format").as_bool()},
          {"language", g.at("language").as_number() >= opt.min_language},
          {"length", g.at("finish").as_string() != "length" && (opt.max_length == 0 || length <= opt.max_length)}};
}

RejectionResult rejection_sample(Transformer& model, const Tokenizer& tok, const std::vector<Json>& rows,
                                 const RejectionOptions& opt) {
  if (opt.keep_per_prompt < 1) throw Error("rejection sampling: keep_per_prompt must be >= 1");
  if (opt.max_length < 0) throw Error("rejection sampling: max_length must be >= 0");
  EvalResult ev = evaluate(model, tok, rows, opt.sampling);
  const size_t K = size_t(opt.sampling.n_samples);
  RejectionResult res;
  std::map<std::string, Counts> tasks;
  Counts all;
  for (size_t i = 0; i < rows.size(); i++) {
    std::string task = rows[i].at("task").as_string();
    std::set<std::string> seen;  // distinct completions kept for this prompt
    for (size_t k = 0; k < K; k++) {
      Json g = ev.generations[i * K + k];
      std::map<std::string, bool> pass = rejection_filters(g, opt);
      bool accepted = true;
      for (const auto& [filter, ok] : pass) accepted = accepted && ok;
      bool keep = accepted && int64_t(seen.size()) < opt.keep_per_prompt &&
                  seen.insert(g.at("completion").as_string()).second;
      for (Counts* c : {&tasks[task], &all}) {
        c->samples++;
        c->accepted += accepted;
        c->kept += keep;
        for (const auto& [filter, ok] : pass) c->rejected_by[filter] += !ok;
      }
      if (keep)
        res.kept.push_back(sft_row(g.at("prompt").as_string(), g.at("completion").as_string(), task, "rejection_sampling"));
      g["accepted"] = accepted;
      g["kept"] = keep;
      res.samples.push_back(g);
    }
    for (Counts* c : {&tasks[task], &all}) {
      c->prompts++;
      c->prompts_with_kept += !seen.empty();
    }
  }
  res.stats = Json::object();
  res.stats["overall"] = all.to_json();
  Json t = Json::object();
  for (const auto& [name, c] : tasks) t[name] = c.to_json();
  res.stats["tasks"] = t;
  return res;
}

}  // namespace r1
