// Learning-rate schedule: linear warmup from max_lr/warmup to max_lr over `warmup_steps`,
// then decay from max_lr to min_lr over the remaining steps, then min_lr:
//   step < warmup:          max_lr * (step + 1) / warmup
//   warmup <= step < total: progress = (step - warmup) / (total - warmup)
//       cosine:   min_lr + (max_lr - min_lr) * 0.5 * (1 + cos(pi * progress))
//       linear:   max_lr - (max_lr - min_lr) * progress
//       constant: max_lr
//   step >= total:          min_lr (constant: max_lr)
// `step` is the 0-based index of the update about to be made (llm.c's convention), so the
// first update uses max_lr / warmup rather than 0.
// Does not do: restarts, warmup-stable-decay, per-parameter-group rates.
#pragma once
#include <cstdint>
#include <string>

namespace r1 {

enum class Decay { Cosine, Linear, Constant };
Decay parse_decay(const std::string& s);  // "cosine" | "linear" | "constant"; else r1::Error
const char* decay_name(Decay d);

struct LrSchedule {
  float max_lr = 3e-4f;
  float min_lr = 3e-5f;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  Decay decay = Decay::Cosine;

  void validate() const;       // throws r1::Error naming the bad field
  float at(int64_t step) const;  // validates, then the formula above
};

}  // namespace r1
