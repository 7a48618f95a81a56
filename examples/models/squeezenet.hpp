#pragma once
// torchvision.models.squeezenet (torchvision 0.14) in strata: Fire, SqueezeNet,
// squeezenet1_0 and squeezenet1_1, with torchvision's module names
// ("features.3.expand3x3.weight", "classifier.1.bias"), so a state_dict PyTorch
// saved loads strictly as it is:
//
//   auto net = models::squeezenet1_1<float>();  // model = torchvision.models.squeezenet1_1()
//   net.load_state_dict(strata::io::load_pt<float>("squeezenet1_1.pt"));
//   auto logits = net.forward(images);           // [N, 3, H, W] -> [N, 1000]

#include <memory>
#include <string>

#include <strata/strata.hpp>

namespace models {
namespace squeezenet {  // torchvision.models.squeezenet

using strata::index_t;

/// SqueezeNet's Fire module: a 1x1 squeeze, then 1x1 and 3x3 expansions side
/// by side, concatenated along the channels.
/// (N, inplanes, H, W) -> (N, expand1x1_planes + expand3x3_planes, H, W).
/// Example: `Fire<float> fire(64, 16, 64, 64);  // [1, 64, 55, 55] -> [1, 128, 55, 55]`
/// Throws strata::Error from forward for an input with another channel count.
template <typename T = float>
class Fire : public strata::nn::Module<T> {
 public:
  Fire(index_t inplanes, index_t squeeze_planes, index_t expand1x1_planes, index_t expand3x3_planes) {
    using namespace strata::nn;
    squeeze = this->register_module("squeeze", Conv2d<T>(inplanes, squeeze_planes, 1));
    squeeze_activation = this->register_module("squeeze_activation", ReLU<T>());
    expand1x1 = this->register_module("expand1x1", Conv2d<T>(squeeze_planes, expand1x1_planes, 1));
    expand1x1_activation = this->register_module("expand1x1_activation", ReLU<T>());
    expand3x3 =
        this->register_module("expand3x3", Conv2d<T>(Conv2dOptions(squeeze_planes, expand3x3_planes, 3).padding(1)));
    expand3x3_activation = this->register_module("expand3x3_activation", ReLU<T>());
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    const strata::Tensor<T> x = squeeze_activation->forward(squeeze->forward(input));
    return strata::cat(
        {expand1x1_activation->forward(expand1x1->forward(x)), expand3x3_activation->forward(expand3x3->forward(x))},
        1);
  }

  std::string name() const override { return "Fire"; }

  std::shared_ptr<strata::nn::Conv2d<T>> squeeze, expand1x1, expand3x3;
  std::shared_ptr<strata::nn::ReLU<T>> squeeze_activation, expand1x1_activation, expand3x3_activation;
};

/// torchvision's SqueezeNet, version "1_0" or "1_1": convolutions, max
/// pooling with ceil_mode and Fire modules, then Dropout, a 1x1 convolution
/// to num_classes, ReLU and global average pooling. (N, 3, H, W) -> (N, num_classes).
/// Example: `SqueezeNet<float> net("1_1", 10);`
/// Throws strata::Error for another version, and from forward for an input
/// that is not (N, 3, H, W) or too small for the pools.
template <typename T = float>
class SqueezeNet : public strata::nn::Module<T> {
 public:
  explicit SqueezeNet(const std::string& version = "1_0", index_t num_classes = 1000, double dropout = 0.5) {
    using namespace strata::nn;
    auto pool = [] { return MaxPool2d<T>(MaxPool2dOptions(3).stride(2).ceil_mode(true)); };
    if (version == "1_0") {
      features = this->register_module(
          "features",
          Sequential<T>(Conv2d<T>(Conv2dOptions(3, 96, 7).stride(2)), ReLU<T>(), pool(), Fire<T>(96, 16, 64, 64),
                        Fire<T>(128, 16, 64, 64), Fire<T>(128, 32, 128, 128), pool(), Fire<T>(256, 32, 128, 128),
                        Fire<T>(256, 48, 192, 192), Fire<T>(384, 48, 192, 192), Fire<T>(384, 64, 256, 256), pool(),
                        Fire<T>(512, 64, 256, 256)));
    } else if (version == "1_1") {
      features = this->register_module(
          "features",
          Sequential<T>(Conv2d<T>(Conv2dOptions(3, 64, 3).stride(2)), ReLU<T>(), pool(), Fire<T>(64, 16, 64, 64),
                        Fire<T>(128, 16, 64, 64), pool(), Fire<T>(128, 32, 128, 128), Fire<T>(256, 32, 128, 128),
                        pool(), Fire<T>(256, 48, 192, 192), Fire<T>(384, 48, 192, 192), Fire<T>(384, 64, 256, 256),
                        Fire<T>(512, 64, 256, 256)));
    } else {
      throw strata::Error("SqueezeNet: Unsupported SqueezeNet version " + version + ": 1_0 or 1_1 expected");
    }
    classifier = this->register_module("classifier", Sequential<T>(Dropout<T>(dropout), Conv2d<T>(512, num_classes, 1),
                                                                   ReLU<T>(), AdaptiveAvgPool2d<T>({1, 1})));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    return classifier->forward(features->forward(input)).flatten(1);
  }

  std::string name() const override { return "SqueezeNet"; }

  std::shared_ptr<strata::nn::Sequential<T>> features, classifier;
};

/// SqueezeNet 1.0 (torchvision.models.squeezenet1_0): 1.2 M parameters with 1000 classes.
/// Example: `auto net = models::squeezenet1_0<float>();`
template <typename T = float>
SqueezeNet<T> squeezenet1_0(index_t num_classes = 1000) {
  return SqueezeNet<T>("1_0", num_classes);
}

/// SqueezeNet 1.1 (torchvision.models.squeezenet1_1): 1.2 M parameters, 2.4x less computation than 1.0.
/// Example: `auto net = models::squeezenet1_1<float>(10);`
template <typename T = float>
SqueezeNet<T> squeezenet1_1(index_t num_classes = 1000) {
  return SqueezeNet<T>("1_1", num_classes);
}

}  // namespace squeezenet

using squeezenet::SqueezeNet;
using squeezenet::squeezenet1_0;
using squeezenet::squeezenet1_1;

}  // namespace models
