// The per-row algorithm of cuda/sample.cu (device token sampling), written once over a "block"
// of cooperating threads so the same code runs in the kernel (a CUDA block of 512 threads,
// reductions through shared memory) and on the host (SerialBlock: one thread, every reduction
// the identity). tests/test_cuda_attention.cpp runs the host instance against sample_token()
// on machines without a GPU, which checks the algorithm (the bisections, ties, the draw) even
// where the kernel cannot run.
//
// The CPU (src/sample/sampler.cpp) sorts the log-probs (decreasing, lower id first on ties)
// and keeps a prefix of that order: top-k keeps ties with the k-th, top-p removes the longest
// tail whose cumulative mass is <= 1 - top_p (never the most likely token), min-p keeps
// lp >= lp_max + log(min_p). A prefix of that order is the set of tokens above some key, so
// instead of sorting, each boundary is found by bisection over the bits of an order-preserving
// 64-bit key of the double log-prob (plus 32 bits of the reversed id for top-p, which may cut
// through a group of ties):
//   top-k:  the largest key o with count{key >= o} >= k                 (64 block-wide counts)
//   top-p:  the largest (o, j) with mass{(key, V-1-id) < (o, j)} <= 1 - top_p over the top-k
//           survivors except the top token                               (64 + 32 block-wide sums)
//   min-p:  a threshold on the log-prob.
// Then the inverse-CDF draw in id order: each thread owns a contiguous chunk of ids, the chunk
// sums are scanned in order, and the first id whose cumulative probability exceeds u wins (the
// last kept id when rounding leaves u above the total, as on the CPU).
//
// Numerics: log-probs in double as on the CPU. Sums run in a fixed tree (device) or in id order
// (host), not the CPU's order, so the same u picks the same token unless a cumulative sum lies
// within ~1e-15 of u or of 1 - top_p. Known case where that is not rare: a row of exactly equal
// logits with a dyadic top_p (0.5, 0.25, 0.75) puts the tail mass exactly on 1 - top_p, and the
// CPU's ascending sum and the device's tree fall on opposite sides (V = 1000, top_p = 0.5: the CPU
// keeps 501 tokens, the 512-thread kernel 500). Sums exact in integers (weights rounded to 2^-40)
// on both sides would remove it; until then such rows may differ by one kept token.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "cuda_api.h"  // SampleRequest, SampleResult (plain structs)

#ifdef __CUDACC__
#define R1_HOST_DEVICE __host__ __device__
#else
#define R1_HOST_DEVICE
#endif

