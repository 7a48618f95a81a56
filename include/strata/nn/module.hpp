#pragma once
/// \file
/// strata::nn::Module<T>: the registry every layer, container and user module
/// is built on — named parameters, buffers and children in registration
/// order, state_dict / load_state_dict with torch's dotted keys, and printing
/// of the module tree. A layer registers its tensors in its constructor; its
/// data path (forward) lives in the layer and in nn/functional.

#include <deque>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace nn {

/// Tag for the layer constructors that allocate zero parameters instead of
/// drawing them from the default generator, like torch.nn.utils.skip_init:
/// for code that overwrites them at once (the conversions, fusing, loading).
/// Example: `strata::nn::Linear<float> fc(strata::nn::LinearOptions(4096, 4096), strata::nn::kSkipInit);`
struct SkipInit {};
inline constexpr SkipInit kSkipInit{};

template <typename T>
class Module;

}  // namespace nn

namespace detail {

template <typename P>
struct is_shared_ptr : std::false_type {};
template <typename M>
struct is_shared_ptr<std::shared_ptr<M>> : std::true_type {};

/// The module type held by `register_module(name, m)` for an argument of type M
/// (a module by value, or a std::shared_ptr to one).
template <typename M, bool = is_shared_ptr<std::decay_t<M>>::value>
struct held_module {
  using type = std::decay_t<M>;
};
template <typename M>
struct held_module<M, true> {
  using type = typename std::decay_t<M>::element_type;
};
template <typename M>
using held_module_t = typename held_module<M>::type;

/// Indents every line of `text` after the first by two spaces (torch's _addindent).
inline std::string indent_lines(std::string text) {
  for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + 3)) text.replace(at, 1, "\n  ");
  return text;
}

}  // namespace detail

namespace nn {

/// Base of every strata layer, container and user-defined module, like
/// libtorch's torch::nn::Module: it holds the module's parameters, buffers
/// and children by name, in registration order.
///
/// Tensors are shared, as in torch: named_parameters(), state_dict() and the
/// references register_parameter returns all share storage with the
/// module's own tensors, and copying a module shares its parameters, buffers
/// and children (build a new module and load_state_dict for an independent copy).
/// Example (a user module):
/// `struct Block : Module<float> { std::shared_ptr<Conv2d<float>> conv;
///    Block() { conv = register_module("conv", Conv2d<float>(Conv2dOptions(8, 8, 3).padding(1))); }
///    Tensor<float> forward(const Tensor<float>& x) const { return conv->forward(x) + x; } };`
/// Throws strata::Error from the register_* functions for an empty name, a
/// name with '.', a name already taken, or a child that would make a cycle,
/// and from load_state_dict for every mismatch (all reported in one message).
template <typename T = float>
class Module {
  static_assert(strata::detail::is_scalar_v<T>, "strata::nn::Module<T>: T must be float or double");

 public:
  using value_type = T;
  using StateDict = std::map<std::string, Tensor<T>>;
  using NamedTensors = std::vector<std::pair<std::string, Tensor<T>>>;
  using NamedChildren = std::vector<std::pair<std::string, std::shared_ptr<Module>>>;

  virtual ~Module() = default;

  /// The class name printing and error messages use: torch's for the
  /// built-in layers ("Linear", "Sequential"); a user module may override it.
  virtual std::string name() const { return "Module"; }

  /// Writes the module the way torch prints it: `Name(` then one
  /// `  (child): ...` line per child, then `)`, or `Name()` without children.
  /// The built-in layers print their options instead, as libtorch does:
  /// `strata::nn::Linear(in_features=20, out_features=30, bias=true)`.
  virtual void pretty_print(std::ostream& out) const { print_children(out, name()); }

  friend std::ostream& operator<<(std::ostream& out, const Module& m) {
    m.pretty_print(out);
    return out;
  }

  // ---- registration ------------------------------------------------------

  /// Adds a child module under `name` and returns it as a std::shared_ptr: a
  /// module passed by value is moved or copied in; a std::shared_ptr stays
  /// shared with the caller. Its parameters become "<name>.<theirs>".
  template <typename M>
  std::shared_ptr<strata::detail::held_module_t<M>> register_module(std::string name, M&& module) {
    return add_child("register_module", std::move(name), std::forward<M>(module));
  }

  /// Adds a parameter under `name` and returns a reference to the module's own
  /// tensor (a copy of it shares its storage, so it sees load_state_dict's
  /// values). An undefined tensor registers an absent parameter, like torch's
  /// register_parameter(name, None): it is listed nowhere and not loaded.
  Tensor<T>& register_parameter(std::string name, Tensor<T> tensor) {
    return add_tensor(std::move(name), std::move(tensor), Kind::Parameter, "register_parameter");
  }

