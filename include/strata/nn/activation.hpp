#pragma once
/// \file
/// The element-wise activation layers of torch.nn: ReLU, ReLU6, LeakyReLU,
/// GELU, SiLU, Sigmoid, Tanh, Hardswish, Hardsigmoid. One family: each is an
/// Activation over a kernels/activation.hpp functor (the formula) whose
/// forward is the functional form; a layer adds only its name and options.
/// Input of any shape and strides, output a new contiguous tensor of the same
/// shape; no parameters; forward is const and thread-safe. Each throws
/// strata::Error in forward on an undefined input.

#include <ostream>
#include <string>
#include <utility>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/activation.hpp"
#include "strata/nn/functional/activation.hpp"
#include "strata/nn/stateless_module.hpp"

namespace strata {
namespace detail {

/// The functional form of an element-wise activation: Op applied to every element.
template <typename Op>
struct ElementwiseFn {
  Op op{};
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return elementwise_activation(input, op);
  }
};

/// Base of the element-wise layers: Op's formula, applied element by element.
template <typename Op, typename T>
class ActivationModule : public StatelessModule<ElementwiseFn<Op>, T> {
 protected:
  explicit ActivationModule(Op op = Op()) : StatelessModule<ElementwiseFn<Op>, T>(ElementwiseFn<Op>{op}) {}
  const Op& op() const { return this->fn().op; }
};

}  // namespace detail
namespace nn {

/// max(x, 0), torch.nn.ReLU: NaN stays NaN, -0.0 stays -0.0.
/// Example: `strata::nn::ReLU<float> relu; auto y = relu(x);`  Prints `strata::nn::ReLU()`.
template <typename T = float>
class ReLU : public detail::ActivationModule<kernels::Relu, T> {
 public:
  std::string name() const override { return "ReLU"; }
};

/// min(max(x, 0), 6), torch.nn.ReLU6 (MobileNetV2's activation).
/// Example: `strata::nn::ReLU6 act; auto y = act(x);`  Prints `strata::nn::ReLU6()`.
template <typename T = float>
class ReLU6 : public detail::ActivationModule<kernels::Relu6, T> {
 public:
  std::string name() const override { return "ReLU6"; }
};

/// Options of LeakyReLU, as libtorch's: `LeakyReLUOptions().negative_slope(0.2)`.
class LeakyReLUOptions {
 public:
  LeakyReLUOptions& negative_slope(double value) {
    negative_slope_ = value;
    return *this;
  }
  double negative_slope() const { return negative_slope_; }

 private:
  double negative_slope_ = 0.01;
};

/// x for x > 0, else negative_slope * x, torch.nn.LeakyReLU (any slope, as torch).
/// Example: `strata::nn::LeakyReLU act(0.2);`  Prints `strata::nn::LeakyReLU(negative_slope=0.2)`.
template <typename T = float>
class LeakyReLU : public detail::ActivationModule<kernels::LeakyRelu, T> {
 public:
  explicit LeakyReLU(double negative_slope = 0.01)
      : detail::ActivationModule<kernels::LeakyRelu, T>(kernels::LeakyRelu{negative_slope}) {}
  explicit LeakyReLU(const LeakyReLUOptions& options) : LeakyReLU(options.negative_slope()) {}

  double negative_slope() const { return this->op().negative_slope; }
  std::string name() const override { return "LeakyReLU"; }

 protected:
  void print_options(std::ostream& out) const override { out << "negative_slope=" << negative_slope(); }
};

/// Options of GELU, as libtorch's: `GELUOptions().approximate("tanh")`
/// ("none", the default, is the exact erf form).
class GELUOptions {
 public:
  GELUOptions& approximate(std::string value) {
    approximate_ = std::move(value);
    return *this;
  }
  const std::string& approximate() const { return approximate_; }

 private:
  std::string approximate_ = "none";
};

}  // namespace nn
namespace detail {

/// GELU's functional form: the erf or the tanh formula.
struct GeluFn {
  bool tanh = false;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return tanh ? elementwise_activation<kernels::GeluTanh>(input) : elementwise_activation<kernels::Gelu>(input);
  }
};

}  // namespace detail
namespace nn {

/// x * Phi(x) with Phi the standard normal CDF, torch.nn.GELU: by default the
/// exact form x * 0.5 * (1 + erf(x / sqrt(2))), with approximate "tanh"
/// torch's tanh formula.
/// Example: `strata::nn::GELU act;  strata::nn::GELU tanh_act(strata::nn::GELUOptions().approximate("tanh"));`
/// Prints `strata::nn::GELU()` (libtorch's form), `strata::nn::GELU(approximate='tanh')` with the tanh formula.
/// Throws strata::Error for another `approximate`
/// (`GELU: approximate argument must be either none or tanh, got 'foo'`).
template <typename T = float>
class GELU : public detail::StatelessModule<detail::GeluFn, T> {
 public:
  GELU() : GELU(GELUOptions()) {}
  explicit GELU(const GELUOptions& options) : detail::StatelessModule<detail::GeluFn, T>(checked(options)) {}

  /// "none" or "tanh".
  std::string approximate() const { return this->fn().tanh ? "tanh" : "none"; }
  std::string name() const override { return "GELU"; }

 protected:
  // libtorch 1.13 prints GELU() whatever the option; the tanh form says so, as Python does.
  void print_options(std::ostream& out) const override {
    if (this->fn().tanh) out << "approximate='tanh'";
  }

 private:
  static detail::GeluFn checked(const GELUOptions& options) {
    detail::check(options.approximate() == "none" || options.approximate() == "tanh",
                  "GELU: approximate argument must be either none or tanh, got '", options.approximate(), "'");
    return detail::GeluFn{options.approximate() == "tanh"};
  }
};

/// x * sigmoid(x), torch.nn.SiLU (swish; EfficientNet's activation).
/// Example: `strata::nn::SiLU act;`  Prints `strata::nn::SiLU()`.
template <typename T = float>
class SiLU : public detail::ActivationModule<kernels::Silu, T> {
 public:
  std::string name() const override { return "SiLU"; }
};

/// 1 / (1 + exp(-x)), torch.nn.Sigmoid.
/// Example: `strata::nn::Sigmoid act;`  Prints `strata::nn::Sigmoid()`.
template <typename T = float>
class Sigmoid : public detail::ActivationModule<kernels::Sigmoid, T> {
 public:
  std::string name() const override { return "Sigmoid"; }
};

/// tanh(x), torch.nn.Tanh.
/// Example: `strata::nn::Tanh act;`  Prints `strata::nn::Tanh()`.
template <typename T = float>
class Tanh : public detail::ActivationModule<kernels::Tanh, T> {
 public:
  std::string name() const override { return "Tanh"; }
};

/// x * relu6(x + 3) / 6, torch.nn.Hardswish (MobileNetV3's activation).
/// Example: `strata::nn::Hardswish act;`  Prints `strata::nn::Hardswish()`.
template <typename T = float>
class Hardswish : public detail::ActivationModule<kernels::Hardswish, T> {
 public:
  std::string name() const override { return "Hardswish"; }
};

/// relu6(x + 3) / 6, torch.nn.Hardsigmoid (MobileNetV3's squeeze-excitation gate).
/// Example: `strata::nn::Hardsigmoid act;`  Prints `strata::nn::Hardsigmoid()`.
template <typename T = float>
class Hardsigmoid : public detail::ActivationModule<kernels::Hardsigmoid, T> {
 public:
  std::string name() const override { return "Hardsigmoid"; }
};

}  // namespace nn
}  // namespace strata
