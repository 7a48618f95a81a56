#pragma once
/// \file
/// strata::nn::Conv1d, Conv2d and Conv3d (torch.nn.Conv1d / Conv2d / Conv3d):
/// ConvOptions<D>, the shared implementation Conv<D, T>, the Conv1d / Conv2d /
/// Conv3d class templates and conv_output_shape.

#include <array>
#include <cmath>
#include <cstddef>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/core/tensor.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/conv_plan.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/functional/conv.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/module.hpp"
#include "strata/nn/weighted_layer.hpp"
#include "strata/nn/padding.hpp"

namespace strata {
namespace nn {

/// Options of a D-dimensional convolution, libtorch's Conv{1,2}dOptions:
/// in_channels, out_channels and kernel_size are required; the rest are chained
/// setters named like torch's keywords, each with a getter of the same name.
/// kernel_size, stride, padding and dilation take one int (every dimension) or
/// one value per dimension; padding also takes kSame or kValid.
/// Example: `Conv2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2}).dilation({3, 1})`
/// Throws strata::Error (from ExpandingArray) for a list of the wrong length;
/// the values themselves are checked when a layer is built.
template <std::size_t D>
class ConvOptions {
 public:
  ConvOptions(index_t in_channels, index_t out_channels, ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}

  ConvOptions& in_channels(index_t value) {
    in_channels_ = value;
    return *this;
  }
  ConvOptions& out_channels(index_t value) {
    out_channels_ = value;
    return *this;
  }
  ConvOptions& kernel_size(ExpandingArray<D> value) {
    kernel_size_ = value;
    return *this;
  }
  ConvOptions& stride(ExpandingArray<D> value) {
    stride_ = value;
    return *this;
  }
  ConvOptions& padding(ConvPadding<D> value) {
    padding_ = value;
    return *this;
  }
  ConvOptions& dilation(ExpandingArray<D> value) {
    dilation_ = value;
    return *this;
  }
  ConvOptions& groups(index_t value) {
    groups_ = value;
    return *this;
  }
  ConvOptions& bias(bool value) {
    bias_ = value;
    return *this;
  }
  ConvOptions& padding_mode(PaddingMode value) {
    padding_mode_ = value;
    return *this;
  }
  /// strata's own option, not torch's: the algorithm the layer's forward runs
  /// (kernels/conv_plan.hpp; Auto, the default, lets the planner choose).
  ConvOptions& algorithm(kernels::ConvAlgorithm value) {
    algorithm_ = value;
    return *this;
  }

  index_t in_channels() const { return in_channels_; }
  index_t out_channels() const { return out_channels_; }
  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<D>& stride() const { return stride_; }
  const ConvPadding<D>& padding() const { return padding_; }
  const ExpandingArray<D>& dilation() const { return dilation_; }
  index_t groups() const { return groups_; }
  bool bias() const { return bias_; }
  PaddingMode padding_mode() const { return padding_mode_; }
  kernels::ConvAlgorithm algorithm() const { return algorithm_; }

