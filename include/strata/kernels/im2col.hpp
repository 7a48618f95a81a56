#pragma once
/// \file
/// im2col for 1-d, 2-d and 3-d convolutions: copies the receptive fields of one
/// image (or one group of its channels) into a column matrix, whole or a
/// range of its columns at a time, applying the padding mode (zeros,
/// reflect, replicate, circular) on the fly, so no padded copy of the input
/// is ever made. The im2col + GEMM algorithm of kernels/conv.hpp multiplies
/// such column tiles with Eigen's GEMM. Raw pointers, no checks: the geometry
/// is validated by nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/kernels/conv_shape.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {

/// The precomputed index maps of im2col for one geometry, in 3-d form (a 2-d
/// convolution is a 3-d one with depth 1 and kernel depth 1, a 1-d one also
/// has height 1). Built once per convolution call by make_im2col_plan and
/// shared, read-only, by every image and group.
struct Im2colPlan {
  index_t channels = 0;  ///< channels per im2col call (in_channels / groups)
  index_t depth = 1, height = 1, width = 1;
  index_t kernel_d = 1, kernel_h = 1, kernel_w = 1;
  index_t out_d = 1, out_h = 1, out_w = 1;
  index_t stride_w = 1;
  std::vector<index_t> depth_source;  ///< [kd * out_d + od]: input plane (depth), or -1 for a zero plane
  std::vector<index_t> row_source;  ///< [kh * out_h + oh]: input row, or -1 for a zero row
  std::vector<index_t> col_source;  ///< [kw * out_w + ow]: input column, or -1 for a zero
  std::vector<index_t> col_begin;   ///< [kw]: first ow whose column lies inside the input
  std::vector<index_t> col_end;     ///< [kw]: one past the last such ow (interior: column = ow*stride_w + offset)
  std::vector<index_t> col_offset;  ///< [kw]: kw*dilation_w - pad_before_w

  /// Rows of the column matrix: channels * kernel_d * kernel_h * kernel_w.
  index_t rows() const { return channels * kernel_d * kernel_h * kernel_w; }
  /// Columns of the column matrix: out_d * out_h * out_w.
  index_t cols() const { return out_d * out_h * out_w; }
};

