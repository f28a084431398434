// Released-model storage: sharded checkpoints, BF16 and FP8-block weights, BF16 weights kept in
// memory for inference, and the BF16-weight kernel. The fixtures and reference logits come from
// data/fixtures/checkpoints/make_checkpoints.py (numpy/torch encoders and a float64 PyTorch
// model; nothing shared with r1).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "cli_util.h"
#include "test_util.h"
#include "autograd/autograd.h"
#include "cpu/bf16.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/rng.h"

namespace r1 {
namespace {

using r1::testing::expect_close;

std::string ckpt_fixture(const std::string& name) {
  const char* r = std::getenv("R1_ROOT");
  return std::string(r && *r ? r : ".") + "/data/fixtures/checkpoints/" + name;
}

void expect_error_contains(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    FAIL() << "no error; expected one containing: " << needles[0];
  } catch (const Error& e) {
    for (const std::string& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}

// The fixture's tokens and the float64 reference logits of them.
struct Reference {
  Ids ids;
  std::vector<float> logits;  // (T, V)
};
Reference reference(const std::string& dir) {
  SafetensorsFile f = load_safetensors(dir + "/reference.safetensors");
  Reference r;
  for (float t : f.at("tokens").data) r.ids.push_back(int32_t(t));
  r.logits = f.at("logits").data;
  return r;
}

std::vector<float> logits_of(Transformer& m, const Ids& ids) {
  NoGradGuard guard;  // inference: the BF16 kernels run only without autograd
  return m.forward(ids, 1, int64_t(ids.size())).logits.to_vector();
}

// Both fixtures' matrices are stored in 16 or 8 bits, so Inference keeps every one of them in BF16
// and every vector (norms, biases) in float32.
void expect_bf16_matrices(Transformer& m) {
  for (const TensorSlot& s : m.slots())
    EXPECT_EQ(s.tensor->bf16_data() != nullptr, s.tensor->dim() == 2) << s.name;
}

// Float32 weights exactly equal to the reference's (BF16 values widened, or FP8 * scale which
// needs at most 4 + 24 significant bits, rounded once): the same bound as ModelReference's logits
// (float32 rounding over ~3 layers of O(1) activations, ~1e-6 relative; 10x margin).
const double kLogitAtol = 2e-5, kLogitRtol = 1e-4;
// The deepseek_v3 fixture is wider (hidden 144, fan-in up to 160) with larger activations: its
// head's dot products sum |h w| ~ 40 over 144 terms, so float32 rounding alone moves a logit by
// ~3e-5 (sqrt(144) * 40 * 6e-8) depending on the summation order (dot kernel, blocked GEMM).
// 1e-4 absolute covers that; a wrong block scale moves logits by O(0.1).
const double kWideAtol = 1e-4;

TEST(CheckpointLayouts, ShardedBf16MatchesTheFloat64Reference) {
  const std::string dir = ckpt_fixture("qwen2_bf16_sharded");
  Reference ref = reference(dir);
  // The stored BF16 values are the reference's weights in both memory layouts: the only
  // difference is float32 accumulation (BF16 kernel or float32 GEMM), so one bound for both.
  for (WeightMemory mem : {WeightMemory::F32, WeightMemory::Inference}) {
    Transformer m = load_model(dir, mem);
    if (mem == WeightMemory::Inference) expect_bf16_matrices(m);
    expect_close(logits_of(m, ref.ids), ref.logits, kLogitAtol, kLogitRtol, mem == WeightMemory::F32 ? "f32" : "bf16");
  }
}

TEST(CheckpointLayouts, Fp8BlocksMatchTheFloat64ReferenceOnDequantizedWeights) {
  const std::string dir = ckpt_fixture("deepseek_v3_fp8");
  Reference ref = reference(dir);
  Transformer f32 = load_model(dir, WeightMemory::F32);
  expect_close(logits_of(f32, ref.ids), ref.logits, kWideAtol, kLogitRtol, "fp8 -> f32");

  // Inference holds fp8 * scale rounded to BF16 (2^-9 relative per weight). Against the float64
  // model on the unrounded weights that is not a small, stateable difference (it can flip a
  // near-tied MoE routing decision), so the reference also has the logits of the float64 model on
  // the BF16-rounded weights, which r1 must then match to float32 accumulation error.
  SafetensorsFile f = load_safetensors(dir + "/reference.safetensors");
  Transformer bf16 = load_model(dir, WeightMemory::Inference);
  expect_bf16_matrices(bf16);
  expect_close(logits_of(bf16, ref.ids), f.at("logits_bf16").data, kWideAtol, kLogitRtol, "fp8 -> bf16");
}

TEST(CheckpointLayouts, MalformedFixturesNameTheFileAndTensor) {
  const std::string missing = ckpt_fixture("bad_missing_shard");
  expect_error_contains([&] { load_model(missing); },
                        {missing + "/model.safetensors.index.json", missing + "/model-00003-of-00003.safetensors",
                         "missing shard", "'lm_head.weight'"});
  const std::string dtype = ckpt_fixture("bad_wrong_dtype");
  expect_error_contains([&] { load_model(dtype); },
                        {dtype + "/model-00003-of-00003.safetensors", "tensor 'model.norm.weight'", "dtype F64"});
  const std::string scale = ckpt_fixture("bad_scale_shape");
  expect_error_contains([&] { load_model(scale, WeightMemory::Inference); },
                        {scale + "/model-00001-of-00001.safetensors",
                         "block scale 'model.layers.0.mlp.up_proj.weight_scale_inv' has shape (1, 1)",
                         "in 16x16 blocks needs (3, 2)"});
}

// A copy of a fixture folder whose index or config a test then edits.
std::string copy_fixture(const TempDir& tmp, const std::string& name) {
  std::filesystem::copy(ckpt_fixture(name), tmp.file(name));
  return tmp.file(name);
}

TEST(CheckpointLayouts, IndexAndShardsMustAgreeBothWays) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "qwen2_bf16_sharded");
  const std::string index = dir + "/model.safetensors.index.json";
  Json j = Json::parse_file(index);
  Json::Object map;
  for (const auto& kv : j.at("weight_map").as_object()) {
    if (kv.first == "model.norm.weight") continue;  // in shard 3, no longer listed
    if (kv.first == "model.layers.0.mlp.up_proj.weight") map.push_back({kv.first, Json("model-00002-of-00003.safetensors")});
    else map.push_back(kv);
  }
  map.push_back({"model.layers.9.mlp.up_proj.weight", Json("model-00001-of-00003.safetensors")});  // absent
  j["weight_map"] = Json(map);
  write_file_atomic(index, j.dump(2));
  expect_error_contains(
      [&] { load_model(dir); },
      {"4 problems",
       dir + "/model-00001-of-00003.safetensors: tensor 'model.layers.9.mlp.up_proj.weight' is listed in the index but absent",
       dir + "/model-00003-of-00003.safetensors: tensor 'model.norm.weight' is in the shard but not in the index",
       "tensor 'model.layers.0.mlp.up_proj.weight' is in the shard but the index puts it in model-00002-of-00003",
       dir + "/model-00002-of-00003.safetensors: tensor 'model.layers.0.mlp.up_proj.weight' is listed in the index but absent"});
}

// A shard that is a FIFO is rejected at once (opening one for reading would wait for a writer).
TEST(CheckpointLayouts, AFifoShardIsAnErrorNotAHang) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "qwen2_bf16_sharded");
  const std::string shard = dir + "/model-00002-of-00003.safetensors";
  std::filesystem::remove(shard);
  ASSERT_EQ(mkfifo(shard.c_str(), 0600), 0);
  expect_error_contains([&] { load_model(dir); }, {shard + ": not a regular file"});
}

