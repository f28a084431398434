// safetensors reader and writer. See safetensors.h for the layout and what is validated.
// The validation mirrors the reference implementation: header at most 100 MB, tensors back to
// back from offset 0 covering the data section exactly, each exactly numel * dtype-size bytes.
#include "util/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>

#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian; r1 assumes a little-endian host");

namespace r1 {

static const uint64_t kMaxHeaderBytes = 100000000;  // the reference implementation's limit

// --- shapes and dtypes -------------------------------------------------------------------

int64_t st_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    check(d >= 0, "negative dimension ", d, " in shape");
    n *= d;
  }
  return n;
}

static std::string dims_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Bytes per element of the dtypes we read; 0 for a dtype that exists in the format but that
// r1 does not read; -1 for a name that is not a safetensors dtype at all.
static int dtype_size(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "F8_E4M3") return 1;
  static const std::set<std::string> known = {"BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64",
                                              "F64", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
                                              "C64"};
  return known.count(dtype) ? 0 : -1;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    // zero or subnormal: mant * 2^-24, exact in float32
    float x = std::ldexp(float(mant), -24);
    return sign ? -x : x;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, or NaN keeping its payload
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float f8e4m3_to_f32(uint8_t v) {
  const int exp = (v >> 3) & 0xf, mant = v & 7;
  float x;
  if (exp == 15 && mant == 7) x = std::nanf("");
  else if (exp == 0) x = std::ldexp(float(mant), -9);  // subnormal: mant/8 * 2^(1-7)
  else x = std::ldexp(float(8 + mant), exp - 10);      // (1 + mant/8) * 2^(exp-7)
  return (v & 0x80) ? -x : x;
}

int st_dtype_size(const std::string& dtype) {
  int size = dtype_size(dtype);
  check(size > 0, "dtype '", dtype, "' is not read by r1 (it reads F32, BF16, F16, F8_E4M3)");
  return size;
}

// --- lookup ------------------------------------------------------------------------------

const StEntry* MappedSafetensors::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const StTensor* SafetensorsFile::find(const std::string& name) const {
  for (const StTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const StTensor& SafetensorsFile::at(const std::string& name) const {
  const StTensor* t = find(name);
  if (!t) throw Error(cat(path, ": no tensor '", name, "'"));
  return *t;
}

// --- write -------------------------------------------------------------------------------

void save_safetensors(const std::string& path, const std::vector<StTensor>& tensors,
                      const std::map<std::string, std::string>& metadata, const std::string& dtype) {
  std::vector<StSource> sources;
  for (const StTensor& t : tensors) {
    for (int64_t d : t.shape) check(d >= 0, path, ": tensor '", t.name, "': negative dimension in shape ", dims_str(t.shape));
    check(int64_t(t.data.size()) == st_numel(t.shape), path, ": tensor '", t.name, "' has ", t.data.size(),
          " values but shape ", dims_str(t.shape), " needs ", st_numel(t.shape));
    sources.push_back({t.name, t.shape});
  }
  save_safetensors_streamed(path, sources, [&](size_t i) { return tensors[i].data; }, metadata, dtype);
}

void save_safetensors_streamed(const std::string& path, const std::vector<StSource>& tensors,
                               const std::function<std::vector<float>(size_t i)>& values,
                               const std::map<std::string, std::string>& metadata, const std::string& dtype) {
  check(dtype == "F32" || dtype == "BF16", path, ": r1 writes F32 or BF16, not '", dtype, "'");
  const uint64_t size = dtype == "F32" ? 4 : 2;
  // Sort by name (the reference writer sorts by dtype alignment, then name; all share one dtype).
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); i++) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors[a].name < tensors[b].name; });

  // Header: compact JSON, metadata first, then each tensor with its byte range.
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& kv : metadata) {
      if (!first) header += ",";
      first = false;
      json_escape(kv.first, header);
      header += ":";
      json_escape(kv.second, header);
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < order.size(); i++) {
    const StSource& t = tensors[order[i]];
    check(!t.name.empty(), path, ": cannot save a tensor with an empty name");
    check(t.name != "__metadata__", path, ": '__metadata__' is reserved and cannot name a tensor");
    check(i == 0 || tensors[order[i - 1]].name != t.name, path, ": duplicate tensor name '", t.name, "'");
    for (int64_t d : t.shape) check(d >= 0, path, ": tensor '", t.name, "': negative dimension in shape ", dims_str(t.shape));
    uint64_t bytes = uint64_t(st_numel(t.shape)) * size;
    if (header.size() > 1) header += ",";
    json_escape(t.name, header);
    header += ":{\"dtype\":\"" + dtype + "\",\"shape\":[";
    for (size_t k = 0; k < t.shape.size(); k++) header += (k ? "," : "") + std::to_string(t.shape[k]);
    header += cat("],\"data_offsets\":[", offset, ",", offset + bytes, "]}");
    offset += bytes;
  }
  header += "}";
  header.resize((header.size() + 7) / 8 * 8, ' ');  // data section starts 8-byte aligned

  write_file_atomic(path, [&](const ByteWriter& write) {
    uint64_t n = header.size();
    write(&n, 8);
    write(header.data(), header.size());
    std::vector<uint16_t> half;
    for (size_t i : order) {
      std::vector<float> v = values(i);
      check(int64_t(v.size()) == st_numel(tensors[i].shape), path, ": tensor '", tensors[i].name, "' has ", v.size(),
            " values but shape ", dims_str(tensors[i].shape), " needs ", st_numel(tensors[i].shape));
      if (size == 4) {
        write(v.data(), v.size() * 4);
        continue;
      }
      half.resize(v.size());
      for (size_t k = 0; k < half.size(); k++) half[k] = f32_to_bf16(v[k]);
      write(half.data(), half.size() * 2);
    }
  });
}

