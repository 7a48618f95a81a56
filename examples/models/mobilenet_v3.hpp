#pragma once
// torchvision.models.mobilenetv3 (torchvision 0.14) in strata:
// InvertedResidualConfig, InvertedResidual, MobileNetV3, mobilenet_v3_small and
// mobilenet_v3_large, with torchvision's module names
// ("features.1.block.1.fc1.weight", "features.12.0.weight", "classifier.3.bias"),
// so a state_dict PyTorch saved loads strictly as it is:
//
//   auto net = models::mobilenet_v3_small<float>();  // torchvision.models.mobilenet_v3_small()
//   net.load_state_dict(strata::io::load_safetensors<float>("mobilenet_v3_small.safetensors"));
//   auto logits = net.forward(images);                // [N, 3, H, W] -> [N, 1000]

#include <memory>
#include <string>
#include <vector>

#include <strata/strata.hpp>

#include "misc.hpp"

namespace models {
namespace mobilenetv3 {  // torchvision.models.mobilenetv3

/// One row of MobileNetV3's table (width_mult 1): input, kernel, expanded and
/// output channels, squeeze-excitation, Hardswish ("HS") or ReLU ("RE"), stride.
struct InvertedResidualConfig {
  index_t input_channels, kernel, expanded_channels, out_channels;
  bool use_se, use_hs;
  index_t stride;
};

/// MobileNetV3's BatchNorm: partial(nn.BatchNorm2d, eps=0.001, momentum=0.01).
inline ConvNormOptions norm_options(index_t kernel_size) {
  return ConvNormOptions(kernel_size).eps(0.001).momentum(0.01);
}

/// MobileNetV3's inverted residual: 1x1 expansion (when the width changes),
/// kxk depthwise, squeeze-excitation (ReLU, Hardsigmoid), 1x1 linear
/// projection, plus the input when the block keeps the shape.
/// (N, input_channels, H, W) -> (N, out_channels, H / stride, W / stride).
/// Example: `InvertedResidual<float> block({16, 3, 72, 24, false, false, 2});`
/// Throws strata::Error from forward for an input with another channel count.
template <typename T = float>
class InvertedResidual : public strata::nn::Module<T> {
 public:
  explicit InvertedResidual(const InvertedResidualConfig& cnf) {
    using namespace strata::nn;
    use_res_connect_ = cnf.stride == 1 && cnf.input_channels == cnf.out_channels;
    // One Conv2dNormActivation with the block's activation layer.
    auto conv_norm_act = [&](index_t in, index_t out, const ConvNormOptions& o) {
      return cnf.use_hs ? conv2d_norm_activation<T>(in, out, o, Hardswish<T>())
                        : conv2d_norm_activation<T>(in, out, o, ReLU<T>());
    };

    Sequential<T> layers;
    if (cnf.expanded_channels != cnf.input_channels)
      layers.push_back(conv_norm_act(cnf.input_channels, cnf.expanded_channels, norm_options(1)));
    layers.push_back(conv_norm_act(cnf.expanded_channels, cnf.expanded_channels,
                                   norm_options(cnf.kernel).stride(cnf.stride).groups(cnf.expanded_channels)));
    if (cnf.use_se) {
      const index_t squeeze_channels = make_divisible(static_cast<double>(cnf.expanded_channels / 4), 8);
      layers.push_back(SqueezeExcitation<T, ReLU<T>, Hardsigmoid<T>>(cnf.expanded_channels, squeeze_channels));
    }
    layers.push_back(conv2d_norm<T>(cnf.expanded_channels, cnf.out_channels, norm_options(1)));
    block = this->register_module("block", std::move(layers));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> result = block->forward(input);
    if (use_res_connect_) result += input;
    return result;
  }

  std::string name() const override { return "InvertedResidual"; }

  std::shared_ptr<strata::nn::Sequential<T>> block;