 private:
  index_t in_channels_;
  index_t out_channels_;
  ExpandingArray<D> kernel_size_;
  ExpandingArray<D> stride_ = 1;
  ConvPadding<D> padding_ = 0;
  ExpandingArray<D> dilation_ = 1;
  index_t groups_ = 1;
  bool bias_ = true;
  PaddingMode padding_mode_ = PaddingMode::Zeros;
  kernels::ConvAlgorithm algorithm_ = kernels::ConvAlgorithm::Auto;
};

using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;
using Conv3dOptions = ConvOptions<3>;

}  // namespace nn

namespace detail {

/// "Conv1d" / "Conv2d" / "Conv3d".
template <std::size_t D>
constexpr const char* conv_layer_name() {
  static_assert(D >= 1 && D <= 3, "strata::nn::Conv<D, T>: D must be 1, 2 or 3");
  return D == 1 ? "Conv1d" : D == 2 ? "Conv2d" : "Conv3d";
}

}  // namespace detail

namespace nn {

/// The output shape a Conv{1,2,3}d built from `options` gives for an input of
/// `input_shape` ((N, C, spatial...) or unbatched (C, spatial...)), found by
/// the very validation and planning the layer's forward runs, so the two
/// agree on every input.
/// Example: `conv_output_shape(Conv2dOptions(16, 33, 3).stride(2), {20, 16, 50, 100}) == Shape{20, 33, 24, 49}`
/// Throws strata::Error for invalid options and for every input the layer would refuse.
template <std::size_t D>
Shape conv_output_shape(const ConvOptions<D>& options, const Shape& input_shape) {
  const char* who = strata::detail::conv_layer_name<D>();
  const auto padding = strata::detail::conv_check_options<D>(who, options);
  const Shape weight = strata::detail::conv_weight_shape<D>(options);
  const auto call = strata::detail::conv_prepare<D>(who, input_shape, weight, nullptr, options.stride().array(), padding,
                                                    options.dilation().array(), options.groups(),
                                                    options.padding_mode());
  const Shape output = call.output_shape();
  // Forward's planner refusals too, for the outputs forward gets to plan: it allocates the output first, so
  // one past the allocation limit (even in float) is refused there before planning. Planning it here could
  // build index tables as long as that output (a 3-d im2col plan of a 2^41-deep one: a fuzz finding).
  index_t numel = 1;
  for (index_t size : output) numel = strata::detail::saturating_mul(numel, size);
  const bool allocatable = numel <= static_cast<index_t>(STRATA_MAX_ALLOC_BYTES) / static_cast<index_t>(sizeof(float));
  if (call.shape.batch > 0 && allocatable) call.plan(options.algorithm(), get_num_threads());
  return output;
}

/// A D-dimensional convolution layer (D = 1, 2 or 3), torch.nn.Conv1d /
/// Conv2d / Conv3d; use it through Conv1d<T>, Conv2d<T> and Conv3d<T>. weight (out_channels,
/// in_channels/groups, kernel...), bias (out_channels) unless bias(false).
/// Input (N, C_in, spatial...) or unbatched (C_in, spatial...); output
/// (N, C_out, out...) or (C_out, out...), each out size
/// floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1.
/// Initialised like torch: weight kaiming_uniform(a = sqrt(5)), i.e. U(-k, k),
/// then bias U(-k, k), with k = 1/sqrt(in_channels/groups * prod(kernel_size)),
/// drawn from the default generator.
/// Example: `strata::nn::Conv<2> conv(Conv2dOptions(16, 33, 3).stride(2));`
/// Throws strata::Error for invalid options (see conv_check_options) and, in
/// forward, for inputs of the wrong rank, channel count or size, padding the
/// mode cannot apply (reflect >= input, circular > input), and a weight or
/// bias of the wrong shape set through weight() / bias().
template <std::size_t D, typename T = float>
class Conv : public WeightedLayer<T> {
 public:
  using WeightedLayer<T>::weight;
  using WeightedLayer<T>::bias;
  using WeightedLayer<T>::reset_parameters;
  explicit Conv(const ConvOptions<D>& options) : Conv(options, kSkipInit) { reset_parameters(); }
  /// A convolution whose parameters are zeros, drawn from nothing (see SkipInit).
  Conv(const ConvOptions<D>& options, SkipInit)
      : options_(options), padding_(strata::detail::conv_check_options<D>(strata::detail::conv_layer_name<D>(), options)) {
    this->register_parameter("weight", Tensor<T>::zeros(strata::detail::conv_weight_shape<D>(options)));
    this->register_bias(options.bias(), options.out_channels());
  }
  Conv(index_t in_channels, index_t out_channels, ExpandingArray<D> kernel_size)
      : Conv(ConvOptions<D>(in_channels, out_channels, kernel_size)) {}

