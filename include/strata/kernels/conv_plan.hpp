#pragma once
/// \file
/// The plan of one convolution call: built once from the geometry and the
/// thread count, it chooses the algorithm, cuts the work into items, and
/// knows the workspace the call needs; kernels::conv runs exactly that plan.
///
/// The algorithms (ConvAlgorithm), and when ConvAlgorithm::Auto picks each:
///  - Pointwise (kernel 1, stride 1, no padding): the NCL / NCHW planes are
///    already the column matrix; register tiles read them in place. Always
///    chosen when it applies.
///  - Depthwise (groups == in_channels > 1): a direct kernel on padded phase
///    planes, a few packets of an output row per step. Chosen whenever it
///    applies and pointwise does not.
///  - ImplicitGemm (any geometry): per block (a band of output rows of one
///    image, or several small images) the input is laid out once as padded
///    phase planes, about the input's size, and the register tiles read every
///    column of the virtual column matrix at a fixed offset in them. Chosen
///    for every other geometry, except:
///  - Im2colGemm (any geometry): tiles of the column matrix (im2col.hpp),
///    multiplied with Eigen's GEMM. Chosen for small output planes with a
///    long reduction (ResNet's 7x7 stages), where the implicit GEMM computes
///    many dropped columns around each small plane and its strips are mostly
///    tails (see conv_prefers_im2col).
///  - Winograd (stride 1, dilation 1, kernel 3 or 3 x 3, and 5 x 5;
///    winograd.hpp): F(4 x 4, 3 x 3) tiles, 4x fewer multiplications than the
///    direct sum (F(4, 3) in 1-d, F(2 x 2, 5 x 5) for 5 x 5), the products as
///    GEMMs on the register tiles. Chosen for 3 x 3 layers with enough
///    channels and tiles to fill the tiles (see conv_prefers_winograd).
///    Its rounding differs from the direct sum's: the error stays within
///    the conformance bound every layer is held to (tests/kernels/winograd_test.cpp
///    states and checks its own, relative to sum|terms|, about 10x the direct
///    path's typical error for float), but it is not the direct path's rounding.
///    For the direct path's rounding: ConvOptions::algorithm(ConvAlgorithm::ImplicitGemm)
///    per layer, or set_winograd_enabled(false) for every plan made after it
///    (process-wide, thread-safe; Auto then never picks Winograd, an explicit
///    ConvAlgorithm::Winograd still runs it).
/// Every algorithm is selectable (plan_conv's `algorithm`, ConvOptions::algorithm)
/// and tested against the others; the benchmark shows each beside libtorch.

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <string>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/conv_gemm.hpp"
#include "strata/kernels/conv_planes.hpp"
#include "strata/kernels/conv_shape.hpp"
#include "strata/kernels/depthwise.hpp"
#include "strata/kernels/im2col.hpp"
#include "strata/kernels/winograd.hpp"

