#pragma once
/// \file
/// strata::nn::MaxPool1d / MaxPool2d, AvgPool1d / AvgPool2d and
/// AdaptiveAvgPool1d / AdaptiveAvgPool2d (torch.nn's), their options
/// (libtorch's MaxPoolOptions<D>, AvgPoolOptions<D>, AdaptiveAvgPoolOptions<D>
/// and the 1d / 2d aliases), and the shared implementations MaxPool<D, T>,
/// AvgPool<D, T>, AdaptiveAvgPool<D, T>. Each layer is a parameterless module
/// whose forward is its functional form (nn/functional/pooling.hpp).

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/conv_geometry.hpp"
#include "strata/nn/expanding_array.hpp"
#include "strata/nn/functional/pooling.hpp"
#include "strata/nn/stateless_module.hpp"

namespace strata {
namespace nn {

/// Options of MaxPool{1,2}d, libtorch's: kernel_size required, then
/// `.stride(s).padding(p).dilation(d).ceil_mode(false)`; every size one int
/// or one value per dimension. stride defaults to kernel_size.
/// Example: `MaxPool2dOptions(3).stride(2).padding(1)`
/// Throws strata::Error (from ExpandingArray) for a list of the wrong length;
/// the values are checked when a layer is built.
template <std::size_t D>
class MaxPoolOptions {
 public:
  MaxPoolOptions(ExpandingArray<D> kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: implicit, like libtorch

  MaxPoolOptions& kernel_size(ExpandingArray<D> value) {
    kernel_size_ = value;
    return *this;
  }
  MaxPoolOptions& stride(ExpandingArray<D> value) {
    stride_ = value;
    stride_given_ = true;
    return *this;
  }
  MaxPoolOptions& padding(ExpandingArray<D> value) {
    padding_ = value;
    return *this;
  }
  MaxPoolOptions& dilation(ExpandingArray<D> value) {
    dilation_ = value;
    return *this;
  }
  MaxPoolOptions& ceil_mode(bool value) {
    ceil_mode_ = value;
    return *this;
  }

  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  /// The stride given, else kernel_size.
  ExpandingArray<D> stride() const { return stride_given_ ? stride_ : kernel_size_; }
  const ExpandingArray<D>& padding() const { return padding_; }
  const ExpandingArray<D>& dilation() const { return dilation_; }
  bool ceil_mode() const { return ceil_mode_; }

 private:
  ExpandingArray<D> kernel_size_;
  ExpandingArray<D> stride_ = 1;  ///< used when stride_given_
  bool stride_given_ = false;
  ExpandingArray<D> padding_ = 0;
  ExpandingArray<D> dilation_ = 1;
  bool ceil_mode_ = false;
};

using MaxPool1dOptions = MaxPoolOptions<1>;
using MaxPool2dOptions = MaxPoolOptions<2>;

/// Options of AvgPool{1,2}d, libtorch's: kernel_size required, then
/// `.stride(s).padding(p).ceil_mode(false).count_include_pad(true)`, and for
/// AvgPool2d `.divisor_override(n)`. stride defaults to kernel_size.
/// Example: `AvgPool2dOptions(3).stride(2).padding(1).count_include_pad(false)`
/// Throws strata::Error (from ExpandingArray) for a list of the wrong length.
template <std::size_t D>
class AvgPoolOptions {
 public:
  AvgPoolOptions(ExpandingArray<D> kernel_size) : kernel_size_(kernel_size) {}  // NOLINT: implicit, like libtorch

  AvgPoolOptions& kernel_size(ExpandingArray<D> value) {
    kernel_size_ = value;
    return *this;
  }
  AvgPoolOptions& stride(ExpandingArray<D> value) {
    stride_ = value;
    stride_given_ = true;
    return *this;
  }
  AvgPoolOptions& padding(ExpandingArray<D> value) {
    padding_ = value;
    return *this;
  }
  AvgPoolOptions& ceil_mode(bool value) {
    ceil_mode_ = value;
    return *this;
  }
  AvgPoolOptions& count_include_pad(bool value) {
    count_include_pad_ = value;
    return *this;
  }
  /// AvgPool2d only (torch.nn.AvgPool1d has no divisor_override).
  AvgPoolOptions& divisor_override(std::optional<index_t> value) {
    static_assert(D == 2, "strata::nn::AvgPoolOptions<D>::divisor_override: AvgPool2d only, as in torch.nn");
    divisor_override_ = value;
    return *this;
  }

