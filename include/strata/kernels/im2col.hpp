#pragma once
/// \file
/// im2col for 1-d and 2-d convolutions: copies the receptive fields of one
/// image into a column matrix, applying the padding mode (zeros, reflect,
/// replicate, circular) on the fly, so no padded copy of the input is ever made.
/// Raw pointers, no checks: nn/functional/conv.hpp validates the geometry.

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/nn/padding.hpp"

namespace strata {
namespace kernels {

/// The geometry of one convolution call, D spatial dimensions. Filled and
/// validated by nn/functional/conv.hpp: every size >= 1 (batch may be 0),
/// groups divides both channel counts, output[d] ==
/// floor((input[d] + pad_before[d] + pad_after[d] - dilation[d]*(kernel[d]-1) - 1) / stride[d]) + 1,
/// reflect padding < input[d], circular padding <= input[d].
template <std::size_t D>
struct ConvShape {
  index_t batch = 0;
  index_t in_channels = 0;
  index_t out_channels = 0;
  index_t groups = 1;
  std::array<index_t, D> input{};
  std::array<index_t, D> kernel{};
  std::array<index_t, D> stride{};
  std::array<index_t, D> dilation{};
  std::array<index_t, D> pad_before{};
  std::array<index_t, D> pad_after{};
  std::array<index_t, D> output{};
  nn::PaddingMode padding_mode = nn::PaddingMode::Zeros;
};

/// Product of the entries (no overflow check: the caller validated the sizes).
template <std::size_t D>
index_t spatial_numel(const std::array<index_t, D>& sizes) {
  index_t n = 1;
  for (index_t s : sizes) n *= s;
  return n;
}

/// Where padded coordinate p (in [-pad_before, n + pad_after)) reads from in an
/// input row of n elements, or -1 for a zero. Contract: reflect overhang < n,
/// circular overhang <= n (so one reflection or wrap suffices).
inline index_t padded_source_index(index_t p, index_t n, nn::PaddingMode mode) {
  if (p >= 0 && p < n) return p;
  switch (mode) {
    case nn::PaddingMode::Zeros:
      return -1;
    case nn::PaddingMode::Reflect:
      return p < 0 ? -p : 2 * (n - 1) - p;  // mirror, edge not repeated
    case nn::PaddingMode::Replicate:
      return p < 0 ? 0 : n - 1;
    case nn::PaddingMode::Circular:
      return p < 0 ? p + n : p - n;
  }
  return -1;  // unreachable: every mode is handled above
}

/// The precomputed index maps of im2col for one geometry, in 2-d form (a 1-d
/// convolution is a 2-d one with height 1 and kernel height 1). Built once per
/// convolution call by make_im2col_plan and shared, read-only, by every image
/// and group.
struct Im2colPlan {
  index_t channels = 0;  ///< channels per im2col call (in_channels / groups)
  index_t height = 1, width = 1;
  index_t kernel_h = 1, kernel_w = 1;
  index_t out_h = 1, out_w = 1;
  index_t stride_w = 1;
  std::vector<index_t> row_source;  ///< [kh * out_h + oh]: input row, or -1 for a zero row
  std::vector<index_t> col_source;  ///< [kw * out_w + ow]: input column, or -1 for a zero
  std::vector<index_t> col_begin;   ///< [kw]: first ow whose column lies inside the input
  std::vector<index_t> col_end;     ///< [kw]: one past the last such ow (interior: column = ow*stride_w + offset)
  std::vector<index_t> col_offset;  ///< [kw]: kw*dilation_w - pad_before_w

