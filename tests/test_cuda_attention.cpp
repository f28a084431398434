// Parity tests CUDA vs CPU for the kernels of cuda/attention.cu, cuda/optim.cu and cuda/sample.cu:
//   CudaAttention  the attention op (forward and autograd backward) on CUDA against the CPU op over
//                  GQA, causal prefill, decode (T < S, T = 1), T > S, key padding, queries that see
//                  no key, odd sizes, several key tiles, head dims 17 to 256; determinism of the
//                  backward (no atomics); the head-dim limit's error.
//   CudaAdamW      several AdamW steps with weight decay and gradient clipping on CUDA parameters
//                  against the same steps on CPU parameters (params, moments, step counts, norms).
//   CudaSample     sample_tokens_cuda against sample_token: the same ids from the same Rng streams
//                  over many rows and settings (greedy, temperature, top-k/top-p/min-p, ties), the
//                  same generator state afterwards, log-probs within one float ulp.
// These skip with the reason when no GPU is usable or when built with CUDA=0. Two suites run in
// every build, GPU or not:
//   CudaAttentionHost  the attention kernels (cuda/attention_kernels.h) compiled for the host and
//                      run under an emulation of a CUDA block (one fiber per thread) against the
//                      CPU kernels, with NaN guards and deadlock detection;
//   CudaSampleHost     the sampling algorithm (cuda/sample_row.h) with a one-thread block, and the
//                      sampling kernel (cuda/sample_kernels.h) under the block emulation, against
//                      sample_token.
//   CudaAdamWHost      the optimizer kernels (cuda/optim_kernels.h) under the block emulation
//                      against adamw_update and a double sum of squares.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/autograd.h"
#include "cpu/attention.h"
#include "ops/ops.h"
#include "sample/sampler.h"
#include "tensor/tensor.h"
#include "train/optim.h"
#include "util/error.h"
#include "util/rng.h"
#include "cuda_test_util.h"
#include "sample_row.h"  // cuda/: the sampling kernel's per-row algorithm, also compiled for the host
#ifdef R1_CUDA
#include "cuda_api.h"
#include "sample/sample_cuda.h"
#endif

namespace r1 {
namespace {

constexpr double kEps = std::numeric_limits<float>::epsilon();  // 2^-23 ~ 1.19e-7

std::vector<float> random_vector(size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> v(n);
  for (float& x : v) x = float(lo + (hi - lo) * rng.uniform());
  return v;
}

// |got - want| <= tol elementwise; reports the count and the first offenders.
::testing::AssertionResult within(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "sizes differ: " << got.size() << " vs " << want.size();
  size_t bad = 0;
  std::string first;
  for (size_t i = 0; i < got.size(); i++) {
    double d = std::fabs(double(got[i]) - double(want[i]));
    if (d <= tol) continue;  // NaN fails here too
    if (bad++ < 3) first += cat(" [", i, "] got ", got[i], " want ", want[i], " (|d| ", d, ")");
  }
  if (bad) return ::testing::AssertionFailure() << bad << " of " << got.size() << " beyond " << tol << ":" << first;
  return ::testing::AssertionSuccess();
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, double(std::fabs(x)));
  return m;
}

// --- attention cases (shared by the emulated and the GPU tests) ----------------------------------

struct AttnCase {
  const char* name;
  int64_t B, H, Hkv, T, S, Dk, Dv;
  bool causal;
  std::vector<uint8_t> mask;  // empty or B*S
};

std::vector<uint8_t> mask_with_zeros(int64_t B, int64_t S, const std::vector<int64_t>& zeros) {
  std::vector<uint8_t> m(size_t(B * S), 1);
  for (int64_t i : zeros) m[size_t(i)] = 0;
  return m;
}

std::vector<AttnCase> attention_cases() {
  return {
      {"causal prefill, one tile", 2, 4, 4, 7, 7, 32, 32, true, {}},
      {"causal prefill, 3 key tiles, odd T", 2, 4, 4, 70, 70, 32, 32, true, {}},
      {"GQA 6/2, head dim 64", 2, 6, 2, 45, 45, 64, 64, true, {}},
      {"GQA 8/1 (MQA), full attention", 1, 8, 1, 19, 33, 16, 16, false, {}},
      {"decode T=1, S=77, padding", 3, 4, 2, 1, 77, 32, 32, true, mask_with_zeros(3, 77, {0, 1, 2, 80, 200, 230})},
      {"chunk T=5 < S=40, padding", 2, 2, 1, 5, 40, 24, 24, true, mask_with_zeros(2, 40, {3, 39, 41, 42})},
      {"full attention, T=9, S=13, padding", 2, 3, 3, 9, 13, 8, 8, false, mask_with_zeros(2, 13, {0, 5, 12, 13, 20})},
      // Batch 0's key 0 is padding, so its query 0 (which sees only key 0) sees no key: zeros.
      {"a query that sees no key", 2, 2, 1, 12, 12, 16, 16, true, mask_with_zeros(2, 12, {0, 7, 12, 13})},
      // Batch 1 is all padding: every query of it sees nothing.
      {"a batch row of padding only", 2, 2, 2, 6, 6, 16, 16, false, mask_with_zeros(2, 6, {6, 7, 8, 9, 10, 11})},
      // T > S: queries t < T - S sit before the first key and see none.
      {"T > S causal", 1, 2, 2, 6, 4, 16, 16, true, {}},
      {"odd head dims Dk=17, Dv=33", 2, 2, 1, 11, 29, 17, 33, true, {}},
      {"MLA dims Dk=192, Dv=128", 1, 2, 2, 20, 20, 192, 128, true, {}},
      {"largest head dims 256", 1, 2, 1, 9, 41, 256, 256, true, mask_with_zeros(1, 41, {4})},
      {"long: S=300, T=70 decode chunk", 1, 2, 1, 70, 300, 32, 32, true, {}},
  };
}

// The emulation (below) runs ~10^6 fiber switches per second, so it takes the cases above with
// the few large ones shrunk (fewer batch rows and heads, shorter sequences); every feature they
// exercise (3+ key tiles, GQA, MQA, decode offsets, padding) is still there.
std::vector<AttnCase> emulation_cases() {
  std::vector<AttnCase> cases;
  for (const AttnCase& c : attention_cases())
    if (c.B * c.H * (c.T + c.S) <= 400) cases.push_back(c);
  cases.push_back({"causal prefill, 3 key tiles, odd T (small)", 1, 2, 2, 70, 70, 32, 32, true, {}});
  cases.push_back({"GQA 4/2, head dim 64 (small)", 1, 4, 2, 45, 45, 64, 64, true, {}});
  cases.push_back({"GQA 4/1 (MQA), full attention (small)", 1, 4, 1, 19, 33, 16, 16, false, {}});
  cases.push_back({"decode T=1, S=77, padding (small)", 2, 2, 1, 1, 77, 32, 32, true, mask_with_zeros(2, 77, {0, 1, 2, 80})});
  cases.push_back({"long: S=150, T=40 decode chunk (small)", 1, 1, 1, 40, 150, 32, 32, true, {}});
  return cases;
}

// --- the attention kernels on the host: a CUDA block emulated with one fiber per thread ----------
//
// cuda/attention_kernels.h is compiled here by the host compiler with the few CUDA names it uses
// supplied below, and its kernels run block by block: each of a block's 256 threads is a fiber
// (POSIX ucontext) that runs until it reaches a barrier (__syncthreads for the block, the
// implicit one of a warp shuffle for its warp), so the exact kernel code (indexing, tiling,
// masking, online softmax, shuffles, barriers) is checked against the CPU kernels on machines
// without a GPU. A barrier that not every thread reaches (non-uniform control flow) shows up as a
// deadlock, which fails the test. Shared memory starts as NaN at every block and every buffer is
// surrounded by NaN guards, so a read of something never written, or out of bounds, turns the
// results into NaN, and a write out of bounds is caught by checking the guards.
// Not emulated: memory coalescing, bank conflicts, timing, races between warps (fibers switch
// only at barriers, so a missing __syncthreads is not detected).

struct Dim3 {
  unsigned x = 0, y = 1, z = 1;
};
Dim3 g_thread_idx, g_block_idx, g_block_dim, g_grid_dim;  // what the kernels see as threadIdx, ...

class BlockEmu {
 public:
  static constexpr int kMaxThreads = 512;
  static constexpr size_t kStack = 256 * 1024;  // per fiber, above an inaccessible guard page

