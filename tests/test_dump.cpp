// Forward dumps and `r1 diff` (model/dump.h, cli/cmd_forward.cpp --dump, cli/cmd_diff.cpp):
// r1's dump against an independent float64 PyTorch dump of the same model
// (data/fixtures/dump/make_dump.py), and the comparison's own behaviour: pass, the first failing
// tensor, forward order, only-in lists, dtypes, shapes, malformed files, exit codes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "cli_util.h"
#include "model/checkpoint.h"
#include "model/dump.h"
#include "test_util.h"
#include "util/error.h"
#include "util/safetensors.h"

namespace r1 {
namespace {

using testing::CliRun;
using testing::run_r1;

const char* kNoBin = "R1_BIN not set (make test sets it to build/r1)";

std::string dump_fixture(const std::string& name) {
  const char* r = std::getenv("R1_ROOT");
  return std::string(r && *r ? r : ".") + "/data/fixtures/dump/" + name;
}

// r1's dump of the fixture model on the torch dump's tokens, with the attention probabilities.
CliRun r1_dump(const std::string& model, const std::string& out, const TempDir& tmp) {
  SafetensorsFile torch = load_safetensors(dump_fixture(model + "/torch_dump.safetensors"));
  return run_r1("forward --model " + dump_fixture(model) + " --tokens " + torch.metadata.at("tokens") + " --out " +
                    tmp.file("logits.safetensors") + " --dump " + out + " --dump-attention",
                tmp);
}

// --- r1 vs PyTorch ------------------------------------------------------------------------------

// Tolerance 1e-5 absolute, no relative part: r1 runs in float32 (unit roundoff 6e-8), the
// reference in float64; every tensor here is O(1) (norm outputs ~1, weights of std 0.02 / 0.25 on
// widths <= 64) and each value passes through at most ~2 layers of length-<=64 dot products, so
// float32 rounding accumulates to ~1e-6 (measured worst: 1.2e-6 on the MLA+MoE logits). A real
// mistake (RoPE pairing, a missing bias, a norm eps, a wrong expert) moves values by >= 1e-3.
void expect_matches_torch(const std::string& model) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir tmp;
  const std::string mine = tmp.file("r1_dump.safetensors"), torch = dump_fixture(model + "/torch_dump.safetensors");
  CliRun f = r1_dump(model, mine, tmp);
  ASSERT_EQ(f.code, 0) << f.err;
  CliRun d = run_r1("diff " + mine + " " + torch + " --rtol 0 --atol 1e-5 --json", tmp);
  ASSERT_EQ(d.code, 0) << d.out << d.err;
  Json j = Json::parse(d.out);
  EXPECT_TRUE(j["pass"].as_bool());
  EXPECT_EQ(j["only_in_a"].size(), 0u) << d.out;
  EXPECT_EQ(j["only_in_b"].size(), 0u) << d.out;
  // Same names in the same forward order as the independent hooks recorded them.
  SafetensorsFile a = load_safetensors(mine), b = load_safetensors(torch);
  EXPECT_EQ(dump_order(a), dump_order(b));
  EXPECT_EQ(j["tensors"].size(), b.tensors.size());
  // The dump's logits are the logits --out writes.
  EXPECT_EQ(a.at("lm_head:out").data, load_safetensors(tmp.file("logits.safetensors")).at("logits").data);
}

TEST(DumpVsTorch, DenseQwen2PresetModel) { expect_matches_torch("dense_qwen2"); }
TEST(DumpVsTorch, MlaMoeModel) { expect_matches_torch("mla_moe"); }

// --- the dump inside the model ------------------------------------------------------------------

TEST(ForwardDump, RecordsOnlyWhileActiveAndChangesNothing) {
  testing::OneThread one;
  Transformer model = load_model(dump_fixture("mla_moe"));
  const Ids ids = {3, 1, 4, 1, 5, 9};
  ForwardDump dump;
  std::vector<float> plain = model.forward(ids, 1, 6).logits.to_vector();
  EXPECT_TRUE(dump.tensors().empty());
  std::vector<float> dumped;
  {
    DumpScope scope(dump);
    dumped = model.forward(ids, 1, 6).logits.to_vector();
  }
  EXPECT_EQ(active_dump(), nullptr);
  EXPECT_EQ(plain, dumped);  // bit for bit: the dump only copies
  ASSERT_FALSE(dump.tensors().empty());
  EXPECT_EQ(dump.tensors().front().name, "model.embed_tokens:out");
  EXPECT_EQ(dump.tensors().back().name, "lm_head:out");
  EXPECT_EQ(dump.tensors().back().data, dumped);
  for (const StTensor& t : dump.tensors()) EXPECT_NE(t.name, "model.layers.0.self_attn:probs");  // off by default
  const size_t n = dump.tensors().size();
  model.forward(ids, 1, 6);  // inactive again: nothing more recorded
  EXPECT_EQ(dump.tensors().size(), n);
}

TEST(ForwardDump, OneSequenceOnly) {
  testing::OneThread one;
  Transformer model = load_model(dump_fixture("dense_qwen2"));
  ForwardDump dump;
  DumpScope scope(dump);
  EXPECT_THROW(model.forward({1, 2, 3, 4}, 2, 2), Error);
}

// --- r1 diff --------------------------------------------------------------------------------

// A copy of `in` at `out` with element `at` of tensor `name` moved by `delta` (order metadata kept).
void write_perturbed(const std::string& in, const std::string& out, const std::string& name, size_t at, float delta) {
  SafetensorsFile f = load_safetensors(in);
  for (StTensor& t : f.tensors)
    if (t.name == name) t.data.at(at) += delta;
  save_safetensors(out, f.tensors, f.metadata);
}

class DiffCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
    dump = tmp.file("a.safetensors");
    CliRun f = r1_dump("mla_moe", dump, tmp);
    ASSERT_EQ(f.code, 0) << f.err;
  }
  TempDir tmp;
  std::string dump;
};

