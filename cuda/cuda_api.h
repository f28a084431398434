// Host-callable interface of the CUDA backend. This header includes no CUDA headers, so
// host C++ in src/ can call it; it is only linked in builds with R1_CUDA (make CUDA=1,
// the default when nvcc is on the PATH). Every pointer argument named d_* is device memory.
// Every function throws r1::Error with the CUDA/cuBLAS error string on failure.
#pragma once
#include <cstddef>
#include <cstdint>

namespace r1::cuda {

// --- device and memory --------------------------------------------------------
bool available();                 // built with CUDA and a usable GPU is present
const char* unavailable_reason(); // why available() is false ("no CUDA device", ...)
void* malloc(size_t bytes);       // from the caching allocator
void free(void* d_ptr);           // returns the block to the caching allocator
void memcpy_h2d(void* d_dst, const void* src, size_t bytes);
void memcpy_d2h(void* dst, const void* d_src, size_t bytes);
void memcpy_d2d(void* d_dst, const void* d_src, size_t bytes);
void memset_zero(void* d_ptr, size_t bytes);
void synchronize();

// --- GEMM (cuBLAS) -------------------------------------------------------------
// Same contract as r1::cpu::sgemm (row-major, see src/cpu/gemm.h), on device pointers.
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* d_A, int64_t lda, const float* d_B, int64_t ldb, float beta, float* d_C, int64_t ldc);
void sgemm_batched(bool trans_a, bool trans_b, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha,
                   const float* d_A, int64_t lda, int64_t stride_a, const float* d_B, int64_t ldb, int64_t stride_b,
                   float beta, float* d_C, int64_t ldc, int64_t stride_c);

}  // namespace r1::cuda
