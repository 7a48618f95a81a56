#pragma once
/// \file
/// torch's broadcasting rules: the broadcast shape of two shapes, and the
/// strides that view an operand with that shape (0 along the broadcast dims).

#include <algorithm>
#include <cstddef>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"

namespace strata {
namespace detail {

/// The shape torch broadcasts `a` and `b` to: the sizes are aligned from the
/// right, a missing or size-1 dimension stretches to the other's size.
/// Example: `broadcast_shapes({8, 64, 56, 56}, {64, 1, 1}, "add") == Shape{8, 64, 56, 56}`
/// Throws strata::Error in torch's words plus both shapes, e.g. "add: the size
/// of tensor a (3) must match the size of tensor b (4) at non-singleton
/// dimension 1 (shapes [2, 3] and [2, 4])".
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* who) {
  const std::size_t rank = std::max(a.size(), b.size());
  std::vector<index_t> sizes(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Sizes aligned from the right; a missing leading dimension counts as 1.
    const index_t sa = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const index_t sb = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    check(sa == sb || sa == 1 || sb == 1, who, ": the size of tensor a (", sa, ") must match the size of tensor b (",
          sb, ") at non-singleton dimension ", i, " (shapes ", a, " and ", b, ")");
    sizes[i] = sa == 1 ? sb : sa;
  }
  return Shape(std::move(sizes));
}

/// The strides that read a tensor of `shape` and `strides` as a tensor of the
/// broadcast shape `to` (rank >= shape's): 0 along every dimension it is
/// stretched over, its own stride elsewhere. `to` must be a broadcast of `shape`.
inline std::vector<index_t> broadcast_strides(const Shape& shape, const std::vector<index_t>& strides,
                                              const Shape& to) {
  const std::size_t lead = to.size() - shape.size();
  std::vector<index_t> out(to.size(), 0);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out[lead + i] = shape[i] == 1 ? 0 : strides[i];
  }
  return out;
}

}  // namespace detail
}  // namespace strata
