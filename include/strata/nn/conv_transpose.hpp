#pragma once
/// \file
/// strata::nn::ConvTranspose1d and ConvTranspose2d (torch.nn.ConvTranspose1d /
/// ConvTranspose2d): ConvTransposeOptions<D>, the shared implementation
/// ConvTranspose<D, T>, the ConvTranspose1d / ConvTranspose2d class templates,
/// conv_transpose_output_shape, and the exact conversions between a stride-1
/// transposed convolution and a convolution (to_conv, to_conv_transpose).

#include <array>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/functional/conv_transpose.hpp"
#include "strata/nn/module.hpp"
#include "strata/nn/padding.hpp"
#include "strata/nn/weighted_layer.hpp"

namespace strata {
namespace nn {

/// Options of a D-dimensional transposed convolution, libtorch's
/// ConvTranspose{1,2}dOptions: in_channels, out_channels and kernel_size are
/// required; stride, padding, output_padding, groups, bias, dilation and
/// padding_mode are chained setters named like torch's keywords, each with a
/// getter of the same name. Size options take one int or one value per dimension.
/// Example: `ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1)`
/// Throws strata::Error (from ExpandingArray) for a list of the wrong length;
/// the values are checked when a layer is built.
template <std::size_t D>
class ConvTransposeOptions {
 public:
  ConvTransposeOptions(index_t in_channels, index_t out_channels, ExpandingArray<D> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}

  ConvTransposeOptions& in_channels(index_t value) { return set(in_channels_, value); }
  ConvTransposeOptions& out_channels(index_t value) { return set(out_channels_, value); }
  ConvTransposeOptions& kernel_size(ExpandingArray<D> value) { return set(kernel_size_, value); }
  ConvTransposeOptions& stride(ExpandingArray<D> value) { return set(stride_, value); }
  ConvTransposeOptions& padding(ExpandingArray<D> value) { return set(padding_, value); }
  ConvTransposeOptions& output_padding(ExpandingArray<D> value) { return set(output_padding_, value); }
  ConvTransposeOptions& groups(index_t value) { return set(groups_, value); }
  ConvTransposeOptions& bias(bool value) { return set(bias_, value); }
  ConvTransposeOptions& dilation(ExpandingArray<D> value) { return set(dilation_, value); }
  /// As in torch, only kZeros is accepted (the layer refuses the others).
  ConvTransposeOptions& padding_mode(PaddingMode value) { return set(padding_mode_, value); }

  index_t in_channels() const { return in_channels_; }
  index_t out_channels() const { return out_channels_; }
  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  const ExpandingArray<D>& stride() const { return stride_; }
  const ExpandingArray<D>& padding() const { return padding_; }
  const ExpandingArray<D>& output_padding() const { return output_padding_; }
  index_t groups() const { return groups_; }
  bool bias() const { return bias_; }
  const ExpandingArray<D>& dilation() const { return dilation_; }
  PaddingMode padding_mode() const { return padding_mode_; }

 private:
  template <typename V>
  ConvTransposeOptions& set(V& field, const V& value) {
    field = value;
    return *this;
  }

