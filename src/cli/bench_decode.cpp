// `r1 bench decode`: a released model's shape with random BF16 weights, run the way `r1 sample`
// runs a downloaded folder: the checkpoint is written to disk (BF16, one file), loaded with
// WeightMemory::Inference (memory-mapped, matrices used in place), then timed: load, prefill,
// one-token decode steps at each batch size, resident memory, and decode at batch 1 against the
// memory-bandwidth limit measured in the same process: weight bytes per step over a STREAM-style
// copy bandwidth (read + written bytes / s), and over a read-only bandwidth (a decode step only
// reads the weights; one core reads faster than it copies).
// Does not do: sampling (decode steps feed random ids; the logits are computed, not drawn from),
// GPU runs, tokenizers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <omp.h>

#include "autograd/autograd.h"
#include "cli/bench.h"
#include "model/checkpoint.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/rng.h"

namespace r1 {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Resident set size now and its peak (bytes), from /proc/self/status.
std::pair<int64_t, int64_t> rss_now_and_peak() {
  std::ifstream f("/proc/self/status");
  std::string line;
  int64_t now = 0, peak = 0;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) now = std::stoll(line.substr(6)) * 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stoll(line.substr(6)) * 1024;
  }
  return {now, peak};
}

// STREAM "Copy" bandwidth, its convention: (bytes read + bytes written) / s, best of 5 passes over
// two 256 MiB buffers, split over the OpenMP threads like the kernels.
double copy_bandwidth() {
  const size_t n = size_t(64) << 20;  // floats per buffer
  std::vector<float> a(n, 1.0f), b(n, 0.0f);
  double best = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < 64; c++) std::memcpy(b.data() + c * (n / 64), a.data() + c * (n / 64), n / 64 * sizeof(float));
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * double(n * sizeof(float)) / best;
}

// Read-only bandwidth (what a decode step does to the weights): bytes / s of a sum over a 512 MiB
// buffer (integer words, so the loop vectorizes), best of 5, split over the OpenMP threads.
double read_bandwidth() {
  const size_t n = size_t(64) << 20;  // uint64 words
  std::vector<uint64_t> a(n, 1);
  double best = 1e30;
  uint64_t sink = 0;
  for (int rep = 0; rep < 5; rep++) {
    auto t0 = Clock::now();
    uint64_t sum = 0;
#pragma omp parallel for schedule(static) reduction(+ : sum)
    for (int64_t i = 0; i < int64_t(n); i++) sum += a[size_t(i)];
    best = std::min(best, seconds_since(t0));
    sink += sum;
  }
  check(sink == 5 * n, "read_bandwidth: wrong sum");  // uses the sums, so the loop stays
  return double(n * sizeof(uint64_t)) / best;
}

// Random weights with HF init's scale, written as one BF16 file: norms 1, biases 0, matrices
// uniform with std 0.02 (cheap to draw; the values do not change the speed).
void write_random_checkpoint(const std::string& dir, const Config& c, uint64_t seed) {
  Transformer shape_only(c);  // parameters take no memory until used
  std::vector<StSource> tensors;
  for (const TensorSlot& s : shape_only.slots()) tensors.push_back({s.name, s.tensor->shape()});
  replace_dir_atomic(dir, [&](const std::string& tmp) {
    write_file_atomic(tmp + "/config.json", c.to_json().dump(2) + "\n");
    save_safetensors_streamed(
        tmp + "/model.safetensors", tensors,
        [&](size_t i) {
          const StSource& t = tensors[i];
          std::vector<float> v(size_t(st_numel(t.shape)), 0.0f);
          if (t.name.find("norm") != std::string::npos) std::fill(v.begin(), v.end(), 1.0f);
          else if (t.shape.size() == 2) {
            Rng rng(seed + i);
            const float a = 0.02f * 1.7320508f;  // uniform(-a, a) has std 0.02
            for (float& x : v) x = a * float(2.0 * rng.uniform() - 1.0);
          }
          return v;
        },
        {{"format", "pt"}}, "BF16");
  });
}

Ids random_ids(int64_t n, int64_t V, Rng& rng) {
  Ids ids(static_cast<size_t>(n));
  for (int32_t& t : ids) t = int32_t(rng.below(uint64_t(V)));
  return ids;
}

