#pragma once
/// \file
/// Output sizes of convolutions, usable without building a layer:
/// conv_output_size for one spatial dimension and same_padding for the split
/// torch uses for padding='same'. (conv_output_shape, which takes a layer's
/// ConvOptions and a whole input shape, lives next to ConvOptions in nn/conv.hpp.)

#include <utility>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"

namespace strata {
namespace detail {

/// The extent a dilated kernel covers: dilation*(kernel-1) + 1. Arguments must
/// already be validated (kernel, dilation >= 1); throws only on int64 overflow.
inline index_t dilated_kernel_size(index_t kernel, index_t dilation, const char* who) {
  return checked_add(checked_mul(dilation, kernel - 1, who), 1, who);
}

/// floor((padded - dilated_kernel) / stride) + 1 for validated arguments, or 0
/// when the dilated kernel does not fit the padded input (torch's error case).
inline index_t conv_output_size_or_zero(index_t in, index_t kernel, index_t stride, index_t pad_before,
                                        index_t pad_after, index_t dilation, const char* who) {
  const index_t padded = checked_add(checked_add(in, pad_before, who), pad_after, who);
  const index_t extent = dilated_kernel_size(kernel, dilation, who);
  // padded >= extent keeps the numerator non-negative, where / is floor division.
  return padded < extent ? 0 : (padded - extent) / stride + 1;
}

}  // namespace detail

namespace nn {

/// Output size of a convolution along one spatial dimension with padding
/// `pad_before` and `pad_after` on the two sides (they differ for an odd total
/// 'same' padding): floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1.
/// Example: `conv_output_size(7, 4, 1, 1, 2, 1) == 7` (kernel 4, padding='same').
/// Throws strata::Error when in < 0, kernel, stride or dilation < 1, a padding
/// is negative, or the dilated kernel does not fit the padded input (output < 1).
inline index_t conv_output_size(index_t in, index_t kernel, index_t stride, index_t pad_before, index_t pad_after,
                                index_t dilation) {
  const char* who = "conv_output_size";
  strata::detail::check(in >= 0, who, ": expected a non-negative input size, got ", in);
  strata::detail::check(kernel >= 1, who, ": expected kernel_size >= 1, got ", kernel);
  strata::detail::check(stride >= 1, who, ": expected stride >= 1, got ", stride,
                        " (non-positive stride is not supported)");
  strata::detail::check(dilation >= 1, who, ": expected dilation >= 1, got ", dilation,
                        " (dilation should be greater than zero)");
  strata::detail::check(pad_before >= 0 && pad_after >= 0, who, ": expected non-negative padding, got (", pad_before,
                        ", ", pad_after, ") (negative padding is not supported)");
  const index_t out =
      strata::detail::conv_output_size_or_zero(in, kernel, stride, pad_before, pad_after, dilation, who);
  strata::detail::check(out >= 1, who, ": Calculated padded input size per channel: (", in + pad_before + pad_after,
                        "). Kernel size: (", strata::detail::dilated_kernel_size(kernel, dilation, who),
                        "). Kernel size can't be greater than actual input size");
  return out;
}

/// Output size with the same `padding` on both sides, the formula of the torch
/// docs: floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1.
/// Example: `conv_output_size(50, 3, 2) == 24`, `conv_output_size(50, 3, 2, 4, 3) == 26`.
/// Throws strata::Error like the asymmetric overload.
inline index_t conv_output_size(index_t in, index_t kernel, index_t stride = 1, index_t padding = 0,
                                index_t dilation = 1) {
  return conv_output_size(in, kernel, stride, padding, padding, dilation);
}

/// torch's padding='same' for one dimension: (before, after) with total
/// dilation*(kernel-1), before = total/2 and the odd element after.
/// Example: `same_padding(4) == std::pair<index_t, index_t>(1, 2)`.
/// Throws strata::Error when kernel or dilation < 1.
inline std::pair<index_t, index_t> same_padding(index_t kernel, index_t dilation = 1) {
  strata::detail::check(kernel >= 1, "same_padding: expected kernel_size >= 1, got ", kernel);
  strata::detail::check(dilation >= 1, "same_padding: expected dilation >= 1, got ", dilation);
  const index_t total = strata::detail::checked_mul(dilation, kernel - 1, "same_padding");
  return {total / 2, total - total / 2};
}

}  // namespace nn
}  // namespace strata
