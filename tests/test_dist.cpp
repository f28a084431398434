// Data-parallel training (src/dist/, docs/distributed.md).
//   Unit tests (always run): the fixed-order gradient reduction and the scalar collectives through
//   the single-process communicator, and through an in-process communicator of 2 threads (so the
//   N-rank path's order is checked without MPI).
//   CLI tests (when r1 is built with MPI and mpirun is on the PATH; they skip otherwise, saying
//   why): `mpirun -np 2 r1 pretrain|sft|grpo` against the 1-rank run of the same global batch,
//   resume with another rank count, the error for a batch that does not split, and a rank that
//   dies or hangs.
#include <dirent.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cli_util.h"
#include "dist/backends.h"
#include "dist/comm.h"
#include "dist/data_parallel.h"
#include "rl/grpo.h"
#include "ops/ops.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/rng.h"
#include "util/safetensors.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif
#include "train/run.h"

namespace r1 {
namespace {

using testing::CliRun;
using testing::metrics_lines;
using testing::r1_bin;

// --- an in-process communicator: N threads, each one rank ---------------------------------------

// The ranks meet at a barrier; each collective publishes its buffers, meets, copies what it
// needs from the others (in rank order), and meets again before anyone reuses a buffer.
class ThreadGroup {
 public:
  explicit ThreadGroup(int n) : n_(n), ptrs_(size_t(n)) {}
  void meet() {
    std::unique_lock<std::mutex> lk(mu_);
    int64_t gen = gen_;
    if (++arrived_ == n_) {
      arrived_ = 0;
      gen_++;
      cv_.notify_all();
    } else {
      cv_.wait(lk, [&] { return gen_ != gen; });
    }
  }
  int n_;
  std::vector<const void*> ptrs_;  // (n) each rank's published buffer

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int64_t gen_ = 0;
};

class ThreadCommunicator : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& g, int rank) : g_(g), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.n_; }
  const char* backend() const override { return "threads"; }
  void allreduce_sum(float* data, int64_t n) override { sum(data, n); }
  void allreduce_sum(double* data, int64_t n) override { sum(data, n); }
  void alltoall(const float* send, float* recv, int64_t n) override {
    exchange(send, [&](int q, const float* theirs) { std::memcpy(recv + q * n, theirs + rank_ * n, size_t(n) * 4); });
  }
  void allgather(const float* send, float* recv, int64_t n) override {
    exchange(send, [&](int q, const float* theirs) { std::memcpy(recv + q * n, theirs, size_t(n) * 4); });
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    exchange(static_cast<const float*>(data), [&](int q, const float* theirs) {
      if (q == root && q != rank_) std::memcpy(data, theirs, size_t(bytes));
    });
  }
  void barrier() override { g_.meet(); }
  [[noreturn]] void abort(int) override { throw std::logic_error("ThreadCommunicator::abort"); }

 private:
  template <typename F>
  void exchange(const float* mine, F copy) {
    g_.ptrs_[size_t(rank_)] = mine;
    g_.meet();
    for (int q = 0; q < g_.n_; q++) copy(q, static_cast<const float*>(g_.ptrs_[size_t(q)]));
    g_.meet();
  }
  template <typename T>
  void sum(T* data, int64_t n) {
    std::vector<T> total(size_t(n), T(0));
    exchange(reinterpret_cast<const float*>(data), [&](int, const float* theirs) {
      const T* t = reinterpret_cast<const T*>(theirs);
      for (int64_t i = 0; i < n; i++) total[size_t(i)] += t[i];
    });
    std::copy(total.begin(), total.end(), data);
  }
  ThreadGroup& g_;
  int rank_;
};

// --- gradient reduction -------------------------------------------------------------------------

// Unit u's gradient of parameter p: values spread over many binades, so that the order of a float
// sum shows in the bits ((a + b) + c != a + (b + c) for most elements); parameter 2 has a
// gradient in unit 1 only (its others are undefined), parameter 3 in none.
std::vector<float> unit_grad(int u, int p, int64_t n) {
  Rng rng(uint64_t(100 * u + p));
  std::vector<float> g(static_cast<size_t>(n));
  for (float& x : g) x = float(rng.normal() * std::pow(10.0, rng.range(-4, 4)));
  return g;
}

bool has_grad(int u, int p) { return p < 2 || (p == 2 && u == 1); }

struct Params {
  std::vector<Tensor> t;  // shapes (3, 5), (7), (2, 2), (4)
  Params() {
    for (Shape s : {Shape{3, 5}, Shape{7}, Shape{2, 2}, Shape{4}}) {
      t.push_back(Tensor::zeros(s));
      t.back().set_requires_grad();
    }
  }
  void set_unit(int u) {
    for (size_t p = 0; p < t.size(); p++) {
      t[p].zero_grad();
      if (has_grad(u, int(p)))
        t[p].impl().grad = Tensor::from_vector(t[p].shape(), unit_grad(u, int(p), t[p].numel())).impl_ptr();
    }
  }
};

