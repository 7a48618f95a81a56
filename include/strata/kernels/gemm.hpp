#pragma once
/// \file
/// Eigen's GEMM on the calling thread only: C += A * B for row-major
/// matrices with leading dimensions. Eigen's product expressions decide by
/// themselves whether to split a product over its own threads, and the split
/// changes the blocking, hence the rounding; a kernel that already runs on
/// strata's workers calls this instead, so its results do not depend on the
/// thread count. Raw pointers, no checks.

#include <Eigen/Core>

#include "strata/core/shape.hpp"

namespace strata {
namespace kernels {

/// c[M, N] += a[M, K] * b[K, N], all row-major: a with row stride lda, b ldb,
/// c ldc. Serial and deterministic: the same bits whatever strata's thread count.
/// Example: `kernels::gemm_serial(m, n, k, a, k, b, n, c, n);`
template <typename T>
void gemm_serial(index_t M, index_t N, index_t K, const T* a, index_t lda, const T* b, index_t ldb, T* c,
                 index_t ldc) {
  namespace ei = Eigen::internal;
  if (M == 0 || N == 0 || K == 0) return;
  using Blocking = ei::gemm_blocking_space<Eigen::RowMajor, T, T, Eigen::Dynamic, Eigen::Dynamic, Eigen::Dynamic, 1,
                                           false>;
  Blocking blocking(M, N, K, 1, true);
  ei::general_matrix_matrix_product<Eigen::Index, T, Eigen::RowMajor, false, T, Eigen::RowMajor, false, Eigen::RowMajor,
                                    1>::run(M, N, K, a, lda, b, ldb, c, 1, ldc, T(1), blocking, nullptr);
}

}  // namespace kernels
}  // namespace strata
