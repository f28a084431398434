// Model directory reading and writing: single files and sharded checkpoints, memory-mapped,
// with BF16 kept in place and FP8 blocks dequantized for inference. See checkpoint.h.
#include "model/checkpoint.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include "autograd/autograd.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1 {

namespace {

// --- matching a checkpoint against the config's slots ---------------------------------------

// What the strict match needs to know about one stored tensor.
struct Stored {
  std::string file;  // named in problems when it is not the one file of the checkpoint
  std::string dtype;
  std::vector<int64_t> shape;
};

std::string scale_name(const std::string& weight) { return weight + "_scale_inv"; }

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Every problem with `stored` as the weights of `slots`, one line each. FP8 weights bring their
// scale tensor into the expected set.
// `skip`: stored names that are neither loaded nor unexpected (DeepSeek-V3's MTP layers).
std::vector<std::string> match_problems(const TensorSlots& slots, const std::map<std::string, Stored>& stored,
                                        const Fp8Blocks& blocks, bool sharded,
                                        const std::function<bool(const std::string&)>& skip) {
  auto in = [&](const Stored& s) { return sharded ? cat(" (in ", s.file, ")") : std::string(); };
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const TensorSlot& s : slots) {
    expected.insert(s.name);
    auto it = stored.find(s.name);
    if (it == stored.end()) {
      problems.push_back(cat("missing tensor '", s.name, "' ", shape_str(s.tensor->shape())));
      continue;
    }
    const Stored& t = it->second;
    if (t.shape != s.tensor->shape())
      problems.push_back(cat("tensor '", s.name, "' has shape ", shape_str(t.shape), " but the config needs ",
                             shape_str(s.tensor->shape()), in(t)));
    if (t.dtype != "F8_E4M3") continue;
    // FP8: a matrix with a block scale of the config's block size.
    const std::string sname = scale_name(s.name);
    expected.insert(sname);
    if (t.shape.size() != 2) {
      problems.push_back(cat("tensor '", s.name, "' is F8_E4M3 but not a matrix", in(t)));
      continue;
    }
    if (blocks.rows <= 0) {
      problems.push_back(cat("tensor '", s.name, "' is F8_E4M3 but config.json has no quantization_config.weight_block_size", in(t)));
      continue;
    }
    auto sc = stored.find(sname);
    if (sc == stored.end()) {
      problems.push_back(cat("tensor '", s.name, "' is F8_E4M3 but its block scale '", sname, "' is missing", in(t)));
      continue;
    }
    const std::vector<int64_t> need = {ceil_div(t.shape[0], blocks.rows), ceil_div(t.shape[1], blocks.cols)};
    if (sc->second.shape != need)
      problems.push_back(cat("block scale '", sname, "' has shape ", shape_str(sc->second.shape), " but ",
                             shape_str(t.shape), " in ", blocks.rows, "x", blocks.cols, " blocks needs ",
                             shape_str(need), in(sc->second)));
    if (sc->second.dtype != "F32" && sc->second.dtype != "BF16")
      problems.push_back(cat("block scale '", sname, "' has dtype ", sc->second.dtype, " (expected F32 or BF16)", in(sc->second)));
  }
  for (const auto& kv : stored)
    if (!expected.count(kv.first) && !(skip && skip(kv.first))) problems.push_back(cat("unexpected tensor '", kv.first, "'", in(kv.second)));
  return problems;
}

void throw_problems(const std::string& source, const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string msg = cat(source, ": checkpoint does not match config.json (", problems.size(), " problem",
                        problems.size() == 1 ? "" : "s", "):");
  for (const std::string& p : problems) msg += "\n  " + p;
  throw Error(msg);
}

// --- dequantization ----------------------------------------------------------------------

// w[i][j] = fp8[i][j] * scale_inv[i / br][j / bc], as float32 (each product rounded once).
std::vector<float> dequantize_fp8(const StEntry& w, const MappedSafetensors& sf, const StEntry& s,
                                  const Fp8Blocks& blocks) {
  const int64_t R = w.shape[0], C = w.shape[1], sc = ceil_div(C, blocks.cols);
  std::vector<float> scale = sf.to_f32(s);  // (ceil(R/br), ceil(C/bc))
  std::vector<float> out(size_t(R * C));    // (R, C)
#pragma omp parallel for schedule(static) if (R * C >= 65536)
  for (int64_t i = 0; i < R; i++) {
    const float* srow = scale.data() + (i / blocks.rows) * sc;
    for (int64_t j = 0; j < C; j++)
      out[size_t(i * C + j)] = f8e4m3_to_f32(w.bytes[i * C + j]) * srow[j / blocks.cols];
  }
  return out;
}

