// Tensor construction, storage, host/device copies and printing. See tensor.h.
#include "tensor/tensor.h"

#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <deque>
#include <iterator>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "util/bf16.h"
#include "util/error.h"
#include "util/rng.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {

// --- names and shapes ---------------------------------------------------------

const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

Device parse_device(const std::string& s) {
  if (s == "cpu") return Device::CPU;
  if (s == "cuda") return Device::CUDA;
  throw Error(cat("unknown device '", s, "' (expected cpu or cuda)"));
}

std::string shape_str(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

static void check_shape(const Shape& s) {
  if (s.size() > 4) throw Error(cat("tensor shape ", shape_str(s), " has more than 4 dims"));
  for (int64_t d : s)
    if (d < 0) throw Error(cat("tensor shape ", shape_str(s), " has a negative dim"));
}

// --- host memory cache -------------------------------------------------------------
// Every op returns a new tensor, so one training step allocates and frees thousands of
// buffers (about 1,500 for the tiny preset), mostly of the same few sizes. Straight from
// malloc, big buffers come as fresh mmap'ed pages (a page fault and a kernel zero-fill per
// 4 KiB) and go back to the kernel on free, which cost ~10% of a tiny-model training step. So
// freed CPU blocks go into free lists keyed by block size and the next request of that size
// takes one back (newest first: the block most likely still in cache).
//  - Sizes are rounded up to size classes so that tensors whose size changes a little from
//    step to step (MoE expert batches) still reuse blocks: multiples of 64 bytes up to 4 KiB,
//    then 8 classes per power of two (at most 12.5% slack).
//  - A block is returned to malloc once kHostMaxAge other blocks have been freed after it
//    without anyone asking for its size (swept every kHostSweepEvery frees): sizes that never
//    recur (a growing KV cache during generation) are not held on to. A training step reuses
//    its blocks one step later, far within that age.
//  - At most kHostCacheCap bytes sit in the free lists; a free that would pass it releases the
//    whole cache first, and so does a failed allocation.
//  - Thread-safe (one mutex; a lookup is tiny next to the op that needs the buffer).
//  - Blocks keep 64-byte alignment. They are not zeroed: Tensor::empty was never zeroed either.
namespace {

constexpr size_t kHostAlign = 64;
constexpr size_t kHostCacheCap = size_t(1) << 30;  // 1 GiB; tiny-model pretraining peaks near 0.6 GiB
constexpr uint64_t kHostMaxAge = 32768;            // frees (~20 tiny training steps, ~120 decode tokens)
constexpr uint64_t kHostSweepEvery = 1024;         // frees between two sweeps for old blocks

size_t host_block_bytes(int64_t numel) {
  size_t bytes = size_t(numel > 0 ? numel : 1) * sizeof(float);
  bytes = (bytes + kHostAlign - 1) / kHostAlign * kHostAlign;
  if (bytes <= 4096) return bytes;
  size_t step = (size_t(1) << (63 - __builtin_clzll(bytes))) / 8;  // 1/8 of the power of two <= bytes
  return (bytes + step - 1) / step * step;
}

class HostCache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back().ptr;
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    void* p = std::aligned_alloc(kHostAlign, bytes);
    if (!p) {  // the cache may hold what we need
      release();
      p = std::aligned_alloc(kHostAlign, bytes);
    }
    if (!p) throw Error(cat("out of host memory allocating ", bytes, " bytes"));
    return p;
  }

  void give(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ + bytes > kHostCacheCap) release_older_than(UINT64_MAX);
    if (bytes > kHostCacheCap) {
      std::free(p);
      return;
    }
    free_[bytes].push_back({p, ++clock_});
    cached_ += bytes;
    if (clock_ % kHostSweepEvery == 0 && clock_ > kHostMaxAge) release_older_than(clock_ - kHostMaxAge);
  }

  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    release_older_than(UINT64_MAX);
  }

 private:
  struct Block {
    void* ptr;
    uint64_t freed_at;  // clock_ when it was freed
  };

  // Frees every cached block freed before `clock` (all of them for UINT64_MAX).
  void release_older_than(uint64_t clock) {
    for (auto it = free_.begin(); it != free_.end();) {
      std::deque<Block>& blocks = it->second;  // oldest first
      while (!blocks.empty() && blocks.front().freed_at < clock) {
        std::free(blocks.front().ptr);
        blocks.pop_front();
        cached_ -= it->first;
      }
      it = blocks.empty() ? free_.erase(it) : std::next(it);
    }
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::deque<Block>> free_;  // block size -> free blocks, oldest first
  size_t cached_ = 0;                                   // bytes in free_
  uint64_t clock_ = 0;                                  // number of blocks freed so far
};

