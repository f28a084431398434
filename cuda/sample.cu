// Token sampling on the device: the CUDA side of r1::sample_token (src/sample/sampler.cpp) for a
// batch of rows, one block per row, so a decode step copies only B (token, log-prob) pairs back.
//
// The CPU sorts the log-probs (decreasing, lower id first on ties) and keeps a prefix of that
// order: top-k keeps ties with the k-th, top-p removes the longest tail whose cumulative mass is
// <= 1 - top_p (never the most likely token), min-p keeps lp >= lp_max + log(min_p). A prefix of
// that order is exactly the set of tokens above some key in it, so instead of sorting, the block
// finds each boundary by bisection over the bits of an order-preserving 64-bit key of the
// double log-prob (plus 32 bits of the id for top-p, which may cut through a tie):
//   top-k:  the largest key o with count{key >= o} >= k           (64 block-wide counts)
//   top-p:  the largest (o, j) with mass{(key, V-1-id) < (o, j)} <= 1 - top_p over the kept
//           tokens except the top one                              (64 + 32 block-wide sums)
//   min-p:  a plain threshold on the log-prob.
// Then the inverse-CDF draw in id order: each thread owns a contiguous chunk of ids, thread 0
// scans the chunk sums, and the first id whose cumulative probability exceeds u wins (the last
// kept id when rounding leaves u above the total, as on the CPU).
//
// Numerics: log-probs in double as on the CPU (the device's exp/log are within an ulp of
// glibc's); block sums run in a fixed tree, not the CPU's sequential order. So the same u picks
// the same token unless a cumulative sum lands within ~1e-15 of u or of 1 - top_p; the log-prob
// is the same double rounded to float.
// Does not do: repetition penalties, logit bias, NaN logits (undefined, as on the CPU).
// Scratch: 2 B V doubles of device memory per call (from the caching allocator).
#include <cmath>
#include <cstdint>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

static constexpr int kThreads = 512;  // one block per row

// --- block-wide reductions (fixed tree: the same bits every run) --------------------------------

struct Sum {
  template <class T>
  __device__ T operator()(T a, T b) const { return a + b; }
};
struct Max {
  template <class T>
  __device__ T operator()(T a, T b) const { return a < b ? b : a; }
};
struct Min {
  template <class T>
  __device__ T operator()(T a, T b) const { return b < a ? b : a; }
};

// Every thread passes x and gets op over the block. buf: kThreads entries of shared memory.
template <class T, class Op>
__device__ T block_reduce(T x, T* buf, Op op) {
  buf[threadIdx.x] = x;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) buf[threadIdx.x] = op(buf[threadIdx.x], buf[threadIdx.x + half]);
    __syncthreads();
  }
  T r = buf[0];
  __syncthreads();  // buf may be reused at once
  return r;
}

// The id of the largest value (lowest id on ties) over the block; v, i: this thread's best.
__device__ int64_t block_argmax(double v, int64_t i, double* vbuf, int64_t* ibuf) {
  vbuf[threadIdx.x] = v;
  ibuf[threadIdx.x] = i;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) {
      double ov = vbuf[threadIdx.x + half];
      int64_t oi = ibuf[threadIdx.x + half];
      if (ov > vbuf[threadIdx.x] || (ov == vbuf[threadIdx.x] && oi < ibuf[threadIdx.x])) {
        vbuf[threadIdx.x] = ov;
        ibuf[threadIdx.x] = oi;
      }
    }
    __syncthreads();
  }
  int64_t r = ibuf[0];
  __syncthreads();
  return r;
}

// An unsigned key with the order of the doubles (not NaN): a < b <=> key(a) < key(b).
__device__ inline uint64_t order_key(double x) {
  if (x == 0.0) x = 0.0;  // -0 and +0 compare equal, so they get one key
  uint64_t bits = uint64_t(__double_as_longlong(x));
  return (bits >> 63) ? ~bits : bits | (uint64_t(1) << 63);
}

