#pragma once
/// \file
/// kernels::conv_transpose: a transposed convolution (the adjoint of a
/// convolution, torch's conv_transpose1d / conv_transpose2d) as a GEMM plus
/// an overlap-add, never a scatter loop over the products. Per group, the
/// column matrix cols (out_channels/groups * taps rows, one column per input
/// position) is W^T x: the register tiles of conv_gemm.hpp multiply the
/// packed transposed weight with a tile of the input, and col2im.hpp adds
/// the tile's columns into the output planes, started from the bias.
///
/// The work is cut by plan_conv_transpose into items (group, range of output
/// channels, block of images): a block is one image or several small ones
/// side by side, its columns taken in tiles of a few hundred, each worker
/// with its own input and column tiles (about 512 KB of float, so they stay
/// in L2). An item owns its output planes, so items run in parallel without
/// sharing a byte, and each output element gets its terms in an order fixed
/// by the geometry alone: 1 and 2 threads give the same bits. Raw pointers,
/// no checks: the geometry is validated by nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <cstddef>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/col2im.hpp"
#include "strata/kernels/conv.hpp"
#include "strata/kernels/conv_gemm.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {
namespace detail {

/// Elements of a full column tile (512 KB of float): its columns are as many
/// as fit beside the M rows of the column matrix, in whole quanta.
constexpr index_t kConvTransposeTileElements = index_t{1} << 17;
/// Tile columns come in multiples of 48, a multiple of every strip width
/// (48, 24, 16, 8, 4, 2), so the plan does not depend on the scalar type.
constexpr index_t kConvTransposeQuantum = 48;
/// Reduction chunk: a strip's rows of one chunk (48 KB of float with AVX-512)
/// stay near while the panels pass over them (measured: 64 and 128 are slower).
constexpr index_t kConvTransposeChunk = 256;

}  // namespace detail

/// One transposed convolution call, planned: the geometry, the col2im maps,
/// how the work is cut into items and the workspace it needs. Build it with
/// plan_conv_transpose; run it with kernels::conv_transpose.
template <std::size_t D>
struct ConvTransposePlan {
  ConvTransposeShape<D> shape;
  Col2imPlan col2im;
  index_t M = 0;             ///< rows of the column matrix per group: out_channels/groups * prod(kernel)
  index_t K = 0;             ///< reduction: in_channels / groups
  index_t taps = 1;          ///< prod(kernel)
  index_t images = 1;        ///< images per block
  index_t blocks = 1;        ///< ceil(batch / images)
  index_t tile_columns = 0;  ///< columns per tile (a block's last tile may have fewer)
  index_t splits = 1;        ///< ranges of output channels per (group, block)
  index_t items = 0;         ///< groups * splits * blocks
  index_t workers = 1;       ///< parallel workers (each with its own buffer)
  index_t packed = 0;        ///< elements of the packed transposed weight
  index_t buffer = 0;        ///< elements of one worker's buffer: input tile, then column tile

  /// Elements of workspace kernels::conv_transpose needs for this plan.
  index_t workspace() const { return packed + workers * buffer; }
  /// First output channel (within a group) of split `s`; split s covers [split_begin(s), split_begin(s + 1)).
  index_t split_begin(index_t s) const { return shape.out_channels / shape.groups * s / splits; }
};

