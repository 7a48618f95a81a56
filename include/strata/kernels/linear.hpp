#pragma once
/// \file
/// The Linear kernel: out[M, N] = x[M, K] * w[N, K]^T (+ b[N]) over the
/// flattened leading dimensions, bias fused. Raw pointers, no checks:
/// nn/functional validates. Three paths, chosen by shape:
///  - skinny (small K * N, e.g. Linear(8, 32) on 32768 rows): a register-tiled
///    kernel on Eigen's packet primitives, with the transposed weight held in
///    L1, the bias as the accumulators' start and streaming stores for large
///    outputs; Eigen's GEMM packs both operands for every call and loses
///    several times on such shapes.
///  - few rows (GEMV-like, bound by reading the weight): Eigen's product on
///    column slices of the output, one slice per thread.
///  - everything else: Eigen's GEMM on row panels, one panel per thread, each
///    started from the bias so the GEMM's accumulation adds it for free.
/// All paths run on strata::set_num_threads threads through detail::parallel_for,
/// which keeps Eigen serial inside each worker (no oversubscription).

#include <algorithm>
#include <cstdint>
#include <cstring>

#include <Eigen/Core>

#include "strata/core/eigen.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/instances.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {

/// The plain path: out[M, N] = x[M, K] * w[N, K]^T (+ b[N]) as one Eigen GEMM.
/// Kept as the reference the fast paths are measured and tested against.
/// Example: `kernels::linear_gemm(x, w, b, y, 128, 20, 30);`
template <typename T>
void linear_gemm(const T* x, const T* w, const T* b, T* out, index_t M, index_t K, index_t N) {
  const ConstMatrixMap<T> X(x, M, K);
  const ConstMatrixMap<T> W(w, N, K);
  MatrixMap<T> Y(out, M, N);
  Y.noalias() = X * W.transpose();
  if (b != nullptr) Y.rowwise() += ConstVectorMap<T>(b, N).transpose();
}

namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// The skinny path needs the transposed weight (K * N values) in L1 next to
/// the streamed rows of x: at most this many bytes of it.
constexpr index_t kLinearSkinnyMaxWeightBytes = 16 * 1024;
/// Below this many rows the skinny path's weight transpose is not worth it.
constexpr index_t kLinearSkinnyMinRows = 4;
/// At most this many rows count as "few rows": the work is reading the weight.
constexpr index_t kLinearFewRows = 8;
/// Fewer multiply-adds than this per thread are not worth a parallel region.
constexpr index_t kLinearMinWorkPerThread = index_t{1} << 17;

/// Rows per register tile of the skinny path: 8 rows x 2 packets = 16
/// accumulators fit the 32 vector registers of AVX-512 and AArch64 NEON;
/// 4 x 2 fit the 16 of AVX2 and SSE.
constexpr int kLinearTileRows = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 8 : 4;

/// Outputs at least this large are streamed by the skinny path (a typical L2 size).
constexpr index_t kLinearStreamMinBytes = index_t{2} << 20;

/// out[r, c*P ...] = bias[j + c*P ...] + sum_k x[r, k] * wt[k, j + c*P ...] for
/// R rows and C packets of P columns; out points at column j. x has row stride
/// ldx, wt (and bias) are padded to ldw columns, out has row stride ldo.
template <typename T, typename Packet, int R, int C, bool Stream>
EIGEN_ALWAYS_INLINE void linear_tile(const T* x, index_t ldx, const T* wt, index_t ldw, const T* bias, T* out,
                                     index_t ldo, index_t K, index_t j) {
  namespace ei = Eigen::internal;
  constexpr int P = ei::unpacket_traits<Packet>::size;
  Packet acc[R][C];
  STRATA_UNROLL
  for (int c = 0; c < C; ++c) {
    const Packet start = ei::ploadu<Packet>(bias + j + c * P);
    STRATA_UNROLL
    for (int r = 0; r < R; ++r) acc[r][c] = start;
  }
  for (index_t k = 0; k < K; ++k) {
    Packet w[C];
    STRATA_UNROLL
    for (int c = 0; c < C; ++c) w[c] = ei::ploadu<Packet>(wt + k * ldw + j + c * P);
    STRATA_UNROLL
    for (int r = 0; r < R; ++r) {
      const Packet xv = ei::pset1<Packet>(x[r * ldx + k]);
      STRATA_UNROLL
      for (int c = 0; c < C; ++c) acc[r][c] = ei::pmadd(xv, w[c], acc[r][c]);
    }
  }
  STRATA_UNROLL
  for (int r = 0; r < R; ++r) {
    STRATA_UNROLL
    for (int c = 0; c < C; ++c) {
      if constexpr (Stream) {
        stream_packet(out + r * ldo + c * P, acc[r][c]);
      } else {
        ei::pstoreu(out + r * ldo + c * P, acc[r][c]);
      }
    }
  }
}

