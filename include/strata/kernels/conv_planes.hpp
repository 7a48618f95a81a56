#pragma once
/// \file
/// Padded phase planes: the input of a convolution rearranged so that every
/// row of its (implicit) column matrix is a contiguous run of memory, which
/// lets the register tiles of conv_gemm.hpp read it in place instead of
/// copying it into an im2col buffer nine times the input's size.
///
/// The input is padded (with the padding mode applied) and split by stride
/// phase ("space to depth"): phase (ph, pw) of channel c holds
/// padded[c][y * stride_h + ph][x * stride_w + pw]. Output (oh, ow) at kernel
/// tap (kh, kw) then reads phase ((kh*dh) % sh, (kw*dw) % sw) at
/// (oh + (kh*dh) / sh, ow + (kw*dw) / sw): numbering the output positions
/// j = oh * plane_w + ow (plane_w >= out_w, the extra columns computed and
/// dropped), each tap is one fixed offset from j. A block holds a band of
/// output rows of one image, or whole images side by side (small images).
/// Raw pointers, no checks: the geometry is validated by nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/kernels/conv_shape.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {

/// The phase-plane geometry of one convolution (2-d form: a 1-d convolution
/// has height 1) and of its blocks: `images` images, each a band of `rows`
/// output rows, whose planes have `plane_rows` = rows + row_reach rows.
struct ConvPlanes {
  index_t channels = 0;  ///< channels per group
  index_t height = 1, width = 1;
  index_t kernel_h = 1, kernel_w = 1;
  index_t stride_h = 1, stride_w = 1;
  index_t dilation_h = 1, dilation_w = 1;
  index_t pad_top = 0, pad_left = 0;
  index_t padded_h = 1, padded_w = 1;  ///< input plus padding on both sides
  index_t out_h = 1, out_w = 1;
  index_t plane_w = 1;    ///< ceil(padded_w / stride_w): columns of a plane row
  index_t row_reach = 0;  ///< max over taps of (kh*dilation_h) / stride_h
  PaddingMode mode = PaddingMode::Zeros;
  std::vector<index_t> phase_slot;  ///< [ph * stride_w + pw]: slot of a used phase, or -1
  index_t phases = 0;               ///< used phases
  std::vector<index_t> col_source;  ///< [pw * plane_w + x]: input column, or -1 for a zero
  std::vector<index_t> col_begin, col_end;  ///< [pw]: the run of x reading inside the input
  // Block geometry.
  index_t images = 1;      ///< images per block
  index_t rows = 1;        ///< output rows per image per block
  index_t plane_rows = 1;  ///< rows + row_reach

  /// Elements between the planes of two channels of a block.
  index_t channel_stride() const { return images * plane_rows * plane_w; }
  /// Elements between two phases of a block.
  index_t phase_stride() const { return channels * channel_stride(); }
  /// Computed columns of one image of a block (real and dropped).
  index_t image_columns() const { return plane_rows * plane_w; }
  /// Elements of a block's planes, with the slack a strip of `strip` columns
  /// may read past the last plane (zeroed by conv_planes_fill).
  index_t elements(index_t strip) const { return phases * phase_stride() + strip; }
};

