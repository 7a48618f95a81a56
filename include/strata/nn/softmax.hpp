#pragma once
/// \file
/// strata::nn::Softmax and LogSoftmax (with SoftmaxOptions, LogSoftmaxOptions),
/// torch.nn.Softmax and torch.nn.LogSoftmax.

#include <ostream>
#include <string>

#include "strata/core/tensor.hpp"
#include "strata/nn/functional/softmax.hpp"
#include "strata/nn/stateless_module.hpp"

namespace strata {
namespace nn {

/// Options of Softmax, as libtorch's: `SoftmaxOptions(1)` (dim is required).
class SoftmaxOptions {
 public:
  /* implicit */ SoftmaxOptions(index_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  SoftmaxOptions& dim(index_t value) {
    dim_ = value;
    return *this;
  }
  index_t dim() const { return dim_; }

 private:
  index_t dim_;
};

/// Options of LogSoftmax, as libtorch's: `LogSoftmaxOptions(1)`.
class LogSoftmaxOptions {
 public:
  /* implicit */ LogSoftmaxOptions(index_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  LogSoftmaxOptions& dim(index_t value) {
    dim_ = value;
    return *this;
  }
  index_t dim() const { return dim_; }

 private:
  index_t dim_;
};

}  // namespace nn
namespace detail {

/// The functional form of Softmax (Log = false) or LogSoftmax (Log = true) with its dim.
template <bool Log>
struct SoftmaxFn {
  index_t dim = 0;
  template <typename T>
  Tensor<T> operator()(const Tensor<T>& input) const {
    return Log ? nn::functional::log_softmax(input, dim) : nn::functional::softmax(input, dim);
  }
};

}  // namespace detail
namespace nn {

/// exp(x) / sum(exp(x)) along dim, torch.nn.Softmax(dim): any rank and strides,
/// output a new contiguous tensor of the input's shape whose slices along dim
/// sum to 1; stable for large inputs (see functional::softmax). No parameters.
/// Example: `strata::nn::Softmax softmax(1); auto p = softmax(logits);  // [N, C]`
/// Prints `strata::nn::Softmax(dim=1)`.
/// Throws strata::Error in forward on an undefined input or a dim out of range
/// for its rank (`softmax: dimension out of range (expected to be in range of [-2, 1], but got 2)`).
template <typename T = float>
class Softmax : public detail::StatelessModule<detail::SoftmaxFn<false>, T> {
 public:
  explicit Softmax(const SoftmaxOptions& options)
      : detail::StatelessModule<detail::SoftmaxFn<false>, T>(detail::SoftmaxFn<false>{options.dim()}) {}
  index_t dim() const { return this->fn().dim; }
  std::string name() const override { return "Softmax"; }

 protected:
  void print_options(std::ostream& out) const override { out << "dim=" << dim(); }
};

/// x - max - log(sum(exp(x - max))) along dim, torch.nn.LogSoftmax(dim): as
/// Softmax, exact on large inputs (log_softmax([1000, -1000]) = [0, -2000]).
/// Example: `strata::nn::LogSoftmax log_softmax(-1);`  Prints `strata::nn::LogSoftmax(dim=-1)`.
/// Throws strata::Error in forward on an undefined input or a dim out of range.
template <typename T = float>
class LogSoftmax : public detail::StatelessModule<detail::SoftmaxFn<true>, T> {
 public:
  explicit LogSoftmax(const LogSoftmaxOptions& options)
      : detail::StatelessModule<detail::SoftmaxFn<true>, T>(detail::SoftmaxFn<true>{options.dim()}) {}
  index_t dim() const { return this->fn().dim; }
  std::string name() const override { return "LogSoftmax"; }

 protected:
  void print_options(std::ostream& out) const override { out << "dim=" << dim(); }
};

}  // namespace nn
}  // namespace strata
