#pragma once
/// \file
/// Convolution padding: the kSame / kValid tags, the padding modes (kZeros,
/// kReflect, kReplicate, kCircular) and ConvPadding<D>, the value a conv's
/// `padding` option holds (explicit sizes, 'same' or 'valid').

#include <array>
#include <cstddef>
#include <initializer_list>
#include <ostream>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/kernels/conv_shape.hpp"
#include "strata/nn/expanding_array.hpp"

namespace strata {
namespace nn {

/// Tag type of kSame: pad so that the output has the input's size (stride 1 only).
struct SamePadding {
  friend bool operator==(SamePadding, SamePadding) { return true; }
};
/// Tag type of kValid: no padding.
struct ValidPadding {
  friend bool operator==(ValidPadding, ValidPadding) { return true; }
};

/// padding='same', as in torch: total padding dilation*(kernel-1) per
/// dimension, the odd element on the right/bottom.
/// Example: `Conv2dOptions(3, 8, 3).padding(strata::nn::kSame)`
inline constexpr SamePadding kSame{};
/// padding='valid', as in torch: no padding.
inline constexpr ValidPadding kValid{};

/// How a convolution fills its padding, torch's padding_mode (the kernel
/// floor's vocabulary, kernels/conv_shape.hpp): kZeros, kReflect (mirror
/// without repeating the edge), kReplicate (repeat the edge), kCircular (wrap).
using PaddingMode = kernels::PaddingMode;
using kernels::padding_mode_name;

inline constexpr PaddingMode kZeros = PaddingMode::Zeros;
inline constexpr PaddingMode kReflect = PaddingMode::Reflect;
inline constexpr PaddingMode kReplicate = PaddingMode::Replicate;
inline constexpr PaddingMode kCircular = PaddingMode::Circular;

/// The padding option of a D-dimensional convolution: explicit per-side sizes
/// (the same amount before and after, one value per spatial dimension), kSame
/// or kValid. Implicitly constructible from each, so options read like torch:
/// `.padding(1)`, `.padding({4, 2})`, `.padding(kSame)`.
/// Example: `ConvPadding<2> p = {4, 2}; p.is_explicit() && p.values()[0] == 4`
/// Throws strata::Error (from ExpandingArray) when a list has the wrong length.
/// Negative sizes are accepted here and refused by the layer and functional calls.
template <std::size_t D>
class ConvPadding {
 public:
  enum class Kind { Explicit, Same, Valid };

  ConvPadding(index_t value) : values_(value) {}  // NOLINT: implicit, like libtorch's variant
  ConvPadding(std::initializer_list<index_t> values) : values_(values) {}
  ConvPadding(const std::vector<index_t>& values) : values_(values) {}
  ConvPadding(const std::array<index_t, D>& values) : values_(values) {}
  ConvPadding(const ExpandingArray<D>& values) : values_(values) {}
  ConvPadding(SamePadding) : kind_(Kind::Same), values_(0) {}
  ConvPadding(ValidPadding) : kind_(Kind::Valid), values_(0) {}

  Kind kind() const { return kind_; }
  bool is_explicit() const { return kind_ == Kind::Explicit; }
  bool is_same() const { return kind_ == Kind::Same; }
  bool is_valid() const { return kind_ == Kind::Valid; }
  /// The explicit per-side sizes; all zero for kSame and kValid.
  const ExpandingArray<D>& values() const { return values_; }

  friend bool operator==(const ConvPadding& a, const ConvPadding& b) {
    return a.kind_ == b.kind_ && a.values_ == b.values_;
  }
  friend bool operator!=(const ConvPadding& a, const ConvPadding& b) { return !(a == b); }

  /// As libtorch prints the option: `[4, 2]` (or `1` when D == 1), `'same'`, `'valid'`.
  friend std::ostream& operator<<(std::ostream& out, const ConvPadding& p) {
    if (p.is_same()) return out << "'same'";
    if (p.is_valid()) return out << "'valid'";
    return out << p.values_;
  }

 private:
  Kind kind_ = Kind::Explicit;
  ExpandingArray<D> values_;
};

}  // namespace nn

// The tags and modes are also reachable as strata::kSame, strata::kReflect, ...
using nn::kCircular;
using nn::kReflect;
using nn::kReplicate;
using nn::kSame;
using nn::kValid;
using nn::kZeros;
using nn::PaddingMode;

}  // namespace strata
