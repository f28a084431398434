// Timing and buffer helpers shared by the standalone CUDA benchmarks in cuda/tools/.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "cuda_api.h"

namespace r1::bench {

// Median milliseconds per call of f over `repeats` timed calls (CUDA events), after one warm-up call.
inline double median_ms(const std::function<void()>& f, int repeats) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  f();
  std::vector<double> ms;
  for (int r = 0; r < repeats; r++) {
    cudaEventRecord(start);
    f();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float t = 0;
    cudaEventElapsedTime(&t, start, stop);
    ms.push_back(t);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cuda::synchronize();  // surfaces any kernel fault as an r1::Error
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// A device buffer of n floats, filled with a small deterministic pattern in [-0.5, 0.5).
inline float* device_buffer(int64_t n) {
  std::vector<float> h(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) h[size_t(i)] = float((i * 7919) % 1000) / 1000.0f - 0.5f;
  float* d = static_cast<float*>(cuda::malloc(size_t(n) * sizeof(float)));
  cuda::memcpy_h2d(d, h.data(), size_t(n) * sizeof(float));
  return d;
}

}  // namespace r1::bench
