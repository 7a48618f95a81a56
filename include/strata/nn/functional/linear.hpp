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
  strata::detail::check(input.defined(), "linear: the input is undefined");
  // Messages that print a shape are built only on failure: this runs on every
  // forward, and a small Linear takes a few microseconds in all.
  if (!(weight.defined() && weight.dim() == 2)) {
    throw Error(strata::detail::concat("linear: expected a 2-D weight (out_features, in_features), got ",
                               weight.defined() ? to_string(weight.shape()) : std::string("an undefined tensor")));
  }
  strata::detail::check(input.dim() >= 1, "linear: expected an input with at least 1 dimension (*, in_features), got shape ",
                input.shape());
  const index_t in_features = weight.size(1), out_features = weight.size(0);
  strata::detail::check(input.size(-1) == in_features, "linear: expected input with last dimension ", in_features,
                " (in_features), got shape ", input.shape(), " (mat1 and mat2 shapes cannot be multiplied)");
  strata::detail::check(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out_features),
                "linear: expected bias of shape [", out_features, "], got ", bias.shape());

  std::vector<index_t> out_sizes = input.shape().vec();
  out_sizes.back() = out_features;
  Tensor<T> out = Tensor<T>::empty(Shape(std::move(out_sizes)));
  // Nothing to compute; also, the leading sizes of an empty input (e.g.
  // [2^40, 2^40, 0, in]) may multiply past int64.
  if (out.numel() == 0) return out;
  index_t rows = 1;  // the flattened leading dimensions
  for (index_t d = 0; d + 1 < input.dim(); ++d) rows *= input.size(d);
  // The kernel reads rows spaced by any stride, so a view whose leading
  // dimensions flatten to evenly spaced rows (a slice, a narrow) is not copied.
  Tensor<T> x = input;
  index_t row_stride = in_features;
  if (!input.is_contiguous()) {
    x = input.reshape({rows, in_features});
    if (rows > 1 && in_features > 1) {
      if (x.stride(1) != 1 || x.stride(0) < in_features) x = x.contiguous();
      row_stride = x.stride(0);
    } else if (!x.is_contiguous()) {
      x = x.contiguous();
    }
  }
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  kernels::linear(x.data(), w.data(), b.defined() ? b.data() : nullptr, out.data(), rows, in_features, out_features,
                  row_stride);
  return out;
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