namespace r1::cuda {

// An unsigned key with the order of the doubles (not NaN): a < b <=> key(a) < key(b).
R1_HOST_DEVICE inline uint64_t order_key(double x) {
  if (x == 0.0) x = 0.0;  // -0 and +0 compare equal, so they get one key
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  return (bits >> 63) ? ~bits : bits | (uint64_t(1) << 63);
}

// One thread that is the whole block: the host instance of sample_row.
struct SerialBlock {
  int tid() const { return 0; }
  int threads() const { return 1; }
  void sync() const {}
  template <class T>
  T sum(T x) const { return x; }
  template <class T>
  T max(T x) const { return x; }
  template <class T>
  T min(T x) const { return x; }
  int64_t argmax(double, int64_t i) const { return i; }
  double exclusive_scan(double) const { return 0.0; }
};

// x: (V) logits, r: the row's parameters and draw, lp, w: (V) scratch -> the row's choice, in
// every thread. Block provides tid(), threads(), sync(), sum/max/min over the block (every
// thread gets the result), argmax(value, id) (lowest id on ties) and exclusive_scan(x) (the sum
// of x over the threads before this one).
template <class Block>
R1_HOST_DEVICE SampleResult sample_row(const float* x, int64_t V, const SampleRequest& r, double* lp, double* w,
                                       const Block& blk) {
  const int64_t t0 = blk.tid(), nt = blk.threads();
  const bool greedy = r.temperature == 0.0f;
  const double t = greedy ? 1.0 : double(r.temperature);

  // log_softmax(x / t) in double, as the CPU's log_probs().
  double mx = -INFINITY;
  for (int64_t i = t0; i < V; i += nt) mx = mx < double(x[i]) / t ? double(x[i]) / t : mx;
  mx = blk.max(mx);
  double s = 0.0;
  for (int64_t i = t0; i < V; i += nt) s += ::exp(double(x[i]) / t - mx);
  const double lse = mx + ::log(blk.sum(s));

  if (greedy) {  // argmax of the logits (lowest id on ties), log-prob at temperature 1
    double bv = -INFINITY;
    int64_t bi = INT64_MAX;
    for (int64_t i = t0; i < V; i += nt)
      if (double(x[i]) > bv || bi == INT64_MAX) bv = double(x[i]), bi = i;
    const int64_t tok = blk.argmax(bv, bi);
    return {int32_t(tok), float(double(x[tok]) - lse)};
  }

  double bv = -INFINITY;
  int64_t bi = INT64_MAX;
  for (int64_t i = t0; i < V; i += nt) {
    lp[i] = double(x[i]) / t - lse;
    if (lp[i] > bv || bi == INT64_MAX) bv = lp[i], bi = i;
  }
  // The most likely token (lowest id on ties): first in the CPU's order, never truncated.
  const int64_t top = blk.argmax(bv, bi);  // a block-wide step: lp is now visible to every thread
  const double lp_top = lp[top];

  // top-k: keep key >= kth, the k-th largest key (ties with it stay). kth = 0 keeps everything.
  uint64_t kth = 0;
  if (r.top_k > 0 && r.top_k < V) {
    for (int bit = 63; bit >= 0; bit--) {
      const uint64_t c = kth | (uint64_t(1) << bit);
      int64_t n = 0;
      for (int64_t i = t0; i < V; i += nt) n += order_key(lp[i]) >= c ? 1 : 0;
      if (blk.sum(n) >= r.top_k) kth = c;
    }
  }

  // top-p over the top-k survivors: remove every candidate (a survivor other than the top token)
  // whose (key, V-1-id) is below the boundary (po, pj).
  uint64_t po = 0, pj = 0;
  const bool use_p = r.top_p < 1.0f;
  if (use_p) {
    double sk = 0.0;
    for (int64_t i = t0; i < V; i += nt) sk += (w[i] = order_key(lp[i]) >= kth ? ::exp(lp[i] - lp_top) : 0.0);
    sk = blk.sum(sk);
    for (int64_t i = t0; i < V; i += nt) w[i] /= sk;  // probabilities renormalised over the survivors
    const double thr = 1.0 - double(r.top_p);
    for (int stage = 0; stage < 2; stage++) {
      // Stage 0: the largest o with mass{key < o} <= thr. Stage 1: with that o, the largest j
      // with mass{key < o or (key == o and V-1-id < j)} <= thr (how far into the tie group).
      for (int bit = stage == 0 ? 63 : 31; bit >= 0; bit--) {
        const uint64_t o = stage == 0 ? po | (uint64_t(1) << bit) : po;
        const uint64_t j = stage == 0 ? 0 : pj | (uint64_t(1) << bit);
        double m = 0.0;
        for (int64_t i = t0; i < V; i += nt) {
          const uint64_t key = order_key(lp[i]), rid = uint64_t(V - 1 - i);
          if (i != top && key >= kth && (key < o || (key == o && rid < j))) m += w[i];
        }
        if (blk.sum(m) <= thr) {
          if (stage == 0) po = o;
          else pj = j;
        }
      }
    }
  }

  // Weights exp(lp - lp_top) of the kept tokens (the top token's is 1) and their total.
  const bool use_min_p = r.min_p > 0.0f;
  const double cut = lp_top + ::log(double(r.min_p));
  double total = 0.0;
  for (int64_t i = t0; i < V; i += nt) {
    const uint64_t key = order_key(lp[i]), rid = uint64_t(V - 1 - i);
    bool kept = key >= kth;
    if (use_p && i != top && (key < po || (key == po && rid < pj))) kept = false;
    if (use_min_p && lp[i] < cut) kept = false;
    total += (w[i] = kept ? ::exp(lp[i] - lp_top) : 0.0);
  }
  total = blk.sum(total);  // a block-wide step: w is now visible to every thread

  // Inverse CDF in id order over contiguous chunks, one per thread.
  const int64_t chunk = (V + nt - 1) / nt;
  const int64_t c0 = t0 * chunk < V ? t0 * chunk : V, c1 = c0 + chunk < V ? c0 + chunk : V;
  double csum = 0.0;
  for (int64_t i = c0; i < c1; i++) csum += w[i] / total;
  double cum = blk.exclusive_scan(csum);
  int64_t found = INT64_MAX, last = -1;
  for (int64_t i = c0; i < c1; i++) {
    if (w[i] == 0.0) continue;
    last = i;
    cum += w[i] / total;
    if (r.u < cum) {
      found = i;
      break;
    }
  }
  int64_t tok = blk.min(found);
  const int64_t last_kept = blk.max(last);
  if (tok == INT64_MAX) tok = last_kept;
  return {int32_t(tok), float(lp[tok])};
}

}  // namespace r1::cuda
