// CPU attention kernels (see attention.h). The math, per query head h reading kv head g:
//
//   forward   S_ = scale * Q K^T            (T, S)   GEMM
//             P  = softmax over seen keys   (T, S)   row max subtracted; unseen keys get 0
//             O  = P V                      (T, Dv)  GEMM
//   backward  dP = dO V^T                   (T, S)   GEMM
//             dS = P * (dP - rowsum(P * dP))         softmax backward (0 where P is 0)
//             dQ = scale * dS K             (T, Dk)  GEMM
//             dK = scale * dS^T Q           (S, Dk)  GEMM, summed over the heads sharing g
//             dV = P^T dO                   (S, Dv)  GEMM, summed over the heads sharing g
//
// Parallel work: the forward runs one (batch, query head) block per OpenMP iteration; the
// backward runs one (batch, kv head) block per iteration and loops over that kv head's query
// heads in order, so dK and dV accumulate without races and in a fixed order. The GEMMs inside
// a block run on the calling thread (sgemm does not start threads inside a parallel region).
// Results do not depend on the thread count.
#include "cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/nn.h"

namespace r1::cpu {

// Turns one row of scores (S) into probabilities over the keys the query sees: keys s <= last
// with key_mask[s] != 0 (key_mask may be null). A query that sees no key gets an all-zero row.
static void masked_softmax_row(float* row, int64_t S, int64_t last, const uint8_t* key_mask) {
  const int64_t end = std::min(S, last + 1);  // keys [end, S) are in the query's future
  float m = -std::numeric_limits<float>::infinity();
  bool any = false;
  for (int64_t s = 0; s < end; s++)
    if (!key_mask || key_mask[s]) {
      m = std::max(m, row[s]);
      any = true;
    }
  if (!any) {
    std::fill(row, row + S, 0.0f);
    return;
  }
  for (int64_t s = 0; s < end; s++) {
    float e = exp_nonpositive(row[s] - m);  // a padding key's argument may be > 0: discarded
    row[s] = (!key_mask || key_mask[s]) ? e : 0.0f;
  }
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t s = 0; s < end; s++) sum += row[s];
  std::fill(row + std::max<int64_t>(end, 0), row + S, 0.0f);
  const float inv = float(1.0 / sum);
  for (int64_t s = 0; s < end; s++) row[s] *= inv;
}

void attention_forward(const AttentionShape& sh, const float* q, const float* k, const float* v, bool causal,
                       float scale, const uint8_t* key_mask, float* out, float* probs) {
  const int64_t B = sh.B, H = sh.H, Hkv = sh.Hkv, T = sh.T, S = sh.S, Dk = sh.Dk, Dv = sh.Dv;
  const int64_t rep = H / Hkv;  // query heads per kv head
#pragma omp parallel
  {
    std::vector<float> scratch(probs ? 0 : size_t(T * S));  // (T, S) when P is not kept
#pragma omp for schedule(static)
    for (int64_t bh = 0; bh < B * H; bh++) {
      const int64_t b = bh / H, h = bh % H, g = h / rep;
      const float* qh = q + bh * T * Dk;               // (T, Dk)
      const float* kh = k + (b * Hkv + g) * S * Dk;    // (S, Dk)
      const float* vh = v + (b * Hkv + g) * S * Dv;    // (S, Dv)
      float* P = probs ? probs + bh * T * S : scratch.data();  // (T, S)
      sgemm(false, true, T, S, Dk, scale, qh, Dk, kh, Dk, 0.0f, P, S);
      const uint8_t* mask_b = key_mask ? key_mask + b * S : nullptr;  // (S)
      for (int64_t t = 0; t < T; t++) {
        int64_t last = causal ? S - T + t : S - 1;  // query t sits at absolute position S - T + t
        masked_softmax_row(P + t * S, S, last, mask_b);
      }
      sgemm(false, false, T, Dv, S, 1.0f, P, S, vh, Dv, 0.0f, out + bh * T * Dv, Dv);
    }
  }
}

void attention_backward(const AttentionShape& sh, const float* q, const float* k, const float* v,
                        const float* probs, const float* dout, float scale, float* dq, float* dk, float* dv) {
  const int64_t B = sh.B, H = sh.H, Hkv = sh.Hkv, T = sh.T, S = sh.S, Dk = sh.Dk, Dv = sh.Dv;
  const int64_t rep = H / Hkv;
#pragma omp parallel
  {
    std::vector<float> dS(size_t(T * S));  // (T, S): dP, then the score gradient
#pragma omp for schedule(static)
    for (int64_t bg = 0; bg < B * Hkv; bg++) {
      const int64_t b = bg / Hkv, g = bg % Hkv;
      const float* kh = k + bg * S * Dk;  // (S, Dk)
      const float* vh = v + bg * S * Dv;  // (S, Dv)
      float* dkh = dk + bg * S * Dk;      // (S, Dk)
      float* dvh = dv + bg * S * Dv;      // (S, Dv)
      for (int64_t r = 0; r < rep; r++) {
        const int64_t bh = b * H + g * rep + r;
        const float* P = probs + bh * T * S;    // (T, S)
        const float* dO = dout + bh * T * Dv;   // (T, Dv)
        const float* qh = q + bh * T * Dk;      // (T, Dk)
        float beta = r == 0 ? 0.0f : 1.0f;      // the first head overwrites dK, dV; the others add
        sgemm(false, true, T, S, Dv, 1.0f, dO, Dv, vh, Dv, 0.0f, dS.data(), S);  // dP = dO V^T
        for (int64_t t = 0; t < T; t++) {
          const float* pr = P + t * S;
          float* dr = dS.data() + t * S;
          double dot = 0;
          for (int64_t s = 0; s < S; s++) dot += double(pr[s]) * double(dr[s]);
          float fdot = float(dot);
          for (int64_t s = 0; s < S; s++) dr[s] = pr[s] * (dr[s] - fdot);
        }
        sgemm(false, false, T, Dk, S, scale, dS.data(), S, kh, Dk, 0.0f, dq + bh * T * Dk, Dk);  // dQ
        sgemm(true, false, S, Dk, T, scale, dS.data(), S, qh, Dk, beta, dkh, Dk);              // dK
        sgemm(true, false, S, Dv, T, 1.0f, P, S, dO, Dv, beta, dvh, Dv);                      // dV
      }
    }
  }
}

}  // namespace r1::cpu
