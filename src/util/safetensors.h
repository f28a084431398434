// safetensors reader and writer (Hugging Face's tensor file format), independent of any
// tensor class. Layout of a file:
//   8 bytes   N, little-endian uint64
//   N bytes   JSON header {"__metadata__": {str: str}, "name": {"dtype": "F32",
//             "shape": [..], "data_offsets": [begin, end]}, ...}  (offsets relative to
//             the data section; the header may be padded with trailing spaces)
//   rest      raw little-endian tensor data, tensors back to back covering it exactly
// Writes F32 only, byte-identical to the reference writer: tensors sorted by name, compact
// JSON, "__metadata__" first (omitted when empty), header padded with spaces to a multiple of
// 8 bytes. Reads F32, BF16 and F16 (converted exactly to float32). Every malformed input
// (truncated file, bad header, offsets out of range / overlapping / leaving holes, size not
// matching shape and dtype, unknown dtype, duplicate names, negative dims) is an r1::Error
// naming the file and the tensor. See docs/formats.md.
// Does not do: other dtypes (I64, F64, F8 ...), lazy or memory-mapped loading, big-endian hosts.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace r1 {

struct StTensor {
  std::string name;
  std::vector<int64_t> shape;  // row-major; {} is a scalar (1 value)
  std::vector<float> data;     // (numel(shape),)
  std::string dtype_on_disk;   // set by load ("F32", "BF16", "F16"); save always writes F32
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

// Writes the tensors as F32, atomically (util/fs.h). Throws on duplicate or empty names, the
// reserved name "__metadata__", negative dims, or data.size() != numel(shape).
void save_safetensors(const std::string& path, const std::vector<StTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates the whole file; tensor data becomes float32.
SafetensorsFile load_safetensors(const std::string& path);

// Exact conversions of one stored 16-bit value to float32 (exposed for tests).
float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);

}  // namespace r1
