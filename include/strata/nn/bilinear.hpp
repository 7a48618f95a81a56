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
class Bilinear : public Module<T> {
 public:
  Bilinear(index_t in1_features, index_t in2_features, index_t out_features, bool bias = true)
      : Bilinear(BilinearOptions(in1_features, in2_features, out_features).bias(bias)) {}

  explicit Bilinear(const BilinearOptions& options) : options_(options) {
    detail::check(options.in1_features() > 0, "Bilinear: expected in1_features > 0, got ", options.in1_features());
    detail::check(options.in2_features() > 0, "Bilinear: expected in2_features > 0, got ", options.in2_features());
    detail::check(options.out_features() > 0, "Bilinear: expected out_features > 0, got ", options.out_features());
    weight_ = Tensor<T>::empty({options.out_features(), options.in1_features(), options.in2_features()});
    if (options.bias()) bias_ = Tensor<T>::empty({options.out_features()});
    auto lock = default_generator_lock();
    reset_parameters(default_generator());
  }

  /// Applies the layer to (*, in1_features) and (*, in2_features), giving (*, out_features).
  Tensor<T> forward(const Tensor<T>& input1, const Tensor<T>& input2) const {
    check_parameters();
    return detail::bilinear_checked("Bilinear: ", input1, input2, weight_, bias_);
  }
  Tensor<T> operator()(const Tensor<T>& input1, const Tensor<T>& input2) const { return forward(input1, input2); }

  /// Redraws weight and bias from torch.nn.Bilinear's distribution:
  /// U(-1/sqrt(in1_features), 1/sqrt(in1_features)), weight first.
  void reset_parameters(Generator& gen) {
    const double bound = init::fan_in_bound(options_.in1_features());
    init::uniform_(weight_, -bound, bound, gen);
    if (bias_.defined()) init::uniform_(bias_, -bound, bound, gen);
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
  const BilinearOptions& options() const { return options_; }

  std::string name() const override { return "Bilinear"; }
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::Bilinear(in1_features=" << options_.in1_features()
        << ", in2_features=" << options_.in2_features() << ", out_features=" << options_.out_features()
        << ", bias=" << (options_.bias() ? "true" : "false") << ")";
  }

 protected:
  std::vector<std::pair<std::string, Tensor<T>*>> parameter_slots() override {
    if (options_.bias()) return {{"weight", &weight_}, {"bias", &bias_}};
    return {{"weight", &weight_}};
  }

 private:
  /// weight() and bias() are writable; a tensor of the wrong shape put there
  /// is caught here. Cheap on success (no message built): it runs on every forward.
  void check_parameters() const {
    const index_t out = options_.out_features(), in1 = options_.in1_features(), in2 = options_.in2_features();
    const Shape& w = weight_.shape();
    if (!(weight_.defined() && w.size() == 3 && w[0] == out && w[1] == in1 && w[2] == in2)) {
      throw Error(detail::concat("Bilinear: expected weight of shape ", Shape{out, in1, in2}, ", got ",
                                 detail::bilinear_describe(weight_.shape(), weight_.defined())));
    }
    if (options_.bias()) {
      if (!(bias_.defined() && bias_.shape().size() == 1 && bias_.shape()[0] == out)) {
        throw Error(detail::concat("Bilinear: expected bias of shape [", out, "], got ",
                                   detail::bilinear_describe(bias_.shape(), bias_.defined())));
      }
    } else if (bias_.defined()) {
      throw Error(detail::concat("Bilinear: the layer was built with bias=false but a bias of shape ", bias_.shape(),
                                 " was set"));
    }
  }

  BilinearOptions options_;
  Tensor<T> weight_;
  Tensor<T> bias_;
};

}  // namespace nn
}  // namespace strata
