// BF16 <-> float32 conversions (BF16 is the top 16 bits of a float32). Header-only so the
// kernels that widen weights in their inner loops can inline them.
#pragma once
#include <cstdint>
#include <cstring>

namespace r1 {

// Exact: every BF16 value is a float32.
inline float bf16_to_f32(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest, ties to even (what torch's .to(torch.bfloat16) does); a NaN stays a NaN.
inline uint16_t f32_to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

}  // namespace r1
