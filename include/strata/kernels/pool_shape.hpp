#pragma once
/// \file
/// The geometry a pooling kernel computes on: PoolShape<D> (planes, sizes,
/// kernel, stride, padding, dilation, the reduction and the average's
/// divisor rule). The nn floor fills and validates it (nn/conv_geometry.hpp's
/// pooling section); kernels/pooling.hpp runs it.

#include <array>
#include <cstddef>

#include "strata/core/shape.hpp"

namespace strata {
namespace kernels {

/// What a pooling window computes: the maximum (NaN propagating, as torch),
/// the average of a fixed window (AvgPool), or the average of torch's
/// adaptive window start = floor(i*in/out), end = ceil((i+1)*in/out).
enum class PoolMode { Max, Avg, AdaptiveAvg };

/// One pooling call over D spatial dimensions, validated by the caller
/// (nn/conv_geometry.hpp): planes (batch * channels) >= 0, every input and
/// kernel size >= 1, stride and dilation >= 1, 0 <= padding <= kernel/2,
/// output >= 1 (Max, Avg) or >= 0 (AdaptiveAvg), output[d] the count of
/// window_output_size with ceil_mode's rule. kernel, stride, padding and
/// dilation are unused by AdaptiveAvg; dilation is 1 for Avg.
template <std::size_t D>
struct PoolShape {
  PoolMode mode = PoolMode::Max;
  index_t planes = 0;
  std::array<index_t, D> input{};
  std::array<index_t, D> output{};
  std::array<index_t, D> kernel{};
  std::array<index_t, D> stride{};
  std::array<index_t, D> padding{};  ///< the same on both sides
  std::array<index_t, D> dilation{};
  bool count_include_pad = true;  ///< Avg: padded positions count in the divisor
  index_t divisor_override = 0;   ///< Avg: the divisor of every window when not 0
};

}  // namespace kernels
}  // namespace strata
