// The LM training loop. See trainer.h.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "autograd/autograd.h"
#include "dist/data_parallel.h"
#include "model/checkpoint.h"
#include "train/optim.h"
#include "train/schedule.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/progress.h"

namespace r1 {

// --- config ----------------------------------------------------------------------------

TrainConfig TrainConfig::from_json(const Json& j, const std::string& source) {
  return from_json(j, source, TrainConfig(), Fields::all);
}

TrainConfig TrainConfig::from_json(const Json& j, const std::string& source, const TrainConfig& defaults,
                                   Fields fields) {
  TrainConfig c = defaults;
  if (!j.is_object()) throw Error(cat(source, ": the training section must be an object"));
  reject_unknown_fields(j, {"steps", "batch_size", "seq_len", "grad_accum", "lr", "min_lr", "warmup_steps",
                                "decay", "weight_decay", "beta1", "beta2", "grad_clip", "eval_every",
                                "eval_batches", "checkpoint_every", "keep_last", "seed"}, source, "training field");
  if (fields == Fields::no_lm_only)
    for (const char* lm_only : {"seq_len", "grad_accum", "eval_batches"})
      if (j.contains(lm_only)) throw Error(cat(source, ": unknown training field '", lm_only, "'"));
  try {
    c.steps = j.get_int("steps", c.steps);
    c.batch_size = j.get_int("batch_size", c.batch_size);
    c.seq_len = j.get_int("seq_len", c.seq_len);
    c.grad_accum = j.get_int("grad_accum", c.grad_accum);
    c.lr = float(j.get_number("lr", c.lr));
    c.min_lr = float(j.get_number("min_lr", c.min_lr));
    c.warmup_steps = j.get_int("warmup_steps", c.warmup_steps);
    c.decay = j.get_string("decay", c.decay);
    c.weight_decay = float(j.get_number("weight_decay", c.weight_decay));
    c.beta1 = float(j.get_number("beta1", c.beta1));
    c.beta2 = float(j.get_number("beta2", c.beta2));
    c.grad_clip = float(j.get_number("grad_clip", c.grad_clip));
    c.eval_every = j.get_int("eval_every", c.eval_every);
    c.eval_batches = j.get_int("eval_batches", c.eval_batches);
    c.checkpoint_every = j.get_int("checkpoint_every", c.checkpoint_every);
    c.keep_last = int(j.get_int("keep_last", c.keep_last));
    c.seed = uint64_t(j.get_int("seed", int64_t(c.seed)));
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
  auto need = [&](bool ok, const char* field, const char* rule) {
    if (!ok) throw Error(cat(source, ": training field '", field, "' ", rule));
  };
  need(c.steps >= 1, "steps", "must be >= 1");
  need(c.batch_size >= 1, "batch_size", "must be >= 1");
  need(c.seq_len >= 1, "seq_len", "must be >= 1");
  need(c.grad_accum >= 1, "grad_accum", "must be >= 1");
  need(c.lr > 0, "lr", "must be > 0");
  need(c.min_lr >= 0 && c.min_lr <= c.lr, "min_lr", "must be in [0, lr]");
  need(c.warmup_steps >= 0, "warmup_steps", "must be >= 0");
  need(c.grad_clip >= 0, "grad_clip", "must be >= 0");
  need(c.eval_every >= 0, "eval_every", "must be >= 0");
  need(c.eval_batches >= 1, "eval_batches", "must be >= 1");
  need(c.checkpoint_every >= 0, "checkpoint_every", "must be >= 0");
  parse_decay(c.decay);
  return c;
}

Json TrainConfig::to_json(Fields fields) const {
  const bool lm = fields == Fields::all;
  Json j = Json::object();
  j["steps"] = steps;
  j["batch_size"] = batch_size;
  if (lm) j["seq_len"] = seq_len;
  if (lm) j["grad_accum"] = grad_accum;
  j["lr"] = lr;
  j["min_lr"] = min_lr;
  j["warmup_steps"] = warmup_steps;
  j["decay"] = decay;
  j["weight_decay"] = weight_decay;
  j["beta1"] = beta1;
  j["beta2"] = beta2;
  j["grad_clip"] = grad_clip;
  j["eval_every"] = eval_every;
  if (lm) j["eval_batches"] = eval_batches;
  j["checkpoint_every"] = checkpoint_every;
  j["keep_last"] = keep_last;
  j["seed"] = int64_t(seed);
  return j;
}

AdamWConfig TrainConfig::adamw() const {
  AdamWConfig ac;
  ac.lr = lr;
  ac.beta1 = beta1;
  ac.beta2 = beta2;
  ac.weight_decay = weight_decay;
  return ac;
}

LrSchedule TrainConfig::schedule() const {
  LrSchedule sched;
  sched.max_lr = lr;
  sched.min_lr = min_lr;
  sched.warmup_steps = std::min(warmup_steps, steps);
  sched.total_steps = steps;
  sched.decay = parse_decay(decay);
  sched.validate();
  return sched;
}

// --- helpers -----------------------------------------------------------------------------

void set_run_device(Json& run_config, Device device, const std::string& run_dir, bool resume) {
  if (!resume) {
    run_config["device"] = device_name(device);
    return;
  }
  std::string path = run_dir + "/run_config.json";
  if (!std::ifstream(path)) return;  // RunDir reports the missing run
  Json saved = Json::parse_file(path);
  if (saved.is_object() && saved.contains("device")) run_config["device"] = saved.at("device");
}

static std::vector<Tensor> param_tensors(Transformer& model) {
  std::vector<Tensor> out;
  for (auto& [name, t] : model.parameters()) out.push_back(t);
  return out;
}

double heldout_loss(Transformer& model, const Loader& loader, int64_t batches, int64_t B, Communicator* comm) {
  NoGradGuard guard;
  const int rank = comm ? comm->rank() : 0, size = comm ? comm->size() : 1;
  std::vector<double> losses(size_t(batches), 0.0);  // (batches): this rank's, 0 elsewhere
  for (int64_t i = rank; i < batches; i += size) {
    Batch b = loader.window_batch(i * B, B);
    ModelOutput out = model.forward(b.inputs, b.B, b.T);
    losses[size_t(i)] = cross_entropy(out.logits, b.targets).item();
  }
  if (size > 1) losses = gather_slots(*comm, losses, 0, batches);
  double total = 0;
  for (double l : losses) total += l;
  return total / double(batches);
}

// --- the loop ------------------------------------------------------------------------------

void train_lm(Transformer& model, const TokenStream& train, const TokenStream* heldout, const TrainConfig& cfg,
              RunDir& run, const std::string& tokenizer_json, bool resume, const std::string& label,
              int64_t stop_after) {
  Loader loader(train, cfg.batch_size, cfg.seq_len, cfg.seed);
  std::unique_ptr<Loader> eval_loader;
  if (heldout) eval_loader = std::make_unique<Loader>(*heldout, cfg.batch_size, cfg.seq_len, cfg.seed, false);
  AdamW opt(model.parameters(), cfg.adamw());
  LrSchedule sched = cfg.schedule();
  Communicator& comm = world();
  const bool rank0 = comm.rank() == 0;
  const Share mine = share_of(cfg.grad_accum, comm.rank(), comm.size(), "grad_accum (micro-batches per step)");
  GradReducer reducer(data_comm(model.device()), param_tensors(model));
  if (comm.size() > 1 && rank0)
    std::fprintf(stderr, "%s: data parallel over %d ranks: %lld of %lld micro-batches each, gradients over %s\n",
                 label.c_str(), comm.size(), (long long)mine.count, (long long)cfg.grad_accum,
                 data_comm(model.device()).backend());

  int64_t step = 0;
  if (resume) {
    std::string ckpt = run.latest_checkpoint();
    if (ckpt.empty()) throw Error(cat("--resume: ", run.path(), " has no checkpoint yet"));
    load_weights(model, load_safetensors(ckpt + "/model.safetensors"));
    opt.load_state(ckpt + "/optimizer.safetensors");
    Json st = Json::parse_file(ckpt + "/trainer_state.json");
    step = st.at("step").as_int();
    loader.set_position(st.at("loader_position").as_int());
    run.truncate_metrics(step);
    if (rank0) std::fprintf(stderr, "%s: resuming %s at step %lld\n", label.c_str(), ckpt.c_str(), (long long)step);
  }
  auto checkpoint = [&](int64_t at) {
    run.save_checkpoint(at, cfg.keep_last, [&](const std::string& dir) {
      write_model_files(dir, model, tokenizer_json);
      opt.save_state(dir + "/optimizer.safetensors");
      Json st = Json::object();
      st["step"] = at;
      st["loader_position"] = loader.position();
      write_file_atomic(dir + "/trainer_state.json", st.dump(2) + "\n");
    });
    comm.wait_for_writer();  // the other ranks wait here, not in the next step's watchdog-timed collective
  };

  std::vector<Tensor> params = param_tensors(model);
  Progress::Options po;
  po.initial = step;  // a resumed run's rate and ETA count only this invocation's steps
  po.quiet = po.quiet || !rank0;
  Progress bar(cfg.steps, label, po);
  auto t_start = std::chrono::steady_clock::now();
  int64_t tokens_seen = 0;
  int64_t end = stop_after > 0 ? std::min(cfg.steps, step + stop_after) : cfg.steps;
  for (; step < end; step++) {
    auto t0 = std::chrono::steady_clock::now();
    double comm_s0 = reducer.comm_seconds();
    std::vector<double> losses, auxes;  // (this rank's micro-batches)
    int64_t tokens = 0;
    for (int64_t micro = 0; micro < cfg.grad_accum; micro++) {
      Batch b = loader.next();  // every rank walks the whole order: the same loader position everywhere
      tokens += b.B * b.T;
      if (micro < mine.first || micro >= mine.first + mine.count) continue;  // another rank's
      ModelOutput out = model.forward(b.inputs, b.B, b.T);
      Tensor loss = lm_loss(out, b.targets);
      auxes.push_back(out.aux_loss.defined() ? double(out.aux_loss.item()) : 0.0);
      losses.push_back(loss.item());
      backward(scale(loss, 1.0f / float(cfg.grad_accum)));
      reducer.add_unit();
    }
    reducer.reduce();  // the micro-batch gradients summed in micro-batch order (over every rank)
    reduce_router_load(model, comm);
    if (comm.size() > 1) {
      losses = gather_slots(comm, losses, mine.first, cfg.grad_accum);
      auxes = gather_slots(comm, auxes, mine.first, cfg.grad_accum);
    }
    double loss_sum = 0, aux_sum = 0;
    for (size_t i = 0; i < losses.size(); i++) loss_sum += losses[i], aux_sum += auxes[i];
    float grad_norm = clip_grad_norm(params, cfg.grad_clip);
    float lr = sched.at(step);
    opt.config().lr = lr;
    if (std::isfinite(grad_norm)) opt.step();
    opt.zero_grad();
    std::vector<RouterStats> rs = model.router_stats();
    double max_load = 0;
    for (const RouterStats& s : rs) max_load = std::max(max_load, s.max_over_mean());
    model.update_router_bias();
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    tokens_seen += tokens;

    Json m = Json::object();
    m["step"] = step + 1;
    m["loss"] = loss_sum / double(cfg.grad_accum);
    if (aux_sum > 0) m["aux_loss"] = aux_sum / double(cfg.grad_accum);
    m["lr"] = lr;
    m["grad_norm"] = grad_norm;
    m["tokens_per_s"] = double(tokens) / dt;
    if (!rs.empty()) m["router_max_over_mean_load"] = max_load;
    if (comm.size() > 1) m["time_comm_s"] = reducer.comm_seconds() - comm_s0;  // gradient collectives only
    bool last = step + 1 == cfg.steps;
    if (eval_loader && ((cfg.eval_every > 0 && (step + 1) % cfg.eval_every == 0) || last))
      m["heldout_loss"] = heldout_loss(model, *eval_loader, cfg.eval_batches, cfg.batch_size, &comm);
    run.log(m);
    char extra[160];
    std::snprintf(extra, sizeof extra, "loss %.4f  lr %.2e  %.0f tok/s", loss_sum / double(cfg.grad_accum), lr,
                  double(tokens) / dt);
    bar.update(step + 1, extra);
    if (!std::isfinite(loss_sum)) throw Error(cat(label, ": the loss became ", loss_sum, " at step ", step + 1));
    if ((cfg.checkpoint_every > 0 && (step + 1) % cfg.checkpoint_every == 0) || step + 1 == end) checkpoint(step + 1);
  }
  bar.finish();
  if (end < cfg.steps) {
    if (rank0)
      std::fprintf(stderr, "%s: stopped after step %lld of %lld; continue with --resume\n", label.c_str(),
                   (long long)end, (long long)cfg.steps);
    return;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  if (!rank0) return;
  save_model(run.file("model"), model, tokenizer_json);
  std::fprintf(stderr, "%s: %lld tokens in %.1f s; model written to %s\n", label.c_str(), (long long)tokens_seen, secs,
               run.file("model").c_str());
}

}  // namespace r1
