// fc_as_global_conv: VGG-16's classifier head as convolutions.
//
// VGG-16's last feature map is 512 channels of 7 x 7. Its first fully
// connected layer flattens that map and applies Linear(7*7*512, 4096). The
// same numbers come out of Conv2d(512, 4096, 7): a 7 x 7 kernel that covers the
// whole map ("global" convolution) gives one output position, and its weight
// [4096, 512, 7, 7] is the Linear weight [4096, 25088] reshaped, because
// flatten orders the features as (channel, row, column) too. The next fully
// connected layer (4096 -> 2048 here) becomes a 1 x 1 convolution on the
// resulting [1, 4096, 1, 1] map.
//
//   PyTorch:
//   fc = nn.Linear(7 * 7 * 512, 4096)
//   conv = nn.Conv2d(512, 4096, 7)
//   conv.weight.data = fc.weight.data.view(4096, 512, 7, 7)
//   conv.bias.data = fc.bias.data
//
// Why bother: the convolutional form accepts a larger map. On a 9 x 9 map it
// slides the "fully connected" layer over every 7 x 7 window and returns a
// 3 x 3 grid of outputs in one call (a fully convolutional network).
//
// The weight is real size: 4096 x 25088 floats = 411 MB (twice: the Linear and
// its converted copy), computed once for a single image.
#include <strata/strata.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace {

using strata::Tensor;

// Checks two results for equality within a tolerance suited to float sums of
// `terms` products, and prints the verdict on one line.
bool report_equal(const char* what, const Tensor<float>& a, const Tensor<float>& b, double terms) {
  const double difference = strata::max_abs_diff(a, b);
  // Float rounding (6e-8 relative per operation) grows at most like sqrt(terms)
  // for random signs; both sides are sums of products of size <= ~1. 64 times
  // that bound leaves room for different summation orders and still catches
  // any real mismatch (a wrong weight changes outputs by ~0.1).
  const double tolerance = 64 * 6e-8 * std::sqrt(terms);
  const bool equal = difference <= tolerance;
  std::printf("%s: max |difference| (tolerance %.1e): %.2e -> %s\n", what, tolerance, difference,
              equal ? "equal" : "FAILED: they differ");
  return equal;
}

}  // namespace

int main() {
  strata::manual_seed(0);
  strata::Generator gen(42);
  bool ok = true;

  // 1. The first fully connected layer, and the same layer as a 7 x 7 convolution.
  strata::nn::Linear fc1(7 * 7 * 512, 4096);
  const strata::nn::Conv2d<float> conv1 = strata::nn::to_conv2d(fc1, 7, 7);
  std::cout << "fc1:   " << fc1 << "\n";
  std::cout << "conv1: " << conv1 << "\n";
  std::cout << "weights: fc1 " << fc1.weight().shape() << ", conv1 " << conv1.weight().shape()
            << "; parameters: " << fc1.num_parameters() << " and " << conv1.num_parameters() << "\n";

  const auto features = Tensor<float>::randn({1, 512, 7, 7}, gen);  // one image's last feature map
  const auto y_fc1 = fc1(features.reshape({1, -1}));                // flatten: [1, 25088] -> [1, 4096]
  const auto y_conv1 = conv1(features);                             // [1, 512, 7, 7] -> [1, 4096, 1, 1]
  std::cout << "output size: Linear " << y_fc1.shape() << ", Conv2d " << y_conv1.shape() << "\n";
  ok = report_equal("fc1 vs conv1", y_fc1, y_conv1.reshape({1, 4096}), 7 * 7 * 512) && ok;

  // 2. The second fully connected layer as a 1 x 1 convolution, fed by each path's output.
  strata::nn::Linear fc2(4096, 2048);
  const strata::nn::Conv2d<float> conv2 = strata::nn::to_conv2d(fc2, 1, 1);
  std::cout << "\nfc2:   " << fc2 << "\n";
  std::cout << "conv2: " << conv2 << "\n";
  const auto y_fc2 = fc2(y_fc1);        // [1, 4096] -> [1, 2048]
  const auto y_conv2 = conv2(y_conv1);  // [1, 4096, 1, 1] -> [1, 2048, 1, 1]
  std::cout << "output size: Linear " << y_fc2.shape() << ", Conv2d " << y_conv2.shape() << "\n";
  ok = report_equal("fc2 vs conv2", y_fc2, y_conv2.reshape({1, 2048}), 4096) && ok;

  // 3. A larger input: a 9 x 9 map gives a 3 x 3 grid, one output per 7 x 7 window.
  const auto big = Tensor<float>::randn({1, 512, 9, 9}, gen);
  const auto grid = conv1(big);  // [1, 4096, 3, 3]
  std::cout << "\nconv1 on a 9 x 9 map " << big.shape() << " -> " << grid.shape() << "\n";
  // The window at row 1, column 2 of the grid covers rows 1..7 and columns 2..8 of the map.
  const auto window = big.narrow(2, 1, 7).narrow(3, 2, 7).contiguous();    // [1, 512, 7, 7]
  const auto y_window = fc1(window.reshape({1, -1}));                       // [1, 4096]
  const auto grid_at = grid.narrow(2, 1, 1).narrow(3, 2, 1).reshape({1, 4096});
  ok = report_equal("grid[1][2] vs fc1 on that 7 x 7 window", y_window, grid_at.contiguous(), 7 * 7 * 512) && ok;

  return ok ? 0 : 1;
}
