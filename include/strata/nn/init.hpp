#pragma once
/// \file
/// torch.nn.init's distributions, as the layers use them in reset_parameters.

#include <cmath>

#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace nn {
namespace init {

/// Fills t with U(low, high) drawn from gen, in row-major order.
template <typename T>
void uniform_(Tensor<T>& t, double low, double high, Generator& gen) {
  strata::detail::check(t.defined(), "init::uniform_: the tensor is undefined");
  t.for_each_offset([&](index_t offset) {
    t.data()[offset] = gen.uniform<T>(static_cast<T>(low), static_cast<T>(high));
  });
}

/// torch's fan_in of a weight: size(1) times the product of the kernel dims.
template <typename T>
index_t calculate_fan_in(const Tensor<T>& weight) {
  strata::detail::check(weight.defined() && weight.dim() >= 2,
                "init: fan in can not be computed for a tensor with fewer than 2 dimensions, got shape ",
                weight.shape());
  index_t fan_in = weight.size(1);
  // Checked: an empty weight ([0, 2^40, 2^40]) may have sizes whose product leaves int64.
  for (index_t d = 2; d < weight.dim(); ++d) fan_in = strata::detail::checked_mul(fan_in, weight.size(d), "init");
  return fan_in;
}

/// kaiming_uniform_(w, a): U(-b, b) with b = gain * sqrt(3 / fan_in) and
/// gain = sqrt(2 / (1 + a^2)) (leaky_relu). With a = sqrt(5), as every torch
/// layer uses, b = 1 / sqrt(fan_in).
template <typename T>
void kaiming_uniform_(Tensor<T>& weight, double a, Generator& gen) {
  const index_t fan_in = calculate_fan_in(weight);
  strata::detail::check(fan_in > 0, "init::kaiming_uniform_: fan_in must be positive, got shape ", weight.shape());
  const double gain = std::sqrt(2.0 / (1.0 + a * a));
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan_in));
  uniform_(weight, -bound, bound, gen);
}

/// The bound torch.nn layers use for U(-bound, bound): 1 / sqrt(fan_in), 0 for fan_in 0.
inline double fan_in_bound(index_t fan_in) {
  return fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
}

}  // namespace init
}  // namespace nn
}  // namespace strata
