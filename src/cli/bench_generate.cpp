// `r1 bench generate`: batched decode throughput with the KV cache on random prompts.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/bench.h"
#include "model/checkpoint.h"
#include "model/device.h"
#include "sample/generate.h"
#include "util/error.h"
#include "util/json.h"

namespace r1 {

static int run(Args& args) {
  if (args.flag("help")) {
    std::printf("usage: r1 bench generate --model DIR [--batch B] [--prompt-len P] [--new-tokens N] [--threads N]\n"
                "                         [--seed S] [--device cpu|cuda] [--json]\n"
                "  Prefills B random prompts of P tokens, then samples N new tokens each (temperature 1, no EOS),\n"
                "  after one warm-up run of 4 tokens. Prints decode tokens/s (the B*(N-1) tokens of the\n"
                "  one-token steps over their time) and prefill tokens/s (B*P over the prefill and first draw).\n"
                "  Defaults: --batch 16 --prompt-len 32 --new-tokens 64 --device cpu (cuda: generate on the GPU).\n");
    return 0;
  }
  const Device device = usable_device(args.str("device", "cpu"));
  Transformer model = load_model(args.str("model"), WeightMemory::Inference);
  model.to(device);
  int64_t B = args.integer("batch", 16), P = args.integer("prompt-len", 32), N = args.integer("new-tokens", 64);
  int64_t threads = args.integer("threads", 0);
  uint64_t seed = uint64_t(args.integer("seed", 0));
  bool json = args.flag("json");
  args.finish();
  if (B < 1 || P < 1 || N < 1) throw Error("r1 bench generate: --batch, --prompt-len, --new-tokens must be >= 1");
  set_threads(threads);
  Rng rng(seed);
  int64_t V = model.config().vocab_size;
  std::vector<Ids> prompts(static_cast<size_t>(B));
  std::vector<uint64_t> seeds;
  for (auto& p : prompts) {
    for (int64_t t = 0; t < P; t++) p.push_back(int32_t(rng.below(uint64_t(V))));
    seeds.push_back(rng.next());
  }
  // One warm-up run of 4 tokens, then the timed run. Decode time runs from the moment every
  // sequence has its first token (the prefill's) to the end, so decode tokens/s counts the
  // B * (N - 1) tokens of the one-token steps; prefill time is up to that moment.
  GenerateOptions opt;
  opt.max_new_tokens = std::min<int64_t>(N, 4);
  generate(model, prompts, seeds, opt);
  int64_t sampled = 0;
  auto t0 = std::chrono::steady_clock::now(), t1 = t0;
  opt.on_token = [&](size_t, int32_t) {
    if (++sampled == B) t1 = std::chrono::steady_clock::now();
  };
  opt.max_new_tokens = N;
  generate(model, prompts, seeds, opt);
  auto t2 = std::chrono::steady_clock::now();
  double prefill_s = std::chrono::duration<double>(t1 - t0).count();
  double decode_s = std::chrono::duration<double>(t2 - t1).count();
  double tps = N > 1 ? double(B * (N - 1)) / decode_s : 0.0, pps = double(B * P) / prefill_s;
  if (json) {
    Json out = Json::object();
    out["tokens_per_s"] = tps;
    out["prefill_tokens_per_s"] = pps;
    out["batch"] = B;
    out["prompt_len"] = P;
    out["new_tokens"] = N;
    out["device"] = device_name(device);
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf("batch %lld prompt %lld new %lld, %s: decode %.0f tokens/s, prefill %.0f tokens/s\n", (long long)B,
                (long long)P, (long long)N, device_name(device), tps, pps);
  }
  return 0;
}

static const bool registered =
    register_bench({"generate", "batched KV-cache decode throughput: --model DIR --batch B --new-tokens N [--device cpu|cuda]", run});

}  // namespace r1