// The reference: units added left to right, ((u0 + u1) + u2) + u3, in float.
std::vector<float> ordered_sum(int units, int p, int64_t n) {
  std::vector<float> s;
  for (int u = 0; u < units; u++) {
    if (!has_grad(u, p)) {
      if (s.empty()) continue;
      for (float& x : s) x += 0.0f;
      continue;
    }
    std::vector<float> g = unit_grad(u, p, n);
    if (s.empty()) s = g;
    else
      for (size_t i = 0; i < s.size(); i++) s[i] += g[i];
  }
  return s;
}

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

TEST(DistReduce, SingleProcessSumsUnitsInOrder) {
  SingleCommunicator comm;
  Params ps;
  GradReducer red(comm, ps.t);
  for (int u = 0; u < 4; u++) {
    ps.set_unit(u);
    red.add_unit();
    for (const Tensor& t : ps.t) EXPECT_FALSE(t.grad().defined()) << "add_unit drops the unit's gradient";
  }
  red.reduce();
  for (int p = 0; p < 3; p++) {
    ASSERT_TRUE(ps.t[size_t(p)].grad().defined()) << p;
    EXPECT_TRUE(bitwise_equal(ps.t[size_t(p)].grad().to_vector(), ordered_sum(4, p, ps.t[size_t(p)].numel()))) << p;
  }
  EXPECT_FALSE(ps.t[3].grad().defined()) << "a parameter no unit reached keeps an undefined grad (AdamW skips it)";
  // The check can fail: another order gives other bits for this data.
  std::vector<float> a = unit_grad(0, 0, 15), b = unit_grad(1, 0, 15), c = unit_grad(2, 0, 15), d = unit_grad(3, 0, 15);
  std::vector<float> pairwise(15);
  for (size_t i = 0; i < 15; i++) pairwise[i] = (a[i] + b[i]) + (c[i] + d[i]);
  EXPECT_FALSE(bitwise_equal(pairwise, ordered_sum(4, 0, 15)));
}

// Two ranks holding units {0, 1} and {2, 3} get the bits of one rank holding all four: the
// all-to-all + ordered slice sums + all-gather path (2 ranks) against the running sum (1 rank).
TEST(DistReduce, TwoRanksGiveTheBitsOfOne) {
  ThreadGroup group(2);
  std::vector<std::vector<std::vector<float>>> got(2);  // [rank][param]
  std::vector<std::vector<bool>> defined(2);
  auto rank_main = [&](int rank) {
    ThreadCommunicator comm(group, rank);
    Params ps;
    GradReducer red(comm, ps.t);
    EXPECT_EQ(red.flat_size() % 2, 0) << "padded to a multiple of the rank count";
    for (int u = 2 * rank; u < 2 * rank + 2; u++) {
      ps.set_unit(u);
      red.add_unit();
    }
    red.reduce();
    for (const Tensor& t : ps.t) {
      defined[size_t(rank)].push_back(t.grad().defined());
      got[size_t(rank)].push_back(t.grad().defined() ? t.grad().to_vector() : std::vector<float>());
    }
  };
  std::thread r1(rank_main, 1);
  rank_main(0);
  r1.join();
  Params shapes;
  for (int rank = 0; rank < 2; rank++) {
    for (int p = 0; p < 3; p++) {
      ASSERT_TRUE(defined[size_t(rank)][size_t(p)]) << rank << " " << p;
      EXPECT_TRUE(bitwise_equal(got[size_t(rank)][size_t(p)], ordered_sum(4, p, shapes.t[size_t(p)].numel())))
          << "rank " << rank << " param " << p;
    }
    EXPECT_FALSE(defined[size_t(rank)][3]);
  }
}

TEST(DistReduce, ScalarCollectives) {
  SingleCommunicator one;
  EXPECT_EQ(gather_slots(one, {1.5, -2.0}, 1, 4), (std::vector<double>{0.0, 1.5, -2.0, 0.0}));
  EXPECT_THROW(gather_slots(one, {1.0, 2.0}, 3, 4), Error);
  std::vector<double> v = {3, 4};
  sum_over_ranks(one, v);
  EXPECT_EQ(v, (std::vector<double>{3, 4}));

  // Two ranks: each slot written by one rank; sums over ranks.
  ThreadGroup group(2);
  std::vector<std::vector<double>> slots(2), sums(2);
  auto rank_main = [&](int rank) {
    ThreadCommunicator comm(group, rank);
    slots[size_t(rank)] = gather_slots(comm, {0.1 * (rank + 1), -7.0 * rank}, 2 * rank, 4);
    std::vector<double> s = {double(rank + 1), 0.25};
    sum_over_ranks(comm, s);
    sums[size_t(rank)] = s;
  };
  std::thread r1(rank_main, 1);
  rank_main(0);
  r1.join();
  for (int rank = 0; rank < 2; rank++) {
    EXPECT_EQ(slots[size_t(rank)], (std::vector<double>{0.1, -0.0, 0.2, -7.0}));
    EXPECT_EQ(sums[size_t(rank)], (std::vector<double>{3.0, 0.5}));
  }

  Share s = share_of(8, 1, 2, "grad_accum");
  EXPECT_EQ(s.first, 4);
  EXPECT_EQ(s.count, 4);
  try {
    share_of(3, 0, 2, "grad_accum (micro-batches per step)");
    FAIL() << "3 micro-batches do not split over 2 ranks";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "grad_accum (micro-batches per step) (3) must be a multiple of the number of ranks (2)"),
              std::string::npos)
        << e.what();
  }
}

