#pragma once
// A 1-D CNN for multichannel signals (ECG leads, accelerometer axes) built of
// the torchvision classifiers' blocks in 1-D: a Conv-BN-ReLU stem, max
// pooling, two residual blocks (the second with a downsample), a
// squeeze-excitation gate, a two-branch multi-scale block concatenated
// along the channels (one branch dilated), average pooling and a
// Dropout + Linear head. Its PyTorch twin, with the same module names, is
// SignalCNN in tests/reference/generate_torchvision_models.py:
//
//   class SignalCNN(nn.Module):                       // models::SignalCNN<T>
//     def __init__(self, in_channels=2, num_classes=5):
//       self.stem = nn.Sequential(nn.Conv1d(in_channels, 16, 7, 2, 3, bias=False), nn.BatchNorm1d(16), nn.ReLU())
//       self.pool = nn.MaxPool1d(3, 2, 1)
//       self.layer1 = ResBlock1d(16, 16, 1)
//       self.layer2 = ResBlock1d(16, 32, 2)
//       self.se = SqueezeExcitation1d(32, 8)
//       self.mixed = MultiScale1d(32, 24)
//       self.avgpool = nn.AvgPool1d(3, 2, 1, count_include_pad=False)
//       self.head = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(48, num_classes))
//     def forward(self, x):
//       x = self.se(self.layer2(self.layer1(self.pool(self.stem(x)))))
//       return self.head(self.avgpool(self.mixed(x)))

#include <memory>
#include <string>

#include <strata/strata.hpp>

namespace models {
namespace signal_cnn {

using strata::index_t;

/// Conv1d without bias, `padding` on both sides.
template <typename T>
strata::nn::Conv1d<T> conv1d(index_t in, index_t out, index_t kernel_size, index_t stride = 1, index_t padding = 0,
                             index_t dilation = 1) {
  return strata::nn::Conv1d<T>(
      strata::nn::Conv1dOptions(in, out, kernel_size).stride(stride).padding(padding).dilation(dilation).bias(false));
}

/// ResNet's BasicBlock in 1-D with kernel 5: relu(bn2(conv2(relu(bn1(conv1(x))))) + identity),
/// identity = downsample(x) (1x1 conv + BatchNorm1d) when the stride or width changes.
/// (N, inp, L) -> (N, out, ceil(L / stride)).
/// Example: `ResBlock1d<float> block(16, 32, 2);`
template <typename T = float>
class ResBlock1d : public strata::nn::Module<T> {
 public:
  ResBlock1d(index_t inp, index_t out, index_t stride) {
    using namespace strata::nn;
    conv1 = this->register_module("conv1", conv1d<T>(inp, out, 5, stride, 2));
    bn1 = this->register_module("bn1", BatchNorm1d<T>(out));
    relu = this->register_module("relu", ReLU<T>());
    conv2 = this->register_module("conv2", conv1d<T>(out, out, 5, 1, 2));
    bn2 = this->register_module("bn2", BatchNorm1d<T>(out));
    if (stride != 1 || inp != out)
      downsample =
          this->register_module("downsample", Sequential<T>(conv1d<T>(inp, out, 1, stride), BatchNorm1d<T>(out)));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    strata::Tensor<T> out = bn2->forward(conv2->forward(relu->forward(bn1->forward(conv1->forward(x)))));
    out += downsample ? downsample->forward(x) : x;
    return relu->forward(out);
  }

  std::string name() const override { return "ResBlock1d"; }

  std::shared_ptr<strata::nn::Conv1d<T>> conv1, conv2;
  std::shared_ptr<strata::nn::BatchNorm1d<T>> bn1, bn2;
  std::shared_ptr<strata::nn::ReLU<T>> relu;
  std::shared_ptr<strata::nn::Sequential<T>> downsample;
};

/// torchvision's SqueezeExcitation in 1-D, with MobileNetV3's activations:
/// x * hardsigmoid(fc2(relu(fc1(mean over L)))). (N, C, L) -> (N, C, L).
/// Example: `SqueezeExcitation1d<float> se(32, 8);`
template <typename T = float>
class SqueezeExcitation1d : public strata::nn::Module<T> {
 public:
  SqueezeExcitation1d(index_t channels, index_t squeeze_channels) {
    using namespace strata::nn;
    fc1 = this->register_module("fc1", Conv1d<T>(Conv1dOptions(channels, squeeze_channels, 1)));
    fc2 = this->register_module("fc2", Conv1d<T>(Conv1dOptions(squeeze_channels, channels, 1)));
    activation = this->register_module("activation", ReLU<T>());
    scale_activation = this->register_module("scale_activation", Hardsigmoid<T>());
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    const strata::Tensor<T> scale = x.mean({2}, /*keepdim=*/true);  // (N, C, 1)
    return scale_activation->forward(fc2->forward(activation->forward(fc1->forward(scale)))) * x;
  }

