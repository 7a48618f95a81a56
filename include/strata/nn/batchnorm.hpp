#pragma once
/// \file
/// strata::nn::BatchNorm1d and BatchNorm2d (torch.nn's, as they compute in
/// eval mode): BatchNormOptions (libtorch's, with the BatchNorm1dOptions /
/// BatchNorm2dOptions aliases), the shared implementation BatchNorm<D, T>
/// and the BatchNorm1d / BatchNorm2d class templates.

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/functional/batchnorm.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace nn {

/// Options of BatchNorm1d / BatchNorm2d, libtorch's BatchNormOptions:
/// num_features required, then `.eps(1e-5).momentum(0.1).affine(true).track_running_stats(true)`.
/// momentum only matters in training, which strata does not compute; it is
/// kept for printing, and may be std::nullopt (torch's None, a cumulative average).
/// Example: `BatchNorm2dOptions(64).eps(1e-3).affine(false)`
class BatchNormOptions {
 public:
  BatchNormOptions(index_t num_features) : num_features_(num_features) {}  // NOLINT: implicit, like libtorch

  BatchNormOptions& num_features(index_t value) {
    num_features_ = value;
    return *this;
  }
  BatchNormOptions& eps(double value) {
    eps_ = value;
    return *this;
  }
  BatchNormOptions& momentum(std::optional<double> value) {
    momentum_ = value;
    return *this;
  }
  BatchNormOptions& affine(bool value) {
    affine_ = value;
    return *this;
  }
  BatchNormOptions& track_running_stats(bool value) {
    track_running_stats_ = value;
    return *this;
  }

  index_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  std::optional<double> momentum() const { return momentum_; }
  bool affine() const { return affine_; }
  bool track_running_stats() const { return track_running_stats_; }

 private:
  index_t num_features_;
  double eps_ = 1e-5;
  std::optional<double> momentum_ = 0.1;
  bool affine_ = true;
  bool track_running_stats_ = true;
};

using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

}  // namespace nn

namespace detail {

/// "BatchNorm1d" / "BatchNorm2d".
template <std::size_t D>
constexpr const char* batch_norm_layer_name() {
  static_assert(D == 1 || D == 2, "strata::nn::BatchNorm<D, T>: D must be 1 or 2");
  return D == 1 ? "BatchNorm1d" : "BatchNorm2d";
}

}  // namespace detail

namespace nn {

/// Batch normalisation over the channels of (N, C, ...) inputs as torch.nn
/// computes it in eval mode (D = 1: BatchNorm1d, (N, C) or (N, C, L); D = 2:
/// BatchNorm2d, (N, C, H, W)); use it through BatchNorm1d<T> and BatchNorm2d<T>.
/// y = (x - running_mean) / sqrt(running_var + eps) * weight + bias per
/// channel; built with track_running_stats(false) it has no buffers and
/// normalises with the batch's own mean and biased variance (over N and the
/// spatial dimensions), as torch does. Parameters (affine) weight = ones and
/// bias = zeros of [num_features]; buffers (track_running_stats)
/// running_mean = zeros, running_var = ones and num_batches_tracked, a 0-d
/// tensor 0 (torch's int64 as T), which a state_dict may lack (it then loads as 0).
/// Example: `strata::nn::BatchNorm2d bn(64); auto y = bn(x);  // [8, 64, 56, 56] -> [8, 64, 56, 56]`
/// Throws strata::Error for num_features < 1, and in forward for an input of
/// another rank ("BatchNorm2d: expected 4D input (got 3D input)") or channel
/// count ("running_mean should contain 4 elements not 3"), a parameter or
/// buffer of the wrong shape set through its accessor, and, without running
/// statistics, a single value per channel.
template <std::size_t D, typename T = float>
class BatchNorm : public Module<T> {
 public:
  explicit BatchNorm(const BatchNormOptions& options) : options_(options) {
    const char* who = strata::detail::batch_norm_layer_name<D>();
    strata::detail::check(options.num_features() > 0, who, ": expected num_features > 0, got ",
                          options.num_features());
    const index_t c = options.num_features();
    if (options.affine()) {
      this->register_parameter("weight", Tensor<T>::ones({c}));
      this->register_parameter("bias", Tensor<T>::zeros({c}));
    } else {
      this->register_absent_parameter("weight", "the layer was built with affine=false");
      this->register_absent_parameter("bias", "the layer was built with affine=false");
    }
    if (options.track_running_stats()) {
      this->register_buffer("running_mean", Tensor<T>::zeros({c}));
      this->register_buffer("running_var", Tensor<T>::ones({c}));
      this->register_optional_buffer("num_batches_tracked", Tensor<T>::zeros(Shape{}));
    } else {
      const char* reason = "the layer was built with track_running_stats=false";
      this->register_absent_parameter("running_mean", reason);
      this->register_absent_parameter("running_var", reason);
      this->register_absent_parameter("num_batches_tracked", reason);
    }
  }
  explicit BatchNorm(index_t num_features) : BatchNorm(BatchNormOptions(num_features)) {}

