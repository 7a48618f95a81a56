#pragma once
/// \file
/// strata::nn::functional::relu, torch.nn.functional.relu.

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/activation.hpp"

namespace strata {
namespace nn {
namespace functional {

/// max(x, 0) elementwise, into a new contiguous tensor of the input's shape
/// (any rank, any strides). NaN propagates and -0.0 is kept, as in torch.
/// Example: `auto y = functional::relu(x);`
/// Throws strata::Error on an undefined input.
template <typename T>
Tensor<T> relu(const Tensor<T>& input) {
  detail::check(input.defined(), "relu: the input is undefined");
  const Tensor<T> x = input.contiguous();
  Tensor<T> out = Tensor<T>::empty(input.shape());
  kernels::relu(x.data(), out.data(), out.numel());
  return out;
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
