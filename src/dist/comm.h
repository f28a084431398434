// The communicator: what data-parallel training needs from a collective library, behind one
// small interface with three implementations:
//   single  one process (size 1): every collective is a copy. Always available; the unit tests
//           drive the gradient and scalar reductions through it.
//   mpi     MPI (OpenMPI, MPICH) when built with R1_MPI (the Makefile finds mpicxx). Host buffers.
//   nccl    NCCL for the float buffers of a model on the GPU when built with R1_NCCL (nccl.h in
//           the CUDA toolkit); it is bootstrapped and does its host collectives over MPI.
// The process-wide world() is MPI when r1 was started by a launcher (mpirun, srun: the
// launcher's environment says so) and single otherwise, so a plain `r1 ...` never touches MPI.
//
// Buffers: the float collectives (allreduce_sum, alltoall, allgather) take pointers in
// buffer_device() memory (host for single/mpi, the GPU for nccl); the double and byte ones
// are always host memory (scalars, counters, small control data).
// Faults: every MPI call returns its error instead of aborting inside the library, and a
// watchdog ends a rank that has waited more than R1_DIST_TIMEOUT seconds (default 600) in one
// collective (R1_DIST_IO_TIMEOUT in wait_for_writer()), naming the collective: a peer that died
// or hangs never leaves the others waiting forever. Under mpirun, a rank that dies also makes the
// launcher end the others and name it.
// Does not do: point-to-point messages, sub-communicators, overlapping communication with
// compute (every collective is blocking).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace r1 {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;            // "single" | "mpi" | "nccl"
  virtual Device buffer_device() const { return Device::CPU; }

  // --- float buffers in buffer_device() memory ---
  // data: (n), summed over ranks in place (the order of the sum is the library's).
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  // send: (size, n) rows, row q goes to rank q; recv: (size, n), row q came from rank q.
  virtual void alltoall(const float* send, float* recv, int64_t n) = 0;
  // send: (n); recv: (size, n), row q is rank q's send.
  virtual void allgather(const float* send, float* recv, int64_t n) = 0;

  // --- host buffers ---
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  virtual void barrier() = 0;
  // The barrier where the other ranks wait while rank 0 writes a checkpoint: the watchdog gives it
  // R1_DIST_IO_TIMEOUT seconds (default the larger of 3600 and R1_DIST_TIMEOUT), since a slow disk
  // is not a dead rank. Without it they would wait for the writer in their next collective, under
  // the collective limit.
  virtual void wait_for_writer() { barrier(); }
  // Ends every rank of the job with exit status `code` (after the caller printed why).
  [[noreturn]] virtual void abort(int code) = 0;
};

// The single-process communicator (rank 0 of 1).
class SingleCommunicator : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "single"; }
  void allreduce_sum(float*, int64_t) override {}
  void alltoall(const float* send, float* recv, int64_t n) override;
  void allgather(const float* send, float* recv, int64_t n) override;
  void allreduce_sum(double*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  void barrier() override {}
  [[noreturn]] void abort(int code) override;
};

// --- the process's communicators -----------------------------------------------------------

// Starts MPI when this process was started by a launcher and r1 was built with MPI (else
// world() stays single-process). Called once by main() before any command runs.
void init_world(int* argc, char*** argv);
// Ends MPI (when started) after a command returned normally.
void finalize_world();
// The communicator of every rank of the job (host buffers).
Communicator& world();
// The communicator for float buffers on `device`: NCCL for CUDA when built with it and the job
// has several ranks, each with its own GPU (by host and PCI bus id), else world() (whose host
// buffers the caller copies to). The first call for CUDA is a collective: every rank makes it at
// the same point and all agree on the choice.
Communicator& data_comm(Device device);
// True when `r1` was built with MPI (R1_MPI), for messages and tests.
bool built_with_mpi();
bool built_with_nccl();

// --- exact scalar collectives ----------------------------------------------------------------

// Every rank passes its values for positions [first, first + local.size()) of a global vector of
// `total` slots; returns the whole vector on every rank. Each slot is written by exactly one rank
// and the others add +0.0, so the result is exact whatever order the library sums in: callers
// then sum the slots in index order and get the single-process bits.
std::vector<double> gather_slots(Communicator& comm, const std::vector<double>& local, int64_t first, int64_t total);

// Sum over ranks of a few host scalars (counts, sums), returned in place; exact for integers
// below 2^53.
void sum_over_ranks(Communicator& comm, std::vector<double>& values);

// The share of `total` items (micro-batches, prompts) that rank `rank` of `size` takes:
// [first, first + count), contiguous blocks in rank order. Throws r1::Error naming `what` when
// total is not a multiple of size (every rank must do the same amount of work per step).
struct Share {
  int64_t first = 0, count = 0;
};
Share share_of(int64_t total, int rank, int size, const std::string& what);

}  // namespace r1
