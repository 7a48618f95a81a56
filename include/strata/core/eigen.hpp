#pragma once
/// \file
/// Eigen views of tensor data, so kernels can hand tensors to Eigen directly.

#include <Eigen/Core>

#include "strata/core/error.hpp"
#include "strata/core/tensor.hpp"

namespace strata {

/// Row-major dynamic matrix type over T, the layout of a contiguous 2-D tensor.
template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <typename T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

/// A row-major Eigen::Map over a contiguous 2-D tensor: as_matrix(t)(i, j) == t(i, j).
/// Throws strata::Error when t is not 2-D or not contiguous.
template <typename T>
MatrixMap<T> as_matrix(Tensor<T>& t) {
  detail::check(t.defined() && t.dim() == 2 && t.is_contiguous(),
                "as_matrix: expected a contiguous 2-D tensor, got shape ", t.shape());
  return MatrixMap<T>(t.data(), t.size(0), t.size(1));
}
template <typename T>
ConstMatrixMap<T> as_matrix(const Tensor<T>& t) {
  detail::check(t.defined() && t.dim() == 2 && t.is_contiguous(),
                "as_matrix: expected a contiguous 2-D tensor, got shape ", t.shape());
  return ConstMatrixMap<T>(t.data(), t.size(0), t.size(1));
}

/// An Eigen::Map over all elements of a contiguous tensor, in row-major order.
/// Throws strata::Error when t is not contiguous.
template <typename T>
VectorMap<T> as_vector(Tensor<T>& t) {
  detail::check(t.defined() && t.is_contiguous(), "as_vector: expected a contiguous tensor, got shape ", t.shape());
  return VectorMap<T>(t.data(), t.numel());
}
template <typename T>
ConstVectorMap<T> as_vector(const Tensor<T>& t) {
  detail::check(t.defined() && t.is_contiguous(), "as_vector: expected a contiguous tensor, got shape ", t.shape());
  return ConstVectorMap<T>(t.data(), t.numel());
}

}  // namespace strata