// Expert loads are summed over ranks before the bias update: every rank then holds the global load.
TEST(DistReduce, RouterLoadIsGlobal) {
  Config c = Config::from_json(Json::parse(R"({"model_type": "deepseek_v3", "vocab_size": 40, "hidden_size": 16,
      "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
      "moe_intermediate_size": 8, "n_routed_experts": 4, "num_experts_per_tok": 2, "first_k_dense_replace": 1,
      "bias_update_speed": 0.01})"), "test config");
  ThreadGroup group(2);
  std::vector<std::vector<int64_t>> load(2);
  std::vector<int64_t> tokens(2);
  auto rank_main = [&](int rank) {
    ThreadCommunicator comm(group, rank);
    Transformer m(c);
    Moe& moe = *m.blocks()[1].moe;
    moe.stats.load = rank == 0 ? std::vector<int64_t>{5, 0, 2, 1} : std::vector<int64_t>{1, 6, 0, 1};
    moe.stats.tokens = 4;
    reduce_router_load(m, comm);
    load[size_t(rank)] = moe.stats.load;
    tokens[size_t(rank)] = moe.stats.tokens;
  };
  std::thread r1(rank_main, 1);
  rank_main(0);
  r1.join();
  for (int rank = 0; rank < 2; rank++) {
    EXPECT_EQ(load[size_t(rank)], (std::vector<int64_t>{6, 6, 2, 2}));
    EXPECT_EQ(tokens[size_t(rank)], 8);
  }
}


// GRPO over ranks: each rank's grpo_loss() over its completions, times rank_share(), adds up to
// grpo_loss() over the whole minibatch (value and dL/dlp), for every aggregation and every named
// convention the trainer accepts, with completions of uneven lengths split unevenly (2 + 3).
TEST(DistReduce, GrpoRankSharesAddUp) {
  Rng rng(7);
  const std::vector<int64_t> len = {3, 9, 1, 6, 4};  // n_i; ranks hold {0, 1} and {2, 3, 4}
  const int64_t T = 23, split = 2;
  Ragged lp(5), lp_old(5), lp_ref(5);
  std::vector<double> adv;
  for (size_t i = 0; i < 5; i++) {
    adv.push_back(rng.uniform() * 2 - 1);
    for (int64_t t = 0; t < len[i]; t++) {
      lp[i].push_back(-3 * rng.uniform());
      lp_old[i].push_back(lp[i].back() + 0.3 * (rng.uniform() - 0.5));  // ratios in ~[0.86, 1.16]: some clip
      lp_ref[i].push_back(lp[i].back() + 0.2 * (rng.uniform() - 0.5));
    }
  }
  std::vector<GrpoOptions> all;
  for (const char* loss : {"grpo", "token-mean", "dr_grpo", "seq-mean-token-sum", "seq-mean-token-sum-norm"}) {
    GrpoOptions o;
    o.loss = loss;
    o.eps_low = o.eps_high = 0.05;
    all.push_back(o);
  }
  for (const std::string& name : grpo_convention_names()) {
    GrpoOptions o = grpo_convention(name);
    if (o.kl_in == "loss" && o.tis_cap == 0) all.push_back(o);  // what the trainer runs
  }
  auto part = [](const auto& v, size_t a, size_t b) { return std::decay_t<decltype(v)>(v.begin() + a, v.begin() + b); };
  for (GrpoOptions o : all) {
    // The trainer fixes max_len (0: --max-new-tokens) so that every rank divides by the same one.
    if (o.max_len == 0) o.max_len = 12;
    SCOPED_TRACE(o.loss + " " + o.convention);
    GrpoLoss whole = grpo_loss(adv, lp, lp_old, lp_ref, o);
    double sum = 0;
    for (auto [a, b] : {std::pair<size_t, size_t>{0, split}, {split, 5}}) {
      int64_t t_local = 0;
      for (size_t i = a; i < b; i++) t_local += len[i];
      GrpoLoss mine = grpo_loss(part(adv, a, b), part(lp, a, b), part(lp_old, a, b), part(lp_ref, a, b), o);
      double share = rank_share(o, int64_t(b - a), t_local, 5, T);
      sum += share * mine.loss;
      // Double sums of a few dozen terms of size <= ~10: 1e-12 is far above their rounding and far
      // below the error of a wrong share (a factor 2/5, 3/5, 5/23, ... off).
      for (size_t i = a; i < b; i++)
        for (size_t t = 0; t < size_t(len[i]); t++)
          EXPECT_NEAR(share * mine.grad_lp[i - a][t], whole.grad_lp[i][t], 1e-12) << i << " " << t;
    }
    EXPECT_NEAR(sum, whole.loss, 1e-12);
  }
}

