// `r1 forward`: the logits of one token sequence, as reference numbers for other
// implementations, and the mean next-token cross-entropy of the sequence.
#include <cstdio>

#include "autograd/autograd.h"
#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "util/error.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 forward --model DIR --tokens \"5,17,3,...\" --out FILE.safetensors [--device cpu|cuda] [--json]\n"
    "  --model   model directory (config.json + model.safetensors)\n"
    "  --tokens  the sequence's token ids, comma-separated (T >= 1)\n"
    "  --out     writes tensor \"logits\" of shape [T, vocab_size] (F32)\n"
    "  --device  where the model runs: cpu (default) or cuda\n"
    "  --json    print {\"loss\": x, \"tokens\": T} (loss is null when T < 2)\n"
    "  Prints the mean next-token cross-entropy of the sequence (logits[t] predicting token t+1).";

static int run(Args& args) {
  std::string dir = args.str("model"), out = args.str("out");
  std::vector<int64_t> tokens = parse_int_list(args.str("tokens"), "r1 forward --tokens");
  bool json = args.flag("json");
  std::string device_flag = args.str("device", "cpu");
  args.finish();
  const Device device = usable_device(device_flag);
  check(!tokens.empty(), "r1 forward --tokens: no token ids given");
  Transformer model = load_model(dir, WeightMemory::Inference);  // BF16/FP8 matrices stay BF16
  model.to(device);
  const int64_t T = int64_t(tokens.size()), V = model.config().vocab_size;
  Ids ids(tokens.begin(), tokens.end());
  for (int64_t t : tokens) check(t >= 0 && t < V, "r1 forward --tokens: id ", t, " is outside [0, ", V, ")");

  NoGradGuard guard;
  ModelOutput o = model.forward(ids, 1, T);
  save_safetensors(out, {{"logits", {T, V}, o.logits.to_vector(), "F32"}});
  Json loss = T >= 2 ? Json(cross_entropy(o.logits, next_token_targets(ids, 1, T)).item()) : Json();
  if (json) {
    Json j = Json::object();
    j["loss"] = loss;
    j["tokens"] = T;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("loss %s over %lld tokens; wrote logits [%lld, %lld] to %s\n", loss.dump().c_str(), (long long)T,
                (long long)T, (long long)V, out.c_str());
  }
  return 0;
}

static const bool registered =
    register_command({"forward", "logits and next-token loss of a token sequence (reference numbers)", kUsage, run});

}  // namespace r1
