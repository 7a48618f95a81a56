#pragma once
/// \file
/// exp, tanh and erf on Eigen packets (and on plain float / double, which
/// Eigen treats as one-lane packets), accurate to about one ulp, with
/// IEEE edge cases: NaN in gives NaN out, -0.0 keeps its sign, infinities
/// give the limits. The element-wise activations and softmax build on them.
///
/// Why not Eigen's own: Eigen 3.4's pexp is 1.3 ulp (SSE) to 4.5 ulp
/// (AVX-512, near overflow) off, its ptanh 4.7-6.6 ulp, its float logistic
/// 10^4 ulp below -8, and it has no packet erf outside `unsupported/` nor a
/// double tanh. Worst errors measured against long double over dense grids
/// (tests/kernels/packet_math_test.cpp holds them to these):
///   exp  float 0.99 ulp, double 1.0 ulp (overflow and subnormal results included)
///   tanh float 1.02 ulp, double 1.33 ulp
///   erf  float 1.23 ulp, double 1.43 ulp (the worst next to |x| = 1, where
///        erf = 1 - erfc takes over)
/// (figures from SSE2 and AVX-512 builds; they move by ~0.1 with the
/// build's fused multiply-adds)
/// The polynomials are least-squares fits with their coefficients rounded to
/// float / double inside the fit (tests/reference/fit_packet_math.py prints them).
/// Raw values, no checks: a kernel-floor header.

#include <cstdint>
#include <type_traits>

#include <Eigen/Core>

#include "strata/core/shape.hpp"

// Eigen's packet types are vector types whose alignment attributes GCC reports
// as ignored when they are template arguments; harmless (Eigen silences it the
// same way inside its own headers).
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
// GCC 12 reports its own AVX-512 intrinsics (_mm512_undefined_ps, GCC bug
// 105593) as uninitialized once Eigen's packet functions are inlined at -O3.
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

