#pragma once
/// \file
/// strata::nn::Sequential, torch.nn.Sequential: a chain of modules, each
/// fed the previous one's output, holding any strata module whose forward
/// takes one tensor (type-erased, like libtorch's AnyModule).

#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"
#include "strata/nn/module.hpp"

namespace strata {
namespace detail {

/// True when M has a forward taking one Tensor<T> and returning one, const or
/// not (a user module's forward may be non-const; Bilinear's takes two tensors).
template <typename M, typename T, typename = void>
struct has_unary_forward : std::false_type {};
template <typename M, typename T>
struct has_unary_forward<M, T, std::void_t<decltype(std::declval<M&>().forward(std::declval<const Tensor<T>&>()))>>
    : std::is_convertible<decltype(std::declval<M&>().forward(std::declval<const Tensor<T>&>())), Tensor<T>> {};

/// True when M's one-tensor forward can be called on a const M.
template <typename M, typename T, typename = void>
struct has_const_unary_forward : std::false_type {};
template <typename M, typename T>
struct has_const_unary_forward<
    M, T, std::void_t<decltype(std::declval<const M&>().forward(std::declval<const Tensor<T>&>()))>>
    : std::true_type {};

/// True when M can be a child of Sequential<T>: a Module<T> with a one-tensor forward.
template <typename M, typename T>
constexpr bool is_sequential_child_v = has_unary_forward<M, T>::value && std::is_base_of_v<nn::Module<T>, M>;

}  // namespace detail

namespace nn {

/// Runs its children in order, torch.nn.Sequential: forward(x) is
/// child_n(...child_1(child_0(x))). Children are named "0", "1", ... in the
/// order they are added, or by the name given to push_back, so state_dict()
/// has torch's keys ("0.weight", "features.3.bias") and a PyTorch
/// state_dict loads as is. A Sequential may hold Sequentials and user modules.
///
/// Children live in the Module registry (named_children()), held by shared
/// pointer: a module passed by value is moved or copied in (a copied layer
/// still shares its parameter tensors, as every strata module copy does); one
/// passed as std::shared_ptr stays shared with the caller. Copying a
/// Sequential shares its children.
/// Example:
/// `strata::nn::Sequential<float> net(Linear<float>(4, 8), ReLU<float>(), Linear<float>(8, 2));
///  auto y = net(x);  // [N, 4] -> [N, 2];  net.at<Linear<float>>(0).weight();`
/// Throws strata::Error from forward when a child does (the message names
/// the child), from push_back for a bad or repeated name or a cycle, and from
/// the accessors for a bad index or type. Adding a module whose forward does
/// not take one tensor (Bilinear) fails at compile time.
template <typename T = float>
class Sequential : public Module<T> {
  // A lone Sequential argument copies or moves; with more arguments it nests.
  template <typename M, typename... Ms>
  using if_not_copy = std::enable_if_t<sizeof...(Ms) != 0 || !std::is_same_v<std::decay_t<M>, Sequential>>;

 public:
  /// An empty Sequential: forward returns its input.
  Sequential() = default;

  /// Children "0", "1", ... from the given modules (or shared pointers to them).
  template <typename M, typename... Ms, typename = if_not_copy<M, Ms...>>
  explicit Sequential(M&& first, Ms&&... rest) {
    push_back(std::forward<M>(first));
    (push_back(std::forward<Ms>(rest)), ...);
  }
  Sequential(const Sequential&) = default;
  Sequential(Sequential&&) noexcept = default;
  Sequential& operator=(const Sequential&) = default;
  Sequential& operator=(Sequential&&) noexcept = default;

  /// Appends a child named by its position ("0", "1", ...), as torch's append.
  /// `module` is a strata module (moved or copied in) or a std::shared_ptr to one.
  template <typename M>
  Sequential& push_back(M&& module) {
    return push_back(std::to_string(steps_.size()), std::forward<M>(module));
  }