// The watchdog: a collective that waits longer than R1_DIST_TIMEOUT ends the process (status 3),
// naming it; the wait for rank 0's checkpoint writes has its own limit, R1_DIST_IO_TIMEOUT, so a
// checkpoint slower than R1_DIST_TIMEOUT does not end a healthy job. (In a child process: the
// watchdog _Exits.)
void hold_span(dist_detail::SpanLimit limit, const char* op, double seconds) {
  dist_detail::CollectiveSpan span(0, op, limit);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}
TEST(DistWatchdog, CheckpointWaitHasItsOwnLimit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("R1_DIST_TIMEOUT", "0.4", 1);
        setenv("R1_DIST_IO_TIMEOUT", "30", 1);
        dist_detail::start_watchdog();
        hold_span(dist_detail::kWaitForWriter, "MPI_Barrier (after a checkpoint)", 1.0);  // survives: 1 s < 30 s
        hold_span(dist_detail::kCollective, "MPI_Allreduce(float)", 20.0);                // ends after ~0.4 s
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(3),
      "error: rank 0: MPI_Allreduce\\(float\\) waited more than 0 s .*\\(R1_DIST_TIMEOUT\\)");
  EXPECT_EXIT(
      {
        setenv("R1_DIST_TIMEOUT", "30", 1);
        setenv("R1_DIST_IO_TIMEOUT", "0.4", 1);
        dist_detail::start_watchdog();
        hold_span(dist_detail::kWaitForWriter, "MPI_Barrier (after a checkpoint)", 20.0);
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(3),
      "MPI_Barrier \\(after a checkpoint\\) waited more than 0 s .*\\(R1_DIST_IO_TIMEOUT\\)");
}

// --- the CLI under mpirun -----------------------------------------------------------------------

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string read_file_or_empty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Two files byte for byte (as a predicate: gtest would print both files on a mismatch).
bool same_bytes(const std::string& a, const std::string& b) { return read_file(a) == read_file(b); }

std::string testing_root() {
  const char* r = std::getenv("R1_ROOT");
  return r && *r ? r : ".";
}

// Why the mpirun tests cannot run here, or "".
std::string mpi_skip_reason() {
  if (!built_with_mpi()) return "r1 was built without MPI (MPI=0 or no mpicxx): data-parallel runs need it";
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) return "mpirun is not on the PATH";
  if (r1_bin().empty()) return "no r1 binary beside the tests (run them through make test)";
  // The launcher itself must work here (a container may lack what it needs): once per process.
  static const int launch = std::system(
      "OMPI_MCA_btl_vader_single_copy_mechanism=none mpirun --allow-run-as-root --oversubscribe -np 2 true "
      ">/dev/null 2>&1");
  if (launch != 0) return "`mpirun -np 2 true` fails on this machine: MPI cannot launch a job here";
  return "";
}

const char* kMpirun = "mpirun --allow-run-as-root --oversubscribe";

// `command` (a launcher and its programs), 1 thread per rank, stderr kept in d/stderr_<tag>.txt.
// vader's single-copy mechanism is off: it needs ptrace rights that containers often lack.
CliRun run_command(const std::string& command, const TempDir& d, const std::string& env, const std::string& tag) {
  std::string err = d.file("stderr_" + tag + ".txt");
  return testing::run_shell("OMP_NUM_THREADS=1 OMPI_MCA_btl_vader_single_copy_mechanism=none " + env + " " + command + " 2>" + err,
                   err);
}

// `r1 args` on np ranks under mpirun (np = 0: a plain r1, one process).
CliRun run_np(int np, const std::string& args, const TempDir& d, const std::string& env = "") {
  std::string launcher = np == 0 ? "" : cat(kMpirun, " -np ", np, " ");
  return run_command(launcher + r1_bin() + " " + args, d, env, cat(np));
}

// A 2-layer MoE (4 experts, top-2, balance loss and router-bias updates): 4 steps of 4
// micro-batches of 2 x 32 tokens, a held-out loss every 2 steps over 3 batches (split over ranks),
// checkpoints every 2 steps.
const char* kPreset = R"({
  "model": {"model_type": "deepseek_v3", "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "num_key_value_heads": 1, "intermediate_size": 64, "max_position_embeddings": 512,
            "moe_intermediate_size": 16, "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2,
            "first_k_dense_replace": 1, "aux_loss_alpha": 0.001, "bias_update_speed": 0.01},
  "tokenizer": {"vocab_size": 300, "train_docs": 200},
  "corpus": {"n_docs": 300, "seed": 1},
  "heldout_docs": 40,
  "init_seed": 0,
  "train": {"steps": 4, "batch_size": 2, "seq_len": 32, "grad_accum": 4, "lr": 0.003, "min_lr": 0.0003,
            "warmup_steps": 1, "eval_every": 2, "eval_batches": 3, "checkpoint_every": 2, "keep_last": 2, "seed": 0}
})";

// Per-step metrics that must agree between 1 and N ranks (timings excluded).
void expect_same_metrics(const std::string& a, const std::string& b, const std::vector<std::string>& keys,
                         size_t want_lines) {
  std::vector<Json> ma = metrics_lines(a), mb = metrics_lines(b);
  ASSERT_EQ(ma.size(), want_lines) << a;
  ASSERT_EQ(mb.size(), want_lines) << b;
  for (size_t i = 0; i < ma.size(); i++) {
    for (const std::string& k : keys) {
      ASSERT_EQ(ma[i].contains(k), mb[i].contains(k)) << k << " at line " << i + 1;
      if (ma[i].contains(k)) {
        EXPECT_EQ(ma[i].at(k).dump(), mb[i].at(k).dump()) << k << " at line " << i + 1;
      }
    }
  }
}

