#pragma once
// torchvision.models.resnet (torchvision 0.14) in strata: BasicBlock, ResNet,
// resnet18 and resnet34, with torchvision's module names ("layer1.0.conv1.weight",
// "layer2.0.downsample.1.running_var", "fc.bias"), so a state_dict PyTorch
// saved loads strictly as it is:
//
//   auto net = models::resnet18<float>();      // model = torchvision.models.resnet18()
//   net.load_state_dict(strata::io::load_safetensors<float>("resnet18.safetensors"));
//   auto logits = net.forward(images);          // [N, 3, H, W] -> [N, 1000]
//
// fuse_conv_bn() folds every BatchNorm into the convolution before it
// (strata::nn::fuse_conv_bn_eval), as torch.ao.quantization.fuse_modules does
// for deployment: call it once, after loading.

#include <memory>
#include <string>
#include <vector>

#include <strata/strata.hpp>

namespace models {
namespace resnet {  // torchvision.models.resnet

using strata::index_t;

/// 3x3 convolution with padding 1 and no bias (torchvision's conv3x3).
template <typename T>
strata::nn::Conv2d<T> conv3x3(index_t in_planes, index_t out_planes, index_t stride = 1) {
  return strata::nn::Conv2d<T>(
      strata::nn::Conv2dOptions(in_planes, out_planes, 3).stride(stride).padding(1).bias(false));
}

/// 1x1 convolution without bias (torchvision's conv1x1).
template <typename T>
strata::nn::Conv2d<T> conv1x1(index_t in_planes, index_t out_planes, index_t stride = 1) {
  return strata::nn::Conv2d<T>(strata::nn::Conv2dOptions(in_planes, out_planes, 1).stride(stride).bias(false));
}

/// bn(conv(x)), or the one folded convolution once fuse_conv_bn() has made it.
template <typename T>
strata::Tensor<T> conv_bn(const strata::nn::Conv2d<T>& conv, const strata::nn::BatchNorm2d<T>& bn,
                          const std::shared_ptr<strata::nn::Conv2d<T>>& fused, const strata::Tensor<T>& x) {
  return fused ? fused->forward(x) : bn.forward(conv.forward(x));
}

/// The folded Conv2d of a conv + bn pair, held apart from the registered layers
/// (state_dict() keeps listing the loaded, unfolded tensors).
template <typename T>
std::shared_ptr<strata::nn::Conv2d<T>> folded(const strata::nn::Conv2d<T>& conv, const strata::nn::BatchNorm2d<T>& bn) {
  return std::make_shared<strata::nn::Conv2d<T>>(strata::nn::fuse_conv_bn_eval(conv, bn));
}

/// torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity),
/// identity = downsample(x) when the block changes the stride or the width.
/// (N, inplanes, H, W) -> (N, planes, H / stride, W / stride).
/// Example: `BasicBlock<float> block(64, 128, 2, downsample);`
/// Throws strata::Error from forward for an input with another channel count.
template <typename T = float>
class BasicBlock : public strata::nn::Module<T> {
 public:
  BasicBlock(index_t inplanes, index_t planes, index_t stride = 1,
             std::shared_ptr<strata::nn::Sequential<T>> downsample_ = nullptr) {
    using namespace strata::nn;
    conv1 = this->register_module("conv1", conv3x3<T>(inplanes, planes, stride));
    bn1 = this->register_module("bn1", BatchNorm2d<T>(planes));
    relu = this->register_module("relu", ReLU<T>());
    conv2 = this->register_module("conv2", conv3x3<T>(planes, planes));
    bn2 = this->register_module("bn2", BatchNorm2d<T>(planes));
    if (downsample_) downsample = this->register_module("downsample", downsample_);
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    strata::Tensor<T> out = relu->forward(conv_bn(*conv1, *bn1, fused1_, x));
    out = conv_bn(*conv2, *bn2, fused2_, out);
    out += downsample ? conv_bn(downsample_conv(), downsample_bn(), fused_downsample_, x) : x;
    return relu->forward(out);
  }

  /// Folds bn1, bn2 and downsample's BatchNorm into their convolutions.
  void fuse_conv_bn() {
    fused1_ = folded(*conv1, *bn1);
    fused2_ = folded(*conv2, *bn2);
    if (downsample) fused_downsample_ = folded(downsample_conv(), downsample_bn());
  }

  std::string name() const override { return "BasicBlock"; }

  std::shared_ptr<strata::nn::Conv2d<T>> conv1, conv2;
  std::shared_ptr<strata::nn::BatchNorm2d<T>> bn1, bn2;
  std::shared_ptr<strata::nn::ReLU<T>> relu;
  std::shared_ptr<strata::nn::Sequential<T>> downsample;  ///< null when the block keeps the shape

 private:
  strata::nn::Conv2d<T>& downsample_conv() const { return downsample->template at<strata::nn::Conv2d<T>>(0); }
  strata::nn::BatchNorm2d<T>& downsample_bn() const { return downsample->template at<strata::nn::BatchNorm2d<T>>(1); }

