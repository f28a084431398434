// bench_cuda: a small standalone benchmark of the CUDA backend, for cuda/run_device_checks.sh
// (`r1 bench gemm` times only the CPU GEMM). It times, with CUDA events, the median of a few
// repeats after a warm-up:
//   - cuda::sgemm (cuBLAS) in fp32 and TF32 for square and model-like shapes -> TFLOP/s
//   - cuda::binary add (same shape and row-broadcast) and cuda::reduce_broadcast (the bias
//     gradient (N, D) -> (D) and the row sum (N, D) -> (N, 1)) -> GB/s of compulsory traffic
//   - the sums of cuda/reduce.cu and the row ops of cuda/nn.cu (rmsnorm, softmax, log-softmax,
//     cross-entropy) -> GB/s of compulsory traffic (each input read once, each output written once)
// Usage: bench_cuda [--quick]   (--quick: smaller sizes, for a smoke run)
// It is not built by the Makefile (cuda/*.cu only); the device-check script builds it with
// nvcc against the objects of a CUDA build (runtime, gemm, elementwise, reduce, nn). Not a test:
// it checks nothing.
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

static void bench_gemm(bool quick) {
  struct Case {
    int64_t m, n, k;
    bool ta, tb;
  };
  std::vector<Case> cases = {{1024, 1024, 1024, false, false}, {4096, 4096, 4096, false, false},
                             {4096, 4096, 4096, false, true},  {4096, 4096, 4096, true, false},
                             {8192, 1024, 4096, false, true},  {8, 4096, 4096, false, true}};
  if (quick) cases = {{256, 256, 256, false, false}, {512, 512, 512, false, true}};
  std::printf("%-28s %12s %12s\n", "sgemm M x N x K (ta,tb)", "fp32 TFLOP/s", "tf32 TFLOP/s");
  for (const Case& c : cases) {
    int64_t lda = c.ta ? c.m : c.k, ldb = c.tb ? c.k : c.n;
    float *A = device_buffer(c.m * c.k), *B = device_buffer(c.k * c.n), *C = device_buffer(c.m * c.n);
    double tflops[2];
    for (int tf32 = 0; tf32 < 2; tf32++) {
      cuda::set_tf32(tf32 == 1);
      double ms = median_ms([&] { cuda::sgemm(c.ta, c.tb, c.m, c.n, c.k, 1.0f, A, lda, B, ldb, 0.0f, C, c.n); }, 10);
      tflops[tf32] = 2.0 * double(c.m) * double(c.n) * double(c.k) / (ms * 1e-3) * 1e-12;
    }
    cuda::set_tf32(false);
    char label[64];
    std::snprintf(label, sizeof label, "%lld x %lld x %lld (%c,%c)", (long long)c.m, (long long)c.n, (long long)c.k,
                  c.ta ? 't' : 'n', c.tb ? 't' : 'n');
    std::printf("%-28s %12.1f %12.1f\n", label, tflops[0], tflops[1]);
    cuda::free(A);
    cuda::free(B);
    cuda::free(C);
  }
}

static void bench_elementwise(bool quick) {
  const int64_t N = quick ? 1024 : 16384, D = quick ? 1024 : 4096;
  float *x = device_buffer(N * D), *y = device_buffer(N * D), *out = device_buffer(N * D), *row = device_buffer(D);
  const double bytes = double(N * D) * sizeof(float);
  auto report = [&](const char* what, double ms, double traffic) {
    std::printf("%-40s %9.3f ms %9.1f GB/s\n", what, ms, traffic / (ms * 1e-3) * 1e-9);
  };
  std::printf("\nelementwise over (N, D) = (%lld, %lld)\n", (long long)N, (long long)D);
  cpu::Broadcast4 same{{1, 1, N, D}, {0, 0, D, 1}, {0, 0, D, 1}};
  report("add (N, D) + (N, D)", median_ms([&] { cuda::binary(cpu::BinaryOp::Add, x, y, out, same); }, 10), 3 * bytes);
  cpu::Broadcast4 bias{{1, 1, N, D}, {0, 0, D, 1}, {0, 0, 0, 1}};
  report("add (N, D) + (D)", median_ms([&] { cuda::binary(cpu::BinaryOp::Add, x, row, out, bias); }, 10), 2 * bytes);
  report("silu (N, D)", median_ms([&] { cuda::unary(cpu::UnaryOp::Silu, x, out, N * D); }, 10), 2 * bytes);
  const int64_t shape[4] = {1, 1, N, D}, to_cols[4] = {0, 0, 0, 1}, to_rows[4] = {0, 0, 1, 0};
  report("sum_to (N, D) -> (D)", median_ms([&] { cuda::reduce_broadcast(x, shape, to_cols, out); }, 10), bytes);
  report("sum_to (N, D) -> (N, 1)", median_ms([&] { cuda::reduce_broadcast(x, shape, to_rows, out); }, 10), bytes);
  for (float* p : {x, y, out, row}) cuda::free(p);
}

