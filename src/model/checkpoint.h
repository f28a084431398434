// Model directories (Hugging Face layout):
//   DIR/config.json                   Config (HF field names; quantization_config read here)
//   DIR/model.safetensors             every tensor under its HF name, or, when that file is absent,
//   DIR/model.safetensors.index.json  {"weight_map": {tensor name: shard file}} and the shards
//   DIR/tokenizer.json                the tokenizer, copied through when given (not parsed here)
// Files are memory-mapped; a tensor's bytes are read when it is loaded. Tensors may be F32,
// BF16, F16, or F8_E4M3 with DeepSeek-V3's block scales: next to an FP8 "X.weight" of shape
// (R, C) a "X.weight_scale_inv" of shape (ceil(R/br), ceil(C/bc)) (br x bc =
// quantization_config.weight_block_size), and the weight is fp8[i][j] * scale_inv[i/br][j/bc].
// Loading is strict: every tensor the config implies must be present with its exact shape and
// a readable dtype, no other tensor may be present (except the MTP layers' tensors of a
// deepseek_v3 config, Config::is_mtp_tensor, which are skipped: never converted or held), and an
// index must agree with its shards
// both ways; all mismatches are reported by file and tensor name in one error. Writing replaces
// DIR atomically (util/fs.h replace_dir_atomic), one F32 or BF16 file.
// Does not do: writing shards or FP8, optimizer state (src/train/).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "util/safetensors.h"

namespace r1 {

// How loading keeps the weights in memory.
enum class WeightMemory {
  F32,        // every tensor float32, copied into the model's own storage (training, as before)
  Inference,  // matrices stored as BF16 stay BF16 (the mapped bytes themselves), FP8 matrices are
              // dequantized to BF16; F32/F16 matrices and every vector become float32
};

// One stored tensor: the mapped file it lives in and its entry there.
struct CheckpointTensor {
  std::shared_ptr<const MappedSafetensors> file;
  const StEntry* entry;
};

// The tensors of a model directory, every file mapped and cross-checked with the index.
struct Checkpoint {
  std::string dir;
  std::string index_path;  // DIR/model.safetensors.index.json, or "" for a single file
  std::vector<std::shared_ptr<const MappedSafetensors>> files;  // the single file or the shards, by name
  std::map<std::string, CheckpointTensor> tensors;              // by tensor name
};
Checkpoint open_checkpoint(const std::string& dir);

// config.json's quantization_config.weight_block_size ({0, 0} when the config has none).
struct Fp8Blocks {
  int64_t rows = 0, cols = 0;
};

// DIR/config.json -> Config; quantization_config (fp8 only) is taken out into *blocks.
Config load_model_config(const std::string& dir, Fp8Blocks* blocks);

// Throws the load's strict-match error (every missing, unexpected, mis-shaped or unscaled tensor,
// by file and name) without reading any tensor data.
void check_weights(Transformer& model, const Checkpoint& ckpt, const Fp8Blocks& blocks);

// One stored tensor's values as float32: FP8 weights dequantized with their block scale.
std::vector<float> checkpoint_values(const Checkpoint& ckpt, const std::string& name, const Fp8Blocks& blocks);

// The model's tensors under their checkpoint names (float32 host copies, from any device), in
// checkpoint order. The device is not recorded: a checkpoint loads on either.
std::vector<StTensor> export_weights(Transformer& model);

// Copies the file's tensors into the model, on whatever device it lives. Throws r1::Error naming
// the file and every missing, unexpected, mis-shaped or wrongly typed tensor. The config's MTP
// tensors are skipped.
void load_weights(Transformer& model, const SafetensorsFile& file);
// The same from a checkpoint directory, holding the weights as `memory` says (Inference needs a
// model on the CPU).
void load_weights(Transformer& model, const Checkpoint& ckpt, const Fp8Blocks& blocks, WeightMemory memory);

// The same two over any list of slots (the reward model: the backbone's slots plus its head).
std::vector<StTensor> export_slots(const TensorSlots& slots);
// skip: names of file tensors that are neither loaded nor reported as unexpected.
void load_slots(const TensorSlots& slots, const SafetensorsFile& file,
                const std::function<bool(const std::string&)>& skip = {});

// DIR/config.json + the checkpoint -> a model on the CPU.
Transformer load_model(const std::string& dir, WeightMemory memory = WeightMemory::F32);

// Writes config.json, model.safetensors and (when tokenizer_json is not empty) a copy of that
// file as tokenizer.json into DIR, replacing DIR atomically. tokenizer_json may lie inside DIR.
void save_model(const std::string& dir, Transformer& model, const std::string& tokenizer_json = "");

// The same three files written into an existing folder (no directory swap), for callers that
// assemble a larger atomic directory themselves (training checkpoints add optimizer state).
// dtype: "F32" or "BF16" for model.safetensors.
void write_model_files(const std::string& dir, Transformer& model, const std::string& tokenizer_json = "",
                       const std::string& dtype = "F32");

}  // namespace r1
