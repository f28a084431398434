// Tensor: a float32, contiguous, row-major array of up to 4 dimensions that lives on the CPU
// or on a CUDA device. A Tensor is a cheap handle (a shared_ptr) to an implementation that
// holds the shape, the shared storage and the autograd fields; copying a Tensor copies the
// handle, not the data. The only view is reshape (same storage, new shape). Everything is
// float32: integer inputs (token ids, expert indices) travel as std::vector<int32_t>.
//
// This file does not compute anything: ops live in src/ops/, kernels in src/cpu/ and cuda/,
// and the backward pass in src/autograd/.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace r1 {

enum class Device { CPU, CUDA };
const char* device_name(Device d);
Device parse_device(const std::string& s);  // "cpu" | "cuda"; throws r1::Error otherwise

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "(2, 3, 4)"
int64_t shape_numel(const Shape& s);

class Rng;
class Tensor;

// Raw memory of numel floats on one device. Freed when the last Tensor using it goes away.
// Two kinds of host storage hold no floats until first asked for them (get() then makes the
// float32 values once, keeps them, and from then on the storage is an ordinary one):
//  - lazy zeros (model parameters before a checkpoint replaces them, so that building a 7B
//    model to load it does not first allocate 28 GB of zeros);
//  - a BF16 image (inference weights: the mmapped checkpoint bytes or an owned buffer, read by
//    the BF16 kernels in src/cpu/bf16.h without ever being widened). The image is dropped
//    when the float32 values are made (an op without a BF16 path, training, upload to CUDA).
// Making the values is not thread-safe: ops call data() on the calling thread, never inside
// an OpenMP region.
struct Storage {
  float* data = nullptr;  // null until get() for the two kinds above
  int64_t numel = 0;
  Device device = Device::CPU;
  const uint16_t* bf16 = nullptr;        // (numel,) BF16 image while data is null
  std::shared_ptr<const void> bf16_owner;  // keeps the image alive (a mapping or a buffer)
  Storage(int64_t numel, Device device);  // uninitialised
  Storage(int64_t numel, const uint16_t* bf16, std::shared_ptr<const void> owner);  // BF16 image
  static std::shared_ptr<Storage> lazy_zeros(int64_t numel);  // host zeros, made on first get()
  float* get() { return data ? data : materialize(); }
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

 private:
  Storage() = default;
  float* materialize();
};

// The autograd fields live next to the data (micrograd's Value, on tensors): a result of a
// differentiable op records its parents and a function that, given d(loss)/d(result),
// accumulates d(loss)/d(parent) into each parent's grad.
struct TensorImpl {
  Shape shape;
  std::shared_ptr<Storage> storage;
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // same shape; allocated on first accumulation
  std::vector<Tensor> parents;
  std::function<void(const Tensor& grad_out)> backward_fn;
  const char* op = "leaf";  // name of the op that made this tensor, for errors and debugging
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor (defined() == false)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- construction ---------------------------------------------------------
  static Tensor empty(const Shape& shape, Device device = Device::CPU);  // uninitialised
  static Tensor zeros(const Shape& shape, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, Device device = Device::CPU);
  static Tensor full(const Shape& shape, float value, Device device = Device::CPU);
  static Tensor from_vector(const Shape& shape, const std::vector<float>& values, Device device = Device::CPU);
  static Tensor scalar(float value, Device device = Device::CPU);  // shape ()
  // Normal(0, std) from rng, drawn in row-major order (so CPU and CUDA get the same values).
  static Tensor randn(const Shape& shape, Rng& rng, float std = 1.0f, Device device = Device::CPU);
  static Tensor uniform(const Shape& shape, Rng& rng, float lo, float hi, Device device = Device::CPU);
  // Host zeros that take no memory until first read or written (see Storage).
  static Tensor lazy_zeros(const Shape& shape);
  // A host tensor whose values are the BF16 numbers at `bf16` (numel(shape) of them, kept alive by
  // `owner`); BF16-aware ops read them as they are, any other access widens them once to float32.
  static Tensor from_bf16(const Shape& shape, const uint16_t* bf16, std::shared_ptr<const void> owner);

  // --- shape and data -----------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int dim() const { return int(impl().shape.size()); }
  int64_t size(int d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  Device device() const { return impl().storage->device; }
  bool is_cuda() const { return device() == Device::CUDA; }
  float* data() { return impl().storage->get(); }  // device pointer when on CUDA
  const float* data() const { return impl().storage->get(); }
  // The BF16 image of a tensor made by from_bf16 whose values were not widened yet; else nullptr.
  const uint16_t* bf16_data() const { return impl().storage->data ? nullptr : impl().storage->bf16; }
  std::vector<float> to_vector() const;           // copies to the host
  float item() const;                             // the value of a one-element tensor
  float at(std::initializer_list<int64_t> index) const;  // one element (host copy; slow, for tests)
  Tensor to(Device device) const;                  // copy (or this tensor if already there)
  Tensor clone() const;                            // deep copy, no autograd history
  void copy_from(const Tensor& src);               // same shape; data copy across devices
  void fill_(float value);
  std::string str(int max_per_dim = 6) const;     // printable summary

  // --- autograd -------------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const;   // undefined until a backward pass reached this tensor
  void zero_grad();      // drops the accumulated gradient
  Tensor detach() const; // same storage, no history, requires_grad false
  const char* op() const { return impl().op; }

  TensorImpl& impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace r1