static void bench_rows(bool quick) {
  const int64_t N = quick ? 1024 : 16384, D = quick ? 1024 : 4096;  // activations: (N, D)
  const int64_t R = quick ? 256 : 2048, V = quick ? 4096 : 32768;    // logits: (R, V)
  float *x = device_buffer(N * D), *g = device_buffer(N * D), *out = device_buffer(N * D), *w = device_buffer(D);
  float *logits = device_buffer(R * V), *probs = device_buffer(R * V), *dlogits = device_buffer(R * V);
  float* rstd = device_buffer(N);
  float *dw = device_buffer(D), *lse = device_buffer(R), *loss = device_buffer(1);
  std::vector<int32_t> targets(static_cast<size_t>(R));
  for (int64_t r = 0; r < R; r++) targets[size_t(r)] = int32_t((r * 7919) % V);
  const double act = double(N * D) * sizeof(float), lg = double(R * V) * sizeof(float);
  auto report = [&](const char* what, double ms, double traffic) {
    std::printf("%-40s %9.3f ms %9.1f GB/s\n", what, ms, traffic / (ms * 1e-3) * 1e-9);
  };
  std::printf("\nreductions and row ops over (N, D) = (%lld, %lld), logits (%lld, %lld)\n", (long long)N,
              (long long)D, (long long)R, (long long)V);
  report("sum (N, D) -> ()", median_ms([&] { cuda::sum_all(x, N * D, out); }, 10), act);
  report("sum over axis 0 (N, D) -> (D)", median_ms([&] { cuda::sum_axis(x, 1, N, D, out); }, 10), act);
  report("sum over axis 1 (N, D) -> (N)", median_ms([&] { cuda::sum_axis(x, N, D, 1, out); }, 10), act);
  report("rmsnorm forward (N, D)", median_ms([&] { cuda::rmsnorm_forward(x, w, 1e-6f, N, D, out, rstd); }, 10),
         2 * act);
  report("rmsnorm backward dx + dw (N, D)",
         median_ms([&] { cuda::rmsnorm_backward(x, w, rstd, g, N, D, out, dw); }, 10), 3 * act);
  report("softmax forward (R, V)", median_ms([&] { cuda::softmax_forward(logits, R, V, probs); }, 10), 2 * lg);
  report("softmax backward (R, V)", median_ms([&] { cuda::softmax_backward(probs, logits, R, V, dlogits); }, 10), 3 * lg);
  report("log_softmax forward (R, V)", median_ms([&] { cuda::log_softmax_forward(logits, R, V, probs); }, 10),
         2 * lg);
  report("cross_entropy forward (R, V)",
         median_ms([&] { cuda::cross_entropy_forward(logits, targets.data(), -100, R, V, R, lse, loss); }, 10), lg);
  report("cross_entropy backward (R, V)",
         median_ms([&] { cuda::cross_entropy_backward(logits, targets.data(), -100, lse, loss, R, R, V, dlogits); }, 10),
         2 * lg);
  for (float* p : {x, g, out, w, logits, probs, dlogits, rstd, dw, lse, loss}) cuda::free(p);
}

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  try {
    if (!cuda::available()) {
      std::fprintf(stderr, "bench_cuda: %s\n", cuda::unavailable_reason());
      return 2;
    }
    std::printf("device: %s\n\n", cuda::device_description().c_str());
    bench_gemm(quick);
    bench_elementwise(quick);
    bench_rows(quick);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
