// Tests for util/safetensors: round trips, the exact bytes of the reference layout, F16/BF16
// conversion, a fixture written by an independent encoder (data/fixtures/safetensors), and
// one test per kind of malformed file, each checking that the error names file and tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

#include "util/error.h"
#include "util/fs.h"
#include "util/safetensors.h"

using r1::StTensor;

static std::string repo_root() {
  const char* r = std::getenv("R1_ROOT");
  return r && *r ? r : ".";
}

static uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

static void expect_error_contains(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "no error; expected one containing: " << needles[0];
  } catch (const r1::Error& e) {
    for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

// Plain (non-atomic, no fsync) write: these tests write hundreds of throwaway files.
static void write_plain(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A file with the given header text and data section; `claimed_len` overrides the length field.
static std::string raw_file(const r1::TempDir& tmp, const std::string& header, const std::string& data,
                            int64_t claimed_len = -1) {
  uint64_t n = claimed_len >= 0 ? uint64_t(claimed_len) : header.size();
  std::string bytes(reinterpret_cast<const char*>(&n), 8);
  bytes += header + data;
  std::string path = tmp.file("bad.safetensors");
  write_plain(path, bytes);
  return path;
}

// --- round trip and layout --------------------------------------------------------------

TEST(UtilSafetensors, RoundTripKeepsValuesBitwise) {
  r1::TempDir tmp;
  float inf = std::numeric_limits<float>::infinity();
  std::vector<StTensor> in = {
      {"model.layers.0.w", {2, 3}, {1, -2, 3.5f, -0.0f, inf, 1e-42f}, ""},  // 1e-42: a subnormal
      {"embed", {4}, {0.1f, 0.2f, 0.3f, std::nanf("")}, ""},
      {"scale", {}, {7}, ""},
      {"none", {0, 5}, {}, ""},
  };
  std::string path = tmp.file("m.safetensors");
  r1::save_safetensors(path, in, {{"format", "pt"}, {"step", "12"}});
  r1::SafetensorsFile f = r1::load_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors[0].name, "embed");  // written in name order
  EXPECT_EQ(f.tensors[3].name, "scale");
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"step", "12"}}));
  for (const StTensor& t : in) {
    const StTensor& got = f.at(t.name);
    EXPECT_EQ(got.shape, t.shape) << t.name;
    EXPECT_EQ(got.dtype_on_disk, "F32");
    ASSERT_EQ(got.data.size(), t.data.size()) << t.name;
    for (size_t i = 0; i < t.data.size(); i++) EXPECT_EQ(bits_of(got.data[i]), bits_of(t.data[i])) << t.name << "[" << i << "]";
  }
  EXPECT_EQ(f.find("absent"), nullptr);
  expect_error_contains([&] { f.at("absent"); }, {path, "no tensor 'absent'"});
}