struct PretrainRuns {
  TempDir dir;
  std::string preset, one;  // the 1-rank run
  CliRun r;
};

// The 1-rank pretraining run, shared by the tests (its model is the SFT and GRPO start).
const PretrainRuns& one_rank_pretrain() {
  static PretrainRuns p;
  if (p.one.empty()) {
    p.preset = p.dir.file("preset.json");
    std::ofstream(p.preset) << kPreset;
    p.one = p.dir.file("one");
    p.r = run_np(0, "pretrain --config " + p.preset + " --out " + p.one + " --threads 1", p.dir);
  }
  return p;
}

TEST(DistCli, PretrainTwoRanksGiveTheBitsOfOne) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  const PretrainRuns& p = one_rank_pretrain();
  ASSERT_EQ(p.r.code, 0) << p.r.err;
  TempDir d;
  std::string two = d.file("two");
  CliRun r = run_np(2, "pretrain --config " + p.preset + " --out " + two + " --threads 1", d);
  ASSERT_EQ(r.code, 0) << r.err;
  // Weights (router biases included) and AdamW state: byte for byte.
  EXPECT_TRUE(same_bytes(p.one + "/model/model.safetensors", two + "/model/model.safetensors"));
  for (const char* f :
       {"/checkpoints/step_00000004/optimizer.safetensors", "/checkpoints/step_00000002/model.safetensors"})
    EXPECT_TRUE(same_bytes(p.one + f, two + f)) << f;
  expect_same_metrics(p.one + "/metrics.jsonl", two + "/metrics.jsonl",
                      {"step", "loss", "aux_loss", "lr", "grad_norm", "router_max_over_mean_load", "heldout_loss"}, 4);
  EXPECT_TRUE(metrics_lines(two + "/metrics.jsonl")[0].contains("time_comm_s"));
  EXPECT_NE(r.err.find("pretrain 1/4"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pretrain 1/4"), r.err.rfind("pretrain 1/4")) << "only rank 0 draws the progress bar\n" << r.err;

  // Stop after 2 steps on 2 ranks, resume on 1 rank: the same bits again (the data order and the
  // reduction order do not depend on the rank count).
  std::string mixed = d.file("mixed");
  r = run_np(2, "pretrain --config " + p.preset + " --out " + mixed + " --threads 1 --stop-after 2", d);
  ASSERT_EQ(r.code, 0) << r.err;
  r = run_np(0, "pretrain --config " + p.preset + " --out " + mixed + " --threads 1 --resume", d);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(same_bytes(p.one + "/model/model.safetensors", mixed + "/model/model.safetensors"));

  // A global batch that does not split: a clear error before anything is trained, exit status 2.
  std::string odd = d.file("odd.json");
  std::string text = kPreset;
  text.replace(text.find("\"grad_accum\": 4"), 15, "\"grad_accum\": 3");
  std::ofstream(odd) << text;
  r = run_np(2, "pretrain --config " + odd + " --out " + d.file("odd") + " --threads 1", d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("grad_accum (micro-batches per step) (3) must be a multiple of the number of ranks (2)"),
            std::string::npos)
      << r.err;
  // Commands that are not data parallel refuse to run N times.
  r = run_np(2, "eval --model " + p.one + "/model --data x.jsonl", d);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("r1 eval does not run data parallel"), std::string::npos) << r.err;
}

// SFT rows: "Compute: a+b" -> "<answer> a+b </answer>".
std::string sft_rows(int n) {
  std::string rows;
  for (int i = 0; i < n; i++)
    rows += cat(R"({"messages": [{"role": "user", "content": "Compute: )", i % 10, "+", (i * 7) % 10,
                R"("}, {"role": "assistant", "content": "<answer> )", i % 10 + (i * 7) % 10, R"( </answer>"}]})", "\n");
  return rows;
}

TEST(DistCli, SftTwoRanksGiveTheBitsOfOne) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  const PretrainRuns& p = one_rank_pretrain();
  ASSERT_EQ(p.r.code, 0) << p.r.err;
  TempDir d;
  std::ofstream(d.file("rows.jsonl")) << sft_rows(40);
  std::ofstream(d.file("train.json")) << R"({"grad_accum": 2, "eval_every": 1, "eval_batches": 2})";
  std::string args = "sft --model " + p.one + "/model --data " + d.file("rows.jsonl") + " --config " +
                     d.file("train.json") +
                     " --steps 3 --batch-size 2 --seq-len 32 --heldout-frac 0.25 --threads 1 --out ";
  CliRun a = run_np(0, args + d.file("one"), d);
  ASSERT_EQ(a.code, 0) << a.err;
  CliRun b = run_np(2, args + d.file("two"), d);
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(same_bytes(d.file("one/model/model.safetensors"), d.file("two/model/model.safetensors")));
  expect_same_metrics(d.file("one/metrics.jsonl"), d.file("two/metrics.jsonl"),
                      {"step", "loss", "lr", "grad_norm", "heldout_loss"}, 3);
}

