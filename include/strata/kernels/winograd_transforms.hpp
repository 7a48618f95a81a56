#pragma once
/// \file
/// The transforms of Winograd's minimal filtering F(m, r) (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016): m outputs of an
/// r-tap correlation from alpha = m + r - 1 inputs with alpha multiplications,
///   y = A^T [(G g) . (B^T d)],
/// nested for two dimensions: Y = A^T [(G g G^T) . (B^T d B)] A. The matrices
/// are Cook-Toom's for the points 0, 1, -1, 2, -2 (and 1/2, -1/2 for alpha 8),
/// plus the point at infinity, as derived exactly in rational arithmetic; the
/// few non-dyadic entries of G (1/6, 1/12, 1/24, 2/9, ...) are the only
/// coefficients rounded to the scalar type.
///
/// Each transform works on Eigen packets, one lane per tile (tiles lie side
/// by side in memory), and is unrolled at compile time with its zero
/// coefficients skipped and its +-1 coefficients turned into additions, so it
/// costs a few instructions per element. Raw pointers, no checks.

#include <cstddef>

#include <Eigen/Core>

#include "strata/core/shape.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {
namespace detail {

/// F(m, r): m outputs of an r-tap filter per tile, alpha = m + r - 1 inputs.
/// bt (alpha x alpha) transforms the inputs, g (alpha x r) the filter, at
/// (m x alpha) the products back to outputs.
template <int M, int R>
struct WinogradF;

/// F(1, 1), the identity: the height of a 1-d convolution.
template <>
struct WinogradF<1, 1> {
  static constexpr int m = 1, r = 1, alpha = 1;
  static constexpr double bt[1][1] = {{1}};
  static constexpr double g[1][1] = {{1}};
  static constexpr double at[1][1] = {{1}};
};

/// F(2, 3): points 0, 1, -1, infinity.
template <>
struct WinogradF<2, 3> {
  static constexpr int m = 2, r = 3, alpha = 4;
  static constexpr double bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, -1, 0, 1}};
  static constexpr double g[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr double at[2][4] = {{1, 1, 1, 0}, {0, 1, -1, 1}};
};

