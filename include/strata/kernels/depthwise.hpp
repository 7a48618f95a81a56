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
#include "strata/kernels/conv_gemm.hpp"
#include "strata/kernels/conv_planes.hpp"

namespace strata {
namespace detail {

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// Packets of an output row computed together (each weight broadcast serves them all).
constexpr int kDepthwisePackets = 4;

/// out[x] = start + sum_t weight[t] * plane[offsets[t] + x] for NP packets of
/// x, stored whole when `whole`, else only the first `count` values.
template <typename T, int NP>
void depthwise_packets(const T* plane, const index_t* offsets, const T* weight, index_t taps, T start, T* out,
                       bool whole, index_t count) {
  namespace ei = Eigen::internal;
  using Packet = ConvPacket<T>;
  constexpr index_t P = conv_packet_size<T>();
  Packet acc[NP];
  for (int j = 0; j < NP; ++j) acc[j] = ei::pset1<Packet>(start);
  for (index_t t = 0; t < taps; ++t) {
    const Packet w = ei::pset1<Packet>(weight[t]);
    const T* src = plane + offsets[t];
    for (int j = 0; j < NP; ++j) acc[j] = ei::pmadd(w, ei::ploadu<Packet>(src + j * P), acc[j]);
  }
  if (whole) {
    for (int j = 0; j < NP; ++j) ei::pstoreu(out + j * P, acc[j]);
    return;
  }
  alignas(64) T scratch[NP * P];
  for (int j = 0; j < NP; ++j) ei::pstoreu(scratch + j * P, acc[j]);
  std::copy_n(scratch, count, out);
}

/// One output plane (out_h x out_w, contiguous) from the planes of its input
/// channel; offsets[t] is where tap t reads relative to the output column
/// j = oh * plane_w + ow (see conv_planes.hpp).
template <typename T>
void depthwise_plane(const T* planes, const kernels::ConvPlanes& p, const index_t* offsets, const T* weight,
                     index_t taps, T bias, T* out) {
  constexpr index_t P = conv_packet_size<T>();
  constexpr index_t wide = kDepthwisePackets * P;
  for (index_t oh = 0; oh < p.out_h; ++oh) {
    const T* row = planes + oh * p.plane_w;
    T* dst = out + oh * p.out_w;
    index_t ow = 0;
    for (; ow + wide <= p.out_w; ow += wide) {
      depthwise_packets<T, kDepthwisePackets>(row + ow, offsets, weight, taps, bias, dst + ow, true, wide);
    }
    for (; ow < p.out_w; ow += P) {
      const index_t count = std::min(P, p.out_w - ow);
      depthwise_packets<T, 1>(row + ow, offsets, weight, taps, bias, dst + ow, count == P, count);
    }
  }
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

}  // namespace detail
}  // namespace strata
