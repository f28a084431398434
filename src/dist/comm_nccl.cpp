// The NCCL communicator: float collectives on GPU buffers for a model on CUDA, built when
// R1_NCCL is set (the Makefile finds nccl.h beside the CUDA toolkit, and MPI, which launches the
// ranks and broadcasts NCCL's unique id). Host collectives (doubles, bytes, barrier) go to the
// MPI communicator it was started from. Every call is synchronous (stream 0 synchronized before
// returning), like the MPI ones, and a watchdog span (backends.h).
// Does not do: overlapping communication with the backward pass, several GPUs per process.
#if R1_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>

#include "dist/backends.h"
#include "util/error.h"

namespace r1 {
namespace dist_detail {
namespace {

class NcclCommunicator : public Communicator {
 public:
  explicit NcclCommunicator(Communicator& host) : host_(host) {
    ncclUniqueId id;
    if (host.rank() == 0) ok(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host.broadcast(&id, sizeof id, 0);
    CollectiveSpan span(host.rank(), "ncclCommInitRank");
    ok(ncclCommInitRank(&comm_, host.size(), id, host.rank()), "ncclCommInitRank");
  }
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }

  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  const char* backend() const override { return "nccl"; }
  Device buffer_device() const override { return Device::CUDA; }

  void allreduce_sum(float* data, int64_t n) override {
    CollectiveSpan span(rank(), "ncclAllReduce");
    ok(ncclAllReduce(data, data, size_t(n), ncclFloat, ncclSum, comm_, nullptr), "ncclAllReduce");
    sync("ncclAllReduce");
  }
  void alltoall(const float* send, float* recv, int64_t n) override {
    CollectiveSpan span(rank(), "nccl all-to-all");
    ok(ncclGroupStart(), "ncclGroupStart");
    for (int q = 0; q < size(); q++) {
      ok(ncclSend(send + int64_t(q) * n, size_t(n), ncclFloat, q, comm_, nullptr), "ncclSend");
      ok(ncclRecv(recv + int64_t(q) * n, size_t(n), ncclFloat, q, comm_, nullptr), "ncclRecv");
    }
    ok(ncclGroupEnd(), "ncclGroupEnd");
    sync("nccl all-to-all");
  }
  void allgather(const float* send, float* recv, int64_t n) override {
    CollectiveSpan span(rank(), "ncclAllGather");
    ok(ncclAllGather(send, recv, size_t(n), ncclFloat, comm_, nullptr), "ncclAllGather");
    sync("ncclAllGather");
  }
  void allreduce_sum(double* data, int64_t n) override { host_.allreduce_sum(data, n); }
  void broadcast(void* data, int64_t bytes, int root) override { host_.broadcast(data, bytes, root); }
  void barrier() override { host_.barrier(); }
  void wait_for_writer() override { host_.wait_for_writer(); }
  [[noreturn]] void abort(int code) override {
    ncclCommAbort(comm_);
    host_.abort(code);
    std::_Exit(code);  // not reached: the host's abort does not return
  }

 private:
  void ok(ncclResult_t rc, const char* what) {
    if (rc == ncclSuccess) return;
    std::fprintf(stderr, "error: rank %d of %d: %s failed: %s\n", host_.rank(), host_.size(), what,
                 ncclGetErrorString(rc));
    host_.abort(3);
  }
  void sync(const char* what) {
    cudaError_t e = cudaStreamSynchronize(nullptr);
    if (e == cudaSuccess) return;
    std::fprintf(stderr, "error: rank %d: %s: %s\n", host_.rank(), what, cudaGetErrorString(e));
    host_.abort(3);
  }

  Communicator& host_;
  ncclComm_t comm_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> start_nccl(Communicator& host) { return std::make_unique<NcclCommunicator>(host); }

}  // namespace dist_detail
}  // namespace r1
#endif  // R1_NCCL
