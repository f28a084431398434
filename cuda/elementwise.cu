// Elementwise CUDA kernels, op for op the CUDA side of src/cpu/elementwise.cpp: broadcasting
// binary ops over a 4-d index space with per-operand strides (cpu::Broadcast4), unary
// functions, the silu backward, clamp and where, and the reduction that undoes a broadcast (sum_to).
//
// Numerics: add/sub/mul/div/min/max/compare are single IEEE operations, so they match the CPU
// bit for bit (nvcc's default -prec-div=true, no fast math). expf/logf differ from glibc by a
// few ulp. The broadcast reduction sums in a fixed order (deterministic run to run) but not in
// the CPU's order.
// clamp and where are selections (no arithmetic), so bitwise the CPU's too.
// Does not do: vectorized loads, fusion, 32-bit index fast paths.
#include <cmath>

#include "check.h"
#include "cuda_api.h"

namespace r1::cuda {

using cpu::BinaryOp;
using cpu::UnaryOp;

static constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements.
static unsigned blocks_for(int64_t n) {
  int64_t b = (n + kThreads - 1) / kThreads;
  return unsigned(b < 65536 ? (b > 0 ? b : 1) : 65536);
}

struct Dims4 {
  int64_t v[4];
};

static Dims4 dims4(const int64_t* p) { return Dims4{{p[0], p[1], p[2], p[3]}}; }

// --- binary -------------------------------------------------------------------------------

template <BinaryOp OP>
__device__ inline float apply(float x, float y) {
  // min/max exactly as std::min/std::max define them (the CPU's NaN behaviour).
  if constexpr (OP == BinaryOp::Add) return x + y;
  else if constexpr (OP == BinaryOp::Sub) return x - y;
  else if constexpr (OP == BinaryOp::Mul) return x * y;
  else if constexpr (OP == BinaryOp::Div) return x / y;
  else if constexpr (OP == BinaryOp::Min) return y < x ? y : x;
  else if constexpr (OP == BinaryOp::Max) return x < y ? y : x;
  else if constexpr (OP == BinaryOp::LessEq) return x <= y ? 1.0f : 0.0f;
  else return x >= y ? 1.0f : 0.0f;  // GreaterEq
}

// out[i] = a[.] op b[.] over the 4-d output shape s; a and b are read with strides sa, sb.
template <BinaryOp OP>
__global__ void binary_kernel(const float* a, const float* b, float* out, Dims4 s, Dims4 sa, Dims4 sb, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t i3 = i % s.v[3], r = i / s.v[3];
    int64_t i2 = r % s.v[2];
    r /= s.v[2];
    int64_t i1 = r % s.v[1], i0 = r / s.v[1];
    float x = a[i0 * sa.v[0] + i1 * sa.v[1] + i2 * sa.v[2] + i3 * sa.v[3]];
    float y = b[i0 * sb.v[0] + i1 * sb.v[1] + i2 * sb.v[2] + i3 * sb.v[3]];
    out[i] = apply<OP>(x, y);
  }
}

// The common case of two same-shape operands: no index arithmetic.
template <BinaryOp OP>
__global__ void binary_flat_kernel(const float* a, const float* b, float* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = apply<OP>(a[i], b[i]);
}

// True when `stride` walks the 4-d shape s contiguously (row-major, no broadcast).
static bool contiguous(const int64_t s[4], const int64_t stride[4]) {
  return stride[3] == 1 && stride[2] == s[3] && stride[1] == s[2] * s[3] && stride[0] == s[1] * s[2] * s[3];
}

template <BinaryOp OP>
static void launch_binary(const float* a, const float* b, float* out, const cpu::Broadcast4& bc) {
  int64_t n = bc.shape[0] * bc.shape[1] * bc.shape[2] * bc.shape[3];
  if (n == 0) return;
  if (contiguous(bc.shape, bc.a_stride) && contiguous(bc.shape, bc.b_stride))
    binary_flat_kernel<OP><<<blocks_for(n), kThreads>>>(a, b, out, n);
  else
    binary_kernel<OP><<<blocks_for(n), kThreads>>>(a, b, out, dims4(bc.shape), dims4(bc.a_stride),
                                                    dims4(bc.b_stride), n);
  check(cudaGetLastError(), "cuda::binary: kernel launch");
}