TEST(CheckpointLayouts, Fp8NeedsTheConfigBlockSizeAndEveryScale) {
  TempDir tmp;
  const std::string dir = copy_fixture(tmp, "deepseek_v3_fp8");
  Json c = Json::parse_file(dir + "/config.json");
  Json::Object rest;
  for (const auto& kv : c.as_object())
    if (kv.first != "quantization_config") rest.push_back(kv);
  write_file_atomic(dir + "/config.json", Json(rest).dump(2));
  expect_error_contains([&] { load_model(dir); },
                        {"tensor 'model.layers.0.mlp.down_proj.weight' is F8_E4M3 but config.json has no "
                         "quantization_config.weight_block_size",
                         dir + "/model-00001-of-00002.safetensors"});
  c["quantization_config"]["quant_method"] = Json("awq");
  write_file_atomic(dir + "/config.json", c.dump(2));
  expect_error_contains([&] { load_model(dir); }, {dir + "/config.json", "quant_method 'awq' is not supported"});
}

// --- r1 inspect / r1 convert ------------------------------------------------------------------

TEST(CheckpointCli, InspectCountsParametersDtypesShardsAndMemory) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "no r1 binary beside the tests (make test builds it)";
  TempDir tmp;
  const std::string dir = ckpt_fixture("deepseek_v3_fp8");
  r1::testing::CliRun r = r1::testing::run_r1("inspect " + dir + " --json", tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  Json j = Json::parse(r.out, "inspect --json");
  // Expected numbers straight from the shards' headers (the fixture script's layout).
  int64_t params = 0, matrix = 0, fp8 = 0, scales = 0;
  for (const char* shard : {"/model-00001-of-00002.safetensors", "/model-00002-of-00002.safetensors"}) {
    MappedSafetensors file(dir + shard);
    for (const StEntry& e : file.entries()) {
      bool scale = e.name.size() > 10 && e.name.compare(e.name.size() - 10, 10, "_scale_inv") == 0;
      if (scale) {
        scales++;
        continue;
      }
      params += st_numel(e.shape);
      if (e.shape.size() == 2) matrix += st_numel(e.shape);
      fp8 += e.dtype == "F8_E4M3";
    }
  }
  EXPECT_EQ(j.at("parameters").as_int(), params);
  EXPECT_EQ(j.at("matrix_parameters").as_int(), matrix);
  EXPECT_EQ(j.at("dtypes").at("F8_E4M3").at("tensors").as_int(), fp8);
  EXPECT_EQ(scales, fp8);  // one block scale per FP8 matrix
  EXPECT_EQ(j.at("inference_bf16_bytes").as_int(), 2 * matrix + 4 * (params - matrix));
  EXPECT_EQ(j.at("training_bytes").as_int(), 16 * params);
  EXPECT_TRUE(j.at("sharded").as_bool());
  EXPECT_EQ(j.at("files").size(), 2u);
  EXPECT_EQ(j.at("fp8_block")[0].as_int(), 128);

  r = r1::testing::run_r1("inspect " + ckpt_fixture("bad_missing_shard"), tmp);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("model-00003-of-00003.safetensors: missing shard"), std::string::npos) << r.err;
}

