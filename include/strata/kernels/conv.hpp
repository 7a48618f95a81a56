#pragma once
/// \file
/// kernels::conv: runs a planned convolution (kernels/conv_plan.hpp, which
/// chooses the algorithm and sizes the workspace). One run function per
/// algorithm: pointwise and the implicit GEMM on the register tiles of
/// conv_gemm.hpp, depthwise on its direct kernel, im2col + Eigen's GEMM on
/// tiles of the column matrix. Work items go to strata's threads through
/// strata::detail::parallel_for, each worker with its own part of the
/// workspace, so a call is data-race free and concurrent calls (each with its
/// own workspace) are too. Raw pointers, no checks: the geometry is validated
/// by nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/conv_gemm.hpp"
#include "strata/kernels/conv_plan.hpp"
#include "strata/kernels/conv_planes.hpp"
#include "strata/kernels/depthwise.hpp"
#include "strata/kernels/gemm.hpp"
#include "strata/kernels/im2col.hpp"
#include "strata/kernels/instances.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {
namespace detail {

/// Runs body(worker, item) for every item in [0, items) on `workers` workers,
/// each with its own buffers (named by `worker`). Items are handed out in
/// contiguous chunks from a shared counter, large ones first and smaller
/// towards the end (guided scheduling): a worker the OS stalls does not hold
/// the others back, and consecutive items (the tiles of one block) mostly
/// stay with one worker, which then lays out the block's planes once.
template <typename Body>
void conv_parallel_items(index_t workers, index_t items, const Body& body) {
  std::atomic<index_t> next{0};
  strata::detail::parallel_for(workers, 1, [&](index_t first_worker, index_t end_worker) {
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

/// The pointwise path's work: item = (image, group, tile of positions).
template <typename T, std::size_t D, bool Stream>
void conv_pointwise_run(const T* input, const T* bias, T* output, const ConvPlan<D>& p, const T* packed,
                        T* buffers) {
  const ConvShape<D>& s = p.shape;
  constexpr index_t NR = conv_strip_width<T>(), P = packet_size<T>();
  static_assert(kConvTileColumns % NR == 0, "strata::kernels::conv: a tile must hold whole strips");
  const index_t plane = spatial_numel(s.output), M = p.M, K = p.K;
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
          conv_gemm_block<T, Stream>(a, b, rows, K, ConvStridedRows<T>{buf, NR}, dst, r0, 0);
        } else if (q + NR <= plane) {
          conv_gemm_block<T, Stream>(a, b, rows, K, ConvStridedRows<T>{image + q, plane}, dst, r0, q);
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
    if constexpr (Stream) stream_fence();  // the item's streamed stores are ordered before the region ends
  });
}

/// Pointwise outputs at least this large are written with streaming stores:
/// nothing here reads them back, and skipping the read-for-ownership of each
/// line cuts the memory traffic of a loop bound by writing them.
constexpr index_t kConvStreamMinBytes = index_t{2} << 20;

/// The pointwise path: item = (image, group, tile of positions).
template <typename T, std::size_t D>
void conv_pointwise(const T* input, const T* bias, T* output, const ConvPlan<D>& p, const T* packed, T* buffers) {
  const ConvShape<D>& s = p.shape;
  const index_t bytes = s.batch * s.out_channels * spatial_numel(s.output) * static_cast<index_t>(sizeof(T));
  const bool stream = kCanStream && bytes >= kConvStreamMinBytes &&
                      (spatial_numel(s.output) * static_cast<index_t>(sizeof(T))) % 64 == 0 &&
                      reinterpret_cast<std::uintptr_t>(output) % 64 == 0;
  if (stream) {
    conv_pointwise_run<T, D, true>(input, bias, output, p, packed, buffers);
  } else {
    conv_pointwise_run<T, D, false>(input, bias, output, p, packed, buffers);
  }
}

/// Tile columns times reduction chunk (elements) up to which the implicit GEMM
/// runs each weight panel over all strips of its tile (the tile's columns stay
/// in L2 and the weight is streamed once per chunk); past it, each strip stays
/// in L1 while every panel passes over it.
constexpr index_t kConvPanelOuterElements = index_t{1} << 16;

/// The implicit GEMM: item = (group, block of images, band of rows, tile of
/// columns, range of output channels).
template <typename T, std::size_t D>
void conv_implicit_gemm(const T* input, const T* bias, T* output, const ConvPlan<D>& p, const T* packed, T* buffers) {
  const ConvShape<D>& s = p.shape;
  constexpr index_t NR = conv_strip_width<T>();
  static_assert(kConvTileColumns % NR == 0, "strata::kernels::conv: a tile must hold whole strips");
  const ConvPlanes& pl = p.planes;
  const index_t in_plane = spatial_numel(s.input), out_plane = spatial_numel(s.output);
  const index_t M = p.M, K = p.K, in_per_group = s.in_channels / s.groups;
  const index_t image_stride = s.in_channels * in_plane;
  std::vector<index_t> offsets(static_cast<std::size_t>(K));
  conv_planes_offsets(pl, offsets.data());
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
    const index_t split = item % p.channel_splits, unit = item / p.channel_splits;
    const index_t block = unit / p.tiles, t = unit % p.tiles;
    const index_t band = block % p.bands, ib = block / p.bands % p.image_blocks;
    const index_t g = block / p.bands / p.image_blocks;
    const index_t n0 = ib * pl.images, images = std::min(pl.images, s.batch - n0);
    const index_t row0 = band * pl.rows, rows = std::min(pl.rows, pl.out_h - row0);
    const index_t columns = (images - 1) * pl.image_columns() + (rows - 1) * pl.plane_w + pl.out_w;
    const index_t first = t * kConvTileColumns;
    if (first >= columns) return;  // a smaller last block has fewer tiles
    const index_t last = std::min(first + kConvTileColumns, columns);
    if (laid_out != block) {
      conv_planes_fill(input + n0 * image_stride + g * in_per_group * in_plane, image_stride, in_plane, images, row0,
                       pl, kConvSlack, planes);
      laid_out = block;
    }
    // This item's output channels: a range of whole panels.
    const index_t panel0 = panels.count * split / p.channel_splits;
    const index_t panel1 = panels.count * (split + 1) / p.channel_splits;
    const T* a = packed + g * M * K;
    const auto product = [&](index_t k0, index_t kc, index_t panel, index_t q) {
      const index_t r0 = panels.first(panel);
      const int panel_rows = panels.rows(panel);
      const T* panel_bias = bias != nullptr && k0 == 0 ? bias + g * M + r0 : nullptr;
      conv_micro_kernel_rows<T, kConvTilePackets>(panel_rows, kc, a + r0 * K + k0 * panel_rows,
                                                  ConvOffsetRows<T>{planes + q, offsets.data() + k0}, panel_bias,
                                                  k0 > 0, tile + r0 * kConvTileColumns + (q - first), kConvTileColumns);
    };
    // The loop order does not change any sum (each output adds its taps in
    // the same order), only which operand stays in cache.
    const bool panel_outer = (last - first) * chunk <= kConvPanelOuterElements;
    for (index_t k0 = 0; k0 < K; k0 += chunk) {
      const index_t kc = std::min(chunk, K - k0);
      if (panel_outer) {
        for (index_t panel = panel0; panel < panel1; ++panel)
          for (index_t q = first; q < last; q += NR) product(k0, kc, panel, q);
      } else {
        for (index_t q = first; q < last; q += NR)
          for (index_t panel = panel0; panel < panel1; ++panel) product(k0, kc, panel, q);
      }
    }
    // Scatter the real columns of this item's channels: runs of one output row.
    const index_t i0 = panels.first(panel0), i1 = panel1 < panels.count ? panels.first(panel1) : M;
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
      for (index_t i = i0; i < i1; ++i) copy_run(src + i * kConvTileColumns, run, dst + i * out_plane);
      q += run;
    }
  });
}

