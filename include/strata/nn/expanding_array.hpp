#pragma once
/// \file
/// strata::nn::ExpandingArray<D>: D sizes given either as one value (repeated D
/// times) or as exactly D values, like libtorch's torch::ExpandingArray. Conv
/// options use it so that `.stride(2)` and `.stride({2, 1})` both work.

#include <array>
#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"

namespace strata {
namespace nn {

/// D index values, implicitly constructible from one value (repeated D times),
/// an initializer list or vector of exactly D values, or a std::array<index_t, D>.
/// Prints like libtorch: `[3, 5]`, and a one-element array as the bare value `3`.
/// Example: `ExpandingArray<2> k = 3;  // [3, 3]`, `ExpandingArray<2> s = {2, 1};`
/// Throws strata::Error when a list does not hold exactly D values.
template <std::size_t D>
class ExpandingArray {
  static_assert(D >= 1, "strata::nn::ExpandingArray<D>: D must be at least 1");

 public:
  /// Every entry equal to `value`.
  ExpandingArray(index_t value) { values_.fill(value); }  // NOLINT: implicit, like libtorch
  /// Exactly D values.
  ExpandingArray(std::initializer_list<index_t> values) { assign(values.begin(), values.size()); }
  ExpandingArray(const std::vector<index_t>& values) { assign(values.data(), values.size()); }
  ExpandingArray(const std::array<index_t, D>& values) : values_(values) {}

  static constexpr std::size_t size() { return D; }
  index_t& operator[](std::size_t i) { return values_[i]; }
  index_t operator[](std::size_t i) const { return values_[i]; }
  const std::array<index_t, D>& array() const { return values_; }
  auto begin() const { return values_.begin(); }
  auto end() const { return values_.end(); }

  friend bool operator==(const ExpandingArray& a, const ExpandingArray& b) { return a.values_ == b.values_; }
  friend bool operator!=(const ExpandingArray& a, const ExpandingArray& b) { return !(a == b); }

  /// `[3, 5]`; a one-element array prints as `3`, exactly as libtorch prints it.
  friend std::ostream& operator<<(std::ostream& out, const ExpandingArray& a) {
    if constexpr (D == 1) return out << a.values_[0];
    out << '[';
    for (std::size_t i = 0; i < D; ++i) out << (i ? ", " : "") << a.values_[i];
    return out << ']';
  }

 private:
  void assign(const index_t* values, std::size_t count) {
    strata::detail::check(count == D, "ExpandingArray: expected ", D, D == 1 ? " value" : " values", ", got ", count,
                          count == 1 ? " value" : " values");
    for (std::size_t i = 0; i < D; ++i) values_[i] = values[i];
  }

  std::array<index_t, D> values_{};
};

}  // namespace nn
}  // namespace strata
