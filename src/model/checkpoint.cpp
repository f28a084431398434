// Model directory reading and writing. See checkpoint.h.
#include "model/checkpoint.h"

#include <map>
#include <set>

#include "autograd/autograd.h"
#include "util/error.h"
#include "util/fs.h"

namespace r1 {

std::vector<StTensor> export_slots(const TensorSlots& slots) {
  std::vector<StTensor> out;
  for (const TensorSlot& s : slots) out.push_back({s.name, s.tensor->shape(), s.tensor->to_vector(), "F32"});
  return out;
}

std::vector<StTensor> export_weights(Transformer& model) { return export_slots(model.slots()); }

void load_weights(Transformer& model, const SafetensorsFile& file) {
  const Config& c = model.config();
  load_slots(model.slots(), file, [&c](const std::string& name) { return c.is_mtp_tensor(name); });
}

void load_slots(const TensorSlots& slots, const SafetensorsFile& file,
                const std::function<bool(const std::string&)>& skip) {
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const TensorSlot& s : slots) {
    expected.insert(s.name);
    const StTensor* t = file.find(s.name);
    if (!t) {
      problems.push_back(cat("missing tensor '", s.name, "' ", shape_str(s.tensor->shape())));
      continue;
    }
    if (t->shape != s.tensor->shape())
      problems.push_back(cat("tensor '", s.name, "' has shape ", shape_str(t->shape), " but the config needs ",
                             shape_str(s.tensor->shape())));
    if (t->dtype_on_disk != "F32" && t->dtype_on_disk != "BF16")
      problems.push_back(cat("tensor '", s.name, "' has dtype ", t->dtype_on_disk, " (expected F32 or BF16)"));
  }
  for (const StTensor& t : file.tensors)
    if (!expected.count(t.name) && !(skip && skip(t.name))) problems.push_back(cat("unexpected tensor '", t.name, "'"));
  if (!problems.empty()) {
    std::string msg = cat(file.path, ": checkpoint does not match config.json (", problems.size(), " problem",
                          problems.size() == 1 ? "" : "s", "):");
    for (const std::string& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  NoGradGuard guard;
  for (const TensorSlot& s : slots) {
    const StTensor& t = file.at(s.name);
    s.tensor->copy_from(Tensor::from_vector(t.shape, t.data).to(s.tensor->device()));
  }
}

Transformer load_model(const std::string& dir) {
  Transformer model(Config::load(dir + "/config.json"));
  load_weights(model, load_safetensors(dir + "/model.safetensors"));
  return model;
}

void write_model_files(const std::string& dir, Transformer& model, const std::string& tokenizer_json) {
  std::vector<StTensor> weights = export_weights(model);
  write_file_atomic(dir + "/config.json", model.config().to_json().dump(2) + "\n");
  save_safetensors(dir + "/model.safetensors", weights, {{"format", "pt"}});
  if (!tokenizer_json.empty()) write_file_atomic(dir + "/tokenizer.json", read_file(tokenizer_json));
}

void save_model(const std::string& dir, Transformer& model, const std::string& tokenizer_json) {
  replace_dir_atomic(dir, [&](const std::string& tmp) { write_model_files(tmp, model, tokenizer_json); });
}

}  // namespace r1
