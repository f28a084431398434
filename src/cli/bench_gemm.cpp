// `r1 bench gemm`: GFLOP/s of r1::cpu::sgemm for square (and optionally other) fp32 products,
// or with --device cuda of r1::cuda::sgemm (cuBLAS) on device operands.
// With --compare-openblas it loads OpenBLAS at run time (dlopen of libopenblas.so.0; r1 never
// links it) and times cblas_sgemm on the same operands, interleaved with ours, repeat by repeat,
// so both see the same machine load. It reports medians and the median of the per-repeat ratios.
// Does not do: correctness checks (tests/test_gemm.cpp, tests/test_cuda.cpp do).
//
//   r1 bench gemm [--sizes 256,512,1024] [--shapes MxNxK[:tt],...] [--threads N] [--repeats 7]
//                 [--min-time 0.05] [--kernel avx512|avx2|portable] [--compare-openblas]
//                 [--device cpu|cuda] [--tf32] [--json]
//   --sizes       square products M=N=K to time (default 256,512,1024)
//   --shapes      extra products, e.g. 1x512x512:nt,4096x256x256:tn (suffix: trans_a, trans_b as n/t)
//   --threads     OpenMP threads (and OpenBLAS threads); default: all (OMP_NUM_THREADS)
//   --repeats     timed repeats per product; medians are reported (default 7)
//   --min-time    seconds per repeat: the product runs in a loop at least this long (default 0.05)
//   --kernel      micro-kernel to time (default: the widest compiled in)
//   --compare-openblas  also time OpenBLAS cblas_sgemm (libopenblas.so.0), interleaved with ours
//   --device      cpu (default) or cuda: time cuBLAS through cuda::sgemm (the device is synchronized
//                 before each clock read); --kernel and --compare-openblas are CPU-only
//   --tf32        with --device cuda: TF32 tensor-core math (cuda::set_tf32), else full fp32
//   --json        one JSON object: {"results": [{"m", "n", "k", "gflops", ...}], "kernel", "threads"}
#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cli/bench.h"
#include "cpu/gemm.h"
#include "model/device.h"
#include "tensor/tensor.h"
#include "util/error.h"
#include "util/json.h"
#include "util/rng.h"
#ifdef R1_CUDA
#include "cuda_api.h"
#endif

namespace r1 {
namespace {

struct Shape {
  int64_t m, n, k;
  bool ta = false, tb = false;
};

Shape parse_shape(const std::string& s) {
  Shape sh;
  std::string dims = s, trans = "nn";
  size_t colon = s.find(':');
  if (colon != std::string::npos) {
    dims = s.substr(0, colon);
    trans = s.substr(colon + 1);
  }
  std::string list = dims;
  std::replace(list.begin(), list.end(), 'x', ',');
  std::vector<int64_t> v = parse_int_list(list, "r1 bench gemm --shapes");
  check(v.size() == 3 && v[0] > 0 && v[1] > 0 && v[2] > 0 && trans.size() == 2 &&
            (trans[0] == 'n' || trans[0] == 't') && (trans[1] == 'n' || trans[1] == 't'),
        "r1 bench gemm --shapes: '", s, "' is not MxNxK or MxNxK:tt with positive sizes and n/t flags");
  sh.m = v[0], sh.n = v[1], sh.k = v[2];
  sh.ta = trans[0] == 't', sh.tb = trans[1] == 't';
  return sh;
}

// cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), CblasRowMajor = 101,
// CblasNoTrans = 111, CblasTrans = 112. Loaded at run time, so r1 never links OpenBLAS.
using CblasSgemm = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*,
                            int);
struct OpenBlas {
  CblasSgemm sgemm = nullptr;
  void (*set_threads)(int) = nullptr;
  std::string core;  // the kernel family OpenBLAS picked (set OPENBLAS_CORETYPE to override)
};

OpenBlas load_openblas() {
  void* h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) h = dlopen("libopenblas.so", RTLD_NOW | RTLD_LOCAL);
  check(h != nullptr, "r1 bench gemm --compare-openblas: cannot load libopenblas.so.0 (",
        dlerror(), "); install it, e.g. apt-get install -y libopenblas0-pthread");
  OpenBlas ob;
  ob.sgemm = reinterpret_cast<CblasSgemm>(dlsym(h, "cblas_sgemm"));
  ob.set_threads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
  check(ob.sgemm != nullptr, "r1 bench gemm --compare-openblas: libopenblas has no cblas_sgemm");
  auto corename = reinterpret_cast<char* (*)()>(dlsym(h, "openblas_get_corename"));
  ob.core = corename ? corename() : "unknown";
  return ob;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// C = op(A) op(B) by cuBLAS on device operands, as cpu::sgemm with alpha 1, beta 0.
void cuda_sgemm(const Shape& sh, int64_t lda, int64_t ldb, const Tensor& A, const Tensor& B, Tensor& C) {
#ifdef R1_CUDA
  cuda::sgemm(sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), sh.n);
#else
  (void)sh, (void)lda, (void)ldb, (void)A, (void)B, (void)C;
  throw Error("r1 bench gemm: this r1 was built without CUDA");
#endif
}