namespace strata {
namespace kernels {

/// How a convolution is computed (see the file comment for each).
enum class ConvAlgorithm { Auto, Pointwise, Depthwise, ImplicitGemm, Im2colGemm, Winograd };

/// "auto", "pointwise", "depthwise", "implicit_gemm", "im2col_gemm", "winograd".
inline const char* conv_algorithm_name(ConvAlgorithm algorithm) {
  switch (algorithm) {
    case ConvAlgorithm::Auto:
      return "auto";
    case ConvAlgorithm::Pointwise:
      return "pointwise";
    case ConvAlgorithm::Depthwise:
      return "depthwise";
    case ConvAlgorithm::ImplicitGemm:
      return "implicit_gemm";
    case ConvAlgorithm::Im2colGemm:
      return "im2col_gemm";
    case ConvAlgorithm::Winograd:
      return "winograd";
  }
  return "?";
}

namespace detail {

/// Columns of output computed per work item of the register-tile paths: a
/// multiple of every strip width (48 floats or 24 doubles with AVX-512, 16 / 8
/// with AVX2), so the plan does not depend on the scalar type.
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
/// Elements of one worker's im2col tile (1 MB of float): its columns are as
/// many as fit, so Eigen's GEMM gets long rows and the tile stays in L2.
constexpr index_t kIm2colTileElements = index_t{1} << 18;

}  // namespace detail

/// Product of the sizes, saturating at the int64 maximum: a plan is also made
/// for conv_output_shape, before any output exists to bound the sizes.
template <std::size_t D>
index_t saturating_numel(const std::array<index_t, D>& sizes) {
  index_t n = 1;
  for (index_t s : sizes) n = strata::detail::saturating_mul(n, s);
  return n;
}

/// True when the convolution is a plain matrix product over the channels:
/// every kernel size and stride 1 and no padding (dilation is then irrelevant).
template <std::size_t D>
bool conv_is_pointwise(const ConvShape<D>& s) {
  for (std::size_t d = 0; d < D; ++d) {
    if (s.kernel[d] != 1 || s.stride[d] != 1 || s.pad_before[d] != 0 || s.pad_after[d] != 0) return false;
  }
  return true;
}

/// True when the direct depthwise kernel applies: one input channel per
/// group (groups == in_channels > 1), any number of outputs per group, and
/// not a pointwise convolution (a plain product, which the pointwise path
/// computes faster).
template <std::size_t D>
bool conv_is_depthwise(const ConvShape<D>& s) {
  return s.groups > 1 && s.in_channels == s.groups && !conv_is_pointwise(s);
}

/// True when ConvAlgorithm::Auto prefers im2col + GEMM to the implicit GEMM:
/// an output plane of at most 64 positions (7 x 7 and smaller) with a
/// reduction of at least 256. There the implicit GEMM's planes are a third
/// or more padding columns and its strips mostly tails, while the column
/// matrix is small and Eigen's GEMM runs long rows of it; measured on
/// ResNet-18's last stages, im2col + GEMM takes 0.5-0.8x the time.
template <std::size_t D>
bool conv_prefers_im2col(const ConvShape<D>& s) {
  index_t k = s.in_channels / s.groups;
  for (index_t kd : s.kernel) k = strata::detail::saturating_mul(k, kd);
  return saturating_numel(s.output) <= 64 && k >= 256;
}

namespace detail {
inline std::atomic<bool>& winograd_switch() {
  static std::atomic<bool> enabled{true};
  return enabled;
}
}  // namespace detail

/// Lets ConvAlgorithm::Auto choose Winograd (the default), or not: with
/// false, every plan made afterwards rounds like the direct path (see the top
/// of this file). Process-wide and thread-safe, read once per plan; an
/// explicit ConvAlgorithm::Winograd is not affected.
/// Example: `strata::kernels::set_winograd_enabled(false);`
inline void set_winograd_enabled(bool enabled) { detail::winograd_switch().store(enabled); }

/// Whether ConvAlgorithm::Auto may choose Winograd (set_winograd_enabled).
inline bool winograd_enabled() { return detail::winograd_switch().load(); }

/// True when ConvAlgorithm::Auto prefers Winograd to the implicit GEMM:
/// a 3 x 3 kernel, stride and dilation 1, at least 32 input and output
/// channels per group and an output plane of at least 8 x 8; measured, F(4 x 4,
/// 3 x 3) then takes 0.5-0.8x the implicit GEMM's time. Fewer channels
/// leave the transforms dominant, smaller planes mostly partial tiles.
template <std::size_t D>
bool conv_prefers_winograd(const ConvShape<D>& s) {
  if (D != 2 || !conv_is_winograd(s) || s.kernel[0] != 3) return false;
  const index_t in = s.in_channels / s.groups, out = s.out_channels / s.groups;
  return in >= 32 && out >= 32 && in <= 4096 && s.output[0] >= 8 && s.output[1] >= 8;
}

/// One convolution call, planned: the geometry, the algorithm, how the work
/// is cut into items for the workers, and the workspace it needs. Build it
/// with plan_conv; run it with kernels::conv.
template <std::size_t D>
struct ConvPlan {
  ConvShape<D> shape;
  ConvAlgorithm algorithm = ConvAlgorithm::ImplicitGemm;  ///< never Auto once planned
  index_t M = 0;             ///< output channels per group
  index_t K = 0;             ///< reduction: in_channels / groups * prod(kernel)
  index_t image_blocks = 1;  ///< implicit GEMM: blocks of images per group
  index_t bands = 1;         ///< implicit GEMM: bands of output rows per block of images
  index_t channel_splits = 1;  ///< implicit GEMM: ranges of output channels (whole panels) per block
  index_t tiles = 1;         ///< tiles of columns per image (or block)
  index_t tile_columns = 0;  ///< im2col: output columns per tile
  index_t items = 0;         ///< work items in all
  index_t workers = 1;       ///< parallel workers (each with its own buffer)
  index_t packed = 0;        ///< elements of the packed weight (register-tile paths)
  index_t buffer = 0;        ///< elements of one worker's buffer
  ConvPlanes planes;         ///< implicit GEMM and depthwise
  Im2colPlan im2col;         ///< im2col + GEMM
  WinogradPlan winograd;     ///< Winograd

