#pragma once
/// \file
/// strata::nn::ReLU, torch.nn.ReLU.

#include <ostream>
#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/functional/activation.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace nn {

/// max(x, 0) elementwise, torch.nn.ReLU: input of any shape, output of the
/// same shape (a new tensor). No parameters.
/// Example: `strata::nn::ReLU<float> relu; auto y = relu(x);`
/// Throws strata::Error on an undefined input.
template <typename T = float>
class ReLU : public Module<T> {
 public:
  ReLU() = default;
  Tensor<T> forward(const Tensor<T>& input) const { return functional::relu(input); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  std::string name() const override { return "ReLU"; }
  void pretty_print(std::ostream& out) const override { out << "strata::nn::ReLU()"; }
};

}  // namespace nn
}  // namespace strata
