#pragma once
// A naive direct convolution, the third oracle of the conv tests (next to
// hand-computed cases and the PyTorch golden files): plain loops over every
// output element and kernel tap, double accumulation, and the padding modes
// written out as index maps. Deliberately shares no code with strata's
// kernels (no im2col, no GEMM, its own output-size arithmetic).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <strata/core/tensor.hpp>
#include <strata/nn/padding.hpp>

namespace strata_test {

/// Result of reference_conv: the output in double, plus for each element the
/// sum of |w * x| + |b| over its terms (the scale of its rounding error) and
/// the number of products per element.
struct ReferenceConv {
  strata::Shape shape;
  std::vector<double> values;
  std::vector<double> magnitudes;
  strata::index_t reduction = 0;
};

/// Where padded coordinate p reads in a row of n elements, or -1 for zero.
inline strata::index_t reference_source(strata::index_t p, strata::index_t n, strata::PaddingMode mode) {
  using strata::PaddingMode;
  if (mode == PaddingMode::Zeros) return (p >= 0 && p < n) ? p : -1;
  if (mode == PaddingMode::Replicate) return p < 0 ? 0 : (p >= n ? n - 1 : p);
  if (mode == PaddingMode::Circular) return ((p % n) + n) % n;
  // Reflect: mirror around the edge elements (x[-i] = x[i], x[n-1+i] = x[n-1-i]) until inside.
  while (p < 0 || p >= n) p = p < 0 ? -p : 2 * (n - 1) - p;
  return p;
}

/// All values of a tensor in row-major order, as doubles (honours strides).
template <typename T>
std::vector<double> reference_values(const strata::Tensor<T>& t) {
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(t.numel()));
  t.for_each_offset([&](strata::index_t offset) { out.push_back(static_cast<double>(t.data()[offset])); });
  return out;
}

/// Direct convolution of a batched input (N, C, spatial...) with weight
/// (O, C/groups, k...) and bias (O) or undefined, padded per side with the mode.
template <std::size_t D, typename T>
ReferenceConv reference_conv(const strata::Tensor<T>& input, const strata::Tensor<T>& weight,
                             const strata::Tensor<T>& bias, const std::array<strata::index_t, D>& stride,
                             const std::array<strata::index_t, D>& pad_before,
                             const std::array<strata::index_t, D>& pad_after,
                             const std::array<strata::index_t, D>& dilation, strata::index_t groups,
                             strata::PaddingMode mode) {
  using strata::index_t;
  const std::vector<double> x = reference_values(input), w = reference_values(weight);
  const std::vector<double> b = bias.defined() ? reference_values(bias) : std::vector<double>();
  const index_t batch = input.size(0), channels = input.size(1), out_channels = weight.size(0);
  const index_t cin = channels / groups, cout = out_channels / groups;
  std::array<index_t, D> in{}, k{}, out{};
  index_t in_numel = 1, k_numel = 1, out_numel = 1;
  for (std::size_t d = 0; d < D; ++d) {
    in[d] = input.size(static_cast<index_t>(d + 2));
    k[d] = weight.size(static_cast<index_t>(d + 2));
    const index_t span = in[d] + pad_before[d] + pad_after[d] - dilation[d] * (k[d] - 1) - 1;
    out[d] = span < 0 ? 0 : span / stride[d] + 1;
    in_numel *= in[d];
    k_numel *= k[d];
    out_numel *= out[d];
  }

  ReferenceConv r;
  std::vector<index_t> shape{batch, out_channels};
  for (index_t o : out) shape.push_back(o);
  r.shape = strata::Shape(shape);
  r.reduction = cin * k_numel;
  r.values.assign(static_cast<std::size_t>(batch * out_channels * out_numel), 0.0);
  r.magnitudes = r.values;

  for (index_t n = 0; n < batch; ++n) {
    for (index_t oc = 0; oc < out_channels; ++oc) {
      const index_t g = oc / cout;
      for (index_t o = 0; o < out_numel; ++o) {
        std::array<index_t, D> opos{};
        for (index_t d = D, rest = o; d-- > 0;) {
          opos[static_cast<std::size_t>(d)] = rest % out[static_cast<std::size_t>(d)];
          rest /= out[static_cast<std::size_t>(d)];
        }
        double sum = b.empty() ? 0.0 : b[static_cast<std::size_t>(oc)];
        double magnitude = std::abs(sum);
        for (index_t ic = 0; ic < cin; ++ic) {
          for (index_t t = 0; t < k_numel; ++t) {
            std::array<index_t, D> kpos{};
            for (index_t d = D, rest = t; d-- > 0;) {
              kpos[static_cast<std::size_t>(d)] = rest % k[static_cast<std::size_t>(d)];
              rest /= k[static_cast<std::size_t>(d)];
            }
            index_t xi = 0;
            bool zero = false;
            for (std::size_t d = 0; d < D; ++d) {
              const index_t p = opos[d] * stride[d] - pad_before[d] + kpos[d] * dilation[d];
              const index_t src = reference_source(p, in[d], mode);
              zero = zero || src < 0;
              xi = xi * in[d] + (src < 0 ? 0 : src);
            }
            if (zero) continue;
            const double xv = x[static_cast<std::size_t>((n * channels + g * cin + ic) * in_numel + xi)];
            const double wv = w[static_cast<std::size_t>((oc * cin + ic) * k_numel + t)];
            sum += wv * xv;
            magnitude += std::abs(wv * xv);
          }
        }
        const auto at = static_cast<std::size_t>((n * out_channels + oc) * out_numel + o);
        r.values[at] = sum;
        r.magnitudes[at] = magnitude;
      }
    }
  }
  return r;
}

/// The largest difference a correct result in T may have from the exact value:
/// any summation order of n = reduction + 1 rounded terms (products and bias)
/// errs by at most gamma_n * sum|term| with gamma_n ~ n * eps/2 (Higham, Accuracy
/// and Stability of Numerical Algorithms, 2nd ed., 3.1). We allow (n + 1) * eps,
/// about twice that, plus the smallest normal number for results near zero.
template <typename T>
double reference_tolerance(double magnitude, strata::index_t reduction) {
  return static_cast<double>(reduction + 2) * std::numeric_limits<T>::epsilon() * magnitude +
         static_cast<double>(std::numeric_limits<T>::min());
}

/// Checks `got` against the reference element by element, within
/// reference_tolerance<T> (times `slack`, e.g. 2 when the reference values were
/// themselves rounded to T). Reports the worst |difference| through `worst`.
template <typename T>
::testing::AssertionResult matches_reference(const strata::Tensor<T>& got, const ReferenceConv& ref, double slack = 1.0,
                                             double* worst = nullptr) {
  if (got.shape() != ref.shape) {
    return ::testing::AssertionFailure() << "shape " << got.shape() << ", reference shape " << ref.shape;
  }
  const std::vector<double> values = reference_values(got);
  double largest = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double diff = std::abs(values[i] - ref.values[i]);
    if (!(diff <= slack * reference_tolerance<T>(ref.magnitudes[i], ref.reduction))) {
      return ::testing::AssertionFailure() << "element " << i << " of shape " << got.shape() << ": got " << values[i]
                                           << ", reference " << ref.values[i] << " (|diff| " << diff << ", tolerance "
                                           << slack * reference_tolerance<T>(ref.magnitudes[i], ref.reduction) << ")";
    }
    largest = std::max(largest, diff);
  }
  if (worst != nullptr) *worst = std::max(*worst, largest);
  return ::testing::AssertionSuccess();
}

}  // namespace strata_test