/// The depthwise path: item = (image, input channel), its `multiplier` output planes.
template <typename T, std::size_t D>
void conv_depthwise(const T* input, const T* weight, const T* bias, T* output, const ConvPlan<D>& p, T* buffers) {
  const ConvShape<D>& s = p.shape;
  const ConvPlanes& pl = p.planes;
  const index_t in_plane = spatial_numel(s.input), out_plane = spatial_numel(s.output);
  const index_t taps = p.K, multiplier = p.M;
  std::vector<index_t> offsets(static_cast<std::size_t>(taps));
  conv_planes_offsets(pl, offsets.data());
  conv_parallel_items(p.workers, p.items, [&](index_t w, index_t item) {
    T* const planes = buffers + w * p.buffer;
    T* const rows = planes + pl.phases * pl.phase_stride() + kConvSlack;
    conv_planes_fill(input + item * in_plane, 0, 0, 1, 0, pl, kConvSlack, planes);
    const index_t c = item % s.in_channels, n = item / s.in_channels;
    for (index_t m = 0; m < multiplier; ++m) {
      const index_t o = c * multiplier + m;
      depthwise_plane(planes, pl, offsets.data(), weight + o * taps, taps, bias != nullptr ? bias[o] : T(0), rows,
                      output + (n * s.out_channels + o) * out_plane);
    }
  });
}

