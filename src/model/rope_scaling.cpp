// RoPE frequencies with llama3 / YaRN scaling and MLA's YaRN softmax scale. See rope_scaling.h.
// The arithmetic follows transformers' float32 order (its tensors are float32; its Python scalars
// are rounded to float when they meet a tensor), so r1's frequencies are HF's bits up to the last
// ulp of pow; the correction range and the mscale factors are Python doubles there and here.
#include "model/rope_scaling.h"

#include <algorithm>
#include <cmath>

namespace r1 {

static const double kPi = 3.14159265358979323846;

// YaRN's m(s, k): the attention temperature correction of a context extended s times.
static double yarn_mscale(double s, double k) { return s <= 1 ? 1.0 : 0.1 * k * std::log(s) + 1.0; }

// --- llama3 ---------------------------------------------------------------------------------

static void llama3_scale(const RopeScaling& rs, std::vector<float>& inv_freq) {
  const float s = float(rs.factor), low = float(rs.low_freq_factor), high = float(rs.high_freq_factor);
  const float L0 = float(rs.original_max_position_embeddings);
  const double low_wavelen = double(rs.original_max_position_embeddings) / rs.low_freq_factor;   // lo
  const double high_wavelen = double(rs.original_max_position_embeddings) / rs.high_freq_factor; // hi
  for (float& f : inv_freq) {
    const float wavelen = float(2 * kPi) / f;
    if (wavelen < high_wavelen) continue;  // high frequency: kept
    if (wavelen > low_wavelen) {           // low frequency: interpolated
      f = f / s;
      continue;
    }
    const float a = (L0 / wavelen - low) / (high - low);  // medium: blended
    f = (1 - a) * f / s + a * f;
  }
}

// --- yarn -----------------------------------------------------------------------------------

static void yarn_scale(const RopeScaling& rs, double theta, int64_t dim, std::vector<float>& inv_freq) {
  const double L0 = double(rs.original_max_position_embeddings);
  auto correction_dim = [&](double rotations) {
    return double(dim) * std::log(L0 / (rotations * 2 * kPi)) / (2 * std::log(theta));
  };
  double low = correction_dim(rs.beta_fast), high = correction_dim(rs.beta_slow);
  if (rs.truncate) low = std::floor(low), high = std::ceil(high);
  low = std::max(low, 0.0), high = std::min(high, double(dim - 1));
  if (low == high) high += 0.001;  // HF's guard against a zero-width ramp
  const float s = float(rs.factor), lo = float(low), width = float(high - low);
  for (size_t i = 0; i < inv_freq.size(); i++) {
    const float pos_freq = std::pow(float(theta), float(2 * i) / float(dim));  // theta^(2i/d), HF's pos_freqs
    const float extrapolation = 1.0f / pos_freq, interpolation = 1.0f / (s * pos_freq);
    const float ramp = std::min(std::max((float(i) - lo) / width, 0.0f), 1.0f);
    const float e = 1 - ramp;
    inv_freq[i] = interpolation * (1 - e) + extrapolation * e;
  }
}

static double yarn_attention_factor(const RopeScaling& rs) {
  if (rs.attention_factor > 0) return rs.attention_factor;
  if (rs.mscale > 0 && rs.mscale_all_dim > 0)
    return yarn_mscale(rs.factor, rs.mscale) / yarn_mscale(rs.factor, rs.mscale_all_dim);
  return yarn_mscale(rs.factor, 1.0);
}

// --- entry points ---------------------------------------------------------------------------

RopeFreqs rope_freqs(const Config& c, int64_t dim) {
  RopeFreqs f = rope_default_freqs(float(c.rope_theta), dim);
  const RopeScaling& rs = c.rope_scaling;
  if (rs.type == "llama3") llama3_scale(rs, f.inv_freq);
  if (rs.type == "yarn") {
    yarn_scale(rs, c.rope_theta, dim, f.inv_freq);
    f.scale = float(yarn_attention_factor(rs));
  }
  return f;
}

float mla_softmax_scale(const Config& c) {
  double scale = 1.0 / std::sqrt(double(c.qk_nope_head_dim + c.qk_rope_head_dim));
  const RopeScaling& rs = c.rope_scaling;
  if (rs.type == "yarn" && rs.mscale_all_dim > 0) {
    const double m = yarn_mscale(rs.factor, rs.mscale_all_dim);
    scale *= m * m;
  }
  return float(scale);
}

}  // namespace r1
