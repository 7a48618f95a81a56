#pragma once
/// \file
/// strata::nn::Identity, torch.nn.Identity.

#include <ostream>
#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace nn {

/// Returns its input unchanged (the same tensor, sharing storage, as torch
/// does). No parameters.
/// Example: `strata::nn::Identity id; auto y = id(x);  // y.shares_storage_with(x)`
template <typename T = float>
class Identity : public Module<T> {
 public:
  Identity() = default;
  Tensor<T> forward(const Tensor<T>& input) const { return input; }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  std::string name() const override { return "Identity"; }
  void pretty_print(std::ostream& out) const override { out << "strata::nn::Identity()"; }
};

}  // namespace nn
}  // namespace strata
