// bench_attention: a standalone benchmark of cuda/attention.cu, cuda/optim.cu and cuda/sample.cu
// for cuda/run_device_checks.sh. It times, with CUDA events, the median of a few repeats after a
// warm-up:
//   - attention forward and backward (causal) for prefill shapes of the model (head dim 64, GQA),
//     an MLA-like shape (Dk 192, Dv 128) and decode steps (T = 1 over S keys)
//     -> ms and effective TFLOP/s (the forward counts 2 T S (Dk + Dv) per head and halves it for
//        a causal prefill; the backward counts 2.5x the forward: it recomputes the scores twice)
//   - AdamW on 10M and 100M parameters and the grad-norm sum of squares -> GB/s of compulsory traffic
//   - sampling B rows of V logits (greedy, temperature only, top-k + top-p) -> microseconds per call
// Usage: bench_attention [--quick]   (--quick: fewer and smaller cases, for a smoke run)
// Not built by the Makefile; the device-check script builds it with nvcc against the objects of
// a CUDA build. Not a test: it checks nothing (tests/test_cuda_attention.cpp does).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "bench_util.cuh"
#include "cuda_api.h"
#include "util/error.h"

using namespace r1;

using r1::bench::device_buffer;
using r1::bench::median_ms;

// --- attention -----------------------------------------------------------------------------------

static void bench_attention(bool quick) {
  struct Case {
    const char* name;
    cpu::AttentionShape s;
  };
  std::vector<Case> cases = {
      {"prefill  B 8  H 8/8   T=S 512   D 64", {8, 8, 8, 512, 512, 64, 64}},
      {"prefill  B 4  H 16/4  T=S 2048  D 64", {4, 16, 4, 2048, 2048, 64, 64}},
      {"prefill  B 4  H 16/16 T=S 1024  MLA 192/128", {4, 16, 16, 1024, 1024, 192, 128}},
      {"decode   B 64 H 16/4  T 1 S 2048 D 64", {64, 16, 4, 1, 2048, 64, 64}},
  };
  if (quick) cases.resize(1);
  std::printf("%-46s %10s %9s %10s %9s\n", "attention (causal)", "fwd ms", "TFLOP/s", "bwd ms", "TFLOP/s");
  for (const Case& c : cases) {
    const cpu::AttentionShape& s = c.s;
    float* q = device_buffer(s.B * s.H * s.T * s.Dk);
    float* k = device_buffer(s.B * s.Hkv * s.S * s.Dk);
    float* v = device_buffer(s.B * s.Hkv * s.S * s.Dv);
    float* dout = device_buffer(s.B * s.H * s.T * s.Dv);
    float* out = device_buffer(s.B * s.H * s.T * s.Dv);
    float* lse = device_buffer(s.B * s.H * s.T);
    float* dq = device_buffer(s.B * s.H * s.T * s.Dk);
    float* dk = device_buffer(s.B * s.Hkv * s.S * s.Dk);
    float* dv = device_buffer(s.B * s.Hkv * s.S * s.Dv);
    const float scale = 0.125f;
    double fwd = median_ms([&] { cuda::attention_forward(s, q, k, v, true, scale, nullptr, out, lse); }, 5);
    double bwd = median_ms(
        [&] { cuda::attention_backward(s, q, k, v, out, lse, dout, true, scale, nullptr, dq, dk, dv); }, 5);
    double flops = 2.0 * double(s.B * s.H) * double(s.T) * double(s.S) * double(s.Dk + s.Dv);
    if (s.T == s.S) flops /= 2;  // causal prefill: half the scores
    std::printf("%-46s %10.3f %9.2f %10.3f %9.2f\n", c.name, fwd, flops / fwd * 1e-9, bwd, 2.5 * flops / bwd * 1e-9);
    for (float* p : {q, k, v, dout, out, lse, dq, dk, dv}) cuda::free(p);
  }
}

// --- AdamW and the grad norm ---------------------------------------------------------------------

static void bench_optim(bool quick) {
  std::printf("\n%-46s %10s %9s\n", "optimizer", "ms", "GB/s");
  for (int64_t n : {int64_t(10) << 20, int64_t(100) << 20}) {
    if (quick && n > (int64_t(10) << 20)) break;
    float* p = device_buffer(n);
    float* g = device_buffer(n);
    float* m = device_buffer(n);
    float* v = device_buffer(n);
    cuda::memset_zero(v, size_t(n) * sizeof(float));  // v >= 0 as in a real run
    int64_t step = 0;
    double adam = median_ms([&] { cuda::adamw_update(p, g, m, v, n, 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, ++step); }, 5);
    double norm = median_ms([&] { cuda::sum_squares({g}, {n}); }, 5);
    const double mb = double(n) / (1 << 20);
    std::printf("adamw_update %6.0fM params                     %10.3f %9.1f\n", mb, adam,
                7.0 * 4 * double(n) / adam * 1e-6);  // reads p g m v, writes p m v
    std::printf("sum_squares  %6.0fM floats                     %10.3f %9.1f\n", mb, norm, 4 * double(n) / norm * 1e-6);
    for (float* x : {p, g, m, v}) cuda::free(x);
  }
}

// --- sampling ------------------------------------------------------------------------------------

static void bench_sample(bool quick) {
  std::printf("\n%-46s %10s\n", "sampling (one call, incl. copies)", "us");
  struct Setting {
    const char* name;
    cuda::SampleRequest req;
  };
  const std::vector<Setting> settings = {{"greedy", {0.0f, 0, 1.0f, 0.0f, 0.5}},
                                         {"temperature 1", {1.0f, 0, 1.0f, 0.0f, 0.5}},
                                         {"top-k 50 + top-p 0.95", {1.0f, 50, 0.95f, 0.0f, 0.5}}};
  for (int64_t V : {int64_t(32768), int64_t(151936)}) {
    if (quick && V > 32768) break;
    for (int64_t B : {int64_t(1), int64_t(64)}) {
      float* logits = device_buffer(B * V);
      for (const Setting& st : settings) {
        std::vector<cuda::SampleRequest> req(static_cast<size_t>(B), st.req);
        std::vector<cuda::SampleResult> res(static_cast<size_t>(B));
        double ms = median_ms([&] { cuda::sample(logits, B, V, req.data(), res.data()); }, 5);
        std::printf("B %3ld  V %6ld  %-28s %10.1f\n", long(B), long(V), st.name, ms * 1e3);
      }
      cuda::free(logits);
    }
  }
}

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  try {
    if (!cuda::available()) {
      std::fprintf(stderr, "bench_attention: %s\n", cuda::unavailable_reason());
      return 1;
    }
    std::printf("bench_attention on %s%s\n\n", cuda::device_description().c_str(), quick ? " (--quick)" : "");
    bench_attention(quick);
    bench_optim(quick);
    bench_sample(quick);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_attention: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