std::string cuda_description() {
#ifdef R1_CUDA
  return cuda::device_description();
#else
  throw Error("r1 bench gemm: this r1 was built without CUDA");
#endif
}

// Waits for the device's queued work before a clock read (a no-op on the CPU).
void finish_work(Device device) {
#ifdef R1_CUDA
  if (device == Device::CUDA) cuda::synchronize();
#else
  (void)device;
#endif
}

// Runs f at least min_time seconds (and at least twice); returns seconds per call.
template <class F>
double time_per_call(F f, double min_time, Device device) {
  f();  // warm caches and thread pools
  finish_work(device);
  int64_t calls = 0;
  double t0 = now(), t = t0;
  while (calls < 2 || t - t0 < min_time) {
    f();
    calls++;
    finish_work(device);
    t = now();
  }
  return (t - t0) / double(calls);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

cpu::GemmKernel parse_kernel(const std::string& name) {
  for (cpu::GemmKernel k : {cpu::GemmKernel::Portable, cpu::GemmKernel::Avx2, cpu::GemmKernel::Avx512}) {
    if (name == cpu::gemm_kernel_name(k)) {
      check(cpu::gemm_kernel_compiled(k), "r1 bench gemm --kernel: '", name, "' is not compiled into this binary");
      return k;
    }
  }
  throw Error(cat("r1 bench gemm --kernel: unknown kernel '", name, "' (avx512, avx2 or portable)"));
}

int run(Args& args) {
  std::vector<Shape> shapes;
  for (int64_t s : args.int_list("sizes", "256,512,1024")) {
    check(s > 0, "r1 bench gemm --sizes: sizes must be positive, got ", s);
    shapes.push_back({s, s, s});
  }
  for (const std::string& s : args.list("shapes")) shapes.push_back(parse_shape(s));
  const int threads = int(args.integer("threads", omp_get_max_threads()));
  check(threads >= 1, "r1 bench gemm --threads: must be >= 1, got ", threads);
  const int repeats = int(args.integer("repeats", 7));
  check(repeats >= 1, "r1 bench gemm --repeats: must be >= 1, got ", repeats);
  const double min_time = args.number("min-time", 0.05);
  const bool kernel_given = args.has("kernel");
  const cpu::GemmKernel kernel = parse_kernel(args.str("kernel", cpu::gemm_kernel_name(cpu::gemm_default_kernel())));
  const bool compare = args.flag("compare-openblas");
  const std::string device_flag = args.str("device", "cpu");
  const bool tf32 = args.flag("tf32");
  const bool json = args.flag("json");
  args.finish();
  const Device device = usable_device(device_flag);
  const bool on_cuda = device == Device::CUDA;
  check(!on_cuda || (!kernel_given && !compare), "r1 bench gemm: --kernel and --compare-openblas time CPU products; "
        "drop them with --device cuda");
  check(on_cuda || !tf32, "r1 bench gemm --tf32: needs --device cuda");
#ifdef R1_CUDA
  if (on_cuda) cuda::set_tf32(tf32);
#endif
  // What the figures are of: "avx512" etc. on the CPU, "cublas" or "cublas-tf32" on CUDA.
  const std::string label = on_cuda ? (tf32 ? "cublas-tf32" : "cublas") : cpu::gemm_kernel_name(kernel);

  omp_set_num_threads(threads);
  if (!on_cuda && threads > 1 && !std::getenv("OMP_WAIT_POLICY"))
    std::fprintf(stderr,
                 "note: OMP_WAIT_POLICY is not set. On a machine busy with other work, libgomp's spinning threads\n"
                 "      can make multithreaded products 10x slower; run with OMP_WAIT_POLICY=passive there\n"
                 "      (docs/perf.md, GEMM).\n");
  OpenBlas ob;
  if (compare) {
    ob = load_openblas();
    if (ob.set_threads) ob.set_threads(threads);
  }

  Json results = Json::array();
  if (!json) {
    if (on_cuda)
      std::printf("sgemm, %s on %s, median of %d repeats", label.c_str(), cuda_description().c_str(), repeats);
    else
      std::printf("sgemm, kernel %s, %d thread(s), median of %d repeats", label.c_str(), threads, repeats);
    if (compare) std::printf(", OpenBLAS core %s", ob.core.c_str());
    std::printf("\n%-24s %10s%s\n", "M x N x K (ta,tb)", "r1 GFLOP/s",
                compare ? "  OpenBLAS GFLOP/s  r1/OpenBLAS" : "");
  }
  for (const Shape& sh : shapes) {
    // Operands as stored: A is [M,K] or [K,M] (trans_a), B is [K,N] or [N,K] (trans_b).
    const int64_t lda = sh.ta ? sh.m : sh.k, ldb = sh.tb ? sh.k : sh.n;
    std::vector<float> A(size_t(sh.m * sh.k)), B(size_t(sh.k * sh.n)), C(size_t(sh.m * sh.n), 0.0f);
    Rng rng(1);
    for (float& x : A) x = float(rng.uniform() - 0.5);
    for (float& x : B) x = float(rng.uniform() - 0.5);
    const double flops = 2.0 * double(sh.m) * double(sh.n) * double(sh.k);
    Tensor dA, dB, dC;  // on CUDA: the same operands on the device
    if (on_cuda) {
      dA = Tensor::from_vector({sh.m * sh.k}, A, device);
      dB = Tensor::from_vector({sh.k * sh.n}, B, device);
      dC = Tensor::zeros({sh.m * sh.n}, device);
    }
    auto ours = [&] {
      if (on_cuda) cuda_sgemm(sh, lda, ldb, dA, dB, dC);
      else cpu::sgemm_with(kernel, sh.ta, sh.tb, sh.m, sh.n, sh.k, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), sh.n);
    };
    auto theirs = [&] {
      ob.sgemm(101, sh.ta ? 112 : 111, sh.tb ? 112 : 111, int(sh.m), int(sh.n), int(sh.k), 1.0f, A.data(), int(lda),
               B.data(), int(ldb), 0.0f, C.data(), int(sh.n));
    };
    std::vector<double> g_ours, g_theirs, ratios;
    for (int r = 0; r < repeats; r++) {  // interleaved: both see the same load on a shared machine
      g_ours.push_back(flops / time_per_call(ours, min_time, device) * 1e-9);
      if (compare) {
        g_theirs.push_back(flops / time_per_call(theirs, min_time, Device::CPU) * 1e-9);
        ratios.push_back(g_ours.back() / g_theirs.back());
      }
    }
    Json row = Json::object();
    row["m"] = sh.m, row["n"] = sh.n, row["k"] = sh.k;
    row["trans_a"] = sh.ta, row["trans_b"] = sh.tb;
    row["gflops"] = median(g_ours);
    if (compare) {
      row["openblas_gflops"] = median(g_theirs);
      row["ratio"] = median(ratios);
    }
    results.push_back(row);
    if (!json) {
      char label[64];
      std::snprintf(label, sizeof label, "%lld x %lld x %lld (%c,%c)", (long long)sh.m, (long long)sh.n,
                    (long long)sh.k, sh.ta ? 't' : 'n', sh.tb ? 't' : 'n');
      std::printf("%-24s %10.1f", label, median(g_ours));
      if (compare) std::printf("  %16.1f  %11.2f", median(g_theirs), median(ratios));
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  if (json) {
    Json out = Json::object();
    out["results"] = results;
    out["kernel"] = label;
    out["device"] = device_name(device);
    out["threads"] = threads;
    out["repeats"] = repeats;
    if (compare) out["openblas_core"] = ob.core;
    std::printf("%s\n", out.dump().c_str());
  }
  return 0;
}

const bool registered = register_bench(
    {"gemm", "GFLOP/s of sgemm (CPU, or cuBLAS with --device cuda): [--sizes 256,512,1024] [--shapes MxNxK[:tt],..] "
             "[--threads N] [--repeats 7] [--min-time 0.05] [--kernel K] [--compare-openblas] [--device cpu|cuda] "
             "[--tf32] [--json]", run});

}  // namespace
}  // namespace r1
