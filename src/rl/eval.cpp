// Sampling-based evaluation. See eval.h.
#include "rl/eval.h"

#include "reward/format.h"
#include "rl/emergence.h"
#include "sample/generate.h"
#include "sample/template.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/progress.h"

namespace r1 {

Json TaskScore::to_json() const {
  Json j = Json::object();
  j["rows"] = rows;
  j["pass@1"] = pass1;
  j["pass@k"] = passk;
  j["format_rate"] = format_rate;
  j["language_consistency"] = language;
  j["mixed_rate"] = mixed_rate;
  j["mean_length"] = mean_length;
  j["mean_length_correct"] = mean_length_correct;
  j["mean_length_incorrect"] = mean_length_incorrect;
  j["candidates"] = candidates;
  j["reflection_per_1k_correct"] = reflection_per_1k_correct;
  j["reflection_per_1k_incorrect"] = reflection_per_1k_incorrect;
  j["pass_at_k"] = Json(pass_at_k);
  return j;
}

Json EvalResult::to_json() const {
  Json j = Json::object();
  j["overall"] = overall.to_json();
  Json t = Json::object();
  for (const auto& [name, s] : tasks) t[name] = s.to_json();
  j["tasks"] = t;
  if (!difficulties.empty()) {
    Json d = Json::object();
    for (const auto& [name, s] : difficulties) d[name] = s.to_json();
    j["difficulties"] = d;
  }
  return j;
}

std::string completion_text(const Tokenizer& tok, const std::vector<int32_t>& tokens) {
  int eos = tok.token_id("<|endoftext|>");
  Ids ids;
  for (int32_t t : tokens)
    if (t != eos) ids.push_back(t);
  return decodable_text(tok, ids);
}

namespace {

// Running sums for one task (or overall).
struct Tally {
  int64_t rows = 0, samples = 0, correct = 0, formatted = 0, rows_any = 0;
  double len = 0, len_correct = 0, len_incorrect = 0;
  double language = 0;                    // sum of target-word shares over samples with words
  int64_t with_words = 0, mixed = 0;      // samples whose chain of thought has words / a foreign word
  int64_t candidates = 0, reflections[2] = {0, 0};  // reflection words in [incorrect, correct] samples
  std::vector<double> pass_at_k;          // (K) sums over rows
  void add_row(int64_t n, int64_t c) {
    pass_at_k.resize(size_t(n), 0.0);
    for (int64_t k = 1; k <= n; k++) pass_at_k[size_t(k - 1)] += r1::pass_at_k(n, c, k);
    rows++;
    rows_any += c > 0;
  }
  TaskScore score() const {
    TaskScore s;
    s.rows = rows;
    if (samples == 0) return s;
    s.pass1 = double(correct) / double(samples);
    s.passk = double(rows_any) / double(rows);
    s.format_rate = double(formatted) / double(samples);
    s.language = with_words ? language / double(with_words) : 1.0;
    s.mixed_rate = double(mixed) / double(samples);
    s.mean_length = len / double(samples);
    s.mean_length_correct = correct ? len_correct / double(correct) : 0;
    s.mean_length_incorrect = samples > correct ? len_incorrect / double(samples - correct) : 0;
    s.candidates = double(candidates) / double(samples);
    s.reflection_per_1k_correct = len_correct > 0 ? 1000.0 * double(reflections[1]) / len_correct : 0;
    s.reflection_per_1k_incorrect = len_incorrect > 0 ? 1000.0 * double(reflections[0]) / len_incorrect : 0;
    for (double p : pass_at_k) s.pass_at_k.push_back(p / double(rows));
    return s;
  }
};

}  // namespace

EvalResult evaluate(Transformer& model, const Tokenizer& tok, const std::vector<Json>& rows, const EvalOptions& opt) {
  if (opt.n_samples < 1) throw Error("eval: n_samples must be >= 1");
  if (opt.batch < 1) throw Error("eval: batch must be >= 1");
  int64_t K = opt.n_samples;
  // Every (row, sample) pair, in order.
  std::vector<Ids> prompts;
  std::vector<uint64_t> seeds;
  for (size_t i = 0; i < rows.size(); i++) {
    std::vector<int> ids = tok.encode(format_prompt(opt.template_kind, rows[i].at("prompt").as_string()));
    for (int64_t k = 0; k < K; k++) {
      prompts.push_back(Ids(ids.begin(), ids.end()));
      seeds.push_back(Rng(opt.seed, uint64_t(i) * uint64_t(K) + uint64_t(k)).next());
    }
  }
  GenerateOptions g;
  g.sampling = opt.sampling;
  g.max_new_tokens = opt.max_new_tokens;
  g.stop_strings = {"</answer>"};
  g.tokenizer = &tok;
  int eos = tok.token_id("<|endoftext|>");
  if (eos >= 0) g.eos_ids.push_back(eos);

  RewardWeights weights = opt.weights;
  weights.allow_summary = opt.template_kind == "chat";
  EvalResult res;
  std::map<std::string, Tally> tallies, levels;
  Tally all;
  Progress bar(int64_t(prompts.size()), "eval");
  std::vector<Generation> gens;
  for (size_t start = 0; start < prompts.size(); start += size_t(opt.batch)) {
    size_t end = std::min(prompts.size(), start + size_t(opt.batch));
    std::vector<Generation> part = generate(model, std::vector<Ids>(prompts.begin() + long(start), prompts.begin() + long(end)),
                                            std::vector<uint64_t>(seeds.begin() + long(start), seeds.begin() + long(end)), g);
    gens.insert(gens.end(), part.begin(), part.end());
    bar.update(int64_t(end));
  }
  bar.finish();
  for (size_t i = 0; i < rows.size(); i++) {
    const Json& row = rows[i];
    std::string task = row.at("task").as_string();
    Tally none;
    Tally& level = row.contains("difficulty") ? levels[task + "/d" + std::to_string(row.at("difficulty").as_int())] : none;
    int64_t n_correct = 0;
    for (int64_t k = 0; k < K; k++) {
      const Generation& gen = gens[i * size_t(K) + size_t(k)];
      std::string text = completion_text(tok, gen.tokens);
      RewardBreakdown r = compute_reward(row, text, weights);
      LanguageCount lang = count_language(chain_of_thought(text));
      bool ok = r.accuracy >= 1.0;
      double len = double(gen.tokens.size());
      int64_t cands = count_candidates(text), refl = count_reflection_words(text);
      for (Tally* t : {&tallies[task], &all, &level}) {
        t->samples++;
        t->candidates += cands;
        t->reflections[ok] += refl;
        t->correct += ok;
        t->formatted += r.format >= 1.0;
        if (lang.words > 0) {
          t->with_words++;
          t->language += double(lang.target) / double(lang.words);
          t->mixed += lang.target < lang.words;
        }
        t->len += len;
        (ok ? t->len_correct : t->len_incorrect) += len;
      }
      n_correct += ok;
      Json out = Json::object();
      out["task"] = task;
      out["prompt"] = row.at("prompt");
      out["answer"] = row.at("answer");
      out["completion"] = text;
      out["correct"] = ok;
      out["format"] = r.format >= 1.0;
      out["language"] = r.language;
      out["extracted"] = r.extracted;
      out["length"] = int64_t(gen.tokens.size());
      out["finish"] = gen.finish;
      res.generations.push_back(out);
    }
    for (Tally* t : {&tallies[task], &all, &level}) t->add_row(K, n_correct);
  }
  for (const auto& [name, t] : tallies) res.tasks[name] = t.score();
  for (const auto& [name, t] : levels) res.difficulties[name] = t.score();
  res.overall = all.score();
  return res;
}

}  // namespace r1