  std::shared_ptr<strata::nn::Conv2d<T>> fused1_, fused2_, fused_downsample_;
};

/// torchvision's ResNet with BasicBlocks: a 7x7 stem, four stages of
/// `layers[i]` blocks (64, 128, 256, 512 planes), global average pooling and
/// fc. (N, 3, H, W) -> (N, num_classes); H and W of at least 1 (32 and up
/// keep every stage meaningful).
/// Example: `ResNet<float> net({2, 2, 2, 2}, 10);  // ResNet-18 for 10 classes`
/// Throws strata::Error for an input that is not (N, 3, H, W).
template <typename T = float>
class ResNet : public strata::nn::Module<T> {
 public:
  explicit ResNet(const std::vector<index_t>& layers, index_t num_classes = 1000) {
    using namespace strata::nn;
    if (layers.size() != 4) throw strata::Error("ResNet: expected 4 stage sizes, got " + std::to_string(layers.size()));
    conv1 = this->register_module("conv1", Conv2d<T>(Conv2dOptions(3, 64, 7).stride(2).padding(3).bias(false)));
    bn1 = this->register_module("bn1", BatchNorm2d<T>(64));
    relu = this->register_module("relu", ReLU<T>());
    maxpool = this->register_module("maxpool", MaxPool2d<T>(MaxPool2dOptions(3).stride(2).padding(1)));
    layer1 = this->register_module("layer1", make_layer(64, layers[0]));
    layer2 = this->register_module("layer2", make_layer(128, layers[1], 2));
    layer3 = this->register_module("layer3", make_layer(256, layers[2], 2));
    layer4 = this->register_module("layer4", make_layer(512, layers[3], 2));
    avgpool = this->register_module("avgpool", AdaptiveAvgPool2d<T>({1, 1}));
    fc = this->register_module("fc", Linear<T>(512, num_classes));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> x = maxpool->forward(relu->forward(conv_bn(*conv1, *bn1, fused1_, input)));
    x = layer4->forward(layer3->forward(layer2->forward(layer1->forward(x))));
    x = avgpool->forward(x).flatten(1);
    return fc->forward(x);
  }

  /// Folds every BatchNorm into the convolution before it, for inference:
  /// call once after load_state_dict (a later load does not refold).
  void fuse_conv_bn() {
    fused1_ = folded(*conv1, *bn1);
    for (const auto& layer : {layer1, layer2, layer3, layer4}) {
      for (std::size_t i = 0; i < layer->size(); ++i)
        layer->template at<BasicBlock<T>>(static_cast<index_t>(i)).fuse_conv_bn();
    }
  }

  std::string name() const override { return "ResNet"; }

  std::shared_ptr<strata::nn::Conv2d<T>> conv1;
  std::shared_ptr<strata::nn::BatchNorm2d<T>> bn1;
  std::shared_ptr<strata::nn::ReLU<T>> relu;
  std::shared_ptr<strata::nn::MaxPool2d<T>> maxpool;
  std::shared_ptr<strata::nn::Sequential<T>> layer1, layer2, layer3, layer4;
  std::shared_ptr<strata::nn::AdaptiveAvgPool2d<T>> avgpool;
  std::shared_ptr<strata::nn::Linear<T>> fc;

 private:
  /// torchvision's _make_layer: the first block may change stride and width.
  strata::nn::Sequential<T> make_layer(index_t planes, index_t blocks, index_t stride = 1) {
    std::shared_ptr<strata::nn::Sequential<T>> downsample;
    if (stride != 1 || inplanes_ != planes) {
      downsample = std::make_shared<strata::nn::Sequential<T>>(conv1x1<T>(inplanes_, planes, stride),
                                                               strata::nn::BatchNorm2d<T>(planes));
    }
    strata::nn::Sequential<T> layers;
    layers.push_back(BasicBlock<T>(inplanes_, planes, stride, downsample));
    inplanes_ = planes;
    for (index_t i = 1; i < blocks; ++i) layers.push_back(BasicBlock<T>(inplanes_, planes));
    return layers;
  }

  index_t inplanes_ = 64;
  std::shared_ptr<strata::nn::Conv2d<T>> fused1_;
};

/// ResNet-18 (torchvision.models.resnet18): 11.7 M parameters with 1000 classes.
/// Example: `auto net = models::resnet18<float>(10);`
template <typename T = float>
ResNet<T> resnet18(index_t num_classes = 1000) {
  return ResNet<T>({2, 2, 2, 2}, num_classes);
}

/// ResNet-34 (torchvision.models.resnet34): 21.8 M parameters with 1000 classes.
/// Example: `auto net = models::resnet34<float>();`
template <typename T = float>
ResNet<T> resnet34(index_t num_classes = 1000) {
  return ResNet<T>({3, 4, 6, 3}, num_classes);
}

}  // namespace resnet

using resnet::ResNet;
using resnet::resnet18;
using resnet::resnet34;

}  // namespace models
