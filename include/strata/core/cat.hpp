#pragma once
/// \file
/// strata::cat, torch.cat: tensors joined along one dimension.

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "strata/core/elementwise.hpp"
#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace detail {

/// torch 1.13 skips 1-D tensors of shape [0] in cat, whatever the others' shapes (a legacy rule).
template <typename T>
bool cat_skips(const Tensor<T>& t) {
  return t.dim() == 1 && t.size(0) == 0;
}

}  // namespace detail

/// Concatenates tensors along `dim` (negative counts from the end) into a new
/// contiguous tensor, like torch.cat: every tensor has the same rank and the
/// same sizes except along dim; 1-D empty tensors (shape [0]) are skipped, as
/// torch 1.13 does. Inputs may have any strides.
/// Shapes: [2, 3] and [2, 5] along dim 1 give [2, 8].
/// Example: `auto y = strata::cat(std::vector<Tensor<float>>{a, b}, 1);` or `strata::cat({a, b}, 1)`
/// Throws strata::Error (torch's messages after "cat: ") for an empty list, an
/// undefined or 0-d tensor, a dim out of range, different ranks or sizes.
template <typename T>
Tensor<T> cat(const std::vector<Tensor<T>>& tensors, index_t dim = 0) {
  detail::check(!tensors.empty(), "cat: torch.cat(): expected a non-empty list of Tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    detail::check(tensors[i].defined(), "cat: tensor number ", i, " in the list is undefined");
    detail::check(tensors[i].dim() != 0, "cat: zero-dimensional tensor (at position ", i, ") cannot be concatenated");
  }
  const auto first =
      std::find_if(tensors.begin(), tensors.end(), [](const Tensor<T>& t) { return !detail::cat_skips(t); });
  if (first == tensors.end()) return Tensor<T>::empty({0});  // only legacy empties: torch checks nothing else
  const Shape& ref = first->shape();
  const std::size_t d = detail::wrap_dim(dim, ref.size(), "cat");
  index_t total = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor<T>& t = tensors[i];
    if (detail::cat_skips(t)) continue;
    detail::check(t.dim() == static_cast<index_t>(ref.size()), "cat: Tensors must have same number of dimensions: got ",
                  ref.size(), " and ", t.dim(), " (tensor number ", i, " in the list; shapes ", ref, " and ", t.shape(),
                  ")");
    for (std::size_t j = 0; j < ref.size(); ++j) {
      detail::check(j == d || t.shape()[j] == ref[j], "cat: Sizes of tensors must match except in dimension ", d,
                    ". Expected size ", ref[j], " but got size ", t.shape()[j], " for tensor number ", i,
                    " in the list (shapes ", ref, " and ", t.shape(), ")");
    }
    total = detail::checked_add(total, t.shape()[d], "cat");
  }
  Shape shape = ref;
  shape[d] = total;
  Tensor<T> out = Tensor<T>::empty(shape);
  index_t offset = 0;
  for (const Tensor<T>& t : tensors) {
    if (detail::cat_skips(t)) continue;
    const index_t size = t.shape()[d];
    if (t.numel() > 0) {
      Tensor<T> slot = out.narrow(static_cast<index_t>(d), offset, size);
      detail::unary_map_into(t.shape(), t.data(), t.strides(), slot.data(), slot.strides(),
                             [](const T* in, T* o, index_t n) { std::copy_n(in, n, o); });
    }
    offset += size;
  }
  return out;
}

/// strata::cat({a, b}, dim): the same with a braced list.
template <typename T>
Tensor<T> cat(std::initializer_list<Tensor<T>> tensors, index_t dim = 0) {
  return cat(std::vector<Tensor<T>>(tensors), dim);
}

}  // namespace strata
