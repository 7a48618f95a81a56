#pragma once
/// \file
/// The element-wise activation formulas, one small functor each (see
/// kernels/elementwise.hpp for the interface), written exactly as torch 1.13's
/// CPU kernels compute them, so the edge cases come out as torch's:
/// NaN propagates through every one, -0.0 keeps its sign wherever torch keeps
/// it (relu, relu6, leaky_relu, gelu, silu, tanh, hardswish), and infinities
/// give torch's limits (silu(-inf), gelu(-inf) and hardswish(-inf) are NaN in
/// torch, from -inf * 0, and here). `name` is torch.nn.functional's name of
/// the function, for messages. Raw values, no checks.

#include "strata/core/shape.hpp"
#include "strata/kernels/elementwise.hpp"
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

/// max(x, 0): x < 0 ? 0 : x, so NaN stays NaN and -0.0 stays -0.0.
struct Relu {
  static constexpr const char* name = "relu";
  static constexpr int cost = 1;
  template <typename P>
  P packet(const P& x) const {
    return math::max_keep_nan(x, Eigen::internal::pzero(x));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// min(max(x, 0), 6), torch's hardtanh(x, 0, 6): relu6(-0.0) = -0.0, relu6(inf) = 6.
struct Relu6 {
  static constexpr const char* name = "relu6";
  static constexpr int cost = 1;
  template <typename P>
  P packet(const P& x) const {
    return math::min_keep_nan(math::max_keep_nan(x, Eigen::internal::pzero(x)), math::splat<P>(6));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// x > 0 ? x : x * negative_slope (the slope rounded to T, as torch does):
/// leaky_relu(-inf, 0) is NaN, leaky_relu(-0.0, -2) is +0.0, as in torch.
struct LeakyRelu {
  static constexpr const char* name = "leaky_relu";
  static constexpr int cost = 1;
  double negative_slope = 0.01;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    const P slope = math::splat<P>(static_cast<math::scalar_of<P>>(negative_slope));
    return ei::pselect(ei::pcmp_lt(ei::pzero(x), x), x, ei::pmul(x, slope));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// x * 0.5 * (1 + erf(x / sqrt(2))), torch's default (approximate='none') GELU.
struct Gelu {
  static constexpr const char* name = "gelu";
  static constexpr int cost = 40;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    using S = math::scalar_of<P>;
    const P z = ei::pmul(x, math::splat<P>(S(0.70710678118654752440)));
    return ei::pmul(ei::pmul(x, math::splat<P>(S(0.5))), ei::padd(math::splat<P>(S(1)), math::erf(z)));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))), GELU with approximate='tanh'.
struct GeluTanh {
  static constexpr const char* name = "gelu";
  static constexpr int cost = 35;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    using S = math::scalar_of<P>;
    const P cube = ei::pmul(ei::pmul(x, x), x);
    const P inner =
        ei::pmul(math::splat<P>(S(0.79788456080286535588)), ei::pmadd(math::splat<P>(S(0.044715)), cube, x));
    return ei::pmul(ei::pmul(math::splat<P>(S(0.5)), x), ei::padd(math::splat<P>(S(1)), math::tanh(inner)));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// 1 / (1 + exp(-x)), torch's formula: sigmoid(x) = 0 once exp(-x) overflows.
struct Sigmoid {
  static constexpr const char* name = "sigmoid";
  static constexpr int cost = 20;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    const P one = math::splat<P>(1);
    return ei::pdiv(one, ei::padd(one, math::exp(ei::pnegate(x))));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// x / (1 + exp(-x)), torch's formula: silu(x) = -0.0 once exp(-x) overflows, silu(-inf) = NaN.
struct Silu {
  static constexpr const char* name = "silu";
  static constexpr int cost = 20;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    return ei::pdiv(x, ei::padd(math::splat<P>(1), math::exp(ei::pnegate(x))));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// tanh(x) (math::tanh: within 1.1 ulp for float, 1.4 for double).
struct Tanh {
  static constexpr const char* name = "tanh";
  static constexpr int cost = 30;
  template <typename P>
  P packet(const P& x) const {
    return math::tanh(x);
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// x * min(max(x + 3, 0), 6) / 6, in torch's order (a division, not a product with 1/6).
struct Hardswish {
  static constexpr const char* name = "hardswish";
  static constexpr int cost = 3;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    const P six = math::splat<P>(6);
    const P gate = math::min_keep_nan(math::max_keep_nan(ei::padd(x, math::splat<P>(3)), ei::pzero(x)), six);
    return ei::pdiv(ei::pmul(x, gate), six);
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// min(max(x + 3, 0), 6) / 6, in torch's order.
struct Hardsigmoid {
  static constexpr const char* name = "hardsigmoid";
  static constexpr int cost = 3;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    const P six = math::splat<P>(6);
    return ei::pdiv(math::min_keep_nan(math::max_keep_nan(ei::padd(x, math::splat<P>(3)), ei::pzero(x)), six), six);
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

/// out[i] = max(in[i], 0) for i < n (Relu above, in parallel). out may equal in.
template <typename T>
void relu(const T* in, T* out, index_t n) {
  unary(Relu{}, in, out, n);
}

}  // namespace kernels
}  // namespace strata

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
