#pragma once
/// \file
/// kernels::unary: applies an element-wise functor to n contiguous elements,
/// vectorised with Eigen's packets and in parallel when the size pays.
/// Raw pointers, no checks: nn/functional validates.
///
/// A functor is a small struct, as Eigen's unary functors are:
///   struct Square {
///     static constexpr int cost = 1;                    // ~ arithmetic per element (relu: 1, silu: ~25)
///     template <typename P> P packet(const P& x) const  // the formula on Eigen packets, which also
///     { return Eigen::internal::pmul(x, x); }            // take plain float / double (one lane)
///     template <typename T> T operator()(T x) const { return packet(x); }  // the scalar form
///   };
/// Every element, the last partial packet's included, goes through packet(),
/// so an element's result does not depend on where it sits in the tensor.

#include <algorithm>

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

/// out[i] = op(in[i]) for i < n on the calling thread. out may equal in.
template <typename Op, typename T>
void unary_serial(const Op& op, const T* in, T* out, index_t n) {
  namespace ei = Eigen::internal;
  using P = math::packet_t<T>;
  constexpr index_t W = math::packet_width<T>();
  index_t i = 0;
  // Two packets per step: the formulas are long dependency chains.
  for (; i + 2 * W <= n; i += 2 * W) {
    const P a = ei::ploadu<P>(in + i), b = ei::ploadu<P>(in + i + W);
    ei::pstoreu(out + i, op.packet(a));
    ei::pstoreu(out + i + W, op.packet(b));
  }
  for (; i + W <= n; i += W) ei::pstoreu(out + i, op.packet(ei::ploadu<P>(in + i)));
  if (i < n) {
    // The tail through a whole packet too (zero-padded), so it gets the same lanes' arithmetic.
    T buffer[W] = {};
    std::copy(in + i, in + n, buffer);
    ei::pstoreu(buffer, op.packet(ei::ploadu<P>(buffer)));
    std::copy(buffer, buffer + (n - i), out + i);
  }
}

/// Elements per thread below which unary stays on one thread: a cheap
/// functor is memory-bound and gains from a second thread only on large
/// arrays, an expensive one (exp, erf) much sooner.
template <typename Op>
constexpr index_t unary_grain() {
  return std::max<index_t>(index_t{1} << 11, (index_t{1} << 16) / std::max(1, Op::cost));
}

/// out[i] = op(in[i]) for i < n, split across strata's threads when each gets
/// at least unary_grain<Op>() elements. out may equal in.
/// Example: `kernels::unary(kernels::Silu{}, x.data(), y.data(), x.numel());`
template <typename Op, typename T>
void unary(const Op& op, const T* in, T* out, index_t n) {
  strata::detail::parallel_for(n, unary_grain<Op>(), [&](index_t begin, index_t end) {
    unary_serial(op, in + begin, out + begin, end - begin);
  });
}

}  // namespace kernels
}  // namespace strata

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