/// F(4, 3): points 0, 1, -1, 2, -2, infinity.
template <>
struct WinogradF<4, 3> {
  static constexpr int m = 4, r = 3, alpha = 6;
  static constexpr double bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                      {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr double g[6][3] = {{1.0 / 4, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                     {0, 0, 1}};
  static constexpr double at[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};

/// F(6, 3): points 0, 1, -1, 2, -2, 1/2, -1/2, infinity.
template <>
struct WinogradF<6, 3> {
  static constexpr int m = 6, r = 3, alpha = 8;
  static constexpr double bt[8][8] = {
      {1, 0, -21.0 / 4, 0, 21.0 / 4, 0, -1, 0},          {0, 1, 1, -17.0 / 4, -17.0 / 4, 1, 1, 0},
      {0, -1, 1, 17.0 / 4, -17.0 / 4, -1, 1, 0},         {0, 0.5, 0.25, -2.5, -1.25, 2, 1, 0},
      {0, -0.5, 0.25, 2.5, -1.25, -2, 1, 0},             {0, 2, 4, -2.5, -5, 0.5, 1, 0},
      {0, -2, 4, 2.5, -5, -0.5, 1, 0},                   {0, -1, 0, 21.0 / 4, 0, -21.0 / 4, 0, 1}};
  static constexpr double g[8][3] = {{1, 0, 0},
                                     {-2.0 / 9, -2.0 / 9, -2.0 / 9},
                                     {-2.0 / 9, 2.0 / 9, -2.0 / 9},
                                     {1.0 / 90, 1.0 / 45, 2.0 / 45},
                                     {1.0 / 90, -1.0 / 45, 2.0 / 45},
                                     {32.0 / 45, 16.0 / 45, 8.0 / 45},
                                     {32.0 / 45, -16.0 / 45, 8.0 / 45},
                                     {0, 0, 1}};
  static constexpr double at[6][8] = {{1, 1, 1, 1, 1, 1, 1, 0},           {0, 1, -1, 2, -2, 0.5, -0.5, 0},
                                      {0, 1, 1, 4, 4, 0.25, 0.25, 0},     {0, 1, -1, 8, -8, 0.125, -0.125, 0},
                                      {0, 1, 1, 16, 16, 0.0625, 0.0625, 0}, {0, 1, -1, 32, -32, 0.03125, -0.03125, 1}};
};

/// F(2, 5): points 0, 1, -1, 2, -2, infinity.
template <>
struct WinogradF<2, 5> {
  static constexpr int m = 2, r = 5, alpha = 6;
  static constexpr double bt[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                      {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr double g[6][5] = {{1.0 / 4, 0, 0, 0, 0},
                                     {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                     {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                     {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
                                     {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
                                     {0, 0, 0, 0, 1}};
  static constexpr double at[2][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 1}};
};

STRATA_KERNELS_PACKETS_BEGIN

/// acc (+)= c * x for a coefficient known once the loops are unrolled: a zero
/// term is skipped, +-1 is an addition, the first term starts the sum.
template <typename Vec>
EIGEN_STRONG_INLINE void winograd_term(double c, const Vec& x, Vec& acc, bool& started) {
  namespace ei = Eigen::internal;
  using T = typename ei::unpacket_traits<Vec>::type;
  if (c == 0) return;
  if (!started) {
    acc = c == 1 ? x : c == -1 ? ei::pnegate(x) : ei::pmul(ei::pset1<Vec>(T(c)), x);
  } else {
    acc = c == 1 ? ei::padd(acc, x) : c == -1 ? ei::psub(acc, x) : ei::pmadd(ei::pset1<Vec>(T(c)), x, acc);
  }
  started = true;
}

/// One packet of input tiles of one channel, transformed: V = B_h^T d B_w.
/// Element (k, l) of lane t's tile is at q[(l % Fw::m) * phase_stride + k * row_stride + l / Fw::m + t]
/// (the input padded and split by column phase, so consecutive tiles are
/// consecutive elements); position (i, j) of the result goes to v[(i * Fw::alpha + j) * pos_stride].
template <typename T, typename Fh, typename Fw>
EIGEN_STRONG_INLINE void winograd_input_tile(const T* q, index_t phase_stride, index_t row_stride, T* v,
                                             index_t pos_stride) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr int AH = Fh::alpha, AW = Fw::alpha;
  Vec rows[AH][AW];
  STRATA_UNROLL
  for (int k = 0; k < AH; ++k) {
    Vec d[AW];
    STRATA_UNROLL
    for (int l = 0; l < AW; ++l) d[l] = ei::ploadu<Vec>(q + (l % Fw::m) * phase_stride + k * row_stride + l / Fw::m);
    STRATA_UNROLL
    for (int j = 0; j < AW; ++j) {
      bool started = false;
      rows[k][j] = ei::pzero(d[0]);
      STRATA_UNROLL
      for (int l = 0; l < AW; ++l) winograd_term(Fw::bt[j][l], d[l], rows[k][j], started);
    }
  }
  STRATA_UNROLL
  for (int i = 0; i < AH; ++i) {
    STRATA_UNROLL
    for (int j = 0; j < AW; ++j) {
      bool started = false;
      Vec acc = ei::pzero(rows[0][0]);
      STRATA_UNROLL
      for (int k = 0; k < AH; ++k) winograd_term(Fh::bt[i][k], rows[k][j], acc, started);
      ei::pstoreu(v + (i * AW + j) * pos_stride, acc);
    }
  }
}

/// One packet of output tiles of one channel, transformed back: out = A_h^T Y A_w + bias.
/// Position (i, j) of lane t is at y[(i * Fw::alpha + j) * pos_stride + t];
/// output (a, b) of lane t goes to res[(a * Fw::m + b) * P + t].
template <typename T, typename Fh, typename Fw>
EIGEN_STRONG_INLINE void winograd_output_tile(const T* y, index_t pos_stride, T bias, T* res) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr int AH = Fh::alpha, AW = Fw::alpha, MH = Fh::m, MW = Fw::m;
  constexpr index_t P = packet_size<T>();
  Vec cols[MH][AW];
  STRATA_UNROLL
  for (int j = 0; j < AW; ++j) {
    Vec p[AH];
    STRATA_UNROLL
    for (int i = 0; i < AH; ++i) p[i] = ei::ploadu<Vec>(y + (i * AW + j) * pos_stride);
    STRATA_UNROLL
    for (int a = 0; a < MH; ++a) {
      bool started = false;
      cols[a][j] = ei::pzero(p[0]);
      STRATA_UNROLL
      for (int i = 0; i < AH; ++i) winograd_term(Fh::at[a][i], p[i], cols[a][j], started);
    }
  }
  const Vec start = ei::pset1<Vec>(bias);
  STRATA_UNROLL
  for (int a = 0; a < MH; ++a) {
    STRATA_UNROLL
    for (int b = 0; b < MW; ++b) {
      bool started = false;
      Vec acc = ei::pzero(start);
      STRATA_UNROLL
      for (int j = 0; j < AW; ++j) winograd_term(Fw::at[b][j], cols[a][j], acc, started);
      // The bias is added last, so every output rounds the same sum whatever the tile.
      ei::pstoreu(res + (a * MW + b) * P, ei::padd(acc, start));
    }
  }
}

/// The filters of one packet of (input channel, output channel) pairs,
/// transformed: U = G_h g G_w^T. Tap (kh, kw) of lane t is at
/// gt[(kh * Fw::r + kw) * stride + t]; position (i, j) goes to u[(i * Fw::alpha + j) * stride + t].
template <typename T, typename Fh, typename Fw>
EIGEN_STRONG_INLINE void winograd_filter_packet(const T* gt, index_t stride, T* u) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr int AH = Fh::alpha, AW = Fw::alpha, RH = Fh::r, RW = Fw::r;
  Vec cols[AH][RW];
  STRATA_UNROLL
  for (int kw = 0; kw < RW; ++kw) {
    Vec taps[RH];
    STRATA_UNROLL
    for (int kh = 0; kh < RH; ++kh) taps[kh] = ei::ploadu<Vec>(gt + (kh * RW + kw) * stride);
    STRATA_UNROLL
    for (int i = 0; i < AH; ++i) {
      bool started = false;
      cols[i][kw] = ei::pzero(taps[0]);
      STRATA_UNROLL
      for (int kh = 0; kh < RH; ++kh) winograd_term(Fh::g[i][kh], taps[kh], cols[i][kw], started);
    }
  }
  STRATA_UNROLL
  for (int i = 0; i < AH; ++i) {
    STRATA_UNROLL
    for (int j = 0; j < AW; ++j) {
      bool started = false;
      Vec acc = ei::pzero(cols[0][0]);
      STRATA_UNROLL
      for (int kw = 0; kw < RW; ++kw) winograd_term(Fw::g[j][kw], cols[i][kw], acc, started);
      ei::pstoreu(u + (i * AW + j) * stride, acc);
    }
  }
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail
}  // namespace kernels
}  // namespace strata