// `r1 forward` loads like `r1 sample` (WeightMemory::Inference): on the sharded BF16 folder it
// writes the reference logits (same bound as the in-process test).
TEST(CheckpointCli, ForwardOnAShardedBf16FolderWritesTheReferenceLogits) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "no r1 binary beside the tests (make test builds it)";
  TempDir tmp;
  const std::string dir = ckpt_fixture("qwen2_bf16_sharded");
  Reference ref = reference(dir);
  std::string toks;
  for (int32_t t : ref.ids) toks += (toks.empty() ? "" : ",") + std::to_string(t);
  r1::testing::CliRun r =
      r1::testing::run_r1("forward --model " + dir + " --tokens " + toks + " --out " + tmp.file("l.safetensors"), tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  expect_close(load_safetensors(tmp.file("l.safetensors")).at("logits").data, ref.logits, kLogitAtol, kLogitRtol,
               "r1 forward");
}

TEST(CheckpointCli, ConvertDequantizesFp8AndRoundTripsBf16ThroughF32) {
  if (r1::testing::r1_bin().empty()) GTEST_SKIP() << "no r1 binary beside the tests (make test builds it)";
  TempDir tmp;
  // FP8 -> BF16: the same BF16 weights the loader holds for inference, so the reference's
  // logits_bf16 within float32 accumulation error.
  const std::string fp8 = ckpt_fixture("deepseek_v3_fp8");
  r1::testing::CliRun r = r1::testing::run_r1("convert --model " + fp8 + " --dtype bf16 --out " + tmp.file("v3"), tmp);
  ASSERT_EQ(r.code, 0) << r.err;
  Transformer m = load_model(tmp.file("v3"), WeightMemory::Inference);
  Reference ref = reference(fp8);
  expect_close(logits_of(m, ref.ids), load_safetensors(fp8 + "/reference.safetensors").at("logits_bf16").data,
               kWideAtol, kLogitRtol, "converted fp8");

  // Sharded BF16 -> F32 -> BF16 gives back every stored value bitwise.
  const std::string q = ckpt_fixture("qwen2_bf16_sharded");
  ASSERT_EQ(r1::testing::run_r1("convert --model " + q + " --dtype f32 --out " + tmp.file("f32"), tmp).code, 0);
  ASSERT_EQ(r1::testing::run_r1("convert --model " + tmp.file("f32") + " --dtype bf16 --out " + tmp.file("b16"), tmp).code, 0);
  Checkpoint orig = open_checkpoint(q), f32 = open_checkpoint(tmp.file("f32")), back = open_checkpoint(tmp.file("b16"));
  ASSERT_EQ(back.tensors.size(), orig.tensors.size());
  for (const auto& kv : orig.tensors) {
    const StEntry& a = *kv.second.entry;
    const StEntry& b = *back.tensors.at(kv.first).entry;
    EXPECT_EQ(f32.tensors.at(kv.first).entry->dtype, "F32");
    EXPECT_EQ(b.dtype, "BF16");
    ASSERT_EQ(a.nbytes, b.nbytes) << kv.first;
    EXPECT_EQ(std::memcmp(a.bytes, b.bytes, a.nbytes), 0) << kv.first;
  }

  r = r1::testing::run_r1("convert --model " + q + " --dtype f16 --out " + tmp.file("x"), tmp);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--dtype: expected bf16 or f32"), std::string::npos) << r.err;
  r = r1::testing::run_r1("convert --model " + ckpt_fixture("bad_scale_shape") + " --dtype bf16 --out " + tmp.file("x"), tmp);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("model.layers.0.mlp.up_proj.weight_scale_inv"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.file("x")));
}