  const ExpandingArray<D>& kernel_size() const { return kernel_size_; }
  /// The stride given, else kernel_size.
  ExpandingArray<D> stride() const { return stride_given_ ? stride_ : kernel_size_; }
  const ExpandingArray<D>& padding() const { return padding_; }
  bool ceil_mode() const { return ceil_mode_; }
  bool count_include_pad() const { return count_include_pad_; }
  std::optional<index_t> divisor_override() const { return divisor_override_; }

 private:
  ExpandingArray<D> kernel_size_;
  ExpandingArray<D> stride_ = 1;  ///< used when stride_given_
  bool stride_given_ = false;
  ExpandingArray<D> padding_ = 0;
  bool ceil_mode_ = false;
  bool count_include_pad_ = true;
  std::optional<index_t> divisor_override_;
};

using AvgPool1dOptions = AvgPoolOptions<1>;
using AvgPool2dOptions = AvgPoolOptions<2>;

/// Options of AdaptiveAvgPool{1,2}d, libtorch's: the output size, one int or
/// one value per dimension. Example: `AdaptiveAvgPool2dOptions({7, 5})`
template <std::size_t D>
class AdaptiveAvgPoolOptions {
 public:
  AdaptiveAvgPoolOptions(ExpandingArray<D> output_size) : output_size_(output_size) {}  // NOLINT: implicit
  AdaptiveAvgPoolOptions& output_size(ExpandingArray<D> value) {
    output_size_ = value;
    return *this;
  }
  const ExpandingArray<D>& output_size() const { return output_size_; }

 private:
  ExpandingArray<D> output_size_;
};

using AdaptiveAvgPool1dOptions = AdaptiveAvgPoolOptions<1>;
using AdaptiveAvgPool2dOptions = AdaptiveAvgPoolOptions<2>;

}  // namespace nn

namespace detail {

/// "MaxPool1d" / "MaxPool2d", and likewise for the other pools.
template <std::size_t D>
constexpr const char* pool_layer_name(const char* one, const char* two) {
  static_assert(D == 1 || D == 2, "strata::nn pooling layers: D must be 1 or 2");
  return D == 1 ? one : two;
}

/// The forward of MaxPool<D, T>.
template <std::size_t D>
struct MaxPoolFn {
  nn::MaxPoolOptions<D> options;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return max_pool<D, T>(pool_layer_name<D>("MaxPool1d", "MaxPool2d"), input, options.kernel_size().array(),
                          options.stride().array(), options.padding().array(), options.dilation().array(),
                          options.ceil_mode());
  }
};

/// The forward of AvgPool<D, T>.
template <std::size_t D>
struct AvgPoolFn {
  nn::AvgPoolOptions<D> options;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return avg_pool<D, T>(pool_layer_name<D>("AvgPool1d", "AvgPool2d"), input, options.kernel_size().array(),
                          options.stride().array(), options.padding().array(), options.ceil_mode(),
                          options.count_include_pad(), options.divisor_override().value_or(0));
  }
};

/// The forward of AdaptiveAvgPool<D, T>.
template <std::size_t D>
struct AdaptiveAvgPoolFn {
  nn::AdaptiveAvgPoolOptions<D> options;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return adaptive_avg_pool<D, T>(pool_layer_name<D>("AdaptiveAvgPool1d", "AdaptiveAvgPool2d"), input,
                                   options.output_size().array());
  }
};

}  // namespace detail

namespace nn {

/// Max pooling over D spatial dimensions (D = 1 or 2), torch.nn.MaxPool1d /
/// MaxPool2d without return_indices; use it through MaxPool1d<T> and
/// MaxPool2d<T>. Input (N, C, spatial...) or unbatched (C, spatial...);
/// output sizes floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1,
/// with ceil_mode the ceiling, dropping a last window that would start in the
/// right padding. NaN propagates, as in torch. No parameters.
/// Example: `strata::nn::MaxPool2d pool(MaxPool2dOptions(3).stride(2).padding(1));  // [1, 64, 112, 112] -> [1, 64, 56, 56]`
/// Throws strata::Error for kernel_size, stride or dilation < 1, negative
/// padding or padding over half the kernel (torch's wording), and in forward
/// for inputs of another rank, with an empty non-batch dimension, or too
/// small for one window.
template <std::size_t D, typename T = float>
class MaxPool : public strata::detail::StatelessModule<strata::detail::MaxPoolFn<D>, T> {
 public:
  explicit MaxPool(const MaxPoolOptions<D>& options)
      : strata::detail::StatelessModule<strata::detail::MaxPoolFn<D>, T>(checked(options)) {}

