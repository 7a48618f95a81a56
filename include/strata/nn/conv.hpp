#pragma once
/// \file
/// strata::nn::Conv1d and Conv2d (torch.nn.Conv1d / Conv2d): ConvOptions<D>,
/// the shared implementation Conv<D, T>, the Conv1d / Conv2d class templates
/// and conv_output_shape.

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
#include "strata/core/tensor.hpp"
#include "strata/nn/conv_output_size.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/functional/conv.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/module.hpp"
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

  index_t in_channels() const { return in_channels_; }
  index_t out_channels() const { return out_channels_; }
  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<D>& stride() const { return stride_; }
  const ConvPadding<D>& padding() const { return padding_; }
  const ExpandingArray<D>& dilation() const { return dilation_; }
  index_t groups() const { return groups_; }
  bool bias() const { return bias_; }
  PaddingMode padding_mode() const { return padding_mode_; }

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
};

using Conv1dOptions = ConvOptions<1>;
using Conv2dOptions = ConvOptions<2>;

}  // namespace nn

namespace detail {

/// "Conv1d" / "Conv2d".
template <std::size_t D>
constexpr const char* conv_layer_name() {
  static_assert(D == 1 || D == 2, "strata::nn::Conv<D, T>: D must be 1 or 2");
  return D == 1 ? "Conv1d" : "Conv2d";
}

/// Checks a layer's options (what torch checks in the constructor, plus
/// positive sizes and non-negative padding, which torch only finds in forward)
/// and returns the per-side padding. Throws strata::Error naming the layer.
template <std::size_t D>
std::pair<std::array<index_t, D>, std::array<index_t, D>> conv_check_options(const nn::ConvOptions<D>& options) {
  const char* who = conv_layer_name<D>();
  check(options.in_channels() > 0, who, ": expected in_channels > 0, got ", options.in_channels());
  check(options.out_channels() > 0, who, ": expected out_channels > 0, got ", options.out_channels());
  check(options.groups() > 0, who, ": groups must be a positive integer, got groups=", options.groups());
  check(options.in_channels() % options.groups() == 0, who,
        ": in_channels must be divisible by groups, got in_channels=", options.in_channels(),
        " and groups=", options.groups());
  check(options.out_channels() % options.groups() == 0, who,
        ": out_channels must be divisible by groups, got out_channels=", options.out_channels(),
        " and groups=", options.groups());
  for (index_t k : options.kernel_size()) {
    check(k > 0, who, ": expected kernel_size > 0 in every dimension, got kernel_size=", options.kernel_size());
  }
  // A mode read from a file may be any integer cast to the enum; im2col knows only these four.
  const PaddingMode mode = options.padding_mode();
  check(mode == PaddingMode::Zeros || mode == PaddingMode::Reflect || mode == PaddingMode::Replicate ||
            mode == PaddingMode::Circular,
        who, ": padding_mode must be one of {kZeros, kReflect, kReplicate, kCircular}, got the value ",
        static_cast<int>(mode));
  auto padding = conv_resolve_padding<D>(who, options.padding(), options.kernel_size().array(),
                                         options.stride().array(), options.dilation().array());
  conv_check_hyperparameters<D>(who, options.stride().array(), padding.first, padding.second,
                                options.dilation().array(), options.groups());
  return padding;
}

/// The weight shape of a layer: (out_channels, in_channels/groups, kernel...).
template <std::size_t D>
Shape conv_weight_shape(const nn::ConvOptions<D>& options) {
  std::vector<index_t> sizes{options.out_channels(), options.in_channels() / options.groups()};
  for (index_t k : options.kernel_size()) sizes.push_back(k);
  return Shape(std::move(sizes));
}

}  // namespace detail

