#pragma once
/// \file
/// strata::nn::functional::flatten, torch.flatten.

#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace nn {
namespace functional {

/// Merges dimensions start_dim..end_dim (inclusive, negative counts from the
/// end) into one, like torch.flatten: a view when the strides allow it, else
/// a copy (like reshape). start_dim == end_dim returns the input itself; a
/// 0-d input gives shape [1] (its dims wrap as for a 1-d tensor).
/// Example: `functional::flatten(x, 1, -1);  // [N, C, L] -> [N, C*L]`
/// Throws strata::Error on an undefined input, a dim out of range,
/// start_dim after end_dim, or a merged size that overflows int64 (possible
/// only for an empty tensor).
template <typename T>
Tensor<T> flatten(const Tensor<T>& input, index_t start_dim = 0, index_t end_dim = -1) {
  detail::check(input.defined(), "flatten: the input is undefined");
  const std::size_t rank = input.shape().size();
  const std::size_t start = detail::wrap_dim(start_dim, rank, "flatten");
  const std::size_t end = detail::wrap_dim(end_dim, rank, "flatten");
  detail::check(start <= end,
                "flatten: flatten() has invalid args: start_dim cannot come after end_dim (start_dim=", start_dim,
                ", end_dim=", end_dim, ", input shape ", input.shape(), ")");
  if (rank == 0) return input.reshape({1});
  if (start == end) return input;
  std::vector<index_t> sizes(input.shape().begin(), input.shape().begin() + static_cast<std::ptrdiff_t>(start));
  index_t merged = 1;
  // An empty tensor may have sizes whose product leaves int64 ([0, 2^40, 2^40] from dim 1).
  for (std::size_t d = start; d <= end; ++d) merged = detail::checked_mul(merged, input.shape()[d], "flatten");
  sizes.push_back(merged);
  sizes.insert(sizes.end(), input.shape().begin() + static_cast<std::ptrdiff_t>(end) + 1, input.shape().end());
  return input.reshape(Shape(std::move(sizes)));
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
