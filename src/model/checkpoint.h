// Model directories (Hugging Face layout):
//   DIR/config.json         Config (HF field names)
//   DIR/model.safetensors   every tensor under its HF name, F32 (F32 or BF16 accepted on load)
//   DIR/tokenizer.json      the tokenizer, copied through when given (not parsed here)
// Loading is strict: every tensor the config implies must be present with its exact shape and
// an accepted dtype, and no other tensor may be present (except the MTP layers' tensors of a
// deepseek_v3 config, Config::is_mtp_tensor, which are skipped unread); all mismatches are
// reported by name in one error. Writing replaces DIR atomically (util/fs.h replace_dir_atomic).
// Does not do: sharded checkpoints (model-0000x-of-0000y), optimizer state (src/train/).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "model/transformer.h"
#include "util/safetensors.h"

namespace r1 {

// The model's tensors under their checkpoint names (float32 host copies, from any device), in
// checkpoint order. The device is not recorded: a checkpoint loads on either.
std::vector<StTensor> export_weights(Transformer& model);

// Copies the file's tensors into the model, on whatever device it lives. Throws r1::Error naming
// the file and every missing, unexpected, mis-shaped or wrongly typed tensor. The config's MTP
// tensors are skipped.
void load_weights(Transformer& model, const SafetensorsFile& file);

// The same two over any list of slots (the reward model: the backbone's slots plus its head).
std::vector<StTensor> export_slots(const TensorSlots& slots);
// skip: names of file tensors that are neither loaded nor reported as unexpected.
void load_slots(const TensorSlots& slots, const SafetensorsFile& file,
                const std::function<bool(const std::string&)>& skip = {});

// DIR/config.json + DIR/model.safetensors -> a model.
Transformer load_model(const std::string& dir);

// Writes config.json, model.safetensors and (when tokenizer_json is not empty) a copy of that
// file as tokenizer.json into DIR, replacing DIR atomically. tokenizer_json may lie inside DIR.
void save_model(const std::string& dir, Transformer& model, const std::string& tokenizer_json = "");

// The same three files written into an existing folder (no directory swap), for callers that
// assemble a larger atomic directory themselves (training checkpoints add optimizer state).
void write_model_files(const std::string& dir, Transformer& model, const std::string& tokenizer_json = "");

}  // namespace r1
