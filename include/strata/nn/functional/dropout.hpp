#pragma once
/// \file
/// strata::nn::functional::dropout, torch.nn.functional.dropout at inference.

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace detail {

/// Throws unless 0 <= p <= 1 (NaN fails), with torch's message after `who: `.
inline void check_dropout_probability(double p, const char* who) {
  check(p >= 0 && p <= 1, who, ": dropout probability has to be between 0 and 1, but got ", p);
}

}  // namespace detail

namespace nn {
namespace functional {

/// Dropout as torch computes it outside training, torch.nn.functional.dropout(
/// input, p, training=False): the input itself (the same tensor, sharing its
/// storage), any shape. p is still checked, as torch checks it.
/// Example: `auto y = functional::dropout(x, 0.2);  // y.shares_storage_with(x)`
/// Throws strata::Error for p outside [0, 1]
/// (`dropout: dropout probability has to be between 0 and 1, but got 1.5`) or an undefined input.
template <typename T>
Tensor<T> dropout(const Tensor<T>& input, double p = 0.5) {
  strata::detail::check_dropout_probability(p, "dropout");
  strata::detail::check(input.defined(), "dropout: the input is undefined");
  return input;
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
