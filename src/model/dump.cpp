// Forward dumps and their comparison. See dump.h.
#include "model/dump.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "util/error.h"

namespace r1 {

// --- recording ------------------------------------------------------------------------------

static thread_local ForwardDump* g_active = nullptr;

ForwardDump* active_dump() { return g_active; }

DumpScope::DumpScope(ForwardDump& dump) : previous_(g_active) { g_active = &dump; }
DumpScope::~DumpScope() { g_active = previous_; }

void ForwardDump::add(const std::string& name, const Tensor& t) {
  const std::string full = prefix_ + name;
  check(names_.insert(full).second, "forward dump: tensor '", full, "' recorded twice");
  std::vector<int64_t> shape = t.shape();
  if (shape.size() >= 3) {
    check(shape[0] == 1, "forward dump: '", full, "' has batch ", shape[0], "; a dump is of one sequence");
    shape.erase(shape.begin());
  }
  tensors_.push_back({full, shape, t.detach().to_vector(), "F32"});
}

void ForwardDump::save(const std::string& path) const {
  std::string order;
  for (const StTensor& s : tensors_) order += (order.empty() ? "" : ",") + s.name;
  save_safetensors(path, tensors_, {{"format", "r1-dump"}, {"order", order}});
}

Tensor attention_probs(const Tensor& q, const Tensor& k, float scale) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), d = q.size(3), Hk = k.size(1);
  check(k.size(0) == B && k.size(2) == T && k.size(3) == d && H % Hk == 0, "attention_probs: q ",
        shape_str(q.shape()), " and k ", shape_str(k.shape()), " do not match");
  const std::vector<float> qv = q.to_vector(), kv = k.to_vector();
  std::vector<float> p(size_t(B * H * T * T), 0.0f);  // (B, H, T, T); masked entries stay 0
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < H; h++) {
      const float* qh = qv.data() + (b * H + h) * T * d;
      const float* kh = kv.data() + (b * Hk + h / (H / Hk)) * T * d;
      for (int64_t i = 0; i < T; i++) {
        float* row = p.data() + ((b * H + h) * T + i) * T;
        float top = -std::numeric_limits<float>::infinity(), total = 0;
        for (int64_t j = 0; j <= i; j++) {  // causal: keys 0..i
          float s = 0;
          for (int64_t c = 0; c < d; c++) s += qh[i * d + c] * kh[j * d + c];
          row[j] = s * scale;
          top = std::max(top, row[j]);
        }
        for (int64_t j = 0; j <= i; j++) total += row[j] = std::exp(row[j] - top);
        for (int64_t j = 0; j <= i; j++) row[j] /= total;
      }
    }
  return Tensor::from_vector({B, H, T, T}, p);
}

// --- comparison ---------------------------------------------------------------------------

std::vector<std::string> dump_order(const SafetensorsFile& f) {
  std::vector<std::string> out;
  auto it = f.metadata.find("order");
  std::set<std::string> listed;
  if (it != f.metadata.end()) {
    size_t start = 0;
    const std::string& s = it->second;
    while (start <= s.size() && !s.empty()) {
      size_t end = s.find(',', start);
      if (end == std::string::npos) end = s.size();
      std::string name = s.substr(start, end - start);
      check(f.find(name) != nullptr, f.path, ": __metadata__ \"order\" names tensor '", name,
            "', which the file does not hold");
      check(listed.insert(name).second, f.path, ": __metadata__ \"order\" lists '", name, "' twice");
      out.push_back(name);
      start = end + 1;
    }
  }
  for (const StTensor& t : f.tensors)
    if (!listed.count(t.name)) out.push_back(t.name);
  return out;
}

// The shape without its leading dimensions of size 1.
static std::vector<int64_t> squeezed(std::vector<int64_t> s) {
  while (s.size() > 1 && s[0] == 1) s.erase(s.begin());
  return s;
}

static std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return index;
}

static TensorDiff diff_tensor(const StTensor& a, const StTensor& b, double rtol, double atol) {
  TensorDiff r;
  r.name = a.name;
  r.shape = a.shape;
  r.dtype_a = a.dtype_on_disk;
  r.dtype_b = b.dtype_on_disk;
  const double inf = std::numeric_limits<double>::infinity();
  int64_t worst = 0;
  for (size_t i = 0; i < a.data.size(); i++) {
    const double x = a.data[i], y = b.data[i];
    double abs_err = std::fabs(x - y);
    if (std::isnan(x) || std::isnan(y)) abs_err = inf;
    const double rel_err = abs_err == 0 ? 0 : y == 0 ? inf : abs_err / std::fabs(y);
    if (abs_err > r.max_abs) r.max_abs = abs_err, worst = int64_t(i);
    r.max_rel = std::max(r.max_rel, rel_err);
    if (!(abs_err <= atol + rtol * std::fabs(y))) r.n_bad++;
  }
  r.index = unravel(worst, a.shape);
  if (!a.data.empty()) r.a = a.data[size_t(worst)], r.b = b.data[size_t(worst)];
  return r;
}

DumpDiff compare_dumps(const SafetensorsFile& a, const SafetensorsFile& b, double rtol, double atol) {
  check(rtol >= 0 && atol >= 0, "r1 diff: tolerances must be >= 0 (rtol ", rtol, ", atol ", atol, ")");
  DumpDiff out;
  std::vector<std::string> order;
  if (a.metadata.count("order")) {
    out.order_source = "A";
    order = dump_order(a);
  } else if (b.metadata.count("order")) {
    out.order_source = "B";  // B's order for the names A shares with it, then A's others in file order
    std::set<std::string> seen;
    for (const std::string& n : dump_order(b))
      if (a.find(n)) order.push_back(n), seen.insert(n);
    for (const StTensor& t : a.tensors)
      if (!seen.count(t.name)) order.push_back(t.name);
  } else {
    out.order_source = "file";
    order = dump_order(a);
  }
  for (const std::string& n : dump_order(b))
    if (!a.find(n)) out.only_b.push_back(n);
  for (const std::string& n : order) {
    const StTensor* tb = b.find(n);
    if (!tb) {
      out.only_a.push_back(n);
      continue;
    }
    if (!out.first_failure.empty()) continue;  // stopped: only the only_a list goes on
    const StTensor& ta = a.at(n);
    check(squeezed(ta.shape) == squeezed(tb->shape), "r1 diff: tensor '", n, "' has shape ", shape_str(ta.shape),
          " in ", a.path, " but ", shape_str(tb->shape), " in ", b.path);
    out.compared.push_back(diff_tensor(ta, *tb, rtol, atol));
    if (!out.compared.back().pass()) out.first_failure = n;
  }
  return out;
}

}  // namespace r1
