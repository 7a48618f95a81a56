// linear_basics: the first example of the torch.nn.Linear docs, in C++.
//
//   PyTorch:                              strata:
//   m = nn.Linear(20, 30)                 strata::nn::Linear m(20, 30);
//   input = torch.randn(128, 20)          auto input = Tensor<float>::randn({128, 20}, gen);
//   output = m(input)                     auto output = m(input);
//   print(output.size())                  std::cout << output.shape();
//   # torch.Size([128, 30])               // [128, 30]
//
// Linear computes y = x A^T + b. Each of the 128 rows of x is one sample with
// 20 features; each gets 30 output features. The weight A is stored as
// (out_features, in_features) = [30, 20], like torch: row o of A holds the 20
// weights of output feature o, so output o of a sample is the dot product of
// the sample with row o, plus b[o]. Multiplying by A^T ([20, 30]) does all 30
// dot products of all 128 samples in one matrix product: [128, 20] x [20, 30].
#include <strata/strata.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

int main() {
  using strata::Tensor;
  strata::manual_seed(0);     // the layer's initial weights come from the default generator
  strata::Generator gen(42);  // our own generator for the input: same numbers on every run

  strata::nn::Linear fc(20, 30);  // in_features=20, out_features=30, bias=true
  const auto x = Tensor<float>::randn({128, 20}, gen);
  const auto y = fc(x);

  std::cout << fc << "\n\n";
  std::cout << "input size:   " << x.shape() << "   (128 samples, 20 features each)\n";
  std::cout << "output size:  " << y.shape() << "   (128 samples, 30 features each)\n";
  std::cout << "weight shape: " << fc.weight().shape() << "   (out_features, in_features)\n";
  std::cout << "bias shape:   " << fc.bias().shape() << "\n";
  std::cout << "parameters:   " << fc.num_parameters() << " = 30*20 weights + 30 biases\n\n";

  // y = x A^T + b, one element by hand: sample 0, output feature 0 is the dot
  // product of row 0 of x with row 0 of the weight, plus bias 0.
  double by_hand = fc.bias()(0);
  for (strata::index_t k = 0; k < 20; ++k) by_hand += static_cast<double>(x(0, k)) * fc.weight()(0, k);
  const double from_layer = y(0, 0);
  // A float dot product of 20 terms of size ~1 is exact to a few 1e-7.
  const double tolerance = 1e-5;
  const bool agree = std::abs(by_hand - from_layer) <= tolerance;
  std::printf("%-47s %.6f\n", "y[0][0] from the layer:", from_layer);
  std::printf("%-47s %.6f  -> %s\n", "y[0][0] by hand, sum_k x[0][k]*A[0][k] + b[0]:", by_hand,
              agree ? "agree" : "FAILED: they differ");
  // strata is header-only: the kernels run the instructions this program was compiled for.
  std::cout << "\nkernels: " << strata::instruction_set() << " (this CPU: " << strata::cpu_instruction_set() << ")\n";
  if (!strata::instruction_set_advice().empty()) std::cout << strata::instruction_set_advice() << "\n";
  return agree && y.shape() == strata::Shape{128, 30} ? 0 : 1;
}
