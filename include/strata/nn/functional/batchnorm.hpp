#pragma once
/// \file
/// strata::nn::functional::batch_norm, torch.nn.functional.batch_norm as it
/// computes inference, and the call BatchNorm1d / BatchNorm2d and
/// fuse_conv_bn_eval make: validate the per-channel tensors against the
/// input, compute torch's per-channel scale and shift once, then run the
/// kernel (kernels/batchnorm.hpp).

#include <memory>
#include <string>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"
#include "strata/kernels/batchnorm.hpp"

namespace strata {
namespace detail {

/// Throws unless `t` is undefined or a 1-D tensor of `channels` elements,
/// torch's message: "running_mean should contain 3 elements not 4".
template <typename T>
void batch_norm_check_channels(const char* who, const char* name, const Tensor<T>& t, index_t channels) {
  if (!t.defined()) return;
  check(t.dim() == 1 && t.numel() == channels, who, ": ", name, " should contain ", channels, " elements not ",
        t.dim() == 1 ? concat(t.numel()) : concat(t.numel(), " (shape ", t.shape(), ")"));
}

/// 1 / sqrt(var + eps) per element of a 1-D tensor, in T as torch computes
/// it (the running variance's inverse standard deviation).
template <typename T>
Tensor<T> batch_norm_inverse_std(const Tensor<T>& var, double eps) {
  const Tensor<T> v = var.contiguous();
  Tensor<T> out = Tensor<T>::empty(v.shape());
  kernels::batch_norm_inverse_std(v.data(), static_cast<T>(eps), v.numel(), out.data());
  return out;
}

/// Batch normalisation of input (N, C, *): with running_mean and running_var
/// both defined, their statistics; with both undefined, the batch's own
/// (mean and biased variance over N and *). weight and bias optional.
/// Errors name `who`.
template <typename T>
Tensor<T> batch_norm_forward(const char* who, const Tensor<T>& input, const Tensor<T>& running_mean,
                             const Tensor<T>& running_var, const Tensor<T>& weight, const Tensor<T>& bias,
                             double eps) {
  check(input.defined(), who, ": the input is undefined");
  check(input.dim() >= 2, who, ": expected input of shape (N, C, *) with at least 2 dimensions, got shape ",
        input.shape());
  check(running_mean.defined() == running_var.defined(), who, ": running_mean and running_var must be both defined ",
        "(the running statistics) or both undefined (the batch's statistics), got ",
        running_mean.defined() ? "running_var" : "running_mean", " undefined");
  const index_t batch = input.size(0), channels = input.size(1);
  const index_t plane = input.numel() == 0 ? 0 : input.numel() / (batch * channels);
  batch_norm_check_channels(who, "running_mean", running_mean, channels);
  batch_norm_check_channels(who, "running_var", running_var, channels);
  batch_norm_check_channels(who, "weight", weight, channels);
  batch_norm_check_channels(who, "bias", bias, channels);
  const bool batch_statistics = !running_mean.defined();
  if (batch_statistics) {
    // torch's _verify_batch_size: one value per channel has no variance.
    index_t values = batch;
    for (index_t d = 2; d < input.dim(); ++d) values *= input.size(d);
    check(values != 1, who, ": Expected more than 1 value per channel when training, got input size ", input.shape(),
          " (a BatchNorm without running statistics normalises with the batch's own)");
  }
  Tensor<T> output = Tensor<T>::empty(input.shape());
  if (output.numel() == 0) return output;

  const Tensor<T> x = input.contiguous();
  Tensor<T> mean, invstd;
  if (batch_statistics) {
    mean = Tensor<T>::empty({channels});
    invstd = Tensor<T>::empty({channels});
    kernels::batch_norm_statistics(x.data(), batch, channels, plane, eps, mean.data(), invstd.data());
  } else {
    mean = running_mean.contiguous();
    invstd = batch_norm_inverse_std(running_var, eps);
  }
  const Tensor<T> w = weight.defined() ? weight.contiguous() : weight;
  const Tensor<T> b = bias.defined() ? bias.contiguous() : bias;
  Tensor<T> scale = Tensor<T>::empty({channels}), shift = Tensor<T>::empty({channels});
  kernels::batch_norm_coefficients(mean.data(), invstd.data(), w.defined() ? w.data() : nullptr,
                                   b.defined() ? b.data() : nullptr, channels, scale.data(), shift.data());
  kernels::batch_norm_apply(x.data(), batch, channels, plane, scale.data(), shift.data(), output.data());
  return output;
}

}  // namespace detail

namespace nn {
namespace functional {

/// torch.nn.functional.batch_norm at inference (strata has no training
/// flag): y = (x - mean) / sqrt(var + eps) * weight + bias per channel, over
/// input (N, C, *) of any rank >= 2. mean and var are running_mean and
/// running_var; leaving both undefined normalises with the batch's own
/// statistics (mean and biased variance over N and *), what torch computes
/// with training=True and what a BatchNorm built with
/// track_running_stats(false) runs. An undefined weight means ones, an
/// undefined bias zeros. Computed as torch does: scale = weight /
/// sqrt(var + eps), shift = bias - mean * scale, then y = x * scale + shift.
/// Example: `auto y = functional::batch_norm(x, bn.running_mean(), bn.running_var(), bn.weight(), bn.bias(), 1e-5);`
/// Throws strata::Error ("batch_norm: ...") for an input of rank < 2, a
/// per-channel tensor whose size is not C ("running_mean should contain 3
/// elements not 4"), only one of running_mean / running_var defined, and,
/// with the batch's statistics, a single value per channel.
template <typename T>
Tensor<T> batch_norm(const Tensor<T>& input, const Tensor<T>& running_mean, const Tensor<T>& running_var,
                     const Tensor<T>& weight = Tensor<T>(), const Tensor<T>& bias = Tensor<T>(), double eps = 1e-5) {
  return strata::detail::batch_norm_forward("batch_norm", input, running_mean, running_var, weight, bias, eps);
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
