#pragma once
/// \file
/// strata::nn::Flatten, torch.nn.Flatten.

#include <ostream>
#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/functional/flatten.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace nn {

/// Merges dimensions start_dim..end_dim into one, torch.nn.Flatten: the
/// defaults (1, -1) turn (N, *) into (N, prod(*)), the step from a
/// convolution's feature map to a Linear layer. A view when the strides
/// allow it, else a copy. No parameters.
/// Example: `strata::nn::Flatten<float> flat; flat(x);  // [16, 16, 14] -> [16, 224]`
/// Throws strata::Error in forward on an undefined input, a dim out of range
/// for the input's rank, or start_dim after end_dim.
template <typename T = float>
class Flatten : public Module<T> {
 public:
  explicit Flatten(index_t start_dim = 1, index_t end_dim = -1) : start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor<T> forward(const Tensor<T>& input) const { return functional::flatten(input, start_dim_, end_dim_); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  index_t start_dim() const { return start_dim_; }
  index_t end_dim() const { return end_dim_; }

  std::string name() const override { return "Flatten"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::Flatten(start_dim=" << start_dim_ << ", end_dim=" << end_dim_ << ")";
  }

 private:
  index_t start_dim_;
  index_t end_dim_;
};

}  // namespace nn
}  // namespace strata