 private:
  bool use_res_connect_ = false;
};

/// torchvision's MobileNetV3: a stride-2 Hardswish stem, the inverted
/// residuals of `setting`, a 1x1 conv to 6x the last width, global average
/// pooling and the classifier Linear -> Hardswish -> Dropout -> Linear.
/// (N, 3, H, W) -> (N, num_classes).
/// Example: `auto net = mobilenet_v3_small<float>(10);`
/// Throws strata::Error for an empty setting, and from forward for an input
/// that is not (N, 3, H, W).
template <typename T = float>
class MobileNetV3 : public strata::nn::Module<T> {
 public:
  MobileNetV3(const std::vector<InvertedResidualConfig>& setting, index_t last_channel, index_t num_classes = 1000,
              double dropout = 0.2) {
    using namespace strata::nn;
    if (setting.empty()) throw strata::Error("MobileNetV3: The inverted_residual_setting should not be empty");
    Sequential<T> layers;
    layers.push_back(
        conv2d_norm_activation<T>(3, setting.front().input_channels, norm_options(3).stride(2), Hardswish<T>()));
    for (const InvertedResidualConfig& cnf : setting) layers.push_back(InvertedResidual<T>(cnf));
    const index_t lastconv_input_channels = setting.back().out_channels;
    const index_t lastconv_output_channels = 6 * lastconv_input_channels;
    layers.push_back(
        conv2d_norm_activation<T>(lastconv_input_channels, lastconv_output_channels, norm_options(1), Hardswish<T>()));
    features = this->register_module("features", std::move(layers));
    avgpool = this->register_module("avgpool", AdaptiveAvgPool2d<T>(1));
    classifier = this->register_module("classifier",
                                       Sequential<T>(Linear<T>(lastconv_output_channels, last_channel), Hardswish<T>(),
                                                     Dropout<T>(dropout), Linear<T>(last_channel, num_classes)));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> x = avgpool->forward(features->forward(input)).flatten(1);
    return classifier->forward(x);
  }

  std::string name() const override { return "MobileNetV3"; }

  std::shared_ptr<strata::nn::Sequential<T>> features, classifier;
  std::shared_ptr<strata::nn::AdaptiveAvgPool2d<T>> avgpool;
};

/// MobileNetV3-Small (torchvision.models.mobilenet_v3_small): 2.5 M parameters with 1000 classes.
/// Example: `auto net = models::mobilenet_v3_small<float>(10);`
template <typename T = float>
MobileNetV3<T> mobilenet_v3_small(index_t num_classes = 1000) {
  constexpr bool RE = false, HS = true;
  return MobileNetV3<T>({{16, 3, 16, 16, true, RE, 2},
                         {16, 3, 72, 24, false, RE, 2},
                         {24, 3, 88, 24, false, RE, 1},
                         {24, 5, 96, 40, true, HS, 2},
                         {40, 5, 240, 40, true, HS, 1},
                         {40, 5, 240, 40, true, HS, 1},
                         {40, 5, 120, 48, true, HS, 1},
                         {48, 5, 144, 48, true, HS, 1},
                         {48, 5, 288, 96, true, HS, 2},
                         {96, 5, 576, 96, true, HS, 1},
                         {96, 5, 576, 96, true, HS, 1}},
                        1024, num_classes);
}

/// MobileNetV3-Large (torchvision.models.mobilenet_v3_large): 5.5 M parameters with 1000 classes.
/// Example: `auto net = models::mobilenet_v3_large<float>();`
template <typename T = float>
MobileNetV3<T> mobilenet_v3_large(index_t num_classes = 1000) {
  constexpr bool RE = false, HS = true;
  return MobileNetV3<T>({{16, 3, 16, 16, false, RE, 1},
                         {16, 3, 64, 24, false, RE, 2},
                         {24, 3, 72, 24, false, RE, 1},
                         {24, 5, 72, 40, true, RE, 2},
                         {40, 5, 120, 40, true, RE, 1},
                         {40, 5, 120, 40, true, RE, 1},
                         {40, 3, 240, 80, false, HS, 2},
                         {80, 3, 200, 80, false, HS, 1},
                         {80, 3, 184, 80, false, HS, 1},
                         {80, 3, 184, 80, false, HS, 1},
                         {80, 3, 480, 112, true, HS, 1},
                         {112, 3, 672, 112, true, HS, 1},
                         {112, 5, 672, 160, true, HS, 2},
                         {160, 5, 960, 160, true, HS, 1},
                         {160, 5, 960, 160, true, HS, 1}},
                        1280, num_classes);
}

}  // namespace mobilenetv3

using mobilenetv3::mobilenet_v3_large;
using mobilenetv3::mobilenet_v3_small;
using mobilenetv3::MobileNetV3;

}  // namespace models
