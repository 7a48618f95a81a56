#pragma once
/// \file
/// strata::nn::functional::flatten, torch.flatten.

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace nn {
namespace functional {

/// Merges dimensions start_dim..end_dim (inclusive, negative counts from the
/// end) into one, like torch.flatten: Tensor::flatten, which it calls (a view
/// when the strides allow it, else a copy; a 0-d input gives shape [1]).
/// Example: `functional::flatten(x, 1, -1);  // [N, C, L] -> [N, C*L]`
/// Throws strata::Error on an undefined input, a dim out of range,
/// start_dim after end_dim, or a merged size that overflows int64 (possible
/// only for an empty tensor).
template <typename T>
Tensor<T> flatten(const Tensor<T>& input, index_t start_dim = 0, index_t end_dim = -1) {
  strata::detail::check(input.defined(), "flatten: the input is undefined");
  return input.flatten(start_dim, end_dim);
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