  /// Adds a buffer (a tensor that is state but not a parameter, such as
  /// BatchNorm's running_mean) under `name`; like register_parameter otherwise.
  Tensor<T>& register_buffer(std::string name, Tensor<T> tensor) {
    return add_tensor(std::move(name), std::move(tensor), Kind::Buffer, "register_buffer");
  }

  // ---- listings ------------------------------------------------------------

  /// (name, tensor) for every parameter, torch's order: the module's own,
  /// then each child's in registration order, with dotted names ("0.weight",
  /// "layer1.0.conv1.weight").
  NamedTensors named_parameters() const {
    NamedTensors out;
    collect("", Kind::Parameter, out);
    return out;
  }
  /// (name, tensor) for every buffer, in the same order as named_parameters.
  NamedTensors named_buffers() const {
    NamedTensors out;
    collect("", Kind::Buffer, out);
    return out;
  }
  /// Every parameter, in torch's order.
  std::vector<Tensor<T>> parameters() const { return values(named_parameters()); }
  /// Every buffer, in torch's order.
  std::vector<Tensor<T>> buffers() const { return values(named_buffers()); }
  /// The direct children, (name, module), in registration order.
  NamedChildren named_children() const { return children_; }

  /// Total number of parameter elements: Linear(8, 32) and Conv1d(8, 32, 1) give 288.
  index_t num_parameters() const {
    index_t n = 0;
    for (const auto& [key, tensor] : named_parameters()) n += tensor.numel();
    return n;
  }

  /// name -> tensor for every parameter and buffer, with torch's keys. The
  /// tensors share the module's storage; clone them to keep a snapshot.
  StateDict state_dict() const {
    NamedTensors all;
    collect("", Kind::Any, all);
    return StateDict(all.begin(), all.end());
  }

  /// Copies `state` into the parameters and buffers. Strict, like torch:
  /// missing keys, unexpected keys and shape mismatches are reported together
  /// in one strata::Error, and nothing is changed unless every key fits.
  void load_state_dict(const StateDict& state) {
    std::vector<std::pair<std::string, Entry*>> slots;
    collect_slots("", slots);
    std::vector<std::string> missing, unexpected, mismatched;
    std::map<std::string, Entry*> by_name;
    for (auto& [key, entry] : slots) by_name.emplace(key, entry);
    for (const auto& [key, entry] : slots) {
      auto it = state.find(key);
      if (it == state.end()) {
        if (entry->state != State::MayBeMissing) missing.push_back(key);
      } else if (!it->second.defined()) {
        mismatched.push_back(strata::detail::concat("size mismatch for ", key, ": copying an undefined tensor"));
      } else if (entry->state != State::Uninitialized && it->second.shape() != entry->tensor.shape()) {
        mismatched.push_back(strata::detail::concat("size mismatch for ", key, ": copying a param with shape ",
                                            it->second.shape(), ", the shape in current model is ",
                                            entry->tensor.shape(), "."));
      }
    }
    for (const auto& [key, tensor] : state) {
      if (!by_name.count(key)) unexpected.push_back(key);
    }
    if (missing.empty()) check_state_tree("", state, mismatched);
    if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
      std::ostringstream message;
      message << "Error(s) in loading state_dict for " << name() << ":";
      auto list = [&](const char* title, const std::vector<std::string>& keys) {
        if (keys.empty()) return;
        message << "\n\t" << title << ": ";
        for (std::size_t i = 0; i < keys.size(); ++i) message << (i ? ", " : "") << '"' << keys[i] << '"';
        message << '.';
      };
      list("Missing key(s) in state_dict", missing);
      list("Unexpected key(s) in state_dict", unexpected);
      for (const std::string& m : mismatched) message << "\n\t" << m;
      throw Error(message.str());
    }
    for (auto& [key, entry] : slots) {
      auto it = state.find(key);
      if (it == state.end()) {
        entry->tensor.fill_(T(0));  // a buffer torch also fills when an older state_dict lacks it
      } else if (entry->state == State::Uninitialized) {
        entry->tensor = it->second.clone();  // takes the loaded shape (an uninitialised LazyLinear)
        entry->state = State::Fixed;
      } else {
        entry->tensor.copy_(it->second);
      }
    }
    notify_loaded();
  }

 protected:
  Module() = default;
  Module(const Module&) = default;
  Module(Module&&) noexcept = default;
  Module& operator=(const Module&) = default;
  Module& operator=(Module&&) noexcept = default;