TEST(UtilSafetensors, WritesTheReferenceLayoutByteForByte) {
  // hf_layout.safetensors was written by make_fixtures.py following the reference writer:
  // compact JSON, __metadata__ first, names sorted, header space-padded to 8 bytes.
  r1::TempDir tmp;
  std::string path = tmp.file("out.safetensors");
  r1::save_safetensors(path, {{"b", {2, 2}, {1, 2, 3, 4}, ""}, {"a", {3}, {0.5f, -0.5f, 0.25f}, ""}}, {{"format", "pt"}});
  std::string expected = r1::read_file(repo_root() + "/data/fixtures/safetensors/hf_layout.safetensors");
  EXPECT_EQ(r1::read_file(path), expected);
  // And the header text itself, spelled out.
  std::string got = r1::read_file(path);
  uint64_t n;
  std::memcpy(&n, got.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(got.substr(8, n),
            "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[12,28]}} ");
}

TEST(UtilSafetensors, EmptyFileHasNoMetadataKey) {
  r1::TempDir tmp;
  std::string path = tmp.file("e.safetensors");
  r1::save_safetensors(path, {});
  EXPECT_EQ(r1::read_file(path), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  EXPECT_TRUE(r1::load_safetensors(path).tensors.empty());
}

// --- half precision ---------------------------------------------------------------------

TEST(UtilSafetensors, F16ConversionIsExact) {
  EXPECT_EQ(r1::f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(r1::f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(r1::f16_to_f32(0x7bff), 65504.0f);                 // largest finite
  EXPECT_EQ(r1::f16_to_f32(0x0400), std::ldexp(1.0f, -14));    // smallest normal
  EXPECT_EQ(r1::f16_to_f32(0x0001), std::ldexp(1.0f, -24));    // smallest subnormal
  EXPECT_EQ(r1::f16_to_f32(0x03ff), std::ldexp(1023.0f, -24)); // largest subnormal
  EXPECT_EQ(r1::f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(bits_of(r1::f16_to_f32(0x8000)), 0x80000000u);     // -0
  EXPECT_EQ(r1::f16_to_f32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(r1::f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(r1::f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::isnan(r1::f16_to_f32(0x7c01)));  // signalling-NaN pattern is still NaN, not inf
}

TEST(UtilSafetensors, Bf16ConversionIsExact) {
  EXPECT_EQ(r1::bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(r1::bf16_to_f32(0xc049), -3.140625f);
  EXPECT_EQ(r1::bf16_to_f32(0x0001), std::ldexp(1.0f, -133));  // smallest subnormal
  EXPECT_EQ(r1::bf16_to_f32(0xff80), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(r1::bf16_to_f32(0x7fc0)));
}

TEST(UtilSafetensors, ReadsFixtureFromIndependentEncoder) {
  // mixed.safetensors: written by python's struct module; header with spaces, keys in
  // reverse data order, no padding. The values here are the ones make_fixtures.py wrote.
  std::string path = repo_root() + "/data/fixtures/safetensors/mixed.safetensors";
  r1::SafetensorsFile f = r1::load_safetensors(path);
  EXPECT_EQ(f.metadata.at("format"), "pt");
  EXPECT_EQ(f.metadata.at("note"), "mixed dtypes");
  ASSERT_EQ(f.tensors.size(), 5u);
  EXPECT_EQ(f.tensors[0].name, "w.f32");  // data-offset order, not header order

  const StTensor& a = f.at("w.f32");
  EXPECT_EQ(a.dtype_on_disk, "F32");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.data, (std::vector<float>{1.5f, -2.25f, 0.0f, 3.0e38f, -1.0e-30f, 7.0f}));

  const StTensor& b = f.at("w.bf16");
  EXPECT_EQ(b.dtype_on_disk, "BF16");
  EXPECT_EQ(b.data, (std::vector<float>{1.0f, -3.140625f, 256.0f, std::ldexp(1.0f, -126)}));

  const StTensor& h = f.at("w.f16");
  EXPECT_EQ(h.dtype_on_disk, "F16");
  EXPECT_EQ(h.shape, (std::vector<int64_t>{2, 5}));
  float inf = std::numeric_limits<float>::infinity();
  std::vector<float> want = {1.0f, -2.0f, 65504.0f, std::ldexp(1.0f, -14), std::ldexp(1.0f, -24), -0.0f, inf, -inf};
  for (size_t i = 0; i < want.size(); i++) EXPECT_EQ(bits_of(h.data[i]), bits_of(want[i])) << i;
  EXPECT_TRUE(std::isnan(h.data[8]));
  EXPECT_EQ(h.data[9], 0.333251953125f);

  EXPECT_EQ(f.at("scalar").shape, std::vector<int64_t>{});
  EXPECT_EQ(f.at("scalar").data, std::vector<float>{42.0f});
  EXPECT_EQ(f.at("empty").shape, (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(f.at("empty").data.empty());
}

// --- malformed files --------------------------------------------------------------------

static const std::string kF32x4 = R"("dtype":"F32","shape":[2,2])";

TEST(UtilSafetensors, RejectsTruncatedAndOversizedHeaders) {
  r1::TempDir tmp;
  std::string p = tmp.file("short");
  r1::write_file_atomic(p, std::string("\x10\0\0", 3));
  expect_error_contains([&] { r1::load_safetensors(p); }, {p, "truncated file (3 bytes)"});
  expect_error_contains([&] { r1::load_safetensors(tmp.file("nope")); }, {tmp.file("nope"), "cannot open"});

  std::string hdr = "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,16]}}";
  std::string path = raw_file(tmp, hdr, std::string(16, '\0'), 10000);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "header length 10000 is larger than the file"});
  path = raw_file(tmp, hdr, std::string(16, '\0'), int64_t(1) << 40);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "exceeds the 100000000-byte limit"});
  path = raw_file(tmp, hdr, std::string(10, '\0'));  // data cut short
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "out of range", "truncated file?"});
}

TEST(UtilSafetensors, RejectsInvalidHeaderJson) {
  r1::TempDir tmp;
  std::string path = raw_file(tmp, "{\"a\": {", "");
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "invalid JSON"});
  path = raw_file(tmp, "[1, 2]", "");
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "header is not a JSON object"});
  path = raw_file(tmp, "{\"a\": 3}", "");
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "expected an object"});
  path = raw_file(tmp, "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", std::string(4, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "'dtype'"});
  path = raw_file(tmp, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", std::string(4, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "'data_offsets' must be [begin, end]"});
  path = raw_file(tmp, "{\"__metadata__\":{\"k\":1}}", "");
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "__metadata__['k'] must be a string"});
}