// Keeps a dequantized BF16 matrix alive for the tensor that points into it.
std::shared_ptr<const void> bf16_buffer(const std::vector<float>& values, const uint16_t** data) {
  auto buf = std::make_shared<std::vector<uint16_t>>(values.size());
  for (size_t i = 0; i < values.size(); i++) (*buf)[i] = f32_to_bf16(values[i]);
  *data = buf->data();
  return buf;
}

}  // namespace

// --- export / old single-file load -----------------------------------------------------------

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
  std::map<std::string, Stored> stored;
  for (const StTensor& t : file.tensors) stored[t.name] = {file.path, t.dtype_on_disk, t.shape};
  // A float32 file has no block scales to apply: FP8 is read only through a Checkpoint.
  throw_problems(file.path, match_problems(slots, stored, Fp8Blocks{}, false, skip));
  NoGradGuard guard;
  for (const TensorSlot& s : slots) {
    const StTensor& t = file.at(s.name);
    s.tensor->copy_from(Tensor::from_vector(t.shape, t.data).to(s.tensor->device()));
  }
}

// --- checkpoints: one file or an index with shards -----------------------------------------

Checkpoint open_checkpoint(const std::string& dir) {
  namespace fs = std::filesystem;
  Checkpoint c;
  c.dir = dir;
  const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
  if (fs::exists(single) || !fs::exists(index)) {
    auto f = std::make_shared<const MappedSafetensors>(single);  // names the file when it is absent
    c.files.push_back(f);
    for (const StEntry& e : f->entries()) c.tensors[e.name] = {f, &e};
    return c;
  }
  c.index_path = index;
  const Json j = Json::parse_file(index);
  check(j.is_object(), index, ": expected a JSON object with a 'weight_map'");
  const Json* map = j.find("weight_map");
  check(map && map->is_object(), index, ": missing or non-object field 'weight_map'");
  std::map<std::string, std::vector<std::string>> by_shard;  // shard file -> tensors listed in it
  std::map<std::string, std::string> shard_of;               // tensor -> shard file
  for (const auto& kv : map->as_object()) {
    check(kv.second.is_string(), index, ": weight_map['", kv.first, "'] must be a file name, got ", kv.second.dump());
    const std::string& shard = kv.second.as_string();
    check(!shard.empty() && shard.find('/') == std::string::npos && shard != "." && shard != "..", index,
          ": weight_map['", kv.first, "'] = '", shard, "' is not a file name in the model folder");
    by_shard[shard].push_back(kv.first);
    shard_of[kv.first] = shard;
  }
  std::vector<std::string> problems;
  for (const auto& kv : by_shard) {
    const std::string path = dir + "/" + kv.first;
    if (!fs::exists(path)) {
      problems.push_back(cat(path, ": missing shard (the index lists ", kv.second.size(), " tensor",
                             kv.second.size() == 1 ? "" : "s", " in it, e.g. '", kv.second.front(), "')"));
      continue;
    }
    auto f = std::make_shared<const MappedSafetensors>(path);
    c.files.push_back(f);
    for (const std::string& name : kv.second) {
      const StEntry* e = f->find(name);
      if (!e) problems.push_back(cat(path, ": tensor '", name, "' is listed in the index but absent from the shard"));
      else c.tensors[name] = {f, e};
    }
    for (const StEntry& e : f->entries()) {
      auto it = shard_of.find(e.name);
      if (it == shard_of.end()) problems.push_back(cat(path, ": tensor '", e.name, "' is in the shard but not in the index"));
      else if (it->second != kv.first)
        problems.push_back(cat(path, ": tensor '", e.name, "' is in the shard but the index puts it in ", it->second));
    }
  }
  if (!problems.empty()) {
    std::string msg = cat(index, ": shards do not match the index (", problems.size(), " problem",
                          problems.size() == 1 ? "" : "s", "):");
    for (const std::string& p : problems) msg += "\n  " + p;
    throw Error(msg);
  }
  return c;
}

Config load_model_config(const std::string& dir, Fp8Blocks* blocks) {
  const std::string path = dir + "/config.json";
  Json j = Json::parse_file(path);
  *blocks = Fp8Blocks{};
  if (!j.is_object() || !j.contains("quantization_config")) return Config::from_json(j, path);
  const Json& q = j.at("quantization_config");
  check(q.is_object(), path, ": field 'quantization_config' must be an object");
  std::string method = q.get_string("quant_method", "");
  check(method == "fp8", path, ": quantization_config.quant_method '", method, "' is not supported (r1 reads fp8)");
  const Json* bs = q.find("weight_block_size");
  auto whole = [](const Json& v) { return v.is_number() && v.as_number() == std::floor(v.as_number()); };
  check(bs && bs->is_array() && bs->size() == 2 && whole((*bs)[0]) && whole((*bs)[1]), path,
        ": quantization_config.weight_block_size must be [rows, cols] (integers), got ", bs ? bs->dump() : "nothing");
  blocks->rows = (*bs)[0].as_int();
  blocks->cols = (*bs)[1].as_int();
  check(blocks->rows > 0 && blocks->cols > 0, path, ": quantization_config.weight_block_size must be positive, got ",
        bs->dump());
  Json::Object rest;
  for (const auto& kv : j.as_object())
    if (kv.first != "quantization_config") rest.push_back(kv);
  return Config::from_json(Json(rest), path);
}

