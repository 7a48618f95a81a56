#pragma once
/// \file
/// Conversions between a fully connected layer and the convolutions that
/// compute the same map: Linear <-> Conv1d with kernel 1 (a Linear applied at
/// every position of an (N, C, L) signal), and Linear -> Conv2d over a whole
/// C x kh x kw feature map (the "global convolution" of VGG's classifier),
/// and a stride-1 ConvTranspose1d / 2d <-> the Conv1d / 2d with the flipped,
/// transposed kernel (to_conv, to_conv_transpose).
/// The new layer gets copies of the parameters (no shared storage).

#include <array>
#include <cstddef>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/conv_transpose.hpp"
#include "strata/nn/conv.hpp"
#include "strata/nn/conv_transpose.hpp"
#include "strata/nn/linear.hpp"

namespace strata {
namespace detail {

/// Builds a layer from options and copies `weight` (reshaped to the layer's
/// weight shape) and `bias` into it.
template <typename Layer, typename Options, typename T>
Layer layer_with_parameters(const Options& options, const Tensor<T>& weight, const Tensor<T>& bias) {
  Layer layer(options, nn::kSkipInit);  // no draws from the default generator: the parameters are copied in
  layer.weight().copy_(weight.reshape(layer.weight().shape()));  // reshape of a contiguous weight: a view
  if (bias.defined()) layer.bias().copy_(bias);
  return layer;
}

}  // namespace detail

namespace nn {

/// The Conv1d with kernel 1 that computes fc on every position of an (N, C, L)
/// input: to_conv1d(fc)(x) equals fc(x.permute({0, 2, 1})).permute({0, 2, 1}).
/// weight (out, in) becomes (out, in, 1); same parameter count.
/// Example: `auto conv = strata::nn::to_conv1d(strata::nn::Linear(8, 32));  // Conv1d(8, 32, kernel_size=1)`
template <typename T>
Conv1d<T> to_conv1d(const Linear<T>& fc) {
  const LinearOptions& o = fc.options();
  return strata::detail::layer_with_parameters<Conv1d<T>>(
      Conv1dOptions(o.in_features(), o.out_features(), 1).bias(o.bias()), fc.weight(), fc.bias());
}

/// The Linear that a Conv1d with kernel 1 applies at every position.
/// Example: `strata::nn::Linear<float> fc = strata::nn::to_linear(conv);`
/// Throws strata::Error unless the convolution is a pure per-position map:
/// kernel_size 1, stride 1, padding 0 (explicit or valid), groups 1.
template <typename T>
Linear<T> to_linear(const Conv1d<T>& conv) {
  const Conv1dOptions& o = conv.options();
  // 'valid' pads nothing, and neither does 'same' with kernel 1.
  const bool zero_padding = !o.padding().is_explicit() || o.padding().values()[0] == 0;
  strata::detail::check(o.kernel_size()[0] == 1 && o.stride()[0] == 1 && zero_padding && o.groups() == 1,
                        "to_linear: expected a Conv1d with kernel_size=1, stride=1, padding=0 and groups=1, got ",
                        strata::detail::concat(conv));
  return strata::detail::layer_with_parameters<Linear<T>>(LinearOptions(o.in_channels(), o.out_channels()).bias(o.bias()),
                                                  conv.weight(), conv.bias());
}

/// The "global convolution" form of a fully connected layer that follows a
/// feature map of C x kh x kw (in_features == C*kh*kw): a Conv2d(C, out,
/// {kh, kw}) whose output on (N, C, kh, kw) is fc(x.reshape({N, -1})) as
/// (N, out, 1, 1). torch flattens (C, H, W) in that order, so the weight is a
/// plain reshape.
/// Example: `auto conv = strata::nn::to_conv2d(fc, 7, 7);  // Linear(7*7*512, 4096) -> Conv2d(512, 4096, 7)`
/// Throws strata::Error when kh or kw < 1 or in_features is not a multiple of kh*kw.
template <typename T>
Conv2d<T> to_conv2d(const Linear<T>& fc, index_t kh, index_t kw) {
  const LinearOptions& o = fc.options();
  strata::detail::check(kh >= 1 && kw >= 1, "to_conv2d: expected kernel sizes >= 1, got kh=", kh, ", kw=", kw);
  const index_t area = strata::detail::checked_mul(kh, kw, "to_conv2d");
  strata::detail::check(o.in_features() % area == 0, "to_conv2d: expected in_features (", o.in_features(),
                        ") to be channels * ", kh, " * ", kw, ", but it is not a multiple of ", area);
  return strata::detail::layer_with_parameters<Conv2d<T>>(
      Conv2dOptions(o.in_features() / area, o.out_features(), {kh, kw}).bias(o.bias()), fc.weight(), fc.bias());
}

}  // namespace nn

namespace detail {

/// The convolution layer class of rank D (Conv1d, Conv2d, Conv3d) and the
/// transposed one (ConvTranspose1d, ConvTranspose2d; no ConvTranspose3d, so
/// to_conv_transpose of a Conv3d does not compile).
template <std::size_t D, typename T>
struct ConvLayerOf;
template <typename T>
struct ConvLayerOf<1, T> {
  using type = nn::Conv1d<T>;
  using transposed = nn::ConvTranspose1d<T>;
};
template <typename T>
struct ConvLayerOf<2, T> {
  using type = nn::Conv2d<T>;
  using transposed = nn::ConvTranspose2d<T>;
};

/// The layer `Out` (built from `options` without drawing) with the weight of
/// `from` swapped and flipped (kernels::conv_transpose_swap_weight: a = the
/// weight's size(0) / groups) and the bias copied.
template <typename Out, typename Options, typename T>
Out conv_swapped_layer(const Options& options, const Tensor<T>& weight, const Tensor<T>& bias, index_t groups) {
  Out layer(options, nn::kSkipInit);
  const Tensor<T> w = weight.contiguous();
  const index_t taps = w.numel() / (w.size(0) * w.size(1));
  kernels::conv_transpose_swap_weight(w.data(), groups, w.size(0) / groups, w.size(1), taps, layer.weight().data());
  if (bias.defined()) layer.bias().copy_(bias);
  return layer;
}

}  // namespace detail

namespace nn {

/// The convolution that computes exactly what a stride-1 ConvTranspose1d /
/// ConvTranspose2d computes: same channels, groups, dilation and bias,
/// padding dilation*(k - 1) - padding in each dimension, and the weight
/// (in, out/groups, k...) turned into (out, in/groups, k...) with its kernel
/// flipped, so to_conv(m)(x) equals m(x) up to rounding (the same products,
/// summed in another order). Useful because a convolution runs on strata's
/// convolution kernels (Winograd, depthwise, ...) and fuses with BatchNorm
/// (fuse_conv_bn_eval). The new layer owns copies of the parameters.
/// Example: `strata::nn::Conv1d<float> conv = strata::nn::to_conv(strata::nn::ConvTranspose1d(4, 8, 3));  // padding 2`
/// Throws strata::Error unless stride is 1, output_padding 0 and padding <= dilation*(kernel - 1).
template <std::size_t D, typename T>
typename strata::detail::ConvLayerOf<D, T>::type to_conv(const ConvTranspose<D, T>& m) {
  const ConvTransposeOptions<D>& o = m.options();
  std::array<index_t, D> padding{};
  bool exact = true;
  for (std::size_t d = 0; d < D; ++d) {
    padding[d] = o.dilation()[d] * (o.kernel_size()[d] - 1) - o.padding()[d];
    exact = exact && o.stride()[d] == 1 && o.output_padding()[d] == 0 && padding[d] >= 0;
  }
  strata::detail::check(exact, "to_conv: expected a ConvTranspose with stride 1, output_padding 0 and padding <= "
                        "dilation * (kernel_size - 1), got ", strata::detail::concat(m));
  using Out = typename strata::detail::ConvLayerOf<D, T>::type;
  return strata::detail::conv_swapped_layer<Out>(ConvOptions<D>(o.in_channels(), o.out_channels(), o.kernel_size())
                                                     .padding(padding)
                                                     .dilation(o.dilation())
                                                     .groups(o.groups())
                                                     .bias(o.bias()),
                                                 m.weight(), m.bias(), o.groups());
}

/// The reverse of to_conv: the stride-1 ConvTranspose1d / ConvTranspose2d
/// that computes what a stride-1 Conv1d / Conv2d with zero padding p
/// (explicit, 'valid', or 'same' with an even total) computes, with padding
/// dilation*(k - 1) - p and the flipped, swapped weight; to_conv of it gives
/// the original weight back bit for bit.
/// Example: `auto up = strata::nn::to_conv_transpose(strata::nn::Conv2d(Conv2dOptions(4, 8, 3).padding(1)));`
/// Throws strata::Error for a stride > 1, another padding mode, an odd 'same'
/// split, or p > dilation*(kernel - 1).
template <std::size_t D, typename T>
typename strata::detail::ConvLayerOf<D, T>::transposed to_conv_transpose(const Conv<D, T>& m) {
  const ConvOptions<D>& o = m.options();
  std::array<index_t, D> padding{};
  bool exact = o.padding_mode() == PaddingMode::Zeros;
  for (std::size_t d = 0; d < D; ++d) {
    const index_t extent = o.dilation()[d] * (o.kernel_size()[d] - 1);
    // 'same' pads extent/2 on both sides when extent is even; 'valid' pads nothing.
    const index_t p = o.padding().is_explicit() ? o.padding().values()[d] : o.padding().is_same() ? extent / 2 : 0;
    padding[d] = extent - p;
    exact = exact && o.stride()[d] == 1 && padding[d] >= 0 && (!o.padding().is_same() || extent % 2 == 0);
  }
  strata::detail::check(exact, "to_conv_transpose: expected a Conv with stride 1, padding_mode zeros and the same "
                        "padding p <= dilation * (kernel_size - 1) on both sides, got ", strata::detail::concat(m));
  using Out = typename strata::detail::ConvLayerOf<D, T>::transposed;
  return strata::detail::conv_swapped_layer<Out>(
      ConvTransposeOptions<D>(o.in_channels(), o.out_channels(), o.kernel_size())
          .padding(padding)
          .dilation(o.dilation())
          .groups(o.groups())
          .bias(o.bias()),
      m.weight(), m.bias(), o.groups());
}

}  // namespace nn
}  // namespace strata
