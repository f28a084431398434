// CPU kernels for fused scaled-dot-product attention with grouped-query heads (GQA), a causal
// mask with a decode offset, and a key padding mask: forward and backward. The semantics (which
// keys a query sees) are those of r1::attention in src/ops/ops.h; the op checks the shapes.
//
// The forward keeps the probabilities P = softmax(q k^T * scale) of shape (B, H, T, S) when the
// caller asks for them (training), and the backward reads them instead of recomputing. At our
// sizes (T, S up to a few thousand, a handful of heads) P fits easily; a flash-style tiled
// kernel that never stores P is not done here.
// Does not do: dropout, attention bias other than the masks, other dtypes.
#pragma once
#include <cstdint>

namespace r1::cpu {

struct AttentionShape {
  int64_t B, H, Hkv, T, S, Dk, Dv;  // batch, query heads, kv heads (H % Hkv == 0), queries, keys, head dims
};

// q: (B, H, T, Dk), k: (B, Hkv, S, Dk), v: (B, Hkv, S, Dv), key_mask: (B, S) bytes or null
// (0 = padding key) -> out: (B, H, T, Dv). probs: (B, H, T, S) or null; when given it receives
// the probabilities (0 at keys the query does not see; an all-zero row for a query that sees none).
void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, bool causal,
                       float scale, const uint8_t* key_mask, float* out, float* probs);

// probs: (B, H, T, S) from the forward, dout: (B, H, T, Dv) = dL/dout
// -> dq: (B, H, T, Dk), dk: (B, Hkv, S, Dk), dv: (B, Hkv, S, Dv), all overwritten.
void attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v,
                        const float* probs, const float* dout, float scale, float* dq, float* dk, float* dv);

}  // namespace r1::cpu
