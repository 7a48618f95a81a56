#pragma once
/// \file
/// strata::nn::Dropout and DropoutOptions, torch.nn.Dropout at inference.

#include <ostream>
#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/functional/dropout.hpp"
#include "strata/nn/stateless_module.hpp"

namespace strata {
namespace nn {

/// Options of Dropout, as libtorch's: `DropoutOptions().p(0.2)` or `DropoutOptions(0.2)`.
class DropoutOptions {
 public:
  /* implicit */ DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT(google-explicit-constructor)
  DropoutOptions& p(double value) {
    p_ = value;
    return *this;
  }
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace nn
namespace detail {

/// Dropout's functional form with its probability.
struct DropoutFn {
  double p = 0.5;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return nn::functional::dropout(input, p);
  }
};

}  // namespace detail
namespace nn {

/// torch.nn.Dropout as it behaves in eval mode, the only mode strata
/// computes: forward returns its input itself (the same tensor, sharing
/// storage). p is kept for printing and state, and checked as torch checks it.
/// No parameters.
/// Example: `strata::nn::Dropout drop(0.2); auto y = drop(x);  // y.shares_storage_with(x)`
/// Throws strata::Error for p outside [0, 1]
/// (`Dropout: dropout probability has to be between 0 and 1, but got 1.5`), and
/// in forward on an undefined input.
template <typename T = float>
class Dropout : public detail::StatelessModule<detail::DropoutFn, T> {
 public:
  explicit Dropout(double p = 0.5) : Dropout(DropoutOptions(p)) {}
  explicit Dropout(const DropoutOptions& options) : detail::StatelessModule<detail::DropoutFn, T>(checked(options)) {}

  double p() const { return this->fn().p; }

  std::string name() const override { return "Dropout"; }

 protected:
  /// libtorch's form, `p=0.5, inplace=false` (strata has no in-place variant).
  void print_options(std::ostream& out) const override { out << "p=" << p() << ", inplace=false"; }

 private:
  static detail::DropoutFn checked(const DropoutOptions& options) {
    detail::check_dropout_probability(options.p(), "Dropout");
    return detail::DropoutFn{options.p()};
  }
};

}  // namespace nn
}  // namespace strata