/// All N columns of R rows: pairs of packets, one packet, then the last
/// partial packet computed whole (wt and bias are zero-padded to ldw columns)
/// into a scratch tile and copied out, so the tail stays vectorised.
template <typename T, int R, bool Stream>
EIGEN_ALWAYS_INLINE void linear_tile_rows(const T* x, index_t ldx, const T* wt, index_t ldw, const T* bias, T* out,
                                          index_t K, index_t N) {
  using Vec = Packet<T>;
  constexpr int P = static_cast<int>(packet_size<T>());
  index_t j = 0;
  for (; j + 2 * P <= N; j += 2 * P) linear_tile<T, Vec, R, 2, Stream>(x, ldx, wt, ldw, bias, out + j, N, K, j);
  if (j + P <= N) {
    linear_tile<T, Vec, R, 1, Stream>(x, ldx, wt, ldw, bias, out + j, N, K, j);
    j += P;
  }
  if (j < N) {
    T tail[R * P];
    linear_tile<T, Vec, R, 1, false>(x, ldx, wt, ldw, bias, tail, P, K, j);
    STRATA_UNROLL
    for (int r = 0; r < R; ++r) std::copy_n(tail + r * P, N - j, out + r * N + j);
  }
}

/// Rows [begin, end) of the skinny path; wt is the weight transposed, [K, ldw].
template <typename T, bool Stream>
void linear_skinny_rows(const T* x, index_t ldx, const T* wt, index_t ldw, const T* bias, T* out, index_t begin,
                        index_t end, index_t K, index_t N) {
  constexpr int R = kLinearTileRows;
  index_t i = begin;
  for (; i + R <= end; i += R) linear_tile_rows<T, R, Stream>(x + i * ldx, ldx, wt, ldw, bias, out + i * N, K, N);
  for (; i < end; ++i) linear_tile_rows<T, 1, Stream>(x + i * ldx, ldx, wt, ldw, bias, out + i * N, K, N);
}

/// Columns of the skinny path's transposed weight: N rounded up to a whole packet.
template <typename T>
constexpr index_t linear_skinny_ldw(index_t N) {
  constexpr index_t P = packet_size<T>();
  return (N + P - 1) / P * P;
}

/// Whether the skinny path takes this shape: enough rows, a transposed weight
/// (with the bias row) that fits the buffer, and at most half of each packet
/// wasted on padding (for one or two outputs Eigen's GEMV is faster).
template <typename T>
constexpr bool linear_is_skinny(index_t M, index_t K, index_t N) {
  const index_t ldw = linear_skinny_ldw<T>(N);
  return M >= kLinearSkinnyMinRows && 2 * N >= ldw &&
         (K + 1) * ldw * static_cast<index_t>(sizeof(T)) <= kLinearSkinnyMaxWeightBytes;
}

template <typename T>
void linear_skinny(const T* x, index_t ldx, const T* w, const T* b, T* out, index_t M, index_t K, index_t N) {
  // The transposed weight and the bias, zero-padded to whole packets, 64-byte
  // aligned on the stack (at most kLinearSkinnyMaxWeightBytes).
  alignas(64) T buffer[kLinearSkinnyMaxWeightBytes / sizeof(T)];
  const index_t ldw = linear_skinny_ldw<T>(N);
  T* const wt = buffer;
  T* const bias = buffer + K * ldw;
  std::fill_n(buffer, (K + 1) * ldw, T(0));
  for (index_t n = 0; n < N; ++n) {
    for (index_t k = 0; k < K; ++k) wt[k * ldw + n] = w[n * K + k];
    if (b != nullptr) bias[n] = b[n];
  }
  const index_t min_rows = std::max<index_t>(kLinearTileRows, kLinearMinWorkPerThread / std::max<index_t>(1, K * N));
  // A large output whose rows are whole, aligned cache lines is written with
  // streaming stores: nothing reads it back here, and skipping the
  // read-for-ownership of every line halves the memory traffic of this
  // store-bound loop (the classic Linear(8, 32) writes 4 MB).
  const bool stream = kCanStream && M * N * static_cast<index_t>(sizeof(T)) >= kLinearStreamMinBytes &&
                      (N * static_cast<index_t>(sizeof(T))) % 64 == 0 && reinterpret_cast<std::uintptr_t>(out) % 64 == 0;
  strata::detail::parallel_for(M, min_rows, [&](index_t begin, index_t end) {
    if (stream) {
      linear_skinny_rows<T, true>(x, ldx, wt, ldw, bias, out, begin, end, K, N);
      stream_fence();
    } else {
      linear_skinny_rows<T, false>(x, ldx, wt, ldw, bias, out, begin, end, K, N);
    }
  });
}