/// The phase-plane geometry of a convolution (blocks of one image and all
/// its output rows: set images / rows / plane_rows to change that).
template <std::size_t D>
ConvPlanes make_conv_planes(const ConvShape<D>& s) {
  static_assert(D == 1 || D == 2, "strata::kernels::make_conv_planes: D must be 1 or 2");
  ConvPlanes p;
  constexpr std::size_t w = D - 1;
  p.channels = s.in_channels / s.groups;
  p.width = s.input[w];
  p.kernel_w = s.kernel[w];
  p.stride_w = s.stride[w];
  p.dilation_w = s.dilation[w];
  p.pad_left = s.pad_before[w];
  p.padded_w = s.input[w] + s.pad_before[w] + s.pad_after[w];
  p.out_w = s.output[w];
  if constexpr (D == 2) {
    p.height = s.input[0];
    p.kernel_h = s.kernel[0];
    p.stride_h = s.stride[0];
    p.dilation_h = s.dilation[0];
    p.pad_top = s.pad_before[0];
    p.padded_h = s.input[0] + s.pad_before[0] + s.pad_after[0];
    p.out_h = s.output[0];
  }
  p.mode = s.padding_mode;
  p.plane_w = p.padded_w / p.stride_w + (p.padded_w % p.stride_w != 0 ? 1 : 0);  // ceil, without overflow
  p.row_reach = (p.kernel_h - 1) * p.dilation_h / p.stride_h;
  // The index tables and the phase planes grow with the padded size, the
  // stride and the dilation: a padding or dilation far beyond the input, with
  // an output that stays small, would make them gigabytes for a few outputs
  // (a bad_alloc, or pages touched for nothing). Such geometries are refused
  // with a strata::Error; every other one needs no more than a few times its
  // input and output planes (or 2^22 elements).
  namespace sd = strata::detail;
  const char* who = "conv";
  const index_t data_per_channel =
      sd::checked_add(sd::checked_mul(p.height, p.width, who), sd::checked_mul(p.out_h, p.out_w, who), who);
  const auto proportionate = [](index_t data) {
    return std::max(index_t{1} << 22, data > (index_t{1} << 60) ? data : 4 * data);
  };
  const auto describe = [&p] {
    return sd::concat("padded size ", p.padded_h, " x ", p.padded_w, ", stride ", p.stride_h, " x ", p.stride_w,
                      ", dilation ", p.dilation_h, " x ", p.dilation_w, ", input plane ", p.height, " x ", p.width,
                      ", output plane ", p.out_h, " x ", p.out_w);
  };
  // The two sizes below saturate rather than overflow: past int64 they are
  // refused like any other size over the bound (a fuzz finding: strides of
  // 2^40 x 2^40 with as much padding are 2^80 phase slots for a 3 x 3 output).
  const auto count = [](index_t n) {
    return n == std::numeric_limits<index_t>::max() ? std::string("more than 2^63") : std::to_string(n);
  };
  {
    const index_t phase_slots = sd::saturating_mul(p.stride_h, p.stride_w);
    const index_t columns = sd::saturating_mul(p.stride_w, sd::saturating_add(p.plane_w, 2));
    const index_t entries = sd::saturating_add(phase_slots, columns);
    const index_t by_limit = static_cast<index_t>(STRATA_MAX_ALLOC_BYTES) / static_cast<index_t>(sizeof(index_t));
    sd::check(entries <= std::min(proportionate(data_per_channel), by_limit), who,
              ": refusing to build index tables of ", count(entries), " entries (", describe(),
              "): the padding is far beyond the input");
  }
  p.phase_slot.assign(static_cast<std::size_t>(p.stride_h * p.stride_w), -1);
  for (index_t kh = 0; kh < p.kernel_h; ++kh) {
    for (index_t kw = 0; kw < p.kernel_w; ++kw) {
      const auto phase =
          static_cast<std::size_t>((kh * p.dilation_h % p.stride_h) * p.stride_w + kw * p.dilation_w % p.stride_w);
      if (p.phase_slot[phase] < 0) p.phase_slot[phase] = p.phases++;
    }
  }
  {
    // A block's planes hold at least row_reach + 1 rows of every phase and channel.
    const index_t row = sd::saturating_mul(sd::saturating_mul(p.phases, p.channels), p.plane_w);
    const index_t planes = sd::saturating_mul(row, sd::saturating_add(p.row_reach, 1));
    sd::check(planes <= proportionate(sd::checked_mul(p.channels, data_per_channel, who)), who,
              ": refusing to lay out ", count(planes), " elements of phase planes for one output row (", describe(),
              "): the dilation or padding is far beyond the input");
  }
  p.col_source.resize(static_cast<std::size_t>(p.stride_w * p.plane_w));
  p.col_begin.assign(static_cast<std::size_t>(p.stride_w), 0);
  p.col_end.assign(static_cast<std::size_t>(p.stride_w), 0);
  for (index_t pw = 0; pw < p.stride_w; ++pw) {
    index_t first = -1, last = -1;
    for (index_t x = 0; x < p.plane_w; ++x) {
      const index_t q = x * p.stride_w + pw;  // padded column
      const index_t c = q - p.pad_left;
      p.col_source[static_cast<std::size_t>(pw * p.plane_w + x)] =
          q < p.padded_w ? padded_source_index(c, p.width, p.mode) : -1;
      if (c >= 0 && c < p.width) {
        if (first < 0) first = x;
        last = x + 1;
      }
    }
    p.col_begin[static_cast<std::size_t>(pw)] = first < 0 ? 0 : first;
    p.col_end[static_cast<std::size_t>(pw)] = first < 0 ? 0 : last;
  }
  p.images = 1;
  p.rows = p.out_h;
  p.plane_rows = p.rows + p.row_reach;
  return p;
}