  /// Applies the convolution; safe to call from several threads at once.
  Tensor<T> forward(const Tensor<T>& input) const {
    const char* who = strata::detail::conv_layer_name<D>();
    this->check_registered_shapes(who);
    return strata::detail::conv_forward<D, T>(who, input, weight(), bias(), options_.stride().array(), padding_,
                                              options_.dilation().array(), options_.groups(), options_.padding_mode(),
                                              options_.algorithm());
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Redraws weight, then bias, from torch's distributions using gen.
  void reset_parameters(Generator& gen) override { this->draw_kaiming_uniform(weight(), bias(), gen); }

  const ConvOptions<D>& options() const { return options_; }

  std::string name() const override { return strata::detail::conv_layer_name<D>(); }

  /// libtorch's format, e.g. `strata::nn::Conv2d(16, 33, kernel_size=[3, 5], stride=[2, 1], padding=[4, 2],
  /// dilation=[3, 1])`: kernel_size and stride always, the others only when not the default.
  void pretty_print(std::ostream& out) const override {
    const ConvOptions<D>& o = options_;
    out << "strata::nn::" << name() << "(" << o.in_channels() << ", " << o.out_channels()
        << ", kernel_size=" << o.kernel_size() << ", stride=" << o.stride();
    if (o.padding() != ConvPadding<D>(0)) out << ", padding=" << o.padding();
    if (o.dilation() != ExpandingArray<D>(1)) out << ", dilation=" << o.dilation();
    if (o.groups() != 1) out << ", groups=" << o.groups();
    if (!o.bias()) out << ", bias=false";
    if (o.padding_mode() != PaddingMode::Zeros) out << ", padding_mode=" << o.padding_mode();
    out << ")";
  }

 private:
  ConvOptions<D> options_;
  strata::detail::PaddingSides<D> padding_;  ///< the padding option resolved per side
};

/// torch.nn.Conv1d: input (N, C_in, L) or (C_in, L), output (N, C_out, L_out) or (C_out, L_out).
/// Example: `strata::nn::Conv1d conv(Conv1dOptions(16, 33, 3).stride(2));  // [20, 16, 50] -> [20, 33, 24]`
/// Throws strata::Error as Conv<1, T> does.
template <typename T = float>
class Conv1d : public Conv<1, T> {
 public:
  explicit Conv1d(const Conv1dOptions& options) : Conv<1, T>(options) {}
  Conv1d(const Conv1dOptions& options, SkipInit tag) : Conv<1, T>(options, tag) {}
  Conv1d(index_t in_channels, index_t out_channels, ExpandingArray<1> kernel_size)
      : Conv<1, T>(in_channels, out_channels, kernel_size) {}
};

/// torch.nn.Conv2d: input (N, C_in, H, W) or (C_in, H, W), output (N, C_out, H_out, W_out) or (C_out, H_out, W_out).
/// Example: `strata::nn::Conv2d conv(Conv2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2}));`
/// Throws strata::Error as Conv<2, T> does.
template <typename T = float>
class Conv2d : public Conv<2, T> {
 public:
  explicit Conv2d(const Conv2dOptions& options) : Conv<2, T>(options) {}
  Conv2d(const Conv2dOptions& options, SkipInit tag) : Conv<2, T>(options, tag) {}
  Conv2d(index_t in_channels, index_t out_channels, ExpandingArray<2> kernel_size)
      : Conv<2, T>(in_channels, out_channels, kernel_size) {}
};

/// torch.nn.Conv3d: input (N, C_in, D, H, W) or (C_in, D, H, W), output (N, C_out, D_out, H_out, W_out) or
/// (C_out, D_out, H_out, W_out); every Conv2d option (padding modes, 'same' / 'valid', groups, depthwise).
/// Example: `strata::nn::Conv3d conv(Conv3dOptions(16, 32, 3).padding(1));  // [2, 16, 16, 32, 32] -> [2, 32, 16, 32, 32]`
/// Throws strata::Error as Conv<3, T> does.
template <typename T = float>
class Conv3d : public Conv<3, T> {
 public:
  explicit Conv3d(const Conv3dOptions& options) : Conv<3, T>(options) {}
  Conv3d(const Conv3dOptions& options, SkipInit tag) : Conv<3, T>(options, tag) {}
  Conv3d(index_t in_channels, index_t out_channels, ExpandingArray<3> kernel_size)
      : Conv<3, T>(in_channels, out_channels, kernel_size) {}
};

}  // namespace nn
}  // namespace strata
