#pragma once
/// \file
/// strata::Shape (the sizes of a tensor) and the overflow-checked size arithmetic
/// every allocation goes through.

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "strata/core/error.hpp"

namespace strata {

/// Signed index and size type, like torch's int64_t.
using index_t = std::int64_t;

namespace detail {
/// True for the scalar types strata computes in: float and double.
template <typename T>
inline constexpr bool is_scalar_v = std::is_same_v<T, float> || std::is_same_v<T, double>;
}  // namespace detail

/// The sizes of a tensor: a small vector of index_t that prints as `[128, 30]`.
/// Example: `Shape s{128, 30}; s[1] == 30; std::cout << s;`
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<index_t> sizes) : sizes_(sizes) {}
  explicit Shape(std::vector<index_t> sizes) : sizes_(std::move(sizes)) {}

  std::size_t size() const { return sizes_.size(); }
  bool empty() const { return sizes_.empty(); }
  index_t& operator[](std::size_t i) { return sizes_[i]; }
  index_t operator[](std::size_t i) const { return sizes_[i]; }
  index_t back() const { return sizes_.back(); }
  const std::vector<index_t>& vec() const { return sizes_; }
  auto begin() const { return sizes_.begin(); }
  auto end() const { return sizes_.end(); }

  friend bool operator==(const Shape& a, const Shape& b) { return a.sizes_ == b.sizes_; }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

  friend std::ostream& operator<<(std::ostream& out, const Shape& s) {
    out << '[';
    for (std::size_t i = 0; i < s.sizes_.size(); ++i) out << (i ? ", " : "") << s.sizes_[i];
    return out << ']';
  }

 private:
  std::vector<index_t> sizes_;
};

/// "[2, 3]" for messages.
inline std::string to_string(const Shape& s) { return detail::concat(s); }

namespace detail {

/// a * b, or an Error naming `who` when the product leaves int64.
inline index_t checked_mul(index_t a, index_t b, const char* who) {
  if (a != 0 && b != 0 &&
      (a > std::numeric_limits<index_t>::max() / b || b > std::numeric_limits<index_t>::max() / a))
    throw Error(concat(who, ": size product overflows int64 (", a, " * ", b, ")"));
  return a * b;
}

/// a + b for non-negative sizes, or an Error when the sum leaves int64.
inline index_t checked_add(index_t a, index_t b, const char* who) {
  if (b > 0 && a > std::numeric_limits<index_t>::max() - b)
    throw Error(concat(who, ": size sum overflows int64 (", a, " + ", b, ")"));
  return a + b;
}

/// a * b for non-negative sizes, saturating at the int64 maximum: for sizes
/// that are only compared with a limit, where "too large to represent" is one
/// more way of being over it.
inline index_t saturating_mul(index_t a, index_t b) {
  if (a != 0 && b != 0 && a > std::numeric_limits<index_t>::max() / b) return std::numeric_limits<index_t>::max();
  return a * b;
}

/// a + b for non-negative sizes, saturating at the int64 maximum.
inline index_t saturating_add(index_t a, index_t b) {
  return a > std::numeric_limits<index_t>::max() - b ? std::numeric_limits<index_t>::max() : a + b;
}

/// Number of elements of a shape whose sizes must all be >= 0; throws on a
/// negative size or a product that overflows int64.
inline index_t checked_numel(const Shape& shape, const char* who) {
  index_t n = 1;
  for (index_t s : shape)
    check(s >= 0, who, ": sizes must be non-negative, got shape ", shape);
  for (index_t s : shape) {
    if (s == 0) return 0;  // an empty tensor never overflows, whatever the other sizes
  }
  for (index_t s : shape) {
    if (n > std::numeric_limits<index_t>::max() / s)
      throw Error(concat(who, ": the number of elements of shape ", shape, " overflows int64"));
    n *= s;
  }
  return n;
}

/// Row-major (contiguous) strides for a shape.
inline std::vector<index_t> contiguous_strides(const Shape& shape) {
  std::vector<index_t> strides(shape.size());
  index_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    const index_t size = shape[i] > 0 ? shape[i] : 1;
    // Only an empty tensor's sizes ([0, 2^40, 2^40]) can multiply past int64;
    // its strides address nothing, so they stop growing instead of overflowing.
    if (stride <= std::numeric_limits<index_t>::max() / size) stride *= size;
  }
  return strides;
}

/// Turns a possibly negative dimension into [0, rank), or throws.
inline std::size_t wrap_dim(index_t dim, std::size_t rank, const char* who) {
  const index_t r = static_cast<index_t>(rank);
  const index_t lo = rank == 0 ? -1 : -r;
  const index_t hi = rank == 0 ? 0 : r - 1;
  check(dim >= lo && dim <= hi, who, ": dimension out of range (expected to be in range of [", lo, ", ", hi,
        "], but got ", dim, ")");
  return static_cast<std::size_t>(dim < 0 ? dim + (rank == 0 ? 1 : r) : dim);
}

}  // namespace detail
}  // namespace strata