int run(Args& args) {
  if (args.flag("help")) {
    std::printf(
        "usage: r1 bench decode [--config data/presets/r1_distill_qwen_1.5b.json] [--batch 1,16] [--prompt-len 32]\n"
        "                       [--new-tokens 8] [--threads N] [--dir DIR] [--seed S] [--json]\n"
        "  Writes a random-weight BF16 checkpoint of the config (a Hugging Face config.json) to --dir (default: a\n"
        "  temporary folder, deleted after), loads it as r1 sample does (mmapped, BF16 matrices in place), then\n"
        "  times the load, a prefill of one --prompt-len prompt, and --new-tokens one-token decode steps after a\n"
        "  prefill at each --batch. Reports resident memory and decode at batch 1 against the bandwidth limit:\n"
        "  weight bytes read per step / STREAM copy bandwidth measured in the same run.\n");
    return 0;
  }
  const std::string config_path = args.str("config", "data/presets/r1_distill_qwen_1.5b.json");
  const std::vector<int64_t> batches = args.int_list("batch", "1,16");
  const int64_t P = args.integer("prompt-len", 32), N = args.integer("new-tokens", 8);
  const int64_t threads = args.integer("threads", 0);
  const uint64_t seed = uint64_t(args.integer("seed", 0));
  std::string dir = args.str("dir", "");
  const bool json = args.flag("json");
  args.finish();
  check(P >= 1 && N >= 1, "r1 bench decode: --prompt-len and --new-tokens must be >= 1");
  for (int64_t b : batches) check(b >= 1, "r1 bench decode --batch: sizes must be >= 1, got ", b);
  set_threads(threads);
  const Config config = Config::from_json(Json::parse_file(config_path), config_path);
  std::unique_ptr<TempDir> tmp;
  if (dir.empty()) {
    tmp = std::make_unique<TempDir>("r1-bench-decode-");
    dir = tmp->file("model");
  }

  auto t0 = Clock::now();
  write_random_checkpoint(dir, config, seed);
  const double write_s = seconds_since(t0);

  t0 = Clock::now();
  Transformer model = load_model(dir, WeightMemory::Inference);
  const double load_s = seconds_since(t0);
  const int64_t rss_loaded = rss_now_and_peak().first;

  // Bytes one decode step reads: every matrix but the embedding (one row of it), every vector.
  int64_t step_bytes = 0, params = 0;
  for (const TensorSlot& s : model.slots()) {
    params += s.tensor->numel();
    if (s.name == "model.embed_tokens.weight" && !config.tie_word_embeddings) continue;
    step_bytes += s.tensor->numel() * (s.tensor->bf16_data() ? 2 : 4);
  }

  NoGradGuard guard;
  Rng rng(seed + 1000003);
  const int64_t V = config.vocab_size;
  // Warm-up: one short prefill touches every weight page once (they come from the page cache).
  {
    KVCache cache = model.new_cache(1);
    model.forward_cached(random_ids(4, V, rng), 1, 4, cache);
  }
  KVCache pc = model.new_cache(1);
  t0 = Clock::now();
  model.forward_cached(random_ids(P, V, rng), 1, P, pc);
  const double prefill_tps = double(P) / seconds_since(t0);

  Json runs = Json::array();
  for (int64_t B : batches) {
    KVCache cache = model.new_cache(B);
    model.forward_cached(random_ids(B * P, V, rng), B, P, cache);
    t0 = Clock::now();
    for (int64_t i = 0; i < N; i++) model.forward_cached(random_ids(B, V, rng), B, 1, cache);
    const double s = seconds_since(t0);
    Json r = Json::object();
    r["batch"] = B;
    r["decode_tokens_per_s"] = double(B * N) / s;
    r["step_ms"] = 1000.0 * s / double(N);
    runs.push_back(r);
  }
  const auto [rss_end, rss_peak] = rss_now_and_peak();
  // Measured last, so that their buffers are not in the resident-memory figures.
  const double bandwidth = copy_bandwidth(), read_bw = read_bandwidth();
  const double limit_tps = bandwidth / double(step_bytes), read_limit_tps = read_bw / double(step_bytes);

  Json out = Json::object();
  out["config"] = config_path;
  out["parameters"] = params;
  out["threads"] = int64_t(omp_get_max_threads());
  out["checkpoint_write_s"] = write_s;
  out["load_s"] = load_s;
  out["rss_after_load_bytes"] = rss_loaded;
  out["rss_end_bytes"] = rss_end;
  out["rss_peak_bytes"] = rss_peak;
  out["prefill_tokens_per_s"] = prefill_tps;
  out["prompt_len"] = P;
  out["new_tokens"] = N;
  out["decode"] = runs;
  out["step_weight_bytes"] = step_bytes;
  out["copy_bandwidth_bytes_per_s"] = bandwidth;
  out["bandwidth_limit_tokens_per_s"] = limit_tps;
  out["read_bandwidth_bytes_per_s"] = read_bw;
  out["read_limit_tokens_per_s"] = read_limit_tps;
  const double b1 = batches.front() == 1 ? runs.as_array()[0].at("decode_tokens_per_s").as_number() : 0.0;
  if (batches.front() == 1) {
    out["batch1_fraction_of_limit"] = b1 / limit_tps;
    out["batch1_fraction_of_read_limit"] = b1 / read_limit_tps;
  }
  if (json) {
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  std::printf("%s: %lld parameters, %d threads\n", config_path.c_str(), (long long)params, omp_get_max_threads());
  std::printf("  load %.3f s (checkpoint written in %.1f s), RSS after load %.2f GB, at end %.2f GB, peak %.2f GB\n",
              load_s, write_s, double(rss_loaded) / 1e9, double(rss_end) / 1e9, double(rss_peak) / 1e9);
  std::printf("  prefill %lld tokens: %.1f tokens/s\n", (long long)P, prefill_tps);
  for (const Json& r : runs.as_array())
    std::printf("  decode batch %lld: %.2f tokens/s (%.0f ms/step)\n", (long long)r.at("batch").as_int(),
                r.at("decode_tokens_per_s").as_number(), r.at("step_ms").as_number());
  std::printf("  copy bandwidth %.1f GB/s, %.2f GB of weights per step: limit %.2f tokens/s at batch 1", bandwidth / 1e9,
              double(step_bytes) / 1e9, limit_tps);
  if (batches.front() == 1) std::printf(", measured %.0f%% of it", 100.0 * b1 / limit_tps);
  std::printf("\n  read bandwidth %.1f GB/s: limit %.2f tokens/s", read_bw / 1e9, read_limit_tps);
  if (batches.front() == 1) std::printf(", measured %.0f%% of it", 100.0 * b1 / read_limit_tps);
  std::printf("\n");
  return 0;
}

}  // namespace

static const bool registered = register_bench(
    {"decode", "a released config with random BF16 weights: load, RSS, prefill and decode tokens/s vs bandwidth", run});

}  // namespace r1
