#pragma once
/// \file
/// strata::nn::WeightedLayer<T>: what Linear, Bilinear, LazyLinear and the
/// convolutions share — torch's "weight" and "bias" parameters behind
/// weight() / bias(), and reset_parameters() drawing from the default generator.

#include "strata/core/generator.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace nn {

/// Base of the layers with a "weight" and an optional "bias" parameter,
/// registered by the layer's constructor (the bias as an absent parameter
/// when the layer has none). The layer defines reset_parameters(Generator&)
/// with torch's distributions; reset_parameters() runs it on the default
/// generator (see strata::manual_seed).
template <typename T = float>
class WeightedLayer : public Module<T> {
 public:
  Tensor<T>& weight() { return this->tensor("weight"); }
  const Tensor<T>& weight() const { return this->tensor("weight"); }
  /// Undefined when the layer has no bias.
  Tensor<T>& bias() { return this->tensor("bias"); }
  const Tensor<T>& bias() const { return this->tensor("bias"); }

  /// Redraws the parameters from torch's distributions using gen.
  virtual void reset_parameters(Generator& gen) = 0;
  /// Redraws from the default generator, under its lock.
  void reset_parameters() {
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }

 protected:
  WeightedLayer() = default;

  /// torch's reset_parameters of Linear and the convolutions: weight
  /// kaiming_uniform(a = sqrt(5)), i.e. U(-k, k), then bias U(-k, k), with
  /// k = 1/sqrt(fan_in) and fan_in = weight.size(1) * prod(kernel).
  static void draw_kaiming_uniform(Tensor<T>& weight, Tensor<T>& bias, Generator& gen) {
    init::kaiming_uniform_(weight, std::sqrt(5.0), gen);
    if (bias.defined()) {
      const double bound = init::fan_in_bound(init::calculate_fan_in(weight));
      init::uniform_(bias, -bound, bound, gen);
    }
  }
};

}  // namespace nn
}  // namespace strata