/// The plan of a validated geometry s on `threads` threads. Everything that
/// decides a sum's order (blocks, tiles) depends on the geometry only; the
/// thread count decides only the split into ranges of output channels.
/// Example: `auto plan = kernels::plan_conv_transpose(s, 2); std::vector<float> ws(plan.workspace());`
/// Throws strata::Error ("conv_transpose: ...") when a size overflows int64.
template <std::size_t D>
ConvTransposePlan<D> plan_conv_transpose(const ConvTransposeShape<D>& s, int threads = get_num_threads()) {
  namespace sd = strata::detail;
  const char* who = "conv_transpose";
  constexpr index_t Q = detail::kConvTransposeQuantum;
  ConvTransposePlan<D> p;
  p.shape = s;
  p.col2im = make_col2im_plan(s);
  const index_t out_per_group = s.out_channels / s.groups;
  for (index_t k : s.kernel) p.taps = sd::checked_mul(p.taps, k, who);
  p.M = sd::checked_mul(out_per_group, p.taps, who);
  p.K = s.in_channels / s.groups;
  // Of an input that exists: no overflow (0 only in an empty batch, which computes nothing).
  const index_t positions = std::max<index_t>(1, spatial_numel(s.input));
  const index_t target = std::max(Q, detail::kConvTransposeTileElements / p.M / Q * Q);
  if (positions >= target) {
    const index_t tiles = (positions + target - 1) / target;
    p.tile_columns = ((positions + tiles - 1) / tiles + Q - 1) / Q * Q;
  } else {
    p.images = std::clamp<index_t>(target / positions, 1, std::max<index_t>(s.batch, 1));
    p.tile_columns = p.images * positions;
  }
  p.blocks = (s.batch + p.images - 1) / p.images;
  // Ranges of output channels when the (group, block) units alone would leave
  // workers idle: at least one item per worker, and a whole number of items
  // per worker while there are few (3 blocks on 2 threads: 6 items, not 3).
  const index_t units = s.groups * p.blocks, team = std::max(threads, 1);
  while (units > 0 && p.splits < out_per_group &&
         (units * p.splits < team || (units * p.splits < 4 * team && units * p.splits % team != 0))) {
    ++p.splits;
  }
  p.items = sd::checked_mul(units, p.splits, who);
  p.workers = std::max<index_t>(1, std::min<index_t>(team, p.items));
  p.packed = sd::checked_mul(s.groups, sd::checked_mul(p.M, p.K, who), who);
  const index_t width = (p.tile_columns + Q - 1) / Q * Q;
  const index_t rows = sd::checked_mul((out_per_group + p.splits - 1) / p.splits, p.taps, who);
  p.buffer = sd::checked_mul(sd::checked_add(p.K, rows, who), width, who);
  return p;
}

namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// Packs rows [r0, r0 + rows) of W^T, for the group weight w (K x M,
/// row-major: torch's (in/groups, out/groups * taps)), into the panels of
/// ConvPanels(rows) at packed: the panel of rows [a, a + n) holds, for each
/// k, w[k][r0 + a .. r0 + a + n) side by side (contiguous reads).
template <typename T>
void conv_transpose_pack(const T* w, index_t M, index_t K, index_t r0, index_t rows, T* packed) {
  const ConvPanels panels(rows);
  for (index_t i = 0; i < panels.count; ++i) {
    const index_t a = panels.first(i), n = panels.rows(i);
    T* panel = packed + a * K;
    for (index_t k = 0; k < K; ++k, panel += n) std::copy(w + k * M + r0 + a, w + k * M + r0 + a + n, panel);
  }
}

