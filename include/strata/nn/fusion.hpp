#pragma once
/// \file
/// strata::nn::fuse_conv_bn_eval: a convolution followed by a BatchNorm in
/// eval mode folded into one convolution, torch.nn.utils.fusion's
/// fuse_conv_bn_eval (Conv1d + BatchNorm1d, Conv2d + BatchNorm2d).

#include <cstddef>
#include <vector>

#include "strata/core/arithmetic.hpp"
#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/batchnorm.hpp"
#include "strata/nn/conv.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/functional/batchnorm.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace detail {

/// torch.nn.utils.fusion.fuse_conv_bn_weights, in torch's order of operations:
/// rsqrt = 1 / sqrt(running_var + eps), weight = conv_w * (bn_w * rsqrt) per
/// output channel, bias = (conv_b - running_mean) * rsqrt * bn_w + bn_b.
template <std::size_t D, typename Fused, typename T>
Fused fuse_conv_bn(const char* who, const nn::Conv<D, T>& conv, const nn::BatchNorm<D, T>& bn) {
  const char* bn_name = batch_norm_layer_name<D>();
  const nn::ConvOptions<D>& options = conv.options();
  check(bn.options().track_running_stats(), who, ": expected a ", bn_name,
        " with running statistics, got one built with track_running_stats=false");
  check(bn.options().num_features() == options.out_channels(), who, ": expected a ", bn_name, " of ",
        options.out_channels(), " features (the convolution's out_channels), got num_features=",
        bn.options().num_features());
  // Parameters and buffers are writable: refuse any that no longer have their layer's shape.
  const Shape weight_shape = conv_weight_shape<D>(options), channels{options.out_channels()};
  check(conv.weight().defined() && conv.weight().shape() == weight_shape, who, ": expected the convolution's weight ",
        "of shape ", weight_shape, ", got ", conv.weight().defined() ? to_string(conv.weight().shape()) : "undefined");
  auto check_channels = [&](const char* name, const Tensor<T>& t, bool required) {
    if (!required && !t.defined()) return;
    check(t.defined() && t.shape() == channels, who, ": expected ", name, " of shape ", channels, ", got ",
          t.defined() ? to_string(t.shape()) : "undefined");
  };
  check_channels("the convolution's bias", conv.bias(), options.bias());
  check_channels("running_mean", bn.running_mean(), true);
  check_channels("running_var", bn.running_var(), true);
  check_channels("the BatchNorm's weight", bn.weight(), bn.options().affine());
  check_channels("the BatchNorm's bias", bn.bias(), bn.options().affine());

  const index_t c = options.out_channels();
  const Tensor<T> conv_b = conv.bias().defined() ? conv.bias() : Tensor<T>::zeros({c});
  const Tensor<T> bn_w = bn.weight().defined() ? bn.weight() : Tensor<T>::ones({c});
  const Tensor<T> bn_b = bn.bias().defined() ? bn.bias() : Tensor<T>::zeros({c});
  const Tensor<T> rsqrt = batch_norm_inverse_std(bn.running_var(), bn.options().eps());
  std::vector<index_t> per_channel(D + 2, 1);
  per_channel[0] = c;

  nn::ConvOptions<D> fused_options = options;
  fused_options.bias(true);
  Fused fused(fused_options, nn::kSkipInit);
  fused.weight().copy_(conv.weight() * (bn_w * rsqrt).reshape(Shape(per_channel)));
  fused.bias().copy_((conv_b - bn.running_mean()) * rsqrt * bn_w + bn_b);
  return fused;
}

}  // namespace detail

namespace nn {

/// The Conv2d computing conv followed by bn in eval mode,
/// torch.nn.utils.fusion.fuse_conv_bn_eval: a new, independent layer with
/// conv's options and always a bias; conv and bn are left unchanged.
/// Example: `auto fused = strata::nn::fuse_conv_bn_eval(conv, bn);  // fused(x) ~ bn(conv(x))`
/// Throws strata::Error when bn has no running statistics
/// (track_running_stats=false) or a channel count other than conv's
/// out_channels, or when a parameter or buffer was set to a tensor of another shape.
template <typename T>
Conv2d<T> fuse_conv_bn_eval(const Conv2d<T>& conv, const BatchNorm2d<T>& bn) {
  return strata::detail::fuse_conv_bn<2, Conv2d<T>, T>("fuse_conv_bn_eval", conv, bn);
}

/// The Conv1d computing conv followed by bn in eval mode, as the Conv2d overload.
/// Example: `auto fused = strata::nn::fuse_conv_bn_eval(conv1d, bn1d);`
/// Throws strata::Error as the Conv2d overload does.
template <typename T>
Conv1d<T> fuse_conv_bn_eval(const Conv1d<T>& conv, const BatchNorm1d<T>& bn) {
  return strata::detail::fuse_conv_bn<1, Conv1d<T>, T>("fuse_conv_bn_eval", conv, bn);
}

}  // namespace nn
}  // namespace strata
