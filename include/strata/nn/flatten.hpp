#pragma once
/// \file
/// strata::nn::Flatten, torch.nn.Flatten.

#include <ostream>
#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/functional/flatten.hpp"
#include "strata/nn/stateless_module.hpp"

namespace strata {
namespace detail {

/// Flatten's functional form with its options.
struct FlattenFn {
  index_t start_dim = 1;
  index_t end_dim = -1;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return nn::functional::flatten(input, start_dim, end_dim);
  }
};

}  // namespace detail
namespace nn {

/// Merges dimensions start_dim..end_dim into one, torch.nn.Flatten: the
/// defaults (1, -1) turn (N, *) into (N, prod(*)), the step from a
/// convolution's feature map to a Linear layer. A view when the strides
/// allow it, else a copy. No parameters.
/// Example: `strata::nn::Flatten<float> flat; flat(x);  // [16, 16, 14] -> [16, 224]`
/// Throws strata::Error in forward on an undefined input, a dim out of range
/// for the input's rank, or start_dim after end_dim.
template <typename T = float>
class Flatten : public detail::StatelessModule<detail::FlattenFn, T> {
 public:
  explicit Flatten(index_t start_dim = 1, index_t end_dim = -1)
      : detail::StatelessModule<detail::FlattenFn, T>(detail::FlattenFn{start_dim, end_dim}) {}

  index_t start_dim() const { return this->fn().start_dim; }
  index_t end_dim() const { return this->fn().end_dim; }

  std::string name() const override { return "Flatten"; }

 protected:
  void print_options(std::ostream& out) const override {
    out << "start_dim=" << start_dim() << ", end_dim=" << end_dim();
  }
};

}  // namespace nn
}  // namespace strata
