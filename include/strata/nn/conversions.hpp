#pragma once
/// \file
/// Conversions between a fully connected layer and the convolutions that
/// compute the same map: Linear <-> Conv1d with kernel 1 (a Linear applied at
/// every position of an (N, C, L) signal), and Linear -> Conv2d over a whole
/// C x kh x kw feature map (the "global convolution" of VGG's classifier).
/// The new layer gets copies of the parameters (no shared storage).

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/conv.hpp"
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
}  // namespace strata
