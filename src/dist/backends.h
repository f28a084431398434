// Internal to src/dist: how comm.cpp starts the MPI and NCCL communicators, and the watchdog
// they share. Not for use outside src/dist (include dist/comm.h).
#pragma once
#include <memory>

#include "dist/comm.h"

namespace r1 {
namespace dist_detail {

// Marks the span of one blocking collective; a watchdog thread ends the process (status 3)
// when one span lasts longer than its limit, printing which collective on which rank waited: a
// dead or stuck peer never leaves a rank waiting forever. The limit is R1_DIST_TIMEOUT seconds
// (default 600), or for kWaitForWriter (the barrier after rank 0 wrote a checkpoint)
// R1_DIST_IO_TIMEOUT seconds (default the larger of 3600 and R1_DIST_TIMEOUT).
enum SpanLimit { kCollective, kWaitForWriter };
class CollectiveSpan {
 public:
  CollectiveSpan(int rank, const char* op, SpanLimit limit = kCollective);
  ~CollectiveSpan();
  CollectiveSpan(const CollectiveSpan&) = delete;
  CollectiveSpan& operator=(const CollectiveSpan&) = delete;
};
void start_watchdog();
void stop_watchdog();

#if R1_MPI
// MPI_Init_thread, errors returned (not fatal inside MPI), MPI_COMM_WORLD.
std::unique_ptr<Communicator> start_mpi(int* argc, char*** argv);
void stop_mpi();
#endif
#if R1_NCCL
// One NCCL communicator over the ranks of `host` (which broadcasts NCCL's id), on the current
// CUDA device.
std::unique_ptr<Communicator> start_nccl(Communicator& host);
#endif

}  // namespace dist_detail
}  // namespace r1
