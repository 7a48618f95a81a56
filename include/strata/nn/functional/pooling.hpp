#pragma once
/// \file
/// strata::nn::functional::max_pool1d / max_pool2d, avg_pool1d / avg_pool2d
/// and adaptive_avg_pool1d / adaptive_avg_pool2d, torch.nn.functional's
/// (without return_indices), the PoolStride<D> a stride argument takes, and
/// the call every pooling entry point makes (the layers too): validate with
/// the convolution geometry (nn/conv_geometry.hpp), run kernels::pool.

#include <array>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/core/tensor.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/pool_shape.hpp"
#include "strata/kernels/pooling.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/expanding_array.hpp"

namespace strata {
namespace nn {

/// The stride argument of a pooling function: one int, D values, or an
/// empty `{}` meaning "the kernel size" (torch's stride=None).
/// Example: `functional::max_pool2d(x, 3, {}, 1)` pools with stride 3.
/// Throws strata::Error (from ExpandingArray) for a list of another length.
template <std::size_t D>
class PoolStride {
 public:
  PoolStride() = default;
  PoolStride(index_t value) : value_(value), given_(true) {}  // NOLINT: implicit, like ExpandingArray
  PoolStride(std::initializer_list<index_t> values)
      : value_(values.size() != 0 ? ExpandingArray<D>(values) : ExpandingArray<D>(1)), given_(values.size() != 0) {}
  PoolStride(const std::vector<index_t>& values) : value_(values), given_(true) {}
  PoolStride(const std::array<index_t, D>& values) : value_(values), given_(true) {}
  PoolStride(const ExpandingArray<D>& values) : value_(values), given_(true) {}

  /// Whether a stride was given.
  bool has_value() const { return given_; }
  /// The stride, or `kernel_size` when none was given.
  ExpandingArray<D> value_or(const ExpandingArray<D>& kernel_size) const { return given_ ? value_ : kernel_size; }