namespace nn {

/// The output shape a Conv{1,2}d built from `options` gives for an input of
/// `input_shape` ((N, C, spatial...) or unbatched (C, spatial...)), found by
/// the same checks the layer's forward runs.
/// Example: `conv_output_shape(Conv2dOptions(16, 33, 3).stride(2), {20, 16, 50, 100}) == Shape{20, 33, 24, 49}`
/// Throws strata::Error for invalid options and for every input the layer would refuse.
template <std::size_t D>
Shape conv_output_shape(const ConvOptions<D>& options, const Shape& input_shape) {
  const auto [before, after] = strata::detail::conv_check_options<D>(options);
  const kernels::ConvShape<D> s = strata::detail::conv_check_shapes<D>(
      strata::detail::conv_layer_name<D>(), input_shape, strata::detail::conv_weight_shape<D>(options), nullptr,
      options.stride().array(), before, after, options.dilation().array(), options.groups(), options.padding_mode());
  return strata::detail::conv_output_shape_of<D>(s, input_shape.size() == D + 2);
}

/// A D-dimensional convolution layer (D = 1 or 2), torch.nn.Conv1d / Conv2d;
/// use it through Conv1d<T> and Conv2d<T>. weight (out_channels,
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
class Conv : public Module<T> {
 public:
  explicit Conv(const ConvOptions<D>& options) : Conv(options, strata::detail::ZeroInit{}) {
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }
  /// A convolution whose parameters are zeros (for code that loads them next).
  Conv(const ConvOptions<D>& options, strata::detail::ZeroInit) : options_(options) {
    std::tie(pad_before_, pad_after_) = strata::detail::conv_check_options<D>(options);
    weight_ = Tensor<T>::zeros(strata::detail::conv_weight_shape<D>(options));
    if (options.bias()) bias_ = Tensor<T>::zeros({options.out_channels()});
  }
  Conv(index_t in_channels, index_t out_channels, ExpandingArray<D> kernel_size)
      : Conv(ConvOptions<D>(in_channels, out_channels, kernel_size)) {}

  /// Applies the convolution; safe to call from several threads at once.
  Tensor<T> forward(const Tensor<T>& input) const {
    check_parameters();
    return strata::detail::conv_forward<D, T>(strata::detail::conv_layer_name<D>(), input, weight_, bias_,
                                              options_.stride().array(), pad_before_, pad_after_,
                                              options_.dilation().array(), options_.groups(), options_.padding_mode());
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Redraws weight, then bias, from torch's distributions using gen.
  void reset_parameters(Generator& gen) {
    init::kaiming_uniform_(weight_, std::sqrt(5.0), gen);
    if (bias_.defined()) {
      const double bound = init::fan_in_bound(init::calculate_fan_in(weight_));
      init::uniform_(bias_, -bound, bound, gen);
    }
  }
  /// Redraws from the default generator (see strata::manual_seed).
  void reset_parameters() {
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }

  Tensor<T>& weight() { return weight_; }
  const Tensor<T>& weight() const { return weight_; }
  /// Undefined when the layer has no bias.
  Tensor<T>& bias() { return bias_; }
  const Tensor<T>& bias() const { return bias_; }
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

 protected:
  std::vector<std::pair<std::string, Tensor<T>*>> parameter_slots() override {
    if (options_.bias()) return {{"weight", &weight_}, {"bias", &bias_}};
    return {{"weight", &weight_}};
  }

 private:
  /// weight() and bias() are writable; a tensor of the wrong shape put there is caught here.
  void check_parameters() const {
    const char* who = strata::detail::conv_layer_name<D>();
    const Shape expected = strata::detail::conv_weight_shape<D>(options_);
    strata::detail::check(weight_.defined() && weight_.shape() == expected, who, ": expected weight of shape ",
                          expected, ", got ",
                          weight_.defined() ? to_string(weight_.shape()) : std::string("an undefined tensor"));
    if (options_.bias()) {
      strata::detail::check(bias_.defined() && bias_.shape() == Shape{options_.out_channels()}, who,
                            ": expected bias of shape [", options_.out_channels(), "], got ",
                            bias_.defined() ? to_string(bias_.shape()) : std::string("an undefined tensor"));
    } else {
      strata::detail::check(!bias_.defined(), who,
                            ": expected no bias (the layer was built with bias=false), got shape ",
                            bias_.defined() ? to_string(bias_.shape()) : std::string());
    }
  }

  ConvOptions<D> options_;
  std::array<index_t, D> pad_before_{};
  std::array<index_t, D> pad_after_{};
  Tensor<T> weight_;
  Tensor<T> bias_;
};

/// torch.nn.Conv1d: input (N, C_in, L) or (C_in, L), output (N, C_out, L_out) or (C_out, L_out).
/// Example: `strata::nn::Conv1d conv(Conv1dOptions(16, 33, 3).stride(2));  // [20, 16, 50] -> [20, 33, 24]`
/// Throws strata::Error as Conv<1, T> does.
template <typename T = float>
class Conv1d : public Conv<1, T> {
 public:
  explicit Conv1d(const Conv1dOptions& options) : Conv<1, T>(options) {}
  Conv1d(const Conv1dOptions& options, strata::detail::ZeroInit tag) : Conv<1, T>(options, tag) {}
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
  Conv2d(const Conv2dOptions& options, strata::detail::ZeroInit tag) : Conv<2, T>(options, tag) {}
  Conv2d(index_t in_channels, index_t out_channels, ExpandingArray<2> kernel_size)
      : Conv<2, T>(in_channels, out_channels, kernel_size) {}
};

}  // namespace nn
}  // namespace strata