TEST_F(DiffCli, IdenticalFilesPassInForwardOrder) {
  CliRun d = run_r1("diff " + dump + " " + dump + " --json", tmp);
  ASSERT_EQ(d.code, 0) << d.err;
  Json j = Json::parse(d.out);
  std::vector<std::string> order = dump_order(load_safetensors(dump));
  ASSERT_EQ(j["tensors"].size(), order.size());
  for (size_t i = 0; i < order.size(); i++) {
    EXPECT_EQ(j["tensors"][int(i)]["name"].as_string(), order[i]);
    EXPECT_EQ(j["tensors"][int(i)]["max_abs"].as_number(), 0.0);
  }
  EXPECT_EQ(order.front(), "model.embed_tokens:out");
  EXPECT_EQ(order.back(), "lm_head:out");
  CliRun text = run_r1("diff " + dump + " " + dump, tmp);
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("all " + std::to_string(order.size()) + " common tensors within tolerance"),
            std::string::npos)
      << text.out;
}

TEST_F(DiffCli, StopsAtThePerturbedTensorOfLayerK) {
  // Perturb a tensor of layer 1 and, further on, the logits: the layer-1 tensor is the first failure.
  const std::string mid = tmp.file("mid.safetensors"), b = tmp.file("b.safetensors");
  write_perturbed(dump, mid, "model.layers.1.self_attn:q_pe", 5, 1e-3f);
  write_perturbed(mid, b, "lm_head:out", 0, 1.0f);
  CliRun d = run_r1("diff " + dump + " " + b + " --json", tmp);
  EXPECT_EQ(d.code, 1) << d.err;
  Json j = Json::parse(d.out);
  EXPECT_EQ(j["first_failure"].as_string(), "model.layers.1.self_attn:q_pe");
  Json last = j["tensors"][int(j["tensors"].size() - 1)];
  EXPECT_EQ(last["name"].as_string(), "model.layers.1.self_attn:q_pe");  // stopped there
  EXPECT_FALSE(last["pass"].as_bool());
  EXPECT_NEAR(last["max_abs"].as_number(), 1e-3, 1e-6);
  // element 5 of (H=2, T=9, dr=4) is [0, 1, 1]
  EXPECT_EQ(last["index"][0].as_number(), 0);
  EXPECT_EQ(last["index"][1].as_number(), 1);
  EXPECT_EQ(last["index"][2].as_number(), 1);
  for (size_t i = 0; i + 1 < j["tensors"].size(); i++) EXPECT_TRUE(j["tensors"][int(i)]["pass"].as_bool());
  CliRun text = run_r1("diff " + dump + " " + b, tmp);
  EXPECT_EQ(text.code, 1);
  EXPECT_NE(text.out.find("FAIL model.layers.1.self_attn:q_pe"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("first divergence: model.layers.1.self_attn:q_pe"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("lm_head:out"), std::string::npos) << "printed past the first failure";
  // A looser tolerance lets the 1e-3 pass, so the logits (off by 1) become the first failure.
  CliRun loose = run_r1("diff " + dump + " " + b + " --atol 2e-3 --json", tmp);
  EXPECT_EQ(loose.code, 1);
  EXPECT_EQ(Json::parse(loose.out)["first_failure"].as_string(), "lm_head:out");
}

TEST_F(DiffCli, ListsTensorsInOneFileOnly) {
  SafetensorsFile f = load_safetensors(dump);
  std::vector<StTensor> kept;
  std::string order;
  for (const StTensor& t : f.tensors)
    if (t.name != "model.layers.1.mlp.shared_experts:out") kept.push_back(t);
  for (const std::string& n : dump_order(f))
    if (n != "model.layers.1.mlp.shared_experts:out") order += (order.empty() ? "" : ",") + n;
  kept.push_back({"extra:out", {2}, {1, 2}, "F32"});
  const std::string b = tmp.file("b.safetensors");
  save_safetensors(b, kept, {{"order", order + ",extra:out"}});
  CliRun d = run_r1("diff " + dump + " " + b, tmp);
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("only in A: model.layers.1.mlp.shared_experts:out"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("only in B: extra:out"), std::string::npos) << d.out;
}

TEST_F(DiffCli, ShapeMismatchAndMalformedFilesAreErrorsNamingThem) {
  SafetensorsFile f = load_safetensors(dump);
  for (StTensor& t : f.tensors)
    if (t.name == "model.norm:out") t.shape = {t.shape[1], t.shape[0]};  // (D, T) instead of (T, D)
  const std::string b = tmp.file("b.safetensors");
  save_safetensors(b, f.tensors, f.metadata);
  CliRun d = run_r1("diff " + dump + " " + b, tmp);
  EXPECT_EQ(d.code, 2);
  EXPECT_NE(d.err.find("model.norm:out"), std::string::npos) << d.err;

  const std::string bad = tmp.file("truncated.safetensors");
  std::string bytes = read_file(dump);
  write_file_atomic(bad, bytes.substr(0, bytes.size() / 2));
  CliRun m = run_r1("diff " + dump + " " + bad, tmp);
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("truncated.safetensors"), std::string::npos) << m.err;

  CliRun missing = run_r1("diff " + dump + " " + tmp.file("none.safetensors"), tmp);
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("none.safetensors"), std::string::npos) << missing.err;

  CliRun one = run_r1("diff " + dump, tmp);
  EXPECT_EQ(one.code, 2);

  // The same tensors under other names: nothing is compared, which must not read as a pass.
  SafetensorsFile renamed = load_safetensors(dump);
  for (StTensor& t : renamed.tensors) t.name = "other." + t.name;
  const std::string r = tmp.file("renamed.safetensors");
  save_safetensors(r, renamed.tensors, {});
  CliRun none = run_r1("diff " + dump + " " + r, tmp);
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("no tensor name in common"), std::string::npos) << none.err;
}

