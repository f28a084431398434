// The CUDA device, memory and copies: available() (probed once, never crashes without a
// driver), the caching allocator behind cuda::malloc/free, host<->device copies and
// synchronize(). See cuda_api.h for the execution model (one device, the default stream).
//
// Caching allocator. cudaMalloc and cudaFree are slow (cudaFree synchronizes the device), and
// a training step frees and reallocates the same activation sizes every step, so freed blocks
// are kept and reused:
//   - a request is rounded up to a bucket size: 512 bytes at least, then a multiple of a quarter
//     of the largest power of two <= the request, but of at least 512 bytes (512, 1024, 1536,
//     2048, 2560, ..., 4096, 5120, 6144, 7168, 8192, 10240, ...): above 2 KiB at most 25% is
//     wasted, and nearby sizes share a bucket;
//   - free() puts the block on its bucket's free list; malloc() pops from that list first and
//     calls cudaMalloc only when it is empty (a block is reused only for the same bucket,
//     never split or merged);
//   - when cudaMalloc runs out of memory, every cached block is cudaFree'd and it is retried once.
// Reusing a block at once is safe because all work runs in order on the default stream: a
// kernel that still reads a freed block runs before any later kernel that writes its new owner.
// The allocator is never destroyed (tensors freed during static destruction still find it);
// the driver releases everything at exit.
// Does not do: multiple devices or streams, returning cached memory to other processes
// except through empty_cache().
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

// --- device probe -------------------------------------------------------------------

__global__ void probe_kernel() {}

struct Probe {
  bool ok = false;
  std::string reason;       // why not ok
  std::string description;  // name, arch and memory when ok
};

static Probe run_probe() {
  Probe p;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();
    p.reason = cat("no CUDA device available (cudaGetDeviceCount: ", cudaGetErrorString(err), ")");
    return p;
  }
  if (count == 0) {
    p.reason = "no CUDA device available (the driver reports 0 devices)";
    return p;
  }
  cudaDeviceProp prop;
  err = cudaGetDeviceProperties(&prop, 0);
  if (err != cudaSuccess) {
    cudaGetLastError();
    p.reason = cat("no usable CUDA device (cudaGetDeviceProperties: ", cudaGetErrorString(err), ")");
    return p;
  }
  // A GPU whose architecture this build has no code for fails here, not in the first op.
  cudaFuncAttributes attr;
  err = cudaFuncGetAttributes(&attr, probe_kernel);
  if (err != cudaSuccess) {
    cudaGetLastError();
    p.reason = cat("the GPU ", prop.name, " (sm_", prop.major, prop.minor,
                   ") cannot run this build's kernels (built for sm_80 and sm_90): ", cudaGetErrorString(err));
    return p;
  }
  p.ok = true;
  p.description = cat(prop.name, ", sm_", prop.major, prop.minor, ", ",
                      double(prop.totalGlobalMem) / double(1ull << 30), " GiB");
  return p;
}

static const Probe& probe() {
  static const Probe p = run_probe();  // thread-safe, once
  return p;
}

bool available() { return probe().ok; }
const char* unavailable_reason() { return probe().ok ? "" : probe().reason.c_str(); }

std::string device_description() {
  if (!available()) throw Error(cat("cuda::device_description: ", unavailable_reason()));
  return probe().description;
}

// --- caching allocator ------------------------------------------------------------------

static size_t bucket_size(size_t bytes) {
  if (bytes <= 512) return 512;
  size_t pow2 = 1;
  while (pow2 * 2 <= bytes) pow2 *= 2;
  size_t step = pow2 / 4 > 512 ? pow2 / 4 : 512;
  return (bytes + step - 1) / step * step;
}

class Allocator {
 public:
  void* malloc(size_t bytes) {
    size_t size = bucket_size(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    void* p = nullptr;
    std::vector<void*>& list = free_[size];
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      stats_.cached_bytes -= size;
    } else {
      cudaError_t err = cudaMalloc(&p, size);
      if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        release_cached();
        err = cudaMalloc(&p, size);
      }
      if (err != cudaSuccess) {
        cudaGetLastError();
        throw Error(cat("cuda::malloc: cudaMalloc(", size, " bytes) failed: ", cudaGetErrorString(err), " (",
                        stats_.in_use_bytes, " bytes in use by tensors)"));
      }
      stats_.device_mallocs++;
    }
    live_[p] = size;
    stats_.in_use_bytes += size;
    return p;
  }

  void free(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) throw std::logic_error("cuda::free: pointer was not allocated by cuda::malloc");
    size_t size = it->second;
    live_.erase(it);
    free_[size].push_back(p);
    stats_.in_use_bytes -= size;
    stats_.cached_bytes += size;
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached();
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  void release_cached() {  // mu_ held
    for (auto& [size, list] : free_)
      for (void* p : list) check(cudaFree(p), "cuda::empty_cache: cudaFree");
    free_.clear();
    stats_.cached_bytes = 0;
  }

  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // bucket size -> freed blocks
  std::unordered_map<void*, size_t> live_;     // block in use -> bucket size
  MemoryStats stats_;
};

static Allocator& allocator() {
  static Allocator* a = new Allocator();  // never destroyed, see the top of the file
  return *a;
}

void* malloc(size_t bytes) { return allocator().malloc(bytes); }
void free(void* d_ptr) { allocator().free(d_ptr); }
MemoryStats memory_stats() { return allocator().stats(); }
void empty_cache() { allocator().empty_cache(); }

// --- copies and synchronization ---------------------------------------------------------

// cudaMemcpyAsync on the default stream: from pageable host memory (r1 never pins any) the runtime
// stages the source before returning, so the caller may free or change it at once, and the host
// does not wait for earlier kernels to finish (cudaMemcpy would synchronize the stream first: the
// scalar uploads of scale(), add_scalar(), mean() and the backward seed made every op a stall).
void memcpy_h2d(void* d_dst, const void* src, size_t bytes) {
  check(cudaMemcpyAsync(d_dst, src, bytes, cudaMemcpyHostToDevice, 0), "cuda::memcpy_h2d: cudaMemcpyAsync");
}

void memcpy_d2h(void* dst, const void* d_src, size_t bytes) {
  check(cudaMemcpy(dst, d_src, bytes, cudaMemcpyDeviceToHost), "cuda::memcpy_d2h: cudaMemcpy");
}

void memcpy_d2d(void* d_dst, const void* d_src, size_t bytes) {
  check(cudaMemcpy(d_dst, d_src, bytes, cudaMemcpyDeviceToDevice), "cuda::memcpy_d2d: cudaMemcpy");
}

void memset_zero(void* d_ptr, size_t bytes) { check(cudaMemset(d_ptr, 0, bytes), "cuda::memset_zero: cudaMemset"); }

void synchronize() { check(cudaDeviceSynchronize(), "cuda::synchronize: cudaDeviceSynchronize"); }

}  // namespace r1::cuda
