#pragma once
/// \file
/// The direct kernel of depthwise convolutions (groups == in_channels, any
/// channel multiplier): each output plane is a weighted sum of shifted rows
/// of one padded input plane, computed a few packets of an output row at a
/// time with the accumulators in registers. The G tiny GEMMs of the general
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

/// One output plane (out_h x out_w, contiguous) from the planes of its input
/// channel; offsets[t] is where tap t reads relative to the output column
/// j = oh * plane_w + ow (see conv_planes.hpp). All columns j, the dropped
/// ones between rows included, are computed into `rows` (depthwise_row_buffer
/// elements), whose real columns are then copied out row by row.
template <typename T>
void depthwise_plane(const T* planes, const ConvPlanes& p, const index_t* offsets, const T* weight,
                     index_t taps, T bias, T* rows, T* out) {
  constexpr index_t wide = kDepthwisePackets * packet_size<T>();
  const index_t columns = (p.out_h - 1) * p.plane_w + p.out_w;
  for (index_t j = 0; j < columns; j += wide) depthwise_packets(planes + j, offsets, weight, taps, bias, rows + j);
  for (index_t oh = 0; oh < p.out_h; ++oh) copy_run(rows + oh * p.plane_w, p.out_w, out + oh * p.out_w);
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail
}  // namespace kernels
}  // namespace strata
