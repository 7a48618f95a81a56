#pragma once
/// \file
/// strata::nn::LazyLinear, torch.nn.LazyLinear: a Linear whose in_features is
/// taken from the first input it sees.

#include <atomic>
#include <cmath>
#include <mutex>
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
#include "strata/nn/weighted_layer.hpp"

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
/// Before initialisation weight() and bias() are undefined (bias() stays
/// undefined without a bias), num_parameters()
/// is 0, state_dict() is empty and has_uninitialized_params() is true. torch
/// turns the module into a Linear once initialised; a C++ object keeps its
/// type, so this one keeps printing as LazyLinear, with the real in_features.
/// forward is const and safe to call from several threads at once: the
/// first call initialises the layer under a lock.
/// Example: `strata::nn::LazyLinear fc(30); auto y = fc(x);  // [128, 20] -> [128, 30], fc.in_features() == 20`
/// Throws strata::Error for out_features <= 0, for a first input whose last
/// dimension is 0, for a later input whose last dimension differs from
/// in_features, for parameters of the wrong shape and for a loaded state whose
/// shapes do not make a Linear with this out_features.
template <typename T = float>
class LazyLinear : public WeightedLayer<T> {
 public:
  using WeightedLayer<T>::weight;
  using WeightedLayer<T>::bias;
  using WeightedLayer<T>::reset_parameters;
  explicit LazyLinear(index_t out_features, bool bias = true) : out_features_(out_features), has_bias_(bias) {
    strata::detail::check(out_features > 0, "LazyLinear: expected out_features > 0, got ", out_features);
    this->register_uninitialized_parameter("weight");
    if (bias) {
      this->register_uninitialized_parameter("bias");
    } else {
      this->register_bias(false, 0);
    }
  }
  LazyLinear(const LazyLinear& other) : WeightedLayer<T>(other), out_features_(other.out_features_), has_bias_(other.has_bias_) {
    in_features_.store(other.in_features_.load());
  }
  LazyLinear& operator=(const LazyLinear&) = delete;

  /// Applies the layer to (*, in_features), giving (*, out_features);
  /// initialises the parameters first if this is the first input. Safe to
  /// call from several threads at once: the first call initialises the layer
  /// under a lock, and the others wait for it.
  Tensor<T> forward(const Tensor<T>& input) const {
    strata::detail::check(input.defined(), "LazyLinear: the input is undefined");
    if (has_uninitialized_params()) {
      strata::detail::check(input.dim() >= 1 && input.size(-1) > 0,
                    "LazyLinear: expected an input of shape (*, in_features) with in_features > 0 to infer "
                    "in_features from, got shape ",
                    input.shape());
      std::lock_guard<std::mutex> guard(initializing_);
      if (has_uninitialized_params()) initialize(input.size(-1));
    }
    this->check_registered_shapes("LazyLinear");
    const index_t in_features = in_features_.load(std::memory_order_acquire);
    strata::detail::check(input.dim() >= 1 && input.size(-1) == in_features, "LazyLinear: expected input of shape (*, ",
                  in_features, ") with in_features=", in_features,
                  " (inferred when the layer was initialised), got shape ", input.shape());
    return functional::linear(input, weight(), bias());
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// True until the first forward (or a load_state_dict) has set in_features.
  bool has_uninitialized_params() const { return in_features_.load(std::memory_order_acquire) == 0; }

  /// Redraws weight and bias from Linear's distributions; does nothing while
  /// the layer is uninitialised (like torch: there is nothing to draw yet).
  void reset_parameters(Generator& gen) override {
    if (!has_uninitialized_params()) this->draw_kaiming_uniform(weight(), bias(), gen);
  }

  /// 0 until the layer is initialised.
  index_t in_features() const { return in_features_.load(std::memory_order_acquire); }
  index_t out_features() const { return out_features_; }
  bool has_bias() const { return has_bias_; }


  std::string name() const override { return "LazyLinear"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::LazyLinear(in_features=" << in_features() << ", out_features=" << out_features_
        << ", bias=" << (has_bias_ ? "true" : "false") << ")";
  }

 protected:
  /// An uninitialised layer takes its shapes from the state_dict: they must
  /// make a Linear with this out_features (checked before anything is copied).
  void check_state(const std::string& prefix, const typename Module<T>::StateDict& state,
                   std::vector<std::string>& mismatched) const override {
    if (!has_uninitialized_params()) return;  // Module compares with the existing parameters
    const auto weight = state.find(prefix + "weight");
    if (weight != state.end() && weight->second.defined()) {
      const Shape& w = weight->second.shape();
      if (!(w.size() == 2 && w[0] == out_features_ && w[1] > 0)) {
        mismatched.push_back(strata::detail::concat("size mismatch for ", prefix, "weight: copying a param with shape ", w,
                                            ", expected [", out_features_, ", in_features] with in_features > 0 "
                                            "(uninitialised LazyLinear)."));
      }
    }
    const auto bias = has_bias_ ? state.find(prefix + "bias") : state.end();
    if (bias != state.end() && bias->second.defined() && bias->second.shape() != Shape{out_features_}) {
      mismatched.push_back(strata::detail::concat("size mismatch for ", prefix, "bias: copying a param with shape ",
                                          bias->second.shape(), ", expected [", out_features_,
                                          "] (uninitialised LazyLinear)."));
    }
  }

  /// After load_state_dict materialised the parameters (their shapes checked
  /// by check_state), in_features is the loaded weight's.
  void state_loaded() override { in_features_.store(weight().size(1), std::memory_order_release); }

 private:
  /// Allocates and draws the parameters for `in_features` (the caller holds
  /// initializing_), then publishes in_features.
  void initialize(index_t in_features) const {
    Tensor<T> weight = Tensor<T>::empty({out_features_, in_features});
    Tensor<T> bias = has_bias_ ? Tensor<T>::empty({out_features_}) : Tensor<T>();
    {
      auto lock = default_generator_lock();
      this->draw_kaiming_uniform(weight, bias, default_generator());
    }
    this->materialize_parameter("weight", std::move(weight));
    if (has_bias_) this->materialize_parameter("bias", std::move(bias));
    in_features_.store(in_features, std::memory_order_release);
  }

  index_t out_features_;
  bool has_bias_;
  mutable std::atomic<index_t> in_features_{0};  // set once, by the first forward (under the lock) or a load
  mutable std::mutex initializing_;
};

/// The Linear that an initialised LazyLinear has become (torch turns the
/// module itself into a Linear at that point), with copies of its parameters.
/// Like the other conversions it draws nothing from the default generator.
/// Example: `fc(x); strata::nn::Linear<float> plain = strata::nn::to_linear(fc);`
/// Throws strata::Error when the LazyLinear is still uninitialised.
template <typename T>
Linear<T> to_linear(const LazyLinear<T>& lazy) {
  strata::detail::check(!lazy.has_uninitialized_params(),
                "to_linear: the LazyLinear is uninitialised (its in_features is inferred by the first forward or "
                "taken from load_state_dict)");
  Linear<T> fc(LinearOptions(lazy.in_features(), lazy.out_features()).bias(lazy.has_bias()), kSkipInit);
  fc.weight().copy_(lazy.weight());
  if (lazy.has_bias()) fc.bias().copy_(lazy.bias());
  return fc;
}

}  // namespace nn
}  // namespace strata