  std::string name() const override { return "SqueezeExcitation1d"; }

  std::shared_ptr<strata::nn::Conv1d<T>> fc1, fc2;
  std::shared_ptr<strata::nn::ReLU<T>> activation;
  std::shared_ptr<strata::nn::Hardsigmoid<T>> scale_activation;
};

/// Two branches over the same input, concatenated along the channels (like
/// SqueezeNet's Fire): kernel 3 -> BatchNorm1d -> ReLU6, and kernel 3 with
/// dilation 2 -> BatchNorm1d -> Hardswish. (N, inp, L) -> (N, 2 * branch, L).
/// Example: `MultiScale1d<float> mixed(32, 24);`
template <typename T = float>
class MultiScale1d : public strata::nn::Module<T> {
 public:
  MultiScale1d(index_t inp, index_t branch) {
    using namespace strata::nn;
    local = this->register_module("local",
                                  Sequential<T>(conv1d<T>(inp, branch, 3, 1, 1), BatchNorm1d<T>(branch), ReLU6<T>()));
    wide = this->register_module(
        "wide", Sequential<T>(conv1d<T>(inp, branch, 3, 1, 2, 2), BatchNorm1d<T>(branch), Hardswish<T>()));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& x) const {
    return strata::cat({local->forward(x), wide->forward(x)}, 1);
  }

  std::string name() const override { return "MultiScale1d"; }

  std::shared_ptr<strata::nn::Sequential<T>> local, wide;
};

/// The whole network. (N, in_channels, L) -> (N, num_classes); L of at least 8.
/// Example: `SignalCNN<float> net(2, 5);  auto logits = net.forward(x);  // [3, 2, 250] -> [3, 5]`
/// Throws strata::Error from forward for an input that is not (N, in_channels, L).
template <typename T = float>
class SignalCNN : public strata::nn::Module<T> {
 public:
  explicit SignalCNN(index_t in_channels = 2, index_t num_classes = 5) {
    using namespace strata::nn;
    stem = this->register_module("stem",
                                 Sequential<T>(conv1d<T>(in_channels, 16, 7, 2, 3), BatchNorm1d<T>(16), ReLU<T>()));
    pool = this->register_module("pool", MaxPool1d<T>(MaxPool1dOptions(3).stride(2).padding(1)));
    layer1 = this->register_module("layer1", ResBlock1d<T>(16, 16, 1));
    layer2 = this->register_module("layer2", ResBlock1d<T>(16, 32, 2));
    se = this->register_module("se", SqueezeExcitation1d<T>(32, 8));
    mixed = this->register_module("mixed", MultiScale1d<T>(32, 24));
    avgpool = this->register_module("avgpool",
                                    AvgPool1d<T>(AvgPool1dOptions(3).stride(2).padding(1).count_include_pad(false)));
    head = this->register_module(
        "head", Sequential<T>(AdaptiveAvgPool1d<T>(1), Flatten<T>(), Dropout<T>(0.1), Linear<T>(48, num_classes)));
  }

  strata::Tensor<T> forward(const strata::Tensor<T>& input) const {
    strata::Tensor<T> x = se->forward(layer2->forward(layer1->forward(pool->forward(stem->forward(input)))));
    return head->forward(avgpool->forward(mixed->forward(x)));
  }

  std::string name() const override { return "SignalCNN"; }

  std::shared_ptr<strata::nn::Sequential<T>> stem, head;
  std::shared_ptr<strata::nn::MaxPool1d<T>> pool;
  std::shared_ptr<ResBlock1d<T>> layer1, layer2;
  std::shared_ptr<SqueezeExcitation1d<T>> se;
  std::shared_ptr<MultiScale1d<T>> mixed;
  std::shared_ptr<strata::nn::AvgPool1d<T>> avgpool;
};

}  // namespace signal_cnn

using signal_cnn::SignalCNN;

}  // namespace models
