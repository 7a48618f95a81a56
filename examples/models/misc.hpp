#pragma once
// The building blocks torchvision's classifiers share (torchvision/ops/misc.py
// and torchvision/models/_utils.py, torchvision 0.14), written with strata's
// public API: Conv2dNormActivation, SqueezeExcitation and _make_divisible.
// The models in this directory include this file; their module names are
// torchvision's, so a state_dict saved by PyTorch loads as it is.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include <strata/strata.hpp>

namespace models {

using strata::index_t;

/// torchvision.models._utils._make_divisible: v rounded to the nearest
/// multiple of `divisor` (at least `divisor`), never more than 10% below v.
/// Example: `make_divisible(32 * 0.75, 8) == 24`
inline index_t make_divisible(double v, index_t divisor) {
  index_t new_v = std::max(divisor, static_cast<index_t>(v + static_cast<double>(divisor) / 2) / divisor * divisor);
  if (static_cast<double>(new_v) < 0.9 * v) new_v += divisor;
  return new_v;
}

/// The options of a Conv2dNormActivation, torchvision's keyword arguments as
/// chained setters: kernel_size (3), stride (1), groups (1), and the
/// BatchNorm's eps (1e-5) and momentum (0.1; printing only), which
/// MobileNetV3 sets to 0.001 and 0.01.
/// Example: `ConvNormOptions(3).stride(2).groups(96)`
class ConvNormOptions {
 public:
  ConvNormOptions(index_t kernel_size = 3) : kernel_size_(kernel_size) {}  // NOLINT: implicit, like libtorch's options
  ConvNormOptions& stride(index_t v) {
    stride_ = v;
    return *this;
  }
  ConvNormOptions& groups(index_t v) {
    groups_ = v;
    return *this;
  }
  ConvNormOptions& eps(double v) {
    eps_ = v;
    return *this;
  }
  ConvNormOptions& momentum(double v) {
    momentum_ = v;
    return *this;
  }

  /// Conv2d(in, out, kernel_size, stride, padding=(kernel_size - 1) / 2, groups, bias=False).
  template <typename T>
  strata::nn::Conv2d<T> conv(index_t in, index_t out) const {
    return strata::nn::Conv2d<T>(strata::nn::Conv2dOptions(in, out, kernel_size_)
                                     .stride(stride_)
                                     .padding((kernel_size_ - 1) / 2)
                                     .groups(groups_)
                                     .bias(false));
  }
  /// BatchNorm2d(out, eps, momentum).
  template <typename T>
  strata::nn::BatchNorm2d<T> norm(index_t out) const {
    return strata::nn::BatchNorm2d<T>(strata::nn::BatchNorm2dOptions(out).eps(eps_).momentum(momentum_));
  }

