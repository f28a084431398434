// `r1 diff A.safetensors B.safetensors`: where two forward dumps (`r1 forward --dump`, or a
// PyTorch script writing the same names) diverge. Walks A's forward order, prints each common
// tensor's max absolute / relative error (in float64, whatever the files' dtypes) and stops at the
// first tensor with an element outside atol + rtol * |b|. The comparison is model/dump.h's.
// Does not do: align tensors under different names (two files without a common name are an error).
#include <cstdio>

#include "cli/command.h"
#include "model/dump.h"
#include "util/error.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 diff A.safetensors B.safetensors [--rtol X] [--atol Y] [--json]\n"
    "  Compares two dumps tensor by tensor in A's forward order (its __metadata__ \"order\"; else B's;\n"
    "  else file order). For each tensor both hold: shape, max |a-b|, max |a-b|/|b|, the first index\n"
    "  of the max abs error with both values there, and ok/FAIL. An element fails when\n"
    "  |a - b| > atol + rtol * |b| (B is the reference); NaN always fails.\n"
    "  --rtol  relative tolerance (default 1e-5)\n"
    "  --atol  absolute tolerance (default 1e-5)\n"
    "  --json  one JSON document on stdout instead of the table\n"
    "  Tensors in only one file are listed. Shapes must match (leading dimensions of size 1 are\n"
    "  ignored). F32, BF16 and F16 files mix freely (values compared in float64).\n"
    "  Exit code: 0 all common tensors within tolerance; 1 stopped at the first tensor outside it\n"
    "  (named); 2 error (unreadable or malformed file, shape mismatch: the tensor is named; no tensor\n"
    "  name in common).";

static std::string index_str(const std::vector<int64_t>& index) {
  std::string s = "[";
  for (size_t i = 0; i < index.size(); i++) s += cat(i ? ", " : "", index[i]);
  return s + "]";
}

static Json int_array(const std::vector<int64_t>& v) {
  Json j = Json::array();
  for (int64_t x : v) j.push_back(x);
  return j;
}

static Json str_array(const std::vector<std::string>& v) {
  Json j = Json::array();
  for (const std::string& x : v) j.push_back(x);
  return j;
}

static void print_json(const DumpDiff& d, const std::string& a, const std::string& b, double rtol, double atol) {
  Json j = Json::object();
  j["a"] = a;
  j["b"] = b;
  j["rtol"] = rtol;
  j["atol"] = atol;
  j["order"] = d.order_source;
  Json rows = Json::array();
  for (const TensorDiff& t : d.compared) {
    Json r = Json::object();
    r["name"] = t.name;
    r["shape"] = int_array(t.shape);
    r["dtype_a"] = t.dtype_a;
    r["dtype_b"] = t.dtype_b;
    r["max_abs"] = t.max_abs;  // null when infinite (NaN present)
    r["max_rel"] = t.max_rel;  // null when infinite (b == 0 != a somewhere)
    r["index"] = int_array(t.index);
    r["a"] = t.a;
    r["b"] = t.b;
    r["n_bad"] = t.n_bad;
    r["pass"] = t.pass();
    rows.push_back(r);
  }
  j["tensors"] = rows;
  j["only_in_a"] = str_array(d.only_a);
  j["only_in_b"] = str_array(d.only_b);
  j["first_failure"] = d.first_failure.empty() ? Json() : Json(d.first_failure);
  j["pass"] = d.first_failure.empty();
  std::printf("%s\n", j.dump().c_str());
}

static void print_table(const DumpDiff& d, const std::string& a, const std::string& b, double rtol, double atol) {
  static const char* order_words[] = {"A's forward order", "B's forward order (A has none)",
                                      "file order (neither file records a forward order)"};
  const char* order = d.order_source == "A" ? order_words[0] : d.order_source == "B" ? order_words[1] : order_words[2];
  std::printf("A = %s\nB = %s\nrtol %g, atol %g; %s\n", a.c_str(), b.c_str(), rtol, atol, order);
  for (const TensorDiff& t : d.compared) {
    std::string dtypes = t.dtype_a == t.dtype_b ? "" : " (" + t.dtype_a + " vs " + t.dtype_b + ")";
    std::printf("%-4s %-52s %-16s max_abs %.3e max_rel %.3e at %s%s\n", t.pass() ? "ok" : "FAIL", t.name.c_str(),
                index_str(t.shape).c_str(), t.max_abs, t.max_rel, index_str(t.index).c_str(), dtypes.c_str());
  }
  for (const std::string& n : d.only_a) std::printf("only in A: %s\n", n.c_str());
  for (const std::string& n : d.only_b) std::printf("only in B: %s\n", n.c_str());
  if (d.first_failure.empty()) {
    std::printf("all %zu common tensors within tolerance\n", d.compared.size());
  } else {
    const TensorDiff& t = d.compared.back();
    std::printf("first divergence: %s: %lld of its elements exceed atol + rtol*|b|; the largest error, %.6g, is at "
                "%s (a = %.9g, b = %.9g)\n",
                t.name.c_str(), (long long)t.n_bad, t.max_abs, index_str(t.index).c_str(), t.a, t.b);
  }
}

static int run(Args& args) {
  std::string a = args.next_positional("file A"), b = args.next_positional("file B");
  double rtol = args.number("rtol", 1e-5), atol = args.number("atol", 1e-5);
  bool json = args.flag("json");
  args.finish();
  DumpDiff d = compare_dumps(load_safetensors(a), load_safetensors(b), rtol, atol);
  // Nothing in common is a naming mismatch (e.g. a dump written with other module names), not a pass.
  if (d.compared.empty())
    throw Error(cat(a, " and ", b, ": no tensor name in common (", d.only_a.size(), " only in A, ",
                    d.only_b.size(), " only in B): were both dumps written with r1's names (docs/verify.md)?"));
  if (json) print_json(d, a, b, rtol, atol);
  else print_table(d, a, b, rtol, atol);
  return d.first_failure.empty() ? 0 : 1;
}

static const bool registered =
    register_command({"diff", "compare two forward dumps tensor by tensor; where do two models diverge", kUsage, run});

}  // namespace r1
