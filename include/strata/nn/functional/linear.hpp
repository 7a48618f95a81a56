#pragma once
/// \file
/// strata::nn::functional::linear, torch.nn.functional.linear.

#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/linear.hpp"

namespace strata {
namespace nn {
namespace functional {

/// y = x A^T + b. input (*, in_features), weight (out_features, in_features),
/// bias (out_features) or undefined; output (*, out_features). A 1-D input
/// gives a 1-D output.
/// Example: `auto y = functional::linear(x, fc.weight(), fc.bias());`
/// Throws strata::Error on an undefined input, a weight that is not 2-D, a
/// last dimension that differs from in_features, or a bias of the wrong shape.
template <typename T>
Tensor<T> linear(const Tensor<T>& input, const Tensor<T>& weight, const Tensor<T>& bias = Tensor<T>()) {
  detail::check(input.defined(), "linear: the input is undefined");
  detail::check(weight.defined() && weight.dim() == 2,
                "linear: expected a 2-D weight (out_features, in_features), got ",
                weight.defined() ? to_string(weight.shape()) : std::string("an undefined tensor"));
  detail::check(input.dim() >= 1, "linear: expected an input with at least 1 dimension (*, in_features), got shape ",
                input.shape());
  const index_t in_features = weight.size(1), out_features = weight.size(0);
  detail::check(input.size(-1) == in_features, "linear: expected input with last dimension ", in_features,
                " (in_features), got shape ", input.shape(), " (mat1 and mat2 shapes cannot be multiplied)");
  detail::check(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out_features),
                "linear: expected bias of shape [", out_features, "], got ",
                bias.defined() ? to_string(bias.shape()) : std::string());

  std::vector<index_t> out_sizes = input.shape().vec();
  out_sizes.back() = out_features;
  Tensor<T> out = Tensor<T>::empty(Shape(std::move(out_sizes)));
  const Tensor<T> x = input.contiguous();
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  index_t rows = 1;  // the flattened leading dimensions
  for (index_t d = 0; d + 1 < input.dim(); ++d) rows *= input.size(d);
  kernels::linear(x.data(), w.data(), b.defined() ? b.data() : nullptr, out.data(), rows, in_features, out_features);
  return out;
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
