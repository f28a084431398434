// Index math of the copy, scatter and column-sum kernels (cuda/shape.cu, cuda/index.cu,
// cuda/reduce.cu, cuda/nn.cu), in plain inline functions that compile for the device and for the
// host, so tests/test_cuda_ops.cpp checks them on machines without a GPU (suite CudaIndexMath).
// No CUDA headers. (size_t below is std::size_t, which <cstddef> also puts in the global namespace.)
//   - strided_offsets: where element i of a 4-d strided copy is read from and written to;
//   - ScatterPlan: the rows that land on each target row of scatter_add, grouped by target in
//     increasing source order (a stable counting sort), so one thread per output element can
//     add them up in the CPU's order with no atomics;
//   - ColumnTiles / tile_work: which column and rows each thread of a column sum adds;
//   - rope_pair: which two elements of x a RoPE thread rotates, with which table entry.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#ifndef R1_HOST_DEVICE
#ifdef __CUDACC__
#define R1_HOST_DEVICE __host__ __device__
#else
#define R1_HOST_DEVICE
#endif
#endif

namespace r1::cuda {

struct Index4 {
  int64_t v[4];
};

// Element i (row-major over shape) of a strided copy -> its source and destination offsets.
R1_HOST_DEVICE inline void strided_offsets(int64_t i, const Index4& shape, const Index4& src_stride,
                                           const Index4& dst_stride, int64_t* src, int64_t* dst) {
  int64_t s = 0, d = 0;
  for (int k = 3; k >= 0; k--) {
    const int64_t c = i % shape.v[k];
    i /= shape.v[k];
    s += c * src_stride.v[k];
    d += c * dst_stride.v[k];
  }
  *src = s;
  *dst = d;
}

// Source rows grouped by target row: the sources of target r are order[start[r] .. start[r+1]),
// in increasing order. idx: m entries in [0, n) (checked by the op).
struct ScatterPlan {
  std::vector<int64_t> start;  // (n + 1)
  std::vector<int32_t> order;  // (m)
};

inline ScatterPlan scatter_plan(const int32_t* idx, int64_t m, int64_t n) {
  ScatterPlan p;
  p.start.assign(size_t(n + 1), 0);
  for (int64_t i = 0; i < m; i++) p.start[size_t(idx[i]) + 1]++;
  for (int64_t r = 0; r < n; r++) p.start[size_t(r + 1)] += p.start[size_t(r)];
  p.order.resize(size_t(m));
  std::vector<int64_t> next(p.start.begin(), p.start.end() - 1);  // (n) the next free slot of each target
  for (int64_t i = 0; i < m; i++) p.order[size_t(next[size_t(idx[i])]++)] = int32_t(i);
  return p;
}

// --- column tiles --------------------------------------------------------------------------
// A sum over the middle axis of x viewed as (outer, n, inner) (cuda/reduce.cu; RMSNorm's weight
// gradient in cuda/nn.cu is one with outer = 1). A block of kTileCols x kTileRows threads owns
// kTileCols adjacent columns i of one outer index o and one chunk of rows: thread (tx, ty) adds
// rows j_begin + ty, j_begin + ty + kTileRows, ... < j_end of column i, so each row's kTileCols
// loads are one coalesced line. Chunk c's column sums go to row c of a (chunks, outer, inner)
// partial, which a second pass adds up (no partial when chunks == 1).
constexpr int kTileCols = 32, kTileRows = 8;

struct ColumnTiles {
  int64_t tiles_per_o;     // column tiles per outer index; grid.x = outer * tiles_per_o
  int64_t chunks;          // row chunks; grid.y
  int64_t rows_per_chunk;  // the last chunk may be shorter
};

// Enough tiles (>= 512 blocks) fill the GPU on their own; otherwise long columns are cut into
// chunks of about 512 rows, at most 64. A function of the shape only, so sums are deterministic.
inline ColumnTiles column_tiles(int64_t outer, int64_t n, int64_t inner) {
  ColumnTiles t;
  t.tiles_per_o = (inner + kTileCols - 1) / kTileCols;
  const int64_t chunks = outer * t.tiles_per_o >= 512 ? 1 : (n + 511) / 512;
  t.chunks = chunks < 1 ? 1 : (chunks > 64 ? 64 : chunks);
  t.rows_per_chunk = (n + t.chunks - 1) / t.chunks;
  return t;
}

// The column (o, i) and the row range of thread column tx of block (bx, by); i >= inner: none.
struct TileWork {
  int64_t o, i, j_begin, j_end;
};

R1_HOST_DEVICE inline TileWork tile_work(const ColumnTiles& t, int64_t n, int64_t bx, int64_t by, int64_t tx) {
  TileWork w;
  w.o = bx / t.tiles_per_o;
  w.i = (bx % t.tiles_per_o) * kTileCols + tx;
  w.j_begin = by * t.rows_per_chunk;
  w.j_end = w.j_begin + t.rows_per_chunk < n ? w.j_begin + t.rows_per_chunk : n;
  return w;
}

// --- rope pairs ----------------------------------------------------------------------------
// x: (B*T, H, Dh) seen as B*T*H*(Dh/2) pairs (i, i + Dh/2), pair e = (bt*H + h)*(Dh/2) + i.
// Pair e rotates x[first] and x[first + Dh/2] with entry `table` of the (R, Dh/2) cos/sin tables,
// whose row is the position's: bt (per-batch positions) or t = bt % T (positions shared by the batch).
struct RopePair {
  int64_t first, table;
};

R1_HOST_DEVICE inline RopePair rope_pair(int64_t e, int64_t T, int64_t H, int64_t half, bool per_batch) {
  const int64_t i = e % half, bth = e / half, bt = bth / H;
  return RopePair{bth * 2 * half + i, (per_batch ? bt : bt % T) * half + i};
}

}  // namespace r1::cuda
