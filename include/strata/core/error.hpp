#pragma once
/// \file
/// strata::Error, the one exception family of the library, and the helpers that
/// build its messages ("who: expected ..., got ...").

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace strata {

/// Thrown for every invalid argument, shape, option or file.
/// The message names the layer or function, what was expected and what was given.
/// Example: `Conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [2, 3, 8]`
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// Streams every argument into one string.
template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

/// Throws strata::Error with the concatenated message unless `condition` holds.
template <typename... Args>
void check(bool condition, Args&&... message) {
  if (!condition) throw Error(concat(std::forward<Args>(message)...));
}

}  // namespace detail
}  // namespace strata
