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
class Linear : public Module<T> {
 public:
  Linear(index_t in_features, index_t out_features, bool bias = true)
      : Linear(LinearOptions(in_features, out_features).bias(bias)) {}

  explicit Linear(const LinearOptions& options) : Linear(options, detail::ZeroInit{}) {
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }

  /// A Linear whose parameters are zeros (for code that loads them next).
  Linear(const LinearOptions& options, detail::ZeroInit) : options_(options) {
    detail::check(options.in_features() > 0, "Linear: expected in_features > 0, got ", options.in_features());
    detail::check(options.out_features() > 0, "Linear: expected out_features > 0, got ", options.out_features());
    weight_ = Tensor<T>::zeros({options.out_features(), options.in_features()});
    if (options.bias()) bias_ = Tensor<T>::zeros({options.out_features()});
  }

  /// Applies the layer to (*, in_features), giving (*, out_features).
  Tensor<T> forward(const Tensor<T>& input) const {
    check_parameters();
    detail::check(input.defined(), "Linear: the input is undefined");
    detail::check(input.dim() >= 1 && input.size(-1) == options_.in_features(), "Linear: expected input of shape (*, ",
                  options_.in_features(), ") with in_features=", options_.in_features(), ", got shape ", input.shape());
    return functional::linear(input, weight_, bias_);
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Redraws weight and bias from torch.nn.Linear's distributions.
  void reset_parameters(Generator& gen) {
    init::kaiming_uniform_(weight_, std::sqrt(5.0), gen);
    if (bias_.defined()) {
      const double bound = init::fan_in_bound(options_.in_features());
      init::uniform_(bias_, -bound, bound, gen);
    }
  }
  /// Redraws from the default generator (see strata::manual_seed).
  void reset_parameters() {
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }

  Tensor<T>& weight() { return weight_; }
  const Tensor<T>& weight() const { return weight_; }
  /// Undefined when the layer has no bias.
  Tensor<T>& bias() { return bias_; }
  const Tensor<T>& bias() const { return bias_; }
  const LinearOptions& options() const { return options_; }

  std::string name() const override { return "Linear"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::Linear(in_features=" << options_.in_features() << ", out_features=" << options_.out_features()
        << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

 protected:
  std::vector<std::pair<std::string, Tensor<T>*>> parameter_slots() override {
    if (options_.bias()) return {{"weight", &weight_}, {"bias", &bias_}};
    return {{"weight", &weight_}};
  }

 private:
  /// weight() and bias() are writable; a tensor of the wrong shape put there is caught here.
  void check_parameters() const {
    // Cheap on success (no Shape built, no message formatted): it runs on every forward.
    const auto undefined_or = [](const Tensor<T>& t) {
      return t.defined() ? to_string(t.shape()) : std::string("an undefined tensor");
    };
    const Shape& w = weight_.shape();
    if (!(weight_.defined() && w.size() == 2 && w[0] == options_.out_features() && w[1] == options_.in_features())) {
      throw Error(detail::concat("Linear: expected weight of shape ",
                                 Shape{options_.out_features(), options_.in_features()}, ", got ",
                                 undefined_or(weight_)));
    }
    if (options_.bias()) {
      if (!(bias_.defined() && bias_.shape().size() == 1 && bias_.shape()[0] == options_.out_features())) {
        throw Error(detail::concat("Linear: expected bias of shape [", options_.out_features(), "], got ",
                                   undefined_or(bias_)));
      }
    } else {
      detail::check(!bias_.defined(), "Linear: the layer was built with bias=false but a bias of shape ",
                    bias_.shape(), " was set");
    }
  }

  LinearOptions options_;
  Tensor<T> weight_;
  Tensor<T> bias_;
};

}  // namespace nn
}  // namespace strata
