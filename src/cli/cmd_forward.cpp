// `r1 forward`: the logits of one token sequence, as reference numbers for other
// implementations, and the mean next-token cross-entropy of the sequence.
#include <cstdio>
#include <optional>

#include "autograd/autograd.h"
#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "model/dump.h"
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
    "  --dump FILE.safetensors  also write every intermediate of the forward pass, in forward order\n"
    "            (names: docs/verify.md \"Model diffs, layer by layer\"; compare two with `r1 diff`)\n"
    "  --dump-attention  include the attention probabilities (H x T x T per layer) in the dump\n"
    "  Prints the mean next-token cross-entropy of the sequence (logits[t] predicting token t+1).";

static int run(Args& args) {
  std::string dir = args.str("model"), out = args.str("out");
  std::vector<int64_t> tokens = parse_int_list(args.str("tokens"), "r1 forward --tokens");
  bool json = args.flag("json");
  std::string device_flag = args.str("device", "cpu");
  std::string dump_path = args.str("dump", "");
  bool dump_probs = args.flag("dump-attention");
  args.finish();
  check(!dump_probs || !dump_path.empty(), "r1 forward: --dump-attention needs --dump FILE");
  const Device device = usable_device(device_flag);
  check(!tokens.empty(), "r1 forward --tokens: no token ids given");
  Transformer model = load_model(dir, WeightMemory::Inference);  // BF16/FP8 matrices stay BF16
  model.to(device);
  const int64_t T = int64_t(tokens.size()), V = model.config().vocab_size;
  Ids ids(tokens.begin(), tokens.end());
  for (int64_t t : tokens) check(t >= 0 && t < V, "r1 forward --tokens: id ", t, " is outside [0, ", V, ")");

  NoGradGuard guard;
  ForwardDump dump(dump_probs);
  ModelOutput o;
  {
    std::optional<DumpScope> scope;
    if (!dump_path.empty()) scope.emplace(dump);
    o = model.forward(ids, 1, T);
  }
  if (!dump_path.empty()) dump.save(dump_path);
  save_safetensors(out, {{"logits", {T, V}, o.logits.to_vector(), "F32"}});
  Json loss = T >= 2 ? Json(cross_entropy(o.logits, next_token_targets(ids, 1, T)).item()) : Json();
  if (json) {
    Json j = Json::object();
    j["loss"] = loss;
    j["tokens"] = T;
    if (!dump_path.empty()) j["dump_tensors"] = int64_t(dump.tensors().size());
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("loss %s over %lld tokens; wrote logits [%lld, %lld] to %s\n", loss.dump().c_str(), (long long)T,
                (long long)T, (long long)V, out.c_str());
    if (!dump_path.empty())
      std::printf("wrote %zu intermediate tensors to %s\n", dump.tensors().size(), dump_path.c_str());
  }
  return 0;
}

static const bool registered =
    register_command({"forward", "logits and next-token loss of a token sequence (reference numbers)", kUsage, run});

}  // namespace r1
