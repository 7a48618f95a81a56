#pragma once
/// \file
/// strata::nn::functional::bilinear, torch.nn.functional.bilinear.

#include <string>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/bilinear.hpp"

namespace strata {
namespace detail {

/// "[2, 3]", or "an undefined tensor", for messages.
inline std::string bilinear_describe(const Shape& shape, bool defined) {
  return defined ? to_string(shape) : std::string("an undefined tensor");
}

/// Checks the inputs of a bilinear op against a weight of shape (N, I, J) and
/// runs the kernel. `who` starts every message ("bilinear(): " for the
/// functional, "Bilinear: " for the layer); the wording is torch's.
template <typename T>
Tensor<T> bilinear_checked(const char* who, const Tensor<T>& input1, const Tensor<T>& input2, const Tensor<T>& weight,
                           const Tensor<T>& bias) {
  check(input1.defined(), who, "input1 is undefined");
  check(input2.defined(), who, "input2 is undefined");
  // Messages are built only on failure: this runs on every forward.
  const auto fail = [&](auto&&... what) {
    throw Error(concat(who, what..., " (input1 shape ", input1.shape(), ", input2 shape ", input2.shape(), ")"));
  };
  if (input1.dim() != input2.dim()) fail("input dimensions do not match: got ", input1.dim(), " and ", input2.dim());
  if (input1.dim() < 1) fail("expected inputs with at least 1 dimension (*, in1_features) and (*, in2_features)");
  for (index_t d = 0; d + 1 < input1.dim(); ++d) {
    if (input1.size(d) != input2.size(d)) {
      fail("input batch dimensions do not match at dim ", d, ": got ", input1.size(d), " and ", input2.size(d));
    }
  }
  const index_t out_features = weight.size(0), in1_features = weight.size(1), in2_features = weight.size(2);
  if (input1.size(-1) != in1_features) {
    fail("input1 size does not match weight size: got ", input1.size(-1), " but expected ", in1_features);
  }
  if (input2.size(-1) != in2_features) {
    fail("input2 size does not match weight size: got ", input2.size(-1), " but expected ", in2_features);
  }

  std::vector<index_t> out_sizes = input1.shape().vec();
  out_sizes.back() = out_features;
  Tensor<T> out = Tensor<T>::empty(Shape(std::move(out_sizes)));
  // Nothing to compute; also, the leading sizes of empty inputs may multiply past int64.
  if (out.numel() == 0) return out;
  const Tensor<T> x1 = input1.contiguous();
  const Tensor<T> x2 = input2.contiguous();
  const Tensor<T> w = weight.contiguous();
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  index_t rows = 1;  // the flattened leading dimensions
  for (index_t d = 0; d + 1 < input1.dim(); ++d) rows *= input1.size(d);
  kernels::bilinear(x1.data(), x2.data(), w.data(), b.defined() ? b.data() : nullptr, out.data(), rows, in1_features,
                    in2_features, out_features);
  return out;
}

}  // namespace detail

namespace nn {
namespace functional {

/// y = x1^T A x2 + b: y[..., o] = sum_{i,j} x1[..., i] A[o, i, j] x2[..., j] + b[o].
/// input1 (*, in1_features), input2 (*, in2_features) with the same leading
/// dimensions (1-D unbatched inputs allowed), weight (out_features, in1_features,
/// in2_features), bias (out_features) or undefined; output (*, out_features).
/// Example: `auto y = functional::bilinear(x1, x2, m.weight(), m.bias());  // [128, 20], [128, 30] -> [128, 40]`
/// Throws strata::Error on an undefined input, a weight that is not 3-D, a bias
/// that is not (out_features), inputs of different ranks or leading
/// dimensions, or last dimensions that differ from the weight's, with torch's
/// wording ("bilinear(): input1 size does not match weight size: got 5 but expected 4").
template <typename T>
Tensor<T> bilinear(const Tensor<T>& input1, const Tensor<T>& input2, const Tensor<T>& weight,
                   const Tensor<T>& bias = Tensor<T>()) {
  if (!(weight.defined() && weight.dim() == 3)) {
    throw Error(
        strata::detail::concat("bilinear(): expected a 3-D weight (out_features, in1_features, in2_features), got ",
                               strata::detail::bilinear_describe(weight.shape(), weight.defined())));
  }
  if (bias.defined() && !(bias.dim() == 1 && bias.size(0) == weight.size(0))) {
    throw Error(strata::detail::concat("bilinear(): expected bias of shape [", weight.size(0), "] (out_features), got ",
                                       bias.shape()));
  }
  return strata::detail::bilinear_checked("bilinear(): ", input1, input2, weight, bias);
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
