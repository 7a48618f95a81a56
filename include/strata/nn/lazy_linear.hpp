#pragma once
/// \file
/// strata::nn::LazyLinear, torch.nn.LazyLinear: a Linear whose in_features is
/// taken from the first input it sees.

#include <cmath>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/functional/linear.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/linear.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace nn {

/// y = x A^T + b with in_features inferred: the first forward takes
/// in_features from the input's last dimension, then allocates weight
/// (out_features, in_features) and bias (out_features) and initialises them
/// exactly like Linear (U(-k, k), k = 1/sqrt(in_features), from the default
/// generator). From then on it behaves as that Linear. load_state_dict on an
/// uninitialised layer takes the parameters, and in_features, from the loaded
/// tensors instead.
///
/// Before initialisation weight() and bias() are undefined, num_parameters()
/// is 0, state_dict() is empty and has_uninitialized_params() is true. torch
/// turns the module into a Linear once initialised; a C++ object keeps its
/// type, so this one keeps printing as LazyLinear, with the real in_features.
/// forward is not const (it may initialise the layer): do not call it from
/// several threads at once.
/// Example: `strata::nn::LazyLinear fc(30); auto y = fc(x);  // [128, 20] -> [128, 30], fc.in_features() == 20`
/// Throws strata::Error for out_features <= 0, for a first input whose last
/// dimension is 0, for a later input whose last dimension differs from
/// in_features, for parameters of the wrong shape and for a loaded state whose
/// shapes do not make a Linear with this out_features.
template <typename T = float>
class LazyLinear : public Module<T> {
 public:
  explicit LazyLinear(index_t out_features, bool bias = true) : out_features_(out_features), has_bias_(bias) {
    detail::check(out_features > 0, "LazyLinear: expected out_features > 0, got ", out_features);
  }

  /// Applies the layer to (*, in_features), giving (*, out_features);
  /// initialises the parameters first if this is the first input.
  Tensor<T> forward(const Tensor<T>& input) {
    detail::check(input.defined(), "LazyLinear: the input is undefined");
    if (has_uninitialized_params()) {
      detail::check(input.dim() >= 1 && input.size(-1) > 0,
                    "LazyLinear: expected an input of shape (*, in_features) with in_features > 0 to infer "
                    "in_features from, got shape ",
                    input.shape());
      initialize(input.size(-1));
    }
    check_parameters();
    detail::check(input.dim() >= 1 && input.size(-1) == in_features_, "LazyLinear: expected input of shape (*, ",
                  in_features_, ") with in_features=", in_features_,
                  " (inferred when the layer was initialised), got shape ", input.shape());
    return functional::linear(input, weight_, bias_);
  }
  Tensor<T> operator()(const Tensor<T>& input) { return forward(input); }

  /// True until the first forward (or a load_state_dict) has set in_features.
  bool has_uninitialized_params() const { return in_features_ == 0; }

  /// Redraws weight and bias from Linear's distributions; does nothing while
  /// the layer is uninitialised (like torch: there is nothing to draw yet).
  void reset_parameters(Generator& gen) {
    if (has_uninitialized_params()) return;
    init::kaiming_uniform_(weight_, std::sqrt(5.0), gen);
    if (bias_.defined()) {
      const double bound = init::fan_in_bound(in_features_);
      init::uniform_(bias_, -bound, bound, gen);
    }
  }
  /// Redraws from the default generator (see strata::manual_seed).
  void reset_parameters() {
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }

  /// 0 until the layer is initialised.
  index_t in_features() const { return in_features_; }
  index_t out_features() const { return out_features_; }
  bool has_bias() const { return has_bias_; }

  /// Undefined until the layer is initialised.
  Tensor<T>& weight() { return weight_; }
  const Tensor<T>& weight() const { return weight_; }
  /// Undefined until the layer is initialised, and always when it has no bias.
  Tensor<T>& bias() { return bias_; }
  const Tensor<T>& bias() const { return bias_; }