// --- the BF16-weight kernel -------------------------------------------------------------------

// y = x W^T with W in BF16, every kernel compiled in, against a float64 sum of the same products.
// Bound: float32 summation of K products (each exact in float64, rounded once in float32) errs by
// at most ~K u sum|w x| (u = 2^-24); 2 K u sum|w x| cannot fail for a correct kernel, while a
// wrong index or a dropped tail moves y by O(|w x|).
TEST(Bf16Kernel, MatchesAFloat64ReferenceForEveryKernelAndShape) {
  Rng rng(7);
  const int64_t shapes[][3] = {{1, 5, 1},   {1, 33, 16}, {1, 64, 17}, {2, 7, 100}, {3, 9, 31},   {4, 40, 64},
                               {5, 3, 129}, {16, 70, 48}, {17, 5, 15}, {32, 9, 200}, {33, 300, 40}, {70, 260, 33},
                               // past the kernels' thresholds for splitting over threads (dot path N*K >=
                               // 32768, blocked path M*N*K >= 2^22), run with 2 threads below
                               {3, 300, 128}, {40, 320, 384}};
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(2);
  for (const auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    std::vector<float> x(size_t(M * K));
    std::vector<uint16_t> w(size_t(N * K));
    for (float& v : x) v = float(rng.normal());
    for (uint16_t& v : w) v = f32_to_bf16(float(rng.normal()));
    std::vector<double> want(size_t(M * N)), bound(size_t(M * N));
    for (int64_t m = 0; m < M; m++)
      for (int64_t n = 0; n < N; n++) {
        double acc = 0, mag = 0;
        for (int64_t k = 0; k < K; k++) {
          double p = double(bf16_to_f32(w[size_t(n * K + k)])) * double(x[size_t(m * K + k)]);
          acc += p;
          mag += std::fabs(p);
        }
        want[size_t(m * N + n)] = acc;
        bound[size_t(m * N + n)] = 2.0 * double(K) * std::ldexp(1.0, -24) * mag;
      }
    auto check = [&](const std::vector<float>& y, const std::string& what) {
      for (size_t i = 0; i < y.size(); i++)
        ASSERT_LE(std::fabs(double(y[i]) - want[i]), bound[i]) << what << " M=" << M << " N=" << N << " K=" << K << " at " << i;
    };
    std::vector<float> y(size_t(M * N), NAN);
    cpu::gemm_bf16(M, N, K, x.data(), K, w.data(), K, y.data(), N);
    check(y, "gemm_bf16");
    for (cpu::Bf16Kernel k : {cpu::Bf16Kernel::Portable, cpu::Bf16Kernel::Avx512}) {
      if (!cpu::bf16_kernel_compiled(k)) continue;
      std::fill(y.begin(), y.end(), NAN);
      cpu::gemm_bf16_with(k, M, N, K, x.data(), K, w.data(), K, y.data(), N);
      check(y, cpu::bf16_kernel_name(k));
    }
  }
  omp_set_num_threads(saved_threads);
}

