// groups_and_depthwise: what the `groups` option of a convolution does, and
// what it saves.
//
//   PyTorch:
//   nn.Conv2d(8, 16, 3, padding=1)              # groups=1: every output sees all 8 inputs
//   nn.Conv2d(8, 16, 3, padding=1, groups=2)    # two convs side by side, 4 inputs -> 8 outputs each
//   nn.Conv2d(8, 16, 3, padding=1, groups=8)    # depthwise: each input channel alone -> K=2 outputs
//
// With groups=g the input channels are cut into g groups, and so are the
// output channels; output group i is computed from input group i only. The
// weight shrinks to (out_channels, in_channels/g, kH, kW): g times fewer
// weights for the same output shape. Depthwise is the extreme case
// groups = in_channels, with out_channels = K * in_channels ("depth
// multiplier" K): output channel j filters input channel j / K alone.
#include <strata/strata.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

namespace {

using strata::Tensor;
using strata::nn::Conv2d;
using strata::nn::Conv2dOptions;

template <typename T>
std::string str(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

int main() {
  strata::manual_seed(0);
  strata::Generator gen(42);
  const auto x = Tensor<float>::randn({1, 8, 10, 10}, gen);  // one image, 8 channels, 10 x 10

  Conv2d dense(Conv2dOptions(8, 16, 3).padding(1));
  Conv2d grouped(Conv2dOptions(8, 16, 3).padding(1).groups(2));
  Conv2d depthwise(Conv2dOptions(8, 2 * 8, 3).padding(1).groups(8));  // K = 2 outputs per input channel

  const auto y_dense = dense(x);
  const auto y_grouped = grouped(x);
  const auto y_depthwise = depthwise(x);

  std::printf("input %s\n\n", str(x.shape()).c_str());
  std::printf("%-10s %-18s %-16s %s\n", "", "weight", "output", "");
  const auto row = [](const char* name, const Conv2d<float>& conv, const Tensor<float>& y) {
    std::printf("%-10s %-18s %-16s parameters %lld\n", name, str(conv.weight().shape()).c_str(),
                str(y.shape()).c_str(), static_cast<long long>(conv.num_parameters()));
    std::printf("%-10s %s\n", "", str(conv).c_str());
  };
  row("groups=1", dense, y_dense);
  row("groups=2", grouped, y_grouped);
  row("depthwise", depthwise, y_depthwise);
  std::printf("(16*8*9 + 16 = 1168;  16*4*9 + 16 = 592;  16*1*9 + 16 = 160)\n\n");

  // groups=2: outputs 0-7 come from inputs 0-3 only. Change inputs 4-7 and
  // watch: outputs 0-7 stay exactly the same, outputs 8-15 move.
  auto x2 = x.clone();
  x2.narrow(1, 4, 4).fill_(5.0f);
  const auto y2 = grouped(x2);
  const float first_half_change = strata::max_abs_diff(y2.narrow(1, 0, 8), y_grouped.narrow(1, 0, 8));
  const float second_half_change = strata::max_abs_diff(y2.narrow(1, 8, 8), y_grouped.narrow(1, 8, 8));
  // The first half is computed from untouched numbers in the same order: bit-identical.
  const bool halves_apart = first_half_change == 0.0f && second_half_change > 0.1f;
  std::printf("inputs 4-7 changed: outputs 0-7 moved by %.1e, outputs 8-15 by %.2f\n",
              static_cast<double>(first_half_change), static_cast<double>(second_half_change));
  std::printf("groups=2 keeps the halves apart: %s\n\n", halves_apart ? "yes" : "no, FAILED");

  // Depthwise: output channel 5 is input channel 5 / K = 2 filtered by weight[5]
  // alone, i.e. an ordinary one-channel convolution.
  const auto by_hand = strata::nn::functional::conv2d(x.narrow(1, 2, 1), depthwise.weight().narrow(0, 5, 1),
                                                      depthwise.bias().narrow(0, 5, 1), /*stride=*/1, /*padding=*/1);
  const float difference = strata::max_abs_diff(by_hand, y_depthwise.narrow(1, 5, 1));
  // 9 products per output: float rounding stays far below 1e-5.
  const bool depthwise_ok = difference <= 1e-5f;
  std::printf("depthwise output channel 5 = conv of input channel 2 with weight[5] alone: max |difference| %.1e\n",
              static_cast<double>(difference));
  std::printf("depthwise channel 5 by hand: %s\n", depthwise_ok ? "yes" : "no, FAILED");
  return halves_apart && depthwise_ok ? 0 : 1;
}