TEST(UtilSafetensors, RejectsBadOffsets) {
  r1::TempDir tmp;
  std::string d32(32, '\0');
  // overlapping: b starts inside a
  std::string path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,16]},\"b\":{" + kF32x4 + ",\"data_offsets\":[8,24]}}", std::string(24, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'b'", "overlap tensor 'a'"});
  // hole between a and b
  path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,16]},\"b\":{" + kF32x4 + ",\"data_offsets\":[20,36]}}", std::string(36, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'b'", "hole of 4 bytes"});
  // data not covered at the end
  path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,16]}}", d32);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "16 bytes after the last tensor"});
  // end before begin
  path = raw_file(tmp, "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", d32);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "end before they begin"});
  // size not matching shape * dtype
  path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,12]}}", std::string(12, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "hold 12 bytes but shape [2, 2] of F32 needs 16"});
  // shape whose element count overflows 64 bits
  path = raw_file(tmp, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,16]}}", std::string(16, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "needs more"});
  // negative or fractional offsets
  path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[-16,0]}}", "");
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "data_offsets[0] must not be negative"});
  path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,1.5]}}", "");
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "must be an integer"});
}

TEST(UtilSafetensors, RejectsBadDtypeShapeAndNames) {
  r1::TempDir tmp;
  std::string d16(16, '\0');
  std::string path = raw_file(tmp, "{\"a\":{\"dtype\":\"F17\",\"shape\":[4],\"data_offsets\":[0,16]}}", d16);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "unknown dtype 'F17'"});
  path = raw_file(tmp, "{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", d16);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "dtype I64 is not supported"});
  path = raw_file(tmp, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2,-2],\"data_offsets\":[0,16]}}", d16);
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "tensor 'a'", "dimension 0 must not be negative"});
  path = raw_file(tmp, "{\"a\":{" + kF32x4 + ",\"data_offsets\":[0,16]},\"a\":{" + kF32x4 + ",\"data_offsets\":[16,32]}}", std::string(32, '\0'));
  expect_error_contains([&] { r1::load_safetensors(path); }, {path, "duplicate tensor name 'a'"});
}

TEST(UtilSafetensors, RejectsHeaderThatIsNotUtf8) {
  r1::TempDir tmp;
  std::string d4(4, '\0');
  // "\xc3\xa9" (e-acute) is fine; a lone continuation byte and an overlong '/' are not.
  std::string ok = raw_file(tmp, "{\"caf\xc3\xa9\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", d4);
  EXPECT_NO_THROW(r1::load_safetensors(ok).at("caf\xc3\xa9"));
  for (const char* bad : {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    std::string path = raw_file(tmp, std::string("{\"") + bad + "\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", d4);
    expect_error_contains([&] { r1::load_safetensors(path); }, {path, "header is not valid UTF-8"});
  }
}

// Every truncation and many random byte corruptions of a good file must give either a file
// or an r1::Error, never a crash or another exception type.
TEST(UtilSafetensors, CorruptedFilesFailCleanly) {
  r1::TempDir tmp;
  std::string good_path = tmp.file("good.safetensors");
  r1::save_safetensors(good_path, {{"a", {2, 3}, {1, 2, 3, 4, 5, 6}, ""}, {"b", {}, {7}, ""}}, {{"k", "v"}});
  const std::string good = r1::read_file(good_path);
  std::string path = tmp.file("c.safetensors");
  int errors = 0;
  auto try_load = [&](const std::string& bytes) {
    write_plain(path, bytes);
    try {
      r1::load_safetensors(path);
    } catch (const r1::Error&) {
      errors++;
    }
  };
  for (size_t len = 0; len < good.size(); len++) try_load(good.substr(0, len));
  EXPECT_EQ(errors, int(good.size()));  // every strict prefix is invalid
  uint64_t state = 12345;                // small LCG: deterministic corruptions
  for (int iter = 0; iter < 300; iter++) {
    std::string bytes = good;
    for (int k = 0; k < 3; k++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      bytes[(state >> 33) % bytes.size()] = char(state >> 20);
    }
    try_load(bytes);
  }
}

TEST(UtilSafetensors, SaveRejectsInconsistentTensors) {
  r1::TempDir tmp;
  std::string path = tmp.file("s.safetensors");
  expect_error_contains([&] { r1::save_safetensors(path, {{"a", {2, 2}, {1, 2, 3}, ""}}); },
                        {path, "tensor 'a' has 3 values but shape [2, 2] needs 4"});
  expect_error_contains([&] { r1::save_safetensors(path, {{"a", {1}, {1}, ""}, {"a", {1}, {2}, ""}}); },
                        {path, "duplicate tensor name 'a'"});
  expect_error_contains([&] { r1::save_safetensors(path, {{"__metadata__", {1}, {1}, ""}}); }, {"reserved"});
  expect_error_contains([&] { r1::save_safetensors(path, {{"a", {-1}, {}, ""}}); }, {"tensor 'a'", "negative dimension"});
  EXPECT_THROW(r1::read_file(path), r1::Error);  // nothing was written
}
