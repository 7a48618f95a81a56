#pragma once
/// \file
/// The Bilinear kernel: y[m, o] = sum_{i,j} x1[m, i] W[o, i, j] x2[m, j] + b[o],
/// computed as GEMMs. Raw pointers, no checks: nn/functional validates.

#include <algorithm>
#include <memory>

#include "strata/core/eigen.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"
#include "strata/kernels/linear.hpp"

namespace strata {
namespace kernels {
namespace detail {

/// Rows of the outer-product buffer filled per GEMM: about 2^20 elements (4 MiB
/// of float) bound the temporary whatever the batch, but never fewer than 64
/// rows, below which the GEMM degenerates into slow matrix-vector products.
inline index_t bilinear_chunk_rows(index_t rows, index_t in1, index_t in2) {
  const index_t pair_count = std::max<index_t>(1, in1 * in2);
  return std::max<index_t>(1, std::min(rows, std::max<index_t>(64, (index_t{1} << 20) / pair_count)));
}

}  // namespace detail

/// out[M, N] = bilinear(x1[M, I], x2[M, J], w[N, I, J]) (+ b[N]), all row-major
/// and contiguous; b may be null; out must not alias the inputs.
///
/// Why this formulation: with P[m, i*J + j] = x1[m, i] * x2[m, j] (the row-wise
/// outer products), y = P * W^T where W is the weight viewed as (N, I*J) in its
/// own layout, so the whole op is one Linear GEMM with K = I*J and the bias is
/// fused, with no per-call permutation of the weight; it beat a per-output
/// loop and the Z = X1 * W' formulation (W' permuted to (I, N*J), then a
/// row-wise reduction with x2) on every shape tried, most for a single row or
/// a small I*J (figures in the README's Performance section).
/// P is allocated per call (so concurrent calls are safe) and filled in chunks
/// of rows so its size stays bounded for large batches; it goes through
/// detail::allocate, so a P over STRATA_MAX_ALLOC_BYTES (a huge in1 * in2) is
/// a strata::Error ("bilinear: refusing to allocate ..."), never a bad_alloc.
template <typename T>
void bilinear(const T* x1, const T* x2, const T* w, const T* b, T* out, index_t M, index_t I, index_t J, index_t N) {
  if (M == 0 || N == 0) return;
  const index_t K = I * J;
  const index_t chunk = detail::bilinear_chunk_rows(M, I, J);
  const std::shared_ptr<T> pairs = strata::detail::allocate<T>(chunk * K, "bilinear");
  for (index_t m0 = 0; m0 < M; m0 += chunk) {
    const index_t rows = std::min(chunk, M - m0);
    for (index_t r = 0; r < rows; ++r) {
      Eigen::Map<RowMatrix<T>> outer(pairs.get() + r * K, I, J);
      outer.noalias() = ConstVectorMap<T>(x1 + (m0 + r) * I, I) * ConstVectorMap<T>(x2 + (m0 + r) * J, J).transpose();
    }
    linear(pairs.get(), w, b, out + m0 * N, rows, K, N);
  }
}

}  // namespace kernels
}  // namespace strata
