// The MPI communicator (host buffers), built when R1_MPI is set (the Makefile finds mpicxx).
// Every call runs under MPI_ERRORS_RETURN: a failed collective (a peer's connection lost) prints
// the call, this rank and MPI's reason, then aborts the job, instead of MPI's default of
// aborting without a word. Each blocking collective is a watchdog span (backends.h).
// Counts: MPI takes int counts, so long reductions go in chunks of 2^30 elements and the
// row-wise collectives use one contiguous datatype per row.
#if R1_MPI
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "dist/backends.h"
#include "util/error.h"

namespace r1 {
namespace dist_detail {
namespace {

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }

  void allreduce_sum(float* data, int64_t n) override { reduce(data, n, MPI_FLOAT, "MPI_Allreduce(float)"); }
  void allreduce_sum(double* data, int64_t n) override { reduce(data, n, MPI_DOUBLE, "MPI_Allreduce(double)"); }

  void alltoall(const float* send, float* recv, int64_t n) override {
    CollectiveSpan span(rank_, "MPI_Alltoall");
    MPI_Datatype row = row_type(n);
    ok(MPI_Alltoall(send, 1, row, recv, 1, row, MPI_COMM_WORLD), "MPI_Alltoall");
    MPI_Type_free(&row);
  }
  void allgather(const float* send, float* recv, int64_t n) override {
    CollectiveSpan span(rank_, "MPI_Allgather");
    MPI_Datatype row = row_type(n);
    ok(MPI_Allgather(send, 1, row, recv, 1, row, MPI_COMM_WORLD), "MPI_Allgather");
    MPI_Type_free(&row);
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    CollectiveSpan span(rank_, "MPI_Bcast");
    for (int64_t off = 0; off < bytes; off += kChunk)
      ok(MPI_Bcast(static_cast<char*>(data) + off, int(std::min(kChunk, bytes - off)), MPI_BYTE, root, MPI_COMM_WORLD),
         "MPI_Bcast");
  }
  void barrier() override {
    CollectiveSpan span(rank_, "MPI_Barrier");
    ok(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }
  void wait_for_writer() override {
    CollectiveSpan span(rank_, "MPI_Barrier (after a checkpoint)", kWaitForWriter);
    ok(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }
  [[noreturn]] void abort(int code) override {
    std::fflush(nullptr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; if it did, still end this rank
  }

 private:
  static constexpr int64_t kChunk = int64_t(1) << 30;

  void reduce(void* data, int64_t n, MPI_Datatype type, const char* what) {
    CollectiveSpan span(rank_, what);
    int bytes = type == MPI_FLOAT ? 4 : 8;
    for (int64_t off = 0; off < n; off += kChunk)
      ok(MPI_Allreduce(MPI_IN_PLACE, static_cast<char*>(data) + off * bytes, int(std::min(kChunk, n - off)), type,
                       MPI_SUM, MPI_COMM_WORLD),
         what);
  }

  MPI_Datatype row_type(int64_t n) {
    if (n > INT_MAX) throw Error(cat("MPI: a row of ", n, " floats is more than one MPI call takes (", INT_MAX, ")"));
    MPI_Datatype t;
    ok(MPI_Type_contiguous(int(n), MPI_FLOAT, &t), "MPI_Type_contiguous");
    ok(MPI_Type_commit(&t), "MPI_Type_commit");
    return t;
  }

  void ok(int rc, const char* what) {
    if (rc == MPI_SUCCESS) return;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    std::fprintf(stderr, "error: rank %d of %d: %s failed: %.*s (another rank died or the network failed)\n", rank_,
                 size_, what, len, msg);
    abort(3);
  }

  int rank_ = 0, size_ = 1;
};

}  // namespace

std::unique_ptr<Communicator> start_mpi(int* argc, char*** argv) {
  int provided = 0;
  // FUNNELED: only the main thread calls MPI (OpenMP workers and the watchdog never do).
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw Error("MPI_Init_thread failed");
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  return std::make_unique<MpiCommunicator>();
}

void stop_mpi() { MPI_Finalize(); }

}  // namespace dist_detail
}  // namespace r1
#endif  // R1_MPI