  /// Elements of workspace kernels::conv needs for this plan.
  index_t workspace() const { return packed + workers * buffer; }
};

namespace detail {

template <std::size_t D>
void plan_pointwise(ConvPlan<D>& p, const char* who) {
  const ConvShape<D>& s = p.shape;
  p.packed = strata::detail::checked_mul(s.out_channels, p.K, who);
  // Whole tiles, the remainder joining the last one: a partial last strip
  // then always shares its tile with the strip before (see conv_pointwise_run).
  p.tiles = std::max<index_t>(1, saturating_numel(s.output) / kConvTileColumns);
  p.items = strata::detail::checked_mul(strata::detail::checked_mul(s.batch, s.groups, who), p.tiles, who);
  p.buffer = strata::detail::checked_mul(p.K, kConvTileColumns, who);  // the zero-padded last strip of an image
}

template <std::size_t D>
void plan_depthwise(ConvPlan<D>& p, const char* who) {
  const ConvShape<D>& s = p.shape;
  p.planes = make_conv_planes(s);
  p.items = strata::detail::checked_mul(s.batch, s.in_channels, who);
  const index_t planes = strata::detail::checked_add(
      strata::detail::checked_mul(p.planes.phases, p.planes.phase_stride(), who), kConvSlack, who);
  p.buffer = strata::detail::checked_add(planes, depthwise_row_buffer(p.planes), who);
}

template <std::size_t D>
void plan_implicit_gemm(ConvPlan<D>& p, index_t threads, const char* who) {
  namespace sd = strata::detail;
  const ConvShape<D>& s = p.shape;
  p.packed = sd::checked_mul(s.out_channels, p.K, who);
  ConvPlanes& pl = p.planes;
  pl = make_conv_planes(s);
  const index_t row = sd::checked_mul(sd::checked_mul(pl.phases, pl.channels, who), pl.plane_w, who);
  const index_t image = sd::checked_mul(row, pl.out_h + pl.row_reach, who);
  index_t images = 1, rows = pl.out_h;
  if (image <= kConvPlaneElements) {
    images = std::clamp<index_t>(std::min(kConvBlockColumns / pl.image_columns(), kConvPlaneElements / image), 1,
                                 std::max<index_t>(s.batch, 1));
  } else {
    rows = std::clamp<index_t>(kConvPlaneElements / row - pl.row_reach, 1, pl.out_h);
  }
  // At least one work item per thread. Fewer images per block first; then,
  // for a single small image, ranges of output channels: each worker lays out
  // the block's planes for itself (they are about the input's size) and
  // streams only its share of the weight, which is what bounds such layers
  // (256 x 2304 floats for a 256-channel 3x3 layer, read once per strip);
  // bands of output rows only when there are too few channels.
  const auto blocks = [&] { return (s.batch + images - 1) / images * ((pl.out_h + rows - 1) / rows) * s.groups; };
  if (blocks() < threads && images > 1) images = std::max<index_t>(1, s.batch / threads);
  const index_t panel_count = ConvPanels(p.M).count;
  if (blocks() < threads && panel_count >= 2 * threads) {
    p.channel_splits = std::min(panel_count, (threads + blocks() - 1) / blocks());
  } else if (blocks() < threads) {
    rows = std::max<index_t>(1, std::min(rows, (pl.out_h + threads - 1) / threads));
  }
  pl.images = images;
  pl.rows = rows;
  pl.plane_rows = rows + pl.row_reach;
  p.image_blocks = (s.batch + images - 1) / images;
  p.bands = (pl.out_h + rows - 1) / rows;
  const index_t columns = (images - 1) * pl.image_columns() + (rows - 1) * pl.plane_w + pl.out_w;
  p.tiles = (columns + kConvTileColumns - 1) / kConvTileColumns;
  p.items = sd::checked_mul(
      sd::checked_mul(sd::checked_mul(sd::checked_mul(s.groups, p.image_blocks, who), p.bands, who), p.tiles, who),
      p.channel_splits, who);
  const index_t planes = sd::checked_add(sd::checked_mul(pl.phases, pl.phase_stride(), who), kConvSlack, who);
  p.buffer = sd::checked_add(planes, sd::checked_mul(p.M, kConvTileColumns, who), who);
}

template <std::size_t D>
void plan_im2col_gemm(ConvPlan<D>& p, const char* who) {
  namespace sd = strata::detail;
  const ConvShape<D>& s = p.shape;
  // Its index tables hold kernel x output entries per dimension: refused
  // past the bound the phase planes obey (a few times the data, or 2^22).
  index_t entries = 0;
  for (std::size_t d = 0; d < D; ++d) entries = sd::saturating_add(entries, sd::saturating_mul(s.kernel[d], s.output[d]));
  const index_t data = sd::saturating_add(saturating_numel(s.input), saturating_numel(s.output));
  sd::check(entries <= std::max(index_t{1} << 22, sd::saturating_mul(4, data)), who,
            ": refusing to build im2col index tables of ", entries, " entries for a kernel of ", p.K,
            " taps: the kernel is far larger than the input");
  p.im2col = make_im2col_plan(s);
  const index_t columns = saturating_numel(s.output);
  // As many columns as fit the tile, in whole packets of 16, at least 16.
  p.tile_columns = std::min(columns, std::max<index_t>(16, kIm2colTileElements / p.K / 16 * 16));
  p.tiles = (columns + p.tile_columns - 1) / p.tile_columns;
  p.items = sd::checked_mul(sd::checked_mul(s.batch, s.groups, who), p.tiles, who);
  p.buffer = sd::checked_mul(p.K, p.tile_columns, who);
}

}  // namespace detail

/// The plan of a validated geometry s on `threads` threads, with the given
/// algorithm (Auto: the choice described at the top of this file).
/// Example: `auto plan = kernels::plan_conv(s, strata::get_num_threads()); std::vector<float> ws(plan.workspace());`
/// Throws strata::Error ("conv: ...") when the requested algorithm does not
/// apply to the geometry, when the padding or dilation is far beyond the
/// input (the index tables or planes would dwarf the data), or when a size
/// overflows int64.
template <std::size_t D>
ConvPlan<D> plan_conv(const ConvShape<D>& s, int threads = get_num_threads(),
                      ConvAlgorithm algorithm = ConvAlgorithm::Auto) {
  const char* who = "conv";
  ConvPlan<D> p;
  p.shape = s;
  p.M = s.out_channels / s.groups;
  p.K = s.in_channels / s.groups;
  for (std::size_t d = 0; d < D; ++d) p.K = strata::detail::checked_mul(p.K, s.kernel[d], who);
  if (algorithm == ConvAlgorithm::Auto) {
    if (conv_is_pointwise(s)) {
      algorithm = ConvAlgorithm::Pointwise;
    } else if (conv_is_depthwise(s)) {
      algorithm = ConvAlgorithm::Depthwise;
    } else if (winograd_enabled() && conv_prefers_winograd(s)) {
      algorithm = ConvAlgorithm::Winograd;
    } else if (conv_prefers_im2col(s)) {
      algorithm = ConvAlgorithm::Im2colGemm;
    } else {
      algorithm = ConvAlgorithm::ImplicitGemm;
    }
  }
  strata::detail::check(algorithm != ConvAlgorithm::Pointwise || conv_is_pointwise(s), who,
                        ": the pointwise algorithm needs kernel_size 1, stride 1 and no padding");
  strata::detail::check(algorithm != ConvAlgorithm::Depthwise || conv_is_depthwise(s), who,
                        ": the depthwise algorithm needs groups == in_channels > 1 and a kernel that is not "
                        "pointwise, got groups=", s.groups, " and in_channels=", s.in_channels);
  strata::detail::check(algorithm != ConvAlgorithm::Winograd || conv_is_winograd(s), who,
                        ": the winograd algorithm needs stride 1, dilation 1 and a kernel of 3, 3 x 3 or 5 x 5");
  p.algorithm = algorithm;
  const index_t team = std::max(threads, 1);
  switch (algorithm) {
    case ConvAlgorithm::Pointwise:
      detail::plan_pointwise(p, who);
      break;
    case ConvAlgorithm::Depthwise:
      detail::plan_depthwise(p, who);
      break;
    case ConvAlgorithm::Im2colGemm:
      detail::plan_im2col_gemm(p, who);
      break;
    case ConvAlgorithm::Winograd:
      p.winograd = make_winograd_plan(s, team, winograd_default_tile(s.kernel[0]), who);
      p.items = p.winograd.items;
      p.packed = p.winograd.shared;
      p.buffer = p.winograd.buffer;
      break;
    default:
      detail::plan_implicit_gemm(p, team, who);
      break;
  }
  p.workers = std::max<index_t>(1, std::min<index_t>(team, p.items));
  return p;
}

/// plan_conv for 3-d convolutions (Conv3d). The phase-plane kernels
/// (implicit GEMM, depthwise) and Winograd are written in 2-d form, so Auto
/// chooses Pointwise when it applies and otherwise Im2colGemm, whose column
/// tiles im2col.hpp fills in 3-d (groups and depthwise layers included);
/// the im2col refusals (padding or dilation far beyond the input) hold as in 2-d.
/// Throws strata::Error ("conv: ...") for another explicit algorithm, a
/// pointwise request on a geometry that is not pointwise, or an int64 overflow.
template <>
inline ConvPlan<3> plan_conv<3>(const ConvShape<3>& s, int threads, ConvAlgorithm algorithm) {
  const char* who = "conv";
  ConvPlan<3> p;
  p.shape = s;
  p.M = s.out_channels / s.groups;
  p.K = s.in_channels / s.groups;
  for (index_t k : s.kernel) p.K = strata::detail::checked_mul(p.K, k, who);
  if (algorithm == ConvAlgorithm::Auto) {
    algorithm = conv_is_pointwise(s) ? ConvAlgorithm::Pointwise : ConvAlgorithm::Im2colGemm;
  }
  strata::detail::check(algorithm == ConvAlgorithm::Pointwise || algorithm == ConvAlgorithm::Im2colGemm, who,
                        ": the ", conv_algorithm_name(algorithm),
                        " algorithm is written for 1-d and 2-d convolutions; 3-d ones run im2col_gemm or pointwise");
  strata::detail::check(algorithm != ConvAlgorithm::Pointwise || conv_is_pointwise(s), who,
                        ": the pointwise algorithm needs kernel_size 1, stride 1 and no padding");
  p.algorithm = algorithm;
  if (algorithm == ConvAlgorithm::Pointwise) {
    detail::plan_pointwise(p, who);
  } else {
    detail::plan_im2col_gemm(p, who);
  }
  p.workers = std::max<index_t>(1, std::min<index_t>(std::max(threads, 1), p.items));
  return p;
}

}  // namespace kernels
}  // namespace strata
