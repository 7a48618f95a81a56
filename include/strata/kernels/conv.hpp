#pragma once
/// \file
/// The convolution kernel (1-d and 2-d), three paths chosen by shape:
///  - pointwise (kernel 1, stride 1, no padding): the NCL / NCHW planes are
///    already the column matrix; register tiles read them in place.
///  - depthwise (groups == in_channels): a direct kernel (depthwise.hpp).
///  - everything else: an implicit GEMM. Per block (a band of output rows of
///    one image, or several small images) the input is laid out once as
///    padded phase planes (conv_planes.hpp), about the input's size instead of
///    im2col's kernel-size multiple, and the register tiles of conv_gemm.hpp
///    read every column of the virtual column matrix at a fixed offset in it.
///    The reduction is split in chunks that keep the strip in L1, and the
///    output tile is accumulated in a small buffer, then scattered.
/// Work items (image or block, tile of columns) run on strata's threads
/// through detail::parallel_for, each worker with its own part of the
/// workspace, so a call is data-race free and concurrent calls (each with its
/// own workspace) are too. Raw pointers, no checks: nn/functional/conv.hpp validates.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/conv_gemm.hpp"
#include "strata/kernels/conv_planes.hpp"
#include "strata/kernels/depthwise.hpp"
#include "strata/kernels/im2col.hpp"

