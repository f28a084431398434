// safetensors reader and writer. See safetensors.h for the layout and what is validated.
// The validation mirrors the reference implementation: header at most 100 MB, tensors back to
// back from offset 0 covering the data section exactly, each exactly numel * dtype-size bytes.
#include "util/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
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
  static const std::set<std::string> known = {"BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64",
                                              "F64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
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

float bf16_to_f32(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;  // bf16 is the top half of a float32
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// --- lookup ------------------------------------------------------------------------------

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
                      const std::map<std::string, std::string>& metadata) {
  // Sort by name (the reference writer sorts by dtype alignment, then name; all are F32).
  std::vector<const StTensor*> order;
  for (const StTensor& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const StTensor* a, const StTensor* b) { return a->name < b->name; });

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
    const StTensor& t = *order[i];
    check(!t.name.empty(), path, ": cannot save a tensor with an empty name");
    check(t.name != "__metadata__", path, ": '__metadata__' is reserved and cannot name a tensor");
    check(i == 0 || order[i - 1]->name != t.name, path, ": duplicate tensor name '", t.name, "'");
    for (int64_t d : t.shape) check(d >= 0, path, ": tensor '", t.name, "': negative dimension in shape ", dims_str(t.shape));
    check(int64_t(t.data.size()) == st_numel(t.shape), path, ": tensor '", t.name, "' has ", t.data.size(),
          " values but shape ", dims_str(t.shape), " needs ", st_numel(t.shape));
    uint64_t bytes = uint64_t(t.data.size()) * 4;
    if (header.size() > 1) header += ",";
    json_escape(t.name, header);
    header += ":{\"dtype\":\"F32\",\"shape\":[";
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
    for (const StTensor* t : order) write(t->data.data(), t->data.size() * 4);
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
  check(size != 0, ctx, ": dtype ", e.dtype, " is not supported (r1 reads F32, BF16, F16)");

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

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(cat(path, ": cannot open file"));
  f.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(f.tellg());
  f.seekg(0);

  // Header length and header.
  check(file_size >= 8, path, ": truncated file (", file_size, " bytes): a safetensors file starts with an 8-byte header length");
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);
  check(n <= kMaxHeaderBytes, path, ": header length ", n, " exceeds the ", kMaxHeaderBytes, "-byte limit (not a safetensors file?)");
  check(n <= file_size - 8, path, ": header length ", n, " is larger than the file (", file_size, " bytes): truncated file?");
  std::string header(n, '\0');
  f.read(&header[0], std::streamsize(n));
  check(bool(f), path, ": read error in header");
  check(valid_utf8(header), path, ": header is not valid UTF-8");
  Json h = Json::parse(header, cat(path, " (safetensors header)"));
  check(h.is_object(), path, ": header is not a JSON object");

  // Entries and metadata.
  SafetensorsFile out;
  out.path = path;
  std::vector<Entry> entries;
  std::set<std::string> seen;
  for (const auto& kv : h.as_object()) {
    const std::string& key = kv.first;
    check(seen.insert(key).second, path, ": duplicate ", key == "__metadata__" ? "'__metadata__'" : "tensor name '" + key + "'", " in header");
    if (key == "__metadata__") {
      check(kv.second.is_object(), path, ": '__metadata__' must be an object of strings");
      for (const auto& m : kv.second.as_object()) {
        check(m.second.is_string(), path, ": __metadata__['", m.first, "'] must be a string, got ", m.second.dump());
        out.metadata[m.first] = m.second.as_string();
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

  // Data, converted to float32.
  const uint64_t data_start = 8 + n;
  for (const Entry& e : entries) {
    StTensor t;
    t.name = e.name;
    t.shape = e.shape;
    t.dtype_on_disk = e.dtype;
    const uint64_t bytes = e.end - e.begin;
    f.seekg(std::streamoff(data_start + e.begin));
    if (e.dtype == "F32") {
      t.data.resize(bytes / 4);
      f.read(reinterpret_cast<char*>(t.data.data()), std::streamsize(bytes));
    } else {
      std::vector<uint16_t> raw(bytes / 2);
      f.read(reinterpret_cast<char*>(raw.data()), std::streamsize(bytes));
      t.data.resize(raw.size());
      for (size_t i = 0; i < raw.size(); i++) t.data[i] = e.dtype == "F16" ? f16_to_f32(raw[i]) : bf16_to_f32(raw[i]);
    }
    check(bool(f), path, ": tensor '", e.name, "': read error");
    out.tensors.push_back(std::move(t));
  }
  return out;
}

}  // namespace r1
