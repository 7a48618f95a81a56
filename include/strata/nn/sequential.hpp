#pragma once
/// \file
/// strata::nn::Sequential, torch.nn.Sequential: a chain of modules, each
/// fed the previous one's output, holding any strata module whose forward
/// takes one tensor (type-erased, like libtorch's AnyModule).

#include <functional>
#include <memory>
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

/// True when M has a forward taking one Tensor<T> and returning one (const or
/// not: LazyLinear's forward is non-const). Bilinear's forward takes two.
template <typename M, typename T, typename = void>
struct has_unary_forward : std::false_type {};
template <typename M, typename T>
struct has_unary_forward<M, T, std::void_t<decltype(std::declval<M&>().forward(std::declval<const Tensor<T>&>()))>>
    : std::is_convertible<decltype(std::declval<M&>().forward(std::declval<const Tensor<T>&>())), Tensor<T>> {};

/// True when M can be a child of Sequential<T>: a Module<T> with a one-tensor forward.
template <typename M, typename T>
constexpr bool is_sequential_child_v = has_unary_forward<M, T>::value && std::is_base_of_v<nn::Module<T>, M>;

template <typename P>
struct is_shared_ptr : std::false_type {};
template <typename M>
struct is_shared_ptr<std::shared_ptr<M>> : std::true_type {};

}  // namespace detail

