#pragma once
/// \file
/// Winograd convolution (ConvAlgorithm::Winograd) for stride-1, dilation-1
/// kernels of 3 (3 x 3 in 2-d) and 5 x 5: the output is cut into tiles of
/// m x m positions (m in 1-d), each tile computed from an alpha x alpha patch
/// of the input (alpha = m + r - 1) with alpha^2 multiplications per channel
/// pair instead of m^2 r^2 (winograd_transforms.hpp). Per block of tiles
/// (a band of tile rows of one image, or several whole images), for each
/// group:
///  1. the input patches are transformed, V[position][channel][tile], with
///     the padding mode applied while the padded rows are laid out (split by
///     column phase, so that the transforms run on packets of tiles);
///  2. per panel of output channels (conv_gemm.hpp's panels), the filters are
///     transformed, U[position][channel x panel row], packed as the register
///     tiles read them (once per call into the shared workspace when several
///     blocks reuse them, else by each worker for its own panels, while they
///     are in cache); then each position's product Y = U V is a GEMM on the
///     register tiles (conv_micro_kernel), reduction over the input channels;
///  3. Y is transformed back to the output tiles and the bias added.
/// Every output is computed by the same operations in the same order whatever
/// the block or the split of the work, so the result does not depend on the
/// thread count. Raw pointers, no checks: the geometry is validated by
/// nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/kernels/conv_gemm.hpp"
#include "strata/kernels/conv_shape.hpp"
#include "strata/kernels/simd.hpp"
#include "strata/kernels/winograd_transforms.hpp"

namespace strata {
namespace kernels {

/// True when the Winograd algorithm applies: stride 1, dilation 1, and a
/// kernel of 3 or 5 (3 x 3 or 5 x 5 in 2-d); any padding, padding mode and groups.
template <std::size_t D>
bool conv_is_winograd(const ConvShape<D>& s) {
  if (D != 1 && D != 2) return false;
  for (std::size_t d = 0; d < D; ++d) {
    if (s.stride[d] != 1 || s.dilation[d] != 1 || s.kernel[d] != s.kernel[0]) return false;
  }
  return s.kernel[0] == 3 || s.kernel[0] == 5;
}

/// The output tile ConvAlgorithm::Winograd uses for a kernel of size r: 3 -> 4
/// (F(4 x 4, 3 x 3), 4x fewer multiplications), 5 -> 2 (F(2 x 2, 5 x 5), 2.8x).
/// Larger tiles multiply fewer times but round worse (see tests/kernels/winograd_test.cpp).
inline int winograd_default_tile(index_t kernel) { return kernel == 3 ? 4 : 2; }

/// The geometry of a Winograd call and of its blocks and work items.
struct WinogradPlan {
  int tile = 0;    ///< m: output positions per tile side
  int kernel = 0;  ///< r
  index_t tile_h = 1, tile_w = 1;    ///< output rows / columns per tile (tile_h 1 in 1-d)
  index_t alpha_h = 1, alpha_w = 1;  ///< input rows / columns per tile
  index_t positions = 1;             ///< alpha_h * alpha_w: products per channel pair per tile
  index_t height = 1, width = 1, out_h = 1, out_w = 1;
  index_t pad_top = 0, pad_left = 0, padded_h = 1, padded_w = 1;
  PaddingMode mode = PaddingMode::Zeros;
  index_t groups = 1;
  index_t channels = 0;  ///< input channels per group: the reduction of each product
  index_t outputs = 0;   ///< output channels per group
  index_t tiles_h = 1, tiles_w = 1;  ///< tiles per image, vertically and horizontally
  index_t images = 1;                ///< images per block
  index_t tile_rows = 1;             ///< tile rows per image per block
  index_t image_blocks = 1, bands = 1, channel_splits = 1;
  index_t panel_count = 0;    ///< panels of output channels per group
  index_t ld = 0;             ///< row length of V and Y: a block's tiles plus slack
  index_t q_rows = 0, q_row = 0;  ///< the padded rows of one channel of a block: rows, columns per phase
  index_t filter_stride = 0;  ///< elements per position of a panel's transformed filters
  bool filters_once = false;  ///< filters transformed once per call into the shared workspace
  index_t items = 0;          ///< work items: (group, block, range of panels)
  index_t shared = 0;         ///< elements of the shared transformed filters
  index_t buffer = 0;         ///< elements of one worker's buffer

