#pragma once
/// \file
/// The SIMD vocabulary of the kernels: Eigen's widest packet of a scalar
/// type, streaming (non-temporal) stores of a packet, and short-run copies.
/// Written on Eigen's packet primitives, so every kernel built on it compiles
/// to AVX-512, AVX2, SSE or NEON code, and to scalar code where Eigen does not
/// vectorise. Raw pointers, no checks.

#include <Eigen/Core>

#include "strata/core/shape.hpp"

namespace strata {
namespace kernels {
namespace detail {

// Eigen's packet types are vector types whose alignment attributes GCC says it
// "ignores" when they are template arguments; harmless, and Eigen silences it
// the same way in its own headers. The kernels that use packets wrap their
// code in STRATA_KERNELS_PACKETS_BEGIN / _END.
#if defined(__GNUC__)
#define STRATA_KERNELS_PACKETS_BEGIN \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wignored-attributes\"")
#define STRATA_KERNELS_PACKETS_END _Pragma("GCC diagnostic pop")
#else
#define STRATA_KERNELS_PACKETS_BEGIN
#define STRATA_KERNELS_PACKETS_END
#endif

/// Before a loop over register tiles (a compile-time trip count): unrolled
/// whatever the optimisation level. The tiles keep their accumulators in
/// registers only when these loops are unrolled, which GCC and Clang do by
/// themselves at -O3 but not at -O2 (RelWithDebInfo, most distributions),
/// where the same kernels ran 3x slower.
#if defined(__clang__)
#define STRATA_UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__)
#define STRATA_UNROLL _Pragma("GCC unroll 32")
#else
#define STRATA_UNROLL
#endif

STRATA_KERNELS_PACKETS_BEGIN

/// Eigen's widest packet of T and its width in elements.
template <typename T>
using Packet = typename Eigen::internal::packet_traits<T>::type;
template <typename T>
constexpr index_t packet_size() {
  return Eigen::internal::unpacket_traits<Packet<T>>::size;
}

/// Whether this build has streaming stores (every x86-64 build does).
#if defined(EIGEN_VECTORIZE_SSE2)
constexpr bool kCanStream = true;
inline void stream_packet(float* to, __m128 v) { _mm_stream_ps(to, v); }
inline void stream_packet(double* to, __m128d v) { _mm_stream_pd(to, v); }
/// Orders the streaming stores before what follows (the end of a parallel region).
inline void stream_fence() { _mm_sfence(); }
#else
constexpr bool kCanStream = false;
inline void stream_fence() {}
#endif
#if defined(EIGEN_VECTORIZE_AVX)
inline void stream_packet(float* to, __m256 v) { _mm256_stream_ps(to, v); }
inline void stream_packet(double* to, __m256d v) { _mm256_stream_pd(to, v); }
#endif
#if defined(EIGEN_VECTORIZE_AVX512)
inline void stream_packet(float* to, __m512 v) { _mm512_stream_ps(to, v); }
inline void stream_packet(double* to, __m512d v) { _mm512_stream_pd(to, v); }
#endif
/// Any other packet (no streaming store for it): an ordinary aligned store.
/// `to` must be aligned to a whole packet, as for the streaming stores.
template <typename T, typename P>
void stream_packet(T* to, const P& v) {
  Eigen::internal::pstore(to, v);
}

/// dst[0, n) = src[0, n) for short runs (an output row, a plane row): whole
/// packets, the last one overlapping the one before, instead of a call to
/// memmove per run. src and dst must not overlap.
template <typename T>
inline void copy_run(const T* src, index_t n, T* dst) {
  namespace ei = Eigen::internal;
  constexpr index_t P = packet_size<T>();
  if (n < P) {
    for (index_t i = 0; i < n; ++i) dst[i] = src[i];
    return;
  }
  for (index_t i = 0; i + P < n; i += P) ei::pstoreu(dst + i, ei::ploadu<Packet<T>>(src + i));
  ei::pstoreu(dst + n - P, ei::ploadu<Packet<T>>(src + n - P));
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail
}  // namespace kernels
}  // namespace strata
