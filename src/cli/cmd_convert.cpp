// `r1 convert --model DIR --dtype bf16|f32 --out DIR2`: rewrites a model folder as one
// model.safetensors in BF16 or F32 (any readable input: one file or shards, F32, BF16, F16, or FP8
// with block scales, which are applied), with config.json (quantization_config dropped: the
// weights are no longer FP8) and the tokenizer files copied. One tensor is in memory at a time;
// DIR2 is replaced atomically. BF16 rounds to nearest even; F32 -> BF16 -> F32 is exact for
// values that came from BF16.
// Does not do: writing FP8 or shards, converting in place (--out must differ from --model).
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 convert --model DIR --dtype bf16|f32 --out DIR2 [--json]\n"
    "  --model  a model folder (one file or shards; F32, BF16, F16 or FP8-block weights)\n"
    "  --dtype  bf16 or f32: the dtype of every tensor of DIR2/model.safetensors\n"
    "  --out    the new folder (replaced atomically; must not be DIR)\n"
    "  --json   print {\"out\": DIR2, \"tensors\": n, \"bytes\": size of model.safetensors}\n"
    "  Copies tokenizer.json, tokenizer_config.json and generation_config.json when present.";

static const char* kCopied[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json"};

static int run(Args& args) {
  namespace fs = std::filesystem;
  const std::string dir = args.str("model"), out = args.str("out"), dtype_flag = args.str("dtype");
  const bool json = args.flag("json");
  args.finish();
  check(dtype_flag == "bf16" || dtype_flag == "f32", "r1 convert --dtype: expected bf16 or f32, got '", dtype_flag, "'");
  const std::string dtype = dtype_flag == "bf16" ? "BF16" : "F32";
  check(!(fs::exists(out) && fs::equivalent(dir, out)), "r1 convert: --out ", out, " is the input folder");
  Fp8Blocks blocks;
  Transformer model(load_model_config(dir, &blocks));
  Checkpoint ckpt = open_checkpoint(dir);
  check_weights(model, ckpt, blocks);
  std::vector<StSource> tensors;
  for (const TensorSlot& s : model.slots()) tensors.push_back({s.name, s.tensor->shape()});
  replace_dir_atomic(out, [&](const std::string& tmp) {
    write_file_atomic(tmp + "/config.json", model.config().to_json().dump(2) + "\n");
    save_safetensors_streamed(
        tmp + "/model.safetensors", tensors, [&](size_t i) { return checkpoint_values(ckpt, tensors[i].name, blocks); },
        {{"format", "pt"}}, dtype);
    for (const char* f : kCopied)
      if (fs::exists(dir + "/" + f)) write_file_atomic(tmp + "/" + f, read_file(dir + "/" + f));
  });
  if (json) {
    Json o = Json::object();
    o["out"] = out;
    o["tensors"] = int64_t(tensors.size());
    o["bytes"] = int64_t(fs::file_size(out + "/model.safetensors"));
    std::printf("%s\n", o.dump().c_str());
  } else {
    std::printf("wrote %s (%zu tensors, %s)\n", out.c_str(), tensors.size(), dtype.c_str());
  }
  return 0;
}

static const bool registered =
    register_command({"convert", "rewrite a model folder as one BF16 or F32 file (dequantizes FP8)", kUsage, run});

}  // namespace r1
