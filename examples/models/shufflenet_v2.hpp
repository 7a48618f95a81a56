#pragma once
// torchvision.models.shufflenetv2 (torchvision 0.14) in strata: channel_shuffle,
// InvertedResidual, ShuffleNetV2 and shufflenet_v2_x0_5 / x1_0 / x1_5 / x2_0,
// with torchvision's module names ("stage2.0.branch1.2.weight", "conv5.1.running_mean",
// "fc.weight"), so a state_dict PyTorch saved loads strictly as it is:
//
//   auto net = models::shufflenet_v2_x1_0<float>();  // torchvision.models.shufflenet_v2_x1_0()
//   net.load_state_dict(strata::io::load_safetensors<float>("shufflenet_v2_x1_0.safetensors"));
//   auto logits = net.forward(images);                // [N, 3, H, W] -> [N, 1000]

#include <memory>
#include <string>
#include <vector>

#include <strata/strata.hpp>

namespace models {
namespace shufflenetv2 {  // torchvision.models.shufflenetv2

using strata::index_t;

/// Interleaves the channels of `groups` groups: (N, C, H, W) viewed as
/// (N, groups, C / groups, H, W), transposed to (N, C / groups, groups, H, W)
/// and made contiguous, then viewed as (N, C, H, W) again.
/// Example: `channel_shuffle(x, 2);  // channels 0 1 2 3 -> 0 2 1 3`
template <typename T>
strata::Tensor<T> channel_shuffle(const strata::Tensor<T>& x, index_t groups) {
  const index_t batchsize = x.size(0), num_channels = x.size(1), height = x.size(2), width = x.size(3);
  const index_t channels_per_group = num_channels / groups;
  strata::Tensor<T> y = x.reshape({batchsize, groups, channels_per_group, height, width});
  y = y.transpose(1, 2).contiguous();
  return y.reshape({batchsize, -1, height, width});
}

/// 3x3 depthwise convolution without bias (torchvision's depthwise_conv).
template <typename T>
strata::nn::Conv2d<T> depthwise_conv(index_t i, index_t o, index_t stride) {
  return strata::nn::Conv2d<T>(strata::nn::Conv2dOptions(i, o, 3).stride(stride).padding(1).groups(i).bias(false));
}

/// 1x1 convolution without bias.
template <typename T>
strata::nn::Conv2d<T> pointwise_conv(index_t i, index_t o) {
  return strata::nn::Conv2d<T>(strata::nn::Conv2dOptions(i, o, 1).bias(false));
}

/// ShuffleNetV2's unit: with stride 1, half the channels pass through and
/// branch2 transforms the other half; with stride 2, branch1 and branch2 both
/// downsample the whole input. The halves are concatenated, then shuffled.
/// (N, inp, H, W) -> (N, oup, H / stride, W / stride).
/// Example: `InvertedResidual<float> unit(24, 116, 2);`
/// Throws strata::Error for a stride outside [1, 3] or, with stride 1, inp != oup,
/// and from forward for an input with another channel count.
template <typename T = float>
class InvertedResidual : public strata::nn::Module<T> {
 public:
  InvertedResidual(index_t inp, index_t oup, index_t stride) : stride_(stride) {
    using namespace strata::nn;
    if (stride < 1 || stride > 3) throw strata::Error("InvertedResidual: illegal stride value");
    const index_t branch_features = oup / 2;
    if (stride == 1 && inp != branch_features * 2) {
      throw strata::Error("InvertedResidual: Invalid combination of stride " + std::to_string(stride) + ", inp " +
                          std::to_string(inp) + " and oup " + std::to_string(oup) +
                          " values. If stride == 1 then inp should be equal to oup // 2 << 1.");
    }
    Sequential<T> b1;
    if (stride > 1) {
      b1 = Sequential<T>(depthwise_conv<T>(inp, inp, stride), BatchNorm2d<T>(inp),
                         pointwise_conv<T>(inp, branch_features), BatchNorm2d<T>(branch_features), ReLU<T>());
    }
    branch1 = this->register_module("branch1", std::move(b1));  // empty with stride 1, as in torchvision
    branch2 = this->register_module(
        "branch2",
        Sequential<T>(pointwise_conv<T>(stride > 1 ? inp : branch_features, branch_features),
                      BatchNorm2d<T>(branch_features), ReLU<T>(),
                      depthwise_conv<T>(branch_features, branch_features, stride), BatchNorm2d<T>(branch_features),
                      pointwise_conv<T>(branch_features, branch_features), BatchNorm2d<T>(branch_features), ReLU<T>()));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    strata::Tensor<T> out;
    if (stride_ == 1) {
      const std::vector<strata::Tensor<T>> halves = x.chunk(2, 1);
      out = strata::cat({halves[0], branch2->forward(halves[1])}, 1);
    } else {
      out = strata::cat({branch1->forward(x), branch2->forward(x)}, 1);
    }
    return channel_shuffle(out, 2);
  }

  std::string name() const override { return "InvertedResidual"; }

  std::shared_ptr<strata::nn::Sequential<T>> branch1, branch2;