// --- read --------------------------------------------------------------------------------

namespace {

struct Entry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// A JSON number that must be a non-negative integer small enough to be exact in a double.
uint64_t header_uint(const Json& v, const std::string& where) {
  check(v.is_number(), where, " must be a number, got ", Json::type_name(v.type()));
  double x = v.as_number();
  check(x == std::floor(x), where, " must be an integer, got ", v.dump());
  check(x >= 0, where, " must not be negative, got ", v.dump());
  check(x <= 9007199254740992.0, where, " is too large: ", v.dump());
  return uint64_t(x);
}

Entry parse_entry(const std::string& name, const Json& v, const std::string& ctx) {
  check(v.is_object(), ctx, ": expected an object with dtype, shape, data_offsets, got ", Json::type_name(v.type()));
  Entry e;
  e.name = name;
  const Json* dtype = v.find("dtype");
  check(dtype && dtype->is_string(), ctx, ": missing or non-string field 'dtype'");
  e.dtype = dtype->as_string();
  int size = dtype_size(e.dtype);
  check(size != -1, ctx, ": unknown dtype '", e.dtype, "'");
  check(size != 0, ctx, ": dtype ", e.dtype, " is not supported (r1 reads F32, BF16, F16, F8_E4M3)");

  const Json* shape = v.find("shape");
  check(shape && shape->is_array(), ctx, ": missing or non-array field 'shape'");
  for (size_t i = 0; i < shape->size(); i++) {
    e.shape.push_back(int64_t(header_uint((*shape)[i], cat(ctx, ": shape ", shape->dump(), ": dimension ", i))));
  }

  const Json* offs = v.find("data_offsets");
  check(offs && offs->is_array() && offs->size() == 2, ctx, ": field 'data_offsets' must be [begin, end]");
  e.begin = header_uint((*offs)[0], cat(ctx, ": data_offsets[0]"));
  e.end = header_uint((*offs)[1], cat(ctx, ": data_offsets[1]"));
  check(e.begin <= e.end, ctx, ": data_offsets [", e.begin, ", ", e.end, "] end before they begin");

  // numel * size must equal end - begin; compare without overflow by dividing.
  uint64_t span = e.end - e.begin, numel = 1;
  bool fits = true;
  for (int64_t d : e.shape) {
    if (d == 0) { numel = 0; fits = true; break; }
    if (numel > span / uint64_t(d)) fits = false;  // keep scanning: a later 0 makes it fit
    else numel *= uint64_t(d);
  }
  check(fits && numel * uint64_t(size) == span, ctx, ": data_offsets [", e.begin, ", ", e.end, "] hold ", span,
        " bytes but shape ", dims_str(e.shape), " of ", e.dtype, " needs ",
        fits ? cat(numel * uint64_t(size)) : std::string("more"));
  return e;
}

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), as the
// reference implementation requires of the header.
bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7f >> len);
    for (int k = 1; k < len; k++) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

}  // namespace