  explicit BlockEmu(int threads)  // a multiple of 32, at most kMaxThreads
      : n_(threads), ctx_(size_t(threads)), stacks_(size_t(threads)),
        done_(size_t(threads)), parity_(size_t(threads)), blocked_(size_t(threads)), blocked_gen_(size_t(threads)) {}

  // Runs body in every thread of the block until all return. False on a deadlock.
  bool run(const std::function<void()>& body);
  void sync_block() { wait(block_, n_); }
  float shuffle(float v, int src_lane);  // every lane of the calling warp takes part
  int thread() const { return cur_; }
  int threads() const { return n_; }

 private:
  struct Barrier {
    int arrived = 0;
    int64_t generation = 0;
  };
  static void entry();
  void wait(Barrier& b, int count);

  int n_;  // threads
  std::vector<ucontext_t> ctx_;
  // A fiber's stack: kStack bytes above a PROT_NONE page, so an overflow faults at once instead of
  // silently overwriting a neighbour (it did, at 64 KiB, in one build).
  struct Stack {
    char* base = nullptr;  // the guard page; the stack is [base + page, base + page + kStack)
    size_t page = size_t(sysconf(_SC_PAGESIZE));
    Stack() {
      void* p = mmap(nullptr, page + kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::runtime_error("BlockEmu: mmap of a fiber stack failed");
      base = static_cast<char*>(p);
      mprotect(base, page, PROT_NONE);
    }
    ~Stack() { munmap(base, page + kStack); }
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;
    char* top_region() const { return base + page; }
  };
  std::vector<Stack> stacks_;
  std::vector<char> done_;
  std::vector<int> parity_;               // per thread: which shuffle slot buffer comes next
  std::vector<const Barrier*> blocked_;   // per thread: the barrier it waits at, or null
  std::vector<int64_t> blocked_gen_;      // ... and that barrier's generation when it arrived
  float slots_[2][kMaxThreads] = {};      // shuffle values, double-buffered
  Barrier block_, warp_[kMaxThreads / 32];
  ucontext_t main_;
  const std::function<void()>* body_ = nullptr;
  int cur_ = 0;
  bool returned_ = false;
  int64_t events_ = 0;  // arrivals, releases, returns: a round without any is a deadlock
};

BlockEmu* g_emu = nullptr;

void BlockEmu::entry() {
  (*g_emu->body_)();
  g_emu->returned_ = true;  // then uc_link resumes run()
}

bool BlockEmu::run(const std::function<void()>& body) {
  g_emu = this;
  body_ = &body;
  block_ = Barrier();
  for (Barrier& w : warp_) w = Barrier();
  for (int i = 0; i < n_; i++) {
    getcontext(&ctx_[i]);
    ctx_[i].uc_stack.ss_sp = stacks_[size_t(i)].top_region();
    ctx_[i].uc_stack.ss_size = kStack;
    ctx_[i].uc_link = &main_;
    makecontext(&ctx_[i], &BlockEmu::entry, 0);
    done_[size_t(i)] = 0;
    parity_[size_t(i)] = 0;
    blocked_[size_t(i)] = nullptr;
  }
  int finished = 0;
  while (finished < n_) {
    const int64_t before = events_;
    for (int i = 0; i < n_; i++) {
      if (done_[size_t(i)]) continue;
      const Barrier* b = blocked_[size_t(i)];
      if (b && b->generation == blocked_gen_[size_t(i)]) continue;  // still waiting: no need to resume
      blocked_[size_t(i)] = nullptr;
      cur_ = i;
      g_thread_idx.x = unsigned(i);
      swapcontext(&main_, &ctx_[i]);
      if (returned_) {
        returned_ = false;
        done_[size_t(i)] = 1;
        finished++;
        events_++;
      }
    }
    if (events_ == before) return false;
  }
  return true;
}

void BlockEmu::wait(Barrier& b, int count) {
  events_++;
  const int64_t gen = b.generation;
  if (++b.arrived == count) {
    b.arrived = 0;
    b.generation++;
    return;
  }
  const int me = cur_;
  blocked_[size_t(me)] = &b;
  blocked_gen_[size_t(me)] = gen;
  swapcontext(&ctx_[me], &main_);  // run() resumes this fiber once the barrier is released
}

// Lane l writes slot[p][l], the warp meets at its barrier, lane l reads slot[p][src]. Buffers
// alternate per call: a lane can rewrite buffer p only two shuffles later, after the barrier of
// the next shuffle, which every lane reaches only after reading buffer p.
float BlockEmu::shuffle(float v, int src_lane) {
  const int me = cur_, warp = me / 32;
  const int p = parity_[size_t(me)];
  parity_[size_t(me)] ^= 1;
  slots_[p][me] = v;
  wait(warp_[warp], 32);
  return slots_[p][warp * 32 + (src_lane & 31)];
}

// The block being run (the CUDA functions below act on it).
BlockEmu& emu() { return *g_emu; }

}  // namespace
}  // namespace r1