void check_weights(Transformer& model, const Checkpoint& ckpt, const Fp8Blocks& blocks) {
  std::map<std::string, Stored> stored;
  for (const auto& kv : ckpt.tensors)
    stored[kv.first] = {kv.second.file->path(), kv.second.entry->dtype, kv.second.entry->shape};
  const bool sharded = !ckpt.index_path.empty();
  const Config& c = model.config();
  throw_problems(sharded ? ckpt.index_path : ckpt.files.front()->path(),
                 match_problems(model.slots(), stored, blocks, sharded,
                                [&c](const std::string& name) { return c.is_mtp_tensor(name); }));
}

std::vector<float> checkpoint_values(const Checkpoint& ckpt, const std::string& name, const Fp8Blocks& blocks) {
  const CheckpointTensor& ct = ckpt.tensors.at(name);
  if (ct.entry->dtype != "F8_E4M3") return ct.file->to_f32(*ct.entry);
  const CheckpointTensor& sc = ckpt.tensors.at(scale_name(name));
  return dequantize_fp8(*ct.entry, *sc.file, *sc.entry, blocks);
}

void load_weights(Transformer& model, const Checkpoint& ckpt, const Fp8Blocks& blocks, WeightMemory memory) {
  check_weights(model, ckpt, blocks);
  const TensorSlots slots = model.slots();

  NoGradGuard guard;
  for (const TensorSlot& s : slots) {
    const CheckpointTensor& ct = ckpt.tensors.at(s.name);
    const StEntry& e = *ct.entry;
    const bool keep_bf16 = memory == WeightMemory::Inference && e.shape.size() == 2 && s.tensor->device() == Device::CPU &&
                           (e.dtype == "BF16" || e.dtype == "F8_E4M3");
    std::vector<float> values;
    if (e.dtype == "F8_E4M3") values = checkpoint_values(ckpt, s.name, blocks);
    if (keep_bf16) {
      const bool grad = s.tensor->requires_grad();
      if (e.dtype == "BF16" && reinterpret_cast<uintptr_t>(e.bytes) % 2 == 0) {
        // The mapped bytes themselves (every writer we know aligns them; an odd offset is copied).
        *s.tensor = Tensor::from_bf16(e.shape, reinterpret_cast<const uint16_t*>(e.bytes), ct.file);
      } else if (e.dtype == "BF16") {
        auto buf = std::make_shared<std::vector<uint16_t>>(size_t(e.nbytes / 2));
        std::memcpy(buf->data(), e.bytes, e.nbytes);
        const uint16_t* data = buf->data();
        *s.tensor = Tensor::from_bf16(e.shape, data, std::move(buf));
      } else {
        const uint16_t* data = nullptr;
        std::shared_ptr<const void> owner = bf16_buffer(values, &data);
        *s.tensor = Tensor::from_bf16(e.shape, data, std::move(owner));
      }
      s.tensor->set_requires_grad(grad);
      continue;
    }
    if (e.dtype != "F8_E4M3") values = ct.file->to_f32(e);
    s.tensor->copy_from(Tensor::from_vector(e.shape, values).to(s.tensor->device()));
  }
}

Transformer load_model(const std::string& dir, WeightMemory memory) {
  Fp8Blocks blocks;
  Transformer model(load_model_config(dir, &blocks));
  load_weights(model, open_checkpoint(dir), blocks, memory);
  return model;
}

// --- writing -------------------------------------------------------------------------------

void write_model_files(const std::string& dir, Transformer& model, const std::string& tokenizer_json,
                       const std::string& dtype) {
  std::vector<StTensor> weights = export_weights(model);
  write_file_atomic(dir + "/config.json", model.config().to_json().dump(2) + "\n");
  save_safetensors(dir + "/model.safetensors", weights, {{"format", "pt"}}, dtype);
  if (!tokenizer_json.empty()) write_file_atomic(dir + "/tokenizer.json", read_file(tokenizer_json));
}

void save_model(const std::string& dir, Transformer& model, const std::string& tokenizer_json) {
  replace_dir_atomic(dir, [&](const std::string& tmp) { write_model_files(tmp, model, tokenizer_json); });
}

}  // namespace r1