// On the GPU: NCCL when every rank has its own GPU (and r1 was built with NCCL), else MPI over
// host copies (ranks sharing one GPU). The same fixed order: the bits of the 1-rank GPU run.
TEST(DistCli, PretrainOnGpuGivesTheBitsOfOne) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
#ifdef R1_CUDA
  if (!cuda::available()) GTEST_SKIP() << "no usable GPU: " << cuda::unavailable_reason();
#else
  GTEST_SKIP() << "built without CUDA (CUDA=0)";
#endif
  const PretrainRuns& p = one_rank_pretrain();
  TempDir d;
  CliRun a = run_np(0, "pretrain --config " + p.preset + " --out " + d.file("one") + " --threads 1 --device cuda", d);
  ASSERT_EQ(a.code, 0) << a.err;
  CliRun b = run_np(2, "pretrain --config " + p.preset + " --out " + d.file("two") + " --threads 1 --device cuda", d);
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.err.find("data parallel over 2 ranks"), std::string::npos) << b.err;  // names mpi or nccl
  EXPECT_TRUE(same_bytes(d.file("one/model/model.safetensors"), d.file("two/model/model.safetensors")));
  expect_same_metrics(d.file("one/metrics.jsonl"), d.file("two/metrics.jsonl"), {"step", "loss", "grad_norm"}, 4);
}

// GRPO splits the prompts, and with them the rows of each minibatch's forward: its weight
// gradients are then sums over other row groupings inside the GEMMs (float reassociation,
// ~1e-7 relative), not the same bits. So: the first step's rollouts (same weights, per-row
// seeds) must agree exactly, the losses and gradient norms to float rounding, and the weights
// within what AdamW can turn a rounding difference into.
// Completions of up to 96 tokens from the barely trained model: some end early, so the ranks hold
// different token counts and a token share and a completion share differ.
struct GrpoPair {
  std::vector<Json> one, two;  // the metrics lines with a loss (the training steps)
};
GrpoPair grpo_one_and_two_ranks(const TempDir& d, const std::string& flags) {
  const PretrainRuns& p = one_rank_pretrain();
  EXPECT_EQ(p.r.code, 0) << p.r.err;
  std::string args = "grpo --model " + p.one + "/model --config " + d.file("grpo.json") +
                     " --prompts-per-step 4 --group-size 3 --max-new-tokens 96 --threads 1 " + flags + " --out ";
  GrpoPair g;
  for (int np : {0, 2}) {
    std::string out = d.file(cat("np", np));
    CliRun r = run_np(np, args + out, d);
    EXPECT_EQ(r.code, 0) << r.err;
    for (const Json& j : metrics_lines(out + "/metrics.jsonl"))
      if (j.contains("loss")) (np == 0 ? g.one : g.two).push_back(j);
  }
  return g;
}

// The first step's loss and gradient norm (and the rollouts behind them) agree.
void expect_same_first_step(const GrpoPair& g) {
  ASSERT_FALSE(g.one.empty());
  ASSERT_EQ(g.one.size(), g.two.size());
  const Json &a = g.one[0], &b = g.two[0];
  ASSERT_GT(a.at("reward_std").as_number(), 0) << "the test needs non-zero advantages";
  ASSERT_LT(a.at("truncation_rate").as_number(), 1) << "the test needs completions of uneven lengths";
  for (const char* k : {"reward_mean", "reward_std", "language_consistency", "tokens_total", "response_length",
                        "truncation_rate", "completions_trained"})
    EXPECT_EQ(a.at(k).dump(), b.at(k).dump()) << k;
  for (size_t s = 0; s < g.one.size(); s++) {
    // Each rank's part of the loss is a float (rounding 6e-8 relative) of about the loss's size or
    // less, and the parts' terms are per-token values of size <= ~1 (the token-sum losses add up
    // to ~5): 1e-6 absolute plus 1e-6 relative covers their rounding; a wrong share is off by
    // tens of percent.
    const double loss = g.one[s].at("loss").as_number();
    EXPECT_NEAR(loss, g.two[s].at("loss").as_number(), 1e-6 + 1e-6 * std::fabs(loss)) << s;
    EXPECT_NEAR(g.one[s].at("kl").as_number(), g.two[s].at("kl").as_number(), 1e-6) << s;
    EXPECT_NEAR(g.one[s].at("grad_norm").as_number(), g.two[s].at("grad_norm").as_number(),
                1e-4 * g.one[s].at("grad_norm").as_number())
        << s;
  }
}

