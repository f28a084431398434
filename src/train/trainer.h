// The language-model trainer shared by `r1 pretrain` and `r1 sft`: AdamW with warmup +
// decay, gradient accumulation and clipping, MoE balancing-bias updates, held-out loss,
// metrics, atomic checkpoints and exact resume.
//
// One optimizer step:
//   for each of grad_accum micro-batches: loss = lm_loss(model(inputs), targets) / grad_accum;
//                                         backward(loss) from zero; add it to the step's sum
//   grad_norm = clip_grad_norm(params, grad_clip); lr = schedule.at(step); adamw.step()
//   model.update_router_bias()     (DeepSeek-V3's auxiliary-loss-free balancing)
// Resume: N steps, stop, --resume N more steps gives bitwise the weights of 2N straight steps
// (same thread count): the checkpoint holds weights, router biases, AdamW moments and step
// counts, and the loader position; everything else is a function of the step.
// Data parallel (under mpirun/srun, docs/distributed.md): the global batch is the grad_accum
// micro-batches; rank r computes micro-batches [r*A/N, (r+1)*A/N) (A must be a multiple of N),
// the micro-batch gradients are summed in micro-batch order whatever N is (dist/data_parallel.h),
// and the losses and the router loads are gathered, so N ranks give the bits of 1 rank (same
// thread count per rank). Every rank reads the whole data order and keeps the same loader
// position, so a run resumes with any rank count that divides grad_accum. Rank 0 writes.
// Devices: training runs where the model lives (Transformer::to before train_lm); AdamW keeps its
// moments beside the parameters. Batches are host token ids; a step reads back only the loss
// (and balance loss) and the gradient norm for the log, plus MoE routing (moe.h). A checkpoint
// does not depend on the device, so a run may resume on another one.
#pragma once
#include <cstdint>
#include <string>

#include "dist/comm.h"
#include "model/transformer.h"
#include "train/data.h"
#include "train/optim.h"
#include "train/run.h"
#include "train/schedule.h"
#include "util/json.h"

namespace r1 {

struct TrainConfig {
  int64_t steps = 1000;          // optimizer steps
  int64_t batch_size = 16;       // sequences per micro-batch (B)
  int64_t seq_len = 256;         // tokens per sequence (T)
  int64_t grad_accum = 1;        // micro-batches per optimizer step
  float lr = 1e-3f;              // peak learning rate
  float min_lr = 1e-4f;          // learning rate at the end of the decay
  int64_t warmup_steps = 100;    // linear warmup (capped at steps)
  std::string decay = "cosine";  // "cosine" | "linear" | "constant"
  float weight_decay = 0.1f;     // AdamW decoupled decay (matrices only, not embeddings/norms)
  float beta1 = 0.9f, beta2 = 0.95f;
  float grad_clip = 1.0f;        // global gradient-norm clip (0 = off)
  int64_t eval_every = 100;      // held-out loss every N steps (0 = only at the end)
  int64_t eval_batches = 4;      // held-out batches per evaluation
  int64_t checkpoint_every = 0;  // 0 = only at the end
  int keep_last = 2;             // checkpoints kept
  uint64_t seed = 0;             // data order

  // The fields a trainer's JSON holds: all of the above (r1 pretrain, r1 sft), or all but the
  // LM-only seq_len, grad_accum and eval_batches (the reward-model trainer, rm_trainer.h).
  enum class Fields { all, no_lm_only };

  // Fields absent from j keep their values in `defaults` (the first form: the defaults above, all
  // fields). Unknown fields, and LM-only ones under Fields::no_lm_only, are errors naming `source`
  // and the field.
  static TrainConfig from_json(const Json& j, const std::string& source);
  static TrainConfig from_json(const Json& j, const std::string& source, const TrainConfig& defaults, Fields fields);
  Json to_json(Fields fields = Fields::all) const;

  // The optimizer's settings (lr is the peak: a trainer sets it per step from the schedule) and the
  // validated schedule, warmup capped at steps (a short run, --steps 5, still warms up).
  AdamWConfig adamw() const;
  LrSchedule schedule() const;
};

// Trains `model` in place. heldout may be null. When resume, continues from the run's latest
// checkpoint (an error if there is none). Writes RUN_DIR/model at the end.
// label: shown on the progress bar ("pretrain", "sft").
// stop_after > 0 ends this call after that many steps (checkpointed there, RUN_DIR/model not
// written) without changing the run's schedule: a later resume continues as if never stopped.
void train_lm(Transformer& model, const TokenStream& train, const TokenStream* heldout, const TrainConfig& cfg,
              RunDir& run, const std::string& tokenizer_json, bool resume, const std::string& label,
              int64_t stop_after = 0);

// Mean next-token loss over `batches` fixed held-out windows (no autograd). With a communicator
// of several ranks (every rank calls it), rank r computes the batches i with i % N == r and the
// losses are gathered and summed in batch order: the single-rank value on every rank.
double heldout_loss(Transformer& model, const Loader& loader, int64_t batches, int64_t B,
                    Communicator* comm = nullptr);

// Records `device` as "device" in a run's configuration (run_config.json) before RunDir sees it.
// The device is not part of what --resume compares: on resume the value saved by the run's first
// invocation is kept (none for runs from before the field existed), whatever device resumes it.
void set_run_device(Json& run_config, Device device, const std::string& run_dir, bool resume);

}  // namespace r1
