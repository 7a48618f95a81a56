// bilinear: the torch.nn.Bilinear docs example, in C++.
//
//   PyTorch:
//   m = nn.Bilinear(20, 30, 40)
//   input1 = torch.randn(128, 20)
//   input2 = torch.randn(128, 30)
//   output = m(input1, input2)
//   print(output.size())       # torch.Size([128, 40])
//
// A Bilinear layer takes two inputs per sample and mixes every feature of the
// first with every feature of the second:
//
//   y[n][o] = sum_i sum_j x1[n][i] * A[o][i][j] * x2[n][j] + b[o]   (y = x1^T A x2 + b)
//
// so its weight has shape (out_features, in1_features, in2_features) = [40, 20, 30]:
// one 20 x 30 matrix per output feature.
#include <strata/strata.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

int main() {
  using strata::Tensor;
  strata::manual_seed(0);
  strata::Generator gen(42);

  strata::nn::Bilinear m(20, 30, 40);
  const auto x1 = Tensor<float>::randn({128, 20}, gen);
  const auto x2 = Tensor<float>::randn({128, 30}, gen);
  const auto y = m(x1, x2);

  std::cout << m << "\n\n";
  std::cout << "input sizes:  " << x1.shape() << " and " << x2.shape() << "\n";
  std::cout << "output size:  " << y.shape() << "\n";
  std::cout << "weight shape: " << m.weight().shape() << "   (out_features, in1_features, in2_features)\n";
  std::cout << "bias shape:   " << m.bias().shape() << "\n";
  std::cout << "parameters:   " << m.num_parameters() << " = 40*20*30 weights + 40 biases\n\n";

  // One element by hand: sample 3, output feature 7.
  const strata::index_t n = 3, o = 7;
  double by_hand = m.bias()(o);
  for (strata::index_t i = 0; i < 20; ++i) {
    for (strata::index_t j = 0; j < 30; ++j) {
      by_hand += static_cast<double>(x1(n, i)) * m.weight()(o, i, j) * x2(n, j);
    }
  }
  const double from_layer = y(n, o);
  // 600 float products of size ~0.2: float rounding stays below ~1e-5.
  const double tolerance = 1e-4;
  const bool agree = std::abs(by_hand - from_layer) <= tolerance;
  std::printf("%-60s %.6f\n", "y[3][7] from the layer:", from_layer);
  std::printf("%-60s %.6f  -> %s\n", "y[3][7] by hand, sum_ij x1[3][i]*A[7][i][j]*x2[3][j] + b[7]:", by_hand,
              agree ? "agree" : "FAILED: they differ");
  return agree && y.shape() == strata::Shape{128, 40} ? 0 : 1;
}