/// im2col + GEMM: item = (image, group, tile of output columns). Each worker
/// fills its K x tile_columns part of the column matrix (im2col.hpp) and
/// multiplies it with the group's weight through Eigen's GEMM (serial in each
/// worker, so the bits do not depend on the thread count), straight into the
/// output planes, started from the bias.
template <typename T, std::size_t D>
void conv_im2col_gemm(const T* input, const T* weight, const T* bias, T* output, const ConvPlan<D>& p, T* buffers) {
  const ConvShape<D>& s = p.shape;
  const index_t in_plane = spatial_numel(s.input), out_plane = spatial_numel(s.output);
  const index_t M = p.M, K = p.K, in_per_group = s.in_channels / s.groups;
  conv_parallel_items(p.workers, p.items, [&](index_t w, index_t item) {
    T* const columns = buffers + w * p.buffer;
    const index_t t = item % p.tiles, ng = item / p.tiles, g = ng % s.groups, n = ng / s.groups;
    const index_t first = t * p.tile_columns, count = std::min(p.tile_columns, out_plane - first);
    im2col_columns(input + (n * s.in_channels + g * in_per_group) * in_plane, p.im2col, first, count, columns);
    T* const out = output + (n * s.out_channels + g * M) * out_plane + first;
    for (index_t i = 0; i < M; ++i) std::fill_n(out + i * out_plane, count, bias != nullptr ? bias[g * M + i] : T(0));
    gemm_serial(M, count, K, weight + g * M * K, K, columns, count, out, out_plane);
  });
}

}  // namespace detail

/// output (batch, out_channels, output...) = the convolution `plan` was made
/// for (plan_conv, conv_plan.hpp) of input (batch, in_channels, input...) with
/// weight (out_channels, in_channels/groups, kernel...), plus bias
/// (out_channels) when bias is not null. All arrays contiguous, row-major;
/// output must not overlap the others. workspace holds at least
/// plan.workspace() elements and is the call's own (two calls running at once
/// need two). Runs on the plan's workers; the padding mode is applied while
/// the input is laid out.
/// Example: `auto plan = kernels::plan_conv(s); std::vector<float> ws(plan.workspace()); kernels::conv(plan, x, w, b, y, ws.data());`
template <typename T, std::size_t D>
void conv(const ConvPlan<D>& plan, const T* input, const T* weight, const T* bias, T* output, T* workspace) {
  const ConvShape<D>& s = plan.shape;
  if (s.batch == 0 || s.out_channels == 0) return;
  switch (plan.algorithm) {
    case ConvAlgorithm::Depthwise:
      detail::conv_depthwise(input, weight, bias, output, plan, workspace);
      return;
    case ConvAlgorithm::Im2colGemm:
      detail::conv_im2col_gemm(input, weight, bias, output, plan, workspace);
      return;
    case ConvAlgorithm::Winograd:
      detail::conv_winograd<T, D>(plan.winograd, s.batch, plan.workers, input, weight, bias, output, workspace,
                                  [](index_t workers, index_t items, const auto& body) {
                                    detail::conv_parallel_items(workers, items, body);
                                  });
      return;
    default:
      break;
  }
  T* const packed = workspace;
  for (index_t g = 0; g < s.groups; ++g) {
    detail::conv_pack_weight(weight + g * plan.M * plan.K, plan.M, plan.K, packed + g * plan.M * plan.K);
  }
  if (plan.algorithm == ConvAlgorithm::Pointwise) {
    detail::conv_pointwise(input, bias, output, plan, packed, workspace + plan.packed);
  } else {
    detail::conv_implicit_gemm(input, bias, output, plan, packed, workspace + plan.packed);
  }
}

#ifdef STRATA_KERNEL_INSTANCE  // kernels/instances.hpp: compiled once per program
#define STRATA_CONV_INSTANCE(T, D) \
  STRATA_KERNEL_INSTANCE void conv<T, D>(const ConvPlan<D>&, const T*, const T*, const T*, T*, T*);
STRATA_CONV_INSTANCE(float, 1)
STRATA_CONV_INSTANCE(float, 2)
STRATA_CONV_INSTANCE(float, 3)
STRATA_CONV_INSTANCE(double, 1)
STRATA_CONV_INSTANCE(double, 2)
STRATA_CONV_INSTANCE(double, 3)
#undef STRATA_CONV_INSTANCE
#endif

}  // namespace kernels
}  // namespace strata
