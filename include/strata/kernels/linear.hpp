#pragma once
/// \file
/// The Linear kernel: one GEMM over the flattened leading dimensions, bias
/// fused into the output. Raw pointers, no checks: nn/functional validates.

#include "strata/core/eigen.hpp"
#include "strata/core/shape.hpp"

namespace strata {
namespace kernels {

/// out[M, N] = x[M, K] * w[N, K]^T (+ b[N]), all row-major and contiguous.
/// b may be null. out must not alias x or w.
template <typename T>
void linear(const T* x, const T* w, const T* b, T* out, index_t M, index_t K, index_t N) {
  const ConstMatrixMap<T> X(x, M, K);
  const ConstMatrixMap<T> W(w, N, K);
  MatrixMap<T> Y(out, M, N);
  Y.noalias() = X * W.transpose();
  if (b != nullptr) Y.rowwise() += ConstVectorMap<T>(b, N).transpose();
}

}  // namespace kernels
}  // namespace strata
