#pragma once
/// \file
/// strata::nn::Bilinear and BilinearOptions, torch.nn.Bilinear.

#include <cmath>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/functional/bilinear.hpp"
#include "strata/nn/init.hpp"
#include "strata/nn/module.hpp"
#include "strata/nn/weighted_layer.hpp"

namespace strata {
namespace nn {

/// Options of Bilinear: the three feature counts are required, bias is a
/// chained setter as in libtorch: `BilinearOptions(20, 30, 40).bias(false)`.
class BilinearOptions {
 public:
  BilinearOptions(index_t in1_features, index_t in2_features, index_t out_features)
      : in1_features_(in1_features), in2_features_(in2_features), out_features_(out_features) {}
  BilinearOptions& bias(bool value) {
    bias_ = value;
    return *this;
  }
  index_t in1_features() const { return in1_features_; }
  index_t in2_features() const { return in2_features_; }
  index_t out_features() const { return out_features_; }
  bool bias() const { return bias_; }

 private:
  index_t in1_features_;
  index_t in2_features_;
  index_t out_features_;
  bool bias_ = true;
};

/// y = x1^T A x2 + b, torch.nn.Bilinear. weight (out_features, in1_features,
/// in2_features), bias (out_features); inputs (*, in1_features) and
/// (*, in2_features) with the same leading dimensions (1-D unbatched inputs
/// allowed), output (*, out_features). Initialised like torch: weight and bias
/// U(-k, k) with k = 1/sqrt(in1_features).
/// Example: `strata::nn::Bilinear m(20, 30, 40); auto y = m(x1, x2);  // [128, 20], [128, 30] -> [128, 40]`
/// Throws strata::Error for non-positive feature counts, and in forward for
/// inputs whose ranks, leading dimensions or last dimensions do not fit, or
/// parameters of the wrong shape.
template <typename T = float>
class Bilinear : public WeightedLayer<T> {
 public:
  using WeightedLayer<T>::weight;
  using WeightedLayer<T>::bias;
  using WeightedLayer<T>::reset_parameters;
  Bilinear(index_t in1_features, index_t in2_features, index_t out_features, bool bias = true)
      : Bilinear(BilinearOptions(in1_features, in2_features, out_features).bias(bias)) {}

  explicit Bilinear(const BilinearOptions& options) : Bilinear(options, kSkipInit) { reset_parameters(); }

  /// A Bilinear whose parameters are zeros, drawn from nothing (see SkipInit).
  Bilinear(const BilinearOptions& options, SkipInit) : options_(options) {
    strata::detail::check(options.in1_features() > 0, "Bilinear: expected in1_features > 0, got ", options.in1_features());
    strata::detail::check(options.in2_features() > 0, "Bilinear: expected in2_features > 0, got ", options.in2_features());
    strata::detail::check(options.out_features() > 0, "Bilinear: expected out_features > 0, got ", options.out_features());
    this->register_parameter(
        "weight", Tensor<T>::zeros({options.out_features(), options.in1_features(), options.in2_features()}));
    this->register_bias(options.bias(), options.out_features());
  }

  /// Applies the layer to (*, in1_features) and (*, in2_features), giving (*, out_features).
  Tensor<T> forward(const Tensor<T>& input1, const Tensor<T>& input2) const {
    this->check_registered_shapes("Bilinear");
    return strata::detail::bilinear_checked("Bilinear: ", input1, input2, weight(), bias());
  }
  Tensor<T> operator()(const Tensor<T>& input1, const Tensor<T>& input2) const { return forward(input1, input2); }

  /// Redraws weight and bias from torch.nn.Bilinear's distribution:
  /// U(-1/sqrt(in1_features), 1/sqrt(in1_features)), weight first.
  void reset_parameters(Generator& gen) override {
    const double bound = init::fan_in_bound(options_.in1_features());
    init::uniform_(weight(), -bound, bound, gen);
    if (bias().defined()) init::uniform_(bias(), -bound, bound, gen);
  }

  const BilinearOptions& options() const { return options_; }

  std::string name() const override { return "Bilinear"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::Bilinear(in1_features=" << options_.in1_features()
        << ", in2_features=" << options_.in2_features() << ", out_features=" << options_.out_features()
        << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

 private:
  BilinearOptions options_;
};

}  // namespace nn
}  // namespace strata
