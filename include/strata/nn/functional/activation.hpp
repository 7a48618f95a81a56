#pragma once
/// \file
/// The element-wise activations of torch.nn.functional: relu, relu6,
/// leaky_relu, gelu, silu, sigmoid, tanh, hardswish, hardsigmoid. Each maps
/// its input (any rank, any strides: core/elementwise.hpp's strided loop feeds
/// the kernel contiguous runs) into a new contiguous tensor of the same shape
/// through one kernels/activation.hpp functor, with torch's values on NaN,
/// infinities and -0.0 (see that header).

#include <string>

#include "strata/core/elementwise.hpp"
#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/activation.hpp"
#include "strata/kernels/elementwise.hpp"

namespace strata {
namespace detail {

/// op applied to every element of `input`, into a new contiguous tensor of its
/// shape. Throws strata::Error naming Op::name on an undefined input.
template <typename Op, typename T>
Tensor<T> elementwise_activation(const Tensor<T>& input, const Op& op = Op()) {
  check(input.defined(), Op::name, ": the input is undefined");
  return unary_map(
      input, [&op](const T* in, T* out, index_t n) { kernels::unary_serial(op, in, out, n); },
      kernels::unary_grain<Op>());
}

}  // namespace detail

namespace nn {
namespace functional {

/// max(x, 0) elementwise, torch.nn.functional.relu: NaN propagates and -0.0 is kept.
/// Example: `auto y = functional::relu(x);`
/// Throws strata::Error on an undefined input (every function below does too).
template <typename T>
Tensor<T> relu(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Relu>(input);
}

/// min(max(x, 0), 6) elementwise, torch.nn.functional.relu6.
/// Example: `auto y = functional::relu6(x);`
template <typename T>
Tensor<T> relu6(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Relu6>(input);
}

/// x for x > 0, else negative_slope * x, torch.nn.functional.leaky_relu (any slope).
/// Example: `auto y = functional::leaky_relu(x, 0.2);`
template <typename T>
Tensor<T> leaky_relu(const Tensor<T>& input, double negative_slope = 0.01) {
  return strata::detail::elementwise_activation(input, kernels::LeakyRelu{negative_slope});
}

/// x * Phi(x) elementwise, torch.nn.functional.gelu: approximate "none" (the
/// erf form, torch's default) or "tanh".
/// Example: `auto y = functional::gelu(x);  functional::gelu(x, "tanh");`
/// Throws strata::Error also for another `approximate`.
template <typename T>
Tensor<T> gelu(const Tensor<T>& input, const std::string& approximate = "none") {
  strata::detail::check(approximate == "none" || approximate == "tanh",
                        "gelu: approximate argument must be either none or tanh, got '", approximate, "'");
  return approximate == "none" ? strata::detail::elementwise_activation<kernels::Gelu>(input)
                               : strata::detail::elementwise_activation<kernels::GeluTanh>(input);
}

/// x * sigmoid(x) elementwise, torch.nn.functional.silu.
/// Example: `auto y = functional::silu(x);`
template <typename T>
Tensor<T> silu(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Silu>(input);
}

/// 1 / (1 + exp(-x)) elementwise, torch.sigmoid.
/// Example: `auto y = functional::sigmoid(x);`
template <typename T>
Tensor<T> sigmoid(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Sigmoid>(input);
}

/// tanh(x) elementwise, torch.tanh.
/// Example: `auto y = functional::tanh(x);`
template <typename T>
Tensor<T> tanh(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Tanh>(input);
}

/// x * relu6(x + 3) / 6 elementwise, torch.nn.functional.hardswish.
/// Example: `auto y = functional::hardswish(x);`
template <typename T>
Tensor<T> hardswish(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Hardswish>(input);
}

/// relu6(x + 3) / 6 elementwise, torch.nn.functional.hardsigmoid.
/// Example: `auto y = functional::hardsigmoid(x);`
template <typename T>
Tensor<T> hardsigmoid(const Tensor<T>& input) {
  return strata::detail::elementwise_activation<kernels::Hardsigmoid>(input);
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