// Never destroyed: a Storage may be freed during static destruction, after any static
// object here would be gone. The process exit returns the memory.
HostCache& host_cache() {
  static HostCache* cache = new HostCache;
  return *cache;
}

}  // namespace

// --- storage ----------------------------------------------------------------------

Storage::Storage(int64_t n, Device dev) : numel(n), device(dev) {
  if (dev == Device::CPU) {
    data = static_cast<float*>(host_cache().take(host_block_bytes(n)));
    return;
  }
#ifdef R1_CUDA
  size_t bytes = size_t(n > 0 ? n : 1) * sizeof(float);
  if (!cuda::available()) throw Error(cat("--device cuda: ", cuda::unavailable_reason()));
  data = static_cast<float*>(cuda::malloc(bytes));
#else
  throw Error("--device cuda: this r1 was built without CUDA (build with nvcc on the PATH, or make CUDA=1)");
#endif
}

Storage::Storage(int64_t n, const uint16_t* image, std::shared_ptr<const void> owner)
    : numel(n), bf16(image), bf16_owner(std::move(owner)) {}

std::shared_ptr<Storage> Storage::lazy_zeros(int64_t n) {
  std::shared_ptr<Storage> s(new Storage());
  s->numel = n;
  return s;
}

float* Storage::materialize() {
  data = static_cast<float*>(host_cache().take(host_block_bytes(numel)));
  if (bf16) {
    for (int64_t i = 0; i < numel; i++) data[i] = bf16_to_f32(bf16[i]);
    bf16 = nullptr;
    bf16_owner.reset();
  } else {
    std::memset(data, 0, size_t(numel) * sizeof(float));
  }
  return data;
}

Storage::~Storage() {
  if (device == Device::CPU) {
    if (!data) return;  // lazy zeros or a BF16 image never widened
    host_cache().give(data, host_block_bytes(numel));
    return;
  }
#ifdef R1_CUDA
  cuda::free(data);
#endif
}

// Copies bytes between any two devices.
static void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (bytes == 0) return;
  if (dst_dev == Device::CPU && src_dev == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef R1_CUDA
  if (dst_dev == Device::CUDA && src_dev == Device::CPU) cuda::memcpy_h2d(dst, src, bytes);
  else if (dst_dev == Device::CPU && src_dev == Device::CUDA) cuda::memcpy_d2h(dst, src, bytes);
  else cuda::memcpy_d2d(dst, src, bytes);
#else
  throw Error("this r1 was built without CUDA");
#endif
}

// --- construction -------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, Device device) {
  check_shape(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = std::make_shared<Storage>(shape_numel(shape), device);
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, Device device) { return full(shape, 0.0f, device); }

