#pragma once
/// \file
/// strata::nn::functional::softmax and log_softmax, torch.nn.functional's:
/// over one dimension of any rank, numerically stable on large inputs.

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/softmax.hpp"

namespace strata {
namespace detail {

/// softmax or log_softmax of `input` along `dim` into a new contiguous tensor.
template <bool Log, typename T>
Tensor<T> softmax_along(const Tensor<T>& input, index_t dim, const char* who) {
  check(input.defined(), who, ": the input is undefined");
  const std::size_t d = wrap_dim(dim, input.shape().size(), who);
  const Tensor<T> x = input.contiguous();
  Tensor<T> out = Tensor<T>::empty(input.shape());
  // A 0-d tensor is one slice of one element.
  index_t outer = 1, inner = 1;
  const index_t size = input.dim() == 0 ? 1 : input.shape()[d];
  for (std::size_t k = 0; k < input.shape().size(); ++k) {
    if (k < d) outer *= input.shape()[k];
    if (k > d) inner *= input.shape()[k];
  }
  if (out.numel() == 0) return out;
  if (Log) {
    kernels::log_softmax(x.data(), out.data(), outer, size, inner);
  } else {
    kernels::softmax(x.data(), out.data(), outer, size, inner);
  }
  return out;
}

}  // namespace detail

namespace nn {
namespace functional {

/// exp(x) / sum(exp(x)) along `dim`, torch.nn.functional.softmax(input, dim):
/// computed as exp(x - max) * (1 / sum exp(x - max)), so +-1000 are fine. Any
/// rank and strides (dim may be negative); a new contiguous tensor of the
/// input's shape. A slice holding NaN or +inf, or only -inf, is NaN, as in torch.
/// Example: `auto p = functional::softmax(logits, 1);  // [N, C], rows sum to 1`
/// Throws strata::Error on an undefined input or a dim out of range:
/// `softmax: dimension out of range (expected to be in range of [-2, 1], but got 2)`.
template <typename T>
Tensor<T> softmax(const Tensor<T>& input, index_t dim) {
  return strata::detail::softmax_along<false>(input, dim, "softmax");
}

/// log(softmax(x)) along `dim`, torch.nn.functional.log_softmax(input, dim):
/// computed as x - max - log(sum exp(x - max)), exact for large inputs
/// (log_softmax([1000, -1000]) = [0, -2000]). Otherwise as softmax.
/// Example: `auto logp = functional::log_softmax(logits, -1);`
/// Throws strata::Error on an undefined input or a dim out of range.
template <typename T>
Tensor<T> log_softmax(const Tensor<T>& input, index_t dim) {
  return strata::detail::softmax_along<true>(input, dim, "log_softmax");
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