namespace strata {
namespace kernels {

/// True when the convolution is a plain matrix product over the channels:
/// every kernel size and stride 1 and no padding (dilation is then irrelevant).
template <std::size_t D>
bool conv_is_pointwise(const ConvShape<D>& s) {
  for (std::size_t d = 0; d < D; ++d) {
    if (s.kernel[d] != 1 || s.stride[d] != 1 || s.pad_before[d] != 0 || s.pad_after[d] != 0) return false;
  }
  return true;
}

/// True when the convolution takes the direct depthwise kernel: one input
/// channel per group (groups == in_channels), any number of outputs per group.
template <std::size_t D>
bool conv_is_depthwise(const ConvShape<D>& s) {
  return s.groups > 1 && s.in_channels == s.groups && !conv_is_pointwise(s);
}

}  // namespace kernels

namespace detail {

/// Columns of output computed per work item: a multiple of every strip width
/// (48 floats or 24 doubles with AVX-512, 16 / 8 with AVX2), so the plan does
/// not depend on the scalar type.
constexpr index_t kConvTileColumns = 384;
/// Reduction chunk: a strip's kConvReductionChunk rows (48 KB of float with
/// AVX-512) stay in L1 while every panel of the weight passes over them.
constexpr index_t kConvReductionChunk = 256;
/// Elements of one worker's phase planes (2 MB of float): a block is a band
/// of output rows of one image, or several whole small images, within it.
constexpr index_t kConvPlaneElements = index_t{1} << 19;
/// Small images are put side by side until a block has about this many columns.
constexpr index_t kConvBlockColumns = 1024;
/// Readable zeros after a block's planes: a strip or a depthwise row may read
/// up to a strip past the last real column.
constexpr index_t kConvSlack = 256;

/// How one convolution call is cut into work: shared by conv_workspace_size
/// and conv, a function of the geometry and the thread count only.
struct ConvPlan {
  enum class Path { Pointwise, Depthwise, Planes } path = Path::Planes;
  index_t M = 0;               ///< output channels per group
  index_t K = 0;               ///< reduction: in_channels / groups * prod(kernel)
  index_t image_blocks = 1;    ///< blocks of images per group
  index_t bands = 1;           ///< bands of output rows per block of images
  index_t tiles = 1;           ///< tiles of kConvTileColumns per block
  index_t items = 0;           ///< work items in all
  index_t workers = 1;         ///< parallel workers (each with its own buffer)
  index_t packed = 0;          ///< elements of the packed weight
  index_t buffer = 0;          ///< elements of one worker's buffer
  kernels::ConvPlanes planes;  ///< Planes and Depthwise paths
  index_t workspace() const { return packed + workers * buffer; }
};

/// The plan of a validated geometry on `threads` threads. Throws
/// strata::Error ("conv: ...") when the workspace size overflows int64.
template <std::size_t D>
ConvPlan conv_plan(const kernels::ConvShape<D>& s, int threads) {
  const char* who = "conv";
  ConvPlan p;
  p.M = s.out_channels / s.groups;
  p.K = s.in_channels / s.groups;
  for (std::size_t d = 0; d < D; ++d) p.K = checked_mul(p.K, s.kernel[d], who);
  threads = std::max(threads, 1);
  if (kernels::conv_is_pointwise(s)) {
    p.path = ConvPlan::Path::Pointwise;
    p.packed = checked_mul(s.out_channels, p.K, who);
    // Whole tiles, the remainder joining the last one: a partial last strip
    // then always shares its tile with the strip before (see conv_pointwise_run).
    p.tiles = std::max<index_t>(1, kernels::spatial_numel(s.output) / kConvTileColumns);
    p.items = checked_mul(checked_mul(s.batch, s.groups, who), p.tiles, who);
    p.buffer = checked_mul(p.K, kConvTileColumns, who);  // the zero-padded last strip of an image
  } else if (kernels::conv_is_depthwise(s)) {
    p.path = ConvPlan::Path::Depthwise;
    p.planes = kernels::make_conv_planes(s);
    p.items = checked_mul(s.batch, s.in_channels, who);
    const index_t planes = checked_add(checked_mul(p.planes.phases, p.planes.phase_stride(), who), kConvSlack, who);
    p.buffer = checked_add(planes, depthwise_row_buffer(p.planes), who);
  } else {
    p.path = ConvPlan::Path::Planes;
    p.packed = checked_mul(s.out_channels, p.K, who);
    kernels::ConvPlanes& pl = p.planes;
    pl = kernels::make_conv_planes(s);
    const index_t row = checked_mul(checked_mul(pl.phases, pl.channels, who), pl.plane_w, who);
    const index_t image = checked_mul(row, pl.out_h + pl.row_reach, who);
    index_t images = 1, rows = pl.out_h;
    if (image <= kConvPlaneElements) {
      images = std::clamp<index_t>(std::min(kConvBlockColumns / pl.image_columns(), kConvPlaneElements / image), 1,
                                   std::max<index_t>(s.batch, 1));
    } else {
      rows = std::clamp<index_t>(kConvPlaneElements / row - pl.row_reach, 1, pl.out_h);
    }
    // At least one block per thread, so no two workers lay out the same planes.
    const auto blocks = [&] { return (s.batch + images - 1) / images * ((pl.out_h + rows - 1) / rows) * s.groups; };
    if (blocks() < threads && images > 1) images = std::max<index_t>(1, s.batch / threads);
    if (blocks() < threads) rows = std::max<index_t>(1, std::min(rows, (pl.out_h + threads - 1) / threads));
    pl.images = images;
    pl.rows = rows;
    pl.plane_rows = rows + pl.row_reach;
    p.image_blocks = (s.batch + images - 1) / images;
    p.bands = (pl.out_h + rows - 1) / rows;
    const index_t columns = (images - 1) * pl.image_columns() + (rows - 1) * pl.plane_w + pl.out_w;
    p.tiles = (columns + kConvTileColumns - 1) / kConvTileColumns;
    p.items = checked_mul(checked_mul(checked_mul(s.groups, p.image_blocks, who), p.bands, who), p.tiles, who);
    const index_t planes = checked_add(checked_mul(pl.phases, pl.phase_stride(), who), kConvSlack, who);
    p.buffer = checked_add(planes, checked_mul(p.M, kConvTileColumns, who), who);
  }
  p.workers = std::max<index_t>(1, std::min<index_t>(threads, p.items));
  return p;
}

/// The pointwise path's work: item = (image, group, tile of positions).
template <typename T, std::size_t D, bool Stream>
void conv_pointwise_run(const T* input, const T* bias, T* output, const kernels::ConvShape<D>& s, const ConvPlan& p,
                        const T* packed, T* buffers) {
  constexpr index_t NR = conv_strip_width<T>(), P = conv_packet_size<T>();
  static_assert(kConvTileColumns % NR == 0, "strata::kernels::conv: a tile must hold whole strips");
  const index_t plane = kernels::spatial_numel(s.output), M = p.M, K = p.K;
  const index_t in_per_group = s.in_channels / s.groups;
  const ConvPanels panels(M);
  conv_parallel_items(p.workers, p.items, [&](index_t w, index_t item) {
    T* buf = buffers + w * p.buffer;
    const index_t t = item % p.tiles, ng = item / p.tiles, g = ng % s.groups, n = ng / s.groups;
    const T* image = input + (n * s.in_channels + g * in_per_group) * plane;
    const ConvColumnsOut<T> dst{output + (n * s.out_channels + g * M) * plane, plane, 0, plane, plane, 1, plane, plane};
    const index_t first = t * kConvTileColumns, last = t + 1 == p.tiles ? plane : first + kConvTileColumns;
    // The image's last, partial strip stays in place (see below); only a
    // plane narrower than one strip is copied and zero-padded instead.
    const bool narrow = plane < NR;
    if (narrow) {
      for (index_t k = 0; k < K; ++k) {
        std::copy(image + k * plane, image + (k + 1) * plane, buf + k * NR);
        std::fill(buf + k * NR + plane, buf + (k + 1) * NR, T(0));
      }
    }
    // Panel-major: each panel's output rows are written as a few long streams.
    for (index_t panel = 0; panel < panels.count; ++panel) {
      const index_t r0 = panels.first(panel);
      const int rows = panels.rows(panel);
      const T* b = bias != nullptr ? bias + g * M + r0 : nullptr;
      for (index_t q = first; q < last; q += NR) {
        const T* a = packed + (g * M + r0) * K;
        if (narrow) {
          conv_gemm_block<T, Stream>(a, b, rows, K, ConvStridedRows<T>{buf, NR}, false, dst, r0, 0);
        } else if (q + NR <= plane) {
          conv_gemm_block<T, Stream>(a, b, rows, K, ConvStridedRows<T>{image + q, plane}, false, dst, r0, q);
        } else {
          // The last, partial strip: only the packets it needs, the last one
          // ending with the plane (at most P - 1 columns computed twice).
          const index_t packets = (plane - q + P - 1) / P, at = plane - packets * P;
          const ConvStridedRows<T> columns{image + at, plane};
          T* const c = dst.out + r0 * plane + at;
          if (packets >= kConvTilePackets) {
            conv_micro_kernel_rows<T, kConvTilePackets, Stream>(rows, K, a, columns, b, false, c, plane);
          } else if (packets == 2) {
            conv_micro_kernel_rows<T, (kConvTilePackets > 2 ? 2 : 1), Stream>(rows, K, a, columns, b, false, c, plane);
          } else {
            conv_micro_kernel_rows<T, 1, Stream>(rows, K, a, columns, b, false, c, plane);
          }
        }
      }
    }
    if constexpr (Stream) linear_stream_fence();  // the item's streamed stores are ordered before the region ends
  });
}

/// Runs body(worker, item) for every item in [0, items) on `workers` workers,
/// each with its own buffers (named by `worker`). Items are handed out in
/// contiguous chunks from a shared counter, large ones first and smaller
/// towards the end (guided scheduling): a worker the OS stalls does not hold
/// the others back, and consecutive items (the tiles of one block) mostly
/// stay with one worker, which then lays out the block's planes once.
template <typename Body>
void conv_parallel_items(index_t workers, index_t items, const Body& body) {
  std::atomic<index_t> next{0};
  parallel_for(workers, 1, [&](index_t first_worker, index_t end_worker) {
    for (index_t w = first_worker; w < end_worker; ++w) {
      for (;;) {
        index_t begin = next.load(std::memory_order_relaxed), size = 0;
        do {
          if (begin >= items) return;
          size = std::max<index_t>(1, (items - begin) / (2 * workers));
        } while (!next.compare_exchange_weak(begin, begin + size, std::memory_order_relaxed));
        for (index_t item = begin; item < begin + size; ++item) body(w, item);
      }
    }
  });
}

/// Pointwise outputs at least this large are written with streaming stores:
/// nothing here reads them back, and skipping the read-for-ownership of each
/// line cuts the memory traffic of a loop bound by writing them.
constexpr index_t kConvStreamMinBytes = index_t{2} << 20;

/// The pointwise path: item = (image, group, tile of positions).
template <typename T, std::size_t D>
void conv_pointwise(const T* input, const T* bias, T* output, const kernels::ConvShape<D>& s, const ConvPlan& p,
                    const T* packed, T* buffers) {
  const index_t bytes = s.batch * s.out_channels * kernels::spatial_numel(s.output) * static_cast<index_t>(sizeof(T));
  const bool stream = kLinearCanStream && bytes >= kConvStreamMinBytes &&
                      (kernels::spatial_numel(s.output) * static_cast<index_t>(sizeof(T))) % 64 == 0 &&
                      reinterpret_cast<std::uintptr_t>(output) % 64 == 0;
  if (stream) {
    conv_pointwise_run<T, D, true>(input, bias, output, s, p, packed, buffers);
  } else {
    conv_pointwise_run<T, D, false>(input, bias, output, s, p, packed, buffers);
  }
}

/// The planes path: item = (group, block of images, band of rows, tile of columns).
template <typename T, std::size_t D>
void conv_planes_gemm(const T* input, const T* bias, T* output, const kernels::ConvShape<D>& s, const ConvPlan& p,
                      const T* packed, T* buffers) {
  constexpr index_t NR = conv_strip_width<T>();
  static_assert(kConvTileColumns % NR == 0, "strata::kernels::conv: a tile must hold whole strips");
  const kernels::ConvPlanes& pl = p.planes;
  const index_t in_plane = kernels::spatial_numel(s.input), out_plane = kernels::spatial_numel(s.output);
  const index_t M = p.M, K = p.K, in_per_group = s.in_channels / s.groups;
  const index_t image_stride = s.in_channels * in_plane;
  std::vector<index_t> offsets(static_cast<std::size_t>(K));
  kernels::conv_planes_offsets(pl, offsets.data());
  const index_t planes_size = pl.phases * pl.phase_stride() + kConvSlack;
  const ConvPanels panels(M);
  // Even chunks of at most kConvReductionChunk (576 = 3 x 192, not 256 + 256 + 64).
  const index_t chunks = (K + kConvReductionChunk - 1) / kConvReductionChunk;
  const index_t chunk = (K + chunks - 1) / chunks;
  std::vector<index_t> laid_out_blocks(static_cast<std::size_t>(p.workers), -1);  // whose planes each worker holds
  conv_parallel_items(p.workers, p.items, [&](index_t w, index_t item) {
    T* const planes = buffers + w * p.buffer;
    T* const tile = planes + planes_size;  // M x kConvTileColumns accumulators
    index_t& laid_out = laid_out_blocks[static_cast<std::size_t>(w)];
    const index_t block = item / p.tiles, t = item % p.tiles;
    const index_t band = block % p.bands, ib = block / p.bands % p.image_blocks;
    const index_t g = block / p.bands / p.image_blocks;
    const index_t n0 = ib * pl.images, images = std::min(pl.images, s.batch - n0);
    const index_t row0 = band * pl.rows, rows = std::min(pl.rows, pl.out_h - row0);
    const index_t columns = (images - 1) * pl.image_columns() + (rows - 1) * pl.plane_w + pl.out_w;
    const index_t first = t * kConvTileColumns;
    if (first >= columns) return;  // a smaller last block has fewer tiles
    const index_t last = std::min(first + kConvTileColumns, columns);
    if (laid_out != block) {
      kernels::conv_planes_fill(input + n0 * image_stride + g * in_per_group * in_plane, image_stride, in_plane, images,
                                row0, pl, kConvSlack, planes);
      laid_out = block;
    }
    const T* a = packed + g * M * K;
    for (index_t k0 = 0; k0 < K; k0 += chunk) {
      const index_t kc = std::min(chunk, K - k0);
      for (index_t q = first; q < last; q += NR) {
        const ConvOffsetRows<T> b{planes + q, offsets.data() + k0};
        for (index_t panel = 0; panel < panels.count; ++panel) {
          const index_t r0 = panels.first(panel);
          const int panel_rows = panels.rows(panel);
          const T* panel_bias = bias != nullptr && k0 == 0 ? bias + g * M + r0 : nullptr;
          conv_micro_kernel_rows<T, kConvTilePackets>(panel_rows, kc, a + r0 * K + k0 * panel_rows, b, panel_bias,
                                                      k0 > 0, tile + r0 * kConvTileColumns + (q - first),
                                                      kConvTileColumns);
        }
      }
    }
    // Scatter the real columns: runs of one output row.
    T* const out = output + (n0 * s.out_channels + g * M) * out_plane + row0 * pl.out_w;
    for (index_t q = first; q < last;) {
      const index_t image = q / pl.image_columns(), within = q % pl.image_columns();
      const index_t r = within / pl.plane_w, x = within % pl.plane_w;
      if (r >= rows || x >= pl.out_w) {  // computed, not an output: skip to the next row or image
        q += r >= rows ? pl.image_columns() - within : pl.plane_w - x;
        continue;
      }
      const index_t run = std::min(last - q, pl.out_w - x);
      T* dst = out + image * s.out_channels * out_plane + r * pl.out_w + x;
      const T* src = tile + (q - first);
      for (index_t i = 0; i < M; ++i) conv_copy_run(src + i * kConvTileColumns, run, dst + i * out_plane);
      q += run;
    }
  });
}

/// The depthwise path: item = (image, input channel), its `multiplier` output planes.
template <typename T, std::size_t D>
void conv_depthwise(const T* input, const T* weight, const T* bias, T* output, const kernels::ConvShape<D>& s,
                    const ConvPlan& p, T* buffers) {
  const kernels::ConvPlanes& pl = p.planes;
  const index_t in_plane = kernels::spatial_numel(s.input), out_plane = kernels::spatial_numel(s.output);
  const index_t taps = p.K, multiplier = p.M;
  std::vector<index_t> offsets(static_cast<std::size_t>(taps));
  kernels::conv_planes_offsets(pl, offsets.data());
  conv_parallel_items(p.workers, p.items, [&](index_t w, index_t item) {
    T* const planes = buffers + w * p.buffer;
    T* const rows = planes + pl.phases * pl.phase_stride() + kConvSlack;
    kernels::conv_planes_fill(input + item * in_plane, 0, 0, 1, 0, pl, kConvSlack, planes);
    const index_t c = item % s.in_channels, n = item / s.in_channels;
    for (index_t m = 0; m < multiplier; ++m) {
      const index_t o = c * multiplier + m;
      depthwise_plane(planes, pl, offsets.data(), weight + o * taps, taps, bias != nullptr ? bias[o] : T(0), rows,
                      output + (n * s.out_channels + o) * out_plane);
    }
  });
}

}  // namespace detail

namespace kernels {

/// Elements of the workspace conv() needs for geometry s on `threads`
/// threads: the packed weight plus each worker's buffer (phase planes of one
/// block and a tile of accumulators), a few MB at most for typical layers
/// whatever the batch. Throws strata::Error ("conv: ...") when the size overflows int64.
/// Example: `std::vector<float> ws(kernels::conv_workspace_size(s));`
template <std::size_t D>
index_t conv_workspace_size(const ConvShape<D>& s, int threads = get_num_threads()) {
  return strata::detail::conv_plan(s, threads).workspace();
}

/// output (batch, out_channels, output...) = convolution of input
/// (batch, in_channels, input...) with weight (out_channels, in_channels/groups,
/// kernel...), plus bias (out_channels) when bias is not null. All arrays
/// contiguous, row-major; output must not overlap the others. workspace holds
/// at least conv_workspace_size(s, threads) elements and is the call's own (two
/// calls running at once need two buffers). Runs on up to `threads` threads.
/// The padding mode is applied while laying out the planes.
/// Example: `kernels::conv<float, 2>(x, w, b, y, s, ws.data());`
template <typename T, std::size_t D>
void conv(const T* input, const T* weight, const T* bias, T* output, const ConvShape<D>& s, T* workspace,
          int threads = get_num_threads()) {
  if (s.batch == 0 || s.out_channels == 0) return;
  const strata::detail::ConvPlan p = strata::detail::conv_plan(s, threads);
  using Path = strata::detail::ConvPlan::Path;
  if (p.path == Path::Depthwise) {
    strata::detail::conv_depthwise(input, weight, bias, output, s, p, workspace);
    return;
  }
  T* const packed = workspace;
  for (index_t g = 0; g < s.groups; ++g) {
    strata::detail::conv_pack_weight(weight + g * p.M * p.K, p.M, p.K, packed + g * p.M * p.K);
  }
  if (p.path == Path::Pointwise) {
    strata::detail::conv_pointwise(input, bias, output, s, p, packed, workspace + p.packed);
  } else {
    strata::detail::conv_planes_gemm(input, bias, output, s, p, packed, workspace + p.packed);
  }
}

}  // namespace kernels
}  // namespace strata
