#pragma once
/// \file
/// strata::nn::functional::conv_transpose1d and conv_transpose2d,
/// torch.nn.functional's, and the call the ConvTranspose layers make:
/// validate the shapes (nn/conv_geometry.hpp), plan once
/// (kernels/conv_transpose.hpp), run the plan.

#include <array>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/core/tensor.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/conv_transpose.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/expanding_array.hpp"

namespace strata {
namespace detail {

/// The output shape of a validated transposed convolution: (N, out_channels,
/// output...), or without N for an unbatched input.
template <std::size_t D>
Shape conv_transpose_output_shape_of(const kernels::ConvTransposeShape<D>& s, bool batched) {
  std::vector<index_t> sizes;
  if (batched) sizes.push_back(s.batch);
  sizes.push_back(s.out_channels);
  for (index_t o : s.output) sizes.push_back(o);
  return Shape(std::move(sizes));
}

/// A transposed convolution: what the ConvTranspose layers and the
/// functional forms run. input (N, C_in, spatial...) or (C_in, spatial...),
/// weight (C_in, C_out/groups, kernel...), bias (C_out) or undefined.
/// Throws strata::Error naming `who` for every invalid argument.
template <std::size_t D, typename T>
Tensor<T> conv_transpose_forward(const char* who, const Tensor<T>& input, const Tensor<T>& weight,
                                 const Tensor<T>& bias, const std::array<index_t, D>& stride,
                                 const std::array<index_t, D>& padding, const std::array<index_t, D>& output_padding,
                                 const std::array<index_t, D>& dilation, index_t groups) {
  check(input.defined(), who, ": the input is undefined");
  check(weight.defined(), who, ": the weight is undefined");
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const kernels::ConvTransposeShape<D> s =
      conv_transpose_check_shapes<D>(who, input.shape(), weight.shape(), bias.defined() ? &bias_shape : nullptr, stride,
                                     padding, output_padding, dilation, groups);
  Tensor<T> output = Tensor<T>::empty(conv_transpose_output_shape_of<D>(s, input.dim() == static_cast<index_t>(D + 2)));
  if (s.batch == 0) return output;  // nothing to plan or compute
  // Along a dimension with one input position the stride places nothing, so the kernel gets 1: the same
  // output, and col2im's ceiling divisions by the stride (kernels/col2im.hpp) overflow for strides near
  // INT64_MAX (a fuzz finding: ConvTranspose1d(stride=INT64_MAX) on a length-1 input lost a tap).
  kernels::ConvTransposeShape<D> geometry = s;
  for (std::size_t d = 0; d < D; ++d) {
    if (geometry.input[d] == 1) geometry.stride[d] = 1;
  }
  // Each call owns its plan and workspace, so concurrent forwards never share one.
  const kernels::ConvTransposePlan<D> plan = kernels::plan_conv_transpose(geometry, get_num_threads());
  const Tensor<T> x = input.contiguous();  // unbatched data is already (1, C, ...) in memory
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  std::shared_ptr<T> workspace = allocate<T>(plan.workspace(), who);
  kernels::conv_transpose(plan, x.data(), w.data(), b.defined() ? b.data() : nullptr, output.data(), workspace.get());
  return output;
}

}  // namespace detail

namespace nn {
namespace functional {

/// torch.nn.functional.conv_transpose1d: input (N, C_in, L) or (C_in, L),
/// weight (C_in, C_out/groups, kL), bias (C_out) or undefined; output
/// (N, C_out, L_out) or (C_out, L_out) with
/// L_out = (L - 1)*stride - 2*padding + dilation*(kL - 1) + output_padding + 1.
/// Arguments in torch's order (groups before dilation).
/// Example: `auto y = functional::conv_transpose1d(x, w, b, 2, 1, 1);  // [2, 4, 5], w [4, 3, 3] -> [2, 3, 10]`
/// Throws strata::Error ("conv_transpose1d: ...") for inputs of the wrong rank or
/// channel count, a malformed weight or bias, groups that do not divide the
/// weight, non-positive stride or dilation, negative padding, an
/// output_padding not smaller than the stride or the dilation, and an output size < 1.
template <typename T>
Tensor<T> conv_transpose1d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                           const ExpandingArray<1>& stride = 1, const ExpandingArray<1>& padding = 0,
                           const ExpandingArray<1>& output_padding = 0, index_t groups = 1,
                           const ExpandingArray<1>& dilation = 1) {
  return strata::detail::conv_transpose_forward<1, T>("conv_transpose1d", input, weight, bias, stride.array(),
                                                      padding.array(), output_padding.array(), dilation.array(),
                                                      groups);
}

/// torch.nn.functional.conv_transpose2d: input (N, C_in, H, W) or (C_in, H, W),
/// weight (C_in, C_out/groups, kH, kW), bias (C_out) or undefined; output
/// (N, C_out, H_out, W_out) or (C_out, H_out, W_out), each size by the
/// conv_transpose1d formula. stride, padding, output_padding and dilation take
/// one int or {h, w}; arguments in torch's order (groups before dilation).
/// Example: `auto y = functional::conv_transpose2d(x, w, b, 2, 1);  // [8, 64, 28, 28], w [64, 32, 4, 4] -> [8, 32, 56, 56]`
/// Throws strata::Error ("conv_transpose2d: ...") as conv_transpose1d does.
template <typename T>
Tensor<T> conv_transpose2d(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>(),
                           const ExpandingArray<2>& stride = 1, const ExpandingArray<2>& padding = 0,
                           const ExpandingArray<2>& output_padding = 0, index_t groups = 1,
                           const ExpandingArray<2>& dilation = 1) {
  return strata::detail::conv_transpose_forward<2, T>("conv_transpose2d", input, weight, bias, stride.array(),
                                                      padding.array(), output_padding.array(), dilation.array(),
                                                      groups);
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
