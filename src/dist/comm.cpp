// The single-process communicator, the choice of the world communicator, the watchdog and the
// exact scalar collectives. See comm.h.
#include "dist/comm.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "dist/backends.h"
#include "util/error.h"

#if R1_CUDA
#include <cuda_runtime.h>
#endif

namespace r1 {

// --- single process ------------------------------------------------------------------------

void SingleCommunicator::alltoall(const float* send, float* recv, int64_t n) {
  if (send != recv) std::memmove(recv, send, size_t(n) * sizeof(float));
}

void SingleCommunicator::allgather(const float* send, float* recv, int64_t n) {
  if (send != recv) std::memmove(recv, send, size_t(n) * sizeof(float));
}

void SingleCommunicator::abort(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

// --- watchdog --------------------------------------------------------------------------------

namespace dist_detail {
namespace {
// The open span (start 0: none), read by the watchdog thread under the mutex.
struct Span {
  int64_t start_ms = 0;
  double limit_s = 0;
  const char* limit_var = "";  // the variable that sets limit_s
  const char* op = "";
  int rank = 0;
};
std::mutex span_mu;
Span span;
std::atomic<bool> watchdog_stop{false};
std::thread watchdog;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double env_seconds(const char* name, double fallback) {
  const char* v = std::getenv(name);
  double t = v ? std::atof(v) : 0.0;
  return t > 0 ? t : fallback;
}
double collective_limit_s() { return env_seconds("R1_DIST_TIMEOUT", 600.0); }
double writer_limit_s() { return env_seconds("R1_DIST_IO_TIMEOUT", std::max(3600.0, collective_limit_s())); }
}  // namespace

CollectiveSpan::CollectiveSpan(int rank, const char* op, SpanLimit limit) {
  const bool writer = limit == kWaitForWriter;
  const double limit_s = writer ? writer_limit_s() : collective_limit_s();
  std::lock_guard<std::mutex> lk(span_mu);
  span = {now_ms(), limit_s, writer ? "R1_DIST_IO_TIMEOUT" : "R1_DIST_TIMEOUT", op, rank};
}

CollectiveSpan::~CollectiveSpan() {
  std::lock_guard<std::mutex> lk(span_mu);
  span.start_ms = 0;
}

void start_watchdog() {
  watchdog = std::thread([] {
    while (!watchdog_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      Span s;
      {
        std::lock_guard<std::mutex> lk(span_mu);
        s = span;
      }
      if (s.start_ms != 0 && double(now_ms() - s.start_ms) > s.limit_s * 1e3) {
        // The main thread is blocked inside the library: report and end this process without
        // touching MPI from this thread. The launcher then ends the other ranks.
        std::fprintf(stderr,
                     "error: rank %d: %s waited more than %.0f s for the other ranks (%s): "
                     "a rank died or hangs; exiting\n",
                     s.rank, s.op, s.limit_s, s.limit_var);
        std::fflush(nullptr);
        std::_Exit(3);
      }
    }
  });
}

void stop_watchdog() {
  if (!watchdog.joinable()) return;
  watchdog_stop = true;
  watchdog.join();
}

}  // namespace dist_detail

// --- the process's communicators --------------------------------------------------------------

namespace {
std::unique_ptr<Communicator>& world_ptr() {
  static std::unique_ptr<Communicator> w = std::make_unique<SingleCommunicator>();
  return w;
}
#if R1_NCCL
std::unique_ptr<Communicator> nccl_comm;
#endif
bool mpi_started = false;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The job size a launcher announced and the variable that said so: OpenMPI's mpirun, MPICH/Intel's
// hydra (PMI), PMIx (srun --mpi=pmix) and Slurm's srun (the step's task count: SLURM_NTASKS is
// the allocation's, which a step inside salloc may not use whole). size 0: no launcher; -1: a
// PMIx launcher, which does not export the size.
struct Announced {
  int size = 0;
  const char* by = "";
};
Announced launcher_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"})
    if (int n = env_int(v, 0)) return {n, v};
  if (std::getenv("PMIX_RANK")) return {-1, "PMIX_RANK"};
  if (std::getenv("SLURM_PROCID") && std::getenv("SLURM_STEP_ID"))
    return {env_int("SLURM_STEP_NUM_TASKS", 1), "SLURM_STEP_NUM_TASKS"};
  return {};
}

#if R1_CUDA
int first_env_int(std::initializer_list<const char*> names, int fallback) {
  for (const char* v : names)
    if (int n = env_int(v, -1); n >= 0) return n;
  return fallback;
}

// This rank's index among the ranks of its node.
[[maybe_unused]] int local_rank() {
  return first_env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "PMIX_LOCAL_RANK"}, -1);
}

[[maybe_unused]] int gpu_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}
#endif

