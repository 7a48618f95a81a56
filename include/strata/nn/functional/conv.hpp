#pragma once
/// \file
/// strata::nn::functional::conv1d, conv2d and conv3d, torch.nn.functional's, and the
/// call every convolution entry point makes (the layers and conv_output_shape
/// too): validate the shapes (nn/conv_geometry.hpp), plan once, run the plan.

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/core/tensor.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/conv.hpp"
#include "strata/kernels/conv_plan.hpp"
#include "strata/kernels/linear.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/padding.hpp"

namespace strata {
namespace detail {

/// One convolution call, validated (nn/conv_geometry.hpp): its geometry and
/// whether the input had a batch dimension.
template <std::size_t D>
struct ConvCall {
  kernels::ConvShape<D> shape;
  bool batched = true;

  Shape output_shape() const { return conv_output_shape_of<D>(shape, batched); }
  /// The call's one plan (kernels/conv_plan.hpp): the algorithm, the split
  /// over `threads` workers and the workspace. Throws strata::Error for
  /// geometries the planner refuses (padding or dilation far beyond the input).
  kernels::ConvPlan<D> plan(kernels::ConvAlgorithm algorithm, int threads) const {
    return kernels::plan_conv(shape, threads, algorithm);
  }
};

/// Validates one call. Throws strata::Error naming `who` for every invalid shape.
template <std::size_t D>
ConvCall<D> conv_prepare(const char* who, const Shape& input, const Shape& weight, const Shape* bias,
                         const std::array<index_t, D>& stride, const PaddingSides<D>& padding,
                         const std::array<index_t, D>& dilation, index_t groups, nn::PaddingMode mode) {
  return ConvCall<D>{conv_check_shapes<D>(who, input, weight, bias, stride, padding, dilation, groups, mode),
                     input.size() == D + 2};
}

/// A pointwise convolution (kernel 1, stride 1, no padding, one group) of an
/// input in channels-last memory, such as x.permute({0, 2, 1}) of an
/// (N, L, C) tensor: its rows of C channels are already Linear's input, so
/// Linear's kernel computes it in place, into channels-last output memory
/// (as torch keeps channels_last), returned as the (N, C_out, spatial...)
/// view. Undefined when the call is not such a case (then the input is
/// copied to NCHW order and the pointwise kernel runs).
template <std::size_t D, typename T>
Tensor<T> conv_pointwise_channels_last(const ConvCall<D>& call, const Tensor<T>& input, const Tensor<T>& weight,
                                       const Tensor<T>& bias, kernels::ConvAlgorithm algorithm) {
  const kernels::ConvShape<D>& s = call.shape;
  if (s.groups != 1 || !kernels::conv_is_pointwise(s) ||
      (algorithm != kernels::ConvAlgorithm::Auto && algorithm != kernels::ConvAlgorithm::Pointwise)) {
    return Tensor<T>();
  }
  // The input's dimensions ordered (N, spatial..., C) must be contiguous.
  std::vector<index_t> order;
  if (call.batched) order.push_back(0);
  const index_t c_dim = call.batched ? 1 : 0;
  for (std::size_t d = 0; d < D; ++d) order.push_back(c_dim + 1 + static_cast<index_t>(d));
  order.push_back(c_dim);
  const Tensor<T> rows = input.permute(order);
  if (!rows.is_contiguous() || input.is_contiguous()) return Tensor<T>();
  // Only where Linear takes its register-tiled skinny path, whose sums run in
  // the pointwise kernel's order: the result is bit-identical to the
  // contiguous input's, as for every layout.
  const index_t positions = rows.numel() / s.in_channels;
  if (!kernels::detail::linear_is_skinny<T>(positions, s.in_channels, s.out_channels)) return Tensor<T>();
  std::vector<index_t> out_sizes(rows.shape().begin(), rows.shape().end());
  out_sizes.back() = s.out_channels;
  Tensor<T> out = Tensor<T>::empty(Shape(out_sizes));
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  kernels::linear(rows.data(), w.data(), b.defined() ? b.data() : nullptr, out.data(), positions, s.in_channels,
                  s.out_channels);
  // Back to (N, C_out, spatial...): the inverse of `order`.
  std::vector<index_t> inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inverse[static_cast<std::size_t>(order[i])] = static_cast<index_t>(i);
  return out.permute(inverse);
}

/// Convolution with per-side padding and a padding mode: what the Conv layers
/// run (torch pads with F.pad for the non-zero modes; here the kernels apply
/// the mode while laying out the input). input (N, C, spatial...) or
/// (C, spatial...), weight (out, C/groups, kernel...), bias (out) or
/// undefined. Errors name `who`.
template <std::size_t D, typename T>
Tensor<T> conv_forward(const char* who, const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias,
                       const std::array<index_t, D>& stride, const PaddingSides<D>& padding,
                       const std::array<index_t, D>& dilation, index_t groups, nn::PaddingMode mode,
                       kernels::ConvAlgorithm algorithm = kernels::ConvAlgorithm::Auto) {
  check(input.defined(), who, ": the input is undefined");
  check(weight.defined(), who, ": the weight is undefined");
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const ConvCall<D> call = conv_prepare<D>(who, input.shape(), weight.shape(), bias.defined() ? &bias_shape : nullptr,
                                           stride, padding, dilation, groups, mode);
  if (call.shape.batch > 0) {
    Tensor<T> channels_last = conv_pointwise_channels_last<D, T>(call, input, weight, bias, algorithm);
    if (channels_last.defined()) return channels_last;
  }
  Tensor<T> output = Tensor<T>::empty(call.output_shape());
  if (call.shape.batch == 0) return output;  // nothing to plan or compute

  // Each call owns its plan and workspace (one part per worker thread), so
  // concurrent forwards never share one.
  const kernels::ConvPlan<D> plan = call.plan(algorithm, get_num_threads());
  const Tensor<T> x = input.contiguous();  // unbatched data is already (1, C, ...) in memory
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  std::shared_ptr<T> workspace = allocate<T>(plan.workspace(), who);
  kernels::conv(plan, x.data(), w.data(), b.defined() ? b.data() : nullptr, output.data(), workspace.get());
  return output;
}

/// torch.nn.functional.conv{1,2,3}d: zero padding given as ints, kSame or kValid.
template <std::size_t D, typename T>
Tensor<T> conv_functional(const char* who, const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias,
                          const nn::ExpandingArray<D>& stride, const nn::ConvPadding<D>& padding,
                          const nn::ExpandingArray<D>& dilation, index_t groups) {
  std::array<index_t, D> kernel{};
  if (weight.defined() && weight.dim() == static_cast<index_t>(D + 2)) {
    for (std::size_t d = 0; d < D; ++d) kernel[d] = weight.size(static_cast<index_t>(d + 2));
  } else {
    kernel.fill(1);  // a malformed weight is reported by conv_forward
  }
  const PaddingSides<D> sides = conv_resolve_padding<D>(who, padding, kernel, stride.array(), dilation.array());
  return conv_forward<D, T>(who, input, weight, bias, stride.array(), sides, dilation.array(), groups,
                            nn::PaddingMode::Zeros);
}

}  // namespace detail

namespace nn {
namespace functional {

/// torch.nn.functional.conv1d: input (N, C_in, L) or (C_in, L), weight
/// (C_out, C_in/groups, kL), bias (C_out) or undefined; output (N, C_out, L_out)
/// or (C_out, L_out) with L_out = floor((L + 2*padding - dilation*(kL-1) - 1)/stride) + 1.
/// padding is an int, kValid or kSame (stride 1 only); padding is zeros.
/// Example: `auto y = functional::conv1d(x, w, b, 2);  // [20, 16, 50], w [33, 16, 3] -> [20, 33, 24]`
/// Throws strata::Error ("conv1d: ...") for inputs of the wrong rank or channel
/// count, a malformed weight or bias, groups that do not divide the channels,
/// non-positive stride or dilation, negative padding, kSame with stride > 1,
/// and a kernel larger than the padded input.
template <typename T>
Tensor<T> conv1d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                 const ExpandingArray<1>& stride = 1, const ConvPadding<1>& padding = 0,
                 const ExpandingArray<1>& dilation = 1, index_t groups = 1) {
  return strata::detail::conv_functional<1, T>("conv1d", input, weight, bias, stride, padding, dilation, groups);
}

/// torch.nn.functional.conv2d: input (N, C_in, H, W) or (C_in, H, W), weight
/// (C_out, C_in/groups, kH, kW), bias (C_out) or undefined; output
/// (N, C_out, H_out, W_out) or (C_out, H_out, W_out), each size by the conv1d formula.
/// stride, padding and dilation take one int or {h, w}; padding also kValid or
/// kSame (stride 1 only); padding is zeros.
/// Example: `auto y = functional::conv2d(x, w, {}, {2, 1}, {4, 2}, {3, 1});`
/// Throws strata::Error ("conv2d: ...") as conv1d does.
template <typename T>
Tensor<T> conv2d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                 const ExpandingArray<2>& stride = 1, const ConvPadding<2>& padding = 0,
                 const ExpandingArray<2>& dilation = 1, index_t groups = 1) {
  return strata::detail::conv_functional<2, T>("conv2d", input, weight, bias, stride, padding, dilation, groups);
}

/// torch.nn.functional.conv3d: input (N, C_in, D, H, W) or (C_in, D, H, W),
/// weight (C_out, C_in/groups, kD, kH, kW), bias (C_out) or undefined; output
/// (N, C_out, D_out, H_out, W_out) or unbatched, each size by the conv1d formula.
/// stride, padding and dilation take one int or {d, h, w}; padding also kValid
/// or kSame (stride 1 only); padding is zeros.
/// Example: `auto y = functional::conv3d(x, w, b, 1, 1);  // [2, 16, 16, 32, 32], w [32, 16, 3, 3, 3] -> [2, 32, 16, 32, 32]`
/// Throws strata::Error ("conv3d: ...") as conv1d does.
template <typename T>
Tensor<T> conv3d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                 const ExpandingArray<3>& stride = 1, const ConvPadding<3>& padding = 0,
                 const ExpandingArray<3>& dilation = 1, index_t groups = 1) {
  return strata::detail::conv_functional<3, T>("conv3d", input, weight, bias, stride, padding, dilation, groups);
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
