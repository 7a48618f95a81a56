#pragma once
// torchvision.models.mobilenetv2 (torchvision 0.14) in strata: InvertedResidual,
// MobileNetV2 and mobilenet_v2, with torchvision's module names
// ("features.1.conv.0.0.weight", "features.18.1.running_var", "classifier.1.bias"),
// so a state_dict PyTorch saved loads strictly as it is:
//
//   auto net = models::mobilenet_v2<float>();  // model = torchvision.models.mobilenet_v2()
//   net.load_state_dict(strata::io::load_safetensors<float>("mobilenet_v2.safetensors"));
//   auto logits = net.forward(images);          // [N, 3, H, W] -> [N, 1000]

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <strata/strata.hpp>

#include "misc.hpp"

namespace models {
namespace mobilenetv2 {  // torchvision.models.mobilenetv2

/// MobileNetV2's inverted residual: 1x1 expansion (when expand_ratio != 1),
/// 3x3 depthwise, 1x1 linear projection, plus the input when the block keeps
/// the shape (stride 1, inp == oup). (N, inp, H, W) -> (N, oup, H / stride, W / stride).
/// Example: `InvertedResidual<float> block(24, 32, 2, 6);`
/// Throws strata::Error for a stride other than 1 or 2, and from forward for
/// an input with another channel count.
template <typename T = float>
class InvertedResidual : public strata::nn::Module<T> {
 public:
  InvertedResidual(index_t inp, index_t oup, index_t stride, index_t expand_ratio) {
    using namespace strata::nn;
    if (stride != 1 && stride != 2)
      throw strata::Error("InvertedResidual: stride should be 1 or 2 instead of " + std::to_string(stride));
    const index_t hidden_dim = inp * expand_ratio;
    use_res_connect_ = stride == 1 && inp == oup;

    Sequential<T> layers;
    if (expand_ratio != 1) layers.push_back(conv2d_norm_activation<T>(inp, hidden_dim, 1, ReLU6<T>()));
    layers.push_back(conv2d_norm_activation<T>(hidden_dim, hidden_dim,
                                               ConvNormOptions(3).stride(stride).groups(hidden_dim), ReLU6<T>()));
    layers.push_back(Conv2d<T>(Conv2dOptions(hidden_dim, oup, 1).bias(false)));
    layers.push_back(BatchNorm2d<T>(oup));
    conv = this->register_module("conv", std::move(layers));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    const strata::nn::Sequential<T>& body = fused_ ? *fused_ : *conv;
    return use_res_connect_ ? x + body.forward(x) : body.forward(x);
  }

  /// Folds the block's BatchNorms into its convolutions (see MobileNetV2::fuse_conv_bn).
  void fuse_conv_bn() {
    fused_ = std::make_shared<strata::nn::Sequential<T>>(fold_batchnorms<T, strata::nn::ReLU6<T>>(*conv));
  }

  std::string name() const override { return "InvertedResidual"; }

  std::shared_ptr<strata::nn::Sequential<T>> conv;

 private:
  bool use_res_connect_ = false;
  std::shared_ptr<strata::nn::Sequential<T>> fused_;  ///< the folded copy of conv, once fuse_conv_bn() made it
};

/// torchvision's MobileNetV2: a stride-2 stem, 17 inverted residuals, a 1x1
/// conv to 1280 channels, global average pooling, Dropout(0.2) and Linear.
/// Channels are scaled by width_mult and rounded to multiples of 8.
/// (N, 3, H, W) -> (N, num_classes).
/// Example: `MobileNetV2<float> net(10);`
/// Throws strata::Error for an input that is not (N, 3, H, W).
template <typename T = float>
class MobileNetV2 : public strata::nn::Module<T> {
 public:
  explicit MobileNetV2(index_t num_classes = 1000, double width_mult = 1.0, double dropout = 0.2) {
    using namespace strata::nn;
    // t (expansion), c (output channels), n (repeats), s (first stride)
    const std::vector<std::array<index_t, 4>> inverted_residual_setting = {
        {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
    index_t input_channel = make_divisible(32 * width_mult, 8);
    last_channel = make_divisible(1280 * std::max(1.0, width_mult), 8);

    Sequential<T> layers;
    layers.push_back(conv2d_norm_activation<T>(3, input_channel, ConvNormOptions(3).stride(2), ReLU6<T>()));
    for (const auto& [t, c, n, s] : inverted_residual_setting) {
      const index_t output_channel = make_divisible(static_cast<double>(c) * width_mult, 8);
      for (index_t i = 0; i < n; ++i) {
        layers.push_back(InvertedResidual<T>(input_channel, output_channel, i == 0 ? s : 1, t));
        input_channel = output_channel;
      }
    }
    layers.push_back(conv2d_norm_activation<T>(input_channel, last_channel, 1, ReLU6<T>()));
    features = this->register_module("features", std::move(layers));
    classifier =
        this->register_module("classifier", Sequential<T>(Dropout<T>(dropout), Linear<T>(last_channel, num_classes)));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> x = (fused_features_ ? *fused_features_ : *features).forward(input);
    x = strata::nn::functional::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return classifier->forward(x);
  }

  /// Folds every BatchNorm into the convolution before it, for inference: call once after
  /// load_state_dict (a later load does not refold). state_dict() keeps listing the loaded tensors.
  void fuse_conv_bn() {
    for (std::size_t i = 0; i < features->size(); ++i) {
      if (auto block = std::dynamic_pointer_cast<InvertedResidual<T>>(features->ptr(static_cast<index_t>(i))))
        block->fuse_conv_bn();
    }
    fused_features_ = std::make_shared<strata::nn::Sequential<T>>(
        fold_batchnorms<T, strata::nn::ReLU6<T>, InvertedResidual<T>>(*features));
  }

  std::string name() const override { return "MobileNetV2"; }

  std::shared_ptr<strata::nn::Sequential<T>> features, classifier;
  index_t last_channel = 1280;

 private:
  std::shared_ptr<strata::nn::Sequential<T>> fused_features_;
};

/// MobileNetV2 (torchvision.models.mobilenet_v2): 3.5 M parameters with 1000 classes.
/// Example: `auto net = models::mobilenet_v2<float>(10);`
template <typename T = float>
MobileNetV2<T> mobilenet_v2(index_t num_classes = 1000) {
  return MobileNetV2<T>(num_classes);
}

}  // namespace mobilenetv2

using mobilenetv2::mobilenet_v2;
using mobilenetv2::MobileNetV2;

}  // namespace models