  /// Normalises the input; safe to call from several threads at once.
  Tensor<T> forward(const Tensor<T>& input) const {
    const char* who = strata::detail::batch_norm_layer_name<D>();
    this->check_registered_shapes(who);
    strata::detail::check(input.defined(), who, ": the input is undefined");
    if constexpr (D == 1) {
      strata::detail::check(input.dim() == 2 || input.dim() == 3, who, ": expected 2D or 3D input (got ", input.dim(),
                            "D input)");
    } else {
      strata::detail::check(input.dim() == 4, who, ": expected 4D input (got ", input.dim(), "D input)");
    }
    return strata::detail::batch_norm_forward(who, input, running_mean(), running_var(), weight(), bias(),
                                              options_.eps());
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Undefined when the layer was built with affine(false).
  Tensor<T>& weight() { return this->tensor("weight"); }
  const Tensor<T>& weight() const { return this->tensor("weight"); }
  Tensor<T>& bias() { return this->tensor("bias"); }
  const Tensor<T>& bias() const { return this->tensor("bias"); }
  /// Undefined when the layer was built with track_running_stats(false).
  Tensor<T>& running_mean() { return this->tensor("running_mean"); }
  const Tensor<T>& running_mean() const { return this->tensor("running_mean"); }
  Tensor<T>& running_var() { return this->tensor("running_var"); }
  const Tensor<T>& running_var() const { return this->tensor("running_var"); }
  Tensor<T>& num_batches_tracked() { return this->tensor("num_batches_tracked"); }
  const Tensor<T>& num_batches_tracked() const { return this->tensor("num_batches_tracked"); }

  const BatchNormOptions& options() const { return options_; }

  std::string name() const override { return strata::detail::batch_norm_layer_name<D>(); }

  /// libtorch's form: `strata::nn::BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)`.
  void pretty_print(std::ostream& out) const override {
    const BatchNormOptions& o = options_;
    out << "strata::nn::" << name() << "(" << o.num_features() << ", eps=" << o.eps() << ", momentum=";
    if (o.momentum()) {
      out << *o.momentum();
    } else {
      out << "None";
    }
    out << ", affine=" << (o.affine() ? "true" : "false")
        << ", track_running_stats=" << (o.track_running_stats() ? "true" : "false") << ")";
  }

 private:
  BatchNormOptions options_;
};

/// torch.nn.BatchNorm1d in eval mode: (N, C) or (N, C, L), same shape out.
/// Example: `strata::nn::BatchNorm1d bn(BatchNorm1dOptions(16).affine(false));`  Throws as BatchNorm<1, T>.
template <typename T = float>
class BatchNorm1d : public BatchNorm<1, T> {
 public:
  explicit BatchNorm1d(const BatchNorm1dOptions& options) : BatchNorm<1, T>(options) {}
  explicit BatchNorm1d(index_t num_features) : BatchNorm<1, T>(num_features) {}
};

/// torch.nn.BatchNorm2d in eval mode: (N, C, H, W), same shape out.
/// Example: `strata::nn::BatchNorm2d bn(64);`  Throws as BatchNorm<2, T>.
template <typename T = float>
class BatchNorm2d : public BatchNorm<2, T> {
 public:
  explicit BatchNorm2d(const BatchNorm2dOptions& options) : BatchNorm<2, T>(options) {}
  explicit BatchNorm2d(index_t num_features) : BatchNorm<2, T>(num_features) {}
};

}  // namespace nn
}  // namespace strata
