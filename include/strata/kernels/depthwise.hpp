#pragma once
/// \file
/// The direct kernel of depthwise convolutions (groups == in_channels, any
/// channel multiplier): each output plane is a weighted sum of shifted rows
/// of one padded input plane, computed a group of output rows and packets at
/// a time with the accumulators in registers and stored straight into the
/// output. The G tiny GEMMs of the general
/// path would spend their time packing and calling, not multiplying.
/// Raw pointers, no checks.

#include <algorithm>
#include <cstddef>

#include <Eigen/Core>

#include "strata/core/shape.hpp"
#include "strata/kernels/conv_planes.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {
namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// Packets computed together: independent accumulators, so the multiply-adds
/// of one tap overlap instead of waiting on each other's latency.
constexpr int kDepthwisePackets = 4;

/// out[x] = start + sum_t weight[t] * columns[offsets[t] + x] for
/// kDepthwisePackets packets of x.
template <typename T>
void depthwise_packets(const T* columns, const index_t* offsets, const T* weight, index_t taps, T start, T* out) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>();
  constexpr int NP = kDepthwisePackets;
  Vec acc[NP];
  STRATA_UNROLL
  for (int j = 0; j < NP; ++j) acc[j] = ei::pset1<Vec>(start);
  for (index_t t = 0; t < taps; ++t) {
    const Vec w = ei::pset1<Vec>(weight[t]);
    const T* src = columns + offsets[t];
    STRATA_UNROLL
    for (int j = 0; j < NP; ++j) acc[j] = ei::pmadd(w, ei::ploadu<Vec>(src + j * P), acc[j]);
  }
  STRATA_UNROLL
  for (int j = 0; j < NP; ++j) ei::pstoreu(out + j * P, acc[j]);
}

/// Elements of the row buffer depthwise_plane needs for planes p.
inline index_t depthwise_row_buffer(const ConvPlanes& p) {
  return p.plane_rows * p.plane_w + kDepthwisePackets * 64;  // the last group of packets runs past the end (P <= 64)
}

/// Output rows [oh, oh + R) of one plane, the packets starting at columns
/// starts[0..NP) of each row, written straight into `out` (rows out_w apart):
/// R x NP accumulators, each tap's weight broadcast once for all of them.
template <typename T, int R, int NP>
void depthwise_row_group(const T* planes, index_t plane_w, const index_t* offsets, const T* weight, index_t taps,
                         T bias, index_t oh, const index_t* starts, T* out, index_t out_w) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  Vec acc[R][NP];
  STRATA_UNROLL
  for (int i = 0; i < R; ++i) {
    STRATA_UNROLL
    for (int j = 0; j < NP; ++j) acc[i][j] = ei::pset1<Vec>(bias);
  }
  const T* const rows = planes + oh * plane_w;
  for (index_t t = 0; t < taps; ++t) {
    const Vec w = ei::pset1<Vec>(weight[t]);
    const T* const src = rows + offsets[t];
    STRATA_UNROLL
    for (int i = 0; i < R; ++i) {
      STRATA_UNROLL
      for (int j = 0; j < NP; ++j) acc[i][j] = ei::pmadd(w, ei::ploadu<Vec>(src + i * plane_w + starts[j]), acc[i][j]);
    }
  }
  STRATA_UNROLL
  for (int i = 0; i < R; ++i) {
    STRATA_UNROLL
    for (int j = 0; j < NP; ++j) ei::pstoreu(out + (oh + i) * out_w + starts[j], acc[i][j]);
  }
}

/// Rows whose packets go to the output directly are computed this many at a time.
constexpr int kDepthwiseRows = 4;

/// One output plane (out_h x out_w, contiguous) from the planes of its input
/// channel; offsets[t] is where tap t reads relative to the output column
/// j = oh * plane_w + ow (see conv_planes.hpp). Rows at least a packet wide
/// are computed a group of rows at a time straight into the output, their
/// last packet ending with the row (overlapping the one before it: both write
/// the same values); narrower rows are computed over whole plane rows into
/// `rows` (depthwise_row_buffer elements), whose real columns are then
/// copied out. Every output sums its taps in the same order either way.
template <typename T>
void depthwise_plane(const T* planes, const ConvPlanes& p, const index_t* offsets, const T* weight,
                     index_t taps, T bias, T* rows, T* out) {
  constexpr index_t P = packet_size<T>();
  if (p.out_w < P) {
    constexpr index_t wide = kDepthwisePackets * P;
    const index_t columns = (p.out_h - 1) * p.plane_w + p.out_w;
    for (index_t j = 0; j < columns; j += wide) depthwise_packets(planes + j, offsets, weight, taps, bias, rows + j);
    for (index_t oh = 0; oh < p.out_h; ++oh) copy_run(rows + oh * p.plane_w, p.out_w, out + oh * p.out_w);
    return;
  }
  const index_t packets = (p.out_w + P - 1) / P;
  for (index_t first = 0; first < packets; first += 2) {
    const index_t starts[2] = {std::min(first * P, p.out_w - P), std::min((first + 1) * P, p.out_w - P)};
    const bool pair = first + 1 < packets;
    index_t oh = 0;
    for (; oh + kDepthwiseRows <= p.out_h; oh += kDepthwiseRows) {
      if (pair) {
        depthwise_row_group<T, kDepthwiseRows, 2>(planes, p.plane_w, offsets, weight, taps, bias, oh, starts, out,
                                                  p.out_w);
      } else {
        depthwise_row_group<T, kDepthwiseRows, 1>(planes, p.plane_w, offsets, weight, taps, bias, oh, starts, out,
                                                  p.out_w);
      }
    }
    for (; oh < p.out_h; ++oh) {
      if (pair) {
        depthwise_row_group<T, 1, 2>(planes, p.plane_w, offsets, weight, taps, bias, oh, starts, out, p.out_w);
      } else {
        depthwise_row_group<T, 1, 1>(planes, p.plane_w, offsets, weight, taps, bias, oh, starts, out, p.out_w);
      }
    }
  }
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail
}  // namespace kernels
}  // namespace strata
