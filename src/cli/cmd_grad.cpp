// `r1 grad`: the gradient of the training loss of one token sequence with respect to every
// trainable parameter, under the checkpoint's tensor names, as reference numbers for other
// implementations. The loss is the mean next-token cross-entropy plus, when aux_loss_alpha > 0,
// the sequence-wise balance loss of every MoE layer.
#include <cstdio>

#include "autograd/autograd.h"
#include "cli/command.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "util/error.h"
#include "util/json.h"

namespace r1 {

static const char* kUsage =
    "usage: r1 grad --model DIR --tokens \"5,17,3,...\" --out FILE.safetensors [--device cpu|cuda] [--json]\n"
    "  --model   model directory (config.json + model.safetensors)\n"
    "  --tokens  the sequence's token ids, comma-separated (T >= 2)\n"
    "  --out     writes d(loss)/d(param) for every trainable parameter under its checkpoint name (F32);\n"
    "            e_score_correction_bias is not trainable and not written; a routed expert no token\n"
    "            reached gets zeros\n"
    "  --device  where the model runs: cpu (default) or cuda\n"
    "  --json    print {\"loss\": x, \"ce_loss\": x, \"aux_loss\": x}\n"
    "  loss = mean next-token cross-entropy (+ balance loss when aux_loss_alpha > 0).";

static int run(Args& args) {
  std::string dir = args.str("model"), out = args.str("out");
  std::vector<int64_t> tokens = parse_int_list(args.str("tokens"), "r1 grad --tokens");
  bool json = args.flag("json");
  std::string device_flag = args.str("device", "cpu");
  args.finish();
  const Device device = usable_device(device_flag);
  check(tokens.size() >= 2, "r1 grad --tokens: need at least 2 token ids (one next-token prediction)");
  Transformer model = load_model(dir);
  model.to(device);
  const int64_t T = int64_t(tokens.size()), V = model.config().vocab_size;
  Ids ids(tokens.begin(), tokens.end());
  for (int64_t t : tokens) check(t >= 0 && t < V, "r1 grad --tokens: id ", t, " is outside [0, ", V, ")");

  ModelOutput o = model.forward(ids, 1, T);
  Tensor ce = cross_entropy(o.logits, next_token_targets(ids, 1, T));
  Tensor loss = o.aux_loss.defined() ? add(ce, o.aux_loss) : ce;
  backward(loss);
  std::vector<StTensor> grads;
  for (const auto& [name, p] : model.parameters()) {
    Tensor g = p.grad().defined() ? p.grad() : Tensor::zeros(p.shape());
    grads.push_back({name, p.shape(), g.to_vector(), "F32"});
  }
  save_safetensors(out, grads);
  float aux = o.aux_loss.defined() ? o.aux_loss.item() : 0.0f;
  if (json) {
    Json j = Json::object();
    j["loss"] = loss.item();
    j["ce_loss"] = ce.item();
    j["aux_loss"] = aux;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("loss %.9g (cross-entropy %.9g + balance %.9g); wrote %zu gradients to %s\n", loss.item(), ce.item(),
                aux, grads.size(), out.c_str());
  }
  return 0;
}

static const bool registered =
    register_command({"grad", "parameter gradients of the training loss of a token sequence", kUsage, run});

}  // namespace r1