void binary(BinaryOp op, const float* d_a, const float* d_b, float* d_out, const cpu::Broadcast4& bc) {
  switch (op) {
    case BinaryOp::Add: return launch_binary<BinaryOp::Add>(d_a, d_b, d_out, bc);
    case BinaryOp::Sub: return launch_binary<BinaryOp::Sub>(d_a, d_b, d_out, bc);
    case BinaryOp::Mul: return launch_binary<BinaryOp::Mul>(d_a, d_b, d_out, bc);
    case BinaryOp::Div: return launch_binary<BinaryOp::Div>(d_a, d_b, d_out, bc);
    case BinaryOp::Min: return launch_binary<BinaryOp::Min>(d_a, d_b, d_out, bc);
    case BinaryOp::Max: return launch_binary<BinaryOp::Max>(d_a, d_b, d_out, bc);
    case BinaryOp::LessEq: return launch_binary<BinaryOp::LessEq>(d_a, d_b, d_out, bc);
    case BinaryOp::GreaterEq: return launch_binary<BinaryOp::GreaterEq>(d_a, d_b, d_out, bc);
  }
}

// --- unary --------------------------------------------------------------------------------

__device__ inline float sigmoid_f(float x) { return 1.0f / (1.0f + expf(-x)); }

template <UnaryOp OP>
__global__ void unary_kernel(const float* x, float* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float v = x[i];
    if constexpr (OP == UnaryOp::Neg) out[i] = -v;
    else if constexpr (OP == UnaryOp::Exp) out[i] = expf(v);
    else if constexpr (OP == UnaryOp::Log) out[i] = logf(v);
    else if constexpr (OP == UnaryOp::Silu) out[i] = v * sigmoid_f(v);
    else out[i] = sigmoid_f(v);  // Sigmoid
  }
}

template <UnaryOp OP>
static void launch_unary(const float* x, float* out, int64_t n) {
  if (n == 0) return;
  unary_kernel<OP><<<blocks_for(n), kThreads>>>(x, out, n);
  check(cudaGetLastError(), "cuda::unary: kernel launch");
}

void unary(UnaryOp op, const float* d_x, float* d_out, int64_t n) {
  switch (op) {
    case UnaryOp::Neg: return launch_unary<UnaryOp::Neg>(d_x, d_out, n);
    case UnaryOp::Exp: return launch_unary<UnaryOp::Exp>(d_x, d_out, n);
    case UnaryOp::Log: return launch_unary<UnaryOp::Log>(d_x, d_out, n);
    case UnaryOp::Silu: return launch_unary<UnaryOp::Silu>(d_x, d_out, n);
    case UnaryOp::Sigmoid: return launch_unary<UnaryOp::Sigmoid>(d_x, d_out, n);
  }
}

// out = g * d/dx silu(x) = g * s(x) * (1 + x * (1 - s(x)))
__global__ void silu_backward_kernel(const float* x, const float* g, float* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float s = sigmoid_f(x[i]);
    out[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

void silu_backward(const float* d_x, const float* d_g, float* d_out, int64_t n) {
  if (n == 0) return;
  silu_backward_kernel<<<blocks_for(n), kThreads>>>(d_x, d_g, d_out, n);
  check(cudaGetLastError(), "cuda::silu_backward: kernel launch");
}

// --- clamp and where ---------------------------------------------------------------------

// std::min(std::max(x, lo), hi) exactly: a NaN x stays NaN.
__global__ void clamp_kernel(const float* x, float lo, float hi, float* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float v = x[i] < lo ? lo : x[i];
    out[i] = hi < v ? hi : v;
  }
}

void clamp(const float* d_x, float lo, float hi, float* d_out, int64_t n) {
  if (n == 0) return;
  clamp_kernel<<<blocks_for(n), kThreads>>>(d_x, lo, hi, d_out, n);
  check(cudaGetLastError(), "cuda::clamp: kernel launch");
}

// out = g inside [lo, hi], 0 outside (and for NaN x).
__global__ void clamp_backward_kernel(const float* x, float lo, float hi, const float* g, float* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = (x[i] >= lo && x[i] <= hi) ? g[i] : 0.0f;
}

void clamp_backward(const float* d_x, float lo, float hi, const float* d_g, float* d_out, int64_t n) {
  if (n == 0) return;
  clamp_backward_kernel<<<blocks_for(n), kThreads>>>(d_x, lo, hi, d_g, d_out, n);
  check(cudaGetLastError(), "cuda::clamp_backward: kernel launch");
}

// out[i] = m[.] != 0 ? a[.] : b[.] over the 4-d output shape s, each operand with its strides.
__global__ void where_kernel(const float* m, const float* a, const float* b, float* out, Dims4 s, Dims4 sm, Dims4 sa,
                             Dims4 sb, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t i3 = i % s.v[3], r = i / s.v[3];
    int64_t i2 = r % s.v[2];
    r /= s.v[2];
    int64_t i1 = r % s.v[1], i0 = r / s.v[1];
    const float mv = m[i0 * sm.v[0] + i1 * sm.v[1] + i2 * sm.v[2] + i3 * sm.v[3]];
    out[i] = mv != 0.0f ? a[i0 * sa.v[0] + i1 * sa.v[1] + i2 * sa.v[2] + i3 * sa.v[3]]
                        : b[i0 * sb.v[0] + i1 * sb.v[1] + i2 * sb.v[2] + i3 * sb.v[3]];
  }
}