#if R1_NCCL
// True on every rank when every rank of the job drives a different GPU, false on every rank
// otherwise (a job-wide agreement: a collective, so every rank calls it at the same point).
// A GPU is named by its host and PCI bus id (not its CUDA index, which per-task
// CUDA_VISIBLE_DEVICES renumbers), hashed to 52 bits so the ids travel exactly in doubles.
bool every_rank_has_its_own_gpu(Communicator& w) {
  int dev = -1;
  char bus[64] = {0}, host[256] = {0};
  const bool known = cudaGetDevice(&dev) == cudaSuccess &&
                     cudaDeviceGetPCIBusId(bus, sizeof bus - 1, dev) == cudaSuccess &&
                     gethostname(host, sizeof host - 1) == 0;
  uint64_t h = 1469598103934665603ull;  // FNV-1a of "host/bus"
  for (const char* p : {static_cast<const char*>(host), "/", static_cast<const char*>(bus)})
    for (; *p; p++) h = (h ^ uint8_t(*p)) * 1099511628211ull;
  const double id = known ? double(h & ((uint64_t(1) << 52) - 1)) : -1.0;
  std::vector<double> ids = gather_slots(w, {id}, w.rank(), w.size());
  std::sort(ids.begin(), ids.end());
  return ids.front() >= 0 && std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}
#endif

#if R1_MPI
// Several ranks on one node each take their own GPU: local rank modulo the visible devices.
void pick_local_gpu() {
#if R1_CUDA
  int local = local_rank(), count = gpu_count();
  if (local >= 0 && count > 0) cudaSetDevice(local % count);
#endif
}
#endif
}  // namespace

void init_world(int* argc, char*** argv) {
  const Announced a = launcher_size();
  if (a.size == 0 || a.size == 1) return;
#if R1_MPI
  pick_local_gpu();
  world_ptr() = dist_detail::start_mpi(argc, argv);
  mpi_started = true;
  // A launcher whose ranks MPI did not join (srun without a PMI that this MPI speaks) starts N
  // independent size-1 "jobs": each would train the whole batch into the same folder.
  if (const int m = world().size(); a.size > 1 && m != a.size) {
    finalize_world();
    throw Error(cat("the launcher announced ", a.size, " ranks (", a.by, ") but MPI sees ", m,
                    ": MPI did not join the launcher's processes into one job (srun needs --mpi=pmix, or the PMI"
                    " this MPI was built for; mpirun must be the one of the MPI r1 was built with)"));
  }
  dist_detail::start_watchdog();
#else
  (void)argc;
  (void)argv;
  throw Error(cat("this process was started by an MPI launcher (", a.by,
                  ") but r1 was built without MPI: install an MPI (mpicxx) and rebuild, or run one r1"));
#endif
}

void finalize_world() {
  if (!mpi_started) return;
#if R1_NCCL
  nccl_comm.reset();
#endif
  dist_detail::stop_watchdog();
#if R1_MPI
  world_ptr() = std::make_unique<SingleCommunicator>();  // (the MPI communicator is gone before MPI)
  dist_detail::stop_mpi();
#endif
  mpi_started = false;
}

Communicator& world() { return *world_ptr(); }

Communicator& data_comm(Device device) {
#if R1_NCCL
  // NCCL needs a GPU per rank; ranks sharing a GPU (a test on a 1-GPU machine) use MPI on host
  // copies. Decided once, by all ranks together, at the first call for CUDA.
  static int use_nccl = -1;
  if (device == Device::CUDA && world().size() > 1) {
    if (use_nccl < 0) use_nccl = every_rank_has_its_own_gpu(world());
    if (use_nccl) {
      if (!nccl_comm) nccl_comm = dist_detail::start_nccl(world());
      return *nccl_comm;
    }
  }
#endif
  (void)device;
  return world();
}

bool built_with_mpi() {
#if R1_MPI
  return true;
#else
  return false;
#endif
}

bool built_with_nccl() {
#if R1_NCCL
  return true;
#else
  return false;
#endif
}

// --- exact scalar collectives -----------------------------------------------------------------

std::vector<double> gather_slots(Communicator& comm, const std::vector<double>& local, int64_t first, int64_t total) {
  check(first >= 0 && first + int64_t(local.size()) <= total, "gather_slots: slots [", first, ", ",
        first + int64_t(local.size()), ") outside 0..", total);
  std::vector<double> all(size_t(total), 0.0);
  std::copy(local.begin(), local.end(), all.begin() + first);
  comm.allreduce_sum(all.data(), total);
  return all;
}

void sum_over_ranks(Communicator& comm, std::vector<double>& values) {
  comm.allreduce_sum(values.data(), int64_t(values.size()));
}

Share share_of(int64_t total, int rank, int size, const std::string& what) {
  if (total % size != 0)
    throw Error(cat(what, " (", total, ") must be a multiple of the number of ranks (", size,
                    "): every rank takes an equal share of each step"));
  Share s;
  s.count = total / size;
  s.first = s.count * rank;
  return s;
}

}  // namespace r1
