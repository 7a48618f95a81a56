#pragma once
/// \file
/// softmax and log_softmax over the middle dimension of a contiguous
/// [outer, dim, inner] block: out[o, :, i] from in[o, :, i] for every (o, i).
/// Numerically stable as torch's: with m the largest value of a slice,
///   softmax     = exp(x - m) * (1 / sum exp(x - m))
///   log_softmax = (x - m) - log(sum exp(x - m))
/// so inputs of +-1000 neither overflow nor underflow. As in torch, a slice
/// holding NaN or +inf, or only -inf, is NaN throughout (from inf - inf);
/// a -inf among finite values gives 0 (log_softmax: -inf).
/// inner == 1 (the last dimension) is vectorised along the slice; inner > 1
/// across inner positions, one slice per lane, so the loads are contiguous
/// whatever the dimension. Raw pointers, no checks.

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Core>

#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/packet_math.hpp"

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
// GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_ps, GCC bug
// 105593) as uninitialized once Eigen's packet functions are inlined at -O3.
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace strata {
namespace kernels {
namespace detail {

/// Elements per thread below which softmax stays on one thread.
constexpr index_t kSoftmaxGrain = index_t{1} << 13;

/// One contiguous slice of n >= 1 elements (inner == 1).
template <bool Log, typename T>
void softmax_row(const T* in, T* out, index_t n) {
  namespace ei = Eigen::internal;
  using P = math::packet_t<T>;
  constexpr index_t W = math::packet_width<T>();
  const index_t full = n - n % W;
  // The last partial packet padded with -inf, which neither max nor the sum sees
  // (exp(-inf - m) = 0; when m is -inf or NaN the slice is NaN anyway).
  T tail[W];
  std::fill(tail, tail + W, -std::numeric_limits<T>::infinity());
  std::copy(in + full, in + n, tail);
  const P last = ei::ploadu<P>(tail);

  // 1. The largest value.
  P m0 = last, m1 = last;
  index_t i = 0;
  for (; i + 2 * W <= full; i += 2 * W) {
    m0 = ei::pmax(m0, ei::ploadu<P>(in + i));
    m1 = ei::pmax(m1, ei::ploadu<P>(in + i + W));
  }
  if (i < full) m0 = ei::pmax(m0, ei::ploadu<P>(in + i));
  const T m = ei::predux_max(ei::pmax(m0, m1));
  const P pm = ei::pset1<P>(m);

  // 2. sum exp(x - m); softmax keeps the exponentials in out.
  P s0 = ei::pzero(pm), s1 = s0;
  for (i = 0; i + 2 * W <= full; i += 2 * W) {
    const P e0 = math::exp(ei::psub(ei::ploadu<P>(in + i), pm));
    const P e1 = math::exp(ei::psub(ei::ploadu<P>(in + i + W), pm));
    if (!Log) {
      ei::pstoreu(out + i, e0);
      ei::pstoreu(out + i + W, e1);
    }
    s0 = ei::padd(s0, e0);
    s1 = ei::padd(s1, e1);
  }
  if (i < full) {
    const P e0 = math::exp(ei::psub(ei::ploadu<P>(in + i), pm));
    if (!Log) ei::pstoreu(out + i, e0);
    s0 = ei::padd(s0, e0);
  }
  if (full < n) {
    const P e = math::exp(ei::psub(last, pm));
    s1 = ei::padd(s1, e);
    if (!Log) {
      ei::pstoreu(tail, e);
      std::copy(tail, tail + (n - full), out + full);
    }
  }
  const T sum = ei::predux(ei::padd(s0, s1));

  // 3. Normalise; the scalar tail does what a lane does.
  if (Log) {
    const T log_sum = std::log(sum);
    const P pl = ei::pset1<P>(log_sum);
    for (i = 0; i < full; i += W) ei::pstoreu(out + i, ei::psub(ei::psub(ei::ploadu<P>(in + i), pm), pl));
    for (; i < n; ++i) out[i] = (in[i] - m) - log_sum;
  } else {
    const T r = T(1) / sum;
    const P pr = ei::pset1<P>(r);
    for (i = 0; i < full; i += W) ei::pstoreu(out + i, ei::pmul(ei::ploadu<P>(out + i), pr));
    for (; i < n; ++i) out[i] *= r;
  }
}

/// `lanes` <= W neighbouring slices of n >= 1 elements each, `stride` apart
/// element to element (inner > 1): one slice per packet lane.
template <bool Log, typename T>
void softmax_columns(const T* in, T* out, index_t n, index_t stride, index_t lanes) {
  namespace ei = Eigen::internal;
  using P = math::packet_t<T>;
  constexpr index_t W = math::packet_width<T>();
  const bool whole = lanes == W;
  T buffer[W] = {};
  // Fewer than W lanes (the inner tail) go through a zero-padded packet.
  auto load = [&](const T* p) {
    if (whole) return ei::ploadu<P>(p);
    std::copy(p, p + lanes, buffer);
    return ei::ploadu<P>(buffer);
  };
  auto store = [&](T* p, const P& v) {
    if (whole) return ei::pstoreu(p, v);
    ei::pstoreu(buffer, v);
    std::copy(buffer, buffer + lanes, p);
  };

  P m = load(in);
  for (index_t d = 1; d < n; ++d) m = ei::pmax(m, load(in + d * stride));
  // Four partial sums per lane (element d into sum d % 4): a quarter of a
  // single running sum's rounding error, and four independent add chains.
  P part[4] = {ei::pzero(m), ei::pzero(m), ei::pzero(m), ei::pzero(m)};
  for (index_t d = 0; d < n; ++d) {
    const P e = math::exp(ei::psub(load(in + d * stride), m));
    if (!Log) store(out + d * stride, e);
    part[d % 4] = ei::padd(part[d % 4], e);
  }
  const P sum = ei::padd(ei::padd(part[0], part[1]), ei::padd(part[2], part[3]));
  if (Log) {
    T sums[W];
    ei::pstoreu(sums, sum);
    for (T& s : sums) s = std::log(s);
    const P log_sum = ei::ploadu<P>(sums);
    for (index_t d = 0; d < n; ++d) store(out + d * stride, ei::psub(ei::psub(load(in + d * stride), m), log_sum));
  } else {
    const P r = ei::pdiv(math::splat<P>(T(1)), sum);
    for (index_t d = 0; d < n; ++d) store(out + d * stride, ei::pmul(load(out + d * stride), r));
  }
}

template <bool Log, typename T>
void softmax_any(const T* in, T* out, index_t outer, index_t dim, index_t inner) {
  if (outer == 0 || dim == 0 || inner == 0) return;
  if (inner == 1) {
    strata::detail::parallel_for(outer, std::max<index_t>(1, kSoftmaxGrain / dim), [&](index_t begin, index_t end) {
      for (index_t o = begin; o < end; ++o) softmax_row<Log>(in + o * dim, out + o * dim, dim);
    });
    return;
  }
  constexpr index_t W = math::packet_width<T>();
  const index_t blocks = (inner + W - 1) / W;
  strata::detail::parallel_for(outer * blocks, std::max<index_t>(1, kSoftmaxGrain / (dim * W)),
                               [&](index_t begin, index_t end) {
                                 for (index_t item = begin; item < end; ++item) {
                                   const index_t o = item / blocks, j = (item % blocks) * W;
                                   const index_t offset = o * dim * inner + j;
                                   softmax_columns<Log>(in + offset, out + offset, dim, inner, std::min(W, inner - j));
                                 }
                               });
}

}  // namespace detail

/// out = softmax(in) over the middle dimension of a contiguous [outer, dim, inner]
/// block, in parallel over slices. out may equal in.
/// Example: `kernels::softmax(x.data(), y.data(), 8, 10, 1);  // rows of 10`
template <typename T>
void softmax(const T* in, T* out, index_t outer, index_t dim, index_t inner) {
  detail::softmax_any<false>(in, out, outer, dim, inner);
}

/// out = log_softmax(in) over the middle dimension of a contiguous [outer, dim, inner]
/// block, in parallel over slices. out may equal in.
/// Example: `kernels::log_softmax(x.data(), y.data(), 2, 3, 16);  // dim 1 of [2, 3, 4, 4]`
template <typename T>
void log_softmax(const T* in, T* out, index_t outer, index_t dim, index_t inner) {
  detail::softmax_any<true>(in, out, outer, dim, inner);
}

}  // namespace kernels
}  // namespace strata

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