  index_t in_channels_;
  index_t out_channels_;
  ExpandingArray<D> kernel_size_;
  ExpandingArray<D> stride_ = 1;
  ExpandingArray<D> padding_ = 0;
  ExpandingArray<D> output_padding_ = 0;
  index_t groups_ = 1;
  bool bias_ = true;
  ExpandingArray<D> dilation_ = 1;
  PaddingMode padding_mode_ = PaddingMode::Zeros;
};

using ConvTranspose1dOptions = ConvTransposeOptions<1>;
using ConvTranspose2dOptions = ConvTransposeOptions<2>;

}  // namespace nn

namespace detail {

/// "ConvTranspose1d" / "ConvTranspose2d".
template <std::size_t D>
constexpr const char* conv_transpose_layer_name() {
  static_assert(D == 1 || D == 2, "strata::nn::ConvTranspose<D, T>: D must be 1 or 2");
  return D == 1 ? "ConvTranspose1d" : "ConvTranspose2d";
}

/// The weight shape of a transposed convolution layer: (in_channels, out_channels/groups, kernel...).
template <std::size_t D>
Shape conv_transpose_weight_shape(const nn::ConvTransposeOptions<D>& o) {
  std::vector<index_t> sizes{o.in_channels(), o.out_channels() / o.groups()};
  for (index_t k : o.kernel_size()) sizes.push_back(k);
  return Shape(std::move(sizes));
}

/// torch's output_size rule (ConvTranspose's _output_padding), for an input of
/// rank D + 1 or D + 2: output_size holds the D spatial sizes, or one per input
/// dimension (the leading ones ignored), each in [lo, lo + stride - 1], lo the
/// size with output_padding 0; returns the output_padding that gives them
/// (zeros for an input of another rank, which forward then refuses).
/// Options validated. Throws strata::Error naming `who`, torch's messages.
template <std::size_t D>
std::array<index_t, D> conv_transpose_output_padding_for(const char* who, const nn::ConvTransposeOptions<D>& o,
                                                         const Shape& input, const std::vector<index_t>& output_size) {
  const std::size_t rank = input.size();
  std::array<index_t, D> result{};
  if (rank != D + 1 && rank != D + 2) return result;
  std::vector<index_t> sizes = output_size;
  if (sizes.size() == rank) sizes.erase(sizes.begin(), sizes.begin() + static_cast<std::ptrdiff_t>(rank - D));
  check(sizes.size() == D, who, ": for ", rank, "D input, output_size must have ", D, " or ", rank, " elements (got ",
        output_size.size(), ")");
  std::vector<index_t> lo(D), hi(D);
  bool inside = true;
  for (std::size_t d = 0; d < D; ++d) {
    lo[d] = conv_transpose_output_size(input[rank - D + d], o.kernel_size()[d], o.stride()[d], o.padding()[d], 0,
                                       o.dilation()[d], who);
    hi[d] = checked_add(lo[d], o.stride()[d] - 1, who);
    inside = inside && sizes[d] >= lo[d] && sizes[d] <= hi[d];
    result[d] = sizes[d] - lo[d];
  }
  check(inside, who, ": requested an output size of ", Shape(sizes), ", but valid sizes range from ", Shape(lo), " to ",
        Shape(hi), " (for an input of ", Shape(std::vector<index_t>(input.end() - D, input.end())), ")");
  return result;
}

}  // namespace detail

namespace nn {

/// The output shape a ConvTranspose{1,2}d built from `options` gives for an
/// input of `input_shape` (and, when not empty, the requested output_size),
/// by the very checks the layer's forward runs.
/// Example: `conv_transpose_output_shape(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1), {8, 64, 28, 28}) == Shape{8, 32, 56, 56}`
/// Throws strata::Error for invalid options and every input the layer would refuse.
template <std::size_t D>
Shape conv_transpose_output_shape(const ConvTransposeOptions<D>& options, const Shape& input_shape,
                                  const std::vector<index_t>& output_size = {}) {
  const char* who = strata::detail::conv_transpose_layer_name<D>();
  strata::detail::conv_transpose_check_options<D>(who, options);
  const auto output_padding =
      output_size.empty() ? options.output_padding().array()
                          : strata::detail::conv_transpose_output_padding_for<D>(who, options, input_shape, output_size);
  const Shape weight = strata::detail::conv_transpose_weight_shape<D>(options);
  const auto s = strata::detail::conv_transpose_check_shapes<D>(who, input_shape, weight, nullptr,
                                                                options.stride().array(), options.padding().array(),
                                                                output_padding, options.dilation().array(),
                                                                options.groups());
  return strata::detail::conv_transpose_output_shape_of<D>(s, input_shape.size() == D + 2);
}

/// A D-dimensional transposed convolution layer (D = 1 or 2),
/// torch.nn.ConvTranspose1d / ConvTranspose2d; use it through
/// ConvTranspose1d<T> and ConvTranspose2d<T>. weight (in_channels,
/// out_channels/groups, kernel...), bias (out_channels) unless bias(false).
/// Input (N, C_in, spatial...) or unbatched (C_in, spatial...); output
/// (N, C_out, out...) or (C_out, out...), each out size
/// (in - 1)*stride - 2*padding + dilation*(kernel - 1) + output_padding + 1.
/// Initialised like torch: weight kaiming_uniform(a = sqrt(5)), i.e. U(-k, k),
/// then bias U(-k, k), with k = 1/sqrt(fan_in) and torch's fan_in of this
/// layout, weight.size(1) * prod(kernel) = out_channels/groups * prod(kernel_size).
/// Example: `strata::nn::ConvTranspose2d up(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1));  // 28x28 -> 56x56`
/// Throws strata::Error for invalid options (see conv_transpose_check_options:
/// torch's messages, "Only \"zeros\" padding mode is supported for
/// ConvTranspose2d" among them) and, in forward, for inputs of the wrong rank,
/// channel count or size, an output_size out of range, and a weight or bias
/// of the wrong shape set through weight() / bias().
template <std::size_t D, typename T = float>
class ConvTranspose : public WeightedLayer<T> {
 public:
  using WeightedLayer<T>::weight;
  using WeightedLayer<T>::bias;
  using WeightedLayer<T>::reset_parameters;
  explicit ConvTranspose(const ConvTransposeOptions<D>& options) : ConvTranspose(options, kSkipInit) {
    reset_parameters();
  }
  /// A transposed convolution whose parameters are zeros, drawn from nothing (see SkipInit).
  ConvTranspose(const ConvTransposeOptions<D>& options, SkipInit) : options_(options) {
    strata::detail::conv_transpose_check_options<D>(name_c(), options);
    this->register_parameter("weight", Tensor<T>::zeros(strata::detail::conv_transpose_weight_shape<D>(options)));
    this->register_bias(options.bias(), options.out_channels());
  }
  ConvTranspose(index_t in_channels, index_t out_channels, ExpandingArray<D> kernel_size)
      : ConvTranspose(ConvTransposeOptions<D>(in_channels, out_channels, kernel_size)) {}

