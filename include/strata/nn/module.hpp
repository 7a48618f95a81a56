#pragma once
/// \file
/// strata::nn::Module<T>: what every layer shares — its named parameters,
/// parameter counts, state_dict / load_state_dict with torch's names, and
/// printing. Layers derive from it and list their parameters; the data path
/// (forward) lives in each layer and in nn/functional.

#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace detail {

/// Tag for the layer constructors that start from zero parameters instead of
/// drawing them (the conversions, which overwrite them at once: drawing the
/// 102M weights of VGG's first FC layer only to discard them costs seconds).
struct ZeroInit {};

}  // namespace detail

namespace nn {

/// Base of every strata layer and container.
///
/// Parameters are tensors owned by the module; named_parameters() hands out
/// tensors that share their storage, so writing into one writes the layer's
/// parameter. Copying a module shares its parameters too (torch's reference
/// semantics); build a new layer and load_state_dict for an independent copy.
template <typename T = float>
class Module {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::nn::Module<T>: T must be float or double");

 public:
  using value_type = T;
  using StateDict = std::map<std::string, Tensor<T>>;

  virtual ~Module() = default;

  /// The class name torch uses, e.g. "Linear", "Conv2d", "Sequential".
  virtual std::string name() const = 0;

  /// (name, tensor) for every defined parameter, in torch's order ("weight",
  /// "bias"; children's as "0.weight", "features.3.bias").
  std::vector<std::pair<std::string, Tensor<T>>> named_parameters() const {
    std::vector<std::pair<std::string, Tensor<T>>> out;
    collect_parameters("", out);
    return out;
  }

  /// Every defined parameter, in torch's order.
  std::vector<Tensor<T>> parameters() const {
    std::vector<Tensor<T>> out;
    for (auto& [key, tensor] : named_parameters()) out.push_back(tensor);
    return out;
  }

  /// Total number of parameter elements: Linear(8, 32) and Conv1d(8, 32, 1) give 288.
  index_t num_parameters() const {
    index_t n = 0;
    for (const auto& [key, tensor] : named_parameters()) n += tensor.numel();
    return n;
  }

  /// name -> parameter, with torch's state_dict keys. The tensors share the
  /// module's storage; clone them to keep a snapshot.
  StateDict state_dict() const {
    StateDict out;
    for (auto& [key, tensor] : named_parameters()) out.emplace(key, tensor);
    return out;
  }

  /// Copies `state` into the parameters. Strict, like torch: missing keys,
  /// unexpected keys and shape mismatches are reported together in one
  /// strata::Error; nothing is changed unless every key fits.
  void load_state_dict(const StateDict& state) {
    std::vector<std::pair<std::string, Tensor<T>*>> slots;
    collect_slots("", slots);
    std::vector<std::string> missing, unexpected, mismatched;
    std::map<std::string, Tensor<T>*> by_name;
    for (auto& [key, slot] : slots) by_name.emplace(key, slot);
    for (const auto& [key, slot] : slots) {
      auto it = state.find(key);
      if (it == state.end()) {
        missing.push_back(key);
      } else if (!it->second.defined()) {
        mismatched.push_back(detail::concat("size mismatch for ", key, ": copying an undefined tensor"));
      } else if (slot->defined() && it->second.shape() != slot->shape()) {
        mismatched.push_back(detail::concat("size mismatch for ", key, ": copying a param with shape ",
                                            it->second.shape(), ", the shape in current model is ", slot->shape(),
                                            "."));
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
    for (auto& [key, slot] : slots) {
      const Tensor<T>& source = state.at(key);
      if (slot->defined()) {
        slot->copy_(source);
      } else {
        *slot = source.clone();  // a parameter not yet materialised (LazyLinear) takes the loaded shape
      }
    }
    notify_parameters_loaded();
  }

  /// Writes the layer the way libtorch prints it, e.g.
  /// `strata::nn::Linear(in_features=20, out_features=30, bias=true)`.
  virtual void pretty_print(std::ostream& out) const = 0;

  friend std::ostream& operator<<(std::ostream& out, const Module& m) {
    m.pretty_print(out);
    return out;
  }

 protected:
  Module() = default;
  Module(const Module&) = default;
  Module(Module&&) noexcept = default;
  Module& operator=(const Module&) = default;
  Module& operator=(Module&&) noexcept = default;

  /// The module's own parameter slots, (name, pointer), in torch's order:
  /// only the parameters this configuration has (no "bias" slot when
  /// bias=false). A slot may hold an undefined tensor that load_state_dict
  /// materialises (an uninitialised LazyLinear); listings skip those.
  virtual std::vector<std::pair<std::string, Tensor<T>*>> parameter_slots() { return {}; }

  /// The module's children, (name, pointer), in order (containers override).
  virtual std::vector<std::pair<std::string, Module*>> child_modules() const { return {}; }

  /// Called after load_state_dict replaced the parameters (LazyLinear uses it).
  virtual void parameters_loaded() {}

  /// Lets a module refuse loaded tensors that Module cannot judge by itself
  /// (the shapes for an uninitialised LazyLinear's undefined slots): append
  /// one line per problem to `mismatched`. Runs on the whole tree before
  /// anything is copied, so a refused load changes nothing anywhere.
  virtual void check_state(const std::string& /*prefix*/, const StateDict& /*state*/,
                           std::vector<std::string>& /*mismatched*/) const {}

 private:
  void check_state_tree(const std::string& prefix, const StateDict& state,
                        std::vector<std::string>& mismatched) const {
    check_state(prefix, state, mismatched);
    for (auto& [key, child] : child_modules()) child->check_state_tree(prefix + key + ".", state, mismatched);
  }

  /// parameters_loaded() on every module of the tree (a LazyLinear inside a Sequential too).
  void notify_parameters_loaded() {
    for (auto& [key, child] : child_modules()) child->notify_parameters_loaded();
    parameters_loaded();
  }
  void collect_slots(const std::string& prefix, std::vector<std::pair<std::string, Tensor<T>*>>& out) {
    for (auto& [key, slot] : parameter_slots()) {
      out.emplace_back(prefix + key, slot);
    }
    for (auto& [key, child] : child_modules()) child->collect_slots(prefix + key + ".", out);
  }
  void collect_parameters(const std::string& prefix, std::vector<std::pair<std::string, Tensor<T>>>& out) const {
    for (auto& [key, slot] : const_cast<Module*>(this)->parameter_slots()) {
      if (slot->defined()) out.emplace_back(prefix + key, *slot);
    }
    for (auto& [key, child] : child_modules()) child->collect_parameters(prefix + key + ".", out);
  }
};

}  // namespace nn
}  // namespace strata