  /// Appends a child with a name of its own, e.g. "features" (its parameters
  /// become "features.weight", ...). Throws strata::Error when the name is
  /// empty, contains '.', or is already taken, and when the module is this
  /// Sequential or contains it (a cycle).
  template <typename M>
  Sequential& push_back(std::string name, M&& module) {
    using Held = strata::detail::held_module_t<M>;
    static_assert(std::is_base_of_v<Module<T>, Held>,
                  "strata::nn::Sequential<T>: a child must be a strata module (derived from strata::nn::Module<T>) "
                  "with the same scalar type T");
    static_assert(strata::detail::has_unary_forward<Held, T>::value,
                  "strata::nn::Sequential<T>: a child's forward must take one tensor; Bilinear takes two (x1, x2), "
                  "so it cannot be chained in a Sequential: call it between two Sequentials instead");
    std::shared_ptr<Held> child = this->add_child("Sequential::push_back", name, std::forward<M>(module));
    Step step{std::move(name), nullptr, nullptr};
    if constexpr (strata::detail::has_const_unary_forward<Held, T>::value) {
      step.forward = [raw = child.get()](const Tensor<T>& x) -> Tensor<T> { return raw->forward(x); };
    } else {
      // A forward that is not const may change its module: calls to it are
      // serialised, so the Sequential's own const forward stays safe to share.
      auto lock = std::make_shared<std::mutex>();
      step.forward = [raw = child.get(), lock](const Tensor<T>& x) -> Tensor<T> {
        std::lock_guard<std::mutex> guard(*lock);
        return raw->forward(x);
      };
    }
    step.module = std::move(child);
    steps_.push_back(std::move(step));
    return *this;
  }

  /// Feeds input through every child in order. Safe to call from several
  /// threads at once: children whose forward is not const (a user module's)
  /// are called one thread at a time.
  Tensor<T> forward(const Tensor<T>& input) const {
    Tensor<T> x = input;
    for (const Step& step : steps_) {
      try {
        x = step.forward(x);
      } catch (const Error& e) {
        throw Error(strata::detail::concat("Sequential child (", step.name, "): ", e.what()));
      }
    }
    return x;
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Number of children.
  std::size_t size() const { return steps_.size(); }
  bool empty() const { return steps_.empty(); }

  /// The child at position i (negative counts from the end, as in Python).
  Module<T>& operator[](index_t i) const { return *steps_[position(i, "Sequential")].module; }
  /// The child with this name ("0", "features", ...).
  Module<T>& operator[](const std::string& name) const { return *steps_[position(name, "Sequential")].module; }

  /// The child at position i (or with this name) as its concrete type, to
  /// reach its weights: `net.at<Linear<float>>(3).weight()`. Throws
  /// strata::Error when the index or name is bad or the child is another type.
  template <typename M>
  M& at(index_t i) const {
    return cast<M>(steps_[position(i, "Sequential::at")]);
  }
  template <typename M>
  M& at(const std::string& name) const {
    return cast<M>(steps_[position(name, "Sequential::at")]);
  }

  /// The shared pointer to the child at position i.
  std::shared_ptr<Module<T>> ptr(index_t i) const { return steps_[position(i, "Sequential::ptr")].module; }

  std::string name() const override { return "Sequential"; }

  /// Lists the children like libtorch, nested ones indented by two more spaces:
  /// ```
  /// strata::nn::Sequential(
  ///   (0): strata::nn::Linear(in_features=4, out_features=8, bias=true)
  ///   (1): strata::nn::ReLU()
  /// )
  /// ```
  void pretty_print(std::ostream& out) const override { this->print_children(out, "strata::nn::Sequential"); }

 private:
  /// A child as the chain runs it: its registry entry's module and its forward.
  struct Step {
    std::string name;
    std::shared_ptr<Module<T>> module;
    std::function<Tensor<T>(const Tensor<T>&)> forward;
  };

  std::size_t position(index_t i, const char* who) const {
    const auto n = static_cast<index_t>(steps_.size());
    strata::detail::check(i >= -n && i < n, who, ": index ", i, " is out of range for a Sequential of ", n, " children");
    return static_cast<std::size_t>(i < 0 ? i + n : i);
  }
  std::size_t position(const std::string& name, const char* who) const {
    for (std::size_t i = 0; i < steps_.size(); ++i)
      if (steps_[i].name == name) return i;
    throw Error(strata::detail::concat(who, ": no child named \"", name, "\""));
  }

  template <typename M>
  static M& cast(const Step& step) {
    static_assert(std::is_base_of_v<Module<T>, M>, "Sequential::at<M>: M must be a strata module of scalar type T");
    M* typed = dynamic_cast<M*>(step.module.get());
    strata::detail::check(typed != nullptr, "Sequential::at: child (", step.name, ") is a ", step.module->name(),
                  ", not the requested type");
    return *typed;
  }

  std::vector<Step> steps_;
};

/// `Sequential net(Linear<double>(2, 3), ReLU<double>())` deduces Sequential<double>.
template <typename M, typename... Ms>
Sequential(M&&, Ms&&...) -> Sequential<typename std::decay_t<M>::value_type>;

}  // namespace nn
}  // namespace strata
