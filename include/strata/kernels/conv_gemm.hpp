#pragma once
/// \file
/// The register-tiled matrix product behind the convolution kernels:
/// out (M x columns) = a (M x K) * b (K x columns), in micro-tiles of MR
/// output channels by a strip of NR columns whose accumulators stay in
/// registers for the whole reduction. The weight (a) is packed once per call
/// into panels of MR rows, k-major. Row k of b is read where the caller says:
/// at b + k * ldb (a pointwise convolution reads the NCHW planes in place), or
/// at b + offsets[k] (the implicit GEMM reads its padded phase planes, see
/// conv_planes.hpp), so the column matrix is never materialised. Raw pointers,
/// no checks.

#include <algorithm>
#include <cstddef>

#include <Eigen/Core>

#include "strata/core/shape.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {
namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// Micro-tile rows (output channels) and packets per strip: MR x NP
/// accumulators plus NP column packets and a broadcast must fit the vector
/// registers: 9 x 3 + 4 of AVX-512's 32 (wider strips than 12 x 2 mean fewer
/// passes over the weight), 6 x 2 + 3 of the 16 of AVX2 and SSE (NEON's 32
/// registers of 4 floats take the safe 16-register choice too).
constexpr bool kConvWideTiles = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 && EIGEN_MAX_ALIGN_BYTES >= 64;
constexpr int kConvTileRows = kConvWideTiles ? 9 : 6;
constexpr int kConvTilePackets = kConvWideTiles ? 3 : 2;

/// Columns per strip (NR) for T.
template <typename T>
constexpr index_t conv_strip_width() {
  return kConvTilePackets * packet_size<T>();
}

/// Row k of b at b + k * ldb.
template <typename T>
struct ConvStridedRows {
  const T* b;
  index_t ldb;
  const T* row(index_t k) const { return b + k * ldb; }
};

/// Row k of b at b + offsets[k].
template <typename T>
struct ConvOffsetRows {
  const T* b;
  const index_t* offsets;
  const T* row(index_t k) const { return b + offsets[k]; }
};

/// c[i][j] = start + sum_k a[k*MR + i] * rows.row(k)[j] for i < MR, j < NP
/// packets, where start is c[i][j] itself when `accumulate`, else bias[i] (0
/// without bias); c has row stride ldc. The one place the FLOPs happen.
/// With Stream, c is stored with non-temporal stores (c and ldc aligned to
/// a whole packet): for outputs too large to stay in cache.
template <typename T, int MR, int NP, bool Stream = false, typename Rows>
void conv_micro_kernel(index_t K, const T* a, const Rows& rows, const T* bias, bool accumulate, T* c, index_t ldc) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>();
  Vec acc[MR][NP];
  STRATA_UNROLL
  for (int i = 0; i < MR; ++i) {
    const Vec start = ei::pset1<Vec>(bias != nullptr ? bias[i] : T(0));
    STRATA_UNROLL
    for (int j = 0; j < NP; ++j) acc[i][j] = accumulate ? ei::ploadu<Vec>(c + i * ldc + j * P) : start;
  }
  for (index_t k = 0; k < K; ++k, a += MR) {
    const T* b = rows.row(k);
    Vec column[NP];
    STRATA_UNROLL
    for (int j = 0; j < NP; ++j) column[j] = ei::ploadu<Vec>(b + j * P);
    STRATA_UNROLL
    for (int i = 0; i < MR; ++i) {
      const Vec weight = ei::pset1<Vec>(a[i]);
      STRATA_UNROLL
      for (int j = 0; j < NP; ++j) acc[i][j] = ei::pmadd(weight, column[j], acc[i][j]);
    }
  }
  STRATA_UNROLL
  for (int i = 0; i < MR; ++i) {
    STRATA_UNROLL
    for (int j = 0; j < NP; ++j) {
      if constexpr (Stream) {
        stream_packet(c + i * ldc + j * P, acc[i][j]);
      } else {
        ei::pstoreu(c + i * ldc + j * P, acc[i][j]);
      }
    }
  }
}

/// conv_micro_kernel with the row count chosen at run time, 1..kConvTileRows
/// (the last panel of a weight whose row count is not a multiple of it).
template <typename T, int NP, bool Stream = false, typename Rows>
void conv_micro_kernel_rows(int rows, index_t K, const T* a, const Rows& b, const T* bias, bool accumulate, T* c,
                            index_t ldc) {
  static_assert(kConvTileRows <= 12, "conv_micro_kernel_rows: add cases for the larger tile");
  constexpr int R = kConvTileRows;
  switch (rows) {
    case 12: return conv_micro_kernel<T, (R >= 12 ? 12 : 1), NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 11: return conv_micro_kernel<T, (R >= 11 ? 11 : 1), NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 10: return conv_micro_kernel<T, (R >= 10 ? 10 : 1), NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 9: return conv_micro_kernel<T, (R >= 9 ? 9 : 1), NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 8: return conv_micro_kernel<T, (R >= 8 ? 8 : 1), NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 7: return conv_micro_kernel<T, (R >= 7 ? 7 : 1), NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 6: return conv_micro_kernel<T, 6, NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 5: return conv_micro_kernel<T, 5, NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 4: return conv_micro_kernel<T, 4, NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 3: return conv_micro_kernel<T, 3, NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    case 2: return conv_micro_kernel<T, 2, NP, Stream>(K, a, b, bias, accumulate, c, ldc);
    default: return conv_micro_kernel<T, 1, NP, Stream>(K, a, b, bias, accumulate, c, ldc);
  }
}