TEST(DistCli, GrpoTwoRanksMatchOneRank) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  const PretrainRuns& p = one_rank_pretrain();
  ASSERT_EQ(p.r.code, 0) << p.r.err;
  TempDir d;
  const double lr = 5e-5;
  std::ofstream(d.file("grpo.json")) << cat(R"({"eval_dir": ")", testing_root(), R"(/data/eval", "eval_rows": 2,)",
                                            R"( "eval_every": 0, "w_language": 1.0, "beta": 0.04, "minibatches": 2,)",
                                            R"( "mu": 2, "lr": )", lr, "}");
  GrpoPair g = grpo_one_and_two_ranks(d, "--steps 3");
  ASSERT_EQ(g.one.size(), 3u);
  expect_same_first_step(g);
  // AdamW moves each weight by at most ~lr per update whatever its gradient, so a gradient
  // element at rounding level can move a weight by up to 2 lr per update in the other direction:
  // over 3 steps x 2 passes x 2 minibatches = 12 updates, |diff| <= 24 lr. Most weights differ far
  // less: the mean difference stays under 1% of the mean update.
  std::vector<StTensor> wa = load_safetensors(d.file("np0/model/model.safetensors")).tensors;
  std::vector<StTensor> wb = load_safetensors(d.file("np2/model/model.safetensors")).tensors;
  std::vector<StTensor> w0 = load_safetensors(p.one + "/model/model.safetensors").tensors;
  ASSERT_EQ(wa.size(), wb.size());
  double max_diff = 0, sum_diff = 0, sum_update = 0;
  for (size_t t = 0; t < wa.size(); t++) {
    const std::vector<float>&x = wa[t].data, &y = wb[t].data, &z = w0[t].data;
    for (size_t i = 0; i < x.size(); i++) {
      max_diff = std::max(max_diff, double(std::fabs(x[i] - y[i])));
      sum_diff += std::fabs(x[i] - y[i]);
      sum_update += std::fabs(x[i] - z[i]);
    }
  }
  EXPECT_LE(max_diff, 24 * lr);
  EXPECT_LT(sum_diff, 0.01 * sum_update) << "mean |1 rank - 2 ranks| vs mean |update|";
  EXPECT_GT(sum_update, 0);
}

// Every aggregation of the per-token losses: one step, one update per minibatch. A rank's share of
// the global loss differs between them (rl/grpo.h rank_share()): tokens for token-mean, 1 for
// seq-mean-token-sum-norm, completions for the others.
TEST(DistCli, GrpoEveryLossMatchesOneRank) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  for (const char* loss : {"token-mean", "dr_grpo", "seq-mean-token-sum", "seq-mean-token-sum-norm"}) {
    SCOPED_TRACE(loss);
    TempDir d;
    std::ofstream(d.file("grpo.json")) << cat(R"({"eval_dir": ")", testing_root(), R"(/data/eval", "eval_rows": 1,)",
                                              R"( "eval_every": 0, "w_language": 1.0, "beta": 0.04, "minibatches": 2,)",
                                              R"( "mu": 1, "lr": 5e-5})");
    expect_same_first_step(grpo_one_and_two_ranks(d, std::string("--steps 1 --loss ") + loss));
  }
}

// srun without a PMI that MPI speaks: every task is its own size-1 MPI job. r1 compares MPI's size
// with the one the launcher announced and stops before writing anything, instead of N copies
// training the whole batch into one folder.
TEST(DistCli, LauncherWithoutPmiIsAnError) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  const PretrainRuns& p = one_rank_pretrain();
  TempDir d;
  CliRun r = run_np(0, "pretrain --config " + p.preset + " --out " + d.file("run") + " --threads 1", d,
                    "SLURM_PROCID=1 SLURM_STEP_ID=0 SLURM_STEP_NUM_TASKS=2 SLURM_NTASKS=4");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("error: the launcher announced 2 ranks (SLURM_STEP_NUM_TASKS) but MPI sees 1"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--mpi=pmix"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(d.file("run"))) << "nothing is written";
  // A step of one task (SLURM_STEP_NUM_TASKS=1, in an allocation of 4) is a plain single-process run.
  r = run_np(0, "pretrain --config " + p.preset + " --out " + d.file("one") + " --threads 1 --stop-after 1", d,
             "SLURM_PROCID=0 SLURM_STEP_ID=0 SLURM_STEP_NUM_TASKS=1 SLURM_NTASKS=4");
  EXPECT_EQ(r.code, 0) << r.err;
}

// --- faults ----------------------------------------------------------------------------------------

// The pid of the r1 process of `rank` whose command line mentions `marker`, or -1.
pid_t find_rank(const std::string& marker, int rank) {
  DIR* proc = opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(proc)) {
    pid_t pid = pid_t(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::string dir = cat("/proc/", pid, "/");
    std::string cmdline = read_file_or_empty(dir + "cmdline"), env = read_file_or_empty(dir + "environ");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(" pretrain ") == std::string::npos || cmdline.find(marker) == std::string::npos) continue;
    if (cmdline.rfind("mpirun", 0) == 0) continue;
    if (env.find(cat(std::string(1, '\0'), "OMPI_COMM_WORLD_RANK=", rank, std::string(1, '\0'))) != std::string::npos)
      found = pid;
  }
  closedir(proc);
  return found;
}

// Starts a long 2-rank run, waits for its first checkpoint, does `hurt` to rank 1, and returns the
// run's result and how long the job took to end after that.
struct Fault {
  CliRun r;
  double seconds_to_end = 0;
  std::string run;
};
// True once the run folder holds a finished checkpoint. Any step will do: checkpoints come every
// 2 steps and only the last 2 are kept, so at ~50 steps/s a given one lives for ~80 ms.
bool has_checkpoint(const std::string& run) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(run + "/checkpoints", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("step_", 0) == 0 && name.find(".tmp") == std::string::npos &&
        exists(it->path().string() + "/trainer_state.json"))
      return true;
  }
  return false;
}

