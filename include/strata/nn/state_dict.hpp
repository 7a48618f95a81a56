#pragma once
/// \file
/// strata::nn::strip_prefix: the keys of a state_dict without a prefix, for
/// checkpoints saved from DataParallel ("module.") or nested under a key
/// ("model."), like torch.nn.modules.utils.consume_prefix_in_state_dict_if_present.

#include <map>
#include <string>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace nn {

/// A copy of `state` (the tensors shared, not cloned) in which every key
/// that starts with `prefix` has it removed; the other keys are kept as they
/// are. An empty prefix changes nothing.
/// Example: `net.load_state_dict(strata::nn::strip_prefix(strata::io::load_safetensors<float>(path), "module."));`
/// Throws strata::Error when removing the prefix would leave an empty key or
/// a key that the state_dict holds already (torch would silently keep one of the two).
template <typename T>
std::map<std::string, Tensor<T>> strip_prefix(const std::map<std::string, Tensor<T>>& state, const std::string& prefix) {
  std::map<std::string, Tensor<T>> out;
  for (const auto& [key, tensor] : state) {
    const bool strip = !prefix.empty() && key.compare(0, prefix.size(), prefix) == 0;
    const std::string name = strip ? key.substr(prefix.size()) : key;
    strata::detail::check(!name.empty(), "strip_prefix: removing \"", prefix, "\" from the key \"", key,
                          "\" leaves an empty key");
    const bool added = out.emplace(name, tensor).second;
    strata::detail::check(added, "strip_prefix: removing \"", prefix, "\" gives the key \"", name,
                          "\" twice (the state_dict holds both \"", name, "\" and \"", prefix, name, "\")");
  }
  return out;
}

}  // namespace nn
}  // namespace strata