Tensor Tensor::lazy_zeros(const Shape& shape) {
  check_shape(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = Storage::lazy_zeros(shape_numel(shape));
  return Tensor(impl);
}

Tensor Tensor::from_bf16(const Shape& shape, const uint16_t* bf16, std::shared_ptr<const void> owner) {
  check_shape(shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->storage = std::make_shared<Storage>(shape_numel(shape), bf16, std::move(owner));
  return Tensor(impl);
}
Tensor Tensor::ones(const Shape& shape, Device device) { return full(shape, 1.0f, device); }

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  Tensor t = empty(shape, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::from_vector(const Shape& shape, const std::vector<float>& values, Device device) {
  check_shape(shape);
  if (int64_t(values.size()) != shape_numel(shape))
    throw Error(cat("from_vector: ", values.size(), " values for shape ", shape_str(shape)));
  Tensor t = empty(shape, device);
  copy_bytes(t.data(), device, values.data(), Device::CPU, values.size() * sizeof(float));
  return t;
}

Tensor Tensor::scalar(float value, Device device) { return full({}, value, device); }

Tensor Tensor::randn(const Shape& shape, Rng& rng, float std, Device device) {
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = float(rng.normal() * std);
  return from_vector(shape, v, device);
}

Tensor Tensor::uniform(const Shape& shape, Rng& rng, float lo, float hi, Device device) {
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = float(lo + (hi - lo) * rng.uniform());
  return from_vector(shape, v, device);
}

// --- access -------------------------------------------------------------------------

TensorImpl& Tensor::impl() const {
  if (!impl_) throw Error("use of an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int d) const {
  int n = dim();
  int i = d < 0 ? d + n : d;
  if (i < 0 || i >= n) throw Error(cat("dim ", d, " out of range for shape ", shape_str(shape())));
  return shape()[size_t(i)];
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  copy_bytes(v.data(), Device::CPU, data(), device(), v.size() * sizeof(float));
  return v;
}

float Tensor::item() const {
  if (numel() != 1) throw Error(cat("item() of a tensor of shape ", shape_str(shape())));
  return to_vector()[0];
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  if (int(index.size()) != dim()) throw Error(cat("at(): ", index.size(), " indices for shape ", shape_str(shape())));
  int64_t flat = 0, i = 0;
  for (int64_t x : index) {
    int64_t n = shape()[size_t(i++)];
    if (x < 0 || x >= n) throw Error(cat("at(): index ", x, " out of range for shape ", shape_str(shape())));
    flat = flat * n + x;
  }
  float v;
  copy_bytes(&v, Device::CPU, data() + flat, device(), sizeof(float));
  return v;
}

Tensor Tensor::to(Device dev) const {
  if (dev == device()) return *this;
  Tensor t = empty(shape(), dev);
  copy_bytes(t.data(), dev, data(), device(), size_t(numel()) * sizeof(float));
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), device());
  copy_bytes(t.data(), device(), data(), device(), size_t(numel()) * sizeof(float));
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.shape() != shape())
    throw Error(cat("copy_from: shape ", shape_str(src.shape()), " into ", shape_str(shape())));
  copy_bytes(data(), device(), src.data(), src.device(), size_t(numel()) * sizeof(float));
}

void Tensor::fill_(float value) {
  int64_t n = numel();
  if (device() == Device::CPU) {
    float* p = data();
    for (int64_t i = 0; i < n; i++) p[i] = value;
    return;
  }
#ifdef R1_CUDA
  if (value == 0.0f) {
    cuda::memset_zero(data(), size_t(n) * sizeof(float));
  } else {
    std::vector<float> host(size_t(n), value);
    copy_bytes(data(), device(), host.data(), Device::CPU, host.size() * sizeof(float));
  }
#endif
}

std::string Tensor::str(int max_per_dim) const {
  std::ostringstream os;
  os << "Tensor" << shape_str(shape()) << " " << device_name(device()) << " [";
  std::vector<float> v = to_vector();
  int64_t n = int64_t(v.size()), shown = std::min<int64_t>(n, max_per_dim * max_per_dim);
  for (int64_t i = 0; i < shown; i++) os << (i ? ", " : "") << v[size_t(i)];
  if (shown < n) os << ", ...";
  os << "]";
  return os.str();
}

// --- autograd fields --------------------------------------------------------------

Tensor& Tensor::set_requires_grad(bool on) {
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(impl().grad); }

void Tensor::zero_grad() { impl().grad.reset(); }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape();
  impl->storage = impl_->storage;
  return Tensor(impl);
}

}  // namespace r1
