// The GRPO loop. See grpo_trainer.h for the step-by-step description.
#include "rl/grpo_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>

#include "autograd/autograd.h"
#include "dist/data_parallel.h"
#include "model/checkpoint.h"
#include "reward/reward_model.h"
#include "rl/eval.h"
#include "sample/generate.h"
#include "sample/template.h"
#include "tasks/tasks.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/optim.h"
#include "train/run.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace r1 {

// --- config ------------------------------------------------------------------------------

GrpoConfig GrpoConfig::from_json(const Json& j, const std::string& source) {
  reject_unknown_fields(j, {
      "tasks", "difficulty", "steps", "convention", "baseline", "kl", "kl_clamp", "ratio", "policy", "dual_clip", "len_eps", "prompts_per_step", "group_size", "lr", "weight_decay", "grad_clip", "beta",
      "eps_low", "eps_high", "loss", "scale_rewards", "std", "eps", "max_len", "mu", "minibatches", "temperature",
      "top_p", "max_new_tokens", "ref_reset_every", "dynamic_sampling", "mask_truncated", "overlong_buffer",
      "overlong_penalty", "w_accuracy", "w_format", "w_language", "template", "eval_every", "eval_rows",
      "eval_temperature", "eval_dir", "checkpoint_every", "keep_last", "seed", "reward_model", "w_rm", "rm_tasks",
      "token_budget"}, source, "GRPO field");
  GrpoConfig c;
  try {
    if (j.contains("tasks")) {
      c.tasks.clear();
      for (const Json& t : j.at("tasks").as_array()) c.tasks.push_back(t.as_string());
    }
    c.difficulty = int(j.get_int("difficulty", c.difficulty));
    c.steps = j.get_int("steps", c.steps);
    c.prompts_per_step = j.get_int("prompts_per_step", c.prompts_per_step);
    c.group_size = j.get_int("group_size", c.group_size);
    c.lr = float(j.get_number("lr", c.lr));
    c.weight_decay = float(j.get_number("weight_decay", c.weight_decay));
    c.grad_clip = float(j.get_number("grad_clip", c.grad_clip));
    GrpoOptions& o = c.objective;
    // A named convention (docs/verify.md) first; the fields given override it.
    if (j.contains("convention")) o = grpo_convention(j.at("convention").as_string());
    o.baseline = j.get_string("baseline", o.baseline);
    o.kl = j.get_string("kl", o.kl);
    o.kl_clamp = j.get_number("kl_clamp", o.kl_clamp);
    o.ratio = j.get_string("ratio", o.ratio);
    o.policy = j.get_string("policy", o.policy);
    o.dual_clip = j.get_number("dual_clip", o.dual_clip);
    o.len_eps = j.get_number("len_eps", o.len_eps);
    o.beta = j.get_number("beta", o.beta);
    o.eps_low = j.get_number("eps_low", o.eps_low);
    o.eps_high = j.get_number("eps_high", o.eps_high);
    o.loss = j.get_string("loss", o.loss);
    o.scale_rewards = j.get_string("scale_rewards", o.scale_rewards);
    o.std = j.get_string("std", o.std);
    o.eps = j.get_number("eps", o.eps);
    o.max_len = j.get_int("max_len", o.max_len);
    c.mu = j.get_int("mu", c.mu);
    c.minibatches = j.get_int("minibatches", c.minibatches);
    c.temperature = float(j.get_number("temperature", c.temperature));
    c.top_p = float(j.get_number("top_p", c.top_p));
    c.max_new_tokens = j.get_int("max_new_tokens", c.max_new_tokens);
    c.ref_reset_every = j.get_int("ref_reset_every", c.ref_reset_every);
    c.dynamic_sampling = j.get_bool("dynamic_sampling", c.dynamic_sampling);
    c.mask_truncated = j.get_bool("mask_truncated", c.mask_truncated);
    c.overlong_buffer = j.get_int("overlong_buffer", c.overlong_buffer);
    c.overlong_penalty = j.get_number("overlong_penalty", c.overlong_penalty);
    c.weights.accuracy = j.get_number("w_accuracy", c.weights.accuracy);
    c.weights.format = j.get_number("w_format", c.weights.format);
    c.weights.language = j.get_number("w_language", c.weights.language);
    c.template_kind = j.get_string("template", c.template_kind);
    c.weights.allow_summary = c.template_kind == "chat";  // the R1 layout goes with the chat template
    c.eval_every = j.get_int("eval_every", c.eval_every);
    c.eval_rows = j.get_int("eval_rows", c.eval_rows);
    c.eval_temperature = float(j.get_number("eval_temperature", c.eval_temperature));
    c.eval_dir = j.get_string("eval_dir", c.eval_dir);
    c.checkpoint_every = j.get_int("checkpoint_every", c.checkpoint_every);
    c.keep_last = int(j.get_int("keep_last", c.keep_last));
    c.seed = uint64_t(j.get_int("seed", int64_t(c.seed)));
    c.reward_model = j.get_string("reward_model", c.reward_model);
    c.w_rm = j.get_number("w_rm", c.w_rm);
    if (j.contains("rm_tasks")) {
      c.rm_tasks.clear();
      for (const Json& t : j.at("rm_tasks").as_array()) c.rm_tasks.push_back(t.as_string());
    }
    c.token_budget = j.get_int("token_budget", c.token_budget);
    validate(c.objective);
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
  auto need = [&](bool ok, const char* field, const char* rule) {
    if (!ok) throw Error(cat(source, ": ", field, " ", rule));
  };
  need(!c.tasks.empty(), "tasks", "must name at least one task");
  for (const std::string& t : c.tasks) {
    std::vector<std::string> names = task_names();
    need(std::find(names.begin(), names.end(), t) != names.end(), "tasks", "names an unknown task");
  }
  need(c.objective.kl_in == "loss", "convention",
       "puts the KL in the reward: r1 grpo computes the reference log-probs during the update, so its KL goes in the loss");
  need(c.objective.tis_cap == 0, "convention",
       "uses TIS: r1 grpo samples with the policy it trains (rollout log-probs = lp_old), so there is nothing to correct");
  need(c.steps >= 1, "steps", "must be >= 1");
  need(c.prompts_per_step >= 1, "prompts_per_step", "must be >= 1");
  need(c.group_size >= 2, "group_size", "must be >= 2 (advantages compare completions within a group)");
  need(c.lr > 0, "lr", "must be > 0");
  need(c.mu >= 1, "mu", "must be >= 1");
  need(c.minibatches >= 1 && c.minibatches <= c.prompts_per_step * c.group_size, "minibatches",
       "must be in [1, prompts_per_step * group_size]");
  need(c.temperature > 0, "temperature", "must be > 0 (GRPO needs sampled, diverse completions)");
  need(c.max_new_tokens >= 1, "max_new_tokens", "must be >= 1");
  need(c.overlong_buffer >= 0 && c.overlong_buffer < c.max_new_tokens, "overlong_buffer", "must be in [0, max_new_tokens)");
  need(c.eval_rows >= 1, "eval_rows", "must be >= 1");
  need(c.objective.max_len == 0 || c.objective.max_len >= c.max_new_tokens, "max_len",
       "must be 0 (= max_new_tokens) or at least max_new_tokens (dr_grpo divides by the generation budget)");
  need(c.top_p > 0 && c.top_p <= 1, "top_p", "must be in (0, 1]");
  need(c.token_budget >= 0, "token_budget", "must be >= 0");
  need(c.eval_temperature >= 0, "eval_temperature", "must be >= 0");
  return c;
}

Json GrpoConfig::to_json() const {
  Json j = Json::object();
  j["tasks"] = Json(tasks);
  j["difficulty"] = difficulty;
  j["steps"] = steps;
  j["prompts_per_step"] = prompts_per_step;
  j["group_size"] = group_size;
  j["lr"] = lr;
  j["weight_decay"] = weight_decay;
  j["grad_clip"] = grad_clip;
  j["beta"] = objective.beta;
  j["eps_low"] = objective.eps_low;
  j["eps_high"] = objective.eps_high;
  j["loss"] = objective.loss;
  j["scale_rewards"] = objective.scale_rewards;
  j["std"] = objective.std;
  j["eps"] = objective.eps;
  j["max_len"] = objective.max_len;
  if (!objective.convention.empty()) j["convention"] = objective.convention;
  j["baseline"] = objective.baseline;
  j["kl"] = objective.kl;
  j["kl_clamp"] = objective.kl_clamp;
  j["ratio"] = objective.ratio;
  j["policy"] = objective.policy;
  j["dual_clip"] = objective.dual_clip;
  j["len_eps"] = objective.len_eps;
  j["mu"] = mu;
  j["minibatches"] = minibatches;
  j["temperature"] = temperature;
  j["top_p"] = top_p;
  j["max_new_tokens"] = max_new_tokens;
  j["ref_reset_every"] = ref_reset_every;
  j["dynamic_sampling"] = dynamic_sampling;
  j["mask_truncated"] = mask_truncated;
  j["overlong_buffer"] = overlong_buffer;
  j["overlong_penalty"] = overlong_penalty;
  j["w_accuracy"] = weights.accuracy;
  j["w_format"] = weights.format;
  j["w_language"] = weights.language;
  j["template"] = template_kind;
  j["eval_every"] = eval_every;
  j["eval_rows"] = eval_rows;
  j["eval_temperature"] = eval_temperature;
  j["eval_dir"] = eval_dir;
  j["checkpoint_every"] = checkpoint_every;
  j["keep_last"] = keep_last;
  j["seed"] = int64_t(seed);
  j["reward_model"] = reward_model;
  j["w_rm"] = w_rm;
  j["rm_tasks"] = Json(rm_tasks);
  j["token_budget"] = token_budget;
  return j;
}

// --- pieces of a step ----------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// One sampled completion and everything the update needs about it.
struct Rollout {
  const Json* row = nullptr;
  Ids prompt;
  Ids tokens;                  // the completion
  std::vector<float> lp_old;   // sampler log-probs
  std::string finish;
  RewardBreakdown reward;
  bool rm_scored = false;      // scored by the reward model (alignment RL)
  double proxy = 0;            // the reward model's score
  double total = 0;            // reward after shaping
  double advantage = 0;
  // Data parallel: false for another rank's rollout, known here only by the scalars gathered
  // from it (rewards, finish, length as `tokens.size()` zero tokens, prompt_tokens); never trained.
  bool local = true;
  int64_t prompt_tokens = 0;
  int64_t reflections = 0;     // reflection words in the completion (rl/emergence.h)
  int64_t candidates = 0;      // candidates it tried (search task)
};

// Data parallel: every rank's rollouts of this step, in global order (rank r's prompts are
// [r*P/N, (r+1)*P/N)), with the scalars the advantages, the filters and the metrics need;
// `mine` are this rank's, moved in whole. The scalars travel through gather_slots (exact).
std::vector<Rollout> gather_rollouts(Communicator& comm, std::vector<Rollout>& mine, int64_t first, int64_t total,
                                     const std::function<const Json*(int64_t)>& row_of) {
  const int64_t F = 12;  // scalars per rollout
  std::vector<double> local;
  for (const Rollout& r : mine)
    local.insert(local.end(), {r.reward.accuracy, r.reward.format, r.reward.language, r.reward.total, r.total,
                               double(r.tokens.size()), double(r.finish == "length"), double(r.rm_scored), r.proxy,
                               double(r.prompt_tokens), double(r.reflections), double(r.candidates)});
  std::vector<double> all = gather_slots(comm, local, first * F, total * F);
  std::vector<Rollout> out(static_cast<size_t>(total));
  for (int64_t j = 0; j < total; j++) {
    if (j >= first && j < first + int64_t(mine.size())) {
      out[size_t(j)] = std::move(mine[size_t(j - first)]);
      continue;
    }
    const double* v = &all[size_t(j * F)];
    Rollout& r = out[size_t(j)];
    r.local = false;
    r.row = row_of(j);
    r.reward.accuracy = v[0], r.reward.format = v[1], r.reward.language = v[2], r.reward.total = v[3], r.total = v[4];
    r.tokens.assign(size_t(v[5]), 0);
    r.finish = v[6] > 0 ? "length" : "stop";
    r.rm_scored = v[7] > 0, r.proxy = v[8], r.prompt_tokens = int64_t(v[9]), r.reflections = int64_t(v[10]);
    r.candidates = int64_t(v[11]);
  }
  return out;
}

// Copies every tensor of src into dst (same config).
void copy_weights(Transformer& dst, Transformer& src) {
  TensorSlots d = dst.slots(), s = src.slots();
  for (size_t i = 0; i < d.size(); i++) d[i].tensor->copy_from(*s[i].tensor);
}

// Log-probs of the completion tokens under `model` (logits / temperature), laid end to end
// in rollout order: (total completion tokens). With autograd when enabled. `aux` receives the
// model's balance loss; `entropy` (optional) the summed token entropies. Rows are right-padded
// to the longest row, or to `width` when larger: the MoE layers route the padding positions too
// (they count in the router load and the balance loss), so under data parallelism every rank pads
// its part of a minibatch to the global minibatch's width, as one rank holding all of it would.
Tensor completion_logprobs(Transformer& model, const std::vector<const Rollout*>& batch, float temperature,
                           Tensor* aux, double* entropy, int64_t width = 0) {
  int64_t B = int64_t(batch.size()), T = width;
  for (const Rollout* r : batch) T = std::max(T, int64_t(r->prompt.size() + r->tokens.size()));
  // Right padding: causal attention keeps real tokens from seeing it.
  Ids ids(size_t(B * T), 0), rows, targets;
  for (int64_t b = 0; b < B; b++) {
    const Rollout& r = *batch[size_t(b)];
    int64_t p = int64_t(r.prompt.size());
    std::copy(r.prompt.begin(), r.prompt.end(), ids.begin() + b * T);
    std::copy(r.tokens.begin(), r.tokens.end(), ids.begin() + b * T + p);
    for (size_t t = 0; t < r.tokens.size(); t++) {
      rows.push_back(int32_t(b * T + p - 1 + int64_t(t)));  // logits at position i predict token i+1
      targets.push_back(r.tokens[t]);
    }
  }
  ModelOutput out = model.forward(ids, B, T);
  if (aux) *aux = out.aux_loss;
  Tensor sel = index_select(out.logits, rows);  // (Ntok, V)
  if (temperature != 1.0f) sel = scale(sel, 1.0f / temperature);
  Tensor logp = log_softmax(sel);
  if (entropy && logp.is_cuda()) {
    // On the device: one scalar comes back (summed in float, not in the CPU's double order).
    *entropy = -double(sum(mul(exp(logp), logp)).item());
  } else if (entropy) {
    std::vector<float> v = logp.to_vector();
    double h = 0;
    for (float x : v) h -= std::exp(double(x)) * double(x);
    *entropy = h;
  }
  return reshape(gather(logp, targets, 1), {int64_t(targets.size())});
}

// Data parallel: one optimizer update of a minibatch. This rank's gradient (its unit, possibly
// empty) and its scalars `local` {loss, kl, clip, entropy sum, entropy tokens} are summed over
// ranks; every rank then takes the same clipped AdamW step. Returns the summed scalars.
std::vector<double> dp_update(GradReducer& reducer, Communicator& comm, const std::vector<Tensor>& params,
                              float grad_clip, AdamW& opt, std::vector<double> local, double& grad_norm) {
  reducer.add_unit();
  reducer.reduce();
  sum_over_ranks(comm, local);
  grad_norm = clip_grad_norm(params, grad_clip);
  if (std::isfinite(grad_norm)) opt.step();
  opt.zero_grad();
  return local;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

// --- the loop ----------------------------------------------------------------------------

void train_grpo(Transformer& model, const Tokenizer& tok, const std::string& tokenizer_json, const GrpoConfig& cfg,
                RunDir& run, bool resume) {
  const int64_t P = cfg.prompts_per_step, G = cfg.group_size;
  // Data parallel (docs/distributed.md): rank r samples, scores and trains prompts
  // [r*P/N, (r+1)*P/N) of each step, whole groups, so advantages need no communication; the
  // rollouts' scalars are then gathered (filters and metrics see the global batch) and each
  // minibatch's loss is normalised over the global minibatch before the gradients are summed.
  Communicator& comm = world();
  const bool rank0 = comm.rank() == 0, dp = comm.size() > 1;
  const Share mine = share_of(P, comm.rank(), comm.size(), "prompts_per_step");
  // Prompt pools: the i-th prompt of the run comes from task i % ntasks, its (i / ntasks)-th row.
  int64_t ntasks = int64_t(cfg.tasks.size());
  int64_t per_task = (cfg.steps * P + ntasks - 1) / ntasks;
  std::vector<std::vector<Json>> pools;
  for (const std::string& t : cfg.tasks) pools.push_back(generate_tasks(t, per_task, cfg.seed, cfg.difficulty, Split::Train));
  std::vector<Json> eval_rows;
  for (const std::string& t : cfg.tasks) {
    std::vector<Json> rows = read_jsonl(cfg.eval_dir + "/" + t + ".jsonl");
    if (int64_t(rows.size()) > cfg.eval_rows) rows.resize(size_t(cfg.eval_rows));
    eval_rows.insert(eval_rows.end(), rows.begin(), rows.end());
  }
  int eos = tok.token_id("<|endoftext|>");
  std::optional<RewardModel> rm;
  if (!cfg.reward_model.empty()) rm.emplace(RewardModel::load(cfg.reward_model));
  auto rm_task = [&](const Json& row) {
    return rm && std::find(cfg.rm_tasks.begin(), cfg.rm_tasks.end(), row.at("task").as_string()) != cfg.rm_tasks.end();
  };

  Transformer ref(model.config());
  ref.to(model.device());  // the reference lives beside the policy
  copy_weights(ref, model);
  AdamWConfig ac;
  ac.lr = cfg.lr;
  ac.beta1 = 0.9f;
  ac.beta2 = 0.99f;
  ac.weight_decay = cfg.weight_decay;
  AdamW opt(model.parameters(), ac);
  std::vector<Tensor> params;
  for (auto& [name, t] : model.parameters()) params.push_back(t);
  std::optional<GradReducer> reducer;  // several ranks: one unit (this rank's share) per minibatch
  if (dp) reducer.emplace(data_comm(model.device()), params);
  if (dp && rank0)
    std::fprintf(stderr,
                 "grpo: data parallel over %d ranks: %lld of %lld prompts (whole groups) each, gradients over %s\n",
                 comm.size(), (long long)mine.count, (long long)P, data_comm(model.device()).backend());

  int64_t step = 0, tokens_total = 0;  // tokens_total: prompt + completion tokens of every rollout so far
  if (resume) {
    std::string ckpt = run.latest_checkpoint();
    if (ckpt.empty()) throw Error(cat("--resume: ", run.path(), " has no checkpoint yet"));
    load_weights(model, load_safetensors(ckpt + "/model.safetensors"));
    load_weights(ref, load_safetensors(ckpt + "/reference.safetensors"));
    opt.load_state(ckpt + "/optimizer.safetensors");
    Json st = Json::parse_file(ckpt + "/trainer_state.json");
    step = st.at("step").as_int();
    tokens_total = st.get_int("tokens_total", 0);
    run.truncate_metrics(step);
    if (rank0) std::fprintf(stderr, "grpo: resuming %s at step %lld\n", ckpt.c_str(), (long long)step);
  }
  auto checkpoint = [&](int64_t at) {
    run.save_checkpoint(at, cfg.keep_last, [&](const std::string& dir) {
      write_model_files(dir, model, tokenizer_json);
      save_safetensors(dir + "/reference.safetensors", export_weights(ref));
      opt.save_state(dir + "/optimizer.safetensors");
      Json st = Json::object();
      st["step"] = at;
      st["tokens_total"] = tokens_total;
      write_file_atomic(dir + "/trainer_state.json", st.dump(2) + "\n");
    });
    comm.wait_for_writer();  // the other ranks wait here, not in the next step's watchdog-timed collective
  };
  auto eval_now = [&](int64_t at) {
    EvalOptions eo;
    eo.sampling.temperature = cfg.eval_temperature;
    eo.max_new_tokens = cfg.max_new_tokens;
    eo.template_kind = cfg.template_kind;
    eo.seed = 12345;  // the same eval samples' seeds at every evaluation
    eo.weights = cfg.weights;
    EvalResult er = evaluate(model, tok, eval_rows, eo);
    Json m = Json::object();
    m["step"] = at;
    m["eval"] = er.to_json();
    run.log(m);
    if (rank0) std::fprintf(stderr, "grpo: step %lld held-out pass@1 %.3f (format %.3f, length %.1f)\n", (long long)at,
                 er.overall.pass1, er.overall.format_rate, er.overall.mean_length);
  };
  if (step == 0) eval_now(0);

  GenerateOptions gen;
  gen.sampling.temperature = cfg.temperature;
  gen.sampling.top_p = cfg.top_p;
  gen.max_new_tokens = cfg.max_new_tokens;
  gen.stop_strings = {"</answer>"};
  gen.tokenizer = &tok;
  if (eos >= 0) gen.eos_ids.push_back(eos);

  // Dr. GRPO's constant normaliser is the generation budget, not the longest completion of
  // each minibatch (which would change from minibatch to minibatch).
  GrpoOptions objective = cfg.objective;
  if (objective.max_len == 0) objective.max_len = cfg.max_new_tokens;

  Progress::Options po;
  po.quiet = po.quiet || !rank0;
  Progress bar(cfg.steps, "grpo", po);
  for (; step < cfg.steps && (cfg.token_budget == 0 || tokens_total < cfg.token_budget); step++) {
    // 1-2. prompts and rollouts
    auto t0 = Clock::now();
    std::vector<Rollout> rolls;
    std::vector<Ids> prompts;
    std::vector<uint64_t> seeds;
    for (int64_t k = mine.first; k < mine.first + mine.count; k++) {
      int64_t i = step * P + k;
      const Json& row = pools[size_t(i % ntasks)][size_t(i / ntasks)];
      std::vector<int> pids = tok.encode(format_prompt(cfg.template_kind, row.at("prompt").as_string()));
      for (int64_t g = 0; g < G; g++) {
        Rollout r;
        r.row = &row;
        r.prompt.assign(pids.begin(), pids.end());
        rolls.push_back(r);
        prompts.push_back(r.prompt);
        seeds.push_back(Rng(cfg.seed + 1, uint64_t(i * G + g)).next());
      }
    }
    std::vector<Generation> gens = generate(model, prompts, seeds, gen);
    double t_gen = seconds_since(t0);

    // 3. rewards (with optional overlong shaping)
    auto t1 = Clock::now();
    int64_t completion_tokens = 0, reflections = 0, truncated = 0, candidates = 0;
    int64_t refl_ok[2] = {0, 0}, tokens_ok[2] = {0, 0};  // [incorrect, correct]: reflection words, tokens
    std::vector<std::string> rm_prompts, rm_texts;
    std::vector<size_t> rm_rows;  // rollouts the reward model scores
    for (size_t j = 0; j < rolls.size(); j++) {
      Rollout& r = rolls[j];
      r.prompt_tokens = int64_t(r.prompt.size());
      r.tokens = gens[j].tokens;
      r.lp_old = gens[j].logprobs;
      r.finish = gens[j].finish;
      std::string text = completion_text(tok, r.tokens);
      r.reward = compute_reward(*r.row, text, cfg.weights);
      r.total = r.reward.total;
      int64_t len = int64_t(r.tokens.size()), free_len = cfg.max_new_tokens - cfg.overlong_buffer;
      if (cfg.overlong_buffer > 0 && len > free_len)
        r.total -= cfg.overlong_penalty * double(len - free_len) / double(cfg.overlong_buffer);
      r.reflections = count_reflection_words(text);
      r.candidates = count_candidates(text);
      if (rm_task(*r.row)) {
        rm_rows.push_back(j);
        rm_prompts.push_back(r.row->at("prompt").as_string());
        rm_texts.push_back(text);
      }
    }
    // The reward model replaces the rule's accuracy term of its rows (one batched scoring).
    if (!rm_rows.empty()) {
      std::vector<double> scores = rm->score(rm_prompts, rm_texts);
      for (size_t k = 0; k < rm_rows.size(); k++) {
        Rollout& r = rolls[rm_rows[k]];
        r.rm_scored = true;
        r.proxy = scores[k];
        r.total += cfg.w_rm * scores[k] - cfg.weights.accuracy * r.reward.accuracy;
      }
    }
    if (dp)
      rolls = gather_rollouts(comm, rolls, mine.first * G, P * G, [&](int64_t j) {
        int64_t i = step * P + j / G;
        return &pools[size_t(i % ntasks)][size_t(i / ntasks)];
      });
    for (const Rollout& r : rolls) {  // the global batch's counts
      completion_tokens += int64_t(r.tokens.size());
      tokens_total += r.prompt_tokens + int64_t(r.tokens.size());
      reflections += r.reflections;
      candidates += r.candidates;
      refl_ok[r.reward.accuracy >= 1] += r.reflections;
      tokens_ok[r.reward.accuracy >= 1] += int64_t(r.tokens.size());
      truncated += r.finish == "length";
    }
    // 4. advantages, then the completions that enter the loss
    std::vector<double> rewards;
    for (const Rollout& r : rolls) rewards.push_back(r.total);
    std::vector<double> adv = grpo_advantages(rewards, G, objective);
    int64_t zero_std_groups = 0;
    std::vector<const Rollout*> batch;
    for (int64_t g0 = 0; g0 < P * G; g0 += G) {
      bool flat = true;
      for (int64_t i = g0; i < g0 + G; i++) flat = flat && rewards[size_t(i)] == rewards[size_t(g0)];
      zero_std_groups += flat;
      for (int64_t i = g0; i < g0 + G; i++) {
        rolls[size_t(i)].advantage = adv[size_t(i)];
        if (cfg.dynamic_sampling && flat) continue;
        if (cfg.mask_truncated && rolls[size_t(i)].finish == "length") continue;
        batch.push_back(&rolls[size_t(i)]);
      }
    }
    double t_score = seconds_since(t1);

    // 5. mu passes over minibatches
    auto t2 = Clock::now();
    const double comm0 = dp ? reducer->comm_seconds() : 0.0;
    double loss_sum = 0, kl_sum = 0, clip_sum = 0, entropy_sum = 0, grad_norm = 0;
    int64_t updates = 0, entropy_tokens = 0;
    int64_t mbs = std::min<int64_t>(cfg.minibatches, int64_t(batch.size()));
    std::vector<std::vector<float>> ref_cache(size_t(std::max<int64_t>(mbs, 0)));
    auto add_sums = [&](const std::vector<double>& v) {  // data parallel: one minibatch's global sums
      loss_sum += v[0], kl_sum += v[1], clip_sum += v[2], entropy_sum += v[3], entropy_tokens += int64_t(v[4]);
      updates++;
    };
    for (int64_t pass = 0; pass < cfg.mu && !batch.empty(); pass++) {
      for (int64_t mb = 0; mb < mbs; mb++) {
        std::vector<const Rollout*> part;  // this rank's completions of the minibatch
        int64_t mb_count = 0, mb_tokens = 0;  // the global minibatch's completions and tokens
        int64_t mb_width = 0;                 // its longest row (prompt + completion)
        for (size_t i = size_t(mb); i < batch.size(); i += size_t(mbs)) {
          mb_count++, mb_tokens += int64_t(batch[i]->tokens.size());
          mb_width = std::max(mb_width, batch[i]->prompt_tokens + int64_t(batch[i]->tokens.size()));
          if (batch[i]->local) part.push_back(batch[i]);
        }
        if (part.empty()) {  // another rank's completions only (possible after filtering)
          add_sums(dp_update(*reducer, comm, params, cfg.grad_clip, opt, {0, 0, 0, 0, 0}, grad_norm));
          continue;
        }
        std::vector<int64_t> lengths;
        std::vector<double> advs;
        std::vector<float> lp_old, lp_ref;
        for (const Rollout* r : part) {
          lengths.push_back(int64_t(r->tokens.size()));
          advs.push_back(r->advantage);
          lp_old.insert(lp_old.end(), r->lp_old.begin(), r->lp_old.end());
        }
        if (cfg.objective.beta > 0) {
          // The reference is frozen within a step: one forward per minibatch, reused by every pass.
          if (pass == 0) {
            // Host copies, as grpo_objective() takes lp_ref (it computes the loss in double on the host).
            NoGradGuard ng;
            ref_cache[size_t(mb)] = completion_logprobs(ref, part, cfg.temperature, nullptr, nullptr).to_vector();
          }
          lp_ref = ref_cache[size_t(mb)];
        }
        Tensor aux;
        double entropy = 0;
        Tensor lp = completion_logprobs(model, part, cfg.temperature, &aux, pass == 0 ? &entropy : nullptr, mb_width);
        if (cfg.objective.beta == 0) lp_ref = lp.to_vector();  // kl = 0 exactly; beta * kl = 0 anyway
        GrpoLoss stats;
        // grpo_objective reads lp to the host and computes the loss and dL/dlp in double (the golden
        // reference's precision): on CUDA one (total completion tokens) copy each way per minibatch.
        Tensor loss = grpo_objective(lp, lengths, advs, lp_old, lp_ref, objective, &stats);
        const double n_local = double(part.size()), t_local = double(lp.numel());
        if (dp) {
          // This rank's share of the global minibatch's loss: the objective over the local
          // completions times rank_share() (grpo.h); the balance loss, a mean over sequences, times
          // the share of sequences.
          loss = scale(loss, float(rank_share(objective, int64_t(n_local), int64_t(t_local), mb_count, mb_tokens)));
          if (aux.defined()) aux = scale(aux, float(n_local / double(mb_count)));
        }
        if (aux.defined()) loss = add(loss, aux);
        if (dp) {
          backward(loss);
          add_sums(dp_update(*reducer, comm, params, cfg.grad_clip, opt,
                             {double(loss.item()), stats.kl_mean * t_local / double(mb_tokens),
                              stats.clip_fraction * t_local / double(mb_tokens), pass == 0 ? entropy : 0.0,
                              pass == 0 ? t_local : 0.0},
                             grad_norm));
          continue;
        }
        backward(loss);
        grad_norm = clip_grad_norm(params, cfg.grad_clip);
        if (std::isfinite(grad_norm)) opt.step();
        opt.zero_grad();
        loss_sum += loss.item();
        kl_sum += stats.kl_mean;
        clip_sum += stats.clip_fraction;
        if (pass == 0) {
          entropy_sum += entropy;
          entropy_tokens += int64_t(lp.numel());
        }
        updates++;
      }
    }
    // 6. balancing bias (over the global expert load), reference reset
    reduce_router_load(model, comm);
    model.update_router_bias();
    if (cfg.ref_reset_every > 0 && (step + 1) % cfg.ref_reset_every == 0) copy_weights(ref, model);
    double t_train = seconds_since(t2);

    // metrics
    std::vector<double> acc, fmt, lang, len_c, len_w, proxy, gold;
    std::map<std::string, std::vector<double>> task_acc;
    for (const Rollout& r : rolls) {
      acc.push_back(r.reward.accuracy);
      fmt.push_back(r.reward.format);
      lang.push_back(r.reward.language);
      task_acc[r.row->at("task").as_string()].push_back(r.reward.accuracy);
      (r.reward.accuracy >= 1 ? len_c : len_w).push_back(double(r.tokens.size()));
      if (r.rm_scored) {
        proxy.push_back(r.proxy);
        gold.push_back(r.reward.accuracy);
      }
    }
    double rmean = mean_of(rewards), rvar = 0;
    for (double x : rewards) rvar += (x - rmean) * (x - rmean);
    Json m = Json::object();
    m["step"] = step + 1;
    m["reward_mean"] = rmean;
    m["reward_std"] = std::sqrt(rvar / double(rewards.size()));
    m["accuracy"] = mean_of(acc);
    m["format_rate"] = mean_of(fmt);
    m["language_consistency"] = mean_of(lang);
    Json ta = Json::object();
    for (const auto& [task, v] : task_acc) ta[task] = mean_of(v);
    m["task_accuracy"] = ta;
    if (!proxy.empty()) {
      m["proxy_reward"] = mean_of(proxy);
      m["gold_accuracy"] = mean_of(gold);
    }
    m["tokens_total"] = tokens_total;
    m["response_length"] = double(completion_tokens) / double(rolls.size());
    m["response_length_correct"] = mean_of(len_c);
    m["response_length_incorrect"] = mean_of(len_w);
    m["truncation_rate"] = double(truncated) / double(rolls.size());
    m["zero_std_groups"] = double(zero_std_groups) / double(P);
    m["reflection_per_1k_tokens"] = 1000.0 * double(reflections) / double(std::max<int64_t>(1, completion_tokens));
    m["reflection_per_1k_correct"] = 1000.0 * double(refl_ok[1]) / double(std::max<int64_t>(1, tokens_ok[1]));
    m["reflection_per_1k_incorrect"] = 1000.0 * double(refl_ok[0]) / double(std::max<int64_t>(1, tokens_ok[0]));
    m["candidates_per_completion"] = double(candidates) / double(rolls.size());
    m["completions_trained"] = int64_t(batch.size());
    if (updates > 0) {
      m["loss"] = loss_sum / double(updates);
      m["kl"] = kl_sum / double(updates);
      m["clip_fraction"] = clip_sum / double(updates);
      m["entropy"] = entropy_sum / double(std::max<int64_t>(1, entropy_tokens));
      m["grad_norm"] = grad_norm;
    }
    m["time_generate_s"] = t_gen;
    m["time_score_s"] = t_score;
    m["time_train_s"] = t_train;
    if (dp) m["time_comm_s"] = reducer->comm_seconds() - comm0;  // of time_train_s: the gradient collectives
    m["tokens_per_s"] = double(completion_tokens) / (t_gen + t_score + t_train);
    run.log(m);
    char extra[200];
    std::snprintf(extra, sizeof extra, "reward %.3f  acc %.3f  fmt %.2f  len %.1f  kl %.4f", rmean, mean_of(acc),
                  mean_of(fmt), double(completion_tokens) / double(rolls.size()), updates ? kl_sum / double(updates) : 0.0);
    bar.update(step + 1, extra);
    bool last = step + 1 == cfg.steps || (cfg.token_budget > 0 && tokens_total >= cfg.token_budget);
    if ((cfg.eval_every > 0 && (step + 1) % cfg.eval_every == 0) || last) eval_now(step + 1);
    if ((cfg.checkpoint_every > 0 && (step + 1) % cfg.checkpoint_every == 0) || last) checkpoint(step + 1);
  }
  bar.finish();
  if (!rank0) return;
  save_model(run.file("model"), model, tokenizer_json);
  std::fprintf(stderr, "grpo: model written to %s\n", run.file("model").c_str());
}

}  // namespace r1