Fault hurt_rank1(const TempDir& d, int sig, const std::string& env) {
  std::string preset = d.file("long.json");
  std::string text = kPreset;
  text.replace(text.find("\"steps\": 4"), 10, "\"steps\": 1000000");
  std::ofstream(preset) << text;
  Fault f;
  f.run = d.file(sig == SIGKILL ? "killed" : "stopped");
  CliRun r;
  // `timeout` bounds the job if rank 1 is never found (the run itself would go on for hours).
  std::thread job([&] {
    r = run_command(cat("timeout 120 ", kMpirun, " -np 2 ", r1_bin(), " pretrain --config ", preset, " --out ", f.run,
                        " --threads 1"),
                    d, env, "2");
  });
  auto t0 = std::chrono::steady_clock::now();
  pid_t victim = -1;
  // Waits (at most 60 s) for a checkpoint, then for rank 1.
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    if (has_checkpoint(f.run) && (victim = find_rank(f.run, 1)) > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto t1 = std::chrono::steady_clock::now();
  if (victim > 0) kill(victim, sig);
  job.join();
  if (victim > 0 && sig == SIGSTOP) kill(victim, SIGKILL);  // if the launcher left it stopped
  f.seconds_to_end = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  f.r = r;
  EXPECT_GT(victim, 0) << "rank 1 was not found running\n" << r.err;
  return f;
}

// The last checkpoint of a run that was cut off still loads whole.
void expect_checkpoint_intact(const std::string& run) {
  RunDir rd(run, Json::parse_file(run + "/run_config.json"), /*resume=*/true);
  std::string ckpt = rd.latest_checkpoint();
  ASSERT_FALSE(ckpt.empty());
  EXPECT_NO_THROW(load_safetensors(ckpt + "/model.safetensors"));
  EXPECT_NO_THROW(load_safetensors(ckpt + "/optimizer.safetensors"));
  EXPECT_GE(Json::parse_file(ckpt + "/trainer_state.json").at("step").as_int(), 2);
}

// An error on one rank only (MPMD: rank 1 is given a missing file): it names the rank, and the job
// ends at once with the error's status instead of rank 0 waiting for rank 1 in a collective.
TEST(DistCli, ErrorOnOneRankEndsTheJob) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  const PretrainRuns& p = one_rank_pretrain();
  ASSERT_EQ(p.r.code, 0) << p.r.err;
  TempDir d;
  std::ofstream(d.file("rows.jsonl")) << sft_rows(40);
  std::ofstream(d.file("train.json")) << R"({"grad_accum": 2})";
  auto sft = [&](const std::string& data) {
    return r1_bin() + " sft --model " + p.one + "/model --config " + d.file("train.json") +
           " --steps 2 --batch-size 2 --seq-len 32 --threads 1 --data " + data + " --out " + d.file("run");
  };
  auto t0 = std::chrono::steady_clock::now();
  CliRun r = run_command(cat(kMpirun, " -np 1 ", sft(d.file("rows.jsonl")), " : -np 1 ", sft(d.file("missing.jsonl"))),
                         d, "", "mpmd");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("error: rank 1 of 2: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("rank 0 of 2"), std::string::npos) << "rank 0 had nothing wrong\n" << r.err;
  EXPECT_LT(seconds, 30.0) << "bound: far below the watchdog's 600 s; 30 s covers a loaded machine";
}

// A rank killed mid-run: the launcher ends the job within seconds, naming the rank.
TEST(DistCli, DeadRankEndsTheJob) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  TempDir d;
  Fault f = hurt_rank1(d, SIGKILL, "");
  EXPECT_NE(f.r.code, 0);
  // Bound: the job ends well before the watchdog (600 s by default) would: 30 s covers a loaded machine.
  EXPECT_LT(f.seconds_to_end, 30.0);
  EXPECT_NE(f.r.err.find("rank 1"), std::string::npos) << f.r.err;
  expect_checkpoint_intact(f.run);
}

// A rank that hangs (stopped): the other's watchdog ends it after R1_DIST_TIMEOUT seconds with an
// error naming the collective it waited in.
TEST(DistCli, HungRankTripsTheWatchdog) {
  std::string skip = mpi_skip_reason();
  if (!skip.empty()) GTEST_SKIP() << skip;
  TempDir d;
  Fault f = hurt_rank1(d, SIGSTOP, "R1_DIST_TIMEOUT=2");
  EXPECT_NE(f.r.code, 0);
  EXPECT_LT(f.seconds_to_end, 30.0);  // 2 s of timeout plus the launcher's clean-up
  EXPECT_NE(f.r.err.find("error: rank 0: "), std::string::npos) << f.r.err;
  EXPECT_NE(f.r.err.find("waited more than 2 s for the other ranks"), std::string::npos) << f.r.err;
  expect_checkpoint_intact(f.run);
}

}  // namespace
}  // namespace r1