/// The split of M output channels into panels of at most kConvTileRows rows,
/// as even as possible (64 = 4 x 11 + 2 x 10, not 5 x 12 + 4: a short panel
/// keeps too few accumulators busy). Panel i starts at row first(i).
struct ConvPanels {
  index_t count = 0, base = 0, extra = 0;
  explicit ConvPanels(index_t M)
      : count((M + kConvTileRows - 1) / kConvTileRows), base(count ? M / count : 0), extra(count ? M % count : 0) {}
  index_t first(index_t i) const { return i * base + std::min(i, extra); }
  int rows(index_t i) const { return static_cast<int>(base + (i < extra ? 1 : 0)); }
};

/// Packs a row-major (M x K) weight into the panels of ConvPanels(M): the
/// panel of rows [r0, r0 + rows) sits at packed + r0*K and holds, for each k,
/// its rows' k-th values side by side.
template <typename T>
void conv_pack_weight(const T* w, index_t M, index_t K, T* packed) {
  const ConvPanels panels(M);
  for (index_t p = 0; p < panels.count; ++p) {
    const index_t r0 = panels.first(p), rows = panels.rows(p);
    T* panel = packed + r0 * K;
    const T* src = w + r0 * K;
    // Written in order, read as `rows` sequential streams.
    for (index_t k = 0; k < K; ++k, panel += rows) {
      for (index_t i = 0; i < rows; ++i) panel[i] = src[i * K + k];
    }
  }
}

/// Where the columns of a product go. Columns are numbered over a block of
/// `images` images, each `image_columns` long: image n's columns hold `rows`
/// output rows of `row_columns` columns, of which the first `width` are real
/// output positions (the rest, and the columns past rows * row_columns, are
/// computed and dropped). Output row i of column (n, r, x) lands at
/// out[n * image_stride + i * plane + r * width + x].
template <typename T>
struct ConvColumnsOut {
  T* out = nullptr;
  index_t plane = 0;         ///< elements between output channels
  index_t image_stride = 0;  ///< elements between images
  index_t width = 0;         ///< real columns per output row
  index_t row_columns = 0;   ///< computed columns per output row (>= width)
  index_t rows = 0;          ///< output rows per image in the block
  index_t image_columns = 0; ///< computed columns per image (>= rows * row_columns)
  index_t end = 0;           ///< columns in the block: later ones are dropped
};

/// One micro-tile: `rows` (<= kConvTileRows) output channels starting at r0,
/// from their packed panel a (and biases, or null), times the strip of
/// columns starting at `first`. A strip whose NR columns are all real and in
/// one output row is stored in place; any other goes through a scratch tile
/// and only its real columns are copied out.
template <typename T, bool Stream = false, typename Rows>
void conv_gemm_block(const T* a, const T* bias, int rows, index_t K, const Rows& b, const ConvColumnsOut<T>& dst,
                     index_t r0, index_t first) {
  constexpr int NP = kConvTilePackets;
  constexpr index_t NR = conv_strip_width<T>();
  const index_t n = first / dst.image_columns, within = first % dst.image_columns;
  const index_t r = within / dst.row_columns, x = within % dst.row_columns;
  T* const channel0 = dst.out + r0 * dst.plane;
  if (r < dst.rows && x + NR <= dst.width && first + NR <= dst.end) {
    T* c = channel0 + n * dst.image_stride + r * dst.width + x;
    if (rows == kConvTileRows) {
      conv_micro_kernel<T, kConvTileRows, NP, Stream>(K, a, b, bias, false, c, dst.plane);
    } else {
      conv_micro_kernel_rows<T, NP, Stream>(rows, K, a, b, bias, false, c, dst.plane);
    }
    return;
  }
  // The strip's real columns, as runs of one output row: (position in the strip, output offset, length).
  index_t runs[NR][3];
  int run_count = 0;
  for (index_t q = 0; q < NR && first + q < dst.end;) {
    const index_t j = first + q, image = j / dst.image_columns, in_image = j % dst.image_columns;
    const index_t row = in_image / dst.row_columns, column = in_image % dst.row_columns;
    if (row >= dst.rows || column >= dst.width) {  // a dropped column: skip to the next row or image
      q += row >= dst.rows ? dst.image_columns - in_image : dst.row_columns - column;
      continue;
    }
    const index_t run = std::min(NR - q, dst.width - column);
    runs[run_count][0] = q;
    runs[run_count][1] = image * dst.image_stride + row * dst.width + column;
    runs[run_count][2] = run;
    ++run_count;
    q += run;
  }
  alignas(64) T scratch[kConvTileRows * NR];
  conv_micro_kernel_rows<T, NP>(rows, K, a, b, bias, false, scratch, NR);
  for (int u = 0; u < run_count; ++u) {
    for (int i = 0; i < rows; ++i) {
      copy_run(scratch + i * NR + runs[u][0], runs[u][2], channel0 + runs[u][1] + i * dst.plane);
    }
  }
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail
}  // namespace kernels
}  // namespace strata