 private:
  index_t stride_;
};

/// torchvision's ShuffleNetV2: a stride-2 3x3 stem and max pooling, three
/// stages of shuffle units, a 1x1 conv, the mean over H and W, and fc.
/// stages_out_channels gives the widths of the stem, the three stages and conv5.
/// (N, 3, H, W) -> (N, num_classes).
/// Example: `ShuffleNetV2<float> net({4, 8, 4}, {24, 116, 232, 464, 1024}, 10);  // x1.0`
/// Throws strata::Error for 3 stage repeats or 5 widths not given, and from
/// forward for an input that is not (N, 3, H, W).
template <typename T = float>
class ShuffleNetV2 : public strata::nn::Module<T> {
 public:
  ShuffleNetV2(const std::vector<index_t>& stages_repeats, const std::vector<index_t>& stages_out_channels,
               index_t num_classes = 1000) {
    using namespace strata::nn;
    if (stages_repeats.size() != 3)
      throw strata::Error("ShuffleNetV2: expected stages_repeats as list of 3 positive ints");
    if (stages_out_channels.size() != 5)
      throw strata::Error("ShuffleNetV2: expected stages_out_channels as list of 5 positive ints");
    index_t input_channels = 3, output_channels = stages_out_channels[0];
    conv1 = this->register_module(
        "conv1",
        Sequential<T>(Conv2d<T>(Conv2dOptions(input_channels, output_channels, 3).stride(2).padding(1).bias(false)),
                      BatchNorm2d<T>(output_channels), ReLU<T>()));
    input_channels = output_channels;
    maxpool = this->register_module("maxpool", MaxPool2d<T>(MaxPool2dOptions(3).stride(2).padding(1)));

    stage2 = this->register_module("stage2", make_stage(input_channels, stages_out_channels[1], stages_repeats[0]));
    stage3 = this->register_module("stage3", make_stage(input_channels, stages_out_channels[2], stages_repeats[1]));
    stage4 = this->register_module("stage4", make_stage(input_channels, stages_out_channels[3], stages_repeats[2]));
    output_channels = stages_out_channels[4];
    conv5 = this->register_module("conv5", Sequential<T>(pointwise_conv<T>(input_channels, output_channels),
                                                         BatchNorm2d<T>(output_channels), ReLU<T>()));
    fc = this->register_module("fc", Linear<T>(output_channels, num_classes));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> x = maxpool->forward(conv1->forward(input));
    x = conv5->forward(stage4->forward(stage3->forward(stage2->forward(x))));
    x = x.mean({2, 3});  // globalpool
    return fc->forward(x);
  }

  std::string name() const override { return "ShuffleNetV2"; }

  std::shared_ptr<strata::nn::Sequential<T>> conv1, stage2, stage3, stage4, conv5;
  std::shared_ptr<strata::nn::MaxPool2d<T>> maxpool;
  std::shared_ptr<strata::nn::Linear<T>> fc;

 private:
  /// A stride-2 unit, then repeats - 1 stride-1 units; input_channels becomes output_channels.
  static strata::nn::Sequential<T> make_stage(index_t& input_channels, index_t output_channels, index_t repeats) {
    strata::nn::Sequential<T> seq;
    seq.push_back(InvertedResidual<T>(input_channels, output_channels, 2));
    for (index_t i = 0; i < repeats - 1; ++i) seq.push_back(InvertedResidual<T>(output_channels, output_channels, 1));
    input_channels = output_channels;
    return seq;
  }
};

/// ShuffleNetV2 x0.5 (torchvision.models.shufflenet_v2_x0_5): 1.4 M parameters with 1000 classes.
template <typename T = float>
ShuffleNetV2<T> shufflenet_v2_x0_5(index_t num_classes = 1000) {
  return ShuffleNetV2<T>({4, 8, 4}, {24, 48, 96, 192, 1024}, num_classes);
}
/// ShuffleNetV2 x1.0 (torchvision.models.shufflenet_v2_x1_0): 2.3 M parameters with 1000 classes.
/// Example: `auto net = models::shufflenet_v2_x1_0<float>(10);`
template <typename T = float>
ShuffleNetV2<T> shufflenet_v2_x1_0(index_t num_classes = 1000) {
  return ShuffleNetV2<T>({4, 8, 4}, {24, 116, 232, 464, 1024}, num_classes);
}
/// ShuffleNetV2 x1.5 (torchvision.models.shufflenet_v2_x1_5): 3.5 M parameters with 1000 classes.
template <typename T = float>
ShuffleNetV2<T> shufflenet_v2_x1_5(index_t num_classes = 1000) {
  return ShuffleNetV2<T>({4, 8, 4}, {24, 176, 352, 704, 1024}, num_classes);
}
/// ShuffleNetV2 x2.0 (torchvision.models.shufflenet_v2_x2_0): 7.4 M parameters with 1000 classes.
template <typename T = float>
ShuffleNetV2<T> shufflenet_v2_x2_0(index_t num_classes = 1000) {
  return ShuffleNetV2<T>({4, 8, 4}, {24, 244, 488, 976, 2048}, num_classes);
}

}  // namespace shufflenetv2

using shufflenetv2::shufflenet_v2_x0_5;
using shufflenetv2::shufflenet_v2_x1_0;
using shufflenetv2::shufflenet_v2_x1_5;
using shufflenetv2::shufflenet_v2_x2_0;
using shufflenetv2::ShuffleNetV2;

}  // namespace models