  /// register_module with `who` naming the caller in messages (Sequential::push_back).
  template <typename M>
  std::shared_ptr<strata::detail::held_module_t<M>> add_child(const char* who, std::string name, M&& module) {
    using Held = strata::detail::held_module_t<M>;
    static_assert(std::is_base_of_v<Module, Held>,
                  "strata::nn::Module<T>::register_module: the child must be a strata module (derived from "
                  "strata::nn::Module<T>) with the same scalar type T");
    std::shared_ptr<Held> child;
    if constexpr (strata::detail::is_shared_ptr<std::decay_t<M>>::value) {
      child = std::forward<M>(module);
      strata::detail::check(child != nullptr, who, ": child \"", name, "\" is a null pointer");
    } else {
      child = std::make_shared<Held>(std::forward<M>(module));
    }
    check_new_name(name, who, "module");
    // A module holding itself, directly or through its children, would recurse
    // without end in forward and in every listing of its parameters.
    strata::detail::check(!child->contains(this), who, ": adding child \"", name,
                  "\" would make a cycle (it is this module or contains it)");
    children_.emplace_back(std::move(name), child);
    return child;
  }

  /// How load_state_dict treats a registered tensor.
  enum class State {
    Fixed,          ///< required, with the shape it has
    MayBeMissing,   ///< a buffer that may be absent from a state_dict (then set to 0), like num_batches_tracked
    Uninitialized,  ///< undefined until loaded or materialised; takes the loaded shape (LazyLinear)
  };

  /// A parameter that is absent for this configuration (bias=false): listed
  /// nowhere, not loaded, and check_registered_shapes refuses a tensor set
  /// into it, saying `reason` ("the layer was built with bias=false").
  Tensor<T>& register_absent_parameter(std::string name, std::string reason) {
    Tensor<T>& slot = add_tensor(std::move(name), Tensor<T>(), Kind::Parameter, "register_parameter");
    tensors_.back().absent_reason = std::move(reason);
    return slot;
  }
  /// The "bias" parameter of a layer with a bias option: zeros of shape
  /// [size] when `present`, else an absent parameter ("the layer was built
  /// with bias=false").
  Tensor<T>& register_bias(bool present, index_t size) {
    if (present) return register_parameter("bias", Tensor<T>::zeros({size}));
    return register_absent_parameter("bias", "the layer was built with bias=false");
  }
  /// A buffer that load_state_dict may find missing (it is then set to 0).
  Tensor<T>& register_optional_buffer(std::string name, Tensor<T> tensor) {
    Tensor<T>& slot = add_tensor(std::move(name), std::move(tensor), Kind::Buffer, "register_buffer");
    tensors_.back().state = State::MayBeMissing;
    return slot;
  }
  /// A parameter without a shape yet (LazyLinear's before its first forward):
  /// load_state_dict fills it with a copy of the loaded tensor.
  Tensor<T>& register_uninitialized_parameter(std::string name) {
    Tensor<T>& slot = add_tensor(std::move(name), Tensor<T>(), Kind::Parameter, "register_parameter");
    tensors_.back().state = State::Uninitialized;
    return slot;
  }
  /// Gives an uninitialised parameter its tensor (from now on required with
  /// its shape). Const because a lazy layer materialises its parameters in
  /// its const forward: the caller makes sure no other thread uses them meanwhile.
  void materialize_parameter(const std::string& key, Tensor<T> tensor) const {
    Entry& entry = find(*this, key);
    entry.shape = tensor.shape();
    entry.tensor = std::move(tensor);
    entry.state = State::Fixed;
  }

  /// The registered parameter or buffer `key` of this module (not a child's).
  /// Throws strata::Error when there is none.
  Tensor<T>& tensor(const std::string& key) { return find(*this, key).tensor; }
  const Tensor<T>& tensor(const std::string& key) const { return find(*this, key).tensor; }

  /// The check every layer runs at the top of forward: its parameters and
  /// buffers are writable (weight() returns a reference), so a tensor of
  /// another shape set into one, or a tensor set into an absent one, is a
  /// strata::Error naming `who` ("Linear: expected weight of shape [30, 20],
  /// got [30, 21]"). Cheap on success: no message is built.
  void check_registered_shapes(const char* who) const {
    for (const Entry& e : tensors_) {
      if (e.state == State::Uninitialized) continue;
      if (!e.absent_reason.empty()) {
        if (e.tensor.defined()) {
          throw Error(strata::detail::concat(who, ": expected no ", e.name, " (", e.absent_reason, "), got shape ",
                                     e.tensor.shape()));
        }
      } else if (!e.tensor.defined() || e.tensor.shape() != e.shape) {
        throw Error(strata::detail::concat(who, ": expected ", e.name, " of shape ", e.shape, ", got ",
                                   e.tensor.defined() ? to_string(e.tensor.shape()) : "an undefined tensor"));
      }
    }
  }