/// cols (rows x width) = packed panels (rows x K) * tile (K x width), width a
/// whole number of packets: full strips, then one strip of the packets left.
/// The reduction runs in chunks of `chunk` rows of the tile, so a strip's
/// chunk stays in L1 while the panels pass over it; each accumulator is
/// stored and reloaded between chunks, so the sums are those of one pass.
template <typename T>
void conv_transpose_gemm(const T* packed, index_t rows, index_t K, const T* tile, index_t width, T* cols,
                         index_t chunk) {
  constexpr index_t NR = conv_strip_width<T>(), P = packet_size<T>();
  constexpr int NP2 = kConvTilePackets > 2 ? 2 : 1;
  const ConvPanels panels(rows);
  for (index_t k0 = 0; k0 < K; k0 += chunk) {
    const index_t kc = std::min(chunk, K - k0);
    const T* const b = tile + k0 * width;
    for (index_t i = 0; i < panels.count; ++i) {
      const index_t r0 = panels.first(i);
      const int n = panels.rows(i);
      const T* a = packed + r0 * K + k0 * n;
      T* c = cols + r0 * width;
      const bool more = k0 > 0;
      index_t q = 0;
      for (; q + NR <= width; q += NR) {
        conv_micro_kernel_rows<T, kConvTilePackets>(n, kc, a, ConvStridedRows<T>{b + q, width}, nullptr, more, c + q,
                                                    width);
      }
      if ((width - q) / P >= 2) {
        conv_micro_kernel_rows<T, NP2>(n, kc, a, ConvStridedRows<T>{b + q, width}, nullptr, more, c + q, width);
        q += NP2 * P;
      }
      for (; q < width; q += P) {
        conv_micro_kernel_rows<T, 1>(n, kc, a, ConvStridedRows<T>{b + q, width}, nullptr, more, c + q, width);
      }
    }
  }
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail

/// y (groups * b, a, taps) = x (groups * a, b, taps) with its two channel
/// dimensions swapped within each group and its taps reversed:
/// y[g*b + j][i][t] = x[g*a + i][j][taps - 1 - t]. Reversing a row-major
/// kernel's taps flips every spatial dimension, so this maps a stride-1
/// transposed convolution's weight to the convolution's that computes the same
/// (and back). x and y must not overlap.
/// Example: `kernels::conv_transpose_swap_weight(w, 2, 3, 4, 9, out);`
template <typename T>
void conv_transpose_swap_weight(const T* x, index_t groups, index_t a, index_t b, index_t taps, T* y) {
  for (index_t g = 0; g < groups; ++g)
    for (index_t j = 0; j < b; ++j)
      for (index_t i = 0; i < a; ++i) {
        const T* from = x + ((g * a + i) * b + j) * taps;
        std::reverse_copy(from, from + taps, y + ((g * b + j) * a + i) * taps);
      }
}

/// output (batch, out_channels, output...) = the transposed convolution
/// `plan` was made for (plan_conv_transpose) of input (batch, in_channels,
/// input...) with weight (in_channels, out_channels/groups, kernel...), plus
/// bias (out_channels) when bias is not null. All arrays contiguous,
/// row-major; output must not overlap the others. workspace holds at least
/// plan.workspace() elements and is the call's own. Runs on the plan's workers.
/// Example: `auto plan = kernels::plan_conv_transpose(s); std::vector<float> ws(plan.workspace()); kernels::conv_transpose(plan, x, w, b, y, ws.data());`
template <typename T, std::size_t D>
void conv_transpose(const ConvTransposePlan<D>& plan, const T* input, const T* weight, const T* bias, T* output,
                    T* workspace) {
  const ConvTransposeShape<D>& s = plan.shape;
  if (s.batch == 0) return;
  constexpr index_t P = detail::packet_size<T>();
  const index_t M = plan.M, K = plan.K, taps = plan.taps, G = s.groups;
  const index_t out_per_group = s.out_channels / G, positions = plan.col2im.positions();
  const index_t out_plane = spatial_numel(s.output), in_image = s.in_channels * positions;
  T* const packed = workspace;
  T* const buffers = workspace + plan.packed;
  // The transposed weight, packed per (group, split) range of rows.
  strata::detail::parallel_for(G * plan.splits, 1, [&](index_t begin, index_t end) {
    for (index_t u = begin; u < end; ++u) {
      const index_t g = u / plan.splits, split = u % plan.splits;
      const index_t r0 = plan.split_begin(split) * taps, rows = plan.split_begin(split + 1) * taps - r0;
      detail::conv_transpose_pack(weight + g * K * M, M, K, r0, rows, packed + (g * M + r0) * K);
    }
  });
  detail::conv_parallel_items(plan.workers, plan.items, [&](index_t w, index_t item) {
    const index_t block = item % plan.blocks, unit = item / plan.blocks;
    const index_t split = unit % plan.splits, g = unit / plan.splits;
    const index_t n0 = block * plan.images, images = std::min(plan.images, s.batch - n0);
    const index_t c0 = plan.split_begin(split), channels = plan.split_begin(split + 1) - c0;
    const index_t rows = channels * taps;
    T* const out = output + (n0 * s.out_channels + g * out_per_group + c0) * out_plane;
    const index_t image_stride = s.out_channels * out_plane;
    for (index_t n = 0; n < images; ++n) {
      for (index_t ch = 0; ch < channels; ++ch) {
        const T start = bias != nullptr ? bias[g * out_per_group + c0 + ch] : T(0);
        detail::col2im_fill(out + n * image_stride + ch * out_plane, out_plane, start);
      }
    }
    const T* const a = packed + (g * M + c0 * taps) * K;
    const T* const x = input + n0 * in_image + g * K * positions;
    const index_t columns = images * positions;
    for (index_t first = 0; first < columns; first += plan.tile_columns) {
      const index_t count = std::min(plan.tile_columns, columns - first);
      const index_t width = (count + P - 1) / P * P;
      T* const tile = buffers + w * plan.buffer;
      T* const cols = tile + K * width;
      // The tile of the input: row k holds channel k's columns [first, first + count), then zeros.
      for (index_t k = 0; k < K; ++k) {
        T* row = tile + k * width;
        for (index_t c = first; c < first + count;) {
          const index_t image = c / positions, i = c % positions, run = std::min(positions - i, first + count - c);
          const T* src = x + image * in_image + k * positions + i;
          std::copy(src, src + run, row + (c - first));
          c += run;
        }
        std::fill(row + count, row + width, T(0));
      }
      detail::conv_transpose_gemm(a, rows, K, tile, width, cols, detail::kConvTransposeChunk);
      col2im_add(cols, width, channels, plan.col2im, first, count, out, image_stride);
    }
  });
}

}  // namespace kernels
}  // namespace strata