// --- the kernel ----------------------------------------------------------------------------------

// logits: (B, V), req: (B), lp, w: (B, V) scratch -> out: (B). One block of kThreads per row.
__global__ void sample_kernel(const float* logits, int64_t V, const SampleRequest* req, double* lp_all,
                              double* w_all, SampleResult* out) {
  __shared__ double dbuf[kThreads];
  __shared__ int64_t ibuf[kThreads];
  const int64_t row = blockIdx.x;
  const float* x = logits + row * V;  // (V)
  double* lp = lp_all + row * V;      // (V) log_softmax(x / t)
  double* w = w_all + row * V;        // (V) probabilities / weights
  const SampleRequest r = req[row];
  const bool greedy = r.temperature == 0.0f;
  const double t = greedy ? 1.0 : double(r.temperature);

  // log_softmax(x / t) in double, as the CPU's log_probs().
  double mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < V; i += kThreads) mx = fmax(mx, double(x[i]) / t);
  mx = block_reduce(mx, dbuf, Max());
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < V; i += kThreads) s += exp(double(x[i]) / t - mx);
  const double lse = mx + log(block_reduce(s, dbuf, Sum()));

  if (greedy) {  // argmax of the logits (lowest id on ties), log-prob at temperature 1
    double bv = -INFINITY;
    int64_t bi = INT64_MAX;
    for (int64_t i = threadIdx.x; i < V; i += kThreads)
      if (double(x[i]) > bv || bi == INT64_MAX) bv = double(x[i]), bi = i;
    const int64_t tok = block_argmax(bv, bi, dbuf, ibuf);
    if (threadIdx.x == 0) out[row] = {int32_t(tok), float(double(x[tok]) - lse)};
    return;  // block-uniform
  }

  double bv = -INFINITY;
  int64_t bi = INT64_MAX;
  for (int64_t i = threadIdx.x; i < V; i += kThreads) {
    lp[i] = double(x[i]) / t - lse;
    if (lp[i] > bv || bi == INT64_MAX) bv = lp[i], bi = i;
  }
  // The most likely token (lowest id on ties): first in the CPU's order, never truncated.
  const int64_t top = block_argmax(bv, bi, dbuf, ibuf);  // its syncs also publish lp to the block
  const double lp_top = lp[top];

  // top-k: keep key >= kth, the k-th largest key (ties with it stay). kth = 0 keeps everything.
  uint64_t kth = 0;
  if (r.top_k > 0 && r.top_k < V) {
    for (int bit = 63; bit >= 0; bit--) {
      const uint64_t c = kth | (uint64_t(1) << bit);
      int64_t n = 0;
      for (int64_t i = threadIdx.x; i < V; i += kThreads) n += order_key(lp[i]) >= c;
      if (block_reduce(n, ibuf, Sum()) >= r.top_k) kth = c;
    }
  }
  auto kept_k = [&](int64_t i) { return order_key(lp[i]) >= kth; };

  // top-p over the top-k survivors: remove every candidate (survivor other than the top token)
  // whose (key, V-1-id) is below the boundary (po, pj); (0, 0) removes nothing.
  uint64_t po = 0, pj = 0;
  const bool use_p = r.top_p < 1.0f;
  if (use_p) {
    double sk = 0.0;
    for (int64_t i = threadIdx.x; i < V; i += kThreads) sk += (w[i] = kept_k(i) ? exp(lp[i] - lp_top) : 0.0);
    sk = block_reduce(sk, dbuf, Sum());  // its syncs publish w
    for (int64_t i = threadIdx.x; i < V; i += kThreads) w[i] /= sk;  // renormalised over the survivors
    __syncthreads();
    const double thr = 1.0 - double(r.top_p);
    // Probability mass of the candidates below the boundary (o, j).
    auto mass_below = [&](uint64_t o, uint64_t j) {
      double m = 0.0;
      for (int64_t i = threadIdx.x; i < V; i += kThreads) {
        if (i == top || !kept_k(i)) continue;
        const uint64_t key = order_key(lp[i]), rid = uint64_t(V - 1 - i);
        if (key < o || (key == o && rid < j)) m += w[i];
      }
      return block_reduce(m, dbuf, Sum());
    };
    for (int bit = 63; bit >= 0; bit--)  // the largest o with mass{key < o} <= thr
      if (mass_below(po | (uint64_t(1) << bit), 0) <= thr) po |= uint64_t(1) << bit;
    for (int bit = 31; bit >= 0; bit--)  // then how far into the tie group at key po
      if (mass_below(po, pj | (uint64_t(1) << bit)) <= thr) pj |= uint64_t(1) << bit;
  }
  const bool use_min_p = r.min_p > 0.0f;
  const double cut = lp_top + log(double(r.min_p));
  auto kept = [&](int64_t i) {
    if (!kept_k(i)) return false;
    if (use_p && i != top) {
      const uint64_t key = order_key(lp[i]), rid = uint64_t(V - 1 - i);
      if (key < po || (key == po && rid < pj)) return false;
    }
    return !use_min_p || lp[i] >= cut;
  };

  // Weights of the kept tokens (the top token has the largest) and their total.
  double total = 0.0;
  for (int64_t i = threadIdx.x; i < V; i += kThreads) total += (w[i] = kept(i) ? exp(lp[i] - lp_top) : 0.0);
  total = block_reduce(total, dbuf, Sum());  // its syncs publish w

  // Inverse CDF in id order over contiguous chunks.
  const int64_t chunk = (V + kThreads - 1) / kThreads;
  const int64_t c0 = min(V, int64_t(threadIdx.x) * chunk), c1 = min(V, c0 + chunk);
  double csum = 0.0;
  for (int64_t i = c0; i < c1; i++) csum += w[i] / total;
  dbuf[threadIdx.x] = csum;
  __syncthreads();
  if (threadIdx.x == 0) {  // exclusive scan of the chunk sums, in order
    double acc = 0.0;
    for (int k = 0; k < kThreads; k++) {
      const double c = dbuf[k];
      dbuf[k] = acc;
      acc += c;
    }
  }
  __syncthreads();
  double cum = dbuf[threadIdx.x];
  __syncthreads();
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
  int64_t tok = block_reduce(found, ibuf, Min());
  const int64_t last_kept = block_reduce(last, ibuf, Max());
  if (tok == INT64_MAX) tok = last_kept;
  if (threadIdx.x == 0) out[row] = {int32_t(tok), float(lp[tok])};
}

