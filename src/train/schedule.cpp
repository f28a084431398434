// Learning-rate schedules. See schedule.h for the formulas.
#include "train/schedule.h"

#include <cmath>

#include "util/error.h"

namespace r1 {

Decay parse_decay(const std::string& s) {
  if (s == "cosine") return Decay::Cosine;
  if (s == "linear") return Decay::Linear;
  if (s == "constant") return Decay::Constant;
  throw Error(cat("unknown lr decay '", s, "' (expected cosine, linear or constant)"));
}

const char* decay_name(Decay d) {
  switch (d) {
    case Decay::Cosine: return "cosine";
    case Decay::Linear: return "linear";
    case Decay::Constant: return "constant";
  }
  return "?";
}

void LrSchedule::validate() const {
  check(std::isfinite(max_lr) && max_lr >= 0, "lr schedule: max_lr must be >= 0, got ", max_lr);
  check(std::isfinite(min_lr) && min_lr >= 0 && min_lr <= max_lr, "lr schedule: min_lr must be in [0, max_lr = ",
        max_lr, "], got ", min_lr);
  check(warmup_steps >= 0, "lr schedule: warmup_steps must be >= 0, got ", warmup_steps);
  check(total_steps >= warmup_steps, "lr schedule: total_steps (", total_steps, ") must be >= warmup_steps (",
        warmup_steps, ")");
}

float LrSchedule::at(int64_t step) const {
  validate();
  check(step >= 0, "lr schedule: step must be >= 0, got ", step);
  if (step < warmup_steps) return float(double(max_lr) * double(step + 1) / double(warmup_steps));
  if (decay == Decay::Constant) return max_lr;
  if (step >= total_steps) return min_lr;
  const double progress = double(step - warmup_steps) / double(total_steps - warmup_steps);  // [0, 1)
  const double span = double(max_lr) - double(min_lr);
  if (decay == Decay::Linear) return float(double(max_lr) - span * progress);
  return float(double(min_lr) + span * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace r1
