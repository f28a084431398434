// The reward-model training loop. See rm_trainer.h.
#include "train/rm_trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "autograd/autograd.h"
#include "train/data.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"
#include "util/rng.h"

namespace r1 {

// --- config ----------------------------------------------------------------------------

TrainConfig RmTrainConfig::default_train() {
  TrainConfig t;
  t.steps = 200;
  t.batch_size = 16;
  t.warmup_steps = 10;
  t.weight_decay = 0.0f;
  t.eval_every = 50;
  return t;
}

RmTrainConfig RmTrainConfig::from_json(const Json& j, const std::string& source) {
  if (!j.is_object()) throw Error(cat(source, ": the reward-model training config must be an object"));
  RmTrainConfig c;
  Json train_fields = Json::object();  // j without "head_std"
  for (const auto& [key, value] : j.as_object())
    if (key != "head_std") train_fields[key] = value;
  c.train = TrainConfig::from_json(train_fields, source, default_train(), TrainConfig::Fields::no_lm_only);
  try {
    c.head_std = float(j.get_number("head_std", c.head_std));
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
  if (!(c.head_std > 0)) throw Error(cat(source, ": training field 'head_std' must be > 0"));
  return c;
}

Json RmTrainConfig::to_json() const {
  Json j = train.to_json(TrainConfig::Fields::no_lm_only);
  j["head_std"] = head_std;
  return j;
}

// --- data ------------------------------------------------------------------------------

std::vector<TokenPair> read_preference_pairs(const std::string& path, const RewardModel& rm) {
  std::vector<int64_t> lines;
  std::vector<Json> rows = read_jsonl(path, &lines);
  std::vector<TokenPair> pairs;
  for (size_t r = 0; r < rows.size(); r++) {
    for (const char* field : {"prompt", "chosen", "rejected"}) {
      const Json* v = rows[r].find(field);
      if (!v) throw Error(cat(path, ":", lines[r], ": missing field '", field, "'"));
      if (!v->is_string())
        throw Error(cat(path, ":", lines[r], ": field '", field, "' must be a string, got ", Json::type_name(v->type())));
    }
    const std::string& prompt = rows[r].at("prompt").as_string();
    pairs.push_back({rm.encode(prompt, rows[r].at("chosen").as_string()),
                     rm.encode(prompt, rows[r].at("rejected").as_string())});
  }
  return pairs;
}

// Scores of a batch of n pairs: chosen (n) and rejected (n), from one padded forward of 2n texts.
static std::pair<Tensor, Tensor> pair_scores(RewardModel& rm, const std::vector<const TokenPair*>& batch,
                                             Tensor* aux_loss) {
  std::vector<Ids> seqs;
  for (const TokenPair* p : batch) seqs.push_back(p->chosen);
  for (const TokenPair* p : batch) seqs.push_back(p->rejected);
  const int64_t n = int64_t(batch.size());
  std::vector<Tensor> r = split(rm.forward(seqs, aux_loss), {n, n}, 0);  // (2n) -> (n), (n)
  return {r[0], r[1]};
}

static double accuracy_of(const Tensor& r_chosen, const Tensor& r_rejected) {
  std::vector<float> c = r_chosen.to_vector(), r = r_rejected.to_vector();
  int64_t right = 0;
  for (size_t i = 0; i < c.size(); i++) right += c[i] > r[i];
  return double(right) / double(c.size());
}

PairEval evaluate_pairs(RewardModel& rm, const std::vector<TokenPair>& pairs, int64_t batch_size) {
  check(!pairs.empty(), "evaluate_pairs: no pairs");
  NoGradGuard guard;
  PairEval e;
  for (size_t start = 0; start < pairs.size(); start += size_t(batch_size)) {
    std::vector<const TokenPair*> batch;
    for (size_t i = start; i < std::min(pairs.size(), start + size_t(batch_size)); i++) batch.push_back(&pairs[i]);
    auto [rc, rr] = pair_scores(rm, batch, nullptr);
    double n = double(batch.size());
    e.loss += bradley_terry_loss(rc, rr).item() * n;
    e.accuracy += accuracy_of(rc, rr) * n;
  }
  e.loss /= double(pairs.size());
  e.accuracy /= double(pairs.size());
  return e;
}

// Pair k of the endless training order: epoch k / n in the permutation drawn from Rng(seed, epoch).
class PairOrder {
 public:
  PairOrder(size_t n, uint64_t seed) : n_(n), seed_(seed) {}
  size_t at(int64_t k) {
    int64_t epoch = k / int64_t(n_);
    if (epoch != epoch_) {
      perm_.resize(n_);
      std::iota(perm_.begin(), perm_.end(), size_t(0));
      Rng rng(seed_, uint64_t(epoch));
      for (size_t i = n_; i > 1; i--) std::swap(perm_[i - 1], perm_[rng.below(i)]);
      epoch_ = epoch;
    }
    return perm_[size_t(k % int64_t(n_))];
  }

 private:
  size_t n_;
  uint64_t seed_;
  int64_t epoch_ = -1;
  std::vector<size_t> perm_;  // (n) the current epoch's order
};

// --- the loop ------------------------------------------------------------------------------

void train_rm(RewardModel& rm, const std::vector<TokenPair>& train, const std::vector<TokenPair>& heldout,
              const TrainConfig& cfg, RunDir& run, bool resume, int64_t stop_after) {
  check(!train.empty(), "r1 rm train: no training pairs");
  std::vector<NamedTensor> named = rm.parameters();
  AdamW opt(named, cfg.adamw());
  std::vector<Tensor> params;
  for (auto& [name, t] : named) params.push_back(t);
  LrSchedule sched = cfg.schedule();

  int64_t step = 0;
  if (resume) {
    std::string ckpt = run.latest_checkpoint();
    if (ckpt.empty()) throw Error(cat("--resume: ", run.path(), " has no checkpoint yet"));
    rm.load_weights_from(ckpt + "/model.safetensors");
    opt.load_state(ckpt + "/optimizer.safetensors");
    step = Json::parse_file(ckpt + "/trainer_state.json").at("step").as_int();
    run.truncate_metrics(step);
    std::fprintf(stderr, "rm: resuming %s at step %lld\n", ckpt.c_str(), (long long)step);
  }
  auto checkpoint = [&](int64_t at) {
    run.save_checkpoint(at, cfg.keep_last, [&](const std::string& dir) {
      rm.write_files(dir);
      opt.save_state(dir + "/optimizer.safetensors");
      Json st = Json::object();
      st["step"] = at;
      write_file_atomic(dir + "/trainer_state.json", st.dump(2) + "\n");
    });
  };

  PairOrder order(train.size(), cfg.seed);
  Progress::Options po;
  po.initial = step;
  Progress bar(cfg.steps, "rm", po);
  auto t_start = std::chrono::steady_clock::now();
  int64_t end = stop_after > 0 ? std::min(cfg.steps, step + stop_after) : cfg.steps;
  for (; step < end; step++) {
    std::vector<const TokenPair*> batch;
    for (int64_t j = 0; j < cfg.batch_size; j++) batch.push_back(&train[order.at(step * cfg.batch_size + j)]);
    Tensor aux;
    auto [rc, rr] = pair_scores(rm, batch, &aux);
    Tensor loss = bradley_terry_loss(rc, rr);
    double loss_value = loss.item(), accuracy = accuracy_of(rc, rr);
    backward(aux.defined() ? add(loss, aux) : loss);
    float grad_norm = clip_grad_norm(params, cfg.grad_clip);
    float lr = sched.at(step);
    opt.config().lr = lr;
    if (std::isfinite(grad_norm)) opt.step();
    opt.zero_grad();
    rm.backbone().update_router_bias();

    Json m = Json::object();
    m["step"] = step + 1;
    m["loss"] = loss_value;
    m["accuracy"] = accuracy;
    m["lr"] = lr;
    m["grad_norm"] = grad_norm;
    bool last = step + 1 == cfg.steps;
    std::string extra = cat("loss ", loss_value, "  acc ", accuracy);
    if (!heldout.empty() && ((cfg.eval_every > 0 && (step + 1) % cfg.eval_every == 0) || last)) {
      PairEval e = evaluate_pairs(rm, heldout, cfg.batch_size);
      m["heldout_loss"] = e.loss;
      m["heldout_accuracy"] = e.accuracy;
      extra += cat("  heldout acc ", e.accuracy);
    }
    run.log(m);
    bar.update(step + 1, extra);
    if (!std::isfinite(loss_value)) throw Error(cat("rm: the loss became ", loss_value, " at step ", step + 1));
    if ((cfg.checkpoint_every > 0 && (step + 1) % cfg.checkpoint_every == 0) || step + 1 == end) checkpoint(step + 1);
  }
  bar.finish();
  if (end < cfg.steps) {
    std::fprintf(stderr, "rm: stopped after step %lld of %lld; continue with --resume\n", (long long)end,
                 (long long)cfg.steps);
    return;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  rm.save(run.file("model"));
  std::fprintf(stderr, "rm: %lld steps in %.1f s; reward model written to %s\n", (long long)cfg.steps, secs,
               run.file("model").c_str());
}

}  // namespace r1
