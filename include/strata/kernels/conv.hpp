#pragma once
/// \file
/// The convolution kernel (1-d and 2-d): for each image and group, im2col into
/// a column buffer, then one GEMM weight[g] * cols through Eigen maps, bias
/// fused. A pointwise convolution (kernel 1, stride 1, no padding) skips im2col
/// and multiplies the NCL / NCHW data in place. Raw pointers, no checks:
/// nn/functional/conv.hpp validates.

#include <array>
#include <cstddef>

#include "strata/core/eigen.hpp"
#include "strata/core/shape.hpp"
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

/// Elements of the column buffer conv() needs: (in_channels/groups * prod(kernel))
/// * prod(output), or 0 for a pointwise convolution. Computed with checked
/// arithmetic: throws strata::Error when the size overflows int64.
template <std::size_t D>
index_t conv_workspace_size(const ConvShape<D>& s) {
  if (conv_is_pointwise(s)) return 0;
  const char* who = "conv";
  index_t n = s.in_channels / s.groups;
  for (std::size_t d = 0; d < D; ++d) n = strata::detail::checked_mul(n, s.kernel[d], who);
  for (std::size_t d = 0; d < D; ++d) n = strata::detail::checked_mul(n, s.output[d], who);
  return n;
}

/// output (batch, out_channels, output...) = convolution of input
/// (batch, in_channels, input...) with weight (out_channels, in_channels/groups,
/// kernel...), plus bias (out_channels) when bias is not null. All arrays
/// contiguous, row-major; output must not overlap the others. workspace holds at
/// least conv_workspace_size(s) elements and is the call's own (two calls
/// running at once need two buffers). The padding mode is applied by im2col.
template <typename T, std::size_t D>
void conv(const T* input, const T* weight, const T* bias, T* output, const ConvShape<D>& s, T* workspace) {
  const index_t in_per_group = s.in_channels / s.groups;
  const index_t out_per_group = s.out_channels / s.groups;
  const index_t in_plane = spatial_numel(s.input);
  const index_t out_plane = spatial_numel(s.output);
  const index_t reduction = in_per_group * spatial_numel(s.kernel);  // columns of weight[g]
  const bool pointwise = conv_is_pointwise(s);
  const Im2colPlan plan = pointwise ? Im2colPlan() : make_im2col_plan(s);

  for (index_t n = 0; n < s.batch; ++n) {
    for (index_t g = 0; g < s.groups; ++g) {
      const T* image = input + (n * s.in_channels + g * in_per_group) * in_plane;
      const T* cols = image;  // pointwise: the channel planes already form the (in, out_plane) matrix
      if (!pointwise) {
        im2col(image, plan, workspace);
        cols = workspace;
      }
      const ConstMatrixMap<T> w(weight + g * out_per_group * reduction, out_per_group, reduction);
      const ConstMatrixMap<T> x(cols, reduction, out_plane);
      MatrixMap<T> y(output + (n * s.out_channels + g * out_per_group) * out_plane, out_per_group, out_plane);
      y.noalias() = w * x;
      if (bias != nullptr) y.colwise() += ConstVectorMap<T>(bias + g * out_per_group, out_per_group);
    }
  }
}

}  // namespace kernels
}  // namespace strata
