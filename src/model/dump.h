// Layer-by-layer dumps of one forward pass, and their comparison (`r1 forward --dump`, `r1 diff`).
//
// Dumping: a ForwardDump is made active for the current thread by a DumpScope; while one is
// active, the model's forward (transformer.cpp, attention.cpp, mla.cpp, moe.cpp) hands every
// intermediate to dump_tensor(name, t), which copies it to the host under the current layer's
// prefix. With none active dump_tensor is one thread-local load and a branch, so the forward
// costs nothing extra. Names follow Hugging Face module paths with a suffix saying what was
// recorded (docs/verify.md "Model diffs, layer by layer" lists them in forward order):
//   <module>:out   what a forward hook on that HF module sees as its output
//   <module>:in    the first input of that module (a forward pre-hook)
//   <module>:<x>   a value inside that module's forward no hook reaches (q after RoPE, router scores)
// Tensors are stored without the batch dimension (a dump is of one sequence), F32, and the
// forward order goes into the file's __metadata__ "order" (safetensors itself sorts by name).
//
// Comparing: compare_dumps() walks A's forward order and reports, per common tensor, the max
// absolute and relative error in float64, stopping at the first tensor outside atol + rtol*|b|.
// Does not do: batched dumps, dumps of the cached (inference) forward, gradients.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tensor/tensor.h"
#include "util/safetensors.h"

namespace r1 {

class ForwardDump {
 public:
  explicit ForwardDump(bool attention_probs = false) : attention_probs_(attention_probs) {}

  bool attention_probs() const { return attention_probs_; }  // also record softmax probabilities (big)
  void set_prefix(const std::string& prefix) { prefix_ = prefix; }  // "model.layers.3", "" outside layers
  // Records prefix + name; t: (1, ...) -> stored without its leading batch dimension when t has
  // rank >= 3 (model tensors (B, T, ...) / (B, H, T, ...)); rank <= 2 tensors ((B*T, ...) rows
  // of the one sequence) are stored as they are. Throws on a name recorded twice.
  void add(const std::string& name, const Tensor& t);
  const std::vector<StTensor>& tensors() const { return tensors_; }
  // Writes the tensors (F32) with __metadata__ {"order": "name,name,...", "format": "r1-dump"}.
  void save(const std::string& path) const;

 private:
  bool attention_probs_;
  std::string prefix_;
  std::vector<StTensor> tensors_;
  std::set<std::string> names_;  // of tensors_
};

// The dump the current thread's forward writes to (nullptr: none).
ForwardDump* active_dump();

// Makes `dump` the active one for its lifetime (restores the previous one after).
class DumpScope {
 public:
  explicit DumpScope(ForwardDump& dump);
  ~DumpScope();
  DumpScope(const DumpScope&) = delete;
  DumpScope& operator=(const DumpScope&) = delete;

 private:
  ForwardDump* previous_;
};

// Records t under the current prefix + name when a dump is active; free otherwise.
inline void dump_tensor(const char* name, const Tensor& t) {
  if (ForwardDump* d = active_dump()) d->add(name, t);
}

// Attention probabilities for the dump: q (B, H, T, d), k (B, Hk, T, d) with H % Hk == 0
// (query head h reads key head h / (H / Hk)) -> softmax(q k^T * scale + causal mask), (B, H, T, T).
// Computed on the host in float32 beside the attention op (which never materialises them).
Tensor attention_probs(const Tensor& q, const Tensor& k, float scale);

// --- comparison ---------------------------------------------------------------------------

struct TensorDiff {
  std::string name;
  std::vector<int64_t> shape;       // A's shape
  std::string dtype_a, dtype_b;     // on disk
  double max_abs = 0;               // max |a - b|
  double max_rel = 0;               // max |a - b| / |b| (inf where b == 0 != a; 0 where both are 0)
  std::vector<int64_t> index;       // first index of max_abs (multi-index into shape)
  double a = 0, b = 0;              // the values there
  int64_t n_bad = 0;                // elements outside atol + rtol * |b| (NaN counts as outside)
  bool pass() const { return n_bad == 0; }
};

struct DumpDiff {
  std::string order_source;            // "A", "B" (A has no order metadata) or "file" (neither has)
  std::vector<TensorDiff> compared;    // in forward order, up to and including the first failure
  std::vector<std::string> only_a, only_b;
  std::string first_failure;           // "" when every compared tensor passed
};

// Throws r1::Error naming the tensor on a shape mismatch (leading dimensions of size 1 are
// ignored: (1, T, D) and (T, D) match), and naming the file on a malformed file or order list.
DumpDiff compare_dumps(const SafetensorsFile& a, const SafetensorsFile& b, double rtol, double atol);

// A dump's forward order: its "order" metadata (every listed name must exist; tensors it omits
// follow in file order), or the file order when it has none.
std::vector<std::string> dump_order(const SafetensorsFile& f);

}  // namespace r1
