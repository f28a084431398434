// Error checks for the cuda/*.cu files (not part of cuda_api.h: this header includes CUDA).
// Every CUDA runtime or cuBLAS call is wrapped as check(call(...), "where: call") so a failure
// throws r1::Error naming our function, the CUDA call and CUDA's own message. A kernel launch
// is followed by check(cudaGetLastError(), "where: kernel launch") (a bad launch configuration
// shows up there; a fault inside the kernel shows up at the next synchronizing call), e.g.
//   "cuda::memcpy_d2h: cudaMemcpy: an illegal memory access was encountered
//    (cudaErrorIllegalAddress)".
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "util/error.h"

namespace r1::cuda {

inline void check(cudaError_t err, const char* where) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(cat(where, ": ", cudaGetErrorString(err), " (", cudaGetErrorName(err), ")"));
}

inline void check(cublasStatus_t status, const char* where) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(cat(where, ": ", cublasGetStatusString(status), " (", cublasGetStatusName(status), ")"));
}

}  // namespace r1::cuda