/// offsets[k] for k = (c * kernel_h + kh) * kernel_w + kw (the weight's own
/// order): where tap k of output column j reads, relative to j, in a block's planes.
inline void conv_planes_offsets(const ConvPlanes& p, index_t* offsets) {
  index_t k = 0;
  for (index_t c = 0; c < p.channels; ++c) {
    for (index_t kh = 0; kh < p.kernel_h; ++kh) {
      for (index_t kw = 0; kw < p.kernel_w; ++kw, ++k) {
        const index_t dh = kh * p.dilation_h, dw = kw * p.dilation_w;
        const index_t slot = p.phase_slot[static_cast<std::size_t>((dh % p.stride_h) * p.stride_w + dw % p.stride_w)];
        offsets[k] = slot * p.phase_stride() + c * p.channel_stride() + (dh / p.stride_h) * p.plane_w + dw / p.stride_w;
      }
    }
  }
}

/// Fills the planes of the block of `images` images starting at `input`
/// (each image_stride elements apart, p.channels planes of height x width
/// each, channel_stride apart) and output rows [row0, row0 + p.rows), then
/// zeroes the `strip` elements of slack. planes: p.elements(strip) elements.
template <typename T>
void conv_planes_fill(const T* input, index_t image_stride, index_t in_channel_stride, index_t images, index_t row0,
                      const ConvPlanes& p, index_t strip, T* planes) {
  for (index_t ph = 0; ph < p.stride_h; ++ph) {
    for (index_t pw = 0; pw < p.stride_w; ++pw) {
      const index_t slot = p.phase_slot[static_cast<std::size_t>(ph * p.stride_w + pw)];
      if (slot < 0) continue;
      const index_t* columns = p.col_source.data() + pw * p.plane_w;
      const index_t begin = p.col_begin[static_cast<std::size_t>(pw)], end = p.col_end[static_cast<std::size_t>(pw)];
      const index_t offset = pw - p.pad_left;  // input column of x in [begin, end) is x * stride_w + offset
      for (index_t c = 0; c < p.channels; ++c) {
        for (index_t n = 0; n < images; ++n) {
          const T* channel = input + n * image_stride + c * in_channel_stride;
          T* dst = planes + slot * p.phase_stride() + c * p.channel_stride() + n * p.image_columns();
          for (index_t y = 0; y < p.plane_rows; ++y, dst += p.plane_w) {
            const index_t q = (row0 + y) * p.stride_h + ph;  // padded row
            const index_t source = q < p.padded_h ? padded_source_index(q - p.pad_top, p.height, p.mode) : -1;
            if (source < 0) {
              std::fill_n(dst, p.plane_w, T(0));
              continue;
            }
            const T* src = channel + source * p.width;
            for (index_t x = 0; x < begin; ++x) dst[x] = columns[x] < 0 ? T(0) : src[columns[x]];
            if (p.stride_w == 1) {
              detail::copy_run(src + begin + offset, end - begin, dst + begin);
            } else {
              const T* from = src + begin * p.stride_w + offset;
              for (index_t x = begin; x < end; ++x, from += p.stride_w) dst[x] = *from;
            }
            for (index_t x = std::max(begin, end); x < p.plane_w; ++x) dst[x] = columns[x] < 0 ? T(0) : src[columns[x]];
          }
        }
      }
    }
  }
  std::fill_n(planes + p.phases * p.phase_stride(), strip, T(0));
}

}  // namespace kernels
}  // namespace strata
