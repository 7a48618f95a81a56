#pragma once
/// \file
/// The one home of convolution (and pooling) geometry: the output-size
/// arithmetic (with pooling's ceil_mode rule), the 'same' split, the
/// resolution of a padding option into per-side sizes, and every check of a
/// convolution's options and of one call's shapes, each message written once.
/// The layers (nn/conv.hpp), the functional forms (nn/functional/conv.hpp)
/// and conv_output_size / same_padding all go through it, and it fills the
/// kernels' kernels::ConvShape (kernels::ConvTransposeShape for ConvTranspose).

#include <algorithm>
#include <array>
#include <cstddef>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/kernels/col2im.hpp"
#include "strata/kernels/conv_shape.hpp"
#include "strata/kernels/pool_shape.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/padding.hpp"

namespace strata {
namespace detail {

/// Per-side padding of D spatial dimensions.
template <std::size_t D>
struct PaddingSides {
  std::array<index_t, D> before{};
  std::array<index_t, D> after{};
};

// ---- arithmetic -------------------------------------------------------------

/// The extent a dilated kernel covers: dilation*(kernel-1) + 1. Arguments must
/// already be validated (kernel, dilation >= 1); throws only on int64 overflow.
inline index_t dilated_kernel_size(index_t kernel, index_t dilation, const char* who) {
  return checked_add(checked_mul(dilation, kernel - 1, who), 1, who);
}

/// The number of windows of a (dilated) kernel over a padded input, for
/// validated arguments: floor((padded - extent) / stride) + 1, or with
/// ceil_mode the ceiling, minus a last window that would start in the right
/// padding (torch's pooling rule). 0 when the kernel does not fit (with
/// ceil_mode: when it overhangs the padded input by a whole stride or more).
inline index_t window_output_size(index_t in, index_t kernel, index_t stride, index_t pad_before, index_t pad_after,
                                  index_t dilation, bool ceil_mode, const char* who) {
  const index_t padded = checked_add(checked_add(in, pad_before, who), pad_after, who);
  const index_t extent = dilated_kernel_size(kernel, dilation, who);
  const index_t span = padded - extent;
  if (!ceil_mode) return span < 0 ? 0 : span / stride + 1;  // span >= 0: / is floor division
  // torch's ceil((padded - extent) / stride) + 1 also counts a kernel that
  // overhangs the padded input by less than a stride: F.max_pool2d of a 2x2
  // input with kernel 3, stride 2 and ceil_mode gives one window.
  const index_t out = (span >= 0 ? span / stride + (span % stride != 0 ? 1 : 0) : -(-span / stride)) + 1;
  if (out <= 0) return 0;
  // (out - 1) * stride >= in + pad_before, without forming the product.
  const index_t past = in + pad_before;
  return out - 1 >= past / stride + (past % stride != 0 ? 1 : 0) ? out - 1 : out;
}

/// torch's padding='same' split of one dimension: total dilation*(kernel-1),
/// before = total/2, the odd element after. Arguments validated (>= 1).
inline std::pair<index_t, index_t> same_padding_split(index_t kernel, index_t dilation, const char* who) {
  const index_t total = checked_mul(dilation, kernel - 1, who);
  return {total / 2, total - total / 2};
}

// ---- message pieces ---------------------------------------------------------

/// "(N, C, L)" / "(N, C, H, W)" / "(N, C, D, H, W)", or without N, for messages.
template <std::size_t D>
const char* conv_input_layout(bool batched) {
  static_assert(D >= 1 && D <= 3, "conv_input_layout: D must be 1, 2 or 3");
  if constexpr (D == 1) return batched ? "(N, C, L)" : "(C, L)";
  if constexpr (D == 2) return batched ? "(N, C, H, W)" : "(C, H, W)";
  return batched ? "(N, C, D, H, W)" : "(C, D, H, W)";
}

/// "kL" / "kH, kW" / "kD, kH, kW", for messages about the weight.
template <std::size_t D>
const char* conv_kernel_layout() {
  if constexpr (D == 1) return "kL";
  if constexpr (D == 2) return "kH, kW";
  return "kD, kH, kW";
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

// ---- checks -----------------------------------------------------------------

/// Every kernel size > 0. Throws strata::Error naming `who`.
template <std::size_t D>
void conv_check_kernel(const char* who, const std::array<index_t, D>& kernel) {
  for (index_t k : kernel) {
    check(k > 0, who, ": expected kernel_size > 0 in every dimension, got kernel_size=", conv_list<D>(kernel));
  }
}

/// The hyper-parameters every convolution shares: groups >= 1, stride and
/// dilation >= 1, padding >= 0 (on both sides). Throws strata::Error naming `who`.
template <std::size_t D>
void conv_check_hyperparameters(const char* who, const std::array<index_t, D>& stride, const PaddingSides<D>& padding,
                                const std::array<index_t, D>& dilation, index_t groups) {
  check(groups >= 1, who, ": groups must be a positive integer, got groups=", groups);
  for (std::size_t d = 0; d < D; ++d) {
    check(stride[d] >= 1, who, ": expected stride >= 1 in every dimension, got stride=", conv_list<D>(stride),
          " (non-positive stride is not supported)");
    check(dilation[d] >= 1, who, ": expected dilation >= 1 in every dimension, got dilation=", conv_list<D>(dilation),
          " (dilation should be greater than zero)");
    check(padding.before[d] >= 0 && padding.after[d] >= 0, who,
          ": expected padding >= 0 in every dimension, got padding=",
          padding.before == padding.after
              ? conv_list<D>(padding.before)
              : concat(conv_list<D>(padding.before), " before and ", conv_list<D>(padding.after), " after"),
          " (negative padding is not supported)");
  }
}

/// Channel counts > 0 and divisible by groups > 0, torch's messages. Throws strata::Error naming `who`.
inline void conv_check_channels(const char* who, index_t in_channels, index_t out_channels, index_t groups) {
  check(in_channels > 0, who, ": expected in_channels > 0, got ", in_channels);
  check(out_channels > 0, who, ": expected out_channels > 0, got ", out_channels);
  check(groups > 0, who, ": groups must be a positive integer, got groups=", groups);
  check(in_channels % groups == 0, who, ": in_channels must be divisible by groups, got in_channels=", in_channels,
        " and groups=", groups);
  check(out_channels % groups == 0, who, ": out_channels must be divisible by groups, got out_channels=",
        out_channels, " and groups=", groups);
}

/// Resolves a padding option to per-side sizes: explicit values on both
/// sides, kValid none, kSame torch's split. Throws strata::Error for kSame
/// with a stride > 1 (kernel, stride and dilation < 1 are left to the other
/// checks, which name them).
template <std::size_t D>
PaddingSides<D> conv_resolve_padding(const char* who, const nn::ConvPadding<D>& padding,
                                     const std::array<index_t, D>& kernel, const std::array<index_t, D>& stride,
                                     const std::array<index_t, D>& dilation) {
  PaddingSides<D> sides;
  if (padding.is_explicit()) {
    sides.before = sides.after = padding.values().array();
  } else if (padding.is_same()) {
    for (std::size_t d = 0; d < D; ++d) {
      check(stride[d] <= 1, who,
            ": padding='same' is not supported for strided convolutions, got stride=", conv_list<D>(stride));
      if (kernel[d] < 1 || dilation[d] < 1) continue;
      std::tie(sides.before[d], sides.after[d]) = same_padding_split(kernel[d], dilation[d], who);
    }
  }
  return sides;
}

/// Checks a layer's options (what torch checks in the constructor, plus
/// positive sizes and non-negative padding, which torch only finds in
/// forward) and returns the per-side padding. Options is ConvOptions<D> or
/// any options class with the same getters. Throws strata::Error naming `who`.
template <std::size_t D, typename Options>
PaddingSides<D> conv_check_options(const char* who, const Options& options) {
  conv_check_channels(who, options.in_channels(), options.out_channels(), options.groups());
  conv_check_kernel<D>(who, options.kernel_size().array());
  // A mode read from a file may be any integer cast to the enum; the kernels know only these four.
  const nn::PaddingMode mode = options.padding_mode();
  check(mode == nn::PaddingMode::Zeros || mode == nn::PaddingMode::Reflect || mode == nn::PaddingMode::Replicate ||
            mode == nn::PaddingMode::Circular,
        who, ": padding_mode must be one of {kZeros, kReflect, kReplicate, kCircular}, got the value ",
        static_cast<int>(mode));
  const PaddingSides<D> padding = conv_resolve_padding<D>(who, options.padding(), options.kernel_size().array(),
                                                          options.stride().array(), options.dilation().array());
  conv_check_hyperparameters<D>(who, options.stride().array(), padding, options.dilation().array(),
                                options.groups());
  return padding;
}

/// The weight shape of a convolution layer: (out_channels, in_channels/groups, kernel...).
template <std::size_t D, typename Options>
Shape conv_weight_shape(const Options& options) {
  std::vector<index_t> sizes{options.out_channels(), options.in_channels() / options.groups()};
  for (index_t k : options.kernel_size()) sizes.push_back(k);
  return Shape(std::move(sizes));
}

/// The kernel must fit the padded input in every dimension, torch's message.
template <std::size_t D>
void conv_check_fits(const char* who, const std::array<index_t, D>& padded, const std::array<index_t, D>& extent) {
  bool fits = true;
  for (std::size_t d = 0; d < D; ++d) fits = fits && padded[d] >= extent[d];
  check(fits, who, ": Calculated padded input size per channel: ", conv_by_list<D>(padded),
        ". Kernel size: ", conv_by_list<D>(extent), ". Kernel size can't be greater than actual input size");
}

/// Validates one convolution call and returns its geometry. input_shape is
/// batched (N, C, spatial...) or unbatched (C, spatial...), the result always
/// batched (batch 1 for an unbatched input); weight_shape is
/// (out_channels, in_channels/groups, kernel...); bias_shape null when there is no bias.
/// Throws strata::Error naming `who` for every mismatch, with torch's wording.
template <std::size_t D>
kernels::ConvShape<D> conv_check_shapes(const char* who, const Shape& input_shape, const Shape& weight_shape,
                                        const Shape* bias_shape, const std::array<index_t, D>& stride,
                                        const PaddingSides<D>& padding, const std::array<index_t, D>& dilation,
                                        index_t groups, nn::PaddingMode mode) {
  conv_check_hyperparameters<D>(who, stride, padding, dilation, groups);
  constexpr std::size_t rank = D + 2;
  bool positive_weight = weight_shape.size() == rank;
  for (index_t s : weight_shape) positive_weight = positive_weight && s >= 1;
  check(positive_weight, who, ": expected a ", rank, "-D weight (out_channels, in_channels/groups, ",
        conv_kernel_layout<D>(), ") with positive sizes, got shape ", weight_shape);
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
    s.pad_before[d] = padding.before[d];
    s.pad_after[d] = padding.after[d];
  }
  for (std::size_t d = 0; d < D; ++d) {
    const index_t in = s.input[d], before = s.pad_before[d], after = s.pad_after[d];
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

  std::array<index_t, D> padded{}, extent{};
  for (std::size_t d = 0; d < D; ++d) {
    s.output[d] = window_output_size(s.input[d], s.kernel[d], s.stride[d], s.pad_before[d], s.pad_after[d],
                                     s.dilation[d], false, who);
    padded[d] = s.input[d] + s.pad_before[d] + s.pad_after[d];
    extent[d] = dilated_kernel_size(s.kernel[d], s.dilation[d], who);
  }
  conv_check_fits<D>(who, padded, extent);
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

// ---- transposed convolution -------------------------------------------------
// ConvTranspose1d/2d, conv_transpose1d/2d: torch 1.13's output size and checks (the layers'
// output_size argument is resolved in nn/conv_transpose.hpp, which alone takes it).

/// (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
/// for validated arguments (in >= 0); may be < 1. Throws only on int64 overflow.
inline index_t conv_transpose_output_size(index_t in, index_t kernel, index_t stride, index_t padding,
                                          index_t output_padding, index_t dilation, const char* who) {
  const index_t grown = in > 0 ? checked_mul(in - 1, stride, who) : 0;
  const index_t plus = checked_add(checked_add(grown, dilated_kernel_size(kernel, dilation, who), who), output_padding,
                                   who);
  return plus - checked_add(checked_mul(2, padding, who), in > 0 ? 0 : stride, who);  // both terms >= 0
}

/// D values as torch's messages show them (torch runs 1-d as 2-d: a 1-d value is the width).
template <std::size_t D>
std::array<index_t, 2> conv_transpose_2d(const std::array<index_t, D>& v, index_t height) {
  return {D == 2 ? v[0] : height, v[D - 1]};
}

/// output_padding >= 0 and smaller than the stride or the dilation in every
/// dimension, torch's messages. Throws strata::Error naming `who`.
template <std::size_t D>
void conv_transpose_check_output_padding(const char* who, const std::array<index_t, D>& output_padding,
                                         const std::array<index_t, D>& stride, const std::array<index_t, D>& dilation) {
  bool smaller = true;
  for (std::size_t d = 0; d < D; ++d) {
    check(output_padding[d] >= 0, who, ": negative output_padding is not supported, got output_padding=",
          conv_list<D>(output_padding));
    smaller = smaller && (output_padding[d] < stride[d] || output_padding[d] < dilation[d]);
  }
  const auto op = conv_transpose_2d<D>(output_padding, 0), st = conv_transpose_2d<D>(stride, 1),
             dl = conv_transpose_2d<D>(dilation, 1);
  check(smaller, who, ": output padding must be smaller than either stride or dilation, but got output_padding_height: ",
        op[0], " output_padding_width: ", op[1], " stride_height: ", st[0], " stride_width: ", st[1],
        " dilation_height: ", dl[0], " dilation_width: ", dl[1]);
}

/// A ConvTranspose layer's options: channels, groups, kernel, stride, dilation, padding as
/// Conv's, output_padding as above, padding_mode zeros. Throws strata::Error naming `who`.
template <std::size_t D, typename Options>
void conv_transpose_check_options(const char* who, const Options& o) {
  conv_check_channels(who, o.in_channels(), o.out_channels(), o.groups());
  conv_check_kernel<D>(who, o.kernel_size().array());
  check(o.padding_mode() == nn::PaddingMode::Zeros, who, ": Only \"zeros\" padding mode is supported for ", who);
  const std::array<index_t, D> padding = o.padding().array();
  conv_check_hyperparameters<D>(who, o.stride().array(), {padding, padding}, o.dilation().array(), o.groups());
  conv_transpose_check_output_padding<D>(who, o.output_padding().array(), o.stride().array(), o.dilation().array());
}

/// Validates one transposed convolution call and returns its geometry (batch 1
/// for an unbatched input). input (N, C_in, spatial...) or (C_in, spatial...),
/// weight (C_in, C_out/groups, kernel...), bias_shape null without a bias.
/// Throws strata::Error naming `who`, with torch's wording.
template <std::size_t D>
kernels::ConvTransposeShape<D> conv_transpose_check_shapes(
    const char* who, const Shape& input_shape, const Shape& weight_shape, const Shape* bias_shape,
    const std::array<index_t, D>& stride, const std::array<index_t, D>& padding,
    const std::array<index_t, D>& output_padding, const std::array<index_t, D>& dilation, index_t groups) {
  conv_check_hyperparameters<D>(who, stride, {padding, padding}, dilation, groups);
  conv_transpose_check_output_padding<D>(who, output_padding, stride, dilation);
  constexpr std::size_t rank = D + 2;
  bool positive = weight_shape.size() == rank;
  for (index_t s : weight_shape) positive = positive && s >= 1;
  check(positive, who, ": expected a ", rank, "-D weight (in_channels, out_channels/groups, ", conv_kernel_layout<D>(),
        ") with positive sizes, got shape ", weight_shape);
  check(weight_shape[0] % groups == 0, who, ": expected weight to be divisible by ", groups,
        " (groups) at dimension 0, got weight of size ", weight_shape, " (in_channels must be divisible by groups)");
  check(input_shape.size() == rank || input_shape.size() == rank - 1, who, ": expected ", rank, "-D input ",
        conv_input_layout<D>(true), " or ", rank - 1, "-D ", conv_input_layout<D>(false), ", got shape ", input_shape);
  std::vector<index_t> sizes = input_shape.vec();
  if (input_shape.size() != rank) sizes.insert(sizes.begin(), 1);
  const Shape input(sizes);
  kernels::ConvTransposeShape<D> s;
  s.batch = input[0];
  s.in_channels = input[1];
  s.out_channels = checked_mul(weight_shape[1], groups, who);
  s.groups = groups;
  check(s.in_channels == weight_shape[0], who, ": Given transposed=1, weight of size ", weight_shape,
        ", expected input", input, " to have ", weight_shape[0], " channels, but got ", s.in_channels,
        " channels instead");
  if (bias_shape != nullptr) {
    check(*bias_shape == Shape{s.out_channels}, who, ": Given transposed=1, weight of size ", weight_shape,
          ", expected bias to be 1-dimensional with ", s.out_channels, " elements, but got bias of size ", *bias_shape,
          " instead");
  }
  bool empty = false, positive_output = true;
  for (std::size_t d = 0; d < D; ++d) {
    s.input[d] = input[d + 2];
    s.kernel[d] = weight_shape[d + 2];
    s.stride[d] = stride[d];
    s.padding[d] = padding[d];
    s.output_padding[d] = output_padding[d];
    s.dilation[d] = dilation[d];
    s.output[d] = conv_transpose_output_size(s.input[d], s.kernel[d], stride[d], padding[d], output_padding[d],
                                             dilation[d], who);
    empty = empty || s.input[d] == 0;
    positive_output = positive_output && s.output[d] >= (s.batch == 0 ? 0 : 1);  // torch: an empty batch may give 0
  }
  check(s.batch == 0 || !empty, who, ": Only zero batch or zero channel inputs are supported, but got input shape: ",
        input);
  check(positive_output, who, ": Given input size per channel: ", conv_by_list<2>(conv_transpose_2d<D>(s.input, 1)),
        ". Calculated output size per channel: ", conv_by_list<2>(conv_transpose_2d<D>(s.output, 1)),
        ". Output size is too small");
  return s;
}

// ---- pooling ----------------------------------------------------------------
// MaxPool, AvgPool and AdaptiveAvgPool share the window arithmetic above;
// their checks read as torch 1.13's (one wording per condition, whichever of
// torch's pooling functions the condition is found in).

/// A pool's kernel_size, stride, padding and dilation: each > 0, padding >= 0
/// and at most half the kernel (torch compares with the undilated kernel).
/// Throws strata::Error naming `who`.
template <std::size_t D>
void pool_check_options(const char* who, const std::array<index_t, D>& kernel, const std::array<index_t, D>& stride,
                        const std::array<index_t, D>& padding, const std::array<index_t, D>& dilation) {
  for (std::size_t d = 0; d < D; ++d) {
    check(kernel[d] > 0, who, ": kernel size should be greater than zero, but got kernel_size=", conv_list<D>(kernel));
  }
  for (std::size_t d = 0; d < D; ++d) {
    check(stride[d] > 0, who, ": stride should be greater than zero, but got stride=", conv_list<D>(stride));
  }
  for (std::size_t d = 0; d < D; ++d) {
    check(dilation[d] > 0, who, ": dilation should be greater than zero, but got dilation=", conv_list<D>(dilation));
  }
  for (std::size_t d = 0; d < D; ++d) {
    check(padding[d] >= 0, who, ": pad must be non-negative, but got padding=", conv_list<D>(padding));
  }
  for (std::size_t d = 0; d < D; ++d) {
    check(padding[d] <= kernel[d] / 2, who, ": pad should be at most half of kernel size, but got pad=", padding[d],
          " and kernel_size=", kernel[d]);
  }
}

/// AvgPool2d's divisor_override: not 0 (any other value, negative ones
/// included, divides as torch divides). Throws strata::Error naming `who`.
inline void avg_pool_check_divisor(const char* who, index_t divisor_override) {
  check(divisor_override != 0, who, ": divisor must be not zero");
}

/// An adaptive pool's output_size: every entry >= 0 (0 gives an empty
/// output, as in torch). Throws strata::Error naming `who`.
template <std::size_t D>
void adaptive_pool_check_output_size(const char* who, const std::array<index_t, D>& output_size) {
  for (index_t o : output_size) {
    check(o >= 0, who, ": elements of output_size must be greater than or equal to 0 but received ",
          conv_list<D>(output_size));
  }
}

/// "(2x8x8)": the sizes after the batch dimension, as torch's pooling messages write them.
inline std::string pool_sizes_text(const Shape& sizes, std::size_t from) {
  std::ostringstream out;
  out << '(';
  for (std::size_t i = from; i < sizes.size(); ++i) out << (i > from ? "x" : "") << sizes[i];
  out << ')';
  return out.str();
}

/// The input of a pool: batched (N, C, spatial...) or unbatched (C, spatial...).
/// Max and average pools want every size but the batch's > 0, adaptive pools
/// only the spatial ones, as torch. Returns the call's PoolShape with planes
/// and input filled, and whether the input is batched. Throws strata::Error naming `who`.
template <std::size_t D>
std::pair<kernels::PoolShape<D>, bool> pool_check_input(const char* who, kernels::PoolMode mode, const Shape& input) {
  const std::size_t rank = input.size();
  const bool batched = rank == D + 2;
  if (mode == kernels::PoolMode::AdaptiveAvg) {
    check(batched || rank == D + 1, who, ": Expected ", D + 1, "D or ", D + 2, "D tensor, but got ", input);
    for (std::size_t d = rank - D; d < rank; ++d) {
      check(input[d] > 0, who,
            ": Expected input to have non-zero size for non-batch dimensions, but input has sizes ", input,
            " with dimension ", d, " being empty");
    }
  } else {
    bool fits = batched || rank == D + 1;
    for (std::size_t d = batched ? 1 : 0; fits && d < rank; ++d) fits = input[d] > 0;
    check(fits, who, ": Expected ", D + 1, "D or ", D + 2,
          "D (batch mode) tensor with optional 0 dim batch size for input, but got:", input);
  }
  kernels::PoolShape<D> s;
  s.mode = mode;
  s.planes = input[rank - D - 1] * (batched ? input[0] : 1);
  for (std::size_t d = 0; d < D; ++d) s.input[d] = input[rank - D + d];
  return {s, batched};
}

/// Validates one max or average pool call (options, as pool_check_options,
/// then the input) and returns its geometry and whether the input is
/// batched; the output sizes follow window_output_size (ceil_mode's rule
/// included) and must be >= 1, torch's message otherwise.
/// Throws strata::Error naming `who`.
template <std::size_t D>
std::pair<kernels::PoolShape<D>, bool> pool_check_shapes(const char* who, kernels::PoolMode mode, const Shape& input,
                                                         const std::array<index_t, D>& kernel,
                                                         const std::array<index_t, D>& stride,
                                                         const std::array<index_t, D>& padding,
                                                         const std::array<index_t, D>& dilation, bool ceil_mode) {
  pool_check_options<D>(who, kernel, stride, padding, dilation);
  auto [s, batched] = pool_check_input<D>(who, mode, input);
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  s.dilation = dilation;
  bool positive = true;
  for (std::size_t d = 0; d < D; ++d) {
    s.output[d] = window_output_size(s.input[d], kernel[d], stride[d], padding[d], padding[d], dilation[d], ceil_mode,
                                     who);
    positive = positive && s.output[d] >= 1;
  }
  if (!positive) {
    std::vector<index_t> out{input[input.size() - D - 1]};
    for (index_t o : s.output) out.push_back(o);
    check(false, who, ": Given input size: ", pool_sizes_text(input, input.size() - D - 1),
          ". Calculated output size: ", pool_sizes_text(Shape(out), 0), ". Output size is too small");
  }
  return {s, batched};
}

/// Validates one adaptive pool call and returns its geometry (output sizes
/// as given) and whether the input is batched. Throws strata::Error naming `who`.
template <std::size_t D>
std::pair<kernels::PoolShape<D>, bool> adaptive_pool_check_shapes(const char* who, const Shape& input,
                                                                  const std::array<index_t, D>& output_size) {
  adaptive_pool_check_output_size<D>(who, output_size);
  auto [s, batched] = pool_check_input<D>(who, kernels::PoolMode::AdaptiveAvg, input);
  s.output = output_size;
  // The window bounds multiply an output index by the input size.
  for (std::size_t d = 0; d < D; ++d) checked_mul(s.output[d], s.input[d], who);
  return {s, batched};
}

/// The output shape of a validated pool: (N, C, output...), or (C, output...) unbatched.
template <std::size_t D>
Shape pool_output_shape_of(const Shape& input, const kernels::PoolShape<D>& s) {
  std::vector<index_t> sizes(input.begin(), input.end() - D);
  for (index_t o : s.output) sizes.push_back(o);
  return Shape(std::move(sizes));
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
  strata::detail::conv_check_kernel<1>(who, {kernel});
  strata::detail::conv_check_hyperparameters<1>(who, {stride}, {{pad_before}, {pad_after}}, {dilation}, 1);
  const index_t out =
      strata::detail::window_output_size(in, kernel, stride, pad_before, pad_after, dilation, false, who);
  strata::detail::conv_check_fits<1>(who, {in + pad_before + pad_after},
                                     {strata::detail::dilated_kernel_size(kernel, dilation, who)});
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
  const char* who = "same_padding";
  strata::detail::conv_check_kernel<1>(who, {kernel});
  strata::detail::conv_check_hyperparameters<1>(who, {1}, {}, {dilation}, 1);
  return strata::detail::same_padding_split(kernel, dilation, who);
}

}  // namespace nn
}  // namespace strata
