#pragma once
/// \file
/// The geometry a convolution kernel computes on: ConvShape<D> (sizes,
/// stride, padding on each side, dilation, groups, padding mode), the
/// padding modes, and the rule that maps a padded coordinate to the input
/// element it reads. The nn floor fills and validates a ConvShape
/// (nn/conv_geometry.hpp) and re-exports PaddingMode as strata::nn::PaddingMode.

#include <array>
#include <cstddef>
#include <ostream>

#include "strata/core/shape.hpp"

namespace strata {
namespace kernels {

/// How a convolution fills its padding, torch's padding_mode: zeros, reflect
/// (mirror without repeating the edge), replicate (repeat the edge), circular (wrap).
enum class PaddingMode { Zeros, Reflect, Replicate, Circular };

/// libtorch's name of the mode: "kZeros", "kReflect", "kReplicate", "kCircular".
inline const char* padding_mode_name(PaddingMode mode) {
  switch (mode) {
    case PaddingMode::Zeros:
      return "kZeros";
    case PaddingMode::Reflect:
      return "kReflect";
    case PaddingMode::Replicate:
      return "kReplicate";
    case PaddingMode::Circular:
      return "kCircular";
  }
  return "kZeros";  // unreachable: every enumerator is handled above
}

inline std::ostream& operator<<(std::ostream& out, PaddingMode mode) { return out << padding_mode_name(mode); }

/// The geometry of one convolution call, D spatial dimensions. Validated by
/// the caller (nn/conv_geometry.hpp): every size >= 1 (batch may be 0),
/// groups divides both channel counts, output[d] ==
/// floor((input[d] + pad_before[d] + pad_after[d] - dilation[d]*(kernel[d]-1) - 1) / stride[d]) + 1,
/// reflect padding < input[d], circular padding <= input[d].
template <std::size_t D>
struct ConvShape {
  index_t batch = 0;
  index_t in_channels = 0;
  index_t out_channels = 0;
  index_t groups = 1;
  std::array<index_t, D> input{};
  std::array<index_t, D> kernel{};
  std::array<index_t, D> stride{};
  std::array<index_t, D> dilation{};
  std::array<index_t, D> pad_before{};
  std::array<index_t, D> pad_after{};
  std::array<index_t, D> output{};
  PaddingMode padding_mode = PaddingMode::Zeros;
};

/// Product of the entries (no overflow check: the caller validated the sizes).
template <std::size_t D>
index_t spatial_numel(const std::array<index_t, D>& sizes) {
  index_t n = 1;
  for (index_t s : sizes) n *= s;
  return n;
}

/// Where padded coordinate p (in [-pad_before, n + pad_after)) reads from in an
/// input row of n elements, or -1 for a zero. Contract: reflect overhang < n,
/// circular overhang <= n (so one reflection or wrap suffices).
inline index_t padded_source_index(index_t p, index_t n, PaddingMode mode) {
  if (p >= 0 && p < n) return p;
  switch (mode) {
    case PaddingMode::Zeros:
      return -1;
    case PaddingMode::Reflect:
      return p < 0 ? -p : 2 * (n - 1) - p;  // mirror, edge not repeated
    case PaddingMode::Replicate:
      return p < 0 ? 0 : n - 1;
    case PaddingMode::Circular:
      return p < 0 ? p + n : p - n;
  }
  return -1;  // unreachable: every mode is handled above
}

}  // namespace kernels
}  // namespace strata
