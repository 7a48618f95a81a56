#pragma once
/// \file
/// strata::nn::Linear and LinearOptions, torch.nn.Linear.

#include <ostream>
#include <string>

#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/functional/linear.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/module.hpp"
#include "strata/nn/weighted_layer.hpp"

namespace strata {
namespace nn {

/// Options of Linear: in_features and out_features are required, bias is a
/// chained setter as in libtorch: `LinearOptions(20, 30).bias(false)`.
class LinearOptions {
 public:
  LinearOptions(index_t in_features, index_t out_features) : in_features_(in_features), out_features_(out_features) {}
  LinearOptions& bias(bool value) {
    bias_ = value;
    return *this;
  }
  index_t in_features() const { return in_features_; }
  index_t out_features() const { return out_features_; }
  bool bias() const { return bias_; }

 private:
  index_t in_features_;
  index_t out_features_;
  bool bias_ = true;
};

/// y = x A^T + b, torch.nn.Linear. weight (out_features, in_features), bias
/// (out_features); input (*, in_features) of any rank >= 1, output
/// (*, out_features). Initialised like torch: weight and bias U(-k, k) with
/// k = 1/sqrt(in_features).
/// Example: `strata::nn::Linear fc(20, 30); auto y = fc(x);  // [128, 20] -> [128, 30]`
/// Throws strata::Error for non-positive feature counts, and in forward for an
/// input whose last dimension is not in_features or parameters of the wrong shape.
template <typename T = float>
class Linear : public WeightedLayer<T> {
 public:
  using WeightedLayer<T>::weight;
  using WeightedLayer<T>::bias;
  using WeightedLayer<T>::reset_parameters;
  Linear(index_t in_features, index_t out_features, bool bias = true)
      : Linear(LinearOptions(in_features, out_features).bias(bias)) {}

  explicit Linear(const LinearOptions& options) : Linear(options, kSkipInit) { reset_parameters(); }

  /// A Linear whose parameters are zeros, drawn from nothing (see SkipInit).
  Linear(const LinearOptions& options, SkipInit) : options_(options) {
    strata::detail::check(options.in_features() > 0, "Linear: expected in_features > 0, got ", options.in_features());
    strata::detail::check(options.out_features() > 0, "Linear: expected out_features > 0, got ", options.out_features());
    this->register_parameter("weight", Tensor<T>::zeros({options.out_features(), options.in_features()}));
    this->register_bias(options.bias(), options.out_features());
  }

  /// Applies the layer to (*, in_features), giving (*, out_features).
  Tensor<T> forward(const Tensor<T>& input) const {
    this->check_registered_shapes("Linear");
    strata::detail::check(input.defined(), "Linear: the input is undefined");
    strata::detail::check(input.dim() >= 1 && input.size(-1) == options_.in_features(), "Linear: expected input of shape (*, ",
                  options_.in_features(), ") with in_features=", options_.in_features(), ", got shape ", input.shape());
    return functional::linear(input, weight(), bias());
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Redraws weight and bias from torch.nn.Linear's distributions.
  void reset_parameters(Generator& gen) override { this->draw_kaiming_uniform(weight(), bias(), gen); }

  const LinearOptions& options() const { return options_; }

  std::string name() const override { return "Linear"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::Linear(in_features=" << options_.in_features() << ", out_features=" << options_.out_features()
        << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

 private:
  LinearOptions options_;
};

}  // namespace nn
}  // namespace strata