namespace detail {

/// Fills `source` ([k * out + o]: the input index output o reads at kernel
/// tap k, or -1 for a zero) for one spatial dimension of im2col; when given,
/// begin/end/offset get, per tap, the run of outputs that read inside the input
/// and the input index offset k*dilation - pad_before.
inline void im2col_dimension_map(index_t in, index_t kernel, index_t stride, index_t dilation, index_t pad_before,
                                 index_t out, PaddingMode mode, std::vector<index_t>& source,
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
      source[static_cast<std::size_t>(k * out + o)] = padded_source_index(p, in, mode);
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

/// Output columns [ow0, ow1) of one output row at kernel column kw, reading
/// input row `src` (or zeros when src is null), into dst[ow0 - ow0, ...).
template <typename T>
void im2col_row_segment(const T* src, const Im2colPlan& plan, index_t kw, index_t ow0, index_t ow1, T* dst) {
  if (src == nullptr) {
    std::fill(dst, dst + (ow1 - ow0), T(0));
    return;
  }
  const index_t* columns = plan.col_source.data() + kw * plan.out_w;
  const auto kk = static_cast<std::size_t>(kw);
  const index_t begin = std::clamp(plan.col_begin[kk], ow0, ow1);
  const index_t end = std::clamp(plan.col_end[kk], begin, ow1);
  const index_t offset = plan.col_offset[kk];
  // Padding on the left and right goes through the map; the interior is a plain (strided) copy.
  for (index_t ow = ow0; ow < begin; ++ow) dst[ow - ow0] = columns[ow] < 0 ? T(0) : src[columns[ow]];
  if (plan.stride_w == 1) {
    copy_run(src + begin + offset, end - begin, dst + (begin - ow0));  // short runs: packets, not memmove
  } else {
    const T* from = src + begin * plan.stride_w + offset;
    for (index_t ow = begin; ow < end; ++ow, from += plan.stride_w) dst[ow - ow0] = *from;
  }
  for (index_t ow = end; ow < ow1; ++ow) dst[ow - ow0] = columns[ow] < 0 ? T(0) : src[columns[ow]];
}

}  // namespace detail

/// The index maps for im2col over `s.in_channels / s.groups` channels of an
/// image of geometry s. D is 1, 2 or 3.
template <std::size_t D>
Im2colPlan make_im2col_plan(const ConvShape<D>& s) {
  static_assert(D >= 1 && D <= 3, "strata::kernels::make_im2col_plan: D must be 1, 2 or 3");
  Im2colPlan plan;
  plan.channels = s.in_channels / s.groups;
  constexpr std::size_t w = D - 1;  // the last spatial dimension
  plan.width = s.input[w];
  plan.kernel_w = s.kernel[w];
  plan.out_w = s.output[w];
  plan.stride_w = s.stride[w];
  detail::im2col_dimension_map(s.input[w], s.kernel[w], s.stride[w], s.dilation[w], s.pad_before[w], s.output[w],
                               s.padding_mode, plan.col_source, &plan.col_begin, &plan.col_end, &plan.col_offset);
  if constexpr (D >= 2) {
    constexpr std::size_t h = D - 2;
    plan.height = s.input[h];
    plan.kernel_h = s.kernel[h];
    plan.out_h = s.output[h];
    detail::im2col_dimension_map(s.input[h], s.kernel[h], s.stride[h], s.dilation[h], s.pad_before[h], s.output[h],
                                 s.padding_mode, plan.row_source, nullptr, nullptr, nullptr);
  } else {
    plan.row_source.assign(1, 0);
  }
  if constexpr (D == 3) {
    plan.depth = s.input[0];
    plan.kernel_d = s.kernel[0];
    plan.out_d = s.output[0];
    detail::im2col_dimension_map(s.input[0], s.kernel[0], s.stride[0], s.dilation[0], s.pad_before[0], s.output[0],
                                 s.padding_mode, plan.depth_source, nullptr, nullptr, nullptr);
  } else {
    plan.depth_source.assign(1, 0);
  }
  return plan;
}

/// Columns [first, first + count) of the column matrix of one image (or one
/// group of its channels), as a row-major (plan.rows() x count) matrix:
/// cols[(((c*kernel_d + kd)*kernel_h + kh)*kernel_w + kw) * count + j - first] =
///   padded image[c][od*stride_d + kd*dilation_d - pad_d][oh*stride_h + kh*dilation_h - pad_h]
///               [ow*stride_w + kw*dilation_w - pad_w]
/// for output position j = (od*out_h + oh)*out_w + ow (1-d and 2-d: depth and
/// height 1). image: plan.channels contiguous volumes of depth x height x
/// width; cols: room for plan.rows() * count elements, not overlapping image.
template <typename T>
void im2col_columns(const T* image, const Im2colPlan& plan, index_t first, index_t count, T* cols) {
  const index_t plane = plan.height * plan.width, volume = plan.depth * plane;
  const index_t out_w = plan.out_w, out_plane = plan.out_h * out_w, last = first + count;
  T* row = cols;
  for (index_t c = 0; c < plan.channels; ++c) {
    const T* channel = image + c * volume;
    for (index_t kd = 0; kd < plan.kernel_d; ++kd) {
      const index_t* depths = plan.depth_source.data() + kd * plan.out_d;
      for (index_t kh = 0; kh < plan.kernel_h; ++kh) {
        const index_t* sources = plan.row_source.data() + kh * plan.out_h;
        for (index_t kw = 0; kw < plan.kernel_w; ++kw, row += count) {
          // Output position j = (od * out_h + oh) * out_w + ow, advanced row by row (no division per row).
          index_t od = first / out_plane, oh = first % out_plane / out_w, ow0 = first % out_w;
          for (index_t j = first; j < last;) {
            const index_t ow1 = std::min(out_w, ow0 + (last - j));
            const bool zero = depths[od] < 0 || sources[oh] < 0;
            const T* src = zero ? nullptr : channel + depths[od] * plane + sources[oh] * plan.width;
            detail::im2col_row_segment(src, plan, kw, ow0, ow1, row + (j - first));
            j += ow1 - ow0;
            ow0 = 0;
            if (++oh == plan.out_h) {
              oh = 0;
              ++od;
            }
          }
        }
      }
    }
  }
}

/// The whole column matrix of one image (or one group of its channels), a
/// row-major (plan.rows() x plan.cols()) matrix: im2col_columns over every column.
/// Example: `auto plan = make_im2col_plan(s); std::vector<float> cols(plan.rows() * plan.cols()); im2col(x, plan, cols.data());`
template <typename T>
void im2col(const T* image, const Im2colPlan& plan, T* cols) {
  im2col_columns(image, plan, 0, plan.cols(), cols);
}

}  // namespace kernels
}  // namespace strata