namespace nn {

/// Runs its children in order, torch.nn.Sequential: forward(x) is
/// child_n(...child_1(child_0(x))). Children are named "0", "1", ... in the
/// order they are added, or by the name given to push_back, so state_dict()
/// has torch's keys ("0.weight", "features.3.bias") and a PyTorch
/// state_dict loads as is. A Sequential may hold Sequentials.
///
/// Children are held by shared pointer: a module passed by value is moved or
/// copied in (a copied layer still shares its parameter tensors, as every
/// strata module copy does); one passed as std::shared_ptr stays shared with
/// the caller. Copying a Sequential shares its children.
/// Example:
/// `strata::nn::Sequential<float> net(Linear<float>(4, 8), ReLU<float>(), Linear<float>(8, 2));
///  auto y = net(x);  // [N, 4] -> [N, 2];  net.at<Linear<float>>(0).weight();`
/// Throws strata::Error from forward when a child does (the message names
/// the child), from push_back for a bad or repeated name, and from the
/// accessors for a bad index or type. Adding a module whose forward does not
/// take one tensor (Bilinear) fails at compile time.
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
    return push_back(std::to_string(children_.size()), std::forward<M>(module));
  }

  /// Appends a child with a name of its own, e.g. "features" (its parameters
  /// become "features.weight", ...). Throws strata::Error when the name is
  /// empty, contains '.', or is already taken, and when the module is this
  /// Sequential or contains it (a cycle).
  template <typename M>
  Sequential& push_back(std::string name, M&& module) {
    if constexpr (detail::is_shared_ptr<std::decay_t<M>>::value) {
      using Held = typename std::decay_t<M>::element_type;
      check_child_type<Held>();
      detail::check(module != nullptr, "Sequential::push_back: child \"", name, "\" is a null pointer");
      return add(std::move(name), std::shared_ptr<Held>(std::forward<M>(module)));
    } else {
      using Held = std::decay_t<M>;
      check_child_type<Held>();
      return add(std::move(name), std::make_shared<Held>(std::forward<M>(module)));
    }
  }

  /// Feeds input through every child in order. Safe to call concurrently when
  /// every child's forward is (all but an uninitialised LazyLinear).
  Tensor<T> forward(const Tensor<T>& input) const {
    Tensor<T> x = input;
    for (const Child& child : children_) {
      try {
        x = child.forward(x);
      } catch (const Error& e) {
        throw Error(detail::concat("Sequential child (", child.name, "): ", e.what()));
      }
    }
    return x;
  }
  Tensor<T> operator()(const Tensor<T>& input) const { return forward(input); }

  /// Number of children.
  std::size_t size() const { return children_.size(); }
  bool empty() const { return children_.empty(); }

  /// The child at position i (negative counts from the end, as in Python).
  Module<T>& operator[](index_t i) const { return *children_[position(i, "Sequential")].module; }
  /// The child with this name ("0", "features", ...).
  Module<T>& operator[](const std::string& name) const { return *children_[position(name, "Sequential")].module; }

  /// The child at position i (or with this name) as its concrete type, to
  /// reach its weights: `net.at<Linear<float>>(3).weight()`. Throws
  /// strata::Error when the index or name is bad or the child is another type.
  template <typename M>
  M& at(index_t i) const {
    return cast<M>(children_[position(i, "Sequential::at")]);
  }
  template <typename M>
  M& at(const std::string& name) const {
    return cast<M>(children_[position(name, "Sequential::at")]);
  }

  /// The shared pointer to the child at position i.
  std::shared_ptr<Module<T>> ptr(index_t i) const { return children_[position(i, "Sequential::ptr")].module; }

  /// (name, child) for every child, in order.
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> named_children() const {
    std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> out;
    for (const Child& child : children_) out.emplace_back(child.name, child.module);
    return out;
  }

  std::string name() const override { return "Sequential"; }

  /// Lists the children like libtorch, nested ones indented by two more spaces:
  /// ```
  /// strata::nn::Sequential(
  ///   (0): strata::nn::Linear(in_features=4, out_features=8, bias=true)
  ///   (1): strata::nn::ReLU()
  /// )
  /// ```
  void pretty_print(std::ostream& out) const override {
    out << "strata::nn::Sequential(";
    if (children_.empty()) {
      out << ")";
      return;
    }
    out << "\n";
    for (const Child& child : children_) {
      std::ostringstream text;
      child.module->pretty_print(text);
      std::string lines = text.str();
      for (std::size_t at = lines.find('\n'); at != std::string::npos; at = lines.find('\n', at + 3))
        lines.replace(at, 1, "\n  ");
      out << "  (" << child.name << "): " << lines << "\n";
    }
    out << ")";
  }

 protected:
  std::vector<std::pair<std::string, Module<T>*>> child_modules() const override {
    std::vector<std::pair<std::string, Module<T>*>> out;
    for (const Child& child : children_) out.emplace_back(child.name, child.module.get());
    return out;
  }

 private:
  struct Child {
    std::string name;
    std::shared_ptr<Module<T>> module;
    std::function<Tensor<T>(const Tensor<T>&)> forward;
  };

  template <typename M>
  static constexpr void check_child_type() {
    static_assert(std::is_base_of_v<Module<T>, M>,
                  "strata::nn::Sequential<T>: a child must be a strata module (derived from strata::nn::Module<T>) "
                  "with the same scalar type T");
    static_assert(detail::has_unary_forward<M, T>::value,
                  "strata::nn::Sequential<T>: a child's forward must take one tensor; Bilinear takes two (x1, x2), "
                  "so it cannot be chained in a Sequential: call it between two Sequentials instead");
  }

  template <typename M>
  Sequential& add(std::string name, std::shared_ptr<M> module) {
    detail::check(!name.empty(), "Sequential::push_back: module name can't be empty string \"\"");
    detail::check(name.find('.') == std::string::npos,
                  "Sequential::push_back: module name can't contain \".\", got: ", name);
    for (const Child& child : children_)
      detail::check(child.name != name, "Sequential::push_back: a child named \"", name, "\" already exists");
    // A Sequential holding itself, directly or through its children, would
    // recurse without end in forward and in every listing of its parameters.
    detail::check(!contains(module.get(), this), "Sequential::push_back: adding child \"", name,
                  "\" would make a cycle (it is this Sequential or contains it)");
    M* raw = module.get();  // the Child's shared_ptr keeps it alive as long as the function
    children_.push_back(
        Child{std::move(name), std::move(module), [raw](const Tensor<T>& x) -> Tensor<T> { return raw->forward(x); }});
    return *this;
  }

  /// True when `root` is `target` or holds it somewhere below (only
  /// Sequentials hold children).
  static bool contains(const Module<T>* root, const Module<T>* target) {
    if (root == target) return true;
    const auto* sequential = dynamic_cast<const Sequential*>(root);
    if (sequential == nullptr) return false;
    for (const Child& child : sequential->children_)
      if (contains(child.module.get(), target)) return true;
    return false;
  }

  std::size_t position(index_t i, const char* who) const {
    const auto n = static_cast<index_t>(children_.size());
    detail::check(i >= -n && i < n, who, ": index ", i, " is out of range for a Sequential of ", n, " children");
    return static_cast<std::size_t>(i < 0 ? i + n : i);
  }
  std::size_t position(const std::string& name, const char* who) const {
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (children_[i].name == name) return i;
    throw Error(detail::concat(who, ": no child named \"", name, "\""));
  }

  template <typename M>
  static M& cast(const Child& child) {
    static_assert(std::is_base_of_v<Module<T>, M>, "Sequential::at<M>: M must be a strata module of scalar type T");
    M* typed = dynamic_cast<M*>(child.module.get());
    detail::check(typed != nullptr, "Sequential::at: child (", child.name, ") is a ", child.module->name(),
                  ", not the requested type");
    return *typed;
  }

  std::vector<Child> children_;
};

/// `Sequential net(Linear<double>(2, 3), ReLU<double>())` deduces Sequential<double>.
template <typename M, typename... Ms>
Sequential(M&&, Ms&&...) -> Sequential<typename std::decay_t<M>::value_type>;

}  // namespace nn
}  // namespace strata