// --- compare_dumps (the library under r1 diff) ---------------------------------------------

SafetensorsFile file_of(const std::string& path, std::vector<StTensor> tensors,
                        std::map<std::string, std::string> metadata = {}) {
  SafetensorsFile f;
  f.path = path;
  f.tensors = std::move(tensors);
  f.metadata = std::move(metadata);
  return f;
}

TEST(CompareDumps, ToleranceIsAtolPlusRtolTimesB) {
  SafetensorsFile b = file_of("b", {{"x", {3}, {1.0f, 100.0f, 0.0f}, "F32"}});
  // errors 0.5, 1.0, 0.0 against |b| 1, 100, 0: within atol 0.5 + rtol 0.01 * |b| (0.51, 1.5)
  SafetensorsFile a = file_of("a", {{"x", {3}, {1.5f, 101.0f, 0.0f}, "F32"}});
  DumpDiff ok = compare_dumps(a, b, 0.01, 0.5);
  EXPECT_TRUE(ok.first_failure.empty());
  EXPECT_EQ(ok.compared[0].max_abs, 1.0);
  EXPECT_EQ(ok.compared[0].index, std::vector<int64_t>{1});
  EXPECT_EQ(ok.compared[0].max_rel, 0.5);
  DumpDiff bad = compare_dumps(a, b, 0.0, 0.5);  // 1.0 > 0.5
  EXPECT_EQ(bad.first_failure, "x");
  EXPECT_EQ(bad.compared[0].n_bad, 1);
  // b == 0 != a: relative error infinite; NaN always fails.
  SafetensorsFile z = file_of("z", {{"x", {3}, {1.0f, 100.0f, std::nanf("")}, "F32"}});
  DumpDiff nan = compare_dumps(z, b, 1.0, 1.0);
  EXPECT_EQ(nan.first_failure, "x");
  EXPECT_TRUE(std::isinf(compare_dumps(file_of("w", {{"x", {3}, {1, 100, 1}, "F32"}}), b, 0, 1).compared[0].max_rel));
}

