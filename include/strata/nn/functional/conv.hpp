#pragma once
/// \file
/// strata::nn::functional::conv1d and conv2d, torch.nn.functional's, plus the
/// validation every convolution entry point shares (the layers and
/// conv_output_shape use it too, so all report the same errors).

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
#include "strata/kernels/conv.hpp"
#include "strata/nn/conv_output_size.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/padding.hpp"

namespace strata {
namespace detail {

/// "(N, C, L)" / "(N, C, H, W)" and friends, for messages.
template <std::size_t D>
const char* conv_input_layout(bool batched) {
  if constexpr (D == 1) return batched ? "(N, C, L)" : "(C, L)";
  return batched ? "(N, C, H, W)" : "(C, H, W)";
}

/// "[1, 0]" (or "0" for one dimension, as libtorch prints an ExpandingArray<1>).
template <std::size_t D>
std::string conv_list(const std::array<index_t, D>& values) {
  return concat(nn::ExpandingArray<D>(values));
}

/// "(2 x 5)" as torch writes sizes in its kernel-size message.
template <std::size_t D>
std::string conv_by_list(const std::array<index_t, D>& values) {
  std::ostringstream out;
  out << '(';
  for (std::size_t d = 0; d < D; ++d) out << (d ? " x " : "") << values[d];
  out << ')';
  return out.str();
}

/// Checks the hyper-parameters every convolution shares: groups >= 1, stride
/// and dilation >= 1, padding >= 0 (on both sides). Throws strata::Error naming `who`.
template <std::size_t D>
void conv_check_hyperparameters(const char* who, const std::array<index_t, D>& stride,
                                const std::array<index_t, D>& pad_before, const std::array<index_t, D>& pad_after,
                                const std::array<index_t, D>& dilation, index_t groups) {
  check(groups >= 1, who, ": groups must be a positive integer, got groups=", groups);
  for (std::size_t d = 0; d < D; ++d) {
    check(stride[d] >= 1, who, ": expected stride >= 1 in every dimension, got stride=", conv_list<D>(stride),
          " (non-positive stride is not supported)");
    check(dilation[d] >= 1, who, ": expected dilation >= 1 in every dimension, got dilation=", conv_list<D>(dilation),
          " (dilation should be greater than zero)");
    check(pad_before[d] >= 0 && pad_after[d] >= 0, who, ": expected padding >= 0 in every dimension, got padding=",
          pad_before == pad_after ? conv_list<D>(pad_before)
                                  : concat(conv_list<D>(pad_before), " before and ", conv_list<D>(pad_after), " after"),
          " (negative padding is not supported)");
  }
}

/// Resolves a padding option to per-side sizes: explicit values on both
/// sides, kValid none, kSame torch's split (dilation*(kernel-1), the odd
/// element after). Throws strata::Error for kSame with a stride > 1.
template <std::size_t D>
std::pair<std::array<index_t, D>, std::array<index_t, D>> conv_resolve_padding(const char* who,
                                                                               const nn::ConvPadding<D>& padding,
                                                                               const std::array<index_t, D>& kernel,
                                                                               const std::array<index_t, D>& stride,
                                                                               const std::array<index_t, D>& dilation) {
  std::array<index_t, D> before{}, after{};
  if (padding.is_explicit()) {
    before = after = padding.values().array();
  } else if (padding.is_same()) {
    for (std::size_t d = 0; d < D; ++d) {
      // stride < 1 is left to conv_check_hyperparameters, which names it
      check(stride[d] <= 1, who,
            ": padding='same' is not supported for strided convolutions, got stride=", conv_list<D>(stride));
      if (kernel[d] < 1 || dilation[d] < 1) continue;  // reported by the callers' own checks
      const index_t total = checked_mul(dilation[d], kernel[d] - 1, who);
      before[d] = total / 2;
      after[d] = total - before[d];
    }
  }
  return {before, after};
}

/// Validates one convolution call and returns its geometry. input_shape is
/// batched (N, C, spatial...) or unbatched (C, spatial...), the result always
/// batched (batch 1 for an unbatched input); weight_shape is
/// (out_channels, in_channels/groups, kernel...); bias_shape is empty when there is no bias.
/// Throws strata::Error naming `who` for every mismatch, with torch's wording.
template <std::size_t D>
kernels::ConvShape<D> conv_check_shapes(const char* who, const Shape& input_shape, const Shape& weight_shape,
                                        const Shape* bias_shape, const std::array<index_t, D>& stride,
                                        const std::array<index_t, D>& pad_before,
                                        const std::array<index_t, D>& pad_after, const std::array<index_t, D>& dilation,
                                        index_t groups, nn::PaddingMode mode) {
  conv_check_hyperparameters<D>(who, stride, pad_before, pad_after, dilation, groups);
  constexpr std::size_t rank = D + 2;
  bool positive_weight = weight_shape.size() == rank;
  for (index_t s : weight_shape) positive_weight = positive_weight && s >= 1;
  check(positive_weight, who, ": expected a ", rank, "-D weight (out_channels, in_channels/groups, ",
        D == 1 ? "kL" : "kH, kW", ") with positive sizes, got shape ", weight_shape);
  check(weight_shape[0] % groups == 0, who, ": expected weight to be divisible by ", groups,
        " (groups) at dimension 0, got weight of size ", weight_shape, " (out_channels must be divisible by groups)");

  const bool batched = input_shape.size() == rank;
  check(batched || input_shape.size() == rank - 1, who, ": expected ", rank, "-D input ", conv_input_layout<D>(true),
        " or ", rank - 1, "-D ", conv_input_layout<D>(false), ", got shape ", input_shape);
  std::vector<index_t> sizes = input_shape.vec();
  if (!batched) sizes.insert(sizes.begin(), 1);  // torch reports unbatched inputs as a batch of one
  const Shape input(sizes);

  kernels::ConvShape<D> s;
  s.batch = input[0];
  s.in_channels = input[1];
  s.out_channels = weight_shape[0];
  s.groups = groups;
  s.padding_mode = mode;
  check(s.in_channels == weight_shape[1] * groups, who, ": Given groups=", groups, ", weight of size ", weight_shape,
        ", expected input", input, " to have ", weight_shape[1] * groups, " channels, but got ", s.in_channels,
        " channels instead");
  if (bias_shape != nullptr) {
    check(*bias_shape == Shape{s.out_channels}, who, ": expected bias of shape [", s.out_channels,
          "] (out_channels), got shape ", *bias_shape);
  }

  for (std::size_t d = 0; d < D; ++d) {
    s.input[d] = input[d + 2];
    s.kernel[d] = weight_shape[d + 2];
    s.stride[d] = stride[d];
    s.dilation[d] = dilation[d];
    s.pad_before[d] = pad_before[d];
    s.pad_after[d] = pad_after[d];
  }
  for (std::size_t d = 0; d < D; ++d) {
    const index_t in = s.input[d], before = pad_before[d], after = pad_after[d];
    const bool padded = before > 0 || after > 0;
    if (mode == nn::PaddingMode::Reflect && padded) {
      check(before < in && after < in, who, ": expected reflect padding smaller than the input size, got padding (",
            before, ", ", after, ") at dimension ", d + 2, " of input ", input,
            " (Padding size should be less than the corresponding input dimension)");
    }
    if (mode == nn::PaddingMode::Circular && padded) {
      check(before <= in && after <= in, who,
            ": expected circular padding no larger than the input size, got padding (", before, ", ", after,
            ") at dimension ", d + 2, " of input ", input, " (Padding value causes wrapping around more than once.)");
    }
  }

  bool fits = true;
  std::array<index_t, D> padded{}, extent{};
  for (std::size_t d = 0; d < D; ++d) {
    s.output[d] = conv_output_size_or_zero(s.input[d], s.kernel[d], s.stride[d], s.pad_before[d], s.pad_after[d],
                                           s.dilation[d], who);
    padded[d] = s.input[d] + s.pad_before[d] + s.pad_after[d];
    extent[d] = dilated_kernel_size(s.kernel[d], s.dilation[d], who);
    fits = fits && s.output[d] >= 1;
  }
  check(fits, who, ": Calculated padded input size per channel: ", conv_by_list<D>(padded),
        ". Kernel size: ", conv_by_list<D>(extent), ". Kernel size can't be greater than actual input size");
  // torch's rule, checked after the kernel fits as in torch; without it a
  // padded empty row would be "read" by the kernels.
  for (std::size_t d = 0; d < D; ++d) {
    check(s.batch == 0 || s.input[d] > 0, who, ": expected non-empty spatial dimensions for a non-empty batch, got ",
          "input ", input, " (Only zero batch or zero channel inputs are supported)");
  }
  // A stride past the padded extent leaves a single output position, which
  // reads the same taps whatever the stride: clamping it changes no result
  // and keeps the kernels' per-stride-phase tables the size of the input
  // (torch accepts any stride; a stride of 2^40 must not mean 2^40 phases).
  for (std::size_t d = 0; d < D; ++d) s.stride[d] = std::min(s.stride[d], padded[d]);
  return s;
}

/// The output shape of a validated geometry: (N, out_channels, output...), or
/// without N for an unbatched input.
template <std::size_t D>
Shape conv_output_shape_of(const kernels::ConvShape<D>& s, bool batched) {
  std::vector<index_t> sizes;
  if (batched) sizes.push_back(s.batch);
  sizes.push_back(s.out_channels);
  for (index_t o : s.output) sizes.push_back(o);
  return Shape(std::move(sizes));
}

/// Convolution with explicit per-side padding and a padding mode: what the
/// Conv layers run (torch pads with F.pad for the non-zero modes; here im2col
/// applies the mode). input (N, C, spatial...) or (C, spatial...), weight
/// (out, C/groups, kernel...), bias (out) or undefined. Errors name `who`.
template <std::size_t D, typename T>
Tensor<T> conv_forward(const char* who, const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias,
                       const std::array<index_t, D>& stride, const std::array<index_t, D>& pad_before,
                       const std::array<index_t, D>& pad_after, const std::array<index_t, D>& dilation, index_t groups,
                       nn::PaddingMode mode) {
  check(input.defined(), who, ": the input is undefined");
  check(weight.defined(), who, ": the weight is undefined");
  const Shape bias_shape = bias.defined() ? bias.shape() : Shape();
  const kernels::ConvShape<D> s =
      conv_check_shapes<D>(who, input.shape(), weight.shape(), bias.defined() ? &bias_shape : nullptr, stride,
                           pad_before, pad_after, dilation, groups, mode);
  const bool batched = input.dim() == static_cast<index_t>(D + 2);
  Tensor<T> output = Tensor<T>::empty(conv_output_shape_of<D>(s, true));
  if (s.batch == 0) return batched ? output : output.squeeze(0);

  const Tensor<T> x = input.contiguous();  // unbatched data is already (1, C, ...) in memory
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  // Each call owns its workspace (one part per worker thread), so concurrent
  // forwards never share one. The thread count is read once: the size and
  // the kernel's split must agree even if set_num_threads runs meanwhile.
  const int threads = get_num_threads();
  const index_t workspace_size = kernels::conv_workspace_size(s, threads);
  std::shared_ptr<T> workspace = allocate<T>(workspace_size, who);
  kernels::conv<T, D>(x.data(), w.data(), b.defined() ? b.data() : nullptr, output.data(), s, workspace.get(),
                      threads);
  return batched ? output : output.squeeze(0);
}

/// torch.nn.functional.conv{1,2}d: zero padding given as ints, kSame or kValid.
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
  const auto [before, after] = conv_resolve_padding<D>(who, padding, kernel, stride.array(), dilation.array());
  return conv_forward<D, T>(who, input, weight, bias, stride.array(), before, after, dilation.array(), groups,
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

}  // namespace functional
}  // namespace nn
}  // namespace strata
