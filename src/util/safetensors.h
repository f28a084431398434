// safetensors reader and writer (Hugging Face's tensor file format), independent of any
// tensor class. Layout of a file:
//   8 bytes   N, little-endian uint64
//   N bytes   JSON header {"__metadata__": {str: str}, "name": {"dtype": "F32",
//             "shape": [..], "data_offsets": [begin, end]}, ...}  (offsets relative to
//             the data section; the header may be padded with trailing spaces)
//   rest      raw little-endian tensor data, tensors back to back covering it exactly
// Writes F32 or BF16 (every tensor of a file in one dtype), byte-identical to the reference
// writer: tensors sorted by name, compact JSON, "__metadata__" first (omitted when empty),
// header padded with spaces to a multiple of 8 bytes. Reads F32, BF16, F16 and F8_E4M3 from a
// memory mapping (MappedSafetensors: nothing is copied until a tensor is asked for; BF16
// tensors can be used in place). Every malformed input (truncated file, bad header, offsets
// out of range / overlapping / leaving holes, size not matching shape and dtype, unknown
// dtype, duplicate names, negative dims) is an r1::Error naming the file and the tensor.
// See docs/formats.md. FP8 block scales (weight_scale_inv) are applied by model/checkpoint.
// Does not do: other dtypes (I64, F64, F8_E5M2 ...), big-endian hosts.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "util/bf16.h"

namespace r1 {

struct StTensor {
  std::string name;
  std::vector<int64_t> shape;  // row-major; {} is a scalar (1 value)
  std::vector<float> data;     // (numel(shape),)
  std::string dtype_on_disk;   // set by load ("F32", "BF16", "F16", "F8_E4M3"); ignored by save
};

// One tensor of a mapped file: its bytes stay in the mapping.
struct StEntry {
  std::string name;
  std::string dtype;           // "F32", "BF16", "F16" or "F8_E4M3"
  std::vector<int64_t> shape;  // row-major; {} is a scalar
  const uint8_t* bytes = nullptr;  // numel * dtype size bytes inside the mapping (any alignment: the
                                   // format pads the header to 8 bytes only by convention)
  uint64_t nbytes = 0;
};

// A safetensors file opened with mmap (read-only, private). The header is parsed and the whole
// layout validated on open; tensor data is paged in by the kernel when read. The mapping lives
// as long as the object (hold it in a shared_ptr to lend its bytes to tensors).
class MappedSafetensors {
 public:
  explicit MappedSafetensors(const std::string& path);
  ~MappedSafetensors();
  MappedSafetensors(const MappedSafetensors&) = delete;
  MappedSafetensors& operator=(const MappedSafetensors&) = delete;

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return size_; }
  const std::vector<StEntry>& entries() const { return entries_; }  // in data-offset order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const StEntry* find(const std::string& name) const;  // nullptr when absent
  // The values as float32 (exact for every dtype read; F8_E4M3 without any block scale).
  std::vector<float> to_f32(const StEntry& e) const;

 private:
  void parse();
  std::string path_;
  void* map_ = nullptr;
  uint64_t size_ = 0;
  std::vector<StEntry> entries_;
  std::map<std::string, size_t> index_;  // name -> position in entries_
  std::map<std::string, std::string> metadata_;
};

struct SafetensorsFile {
  std::string path;
  std::vector<StTensor> tensors;  // in data-offset order (= name order for files we write)
  std::map<std::string, std::string> metadata;

  const StTensor* find(const std::string& name) const;  // nullptr when absent
  const StTensor& at(const std::string& name) const;    // Error "<path>: no tensor 'name'"
};

// Number of values of a shape (1 for a scalar). Throws on a negative dimension.
int64_t st_numel(const std::vector<int64_t>& shape);

// Bytes per value of a dtype r1 reads ("F32" 4, "BF16"/"F16" 2, "F8_E4M3" 1); throws for others.
int st_dtype_size(const std::string& dtype);

// Writes the tensors atomically (util/fs.h) in `dtype`: "F32", or "BF16" (each value rounded to
// nearest even). Throws on duplicate or empty names, the reserved name "__metadata__",
// negative dims, data.size() != numel(shape), or another dtype.
void save_safetensors(const std::string& path, const std::vector<StTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {}, const std::string& dtype = "F32");

// The same, one tensor at a time: values(i) gives tensor i's float32 values when the writer
// reaches it, so a converter holds one tensor in memory, not the whole model.
struct StSource {
  std::string name;
  std::vector<int64_t> shape;
};
void save_safetensors_streamed(const std::string& path, const std::vector<StSource>& tensors,
                               const std::function<std::vector<float>(size_t i)>& values,
                               const std::map<std::string, std::string>& metadata, const std::string& dtype);

// Maps and validates the whole file; every tensor's data becomes float32.
SafetensorsFile load_safetensors(const std::string& path);

// Exact conversions of one stored value to float32 (exposed for tests; BF16 is util/bf16.h).
float f16_to_f32(uint16_t h);
float f8e4m3_to_f32(uint8_t v);  // OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN)

}  // namespace r1