TEST(CompareDumps, OrderFromAThenBThenFile) {
  std::vector<StTensor> t = {{"a", {1}, {1}, "F32"}, {"b", {1}, {1}, "F32"}, {"c", {1}, {1}, "F32"}};
  auto names = [](const DumpDiff& d) {
    std::vector<std::string> n;
    for (const TensorDiff& x : d.compared) n.push_back(x.name);
    return n;
  };
  DumpDiff from_a = compare_dumps(file_of("A", t, {{"order", "c,a,b"}}), file_of("B", t, {{"order", "b,c,a"}}), 0, 0);
  EXPECT_EQ(from_a.order_source, "A");
  EXPECT_EQ(names(from_a), (std::vector<std::string>{"c", "a", "b"}));
  DumpDiff from_b = compare_dumps(file_of("A", t), file_of("B", t, {{"order", "b,c,a"}}), 0, 0);
  EXPECT_EQ(from_b.order_source, "B");
  EXPECT_EQ(names(from_b), (std::vector<std::string>{"b", "c", "a"}));
  DumpDiff from_file = compare_dumps(file_of("A", t), file_of("B", t), 0, 0);
  EXPECT_EQ(from_file.order_source, "file");
  EXPECT_EQ(names(from_file), (std::vector<std::string>{"a", "b", "c"}));
  // An order naming a tensor the file lacks is malformed: the error names the file.
  try {
    compare_dumps(file_of("A.safetensors", t, {{"order", "a,zz"}}), file_of("B", t), 0, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("A.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("zz"), std::string::npos) << e.what();
  }
}

TEST(CompareDumps, LeadingOnesIgnoredOtherShapesRejected) {
  SafetensorsFile a = file_of("A", {{"x", {1, 2, 3}, {1, 2, 3, 4, 5, 6}, "F32"}});
  EXPECT_TRUE(compare_dumps(a, file_of("B", {{"x", {2, 3}, {1, 2, 3, 4, 5, 6}, "F32"}}), 0, 0).first_failure.empty());
  try {
    compare_dumps(a, file_of("B.safetensors", {{"x", {3, 2}, {1, 2, 3, 4, 5, 6}, "F32"}}), 0, 0);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(3, 2)"), std::string::npos) << e.what();
  }
}

// A one-tensor BF16 safetensors file (the writer in util/ writes F32 only).
void write_bf16(const std::string& path, const std::string& name, const std::vector<float>& values) {
  std::string data;
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint16_t top = uint16_t(bits >> 16);  // truncation: the callers pick values where it is exact or say so
    data.append(reinterpret_cast<const char*>(&top), 2);
  }
  std::string header = "{\"" + name + "\":{\"dtype\":\"BF16\",\"shape\":[" + std::to_string(values.size()) +
                       "],\"data_offsets\":[0," + std::to_string(data.size()) + "]}}";
  while (header.size() % 8) header += ' ';
  uint64_t n = header.size();
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << data;
}

TEST(DiffDtypes, F32AgainstBf16ComparedInFloat64) {
  if (!std::getenv("R1_BIN")) GTEST_SKIP() << kNoBin;
  TempDir tmp;
  // 1 + 2^-10 is not a BF16 value (8 significand bits): its BF16 truncation is 1, error 2^-10.
  save_safetensors(tmp.file("a.safetensors"), {{"x", {3}, {1.5f, -2.25f, 1.0f + 0x1p-10f}, "F32"}});
  write_bf16(tmp.file("b.safetensors"), "x", {1.5f, -2.25f, 1.0f + 0x1p-10f});
  CliRun d = run_r1("diff " + tmp.file("a.safetensors") + " " + tmp.file("b.safetensors") + " --json", tmp);
  EXPECT_EQ(d.code, 1) << d.err;  // 2^-10 exceeds the default 1e-5 tolerance
  Json j = Json::parse(d.out);
  EXPECT_EQ(j["tensors"][0]["dtype_a"].as_string(), "F32");
  EXPECT_EQ(j["tensors"][0]["dtype_b"].as_string(), "BF16");
  EXPECT_EQ(j["tensors"][0]["max_abs"].as_number(), std::ldexp(1.0, -10));
  EXPECT_EQ(j["tensors"][0]["index"][0].as_number(), 2);
  CliRun loose = run_r1("diff " + tmp.file("a.safetensors") + " " + tmp.file("b.safetensors") + " --atol 1e-3", tmp);
  EXPECT_EQ(loose.code, 0) << loose.out;
  EXPECT_NE(loose.out.find("(F32 vs BF16)"), std::string::npos) << loose.out;
}

}  // namespace
}  // namespace r1