 private:
  // Not a std::optional: GCC 12 warns (maybe-uninitialized) on an optional of a class in these uses.
  ExpandingArray<D> value_ = 1;
  bool given_ = false;
};

}  // namespace nn

namespace detail {

/// Runs a validated pool: input (N, C, spatial...) or (C, spatial...), any
/// strides; the output is contiguous. Errors name `who`.
template <std::size_t D, typename T>
Tensor<T> pool_forward(const char* who, const Tensor<T>& input, const kernels::PoolShape<D>& shape) {
  Tensor<T> output = Tensor<T>::empty(pool_output_shape_of<D>(input.shape(), shape));
  if (output.numel() == 0) return output;
  const int threads = get_num_threads();
  const Tensor<T> x = input.contiguous();
  std::shared_ptr<T> workspace = allocate<T>(kernels::pool_workspace<T>(shape, threads), who);
  kernels::pool(shape, x.data(), output.data(), workspace.get(), threads);
  return output;
}

/// Max pooling as torch.nn.functional.max_pool{1,2}d. Errors name `who`.
template <std::size_t D, typename T>
Tensor<T> max_pool(const char* who, const Tensor<T>& input, const std::array<index_t, D>& kernel,
                   const std::array<index_t, D>& stride, const std::array<index_t, D>& padding,
                   const std::array<index_t, D>& dilation, bool ceil_mode) {
  check(input.defined(), who, ": the input is undefined");
  const auto call = pool_check_shapes<D>(who, kernels::PoolMode::Max, input.shape(), kernel, stride, padding, dilation,
                                         ceil_mode);
  return pool_forward<D, T>(who, input, call.first);
}

/// Average pooling as torch.nn.functional.avg_pool{1,2}d; divisor_override 0
/// means none (torch refuses 0 itself, so the caller checks a given one first).
/// Errors name `who`.
template <std::size_t D, typename T>
Tensor<T> avg_pool(const char* who, const Tensor<T>& input, const std::array<index_t, D>& kernel,
                   const std::array<index_t, D>& stride, const std::array<index_t, D>& padding, bool ceil_mode,
                   bool count_include_pad, index_t divisor_override) {
  check(input.defined(), who, ": the input is undefined");
  std::array<index_t, D> dilation;
  dilation.fill(1);
  auto call = pool_check_shapes<D>(who, kernels::PoolMode::Avg, input.shape(), kernel, stride, padding, dilation,
                                   ceil_mode);
  call.first.count_include_pad = count_include_pad;
  call.first.divisor_override = divisor_override;
  return pool_forward<D, T>(who, input, call.first);
}

/// Adaptive average pooling as torch.nn.functional.adaptive_avg_pool{1,2}d. Errors name `who`.
template <std::size_t D, typename T>
Tensor<T> adaptive_avg_pool(const char* who, const Tensor<T>& input, const std::array<index_t, D>& output_size) {
  check(input.defined(), who, ": the input is undefined");
  const auto call = adaptive_pool_check_shapes<D>(who, input.shape(), output_size);
  return pool_forward<D, T>(who, input, call.first);
}

/// A given divisor_override checked (not 0) and as avg_pool takes it (0: none).
inline index_t avg_pool_divisor(const char* who, std::optional<index_t> divisor_override) {
  if (!divisor_override) return 0;
  avg_pool_check_divisor(who, *divisor_override);
  return *divisor_override;
}

}  // namespace detail

namespace nn {
namespace functional {

/// torch.nn.functional.max_pool1d (without return_indices): input (N, C, L)
/// or (C, L), output (N, C, L_out) or (C, L_out) with L_out =
/// floor((L + 2*padding - dilation*(kernel_size-1) - 1) / stride) + 1 (ceil
/// with ceil_mode, dropping a last window that would start in the right
/// padding). The maximum of each window; NaN propagates. stride `{}` means kernel_size.
/// Example: `auto y = functional::max_pool1d(x, 3, 2, 1);  // [20, 16, 50] -> [20, 16, 25]`
/// Throws strata::Error ("max_pool1d: ...", torch's wording) for kernel_size,
/// stride or dilation < 1, negative padding or padding over half the kernel,
/// an input of another rank or with an empty non-batch dimension, and an
/// output size below 1.
template <typename T>
Tensor<T> max_pool1d(const Tensor<T>& input, const ExpandingArray<1>& kernel_size, const PoolStride<1>& stride = {},
                     const ExpandingArray<1>& padding = 0, const ExpandingArray<1>& dilation = 1,
                     bool ceil_mode = false) {
  return strata::detail::max_pool<1, T>("max_pool1d", input, kernel_size.array(),
                                        stride.value_or(kernel_size).array(), padding.array(), dilation.array(),
                                        ceil_mode);
}

/// torch.nn.functional.max_pool2d (without return_indices): input
/// (N, C, H, W) or (C, H, W), each output size by max_pool1d's formula.
/// Every size argument takes one int or {h, w}; stride `{}` means kernel_size.
/// Example: `auto y = functional::max_pool2d(x, 3, 2, 1);  // [1, 64, 112, 112] -> [1, 64, 56, 56]`
/// Throws strata::Error ("max_pool2d: ...") as max_pool1d does.
template <typename T>
Tensor<T> max_pool2d(const Tensor<T>& input, const ExpandingArray<2>& kernel_size, const PoolStride<2>& stride = {},
                     const ExpandingArray<2>& padding = 0, const ExpandingArray<2>& dilation = 1,
                     bool ceil_mode = false) {
  return strata::detail::max_pool<2, T>("max_pool2d", input, kernel_size.array(),
                                        stride.value_or(kernel_size).array(), padding.array(), dilation.array(),
                                        ceil_mode);
}

/// torch.nn.functional.avg_pool1d: input (N, C, L) or (C, L), output size by
/// max_pool1d's formula (dilation 1). Each window's sum divided by its size
/// clipped to the padded input (count_include_pad) or to the input; a last
/// ceil_mode window counts only up to the end of the right padding, as in torch.
/// Example: `auto y = functional::avg_pool1d(x, 3, 2, 1, false, false);`
/// Throws strata::Error ("avg_pool1d: ...") as max_pool1d does.
template <typename T>
Tensor<T> avg_pool1d(const Tensor<T>& input, const ExpandingArray<1>& kernel_size, const PoolStride<1>& stride = {},
                     const ExpandingArray<1>& padding = 0, bool ceil_mode = false, bool count_include_pad = true) {
  return strata::detail::avg_pool<1, T>("avg_pool1d", input, kernel_size.array(),
                                        stride.value_or(kernel_size).array(), padding.array(), ceil_mode,
                                        count_include_pad, 0);
}

/// torch.nn.functional.avg_pool2d: input (N, C, H, W) or (C, H, W); as
/// avg_pool1d per dimension, and divisor_override, when given, divides every window.
/// Example: `auto y = functional::avg_pool2d(x, 2);  // [8, 64, 56, 56] -> [8, 64, 28, 28]`
/// Throws strata::Error ("avg_pool2d: ...") as max_pool1d does, and for
/// divisor_override 0 (`divisor must be not zero`).
template <typename T>
Tensor<T> avg_pool2d(const Tensor<T>& input, const ExpandingArray<2>& kernel_size, const PoolStride<2>& stride = {},
                     const ExpandingArray<2>& padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<index_t> divisor_override = std::nullopt) {
  const char* who = "avg_pool2d";
  return strata::detail::avg_pool<2, T>(who, input, kernel_size.array(), stride.value_or(kernel_size).array(),
                                        padding.array(), ceil_mode, count_include_pad,
                                        strata::detail::avg_pool_divisor(who, divisor_override));
}

/// torch.nn.functional.adaptive_avg_pool1d: input (N, C, L) or (C, L),
/// output (N, C, output_size) or (C, output_size); output index i averages
/// the input over [floor(i*L/out), ceil((i+1)*L/out)). Any output size >= 0,
/// larger than the input too.
/// Example: `auto y = functional::adaptive_avg_pool1d(x, 5);  // [2, 3, 12] -> [2, 3, 5]`
/// Throws strata::Error ("adaptive_avg_pool1d: ...") for a negative output
/// size, an input of another rank or with an empty length.
template <typename T>
Tensor<T> adaptive_avg_pool1d(const Tensor<T>& input, const ExpandingArray<1>& output_size) {
  return strata::detail::adaptive_avg_pool<1, T>("adaptive_avg_pool1d", input, output_size.array());
}

/// torch.nn.functional.adaptive_avg_pool2d: input (N, C, H, W) or (C, H, W),
/// output (N, C, out_h, out_w) or (C, out_h, out_w), adaptive_avg_pool1d's
/// windows per dimension. output_size takes one int or {h, w}.
/// Example: `auto y = functional::adaptive_avg_pool2d(x, 1);  // [8, 512, 7, 7] -> [8, 512, 1, 1]`
/// Throws strata::Error ("adaptive_avg_pool2d: ...") as adaptive_avg_pool1d does.
template <typename T>
Tensor<T> adaptive_avg_pool2d(const Tensor<T>& input, const ExpandingArray<2>& output_size) {
  return strata::detail::adaptive_avg_pool<2, T>("adaptive_avg_pool2d", input, output_size.array());
}

}  // namespace functional
}  // namespace nn
}  // namespace strata