// Maps the whole file (read-only) and validates it; the data stays in the mapping.
MappedSafetensors::MappedSafetensors(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is rejected just below).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw Error(cat(path, ": cannot open file (", std::strerror(errno), ")"));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(cat(path, ": not a regular file"));
  }
  size_ = uint64_t(st.st_size);
  if (size_ > 0) {
    map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      ::close(fd);
      throw Error(cat(path, ": cannot map file (", std::strerror(errno), ")"));
    }
  }
  ::close(fd);  // the mapping keeps the file open
  try {
    parse();
  } catch (...) {
    if (map_) ::munmap(map_, size_);
    throw;
  }
}

MappedSafetensors::~MappedSafetensors() {
  if (map_) ::munmap(map_, size_);
}

void MappedSafetensors::parse() {
  const std::string& path = path_;
  const uint64_t file_size = size_;
  const uint8_t* base = static_cast<const uint8_t*>(map_);

  // Header length and header.
  check(file_size >= 8, path, ": truncated file (", file_size, " bytes): a safetensors file starts with an 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, base, 8);
  check(n <= kMaxHeaderBytes, path, ": header length ", n, " exceeds the ", kMaxHeaderBytes, "-byte limit (not a safetensors file?)");
  check(n <= file_size - 8, path, ": header length ", n, " is larger than the file (", file_size, " bytes): truncated file?");
  std::string header(reinterpret_cast<const char*>(base + 8), size_t(n));
  check(valid_utf8(header), path, ": header is not valid UTF-8");
  Json h = Json::parse(header, cat(path, " (safetensors header)"));
  check(h.is_object(), path, ": header is not a JSON object");

  // Entries and metadata.
  std::vector<Entry> entries;
  std::set<std::string> seen;
  for (const auto& kv : h.as_object()) {
    const std::string& key = kv.first;
    check(seen.insert(key).second, path, ": duplicate ", key == "__metadata__" ? "'__metadata__'" : "tensor name '" + key + "'", " in header");
    if (key == "__metadata__") {
      check(kv.second.is_object(), path, ": '__metadata__' must be an object of strings");
      for (const auto& m : kv.second.as_object()) {
        check(m.second.is_string(), path, ": __metadata__['", m.first, "'] must be a string, got ", m.second.dump());
        metadata_[m.first] = m.second.as_string();
      }
      continue;
    }
    entries.push_back(parse_entry(key, kv.second, cat(path, ": tensor '", key, "'")));
  }

  // Byte ranges: back to back from 0, covering the data section exactly.
  const uint64_t data_size = file_size - 8 - n;
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  for (size_t i = 0; i < entries.size(); i++) {
    const Entry& e = entries[i];
    std::string ctx = cat(path, ": tensor '", e.name, "': data_offsets [", e.begin, ", ", e.end, "]");
    check(e.end <= data_size, ctx, " out of range: the data section has ", data_size, " bytes (truncated file?)");
    check(e.begin >= pos, ctx, " overlap tensor '", i ? entries[i - 1].name : "", "' (which ends at ", pos, ")");
    check(e.begin == pos, ctx, " leave a hole of ", e.begin - pos, " bytes before them");
    pos = e.end;
  }
  check(pos == data_size, path, ": ", data_size - pos, " bytes after the last tensor are not described by the header");

  const uint8_t* data = base + 8 + n;
  for (const Entry& e : entries) {
    index_[e.name] = entries_.size();
    entries_.push_back({e.name, e.dtype, e.shape, data + e.begin, e.end - e.begin});
  }
}

std::vector<float> MappedSafetensors::to_f32(const StEntry& e) const {
  std::vector<float> out(size_t(e.nbytes / uint64_t(dtype_size(e.dtype))));
  if (e.dtype == "F32") {
    std::memcpy(out.data(), e.bytes, e.nbytes);
  } else if (e.dtype == "F8_E4M3") {
    for (size_t i = 0; i < out.size(); i++) out[i] = f8e4m3_to_f32(e.bytes[i]);
  } else {
    for (size_t i = 0; i < out.size(); i++) {
      uint16_t v;
      std::memcpy(&v, e.bytes + 2 * i, 2);  // the format does not promise alignment
      out[i] = e.dtype == "F16" ? f16_to_f32(v) : bf16_to_f32(v);
    }
  }
  return out;
}

SafetensorsFile load_safetensors(const std::string& path) {
  MappedSafetensors m(path);
  SafetensorsFile out;
  out.path = path;
  out.metadata = m.metadata();
  for (const StEntry& e : m.entries()) out.tensors.push_back({e.name, e.shape, m.to_f32(e), e.dtype});
  return out;
}

}  // namespace r1
