// RoPE frequencies of a model: plain RoPE, or a config's rope_scaling (llama3, yarn), as Hugging
// Face's rotary embeddings compute them (transformers' modeling_rope_utils), plus the MLA
// softmax-scale correction of DeepSeek-V3's YaRN. With base theta, head width d and
// f_i = theta^(-2i/d) (i < d/2), wavelength w_i = 2 pi / f_i, factor s, pretraining length L0:
//
//   llama3   lo = L0 / low_freq_factor, hi = L0 / high_freq_factor  (wavelength bounds)
//            f'_i = f_i            if w_i < hi          (high frequencies kept)
//                 = f_i / s        if w_i > lo          (low frequencies interpolated)
//                 = (1 - a) f_i / s + a f_i  otherwise, a = (L0 / w_i - low_freq_factor) /
//                                                           (high_freq_factor - low_freq_factor)
//            cos/sin scale 1.
//   yarn     dim(r) = d ln(L0 / (2 pi r)) / (2 ln theta)   (the pair index that turns r times over L0)
//            low = max(floor(dim(beta_fast)), 0), high = min(ceil(dim(beta_slow)), d - 1)
//                  (no floor/ceil when truncate is false; high += 0.001 when low == high)
//            ramp_i = clamp((i - low) / (high - low), 0, 1),  e_i = 1 - ramp_i
//            f'_i = (f_i / s) (1 - e_i) + f_i e_i            (fast pairs keep f_i, slow ones f_i / s)
//            m(s, k) = 1 if s <= 1 else 0.1 k ln(s) + 1
//            cos/sin scale = attention_factor if given, else m(s, mscale) / m(s, mscale_all_dim) when
//                  both are set (DeepSeek: 1 when they are equal), else m(s, 1)
//            MLA softmax scale (deepseek_v3 only) = (dn + dr)^-1/2 * m(s, mscale_all_dim)^2 when
//                  mscale_all_dim is set, else (dn + dr)^-1/2
// Does not do: the other HF rope types (linear, dynamic, longrope, ...: config parsing rejects
// them), HF's per-call dynamic frequency updates.
#pragma once
#include <cstdint>

#include "model/config.h"
#include "ops/ops.h"

namespace r1 {

// The frequencies and cos/sin scale for heads of RoPE width dim (head_dim, or MLA's
// qk_rope_head_dim) under c.rope_theta and c.rope_scaling.
RopeFreqs rope_freqs(const Config& c, int64_t dim);

// MLA's softmax scale: 1 / sqrt(qk_nope_head_dim + qk_rope_head_dim), times YaRN's
// m(factor, mscale_all_dim)^2 when rope_scaling is yarn with mscale_all_dim set.
float mla_softmax_scale(const Config& c);

}  // namespace r1