STRATA_KERNELS_PACKETS_END

using RowStride = Eigen::OuterStride<>;

/// Few rows: each thread computes a slice of the output columns (a slice of
/// the weight's rows), so the threads share the work of reading the weight.
template <typename T>
void linear_few_rows(const T* x, index_t ldx, const T* w, const T* b, T* out, index_t M, index_t K, index_t N) {
  const Eigen::Map<const RowMatrix<T>, 0, RowStride> X(x, M, K, RowStride(ldx));
  const index_t min_columns = std::max<index_t>(16, kLinearMinWorkPerThread / std::max<index_t>(1, M * K));
  strata::detail::parallel_for(N, min_columns, [&](index_t begin, index_t end) {
    const index_t n = end - begin;
    const ConstMatrixMap<T> W(w + begin * K, n, K);
    Eigen::Map<RowMatrix<T>, 0, RowStride> Y(out + begin, M, n, RowStride(N));
    if (b != nullptr) {
      Y.rowwise() = ConstVectorMap<T>(b + begin, n).transpose();
    } else {
      Y.setZero();
    }
    Y.noalias() += X * W.transpose();
  });
}

/// The general GEMM: each thread takes a panel of rows, starts it from the
/// bias and lets Eigen's GEMM accumulate onto it (Eigen's `=` would clear the
/// output first anyway, so the bias costs no extra pass).
template <typename T>
void linear_panels(const T* x, index_t ldx, const T* w, const T* b, T* out, index_t M, index_t K, index_t N) {
  const ConstMatrixMap<T> W(w, N, K);
  const index_t min_rows = std::max<index_t>(32, kLinearMinWorkPerThread / std::max<index_t>(1, K * N));
  strata::detail::parallel_for(M, min_rows, [&](index_t begin, index_t end) {
    const index_t m = end - begin;
    const Eigen::Map<const RowMatrix<T>, 0, RowStride> X(x + begin * ldx, m, K, RowStride(ldx));
    MatrixMap<T> Y(out + begin * N, m, N);
    if (b != nullptr) {
      Y.rowwise() = ConstVectorMap<T>(b, N).transpose();
    } else {
      Y.setZero();
    }
    Y.noalias() += X * W.transpose();
  });
}

}  // namespace detail

/// out[M, N] = x[M, K] * w[N, K]^T (+ b[N]): w and out row-major and
/// contiguous, x row-major with row stride ldx >= K (ldx == K: contiguous),
/// so a view whose rows are evenly spaced needs no copy. b may be null.
/// out must not alias x, w or b. Runs on strata::get_num_threads() threads.
/// Example: `kernels::linear(x, w, b, y, 128, 20, 30, 20);`
template <typename T>
void linear(const T* x, const T* w, const T* b, T* out, index_t M, index_t K, index_t N, index_t ldx) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    for (index_t i = 0; i < M; ++i) {
      if (b != nullptr) {
        std::memcpy(out + i * N, b, static_cast<std::size_t>(N) * sizeof(T));
      } else {
        std::fill_n(out + i * N, N, T(0));
      }
    }
    return;
  }
  if (detail::linear_is_skinny<T>(M, K, N)) {
    detail::linear_skinny(x, ldx, w, b, out, M, K, N);
  } else if (M <= detail::kLinearFewRows) {
    detail::linear_few_rows(x, ldx, w, b, out, M, K, N);
  } else {
    detail::linear_panels(x, ldx, w, b, out, M, K, N);
  }
}

#ifdef STRATA_KERNEL_INSTANCE  // kernels/instances.hpp: compiled once per program
STRATA_KERNEL_INSTANCE void linear<float>(const float*, const float*, const float*, float*, index_t, index_t, index_t,
                                          index_t);
STRATA_KERNEL_INSTANCE void linear<double>(const double*, const double*, const double*, double*, index_t, index_t,
                                           index_t, index_t);
#endif

/// The same with a contiguous x (row stride K).
template <typename T>
void linear(const T* x, const T* w, const T* b, T* out, index_t M, index_t K, index_t N) {
  linear(x, w, b, out, M, K, N, K);
}

}  // namespace kernels
}  // namespace strata
