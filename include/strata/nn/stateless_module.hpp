#pragma once
/// \file
/// strata::detail::StatelessModule: the one body of every layer that holds
/// no parameters or buffers and whose forward is a single functional call
/// (Identity, Flatten, Dropout, ReLU and the other activations, Softmax):
/// forward, operator() and printing live here once; a layer adds its
/// constructor, its option accessors, name() and, when it has options,
/// print_options().

#include <ostream>
#include <string>
#include <utility>

#include "strata/core/tensor.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace detail {

/// Base of the parameterless layers. Fn is a small copyable callable holding
/// the layer's options, `template <typename T> Tensor<T> operator()(const Tensor<T>&) const`,
/// the layer's functional form. forward is const and safe to call from
/// several threads at once, as Fn holds nothing mutable.
/// Printing is `strata::nn::<name()>(<print_options()>)`, libtorch's pretty_print.
template <typename Fn, typename T>
class StatelessModule : public nn::Module<T> {
 public:
  /// Fn applied to the input (its shape rules and errors are Fn's).
  Tensor<T> forward(const Tensor<T>& input) const { return fn_(input); }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::" << this->name() << '(';
    print_options(out);
    out << ')';
  }

 protected:
  explicit StatelessModule(Fn fn = Fn()) : fn_(std::move(fn)) {}

  /// The options between the parentheses of the printed form (none by default).
  virtual void print_options(std::ostream& /*out*/) const {}

  const Fn& fn() const { return fn_; }

 private:
  Fn fn_;
};

}  // namespace detail
}  // namespace strata