// The CUDA names cuda/attention_kernels.h uses, in the namespace of its kernels.
namespace r1::cuda {
namespace {
r1::Dim3& threadIdx = r1::g_thread_idx;
r1::Dim3& blockIdx = r1::g_block_idx;
r1::Dim3& blockDim = r1::g_block_dim;
r1::Dim3& gridDim = r1::g_grid_dim;
constexpr size_t kEmuSmemFloats = 24 * 1024;  // >= the largest dynamic shared memory (dkdv, Dk = Dv = 256)
float smem[kEmuSmemFloats];                    // extern __shared__ float smem[] in every kernel
void __syncthreads() { r1::emu().sync_block(); }
float __shfl_sync(unsigned, float v, int src) { return r1::emu().shuffle(v, src); }
float __shfl_xor_sync(unsigned, float v, int mask) { return r1::emu().shuffle(v, (r1::emu().thread() % 32) ^ mask); }
}  // namespace
}  // namespace r1::cuda

#define __global__
#define __device__
#define __shared__
#include "attention_kernels.h"
#undef __shared__
#define __shared__ static  // the kernels' static __shared__ arrays: one copy that every fiber of the block sees
#include "sample_kernels.h"
#include "optim_kernels.h"
#undef __global__
#undef __device__
#undef __shared__