  /// Writes `title(` and one `  (child): ...` line per child (nested ones
  /// indented two more spaces), then `)`; or `title()` without children.
  void print_children(std::ostream& out, const std::string& title) const {
    out << title << "(";
    if (children_.empty()) {
      out << ")";
      return;
    }
    out << "\n";
    for (const auto& [key, child] : children_) {
      std::ostringstream text;
      child->pretty_print(text);
      out << "  (" << key << "): " << strata::detail::indent_lines(text.str()) << "\n";
    }
    out << ")";
  }

  /// Lets a module refuse loaded tensors that Module cannot judge by itself
  /// (the shapes for an uninitialised LazyLinear): append one line per
  /// problem to `mismatched`. Runs on the whole tree before anything is
  /// copied, so a refused load changes nothing anywhere.
  virtual void check_state(const std::string& /*prefix*/, const StateDict& /*state*/,
                           std::vector<std::string>& /*mismatched*/) const {}

  /// Called on every module of the tree after load_state_dict copied the values.
  virtual void state_loaded() {}

 private:
  enum class Kind { Parameter, Buffer, Any };

  struct Entry {
    std::string name;
    Tensor<T> tensor;
    Kind kind = Kind::Parameter;
    Shape shape;                ///< the shape it was registered (or materialised) with
    State state = State::Fixed;
    std::string absent_reason;  ///< not empty: an absent parameter
  };

  /// True when `target` is this module or lies somewhere below it.
  bool contains(const Module* target) const {
    if (this == target) return true;
    for (const auto& [key, child] : children_)
      if (child->contains(target)) return true;
    return false;
  }

  /// torch's rules for a new name: not empty, no '.', not taken by a child, parameter or buffer.
  void check_new_name(const std::string& name, const char* who, const char* what) const {
    strata::detail::check(!name.empty(), who, ": ", what, " name can't be empty string \"\"");
    strata::detail::check(name.find('.') == std::string::npos, who, ": ", what, " name can't contain \".\", got: ", name);
    for (const Entry& e : tensors_) {
      strata::detail::check(e.name != name, who, ": a ", e.kind == Kind::Buffer ? "buffer" : "parameter", " named \"", name,
                    "\" already exists");
    }
    for (const auto& [key, child] : children_)
      strata::detail::check(key != name, who, ": a child named \"", name, "\" already exists");
  }

  Tensor<T>& add_tensor(std::string name, Tensor<T> tensor, Kind kind, const char* who) {
    check_new_name(name, who, kind == Kind::Buffer ? "buffer" : "parameter");
    Shape shape = tensor.defined() ? tensor.shape() : Shape();
    // A deque never moves its elements: the returned reference stays valid.
    Entry entry;
    entry.name = std::move(name);
    entry.tensor = std::move(tensor);
    entry.kind = kind;
    entry.shape = std::move(shape);
    tensors_.push_back(std::move(entry));
    return tensors_.back().tensor;
  }

  /// The entry `key` of `self` (const or not). Throws strata::Error when there is none.
  template <typename Self>
  static auto& find(Self& self, const std::string& key) {
    for (auto& e : self.tensors_)
      if (e.name == key) return e;
    throw Error(strata::detail::concat(self.name(), ": no parameter or buffer named \"", key, "\""));
  }

  static std::vector<Tensor<T>> values(const NamedTensors& named) {
    std::vector<Tensor<T>> out;
    for (const auto& [key, tensor] : named) out.push_back(tensor);
    return out;
  }

  void collect(const std::string& prefix, Kind kind, NamedTensors& out) const {
    for (const Entry& e : tensors_) {
      if ((kind == Kind::Any || e.kind == kind) && e.tensor.defined()) out.emplace_back(prefix + e.name, e.tensor);
    }
    for (const auto& [key, child] : children_) child->collect(prefix + key + ".", kind, out);
  }

  /// Every tensor load_state_dict fills: defined ones and uninitialised ones, not absent ones.
  void collect_slots(const std::string& prefix, std::vector<std::pair<std::string, Entry*>>& out) {
    for (Entry& e : tensors_) {
      if (e.tensor.defined() || e.state == State::Uninitialized) out.emplace_back(prefix + e.name, &e);
    }
    for (auto& [key, child] : children_) child->collect_slots(prefix + key + ".", out);
  }

  void check_state_tree(const std::string& prefix, const StateDict& state,
                        std::vector<std::string>& mismatched) const {
    check_state(prefix, state, mismatched);
    for (const auto& [key, child] : children_) child->check_state_tree(prefix + key + ".", state, mismatched);
  }

  void notify_loaded() {
    for (Entry& e : tensors_) {
      if (e.tensor.defined()) e.shape = e.tensor.shape();
    }
    for (auto& [key, child] : children_) child->notify_loaded();
    state_loaded();
  }

  // mutable for materialize_parameter only: a lazy layer's const forward creates its tensors.
  mutable std::deque<Entry> tensors_;
  NamedChildren children_;
};

}  // namespace nn
}  // namespace strata
