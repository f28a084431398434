// `r1 inspect DIR`: what a model folder holds and what it needs, read from config.json and the
// safetensors headers only (no tensor data is read): the config summary, the parameter count,
// tensors and bytes per dtype, the files (single or shards), and the weight memory for
// inference (BF16 matrices + float32 vectors, as `r1 sample` holds a BF16/FP8 checkpoint) and
// for training (float32 weights, gradients and AdamW's two moments: 16 bytes per parameter).
// The checkpoint is checked against the config as strictly as loading it would be.
// Does not do: KV-cache or activation memory (they depend on batch and length; see docs/models.md).
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 inspect DIR [--json]\n"
    "  DIR     a model folder: config.json + model.safetensors, or model.safetensors.index.json + shards\n"
    "  --json  print one JSON document instead of the summary\n"
    "  Reads headers only. Memory: inference = 2 bytes per matrix parameter + 4 per vector parameter\n"
    "  (BF16 weights, what r1 sample holds for a BF16 or FP8 checkpoint; a F32 checkpoint is held in F32\n"
    "  unless converted with r1 convert --dtype bf16); training = 16 bytes per parameter (F32 weights,\n"
    "  gradients, AdamW m and v). Neither counts the KV cache or activations.";

static std::string gb(double bytes) {
  char b[32];
  if (bytes >= 1e9) std::snprintf(b, sizeof b, "%.2f GB", bytes / 1e9);
  else if (bytes >= 1e6) std::snprintf(b, sizeof b, "%.2f MB", bytes / 1e6);
  else std::snprintf(b, sizeof b, "%.1f KB", bytes / 1e3);
  return b;
}

static int run(Args& args) {
  const std::string dir = args.next_positional("model folder");
  const bool json = args.flag("json");
  args.finish();
  Fp8Blocks blocks;
  Transformer model(load_model_config(dir, &blocks));  // parameters take no memory until used
  Checkpoint ckpt = open_checkpoint(dir);
  check_weights(model, ckpt, blocks);
  const Config& c = model.config();

  int64_t params = 0, matrix_params = 0, stored_bytes = 0;
  for (const TensorSlot& s : model.slots()) {
    params += s.tensor->numel();
    if (s.tensor->dim() == 2) matrix_params += s.tensor->numel();
  }
  struct Count {
    int64_t tensors = 0, bytes = 0;
  };
  std::map<std::string, Count> dtypes;
  for (const auto& kv : ckpt.tensors) {
    Count& n = dtypes[kv.second.entry->dtype];
    n.tensors++;
    n.bytes += int64_t(kv.second.entry->nbytes);
    stored_bytes += int64_t(kv.second.entry->nbytes);
  }
  const int64_t inference = 2 * matrix_params + 4 * (params - matrix_params), training = 16 * params;

  Json files = Json::array();
  for (const auto& f : ckpt.files) {
    Json e = Json::object();
    e["file"] = std::filesystem::path(f->path()).filename().string();
    e["bytes"] = int64_t(f->file_size());
    e["tensors"] = int64_t(f->entries().size());
    files.push_back(e);
  }
  if (json) {
    Json out = Json::object();
    out["dir"] = dir;
    out["config"] = c.to_json();
    if (blocks.rows > 0) out["fp8_block"] = Json(Json::Array{Json(blocks.rows), Json(blocks.cols)});
    out["parameters"] = params;
    out["matrix_parameters"] = matrix_params;
    Json d = Json::object();
    for (const auto& kv : dtypes) {
      Json e = Json::object();
      e["tensors"] = kv.second.tensors;
      e["bytes"] = kv.second.bytes;
      d[kv.first] = e;
    }
    out["dtypes"] = d;
    out["sharded"] = !ckpt.index_path.empty();
    out["files"] = files;
    out["stored_bytes"] = stored_bytes;
    out["inference_bf16_bytes"] = inference;
    out["training_bytes"] = training;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%s\n", dir.c_str());
  std::printf("  model       %s, %lld layers, hidden %lld, %lld heads (%lld kv, head_dim %lld), vocab %lld, %s head\n",
              c.model_type.c_str(), (long long)c.num_hidden_layers, (long long)c.hidden_size,
              (long long)c.num_attention_heads, (long long)c.num_key_value_heads, (long long)c.head_dim,
              (long long)c.vocab_size, c.tie_word_embeddings ? "tied" : "untied");
  if (c.is_moe())
    std::printf("  moe         %lld routed experts (%lld per token) + %lld shared, width %lld\n",
                (long long)c.n_routed_experts, (long long)c.num_experts_per_tok, (long long)c.n_shared_experts,
                (long long)c.moe_intermediate_size);
  if (c.is_mla())
    std::printf("  mla         kv_lora_rank %lld, q_lora_rank %lld\n", (long long)c.kv_lora_rank, (long long)c.q_lora_rank);
  if (blocks.rows > 0) std::printf("  fp8 blocks  %lld x %lld\n", (long long)blocks.rows, (long long)blocks.cols);
  std::printf("  parameters  %lld (%lld in matrices)\n", (long long)params, (long long)matrix_params);
  for (const auto& kv : dtypes)
    std::printf("  dtype       %-8s %6lld tensors  %s\n", kv.first.c_str(), (long long)kv.second.tensors,
                gb(double(kv.second.bytes)).c_str());
  std::printf("  files       %s\n", ckpt.index_path.empty() ? "one file" : cat(ckpt.files.size(), " shards + index").c_str());
  for (const Json& f : files.as_array())
    std::printf("              %s  %s  %lld tensors\n", f.at("file").as_string().c_str(),
                gb(f.at("bytes").as_number()).c_str(), (long long)f.at("tensors").as_int());
  std::printf("  memory      inference (BF16 weights) %s, training (F32 + AdamW) %s\n", gb(double(inference)).c_str(),
              gb(double(training)).c_str());
  return 0;
}

static const bool registered =
    register_command({"inspect", "a model folder's config, parameters, dtypes, shards and memory need", kUsage, run});

}  // namespace r1