  const MaxPoolOptions<D>& options() const { return this->fn().options; }
  std::string name() const override { return strata::detail::pool_layer_name<D>("MaxPool1d", "MaxPool2d"); }

 protected:
  /// libtorch's form: `kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], dilation=[1, 1], ceil_mode=false`.
  void print_options(std::ostream& out) const override {
    const MaxPoolOptions<D>& o = options();
    out << "kernel_size=" << o.kernel_size() << ", stride=" << o.stride() << ", padding=" << o.padding()
        << ", dilation=" << o.dilation() << ", ceil_mode=" << (o.ceil_mode() ? "true" : "false");
  }

 private:
  static strata::detail::MaxPoolFn<D> checked(const MaxPoolOptions<D>& o) {
    strata::detail::pool_check_options<D>(strata::detail::pool_layer_name<D>("MaxPool1d", "MaxPool2d"),
                                          o.kernel_size().array(), o.stride().array(), o.padding().array(),
                                          o.dilation().array());
    return {o};
  }
};

/// Average pooling over D spatial dimensions (D = 1 or 2), torch.nn.AvgPool1d
/// / AvgPool2d; use it through AvgPool1d<T> and AvgPool2d<T>. Shapes and
/// output sizes as MaxPool (dilation 1). Each window's sum is divided by
/// divisor_override when given, else by the window clipped to the padded
/// input (count_include_pad) or to the input. No parameters.
/// Example: `strata::nn::AvgPool2d pool(2);  // [8, 64, 56, 56] -> [8, 64, 28, 28]`
/// Throws strata::Error as MaxPool does, and for divisor_override 0.
template <std::size_t D, typename T = float>
class AvgPool : public strata::detail::StatelessModule<strata::detail::AvgPoolFn<D>, T> {
 public:
  explicit AvgPool(const AvgPoolOptions<D>& options)
      : strata::detail::StatelessModule<strata::detail::AvgPoolFn<D>, T>(checked(options)) {}

  const AvgPoolOptions<D>& options() const { return this->fn().options; }
  std::string name() const override { return strata::detail::pool_layer_name<D>("AvgPool1d", "AvgPool2d"); }

 protected:
  /// libtorch's form, `kernel_size=[2, 2], stride=[2, 2], padding=[0, 0]` (libtorch prints no other option).
  void print_options(std::ostream& out) const override {
    const AvgPoolOptions<D>& o = options();
    out << "kernel_size=" << o.kernel_size() << ", stride=" << o.stride() << ", padding=" << o.padding();
  }

 private:
  static strata::detail::AvgPoolFn<D> checked(const AvgPoolOptions<D>& o) {
    const char* who = strata::detail::pool_layer_name<D>("AvgPool1d", "AvgPool2d");
    strata::detail::pool_check_options<D>(who, o.kernel_size().array(), o.stride().array(), o.padding().array(),
                                          ExpandingArray<D>(1).array());
    strata::detail::avg_pool_divisor(who, o.divisor_override());
    return {o};
  }
};

/// Adaptive average pooling over D spatial dimensions (D = 1 or 2),
/// torch.nn.AdaptiveAvgPool1d / AdaptiveAvgPool2d; use it through
/// AdaptiveAvgPool1d<T> and AdaptiveAvgPool2d<T>. Input (N, C, spatial...)
/// or (C, spatial...), output (N, C, output_size...): output index i
/// averages [floor(i*in/out), ceil((i+1)*in/out)) in each dimension, for any
/// output size (larger than the input too; 0 gives an empty output). No parameters.
/// Example: `strata::nn::AdaptiveAvgPool2d pool(1);  // [8, 512, 7, 7] -> [8, 512, 1, 1]`
/// Throws strata::Error for a negative output size, and in forward for
/// inputs of another rank or with an empty spatial dimension.
template <std::size_t D, typename T = float>
class AdaptiveAvgPool : public strata::detail::StatelessModule<strata::detail::AdaptiveAvgPoolFn<D>, T> {
 public:
  explicit AdaptiveAvgPool(const AdaptiveAvgPoolOptions<D>& options)
      : strata::detail::StatelessModule<strata::detail::AdaptiveAvgPoolFn<D>, T>(checked(options)) {}

  const AdaptiveAvgPoolOptions<D>& options() const { return this->fn().options; }
  std::string name() const override {
    return strata::detail::pool_layer_name<D>("AdaptiveAvgPool1d", "AdaptiveAvgPool2d");
  }