  std::string name() const override { return "LazyLinear"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::LazyLinear(in_features=" << in_features_ << ", out_features=" << out_features_
        << ", bias=" << (has_bias_ ? "true" : "false") << ")";
  }

 protected:
  std::vector<std::pair<std::string, Tensor<T>*>> parameter_slots() override {
    if (has_bias_) return {{"weight", &weight_}, {"bias", &bias_}};
    return {{"weight", &weight_}};
  }

  /// An uninitialised layer takes its shapes from the state_dict: they must
  /// make a Linear with this out_features (checked before anything is copied).
  void check_state(const std::string& prefix, const typename Module<T>::StateDict& state,
                   std::vector<std::string>& mismatched) const override {
    if (!has_uninitialized_params()) return;  // Module compares with the existing parameters
    const auto weight = state.find(prefix + "weight");
    if (weight != state.end() && weight->second.defined()) {
      const Shape& w = weight->second.shape();
      if (!(w.size() == 2 && w[0] == out_features_ && w[1] > 0)) {
        mismatched.push_back(detail::concat("size mismatch for ", prefix, "weight: copying a param with shape ", w,
                                            ", expected [", out_features_, ", in_features] with in_features > 0 "
                                            "(uninitialised LazyLinear)."));
      }
    }
    const auto bias = has_bias_ ? state.find(prefix + "bias") : state.end();
    if (bias != state.end() && bias->second.defined() && bias->second.shape() != Shape{out_features_}) {
      mismatched.push_back(detail::concat("size mismatch for ", prefix, "bias: copying a param with shape ",
                                          bias->second.shape(), ", expected [", out_features_,
                                          "] (uninitialised LazyLinear)."));
    }
  }

  /// After load_state_dict filled the undefined slots of an uninitialised
  /// layer with clones of the loaded tensors: check that they make a Linear
  /// with this out_features and take in_features from them; otherwise undo
  /// the load, so that a failed load changes nothing.
  void parameters_loaded() override {
    if (!has_uninitialized_params()) return;  // Module checked the shapes against the existing parameters
    const bool weight_ok =
        weight_.defined() && weight_.dim() == 2 && weight_.size(0) == out_features_ && weight_.size(1) > 0;
    const bool bias_ok = !has_bias_ || (bias_.defined() && bias_.shape() == Shape{out_features_});
    if (!weight_ok || !bias_ok) {
      const std::string got = detail::concat(
          "weight ", weight_.defined() ? to_string(weight_.shape()) : std::string("undefined"),
          has_bias_ ? detail::concat(", bias ", bias_.defined() ? to_string(bias_.shape()) : std::string("undefined"))
                    : std::string());
      weight_ = Tensor<T>();
      bias_ = Tensor<T>();
      throw Error(detail::concat("Error(s) in loading state_dict for LazyLinear: expected weight of shape [",
                                 out_features_, ", in_features] with in_features > 0",
                                 has_bias_ ? detail::concat(" and bias of shape [", out_features_, "]") : std::string(),
                                 ", got ", got));
    }
    in_features_ = weight_.size(1);
  }

 private:
  /// Allocates and draws the parameters for `in_features` (all or nothing).
  void initialize(index_t in_features) {
    Tensor<T> weight = Tensor<T>::empty({out_features_, in_features});
    Tensor<T> bias = has_bias_ ? Tensor<T>::empty({out_features_}) : Tensor<T>();
    weight_ = std::move(weight);
    bias_ = std::move(bias);
    in_features_ = in_features;
    reset_parameters();
  }

  /// weight() and bias() are writable; a tensor of the wrong shape put there
  /// is caught here. Cheap on success (no message built): it runs on every forward.
  void check_parameters() const {
    const auto describe = [](const Tensor<T>& t) {
      return t.defined() ? to_string(t.shape()) : std::string("an undefined tensor");
    };
    const Shape& w = weight_.shape();
    if (!(weight_.defined() && w.size() == 2 && w[0] == out_features_ && w[1] == in_features_)) {
      throw Error(detail::concat("LazyLinear: expected weight of shape ", Shape{out_features_, in_features_}, ", got ",
                                 describe(weight_)));
    }
    if (has_bias_) {
      if (!(bias_.defined() && bias_.shape().size() == 1 && bias_.shape()[0] == out_features_)) {
        throw Error(detail::concat("LazyLinear: expected bias of shape [", out_features_, "], got ", describe(bias_)));
      }
    } else if (bias_.defined()) {
      throw Error(detail::concat("LazyLinear: the layer was built with bias=false but a bias of shape ", bias_.shape(),
                                 " was set"));
    }
  }

  index_t out_features_;
  bool has_bias_;
  index_t in_features_ = 0;
  Tensor<T> weight_;
  Tensor<T> bias_;
};

/// The Linear that an initialised LazyLinear has become (torch turns the
/// module itself into a Linear at that point), with copies of its parameters.
/// Like the other conversions it draws nothing from the default generator.
/// Example: `fc(x); strata::nn::Linear<float> plain = strata::nn::to_linear(fc);`
/// Throws strata::Error when the LazyLinear is still uninitialised.
template <typename T>
Linear<T> to_linear(const LazyLinear<T>& lazy) {
  detail::check(!lazy.has_uninitialized_params(),
                "to_linear: the LazyLinear is uninitialised (its in_features is inferred by the first forward or "
                "taken from load_state_dict)");
  Linear<T> fc(LinearOptions(lazy.in_features(), lazy.out_features()).bias(lazy.has_bias()), detail::ZeroInit{});
  fc.weight().copy_(lazy.weight());
  if (lazy.has_bias()) fc.bias().copy_(lazy.bias());
  return fc;
}

}  // namespace nn
}  // namespace strata