  /// Applies the transposed convolution with the options' output_padding; safe
  /// to call from several threads at once.
  Tensor<T> forward(const Tensor<T>& input) const { return run(input, options_.output_padding().array()); }
  /// Applies it with the output_padding that gives `output_size`: the D
  /// spatial sizes, or torch's full form with one size per input dimension
  /// (whose leading sizes are ignored, as torch ignores them), each within
  /// [size with output_padding 0, that + stride - 1] (torch's rule; the
  /// options' output_padding is then not used).
  Tensor<T> forward(const Tensor<T>& input, const std::vector<index_t>& output_size) const {
    strata::detail::check(input.defined(), name_c(), ": the input is undefined");
    return run(input, strata::detail::conv_transpose_output_padding_for<D>(name_c(), options_, input.shape(),
                                                                           output_size));
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }
  Tensor<T> operator()(const Tensor<T>& input, const std::vector<index_t>& output_size) const {
    return forward(input, output_size);
  }

  /// Redraws weight, then bias, from torch's distributions using gen.
  void reset_parameters(Generator& gen) override { this->draw_kaiming_uniform(weight(), bias(), gen); }

  const ConvTransposeOptions<D>& options() const { return options_; }

  std::string name() const override { return name_c(); }

  /// libtorch's format, e.g. `strata::nn::ConvTranspose2d(64, 32, kernel_size=[4, 4], stride=[2, 2],
  /// padding=[1, 1])`: kernel_size and stride always, the others (in libtorch's order) when not the default.
  void pretty_print(std::ostream& out) const override {
    const ConvTransposeOptions<D>& o = options_;
    out << "strata::nn::" << name() << "(" << o.in_channels() << ", " << o.out_channels()
        << ", kernel_size=" << o.kernel_size() << ", stride=" << o.stride();
    if (o.padding() != ExpandingArray<D>(0)) out << ", padding=" << o.padding();
    if (o.dilation() != ExpandingArray<D>(1)) out << ", dilation=" << o.dilation();
    if (o.output_padding() != ExpandingArray<D>(0)) out << ", output_padding=" << o.output_padding();
    if (o.groups() != 1) out << ", groups=" << o.groups();
    if (!o.bias()) out << ", bias=false";
    out << ")";
  }

 private:
  static const char* name_c() { return strata::detail::conv_transpose_layer_name<D>(); }

  Tensor<T> run(const Tensor<T>& input, const std::array<index_t, D>& output_padding) const {
    this->check_registered_shapes(name_c());
    return strata::detail::conv_transpose_forward<D, T>(name_c(), input, weight(), bias(), options_.stride().array(),
                                                        options_.padding().array(), output_padding,
                                                        options_.dilation().array(), options_.groups());
  }

  ConvTransposeOptions<D> options_;
};

/// torch.nn.ConvTranspose1d: input (N, C_in, L) or (C_in, L), output (N, C_out, L_out) or (C_out, L_out).
/// Example: `strata::nn::ConvTranspose1d up(ConvTranspose1dOptions(16, 8, 4).stride(2).padding(1));  // L -> 2L`
/// Throws strata::Error as ConvTranspose<1, T> does.
template <typename T = float>
class ConvTranspose1d : public ConvTranspose<1, T> {
 public:
  explicit ConvTranspose1d(const ConvTranspose1dOptions& options) : ConvTranspose<1, T>(options) {}
  ConvTranspose1d(const ConvTranspose1dOptions& options, SkipInit tag) : ConvTranspose<1, T>(options, tag) {}
  ConvTranspose1d(index_t in_channels, index_t out_channels, ExpandingArray<1> kernel_size)
      : ConvTranspose<1, T>(in_channels, out_channels, kernel_size) {}
};

/// torch.nn.ConvTranspose2d: input (N, C_in, H, W) or (C_in, H, W), output (N, C_out, H_out, W_out) or (C_out, ...).
/// Example: `strata::nn::ConvTranspose2d up(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1));`
/// Throws strata::Error as ConvTranspose<2, T> does.
template <typename T = float>
class ConvTranspose2d : public ConvTranspose<2, T> {
 public:
  explicit ConvTranspose2d(const ConvTranspose2dOptions& options) : ConvTranspose<2, T>(options) {}
  ConvTranspose2d(const ConvTranspose2dOptions& options, SkipInit tag) : ConvTranspose<2, T>(options, tag) {}
  ConvTranspose2d(index_t in_channels, index_t out_channels, ExpandingArray<2> kernel_size)
      : ConvTranspose<2, T>(in_channels, out_channels, kernel_size) {}
};

}  // namespace nn
}  // namespace strata
