// linear_by_hand: a Linear(2, 1) small enough to check with pen and paper.
//
//   PyTorch:
//   m = nn.Linear(2, 1)
//   x = torch.tensor([[1., 2.]])
//   print(m.weight, m.bias)      # Parameter containing: tensor([[w0, w1]]) ... tensor([b])
//   print(m(x))                  # tensor([[1*w0 + 2*w1 + b]])
//
// One sample with two features, one output feature. The weight has shape
// (out_features, in_features) = [1, 2] and the bias [1], so the layer computes
// y = 1*w0 + 2*w1 + b: three parameters, one multiply-add per input feature.
#include <strata/strata.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

int main() {
  using strata::Tensor;
  strata::manual_seed(0);  // fixed initial weights: the same printout on every run

  strata::nn::Linear fc(2, 1);
  const Tensor<float> x({1, 2}, {1.0f, 2.0f});  // one sample: features 1 and 2

  std::cout << fc << "\n";
  std::cout << "input:  " << x << "\n";
  std::cout << "weight: " << fc.weight() << "   shape " << fc.weight().shape() << "\n";
  std::cout << "bias:   " << fc.bias() << "   shape " << fc.bias().shape() << "\n\n";

  const auto y = fc(x);
  std::cout << "output: " << y << "   shape " << y.shape() << "\n\n";

  // The same number from the three parameters.
  const float w0 = fc.weight()(0, 0), w1 = fc.weight()(0, 1), b = fc.bias()(0);
  const float by_hand = 1.0f * w0 + 2.0f * w1 + b;
  std::printf("from the layer:                 y = %.7f\n", static_cast<double>(y(0, 0)));
  std::printf("by hand: 1*w0 + 2*w1 + b = 1*(%.7f) + 2*(%.7f) + (%.7f) = %.7f\n", static_cast<double>(w0),
              static_cast<double>(w1), static_cast<double>(b), static_cast<double>(by_hand));
  // Three float operations on values below 1: a few units of float rounding at most.
  const double difference = std::abs(static_cast<double>(y(0, 0)) - by_hand);
  const bool agree = difference <= 1e-6;
  std::printf("agree: %s (|difference| = %.1e)\n", agree ? "yes" : "no, FAILED", difference);
  return agree ? 0 : 1;
}