namespace r1 {
namespace {

// Runs a kernel call (which reads blockIdx) over `blocks` emulated blocks of `threads` threads
// (256 unless given), one block after the other. False on a deadlock.
bool emulate(int64_t blocks, const std::function<void()>& kernel, int threads = cuda::kRows * cuda::kWarp) {
  static std::vector<std::unique_ptr<BlockEmu>> emus;  // one per block size, reused
  BlockEmu* e = nullptr;
  for (auto& x : emus)
    if (x->threads() == threads) e = x.get();
  if (!e) {
    emus.push_back(std::make_unique<BlockEmu>(threads));
    e = emus.back().get();
  }
  g_block_dim.x = unsigned(threads);
  g_grid_dim.x = unsigned(blocks);
  for (int64_t b = 0; b < blocks; b++) {
    g_block_idx.x = unsigned(b);
    std::fill(cuda::smem, cuda::smem + cuda::kEmuSmemFloats, NAN);
    if (!e->run(kernel)) return false;
  }
  return true;
}

// A float buffer of n values with NaN guards of 64 floats on either side.
struct Guarded {
  static constexpr size_t kGuard = 64;
  std::vector<float> buf;
  explicit Guarded(size_t n, float fill = NAN) : buf(n + 2 * kGuard, NAN) {
    std::fill(buf.begin() + kGuard, buf.end() - kGuard, fill);
  }
  Guarded(const std::vector<float>& v) : Guarded(v.size()) { std::copy(v.begin(), v.end(), buf.begin() + kGuard); }
  float* data() { return buf.data() + kGuard; }
  std::vector<float> values() const { return std::vector<float>(buf.begin() + kGuard, buf.end() - kGuard); }
  bool guards_intact() const {
    for (size_t i = 0; i < kGuard; i++)
      if (!std::isnan(buf[i]) || !std::isnan(buf[buf.size() - 1 - i])) return false;
    return true;
  }
};

// The host side of cuda/attention.cu over emulated blocks: forward, D, dq, dk/dv.
struct KernelRun {
  std::vector<float> out, lse, dq, dk, dv;
  bool finished = false;  // no deadlock
  bool guards = false;    // nothing written out of bounds
};

template <int C>
bool run_kernels(const cuda::Attn& a, int64_t q_blocks, int64_t k_blocks, const float* q, const float* k,
                 const float* v, const uint8_t* mask, const float* dout, float* out, float* lse, float* D, float* dq,
                 float* dk, float* dv) {
  const int64_t rows = a.B * a.H * a.T;
  return emulate(q_blocks, [&] { cuda::attention_forward_kernel<C>(a, q, k, v, mask, out, lse); }) &&
         emulate((rows + cuda::kRows - 1) / cuda::kRows, [&] { cuda::attention_rowdot_kernel(dout, out, D, rows, a.Dv); }) &&
         emulate(q_blocks, [&] { cuda::attention_dq_kernel<C>(a, q, k, v, mask, dout, lse, D, dq); }) &&
         emulate(k_blocks, [&] { cuda::attention_dkdv_kernel<C>(a, q, k, v, mask, dout, lse, D, dk, dv); });
}

KernelRun emulate_attention(const AttnCase& c, const std::vector<float>& q, const std::vector<float>& k,
                            const std::vector<float>& v, const std::vector<float>& dout, float scale) {
  const cuda::Attn a{c.B, c.H, c.Hkv, c.T, c.S, int(c.Dk), int(c.Dv), int(c.H / c.Hkv), c.causal, scale};
  const size_t smem_bytes = sizeof(float) * cuda::kEmuSmemFloats;
  EXPECT_LE(cuda::forward_smem(a.Dk, a.Dv), smem_bytes);
  EXPECT_LE(cuda::dq_smem(a.Dk, a.Dv), smem_bytes);
  EXPECT_LE(cuda::dkdv_smem(a.Dk, a.Dv), smem_bytes);
  Guarded gq(q), gk(k), gv(v), gdout(dout);
  Guarded out(size_t(c.B * c.H * c.T * c.Dv)), lse(size_t(c.B * c.H * c.T)), D(size_t(c.B * c.H * c.T));
  Guarded dq(q.size()), dk(k.size()), dv(v.size());  // NaN: an element never written stays NaN
  const uint8_t* mask = c.mask.empty() ? nullptr : c.mask.data();
  const int64_t q_blocks = cuda::query_blocks(a), k_blocks = cuda::key_blocks(a);  // as attention.cu
  const int64_t Dmax = std::max(c.Dk, c.Dv);
  auto run = Dmax <= 64 ? run_kernels<2> : Dmax <= 128 ? run_kernels<4> : run_kernels<8>;  // as attention.cu
  KernelRun r;
  r.finished = run(a, q_blocks, k_blocks, gq.data(), gk.data(), gv.data(), mask, gdout.data(), out.data(),
                   lse.data(), D.data(), dq.data(), dk.data(), dv.data());
  r.guards = gq.guards_intact() && gk.guards_intact() && gv.guards_intact() && gdout.guards_intact() &&
             out.guards_intact() && lse.guards_intact() && D.guards_intact() && dq.guards_intact() &&
             dk.guards_intact() && dv.guards_intact();
  r.out = out.values();
  r.lse = lse.values();
  r.dq = dq.values();
  r.dk = dk.values();
  r.dv = dv.values();
  return r;
}

TEST(CudaAttentionHost, EmulatedKernelsMatchCpuKernels) {
  for (const AttnCase& c : emulation_cases()) {
    SCOPED_TRACE(c.name);
    Rng rng(uint64_t(c.T * 1000 + c.S));
    std::vector<float> q = random_vector(size_t(c.B * c.H * c.T * c.Dk), rng);
    std::vector<float> k = random_vector(size_t(c.B * c.Hkv * c.S * c.Dk), rng);
    std::vector<float> v = random_vector(size_t(c.B * c.Hkv * c.S * c.Dv), rng);
    std::vector<float> dout = random_vector(size_t(c.B * c.H * c.T * c.Dv), rng);
    const float scale = 1.0f / std::sqrt(float(c.Dk));
    const cpu::AttentionShape s{c.B, c.H, c.Hkv, c.T, c.S, c.Dk, c.Dv};
    std::vector<float> out(size_t(c.B * c.H * c.T * c.Dv)), probs(size_t(c.B * c.H * c.T * c.S));
    std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
    const uint8_t* mask = c.mask.empty() ? nullptr : c.mask.data();
    cpu::attention_forward(s, q.data(), k.data(), v.data(), c.causal, scale, mask, out.data(), probs.data());
    cpu::attention_backward(s, q.data(), k.data(), v.data(), probs.data(), dout.data(), scale, dq.data(), dk.data(),
                            dv.data());

    KernelRun got = emulate_attention(c, q, k, v, dout, scale);
    ASSERT_TRUE(got.finished) << "a barrier was not reached by every thread (deadlock)";
    EXPECT_TRUE(got.guards) << "a kernel wrote out of bounds";
    // The tolerance of the GPU test (CudaAttention.ForwardAndBackwardMatchCpu) and its reason.
    const double n = double(std::max(c.S, (c.H / c.Hkv) * c.T) + c.Dk + c.Dv);
    auto tol = [&](const std::vector<float>& want) { return 4 * n * kEps * std::max(max_abs(want), 1.0); };
    EXPECT_TRUE(within(got.out, out, tol(out))) << "out";
    EXPECT_TRUE(within(got.dq, dq, tol(dq))) << "dq";
    EXPECT_TRUE(within(got.dk, dk, tol(dk))) << "dk";
    EXPECT_TRUE(within(got.dv, dv, tol(dv))) << "dv";
    // lse = log sum_s exp(score) over the keys a query sees, in double from the CPU's
    // probabilities: lse_t = score_ts - log P_ts at any key it sees; -inf exactly when it sees none
    // (then its output and dq rows are exact zeros).
    for (int64_t row = 0; row < c.B * c.H * c.T; row++) {
      const float* P = probs.data() + row * c.S;
      int64_t seen = -1;
      for (int64_t j = 0; j < c.S && seen < 0; j++)
        if (P[j] > 0.01f) seen = j;
      bool none = std::all_of(P, P + c.S, [](float p) { return p == 0.0f; });
      if (none) {
        EXPECT_EQ(got.lse[size_t(row)], -INFINITY) << "row " << row;
        for (int64_t d = 0; d < c.Dv; d++) EXPECT_EQ(got.out[size_t(row * c.Dv + d)], 0.0f) << "row " << row;
        for (int64_t d = 0; d < c.Dk; d++) EXPECT_EQ(got.dq[size_t(row * c.Dk + d)], 0.0f) << "row " << row;
        continue;
      }
      if (seen < 0) continue;  // no key with P > 0.01 to read the score at (does not happen here)
      const int64_t bh = row / c.T, b = bh / c.H, g = (bh % c.H) / (c.H / c.Hkv);
      double score = 0;
      for (int64_t d = 0; d < c.Dk; d++)
        score += double(q[size_t(row * c.Dk + d)]) * double(k[size_t(((b * c.Hkv + g) * c.S + seen) * c.Dk + d)]);
      score *= scale;
      // P >= 0.01 has a relative error of a few eps, so log P is within ~1e-6 absolute.
      EXPECT_NEAR(got.lse[size_t(row)], score - std::log(double(P[seen])), 1e-5) << "row " << row;
    }
  }
}

// The emulation itself can fail: a barrier inside a branch that only some warps take deadlocks.
TEST(CudaAttentionHost, EmulationDetectsDivergentBarrier) {
  EXPECT_TRUE(emulate(1, [] {
    if (g_thread_idx.x < 32) (void)cuda::__shfl_sync(0xffffffffu, 1.0f, 0);  // one whole warp: fine
    cuda::__syncthreads();
  }));
  EXPECT_FALSE(emulate(1, [] {
    if (g_thread_idx.x < 32) cuda::__syncthreads();
  }));
}

// --- the sampling algorithm on the host (runs in every build) ---------------------------------

// cuda::sample_row with a one-thread block (cuda/sample_row.h) against sample_token: the kernel's
// bisections for top-k/top-p, its tie handling and its draw are checked here even without a GPU
// (the device instance differs only in how the block's sums are formed). Logits with many exact
// ties (integers in [-2, 2], and all-equal rows) make top-p cut through groups of equal tokens.
TEST(CudaSampleHost, RowAlgorithmMatchesSampleToken) {
  struct Setting {
    float t;
    int64_t k;
    float p, min_p;
  };
  const std::vector<Setting> settings = {{0, 0, 1, 0},       {1, 0, 1, 0},      {0.7f, 5, 1, 0},     {1, 1, 1, 0},
                                         {1, 0, 0.9f, 0},    {0.8f, 0, 0.5f, 0}, {1, 0, 1, 0.1f},     {1.3f, 50, 0.95f, 0.05f},
                                         {1, 100000, 1, 0},  {0.6f, 3, 0.3f, 0.2f}, {1, 0, 0.6f, 0},   {1, 2, 0.75f, 0},
                                         {1, 0, 0.25f, 0},   {2, 0, 0.4f, 0.5f}};
  Rng gen(3);
  int64_t draws = 0;
  for (int64_t V : {1, 2, 4, 7, 64, 1000}) {
    for (int kind = 0; kind < 3; kind++) {  // 0: normal(0, 2), 1: integers in [-2, 2], 2: all equal
      std::vector<float> x(static_cast<size_t>(V));
      for (float& l : x) l = kind == 0 ? float(2 * gen.normal()) : kind == 1 ? float(gen.range(-2, 2)) : 0.5f;
      for (const Setting& st : settings) {
        SamplingParams p;
        p.temperature = st.t;
        p.top_k = st.k;
        p.top_p = st.p;
        p.min_p = st.min_p;
        cuda::SampleRequest req{st.t, st.k, st.p, st.min_p, 0.0};
        Rng rng(uint64_t(V * 7 + kind), uint64_t(draws));
        std::vector<double> lp(static_cast<size_t>(V)), w(static_cast<size_t>(V));
        for (int d = 0; d < 20; d++, draws++) {
          Rng before = rng;
          TokenChoice want = sample_token(x.data(), V, p, rng);
          req.u = st.t == 0 ? 0.0 : before.uniform();  // the draw sample_token took
          cuda::SampleResult got = cuda::sample_row(x.data(), V, req, lp.data(), w.data(), cuda::SerialBlock{});
          ASSERT_EQ(got.token, want.token) << "V " << V << " kind " << kind << " t " << st.t << " k " << st.k
                                           << " p " << st.p << " min_p " << st.min_p << " u " << req.u;
          // Same double arithmetic as the CPU except the order of some sums: equal floats or one
          // ulp apart at a rounding edge.
          EXPECT_NEAR(got.logprob, want.logprob, 1e-30 + 2.4e-7 * std::fabs(want.logprob));
        }
      }
    }
  }
  EXPECT_EQ(draws, 6 * 3 * 14 * 20);
}

// sample_kernel itself (cuda/sample_kernels.h) under the block emulation, against sample_token:
// real block-wide reductions, the argmax across threads, the chunked scan of the draw. With 512
// threads (the launched size) for greedy and plain-temperature rows, and with 32 threads (the same
// code with a smaller tree, 16x cheaper to emulate) for every setting, top-k/top-p bisections too.
TEST(CudaSampleHost, EmulatedKernelMatchesSampleToken) {
  const std::vector<cuda::SampleRequest> settings = {
      {0, 0, 1, 0, 0},       {1, 0, 1, 0, 0},      {0.7f, 5, 1, 0, 0},      {1, 1, 1, 0, 0},
      {1, 0, 0.9f, 0, 0},    {0.8f, 0, 0.5f, 0, 0}, {1, 0, 1, 0.1f, 0},      {1.3f, 50, 0.95f, 0.05f, 0},
      {0.6f, 3, 0.3f, 0.2f, 0}, {1, 0, 0.6f, 0, 0}, {1, 2, 0.75f, 0, 0}};
  Rng gen(11);
  int64_t rows_checked = 0;
  for (int threads : {32, 512}) {
    for (int64_t V : {7, 1000}) {
      for (bool ties : {false, true}) {
        std::vector<cuda::SampleRequest> req;
        for (const cuda::SampleRequest& r : settings)
          if (threads == 32 || (r.top_k == 0 && r.top_p == 1 && r.min_p == 0)) req.push_back(r);
        const int64_t B = int64_t(req.size());
        std::vector<float> logits(static_cast<size_t>(B * V));
        for (float& l : logits) l = ties ? float(gen.range(-2, 2)) : float(2 * gen.normal());
        std::vector<Rng> rngs;
        for (int64_t b = 0; b < B; b++) {
          rngs.emplace_back(uint64_t(V), uint64_t(b));
          Rng copy = rngs.back();
          req[size_t(b)].u = req[size_t(b)].temperature == 0 ? 0.0 : copy.uniform();  // sample_token's draw
        }
        std::vector<double> lp(static_cast<size_t>(B * V), NAN), w(static_cast<size_t>(B * V), NAN);
        std::vector<cuda::SampleResult> out(static_cast<size_t>(B), cuda::SampleResult{-1, NAN});
        auto kernel = [&] {
          if (threads == 32) cuda::sample_kernel<32>(logits.data(), V, req.data(), lp.data(), w.data(), out.data());
          else cuda::sample_kernel<512>(logits.data(), V, req.data(), lp.data(), w.data(), out.data());
        };
        ASSERT_TRUE(emulate(B, kernel, threads)) << "deadlock";
        for (int64_t b = 0; b < B; b++) {
          const cuda::SampleRequest& r = req[size_t(b)];
          SamplingParams p;
          p.temperature = r.temperature;
          p.top_k = r.top_k;
          p.top_p = r.top_p;
          p.min_p = r.min_p;
          TokenChoice want = sample_token(logits.data() + b * V, V, p, rngs[size_t(b)]);
          EXPECT_EQ(out[size_t(b)].token, want.token) << threads << " threads, V " << V << (ties ? " ties" : "")
                                                      << " row " << b;
          EXPECT_NEAR(out[size_t(b)].logprob, want.logprob, 1e-30 + 2 * kEps * std::fabs(want.logprob));
          rows_checked++;
        }
      }
    }
  }
  EXPECT_EQ(rows_checked, 2 * 2 * (11 + 2));
}

// --- the optimizer kernels on the host ------------------------------------------------------------

// cuda/optim_kernels.h under the block emulation: three steps of adamw_kernel against the CPU's
// adamw_update, the two-stage sum of squares against a double sum, and the in-place scale.
TEST(CudaAdamWHost, EmulatedKernelsMatchCpu) {
  const int64_t n = 1000;  // 4 blocks of 256, the last one partly past n
  Rng rng(21);
  std::vector<float> p = random_vector(size_t(n), rng), m(size_t(n), 0.0f), v(size_t(n), 0.0f);
  std::vector<float> p_cpu = p, m_cpu = m, v_cpu = v;
  for (int64_t step = 1; step <= 3; step++) {
    std::vector<float> g = random_vector(size_t(n), rng);
    adamw_update(p_cpu.data(), g.data(), m_cpu.data(), v_cpu.data(), n, 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
    const cuda::AdamWScalars k = cuda::adamw_scalars(1e-2f, 0.9f, 0.95f, 0.1f, step);
    ASSERT_TRUE(emulate((n + cuda::kOptimThreads - 1) / cuda::kOptimThreads, [&] {
      cuda::adamw_kernel(p.data(), g.data(), m.data(), v.data(), n, 0.9f, 0.95f, 1e-8f, k.step_size, k.bias2_sqrt,
                         k.decay);
    }, cuda::kOptimThreads));
  }
  // The same float expression; the two compilations may contract different products into FMAs:
  // a few ulp of |p| and of lr per step (see CudaAdamW.StepsMatchCpuWithDecayAndClipping).
  EXPECT_TRUE(within(p, p_cpu, 16 * kEps * (max_abs(p_cpu) + 1e-2)));
  EXPECT_TRUE(within(m, m_cpu, 16 * kEps * max_abs(m_cpu)));
  EXPECT_TRUE(within(v, v_cpu, 16 * kEps * max_abs(v_cpu)));

  // Two gradients, one longer than the 64 x 256 threads of a grid-stride pass.
  std::vector<float> x1 = random_vector(1000, rng), x2 = random_vector(70000, rng, -3, 3);
  std::vector<double> partial(2 * cuda::kNormBlocks + 1, NAN);  // (2 x 64 partial sums) + the total
  ASSERT_TRUE(emulate(cuda::kNormBlocks, [&] { cuda::sum_squares_partial_kernel(x1.data(), 1000, partial.data()); },
                      cuda::kOptimThreads));
  ASSERT_TRUE(emulate(cuda::kNormBlocks, [&] {
    cuda::sum_squares_partial_kernel(x2.data(), 70000, partial.data() + cuda::kNormBlocks);
  }, cuda::kOptimThreads));
  ASSERT_TRUE(emulate(1, [&] { cuda::sum_kernel(partial.data(), 2 * cuda::kNormBlocks, partial.data() + 2 * cuda::kNormBlocks); },
                      cuda::kOptimThreads));
  double want = 0;
  for (float x : x1) want += double(x) * double(x);
  for (float x : x2) want += double(x) * double(x);
  // Double sums of 71000 positive terms in two orders: relative difference ~1e-16 x log(n).
  EXPECT_NEAR(partial[size_t(2 * cuda::kNormBlocks)], want, 1e-12 * want);

  std::vector<float> y = x2;
  ASSERT_TRUE(emulate(4, [&] { cuda::scale_in_place_kernel(y.data(), 70000, 0.5f); }, cuda::kOptimThreads));
  for (size_t i = 0; i < y.size(); i++) ASSERT_EQ(y[i], x2[i] * 0.5f) << i;  // exact: a power of two
}

#ifndef R1_CUDA

TEST(CudaAttention, BuiltWithoutCuda) { GTEST_SKIP() << "built without CUDA (CUDA=0)"; }

#else

using testing::GpuTest;
class CudaAttention : public GpuTest {};
class CudaAdamW : public GpuTest {};
class CudaSample : public GpuTest {};

struct AttnResult {
  std::vector<float> out, dq, dk, dv;
};

// Runs the attention op on `device` with the case's random inputs and output gradient.
AttnResult run_attention(const AttnCase& c, Device device) {
  Rng rng(uint64_t(c.T * 1000 + c.S));
  Tensor q = Tensor::from_vector({c.B, c.H, c.T, c.Dk}, random_vector(size_t(c.B * c.H * c.T * c.Dk), rng), device);
  Tensor k = Tensor::from_vector({c.B, c.Hkv, c.S, c.Dk}, random_vector(size_t(c.B * c.Hkv * c.S * c.Dk), rng), device);
  Tensor v = Tensor::from_vector({c.B, c.Hkv, c.S, c.Dv}, random_vector(size_t(c.B * c.Hkv * c.S * c.Dv), rng), device);
  Tensor g = Tensor::from_vector({c.B, c.H, c.T, c.Dv}, random_vector(size_t(c.B * c.H * c.T * c.Dv), rng), device);
  q.set_requires_grad();
  k.set_requires_grad();
  v.set_requires_grad();
  Tensor out = attention(q, k, v, c.causal, 1.0f / std::sqrt(float(c.Dk)), c.mask);
  backward(out, g);
  return {out.to_vector(), q.grad().to_vector(), k.grad().to_vector(), v.grad().to_vector()};
}

TEST_F(CudaAttention, ForwardAndBackwardMatchCpu) {
  for (const AttnCase& c : attention_cases()) {
    SCOPED_TRACE(c.name);
    AttnResult cpu = run_attention(c, Device::CPU);
    AttnResult gpu = run_attention(c, Device::CUDA);
    // Both sides sum up to S products per output (softmax, P V, dS K), up to rep * T per dk/dv row
    // (P^T dO and dS^T Q over the query heads of a kv group), and Dk or Dv per score, in float, in different orders (and the CUDA backward uses D = dO . O where the CPU
    // uses rowsum(P dP)); the worst-case rounding of such sums is n eps times the magnitudes
    // involved, which are within a small factor (4) of the largest value of the result here
    // (inputs uniform in [-1, 1], scale 1/sqrt(Dk)). An indexing error is O(max) and fails.
    const double n = double(std::max(c.S, (c.H / c.Hkv) * c.T) + c.Dk + c.Dv);
    auto tol = [&](const std::vector<float>& want) { return 4 * n * kEps * std::max(max_abs(want), 1.0); };
    EXPECT_TRUE(within(gpu.out, cpu.out, tol(cpu.out))) << "out";
    EXPECT_TRUE(within(gpu.dq, cpu.dq, tol(cpu.dq))) << "dq";
    EXPECT_TRUE(within(gpu.dk, cpu.dk, tol(cpu.dk))) << "dk";
    EXPECT_TRUE(within(gpu.dv, cpu.dv, tol(cpu.dv))) << "dv";
  }
}

// The query that sees no key gets exact zeros (output and dq), as on the CPU, and a key that no
// query sees gets exact zeros in dk and dv.
TEST_F(CudaAttention, UnseenRowsAndKeysAreExactlyZero) {
  const AttnCase c = attention_cases()[7];  // "a query that sees no key"
  ASSERT_EQ(std::string(c.name), "a query that sees no key");
  AttnResult gpu = run_attention(c, Device::CUDA);
  // Batch 0, head 0, query 0: (B, H, T, D) offset 0.
  for (int64_t d = 0; d < c.Dv; d++) EXPECT_EQ(gpu.out[size_t(d)], 0.0f) << "out dim " << d;
  for (int64_t d = 0; d < c.Dk; d++) EXPECT_EQ(gpu.dq[size_t(d)], 0.0f) << "dq dim " << d;
  // Batch 0, kv head 0, key 0 is padding: no query sees it.
  for (int64_t d = 0; d < c.Dk; d++) EXPECT_EQ(gpu.dk[size_t(d)], 0.0f) << "dk dim " << d;
  for (int64_t d = 0; d < c.Dv; d++) EXPECT_EQ(gpu.dv[size_t(d)], 0.0f) << "dv dim " << d;
}

// No atomics: two runs give the same bits.
TEST_F(CudaAttention, BackwardIsDeterministic) {
  const AttnCase c{"GQA 4/2, two key tiles", 2, 4, 2, 50, 50, 64, 48, true, mask_with_zeros(2, 50, {3, 77})};
  AttnResult a = run_attention(c, Device::CUDA), b = run_attention(c, Device::CUDA);
  EXPECT_TRUE(within(a.out, b.out, 0.0));
  EXPECT_TRUE(within(a.dq, b.dq, 0.0));
  EXPECT_TRUE(within(a.dk, b.dk, 0.0));
  EXPECT_TRUE(within(a.dv, b.dv, 0.0));
}

// Without autograd the same kernel runs: the same bits as with it.
TEST_F(CudaAttention, NoGradForwardIsTheSame) {
  const AttnCase c = attention_cases()[2];
  Rng rng(5);
  Tensor q = Tensor::from_vector({c.B, c.H, c.T, c.Dk}, random_vector(size_t(c.B * c.H * c.T * c.Dk), rng), Device::CUDA);
  Tensor k = Tensor::from_vector({c.B, c.Hkv, c.S, c.Dk}, random_vector(size_t(c.B * c.Hkv * c.S * c.Dk), rng), Device::CUDA);
  Tensor v = Tensor::from_vector({c.B, c.Hkv, c.S, c.Dv}, random_vector(size_t(c.B * c.Hkv * c.S * c.Dv), rng), Device::CUDA);
  q.set_requires_grad();
  std::vector<float> with_grad = attention(q, k, v, true, 0.125f).to_vector();
  NoGradGuard no_grad;
  EXPECT_TRUE(within(attention(q, k, v, true, 0.125f).to_vector(), with_grad, 0.0));
}

TEST_F(CudaAttention, HeadDimAbove256IsAnError) {
  Tensor q = Tensor::zeros({1, 1, 2, 257}, Device::CUDA), k = Tensor::zeros({1, 1, 2, 257}, Device::CUDA);
  Tensor v = Tensor::zeros({1, 1, 2, 8}, Device::CUDA);
  try {
    attention(q, k, v, true, 1.0f);
    FAIL() << "head dim 257 did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("head dims up to 256"), std::string::npos) << e.what();
  }
}

// --- AdamW ---------------------------------------------------------------------------------------

struct OptRun {
  std::vector<std::vector<float>> params;
  std::vector<StTensor> state;
  std::vector<float> norms;
};

// Five steps of clip + AdamW over four parameters (a decayed matrix, an embedding and a vector
// that do not decay, and one that never gets a grad) with the same grads on either device.
OptRun run_adamw(Device device) {
  Rng rng(7);
  const std::vector<std::pair<std::string, Shape>> specs = {
      {"layer.w", {7, 13}}, {"embed.w", {11, 5}}, {"norm.w", {1000}}, {"unused.w", {3, 3}}};
  std::vector<std::pair<std::string, Tensor>> named;
  for (const auto& s : specs) {
    Tensor p = Tensor::from_vector(s.second, random_vector(size_t(shape_numel(s.second)), rng), device);
    p.set_requires_grad();
    named.push_back({s.first, p});
  }
  AdamWConfig cfg;
  cfg.lr = 1e-2f;
  cfg.weight_decay = 0.1f;
  AdamW opt(named, cfg);
  OptRun run;
  for (int step = 0; step < 5; step++) {
    opt.zero_grad();
    std::vector<Tensor> params;
    for (size_t i = 0; i < named.size(); i++) {
      params.push_back(named[i].second);
      if (named[i].first == "unused.w") continue;
      // Grads grow with the step so clipping (max norm 25) acts on the later steps only (norms ~10, 20, 29, 39, 49).
      float amp = 0.5f * float(step + 1);
      std::vector<float> g = random_vector(size_t(named[i].second.numel()), rng, -amp, amp);
      accumulate_grad(named[i].second, Tensor::from_vector(named[i].second.shape(), g, device));
    }
    run.norms.push_back(clip_grad_norm(params, 25.0f));
    opt.config().lr = 1e-2f / float(step + 1);
    opt.step();
  }
  for (const auto& np : named) run.params.push_back(np.second.to_vector());
  run.state = opt.export_state();
  return run;
}

TEST_F(CudaAdamW, StepsMatchCpuWithDecayAndClipping) {
  OptRun cpu = run_adamw(Device::CPU), gpu = run_adamw(Device::CUDA);
  // The norm is a double sum on both sides (different order) cast to float: equal up to one
  // float rounding.
  ASSERT_EQ(gpu.norms.size(), cpu.norms.size());
  bool clipped = false, unclipped = false;
  for (size_t i = 0; i < cpu.norms.size(); i++) {
    EXPECT_NEAR(gpu.norms[i], cpu.norms[i], 2 * kEps * cpu.norms[i]) << "step " << i;
    (cpu.norms[i] > 25.0f ? clipped : unclipped) = true;
  }
  EXPECT_TRUE(clipped && unclipped) << "the test should clip some steps and not others";
  // The update is the same float expression; the CPU build contracts some products into FMAs
  // (gcc -O3 -march=native) and nvcc others, so each step may differ by a few ulp of p and of
  // lr (|update| <= ~lr); over 5 steps 16 ulp of (|p| + lr) is ample and an index slip is not.
  ASSERT_EQ(gpu.params.size(), cpu.params.size());
  for (size_t i = 0; i < cpu.params.size(); i++)
    EXPECT_TRUE(within(gpu.params[i], cpu.params[i], 16 * kEps * (max_abs(cpu.params[i]) + 1e-2))) << "param " << i;
  // Moments (m ~ g, v ~ g^2) and step counts ("unused.w" never stepped: zeros and step 0).
  ASSERT_EQ(gpu.state.size(), cpu.state.size());
  for (size_t i = 0; i < cpu.state.size(); i++) {
    ASSERT_EQ(gpu.state[i].name, cpu.state[i].name);
    EXPECT_TRUE(within(gpu.state[i].data, cpu.state[i].data, 16 * kEps * std::max(max_abs(cpu.state[i].data), 1e-30)))
        << cpu.state[i].name;
  }
}

TEST_F(CudaAdamW, MomentsLiveOnTheDevice) {
  Tensor p = Tensor::from_vector({3}, {1, 2, 3}, Device::CUDA);
  p.set_requires_grad();
  AdamW opt({{"w", p}}, AdamWConfig{});
  accumulate_grad(p, Tensor::from_vector({3}, {0.1f, -0.2f, 0.3f}, Device::CUDA));
  opt.step();
  EXPECT_EQ(opt.step_count("w"), 1);
  EXPECT_TRUE(p.is_cuda());
  // PyTorch's first step moves each weight by lr * sign(g) (m_hat / sqrt(v_hat) = g / |g|), no decay on a vector.
  std::vector<float> got = p.to_vector();
  EXPECT_NEAR(got[0], 1 - 3e-4f, 1e-6);
  EXPECT_NEAR(got[1], 2 + 3e-4f, 1e-6);
  EXPECT_NEAR(got[2], 3 - 3e-4f, 1e-6);
}

// --- sampling ------------------------------------------------------------------------------------

// rows x V logits: normal(0, 2), or with `ties` rounded to multiples of 0.5 (many exact ties,
// which top-k keeps and top-p may cut through).
std::vector<float> sample_logits(int64_t rows, int64_t V, bool ties, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(size_t(rows * V));
  for (float& l : x) {
    l = float(2.0 * rng.normal());
    if (ties) l = std::round(l * 2.0f) / 2.0f;
  }
  return x;
}

SamplingParams params(float t, int64_t k, float p, float min_p) {
  SamplingParams s;
  s.temperature = t;
  s.top_k = k;
  s.top_p = p;
  s.min_p = min_p;
  return s;
}

TEST_F(CudaSample, SameTokensAsCpuFromTheSameRandomNumbers) {
  const std::vector<SamplingParams> settings = {
      params(0, 0, 1, 0),        params(1, 0, 1, 0),      params(0.7f, 5, 1, 0),   params(1, 1, 1, 0),
      params(1, 0, 0.9f, 0),     params(0.8f, 0, 0.5f, 0), params(1, 0, 1, 0.1f),  params(1.3f, 50, 0.95f, 0.05f),
      params(1, 100000, 1, 0),   params(0.6f, 3, 0.3f, 0.2f),
  };
  int64_t rows_checked = 0;
  for (int64_t V : {1, 7, 100, 1000, 5003}) {
    for (bool ties : {false, true}) {
      const int64_t B = 40;  // rows: each setting 4 times, each row its own stream
      std::vector<SamplingParams> ps;
      for (int64_t b = 0; b < B; b++) ps.push_back(settings[size_t(b) % settings.size()]);
      std::vector<float> logits = sample_logits(B, V, ties, uint64_t(V) * 2 + ties);
      Tensor d_logits = Tensor::from_vector({B, V}, logits, Device::CUDA);
      std::vector<Rng> cpu_rng, gpu_rng;
      for (int64_t b = 0; b < B; b++) {
        cpu_rng.emplace_back(99, uint64_t(b));
        gpu_rng.emplace_back(99, uint64_t(b));
      }
      std::vector<Rng*> gpu_ptrs;
      for (Rng& r : gpu_rng) gpu_ptrs.push_back(&r);
      for (int step = 0; step < 3; step++) {  // three draws per row from the same logits
        std::vector<TokenChoice> got = sample_tokens_cuda(d_logits, ps, gpu_ptrs);
        ASSERT_EQ(int64_t(got.size()), B);
        for (int64_t b = 0; b < B; b++) {
          SCOPED_TRACE(cat("V ", V, ties ? " ties" : "", " row ", b, " step ", step, " T ", ps[size_t(b)].temperature,
                           " k ", ps[size_t(b)].top_k, " p ", ps[size_t(b)].top_p, " min_p ", ps[size_t(b)].min_p));
          TokenChoice want = sample_token(logits.data() + b * V, V, ps[size_t(b)], cpu_rng[size_t(b)]);
          EXPECT_EQ(got[size_t(b)].token, want.token);
          // The log-prob is a double computed on both sides (device exp/log within an ulp of
          // glibc's) and rounded to float: equal, or one float ulp apart at a rounding edge.
          EXPECT_NEAR(got[size_t(b)].logprob, want.logprob, 1e-30 + 2 * kEps * std::fabs(want.logprob));
          rows_checked++;
        }
      }
      // Each generator was consumed exactly as the CPU's (one draw per non-greedy token).
      for (int64_t b = 0; b < B; b++) EXPECT_EQ(gpu_rng[size_t(b)].next(), cpu_rng[size_t(b)].next()) << "row " << b;
    }
  }
  EXPECT_EQ(rows_checked, 5 * 2 * 40 * 3);
}

TEST_F(CudaSample, BadInputsAreErrors) {
  Tensor logits = Tensor::zeros({2, 5}, Device::CUDA);
  Rng r0(1), r1(2);
  std::vector<Rng*> rngs = {&r0, &r1};
  EXPECT_THROW(sample_tokens_cuda(logits, {params(1, 0, 1, 0)}, rngs), Error);  // one params for two rows
  EXPECT_THROW(sample_tokens_cuda(logits, {params(-1, 0, 1, 0), params(1, 0, 1, 0)}, rngs), Error);
  EXPECT_THROW(sample_tokens_cuda(Tensor::zeros({2, 5}), {params(1, 0, 1, 0), params(1, 0, 1, 0)}, rngs), Error);
}

#endif  // R1_CUDA

}  // namespace
}  // namespace r1