// linear() and embedding() on a BF16 weight (Tensor::from_bf16) under no-grad equal the float32
// ops on the widened weight (same products; the bound is the kernel test's), leave the weight in
// BF16, and with autograd on widen it once and give the float32 result and gradients.
TEST(Bf16Kernel, LinearAndEmbeddingOnBf16WeightsMatchFloat32) {
  Rng rng(3);
  const int64_t N = 24, K = 40;
  auto w16 = std::make_shared<std::vector<uint16_t>>(size_t(N * K));
  std::vector<float> wf(size_t(N * K));
  for (size_t i = 0; i < wf.size(); i++) wf[i] = bf16_to_f32((*w16)[i] = f32_to_bf16(float(rng.normal())));
  Tensor x = Tensor::randn({2, 3, K}, rng);
  Tensor ref = linear(x, Tensor::from_vector({N, K}, wf));
  Tensor w = Tensor::from_bf16({N, K}, w16->data(), w16);
  {
    NoGradGuard guard;
    expect_close(linear(x, w).to_vector(), ref.to_vector(), 1e-5, 1e-5, "bf16 linear");
    Ids ids = {3, 0, 23, 3};
    Tensor e = embedding(w, ids, {2, 2});
    ASSERT_EQ(e.shape(), (Shape{2, 2, K}));
    std::vector<float> ev = e.to_vector();
    for (size_t i = 0; i < ids.size(); i++)
      for (int64_t k = 0; k < K; k++) EXPECT_EQ(ev[i * K + size_t(k)], wf[size_t(ids[i] * K + k)]);
    EXPECT_NE(w.bf16_data(), nullptr);  // still BF16: nothing widened it
  }
  w.set_requires_grad(true);
  Tensor y = linear(x, w);
  EXPECT_EQ(w.bf16_data(), nullptr);  // autograd needs float32 weights: widened in place
  EXPECT_EQ(w.to_vector(), wf);
  expect_close(y.to_vector(), ref.to_vector(), 1e-5, 1e-5, "widened linear");
}

// A model built only to receive a checkpoint takes no parameter memory until it is used.
TEST(Bf16Kernel, ParametersTakeMemoryOnFirstUse) {
  Tensor p = Tensor::lazy_zeros({1000, 1000});
  EXPECT_EQ(p.impl().storage->data, nullptr);
  EXPECT_EQ(p.at({999, 999}), 0.0f);
  EXPECT_NE(p.impl().storage->data, nullptr);
}

// --- dtypes ---------------------------------------------------------------------------------

TEST(SafetensorsDtypes, F8E4M3DecodesTheOcpFormat) {
  // Values from the OCP FP8 spec's E4M3 table: bias 7, subnormals m/8 * 2^-6, max 448, no inf.
  EXPECT_EQ(f8e4m3_to_f32(0x00), 0.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x01), std::ldexp(1.0f, -9));   // smallest subnormal
  EXPECT_EQ(f8e4m3_to_f32(0x07), 7 * std::ldexp(1.0f, -9));
  EXPECT_EQ(f8e4m3_to_f32(0x08), std::ldexp(1.0f, -6));   // smallest normal
  EXPECT_EQ(f8e4m3_to_f32(0x38), 1.0f);
  EXPECT_EQ(f8e4m3_to_f32(0x39), 1.125f);
  EXPECT_EQ(f8e4m3_to_f32(0x7e), 448.0f);
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0x7f)));
  EXPECT_EQ(f8e4m3_to_f32(0xb8), -1.0f);
  EXPECT_TRUE(std::signbit(f8e4m3_to_f32(0x80)));
  EXPECT_TRUE(std::isnan(f8e4m3_to_f32(0xff)));
}

TEST(SafetensorsDtypes, Bf16WriterRoundsToNearestEvenAndReadsBackInPlace) {
  TempDir tmp;
  const float u = std::ldexp(1.0f, -8);  // half a BF16 ulp at 1
  std::vector<float> in = {1.0f + u, 1.0f + 3 * u, 1.0f + 1.5f * u, -2.5f, 1e-30f, 3.0e38f};
  std::vector<float> want = {1.0f, 1.0f + 4 * u, 1.0f + 2 * u, -2.5f, bf16_to_f32(f32_to_bf16(1e-30f)),
                             bf16_to_f32(f32_to_bf16(3.0e38f))};
  save_safetensors(tmp.file("a.safetensors"), {{"w", {2, 3}, in, ""}}, {}, "BF16");
  MappedSafetensors m(tmp.file("a.safetensors"));
  ASSERT_EQ(m.entries().size(), 1u);
  EXPECT_EQ(m.entries()[0].dtype, "BF16");
  EXPECT_EQ(m.to_f32(m.entries()[0]), want);
  EXPECT_EQ(load_safetensors(tmp.file("a.safetensors")).at("w").data, want);
  expect_error_contains([&] { save_safetensors(tmp.file("b.safetensors"), {{"w", {1}, {1.0f}, ""}}, {}, "F16"); },
                        {"b.safetensors", "r1 writes F32 or BF16"});
}

}  // namespace
}  // namespace r1
