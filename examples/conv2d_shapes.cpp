// conv2d_shapes: the three constructions of the torch.nn.Conv2d docs, on the
// docs' input of 20 images with 16 channels, 50 x 100 pixels.
//
//   PyTorch:
//   # With square kernels and equal stride
//   m = nn.Conv2d(16, 33, 3, stride=2)
//   # non-square kernels and unequal stride and with padding
//   m = nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2))
//   # non-square kernels and unequal stride and with padding and dilation
//   m = nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))
//   input = torch.randn(20, 16, 50, 100)
//   output = m(input)
//
// Each option takes one int (the same for height and width) or {height, width}.
// Height and width follow the Conv1d formula independently:
//   out = floor((in + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1
#include <strata/strata.hpp>

#include <iostream>
#include <string>
#include <vector>

namespace {

using strata::index_t;
using strata::nn::Conv2dOptions;

// The formula for one dimension, written out the way the comment reads.
std::string explain(index_t in, index_t kernel, index_t stride, index_t padding, index_t dilation) {
  const index_t out = strata::nn::conv_output_size(in, kernel, stride, padding, dilation);
  return "floor((" + std::to_string(in) + " + 2*" + std::to_string(padding) + " - " + std::to_string(dilation) +
         "*(" + std::to_string(kernel) + "-1) - 1) / " + std::to_string(stride) + ") + 1 = " + std::to_string(out);
}

}  // namespace

int main() {
  using strata::Tensor;
  strata::manual_seed(0);
  strata::Generator gen(42);
  const auto x = Tensor<float>::randn({20, 16, 50, 100}, gen);
  std::cout << "input size: " << x.shape() << "   (N=20, C_in=16, H=50, W=100)\n";

  const std::vector<std::string> titles = {
      "square kernel and equal stride",
      "non-square kernel, unequal stride, padding",
      "non-square kernel, unequal stride, padding and dilation",
  };
  const std::vector<Conv2dOptions> options = {
      Conv2dOptions(16, 33, 3).stride(2),
      Conv2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2}),
      Conv2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2}).dilation({3, 1}),
  };

  bool all_match = true;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const Conv2dOptions& o = options[i];
    strata::nn::Conv2d conv(o);
    const auto y = conv(x);
    // The shape the formula predicts, without running the layer.
    const strata::Shape predicted = strata::nn::conv_output_shape(o, x.shape());
    all_match = all_match && predicted == y.shape();

    std::cout << "\n" << i + 1 << ". " << titles[i] << "\n";
    std::cout << "   " << conv << "\n";
    std::cout << "   output size: " << y.shape() << "\n";
    std::cout << "   H_out = " << explain(50, o.kernel_size()[0], o.stride()[0], o.padding().values()[0], o.dilation()[0])
              << "\n";
    std::cout << "   W_out = " << explain(100, o.kernel_size()[1], o.stride()[1], o.padding().values()[1], o.dilation()[1])
              << "\n";
  }
  std::cout << "\nevery shape: formula == layer: " << (all_match ? "yes" : "no, FAILED") << "\n";
  return all_match ? 0 : 1;
}