  index_t filter_panel() const { return positions * filter_stride; }
  /// Elements between two positions of V: its channels' rows plus a cache
  /// line, so the 36 stores of a tile do not fall into one cache set.
  index_t v_position() const { return channels * ld + 16; }
  index_t v_size() const { return positions * v_position(); }
  index_t y_size() const { return positions * detail::kConvTileRows * ld; }
  index_t q_size() const { return tile_w * q_rows * q_row; }
};

namespace detail {

/// Elements of a block's transformed input V (2 MB of float, about the L2):
/// the tiles of a block are as many as fit, so each weight panel passes over
/// them while they stay in cache.
#ifndef STRATA_WINOGRAD_BLOCK_ELEMENTS
#define STRATA_WINOGRAD_BLOCK_ELEMENTS (1 << 17)
#endif
constexpr index_t kWinogradBlockElements = STRATA_WINOGRAD_BLOCK_ELEMENTS;
/// Reduction chunk of the products (as kConvReductionChunk).
constexpr index_t kWinogradReductionChunk = 256;

}  // namespace detail

/// The Winograd plan of a validated geometry (conv_is_winograd) with output
/// tiles of `tile` (2, 4 or 6 for a kernel of 3; 2 for 5) on `threads` threads.
/// Throws strata::Error when a size overflows int64.
template <std::size_t D>
WinogradPlan make_winograd_plan(const ConvShape<D>& s, index_t threads, int tile, const char* who) {
  namespace sd = strata::detail;
  WinogradPlan p;
  constexpr std::size_t w = D - 1;
  p.kernel = static_cast<int>(s.kernel[0]);
  p.tile = p.kernel == 5 ? 2 : tile;  // F(2, 5) only
  tile = p.tile;
  p.tile_w = tile;
  p.alpha_w = tile + p.kernel - 1;
  p.width = s.input[w];
  p.out_w = s.output[w];
  p.pad_left = s.pad_before[w];
  p.padded_w = s.input[w] + s.pad_before[w] + s.pad_after[w];
  if constexpr (D == 2) {
    p.tile_h = tile;
    p.alpha_h = p.alpha_w;
    p.height = s.input[0];
    p.out_h = s.output[0];
    p.pad_top = s.pad_before[0];
    p.padded_h = s.input[0] + s.pad_before[0] + s.pad_after[0];
  }
  p.mode = s.padding_mode;
  p.positions = p.alpha_h * p.alpha_w;
  p.groups = s.groups;
  p.channels = s.in_channels / s.groups;
  p.outputs = s.out_channels / s.groups;
  p.tiles_h = (p.out_h + p.tile_h - 1) / p.tile_h;
  p.tiles_w = (p.out_w + p.tile_w - 1) / p.tile_w;
  const index_t batch = std::max<index_t>(s.batch, 1);
  const index_t image_tiles = sd::checked_mul(p.tiles_h, p.tiles_w, who);
  const index_t budget = std::max<index_t>(1, detail::kWinogradBlockElements / sd::saturating_mul(p.positions, p.channels));
  if (image_tiles <= budget) {
    p.images = std::clamp<index_t>(budget / image_tiles, 1, batch);
    p.tile_rows = p.tiles_h;
  } else if (image_tiles <= 4 * budget && batch == 1) {
    // A single image of up to 4 budgets stays one block: split into bands,
    // it would need its filters transformed into memory (4x the weight) and
    // read back per band.
    p.tile_rows = p.tiles_h;
  } else {
    p.tile_rows = std::clamp<index_t>(budget / p.tiles_w, 1, p.tiles_h);
  }
  // At least one work item per thread: fewer images per block first, then
  // ranges of output channels (each worker transforms the block's input for
  // itself and runs only its panels), bands of tile rows only for few channels.
  const auto blocks = [&] {
    return (batch + p.images - 1) / p.images * ((p.tiles_h + p.tile_rows - 1) / p.tile_rows) * s.groups;
  };
  if (blocks() < threads && p.images > 1) p.images = std::max<index_t>(1, batch / threads);
  p.panel_count = detail::ConvPanels(p.outputs).count;
  if (blocks() < threads && p.panel_count >= 2 * threads) {
    p.channel_splits = std::min(p.panel_count, (threads + blocks() - 1) / blocks());
  } else if (blocks() < threads && p.images == 1) {
    p.tile_rows = std::max<index_t>(1, std::min(p.tile_rows, (p.tiles_h + threads - 1) / threads));
  }
  p.image_blocks = (batch + p.images - 1) / p.images;
  p.bands = (p.tiles_h + p.tile_rows - 1) / p.tile_rows;
  const index_t columns = sd::checked_mul(sd::checked_mul(p.images, p.tile_rows, who), p.tiles_w, who);
  // Packets of up to 16 tiles write past a tile row's end (see winograd_input): 16 of slack.
  p.ld = sd::checked_add((columns + 15) / 16 * 16, 16, who);
  p.q_rows = p.tile_rows * p.tile_h + p.alpha_h - p.tile_h;
  p.q_row = sd::checked_add((p.tiles_w + 15) / 16 * 16, (p.alpha_w - 1) / p.tile_w + 1, who);
  p.filter_stride = sd::checked_mul(p.channels, detail::kConvTileRows, who);
  p.filter_stride = (p.filter_stride + 15) / 16 * 16;
  p.filters_once = p.image_blocks * p.bands > 1;
  p.items = sd::checked_mul(sd::checked_mul(sd::checked_mul(s.groups, p.image_blocks, who), p.bands, who),
                            p.channel_splits, who);
  if (p.filters_once) {
    p.shared = sd::checked_mul(sd::checked_mul(s.groups, p.panel_count, who), p.filter_panel(), who);
  }
  const index_t taps = p.kernel * (D == 2 ? p.kernel : 1);
  index_t buffer = sd::checked_add(sd::checked_mul(p.positions, sd::checked_add(sd::checked_mul(p.channels, p.ld, who), 16, who), who),
                                   sd::checked_mul(p.positions * detail::kConvTileRows, p.ld, who), who);
  buffer = sd::checked_add(buffer, sd::checked_mul(p.tile_w * p.q_rows, p.q_row, who), who);
  p.buffer = sd::checked_add(buffer, sd::checked_mul(p.positions + taps, p.filter_stride, who), who);
  return p;
}

namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// The packet of 4 elements of T (down Eigen's chain of half packets), or
/// a smaller one where there is none: the unit of the 4-way (de)interleave of
/// a tile width of 4, Eigen's 4 x 4 transpose (ptranspose of 4 such packets).
template <typename Vec, bool Wide = (Eigen::internal::unpacket_traits<Vec>::size > 4)>
struct WinogradQuadOf {
  using type = typename WinogradQuadOf<typename Eigen::internal::unpacket_traits<Vec>::half>::type;
};
template <typename Vec>
struct WinogradQuadOf<Vec, false> {
  using type = Vec;
};
template <typename T>
using WinogradQuad = typename WinogradQuadOf<Packet<T>>::type;
template <typename T>
constexpr bool winograd_has_quad() {
  return Eigen::internal::unpacket_traits<WinogradQuad<T>>::size == 4;
}

/// The transformed filters of one panel: `rows` output channels whose
/// weights start at w (rows x channels x taps), into u[position * filter_stride
/// + c * rows + i], the k-major panel layout of conv_micro_kernel (k = c).
/// gt: taps x filter_stride elements of scratch.
template <typename T, typename Fh, typename Fw>
void winograd_panel_filters(const T* w, index_t rows, const WinogradPlan& p, T* gt, T* u) {
  constexpr index_t taps = Fh::r * Fw::r, P = packet_size<T>();
  const index_t C = p.channels, J = p.filter_stride, used = C * rows;
  for (index_t tap = 0; tap < taps; ++tap) std::fill(gt + tap * J + used, gt + (tap + 1) * J, T(0));
  // gt[tap][j] for j = c * rows + i: the filter of (output i, input c) is a
  // contiguous run of taps; 4 of them at a time are turned tap-major by 4 x 4 transposes.
  index_t j = 0, c = 0, i = 0;  // j = c * rows + i
  if constexpr (winograd_has_quad<T>()) {
    namespace ei = Eigen::internal;
    using Quad = WinogradQuad<T>;
    for (; j + 4 <= used; j += 4) {
      const T* src[4];
      for (int l = 0; l < 4; ++l) {
        src[l] = w + (i * C + c) * taps;
        if (++i == rows) i = 0, ++c;
      }
      for (index_t t0 = 0; t0 + 4 <= taps; t0 += 4) {
        ei::PacketBlock<Quad, 4> block;
        STRATA_UNROLL
        for (int l = 0; l < 4; ++l) block.packet[l] = ei::ploadu<Quad>(src[l] + t0);
        ei::ptranspose(block);
        STRATA_UNROLL
        for (int k = 0; k < 4; ++k) ei::pstoreu(gt + (t0 + k) * J + j, block.packet[k]);
      }
      for (index_t tap = taps / 4 * 4; tap < taps; ++tap) {
        for (int l = 0; l < 4; ++l) gt[tap * J + j + l] = src[l][tap];
      }
    }
  }
  for (; j < used; ++j) {
    const T* src = w + (i * C + c) * taps;
    for (index_t tap = 0; tap < taps; ++tap) gt[tap * J + j] = src[tap];
    if (++i == rows) i = 0, ++c;
  }
  for (index_t j = 0; j < used; j += P) winograd_filter_packet<T, Fh, Fw>(gt + j, J, u + j);
}

/// [tile_w * q_row]: the input column that column x of phase r of the padded
/// rows reads, or -1 for a zero.
inline std::vector<index_t> winograd_column_sources(const WinogradPlan& p) {
  std::vector<index_t> sources(static_cast<std::size_t>(p.tile_w * p.q_row));
  for (index_t r = 0; r < p.tile_w; ++r) {
    for (index_t x = 0; x < p.q_row; ++x) {
      const index_t q = x * p.tile_w + r;  // padded column
      sources[static_cast<std::size_t>(r * p.q_row + x)] =
          q < p.padded_w ? padded_source_index(q - p.pad_left, p.width, p.mode) : -1;
    }
  }
  return sources;
}

/// Transforms the input of a block (images n0.., tile rows ty0.. of each) of
/// one group into v[position][channel][column], columns numbered
/// (image, tile row, tile column). The padded rows of each channel and image
/// are laid out in q split by column phase (padding mode applied, zeros past
/// the padded input), so a packet of consecutive tiles reads consecutive elements.
template <typename T, typename Fh, typename Fw>
void winograd_input(const T* input, index_t image_stride, index_t images, index_t ty0, index_t rows,
                    const WinogradPlan& p, const index_t* column_sources, T* q, T* v) {
  constexpr index_t P = packet_size<T>();
  const index_t plane = p.height * p.width, phase_stride = p.q_rows * p.q_row;
  const index_t needed = rows * p.tile_h + p.alpha_h - p.tile_h, TX = p.tiles_w;
  for (index_t c = 0; c < p.channels; ++c) {
    for (index_t n = 0; n < images; ++n) {
      const T* channel = input + n * image_stride + c * plane;
      for (index_t y = 0; y < needed; ++y) {
        const index_t padded = ty0 * p.tile_h + y;
        const index_t source = padded < p.padded_h ? padded_source_index(padded - p.pad_top, p.height, p.mode) : -1;
        const T* src = channel + source * p.width;
        index_t fast_begin = 0, fast_end = 0;  // columns x whose 4 phases all read inside the row
        if constexpr (Fw::m == 4 && winograd_has_quad<T>()) {
          if (source >= 0) {
            // 4 columns of the 4 phases at a time: a 4 x 4 transpose.
            namespace ei = Eigen::internal;
            using Quad = WinogradQuad<T>;
            fast_begin = (p.pad_left + 3) / 4;
            const index_t inside = std::min((p.width + p.pad_left) / 4, p.q_row);
            fast_end = fast_begin + std::max<index_t>(0, inside - fast_begin) / 4 * 4;
            for (index_t x = fast_begin; x < fast_end; x += 4) {
              ei::PacketBlock<Quad, 4> block;
              const T* from = src + 4 * x - p.pad_left;
              STRATA_UNROLL
              for (int r = 0; r < 4; ++r) block.packet[r] = ei::ploadu<Quad>(from + r * 4);
              ei::ptranspose(block);
              STRATA_UNROLL
              for (int r = 0; r < 4; ++r) ei::pstoreu(q + r * phase_stride + y * p.q_row + x, block.packet[r]);
            }
          }
        }
        for (index_t r = 0; r < p.tile_w; ++r) {
          T* dst = q + r * phase_stride + y * p.q_row;
          if (source < 0) {
            std::fill_n(dst, p.q_row, T(0));
            continue;
          }
          const index_t* cols = column_sources + r * p.q_row;
          for (index_t x = 0; x < fast_begin; ++x) dst[x] = cols[x] < 0 ? T(0) : src[cols[x]];
          for (index_t x = fast_end; x < p.q_row; ++x) dst[x] = cols[x] < 0 ? T(0) : src[cols[x]];
        }
      }
      // Tile rows in order: a packet running past a row's end writes the next
      // row's first columns, which that row then overwrites.
      for (index_t t = 0; t < rows; ++t) {
        T* const out = v + c * p.ld + (n * rows + t) * TX;
        const T* const in = q + t * p.tile_h * p.q_row;
        for (index_t x = 0; x < TX; x += P) {
          winograd_input_tile<T, Fh, Fw>(in + x, phase_stride, p.q_row, out + x, p.v_position());
        }
      }
    }
  }
}

/// Y[position] (rows x columns, row stride ld, position stride kConvTileRows *
/// ld) = U[position] (a panel of `rows` output channels) * V[position], on the
/// register tiles, the reduction in chunks; then zeroes the packet of slack
/// past the columns that the output transform reads.
template <typename T>
void winograd_products(const T* u, int rows, index_t columns, const WinogradPlan& p, const T* v, T* y) {
  constexpr index_t NR = conv_strip_width<T>(), P = packet_size<T>();
  const index_t C = p.channels, chunks = (C + kWinogradReductionChunk - 1) / kWinogradReductionChunk;
  const index_t chunk = (C + chunks - 1) / chunks, computed = (columns + P - 1) / P * P;
  for (index_t pos = 0; pos < p.positions; ++pos) {
    const T* a = u + pos * p.filter_stride;
    const T* b = v + pos * p.v_position();
    T* c = y + pos * kConvTileRows * p.ld;
    for (index_t k0 = 0; k0 < C; k0 += chunk) {
      const index_t kc = std::min(chunk, C - k0);
      for (index_t q = 0; q < columns; q += NR) {
        const ConvStridedRows<T> strip{b + k0 * p.ld + q, p.ld};
        const index_t packets = (std::min(NR, columns - q) + P - 1) / P;
        if (packets >= kConvTilePackets) {
          conv_micro_kernel_rows<T, kConvTilePackets>(rows, kc, a + k0 * rows, strip, nullptr, k0 > 0, c + q, p.ld);
        } else if (packets == 2) {
          conv_micro_kernel_rows<T, (kConvTilePackets > 2 ? 2 : 1)>(rows, kc, a + k0 * rows, strip, nullptr, k0 > 0,
                                                                   c + q, p.ld);
        } else {
          conv_micro_kernel_rows<T, 1>(rows, kc, a + k0 * rows, strip, nullptr, k0 > 0, c + q, p.ld);
        }
      }
    }
    for (int i = 0; i < rows; ++i) std::fill(c + i * p.ld + computed, c + i * p.ld + computed + P, T(0));
  }
}

/// The outputs of a panel: Y of `rows` output channels (channel o0.. of the
/// output) transformed back over the block's tiles, plus the bias, into the
/// output planes of images n0.. (`output` at image n0, channel o0).
template <typename T, typename Fh, typename Fw>
void winograd_output(const T* y, int rows, const T* bias, index_t images, index_t ty0, index_t tile_rows,
                     const WinogradPlan& p, index_t image_stride, T* output) {
  constexpr index_t P = packet_size<T>(), MH = Fh::m, MW = Fw::m;
  const index_t plane = p.out_h * p.out_w, TX = p.tiles_w;
  alignas(64) T res[MH * MW * P];
  for (int i = 0; i < rows; ++i) {
    const T b = bias != nullptr ? bias[i] : T(0);
    for (index_t n = 0; n < images; ++n) {
      T* const out = output + n * image_stride + i * plane;
      for (index_t t = 0; t < tile_rows; ++t) {
        const index_t oy0 = (ty0 + t) * MH, valid_rows = std::min(MH, p.out_h - oy0);
        const T* const src = y + i * p.ld + (n * tile_rows + t) * TX;
        for (index_t x = 0; x < TX; x += P) {
          winograd_output_tile<T, Fh, Fw>(src + x, kConvTileRows * p.ld, b, res);
          const index_t lanes = std::min(P, TX - x);
          index_t whole = 0;  // lanes written as groups of 4 whole tiles
          if constexpr (MW == 4 && winograd_has_quad<T>()) {
            // 4 whole tiles at a time: their 4 columns interleaved by a 4 x 4 transpose.
            namespace ei = Eigen::internal;
            using Quad = WinogradQuad<T>;
            whole = std::min(lanes, p.out_w / 4 - x) / 4 * 4;
            for (index_t a = 0; a < valid_rows; ++a) {
              T* const row = out + (oy0 + a) * p.out_w + x * MW;
              for (index_t lane = 0; lane < whole; lane += 4) {
                ei::PacketBlock<Quad, 4> block;
                STRATA_UNROLL
                for (int bb = 0; bb < 4; ++bb) block.packet[bb] = ei::ploadu<Quad>(res + (a * MW + bb) * P + lane);
                ei::ptranspose(block);
                STRATA_UNROLL
                for (int bb = 0; bb < 4; ++bb) ei::pstoreu(row + lane * 4 + bb * 4, block.packet[bb]);
              }
            }
          }
          for (index_t a = 0; a < valid_rows; ++a) {
            T* const row = out + (oy0 + a) * p.out_w;
            for (index_t lane = whole; lane < lanes; ++lane) {
              const index_t ox = (x + lane) * MW, count = std::min(MW, p.out_w - ox);
              for (index_t bb = 0; bb < count; ++bb) row[ox + bb] = res[(a * MW + bb) * P + lane];
            }
          }
        }
      }
    }
  }
}

/// Runs a Winograd plan with transforms Fh (height) x Fw (width). `parallel`
/// is the scheduler (workers, items, body(worker, item)); buffers holds the
/// plan's shared filters, then one buffer per worker.
template <typename T, typename Fh, typename Fw, typename Parallel>
void winograd_run(const WinogradPlan& p, index_t batch, index_t workers, const T* input, const T* weight,
                  const T* bias, T* output, T* workspace, const Parallel& parallel) {
  constexpr index_t taps = Fh::r * Fw::r;
  constexpr index_t P = packet_size<T>();
  const index_t C = p.channels, M = p.outputs, groups_in = C * p.height * p.width;
  const index_t out_plane = p.out_h * p.out_w;
  const ConvPanels panels(M);
  T* const shared = workspace;
  T* const buffers = workspace + p.shared;
  // A worker's buffer: V, Y, the padded rows, its own panel's filters and their scratch.
  const auto gt_of = [&](index_t w) { return buffers + w * p.buffer + p.v_size() + p.y_size() + p.q_size() + p.filter_panel(); };
  const index_t image_stride = p.groups * groups_in, out_image = p.groups * M * out_plane;
  if (p.filters_once) {
    const index_t filter_items = p.groups * p.panel_count;
    parallel(std::min(workers, filter_items), filter_items, [&](index_t w, index_t item) {
      const index_t g = item / p.panel_count, panel = item % p.panel_count;
      winograd_panel_filters<T, Fh, Fw>(weight + (g * M + panels.first(panel)) * C * taps, panels.rows(panel), p,
                                        gt_of(w), shared + item * p.filter_panel());
    });
  }
  const std::vector<index_t> column_sources = winograd_column_sources(p);
  std::vector<index_t> laid_out_blocks(static_cast<std::size_t>(workers), -1);
  parallel(workers, p.items, [&](index_t w, index_t item) {
    T* const v = buffers + w * p.buffer;
    T* const y = v + p.v_size();
    T* const q = y + p.y_size();
    T* const u_own = q + p.q_size();
    T* const gt = gt_of(w);
    const index_t split = item % p.channel_splits, block = item / p.channel_splits;
    const index_t band = block % p.bands, ib = block / p.bands % p.image_blocks;
    const index_t g = block / p.bands / p.image_blocks;
    const index_t n0 = ib * p.images, images = std::min(p.images, batch - n0);
    const index_t ty0 = band * p.tile_rows, rows = std::min(p.tile_rows, p.tiles_h - ty0);
    const index_t columns = images * rows * p.tiles_w;
    index_t& laid_out = laid_out_blocks[static_cast<std::size_t>(w)];
    if (laid_out != block) {
      // Columns past the block's tiles up to a whole packet are computed and
      // dropped: zeros, where the transform does not write them.
      const index_t computed = (columns + P - 1) / P * P;
      for (index_t pos = 0; pos < p.positions; ++pos) {
        for (index_t c = 0; c < C; ++c) {
          T* const row = v + pos * p.v_position() + c * p.ld;
          std::fill(row + columns, row + computed, T(0));
        }
      }
      winograd_input<T, Fh, Fw>(input + n0 * image_stride + g * groups_in, image_stride, images, ty0, rows, p,
                                column_sources.data(), q, v);
      laid_out = block;
    }
    const index_t panel0 = p.panel_count * split / p.channel_splits;
    const index_t panel1 = p.panel_count * (split + 1) / p.channel_splits;
    for (index_t panel = panel0; panel < panel1; ++panel) {
      const index_t r0 = panels.first(panel);
      const int panel_rows = panels.rows(panel);
      const T* u = shared + (g * p.panel_count + panel) * p.filter_panel();
      if (!p.filters_once) {
        winograd_panel_filters<T, Fh, Fw>(weight + (g * M + r0) * C * taps, panel_rows, p, gt, u_own);
        u = u_own;
      }
      winograd_products(u, panel_rows, columns, p, v, y);
      winograd_output<T, Fh, Fw>(y, panel_rows, bias != nullptr ? bias + g * M + r0 : nullptr, images, ty0, rows, p,
                                 out_image, output + n0 * out_image + (g * M + r0) * out_plane);
    }
  });
}

STRATA_KERNELS_PACKETS_END

/// kernels::conv's Winograd path: the plan's tile and kernel size chosen at
/// compile time. `parallel(workers, items, body)` runs body(worker, item) for
/// every item, each worker with its own buffer.
template <typename T, std::size_t D, typename Parallel>
void conv_winograd(const WinogradPlan& p, index_t batch, index_t workers, const T* input, const T* weight,
                   const T* bias, T* output, T* workspace, const Parallel& parallel) {
  using F1 = WinogradF<1, 1>;
  const auto run = [&](auto height, auto width) {
    using Fh = decltype(height);
    using Fw = decltype(width);
    winograd_run<T, Fh, Fw>(p, batch, workers, input, weight, bias, output, workspace, parallel);
  };
  const auto with_width = [&](auto width) {
    using Fw = decltype(width);
    if constexpr (D == 2) {
      run(Fw{}, Fw{});
    } else {
      run(F1{}, Fw{});
    }
  };
  if (p.kernel == 5) return with_width(WinogradF<2, 5>{});
  if (p.tile == 2) return with_width(WinogradF<2, 3>{});
  if (p.tile == 6) return with_width(WinogradF<6, 3>{});
  with_width(WinogradF<4, 3>{});
}

}  // namespace detail
}  // namespace kernels
}  // namespace strata