 private:
  index_t kernel_size_, stride_ = 1, groups_ = 1;
  double eps_ = 1e-5, momentum_ = 0.1;
};

/// torchvision.ops.Conv2dNormActivation: Conv2d -> BatchNorm2d -> `activation`,
/// a Sequential whose children are "0", "1", "2" as in torchvision (keys
/// "0.weight", "1.running_mean", ...). (N, in, H, W) -> (N, out, H / stride, W / stride).
/// Example: `auto stem = conv2d_norm_activation<float>(3, 32, ConvNormOptions(3).stride(2), ReLU6<float>());`
/// Throws strata::Error as Conv2d and BatchNorm2d do.
template <typename T, typename Activation>
strata::nn::Sequential<T> conv2d_norm_activation(index_t in, index_t out, const ConvNormOptions& o,
                                                 Activation activation) {
  return strata::nn::Sequential<T>(o.conv<T>(in, out), o.norm<T>(out), std::move(activation));
}

/// Conv2dNormActivation with activation_layer=None: Conv2d -> BatchNorm2d.
/// Example: `auto project = conv2d_norm<float>(96, 24, ConvNormOptions(1));`
template <typename T>
strata::nn::Sequential<T> conv2d_norm(index_t in, index_t out, const ConvNormOptions& o) {
  return strata::nn::Sequential<T>(o.conv<T>(in, out), o.norm<T>(out));
}

/// Appends `child` to `out` when it is an M (shared, not copied); false otherwise.
template <typename M, typename T>
bool push_back_as(strata::nn::Sequential<T>& out, const std::shared_ptr<strata::nn::Module<T>>& child) {
  const std::shared_ptr<M> typed = std::dynamic_pointer_cast<M>(child);
  if (typed) out.push_back(typed);
  return typed != nullptr;
}

/// A chain computing what `seq` computes in eval mode with every Conv2d -> BatchNorm2d pair folded
/// into one Conv2d (strata::nn::fuse_conv_bn_eval), nested Sequentials (Conv2dNormActivation)
/// folded alike; children of the types `Kept` (activations, blocks) are shared into it as they are.
/// For inference, once after load_state_dict: `seq` itself is left unchanged.
/// Example: `auto folded = fold_batchnorms<float, ReLU6<float>>(conv);  // Conv2d, ReLU6, Conv2d`
/// Throws strata::Error for a child of another type.
template <typename T, typename... Kept>
strata::nn::Sequential<T> fold_batchnorms(const strata::nn::Sequential<T>& seq) {
  using namespace strata::nn;
  Sequential<T> out;
  const auto n = static_cast<index_t>(seq.size());
  for (index_t i = 0; i < n; ++i) {
    const std::shared_ptr<Module<T>> child = seq.ptr(i);
    if (const auto conv = std::dynamic_pointer_cast<Conv2d<T>>(child)) {
      const auto bn = i + 1 < n ? std::dynamic_pointer_cast<BatchNorm2d<T>>(seq.ptr(i + 1)) : nullptr;
      if (bn) {
        out.push_back(fuse_conv_bn_eval(*conv, *bn));
        ++i;
      } else {
        out.push_back(conv);
      }
    } else if (const auto inner = std::dynamic_pointer_cast<Sequential<T>>(child)) {
      out.push_back(fold_batchnorms<T, Kept...>(*inner));
    } else if (!(push_back_as<Kept>(out, child) || ...)) {
      throw strata::Error("fold_batchnorms: child " + std::to_string(i) + " is a " + child->name() +
                          ", not a type to keep");
    }
  }
  return out;
}

/// torchvision.ops.SqueezeExcitation: the input times a per-channel gate
/// scale_activation(fc2(activation(fc1(mean over H, W)))), fc1 and fc2 1x1
/// convolutions with bias. (torchvision's avgpool child, AdaptiveAvgPool2d(1),
/// is that mean; it has no parameters.) (N, C, H, W) -> (N, C, H, W).
/// Example: `SqueezeExcitation<float, ReLU<float>, Hardsigmoid<float>> se(96, 24);`
/// Throws strata::Error when the input does not have `input_channels` channels.
template <typename T, typename Activation = strata::nn::ReLU<T>, typename ScaleActivation = strata::nn::Sigmoid<T>>
class SqueezeExcitation : public strata::nn::Module<T> {
 public:
  SqueezeExcitation(index_t input_channels, index_t squeeze_channels) {
    using strata::nn::Conv2d;
    fc1 = this->register_module("fc1", Conv2d<T>(input_channels, squeeze_channels, 1));
    fc2 = this->register_module("fc2", Conv2d<T>(squeeze_channels, input_channels, 1));
    activation = this->register_module("activation", Activation());
    scale_activation = this->register_module("scale_activation", ScaleActivation());
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> scale = input.mean({2, 3}, /*keepdim=*/true);  // (N, C, 1, 1)
    scale = scale_activation->forward(fc2->forward(activation->forward(fc1->forward(scale))));
    return scale * input;  // broadcasts over H, W
  }

  std::string name() const override { return "SqueezeExcitation"; }

  std::shared_ptr<strata::nn::Conv2d<T>> fc1, fc2;
  std::shared_ptr<Activation> activation;
  std::shared_ptr<ScaleActivation> scale_activation;
};

}  // namespace models
