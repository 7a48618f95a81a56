#pragma once
/// \file
/// The kernels of batch normalisation at inference on (N, C, plane) data:
/// per-channel statistics of a batch, the per-channel scale and shift torch
/// computes (batch_norm_cpu_collect_linear_and_constant_terms), and
/// y = x * scale + shift over every (n, c) plane, vectorised with Eigen's
/// packets and parallel over planes. Raw pointers, no checks.

#include <algorithm>
#include <cmath>
#include <cstddef>

#include <Eigen/Core>

#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {

/// invstd[c] = 1 / sqrt(var[c] + eps), in T as torch's eval path computes it.
template <typename T>
void batch_norm_inverse_std(const T* var, T eps, index_t channels, T* invstd) {
  for (index_t c = 0; c < channels; ++c) invstd[c] = T(1) / std::sqrt(var[c] + eps);
}

/// scale[c] = invstd[c] * weight[c], shift[c] = bias[c] - mean[c] * scale[c]
/// (torch's alpha and beta); a null weight means ones, a null bias zeros.
template <typename T>
void batch_norm_coefficients(const T* mean, const T* invstd, const T* weight, const T* bias, index_t channels,
                             T* scale, T* shift) {
  for (index_t c = 0; c < channels; ++c) {
    scale[c] = invstd[c] * (weight != nullptr ? weight[c] : T(1));
    shift[c] = (bias != nullptr ? bias[c] : T(0)) - mean[c] * scale[c];
  }
}

/// The batch's own statistics of every channel of x (batch planes of
/// `channels` planes of `plane` values): mean and 1 / sqrt(biased variance
/// + eps), accumulated in double (two passes, as torch's accscalar_t), then
/// rounded to T. batch * plane must be > 0.
template <typename T>
void batch_norm_statistics(const T* x, index_t batch, index_t channels, index_t plane, double eps, T* mean,
                           T* invstd) {
  const index_t count = batch * plane;
  const index_t min_channels = std::max<index_t>(1, (index_t{1} << 15) / std::max<index_t>(1, count));
  strata::detail::parallel_for(channels, min_channels, [&](index_t begin, index_t end) {
    for (index_t c = begin; c < end; ++c) {
      double sum = 0;
      for (index_t n = 0; n < batch; ++n) {
        const T* p = x + (n * channels + c) * plane;
        for (index_t i = 0; i < plane; ++i) sum += static_cast<double>(p[i]);
      }
      const double m = sum / static_cast<double>(count);
      double squares = 0;
      for (index_t n = 0; n < batch; ++n) {
        const T* p = x + (n * channels + c) * plane;
        for (index_t i = 0; i < plane; ++i) {
          const double d = static_cast<double>(p[i]) - m;
          squares += d * d;
        }
      }
      mean[c] = static_cast<T>(m);
      invstd[c] = static_cast<T>(1.0 / std::sqrt(squares / static_cast<double>(count) + eps));
    }
  });
}

namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// y[i] = x[i] * scale + shift for i < n.
template <typename T>
void batch_norm_run(const T* x, index_t n, T scale, T shift, T* y) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>();
  const Vec a = ei::pset1<Vec>(scale), b = ei::pset1<Vec>(shift);
  index_t i = 0;
  for (; i + 4 * P <= n; i += 4 * P) {
    for (index_t j = 0; j < 4 * P; j += P) ei::pstoreu(y + i + j, ei::padd(ei::pmul(ei::ploadu<Vec>(x + i + j), a), b));
  }
  for (; i + P <= n; i += P) ei::pstoreu(y + i, ei::padd(ei::pmul(ei::ploadu<Vec>(x + i), a), b));
  for (; i < n; ++i) y[i] = x[i] * scale + shift;
}

/// y[c] = x[c] * scale[c] + shift[c] for c < n: one row of a (N, C) input.
template <typename T>
void batch_norm_row(const T* x, index_t n, const T* scale, const T* shift, T* y) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>();
  index_t c = 0;
  for (; c + P <= n; c += P) {
    ei::pstoreu(y + c, ei::padd(ei::pmul(ei::ploadu<Vec>(x + c), ei::ploadu<Vec>(scale + c)),
                                ei::ploadu<Vec>(shift + c)));
  }
  for (; c < n; ++c) y[c] = x[c] * scale[c] + shift[c];
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail

/// y = x * scale[c] + shift[c] over `batch` images of `channels` planes of
/// `plane` contiguous values each (torch's eval transform: a multiply, then
/// an add). Planes go to strata's threads; a plane of one value (a (N, C)
/// input) is computed a row of channels at a time. x and y may be the same.
template <typename T>
void batch_norm_apply(const T* x, index_t batch, index_t channels, index_t plane, const T* scale, const T* shift,
                      T* y) {
  constexpr index_t kGrain = index_t{1} << 15;  // elements per thread below which a second one does not pay
  if (plane == 1) {
    strata::detail::parallel_for(batch, std::max<index_t>(1, kGrain / std::max<index_t>(1, channels)),
                                 [&](index_t begin, index_t end) {
                                   for (index_t n = begin; n < end; ++n) {
                                     detail::batch_norm_row(x + n * channels, channels, scale, shift, y + n * channels);
                                   }
                                 });
    return;
  }
  strata::detail::parallel_for(batch * channels, std::max<index_t>(1, kGrain / plane), [&](index_t begin, index_t end) {
    for (index_t p = begin; p < end; ++p) {
      const index_t c = p % channels;
      detail::batch_norm_run(x + p * plane, plane, scale[c], shift[c], y + p * plane);
    }
  });
}

}  // namespace kernels
}  // namespace strata
