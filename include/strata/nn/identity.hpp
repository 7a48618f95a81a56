#pragma once
/// \file
/// strata::nn::Identity, torch.nn.Identity.

#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/stateless_module.hpp"

namespace strata {
namespace detail {

/// Identity's functional form: the input itself.
struct IdentityFn {
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return input;
  }
};

}  // namespace detail
namespace nn {

/// Returns its input unchanged (the same tensor, sharing storage, as torch
/// does). No parameters.
/// Example: `strata::nn::Identity id; auto y = id(x);  // y.shares_storage_with(x)`
template <typename T = float>
class Identity : public detail::StatelessModule<detail::IdentityFn, T> {
 public:
  Identity() = default;
  std::string name() const override { return "Identity"; }
};

}  // namespace nn
}  // namespace strata
