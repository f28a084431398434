// `r1 init`: a randomly initialized model directory (config.json, model.safetensors and,
// when given, a copy of tokenizer.json). Weights ~ normal(0, initializer_range), norms 1,
// biases 0, drawn from --seed in checkpoint order (see model/transformer.h init_weights).
#include <cstdio>

#include "cli/command.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 init --config CONFIG.json --out DIR [--tokenizer FILE] [--seed S] [--json]\n"
    "  --config     model config (Hugging Face config.json fields; see docs/model.md)\n"
    "  --out        model directory to write (replaced atomically if it exists)\n"
    "  --tokenizer  tokenizer.json to copy into DIR (default: none)\n"
    "  --seed       RNG seed of the weights (default 0)\n"
    "  --json       print {\"out\", \"parameters\", \"active_parameters\"} instead of a sentence";

static int run(Args& args) {
  std::string config_path = args.str("config"), out = args.str("out"), tokenizer = args.str("tokenizer", "");
  int64_t seed = args.integer("seed", 0);
  bool json = args.flag("json");
  args.finish();
  Transformer model(Config::load(config_path));
  model.init_weights(uint64_t(seed));
  save_model(out, model, tokenizer);
  const Config& c = model.config();
  if (json) {
    Json j = Json::object();
    j["out"] = out;
    j["parameters"] = c.num_parameters();
    j["active_parameters"] = c.num_active_parameters();
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("wrote %s: %s, %lld parameters (%lld active per token)\n", out.c_str(), c.model_type.c_str(),
                (long long)c.num_parameters(), (long long)c.num_active_parameters());
  }
  return 0;
}

static const bool registered = register_command({"init", "write a randomly initialized model directory", kUsage, run});

}  // namespace r1