 protected:
  /// libtorch's form: `output_size=[7, 5]` (`output_size=5` in 1-D).
  void print_options(std::ostream& out) const override { out << "output_size=" << options().output_size(); }

 private:
  static strata::detail::AdaptiveAvgPoolFn<D> checked(const AdaptiveAvgPoolOptions<D>& o) {
    strata::detail::adaptive_pool_check_output_size<D>(
        strata::detail::pool_layer_name<D>("AdaptiveAvgPool1d", "AdaptiveAvgPool2d"), o.output_size().array());
    return {o};
  }
};

/// torch.nn.MaxPool1d: (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out).
/// Example: `strata::nn::MaxPool1d pool(MaxPool1dOptions(3).stride(2));`  Throws as MaxPool<1, T>.
template <typename T = float>
class MaxPool1d : public MaxPool<1, T> {
 public:
  explicit MaxPool1d(const MaxPool1dOptions& options) : MaxPool<1, T>(options) {}
  explicit MaxPool1d(ExpandingArray<1> kernel_size) : MaxPool<1, T>(MaxPool1dOptions(kernel_size)) {}
};

/// torch.nn.MaxPool2d: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).
/// Example: `strata::nn::MaxPool2d pool(MaxPool2dOptions(3).stride(2).padding(1));`  Throws as MaxPool<2, T>.
template <typename T = float>
class MaxPool2d : public MaxPool<2, T> {
 public:
  explicit MaxPool2d(const MaxPool2dOptions& options) : MaxPool<2, T>(options) {}
  explicit MaxPool2d(ExpandingArray<2> kernel_size) : MaxPool<2, T>(MaxPool2dOptions(kernel_size)) {}
};

/// torch.nn.AvgPool1d: (N, C, L) or (C, L) -> (N, C, L_out) or (C, L_out).
/// Example: `strata::nn::AvgPool1d pool(AvgPool1dOptions(3).stride(2).padding(1));`  Throws as AvgPool<1, T>.
template <typename T = float>
class AvgPool1d : public AvgPool<1, T> {
 public:
  explicit AvgPool1d(const AvgPool1dOptions& options) : AvgPool<1, T>(options) {}
  explicit AvgPool1d(ExpandingArray<1> kernel_size) : AvgPool<1, T>(AvgPool1dOptions(kernel_size)) {}
};

/// torch.nn.AvgPool2d: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out).
/// Example: `strata::nn::AvgPool2d pool(AvgPool2dOptions(2).divisor_override(3));`  Throws as AvgPool<2, T>.
template <typename T = float>
class AvgPool2d : public AvgPool<2, T> {
 public:
  explicit AvgPool2d(const AvgPool2dOptions& options) : AvgPool<2, T>(options) {}
  explicit AvgPool2d(ExpandingArray<2> kernel_size) : AvgPool<2, T>(AvgPool2dOptions(kernel_size)) {}
};

/// torch.nn.AdaptiveAvgPool1d: (N, C, L) or (C, L) -> (N, C, output_size) or (C, output_size).
/// Example: `strata::nn::AdaptiveAvgPool1d pool(5);`  Throws as AdaptiveAvgPool<1, T>.
template <typename T = float>
class AdaptiveAvgPool1d : public AdaptiveAvgPool<1, T> {
 public:
  explicit AdaptiveAvgPool1d(const AdaptiveAvgPool1dOptions& options) : AdaptiveAvgPool<1, T>(options) {}
  explicit AdaptiveAvgPool1d(ExpandingArray<1> output_size)
      : AdaptiveAvgPool<1, T>(AdaptiveAvgPool1dOptions(output_size)) {}
};

/// torch.nn.AdaptiveAvgPool2d: (N, C, H, W) or (C, H, W) -> (N, C, h, w) or (C, h, w).
/// Example: `strata::nn::AdaptiveAvgPool2d pool({7, 7});`  Throws as AdaptiveAvgPool<2, T>.
template <typename T = float>
class AdaptiveAvgPool2d : public AdaptiveAvgPool<2, T> {
 public:
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options) : AdaptiveAvgPool<2, T>(options) {}
  explicit AdaptiveAvgPool2d(ExpandingArray<2> output_size)
      : AdaptiveAvgPool<2, T>(AdaptiveAvgPool2dOptions(output_size)) {}
};

}  // namespace nn
}  // namespace strata
