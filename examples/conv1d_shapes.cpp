// conv1d_shapes: the torch.nn.Conv1d docs example, and where its output size
// comes from.
//
//   PyTorch:
//   m = nn.Conv1d(16, 33, 3, stride=2)
//   input = torch.randn(20, 16, 50)
//   output = m(input)          # torch.Size([20, 33, 24])
//
// A Conv1d input is (N, C_in, L): 20 signals, 16 channels, 50 steps. The
// output is (N, C_out, L_out), and along the signal
//
//   L_out = floor((L + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1
//
// Here: floor((50 + 0 - 1*2 - 1) / 2) + 1 = floor(47 / 2) + 1 = 23 + 1 = 24.
// The table below computes the formula with strata::nn::conv_output_size next
// to the size a real Conv1d gives, for a few settings.
#include <strata/strata.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {

using strata::index_t;
using strata::nn::Conv1d;
using strata::nn::Conv1dOptions;

// One row of the table: a layer's options and how to describe them.
struct Setting {
  std::string label;
  Conv1dOptions options;
};

}  // namespace

int main() {
  using strata::Tensor;
  strata::manual_seed(0);
  strata::Generator gen(42);

  // The docs example.
  Conv1d conv(Conv1dOptions(16, 33, 3).stride(2));
  const auto x = Tensor<float>::randn({20, 16, 50}, gen);
  const auto y = conv(x);
  std::cout << conv << "\n";
  std::cout << "input size:  " << x.shape() << "   (N=20 signals, C_in=16 channels, L=50 steps)\n";
  std::cout << "output size: " << y.shape() << "   (N=20, C_out=33, L_out=24)\n";
  std::cout << "formula:     floor((50 + 2*0 - 1*(3-1) - 1) / 2) + 1 = "
            << strata::nn::conv_output_size(50, 3, /*stride=*/2, /*padding=*/0, /*dilation=*/1) << "\n\n";

  // More settings, on a signal of length 50. padding='same' keeps L_out = L
  // (stride 1 only): the total padding dilation*(kernel-1) is split with the
  // odd element on the right, so an even kernel pads unevenly.
  const std::vector<Setting> settings = {
      {"kernel 3", Conv1dOptions(1, 1, 3)},
      {"kernel 3, padding 1", Conv1dOptions(1, 1, 3).padding(1)},
      {"kernel 3, stride 2", Conv1dOptions(1, 1, 3).stride(2)},
      {"kernel 3, stride 2, padding 1", Conv1dOptions(1, 1, 3).stride(2).padding(1)},
      {"kernel 3, dilation 2", Conv1dOptions(1, 1, 3).dilation(2)},
      {"kernel 5, stride 3, padding 2, dilation 2", Conv1dOptions(1, 1, 5).stride(3).padding(2).dilation(2)},
      {"kernel 3, padding='same'", Conv1dOptions(1, 1, 3).padding(strata::nn::kSame)},
      {"kernel 4, padding='same'", Conv1dOptions(1, 1, 4).padding(strata::nn::kSame)},
      {"kernel 4, padding='same', dilation 3", Conv1dOptions(1, 1, 4).padding(strata::nn::kSame).dilation(3)},
      {"kernel 50, padding='valid'", Conv1dOptions(1, 1, 50).padding(strata::nn::kValid)},
  };
  const index_t length = 50;
  const auto signal = Tensor<float>::randn({1, 1, length}, gen);
  bool all_match = true;
  std::printf("%-42s %-11s %-8s %s\n", "setting (L = 50)", "pad (l, r)", "formula", "layer");
  for (const Setting& s : settings) {
    const index_t k = s.options.kernel_size()[0];
    const index_t stride = s.options.stride()[0];
    const index_t dilation = s.options.dilation()[0];
    // Explicit padding is the same on both sides; 'same' uses torch's split; 'valid' is none.
    std::pair<index_t, index_t> pad{s.options.padding().values()[0], s.options.padding().values()[0]};
    if (s.options.padding().is_same()) pad = strata::nn::same_padding(k, dilation);
    const index_t formula = strata::nn::conv_output_size(length, k, stride, pad.first, pad.second, dilation);
    const index_t layer = Conv1d(s.options)(signal).size(-1);
    const bool match = formula == layer;
    all_match = all_match && match;
    const std::string pads = "(" + std::to_string(pad.first) + ", " + std::to_string(pad.second) + ")";
    std::printf("%-42s %-11s %-8lld %-8lld %s\n", s.label.c_str(), pads.c_str(), static_cast<long long>(formula),
                static_cast<long long>(layer), match ? "ok" : "FAILED");
  }
  std::cout << "\nevery row: formula == layer: " << (all_match ? "yes" : "no, FAILED") << "\n";
  return all_match && y.shape() == strata::Shape{20, 33, 24} ? 0 : 1;
}
