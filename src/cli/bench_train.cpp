// `r1 bench train`: training-step throughput of a model directory: forward + backward + AdamW
// step (+ the router bias update) on random tokens. The first step is a warm-up and is not
// timed. Reports tokens/s = B*T / mean step time.
// Under mpirun (docs/distributed.md) it is data parallel like r1 pretrain: --batch is the global
// batch, each rank runs B/N sequences, the gradient goes through the trainers' fixed-order
// reduction (dist/data_parallel.h) and the router loads are summed; rank 0 prints, with the
// share of the step spent in the gradient collectives. One rank times the plain step.
// Does not do: data loading, gradient clipping, learning-rate schedules (src/train/ does).
//
//   r1 bench train --model DIR --batch B --seq T [--steps N] [--threads N] [--seed S] [--device cpu|cuda] [--json]
//   --model    model directory (config.json + model.safetensors)
//   --batch    sequences per step (all ranks together);  --seq  tokens per sequence
//   --steps    timed steps after one warm-up step (default 10)
//   --threads  OpenMP threads (default: all)
//   --seed     seed of the random tokens (default 0)
//   --device   where the model trains: cpu (default) or cuda (each step ends with a loss read-back,
//              so the device's queue is drained inside the timed step)
//   --json     one JSON object {"tokens_per_s", "ms_per_step", "batch", "seq", "ranks", "comm_share", ...}
#include <omp.h>

#include <chrono>
#include <cstdio>

#include "autograd/autograd.h"
#include "cli/bench.h"
#include "dist/data_parallel.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "train/optim.h"
#include "util/error.h"
#include "util/json.h"
#include "util/rng.h"

namespace r1 {
namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

int run(Args& args) {
  std::string dir = args.str("model");
  const int64_t B = args.integer("batch"), T = args.integer("seq"), steps = args.integer("steps", 10);
  const int threads = int(args.integer("threads", omp_get_max_threads()));
  const int64_t seed = args.integer("seed", 0);
  bool json = args.flag("json");
  std::string device_flag = args.str("device", "cpu");
  args.finish();
  const Device device = usable_device(device_flag);
  check(B >= 1 && T >= 2 && steps >= 1 && threads >= 1,
        "r1 bench train: need --batch >= 1, --seq >= 2, --steps >= 1, --threads >= 1");
  omp_set_num_threads(threads);

  Transformer model = load_model(dir);
  model.to(device);
  const Config& c = model.config();
  AdamW opt(model.parameters(), AdamWConfig{});
  Communicator& comm = world();
  const bool rank0 = comm.rank() == 0;
  const Share mine = share_of(B, comm.rank(), comm.size(), "r1 bench train: --batch");
  std::vector<Tensor> params;
  for (auto& [name, t] : model.parameters()) params.push_back(t);
  GradReducer reducer(data_comm(device), params);
  Rng rng(static_cast<uint64_t>(seed));
  double loss_sum = 0, t_total = 0, comm_total = 0;
  for (int64_t step = 0; step <= steps; step++) {
    Ids ids(size_t(B * T));  // (B, T): the global batch; this rank's rows are mine.first ...
    for (int32_t& id : ids) id = int32_t(rng.below(uint64_t(c.vocab_size)));
    Ids rows(ids.begin() + mine.first * T, ids.begin() + (mine.first + mine.count) * T);
    double t0 = now(), c0 = reducer.comm_seconds();
    opt.zero_grad();
    Tensor loss = lm_loss(model.forward(rows, mine.count, T), next_token_targets(rows, mine.count, T));
    if (comm.size() > 1) {  // one rank times the plain step, as before data parallelism
      backward(scale(loss, 1.0f / float(comm.size())));  // the mean over the global batch
      reducer.add_unit();
      reducer.reduce();
      reduce_router_load(model, comm);
    } else {
      backward(loss);
    }
    opt.step();
    model.update_router_bias();
    float l = loss.item();
    double dt = now() - t0;
    if (step == 0) continue;  // warm-up
    t_total += dt;
    comm_total += reducer.comm_seconds() - c0;
    loss_sum += l;
    if (rank0) std::fprintf(stderr, "step %lld: %.1f ms, loss %.4f\n", (long long)step, dt * 1e3, l);
  }
  if (!rank0) return 0;
  double ms = t_total / double(steps) * 1e3, tps = double(B * T) * double(steps) / t_total;
  if (json) {
    Json j = Json::object();
    j["tokens_per_s"] = tps;
    j["ms_per_step"] = ms;
    j["batch"] = B;
    j["seq"] = T;
    j["steps"] = steps;
    j["threads"] = threads;  // per rank
    j["ranks"] = comm.size();
    j["comm_share"] = comm_total / t_total;  // fraction of the step in gradient collectives
    j["device"] = device_name(device);
    j["parameters"] = c.num_parameters();
    j["active_parameters"] = c.num_active_parameters();
    j["mean_loss"] = loss_sum / double(steps);
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s, %lld params (%lld active), B=%lld T=%lld, %s, %d rank(s) x %d threads: %.1f ms/step, "
                "%.0f tokens/s, %.1f%% of the step in gradient collectives\n",
                c.model_type.c_str(), (long long)c.num_parameters(), (long long)c.num_active_parameters(),
                (long long)B, (long long)T, device_name(device), comm.size(), threads, ms, tps,
                100 * comm_total / t_total);
  }
  return 0;
}

}  // namespace

static const bool registered = register_bench({"train", "training step (forward + backward + AdamW) tokens/s: --model DIR --batch B --seq T "
                                                "[--steps N] [--threads N] [--seed S] [--device cpu|cuda] [--json]", run});

}  // namespace r1