// --- host side -----------------------------------------------------------------------------------

void sample(const float* d_logits, int64_t B, int64_t V, const SampleRequest* rows, SampleResult* out) {
  if (B == 0) return;
  if (V <= 0 || V > INT32_MAX || B > INT32_MAX) throw Error(cat("cuda::sample: bad shape (", B, ", ", V, ")"));
  auto* d_req = static_cast<SampleRequest*>(malloc(size_t(B) * sizeof(SampleRequest)));  // (B)
  auto* d_out = static_cast<SampleResult*>(malloc(size_t(B) * sizeof(SampleResult)));    // (B)
  auto* d_lp = static_cast<double*>(malloc(size_t(B * V) * sizeof(double)));             // (B, V)
  auto* d_w = static_cast<double*>(malloc(size_t(B * V) * sizeof(double)));              // (B, V)
  memcpy_h2d(d_req, rows, size_t(B) * sizeof(SampleRequest));
  sample_kernel<<<unsigned(B), kThreads>>>(d_logits, V, d_req, d_lp, d_w, d_out);
  check(cudaGetLastError(), "cuda::sample: kernel launch");
  memcpy_d2h(out, d_out, size_t(B) * sizeof(SampleResult));
  free(d_req);
  free(d_out);
  free(d_lp);
  free(d_w);
}

}  // namespace r1::cuda