void where(const float* d_m, const int64_t m_stride[4], const float* d_a, const float* d_b, float* d_out,
           const cpu::Broadcast4& bc) {
  int64_t n = bc.shape[0] * bc.shape[1] * bc.shape[2] * bc.shape[3];
  if (n == 0) return;
  where_kernel<<<blocks_for(n), kThreads>>>(d_m, d_a, d_b, d_out, dims4(bc.shape), dims4(m_stride), dims4(bc.a_stride),
                                            dims4(bc.b_stride), n);
  check(cudaGetLastError(), "cuda::where: kernel launch");
}

// --- broadcast reduction ------------------------------------------------------------------
// g has the 4-d shape s; the target has stride 0 along its broadcast dims (the reduced dims)
// and is row-major over the kept dims, so output element j sums g over every index whose kept
// coordinates are j's. One block per output element: each thread sums a strided slice of the
// reduced positions, then a fixed-shape tree in shared memory adds the threads' partial sums.

__global__ void reduce_broadcast_kernel(const float* g, float* out, Dims4 s, Dims4 stride, int64_t n_reduced) {
  // Row-major strides of g, and the sizes of the kept (ks) and reduced (rs) index spaces.
  int64_t gs[4] = {s.v[1] * s.v[2] * s.v[3], s.v[2] * s.v[3], s.v[3], 1};
  int64_t ks[4], rs[4];
  for (int d = 0; d < 4; d++) {
    bool reduced = stride.v[d] == 0;
    ks[d] = reduced ? 1 : s.v[d];
    rs[d] = reduced ? s.v[d] : 1;
  }
  // This block's output element j -> its kept coordinates -> the offset of its first g element.
  int64_t j = blockIdx.x, base = 0;
  for (int d = 3; d >= 0; d--) {
    base += (j % ks[d]) * gs[d];
    j /= ks[d];
  }
  float acc = 0.0f;
  for (int64_t r = threadIdx.x; r < n_reduced; r += blockDim.x) {
    int64_t q = r, off = base;
    for (int d = 3; d >= 0; d--) {
      off += (q % rs[d]) * gs[d];
      q /= rs[d];
    }
    acc += g[off];
  }
  __shared__ float partial[kThreads];
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (int(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] += partial[0];
}

void reduce_broadcast(const float* d_g, const int64_t shape[4], const int64_t stride[4], float* d_out) {
  int64_t n_out = 1, n_reduced = 1;
  for (int d = 0; d < 4; d++) (stride[d] == 0 ? n_reduced : n_out) *= shape[d];
  if (n_out == 0 || n_reduced == 0) return;
  if (n_out > INT32_MAX) throw Error(cat("cuda::reduce_broadcast: ", n_out, " outputs is more than one grid"));
  reduce_broadcast_kernel<<<unsigned(n_out), kThreads>>>(d_g, d_out, dims4(shape), dims4(stride), n_reduced);
  check(cudaGetLastError(), "cuda::reduce_broadcast: kernel launch");
}

}  // namespace r1::cuda