namespace strata {
namespace kernels {
namespace math {

/// Eigen's widest packet of T (T itself where Eigen does not vectorise) and its lane count.
template <typename T>
using packet_t = typename Eigen::internal::packet_traits<T>::type;
template <typename T>
constexpr index_t packet_width() {
  return Eigen::internal::unpacket_traits<packet_t<T>>::size;
}

/// The scalar type of packet P (P itself for float and double).
template <typename P>
using scalar_of = typename Eigen::internal::unpacket_traits<P>::type;

/// All lanes equal to v.
template <typename P>
P splat(scalar_of<P> v) {
  return Eigen::internal::pset1<P>(v);
}

/// x < lo ? lo : x, lane by lane: NaN stays NaN and -0.0 stays -0.0 against
/// lo = 0 (std::max's semantics; Eigen's pmax leaves both implementation-defined).
template <typename P>
P max_keep_nan(const P& x, const P& lo) {
  return Eigen::internal::pselect(Eigen::internal::pcmp_lt(x, lo), lo, x);
}
/// hi < x ? hi : x, lane by lane: NaN stays NaN.
template <typename P>
P min_keep_nan(const P& x, const P& hi) {
  return Eigen::internal::pselect(Eigen::internal::pcmp_lt(hi, x), hi, x);
}
namespace detail {

/// c[0] x^(N-1) + ... + c[N-1], Horner's rule with fused multiply-adds where the build has them.
template <typename P, std::size_t N>
P horner(const P& x, const scalar_of<P> (&c)[N]) {
  P acc = splat<P>(c[0]);
  for (std::size_t k = 1; k < N; ++k) acc = Eigen::internal::pmadd(acc, x, splat<P>(c[k]));
  return acc;
}

/// |v| with x's sign bit, lane by lane (v >= 0 or NaN): copysign, which keeps
/// the sign of -0.0 that a comparison with 0 cannot see.
template <typename P>
P with_sign_of(const P& x, const P& v) {
  namespace ei = Eigen::internal;
  return ei::por(v, ei::pand(x, splat<P>(scalar_of<P>(-0.0))));
}

}  // namespace detail

namespace detail {

/// p * 2^n for integral n with |n| <= 150 (float) / 1077 (double) and p in
/// [0.5, 2]: overflows to inf and rounds into the subnormals once, as p * 2^n
/// in exact arithmetic then rounded. Float lanes split 2^n into two normal
/// factors built from the exponent bits (9 integer and float operations);
/// double lanes (whose integer packets Eigen 3.4 lacks on SSE and AVX) and
/// single values go through Eigen's general pldexp.
template <typename P>
P scale_by_pow2(const P& p, const P& n) {
  namespace ei = Eigen::internal;
  if constexpr (std::is_same_v<scalar_of<P>, float> && ei::unpacket_traits<P>::size > 1) {
    using PI = typename ei::unpacket_traits<P>::integer_packet;
    const PI e = ei::pcast<P, PI>(n);
    const PI half = ei::parithmetic_shift_right<1>(e);
    const PI bias = ei::pset1<PI>(127);
    const P first = ei::preinterpret<P>(ei::plogical_shift_left<23>(ei::padd(half, bias)));
    const P second = ei::preinterpret<P>(ei::plogical_shift_left<23>(ei::padd(ei::psub(e, half), bias)));
    return ei::pmul(ei::pmul(p, first), second);
  } else {
    return ei::pldexp(p, n);
  }
}

/// e^x for x in [-104, 89] (float) / [-746, 710] (double) or NaN: exp without its clamp.
template <typename P>
P exp_in_range(const P& x) {
  namespace ei = Eigen::internal;
  using S = scalar_of<P>;
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "math::exp: float or double lanes");
  constexpr bool f32 = std::is_same_v<S, float>;
  const P n = ei::print(ei::pmul(x, splat<P>(S(1.4426950408889634))));
  // ln2 in two parts, the first with trailing zero bits so that n * ln2_hi is exact.
  const S ln2_hi = f32 ? S(0.693359375) : S(6.93147180369123816490e-01);
  const S ln2_lo = f32 ? S(-2.12194440e-4) : S(1.90821492927058770002e-10);
  P r = ei::pmadd(n, splat<P>(-ln2_hi), x);
  r = ei::pmadd(n, splat<P>(-ln2_lo), r);
  P p;
  if constexpr (f32) {
    static constexpr S c[] = {0.0013745303731411695f, 0.008368944749236107f, 0.04166964814066887f, 0.166665181517601f,
                              0.49999988079071045f};
    p = horner(r, c);
  } else {
    static constexpr S c[] = {2.502003026436706e-08,  2.7630897243072546e-07, 2.755752173876022e-06,
                              2.4801491055366002e-05, 0.00019841269581140757, 0.001388888894590293,
                              0.008333333333458674,   0.04166666666651979,    0.16666666666666471,
                              0.5000000000000012};
    p = horner(r, c);
  }
  p = ei::padd(ei::pmadd(ei::pmul(r, r), p, r), splat<P>(S(1)));
  return scale_by_pow2(p, n);
}

}  // namespace detail

/// e^x lane by lane, within 1 ulp; overflows to +inf past log(max) and
/// underflows through the subnormals to +0 as the correctly rounded value
/// does; exp(-inf) = 0, exp(+inf) = +inf, exp(NaN) = NaN.
/// Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, then 1 + r + r^2 p(r)
/// (p of degree 4 for float, 9 for double) scaled by 2^n.
template <typename P>
P exp(const P& x) {
  using S = scalar_of<P>;
  constexpr bool f32 = std::is_same_v<S, float>;
  // Beyond these, exp is +inf / rounds to +0 in S; clamping keeps n finite (the
  // comparisons let NaN through).
  return detail::exp_in_range(
      min_keep_nan(max_keep_nan(x, splat<P>(f32 ? S(-104) : S(-746))), splat<P>(f32 ? S(89) : S(710))));
}

/// tanh(x) lane by lane, within 1.1 ulp (float) / 1.4 ulp (double); tanh(+-inf) = +-1, tanh(-0.0) = -0.0,
/// tanh(NaN) = NaN. On a = |x|: a + a^3 p(a^2) below 1 (float) or 0.625
/// (double), 1 - 2 / (e^(2a) + 1) above; then x's sign.
template <typename P>
P tanh(const P& x) {
  namespace ei = Eigen::internal;
  using S = scalar_of<P>;
  constexpr bool f32 = std::is_same_v<S, float>;
  const P a = ei::pabs(x);
  const P a2 = ei::pmul(a, a);
  P p;
  if constexpr (f32) {
    static constexpr S c[] = {-0.00036007323069497943f, 0.0023074308410286903f, -0.007955106906592846f,
                              0.021493351086974144f,    -0.05388238653540611f,  0.13332392275333405f,
                              -0.33333298563957214f};
    p = detail::horner(a2, c);
  } else {
    static constexpr S c[] = {-1.613507871769971e-05, 7.728171767795634e-05,  -0.00022869485144498092,
                              0.0005863869547894812,  -0.0014549825193910855, 0.0035919942909872207,
                              -0.008863221716666763,  0.021869487638423116,   -0.05396825393444428,
                              0.13333333333270303,    -0.3333333333333293};
    p = detail::horner(a2, c);
  }
  const P small = ei::pmadd(ei::pmul(a, a2), p, a);
  const P one = splat<P>(S(1));
  const P large = ei::psub(one, ei::pdiv(splat<P>(S(2)), ei::padd(exp(ei::padd(a, a)), one)));
  return detail::with_sign_of(x, ei::pselect(ei::pcmp_lt(a, splat<P>(f32 ? S(1) : S(0.625))), small, large));
}

/// erf(x) lane by lane, within 1.5 ulp; erf(+-inf) = +-1, erf(-0.0) = -0.0, erf(NaN) = NaN.
/// On a = |x|: a + a s(a^2) below 1; above, 1 - e^(-a^2) q with q a
/// polynomial in a - 1 (float) or t q(t) with t = 1 / (a + 2) (double), a
/// clamped where erf rounds to 1 (4 for float, 6 for double); then x's sign.
template <typename P>
P erf(const P& x) {
  namespace ei = Eigen::internal;
  using S = scalar_of<P>;
  constexpr bool f32 = std::is_same_v<S, float>;
  const P one = splat<P>(S(1));
  const P a = ei::pabs(x);
  // Clamped where erf rounds to 1, so the large-|x| branch is finite in every lane.
  const P b = min_keep_nan(a, splat<P>(f32 ? S(4) : S(6)));
  P s, q;
  if constexpr (f32) {
    static constexpr S cs[] = {7.913859735708684e-05f, -0.0008029054151847959f, 0.005190575961023569f,
                               -0.026855066418647766f, 0.11283617466688156f,    -0.3761262893676758f,
                               0.12837916612625122f};
    // Float: q a polynomial in b - 1, no division.
    static constexpr S cq[] = {-2.685669642232824e-05f, 0.00031162810046225786f, -0.001684854389168322f,
                               0.005910606123507023f,   -0.01600070483982563f,   0.03732164204120636f,
                               -0.07917359471321106f,   0.15436601638793945f,    -0.273211807012558f,
                               0.42758357524871826f};
    s = detail::horner(ei::pmul(a, a), cs);
    q = detail::horner(ei::psub(b, one), cq);
  } else {
    static constexpr S cs[] = {-7.777212598956451e-10, 1.3709517742522232e-08,  -1.620590035002091e-07,
                               1.644706472808886e-06,  -1.4924705483724844e-05, 0.00012055293120684955,
                               -0.000854832590914877,  0.005223977605540274,    -0.026866170643008853,
                               0.11283791670943155,    -0.3761263890318347,     0.12837916709551256};
    static constexpr S cq[] = {-191.91058694329408, 681.3094200209299,  -1052.441002871072,  903.1051640533177,
                               -454.56980771722533, 136.74913874648817, -33.374059952777394, 8.093121730008598,
                               2.1998917866838728,  2.022366767527197,  1.1261696474547065,  0.5642363393149175};
    s = detail::horner(ei::pmul(a, a), cs);
    const P t = ei::pdiv(one, ei::padd(b, splat<P>(S(2))));
    q = ei::pmul(t, detail::horner(t, cq));
  }
  const P small = ei::pmadd(a, s, a);
  const P large = ei::psub(one, ei::pmul(detail::exp_in_range(ei::pnegate(ei::pmul(b, b))), q));
  // NaN fails the comparison and takes the large branch, which the clamp kept NaN.
  return detail::with_sign_of(x, ei::pselect(ei::pcmp_lt(a, one), small, large));
}

}  // namespace math
}  // namespace kernels
}  // namespace strata

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