  /// Rows of the column matrix: channels * kernel_h * kernel_w.
  index_t rows() const { return channels * kernel_h * kernel_w; }
  /// Columns of the column matrix: out_h * out_w.
  index_t cols() const { return out_h * out_w; }
};

}  // namespace kernels

namespace detail {

/// Fills `source` ([k * out + o]: the input index output o reads at kernel
/// tap k, or -1 for a zero) for one spatial dimension of im2col; when given,
/// begin/end/offset get, per tap, the run of outputs that read inside the input
/// and the input index offset k*dilation - pad_before.
inline void im2col_dimension_map(index_t in, index_t kernel, index_t stride, index_t dilation, index_t pad_before,
                                 index_t out, nn::PaddingMode mode, std::vector<index_t>& source,
                                 std::vector<index_t>* begin, std::vector<index_t>* end, std::vector<index_t>* offset) {
  source.resize(static_cast<std::size_t>(kernel * out));
  if (begin) {
    begin->assign(static_cast<std::size_t>(kernel), 0);
    end->assign(static_cast<std::size_t>(kernel), 0);
    offset->assign(static_cast<std::size_t>(kernel), 0);
  }
  for (index_t k = 0; k < kernel; ++k) {
    const index_t off = k * dilation - pad_before;
    index_t first = out, last = out;  // the in-range outputs form one run, as p grows with o
    for (index_t o = 0; o < out; ++o) {
      const index_t p = o * stride + off;
      source[static_cast<std::size_t>(k * out + o)] = kernels::padded_source_index(p, in, mode);
      if (p >= 0 && p < in) {
        if (first == out) first = o;
        last = o + 1;
      }
    }
    if (begin) {
      const auto kk = static_cast<std::size_t>(k);
      (*begin)[kk] = first == out ? 0 : first;
      (*end)[kk] = first == out ? 0 : last;
      (*offset)[kk] = off;
    }
  }
}
}  // namespace detail

namespace kernels {

/// The index maps for im2col over `s.in_channels / s.groups` channels of an
/// image of geometry s. D is 1 or 2.
template <std::size_t D>
Im2colPlan make_im2col_plan(const ConvShape<D>& s) {
  static_assert(D == 1 || D == 2, "strata::kernels::make_im2col_plan: D must be 1 or 2");
  Im2colPlan plan;
  plan.channels = s.in_channels / s.groups;
  constexpr std::size_t w = D - 1;  // the last spatial dimension
  plan.width = s.input[w];
  plan.kernel_w = s.kernel[w];
  plan.out_w = s.output[w];
  plan.stride_w = s.stride[w];
  strata::detail::im2col_dimension_map(s.input[w], s.kernel[w], s.stride[w], s.dilation[w], s.pad_before[w],
                                       s.output[w], s.padding_mode, plan.col_source, &plan.col_begin, &plan.col_end,
                                       &plan.col_offset);
  if constexpr (D == 2) {
    plan.height = s.input[0];
    plan.kernel_h = s.kernel[0];
    plan.out_h = s.output[0];
    strata::detail::im2col_dimension_map(s.input[0], s.kernel[0], s.stride[0], s.dilation[0], s.pad_before[0],
                                         s.output[0], s.padding_mode, plan.row_source, nullptr, nullptr, nullptr);
  } else {
    plan.row_source.assign(1, 0);
  }
  return plan;
}

/// Column matrix of one image (or one group of its channels):
/// cols[((c*kernel_h + kh)*kernel_w + kw) * cols() + oh*out_w + ow] =
///   padded image[c][oh*stride_h + kh*dilation_h - pad_h][ow*stride_w + kw*dilation_w - pad_w],
/// a row-major (plan.rows() x plan.cols()) matrix.
/// image: plan.channels contiguous planes of height x width; cols: room for
/// plan.rows() * plan.cols() elements, not overlapping image.
template <typename T>
void im2col(const T* image, const Im2colPlan& plan, T* cols) {
  const index_t plane = plan.height * plan.width;
  const index_t out_w = plan.out_w, count = plan.cols();
  T* row = cols;
  for (index_t c = 0; c < plan.channels; ++c) {
    const T* channel = image + c * plane;
    for (index_t kh = 0; kh < plan.kernel_h; ++kh) {
      const index_t* rows = plan.row_source.data() + kh * plan.out_h;
      for (index_t kw = 0; kw < plan.kernel_w; ++kw, row += count) {
        const index_t* columns = plan.col_source.data() + kw * out_w;
        const auto kk = static_cast<std::size_t>(kw);
        const index_t begin = plan.col_begin[kk], end = plan.col_end[kk], offset = plan.col_offset[kk];
        for (index_t oh = 0; oh < plan.out_h; ++oh) {
          T* dst = row + oh * out_w;
          if (rows[oh] < 0) {
            std::fill_n(dst, out_w, T(0));
            continue;
          }
          const T* src = channel + rows[oh] * plan.width;
          // Padding on the left and right goes through the map; the interior is a plain (strided) copy.
          for (index_t ow = 0; ow < begin; ++ow) dst[ow] = columns[ow] < 0 ? T(0) : src[columns[ow]];
          if (end > begin && plan.stride_w == 1) {
            std::copy_n(src + begin + offset, end - begin, dst + begin);
          } else if (end > begin) {
            const T* from = src + begin * plan.stride_w + offset;
            for (index_t ow = begin; ow < end; ++ow, from += plan.stride_w) dst[ow] = *from;
          }
          for (index_t ow = end; ow < out_w; ++ow) dst[ow] = columns[ow] < 0 ? T(0) : src[columns[ow]];
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace strata
