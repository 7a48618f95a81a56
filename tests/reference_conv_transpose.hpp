#pragma once
// A naive transposed convolution, the third oracle of the ConvTranspose tests
// (next to hand-computed cases and the PyTorch golden files): torch's
// definition written out as a scatter, every input element times every
// kernel tap added into the output element it reaches,
// o = i * stride - padding + k * dilation (dropped outside the output), in
// double. Shares no code with strata's kernels (no GEMM, no col2im, its own
// output-size arithmetic); results use ReferenceConv of reference_conv.hpp.

#include <array>
#include <cmath>
#include <cstddef>
#include <vector>

#include <strata/core/tensor.hpp>

#include "reference_conv.hpp"

namespace strata_test {

/// Transposed convolution of a batched input (N, C_in, spatial...) with weight
/// (C_in, C_out/groups, k...) and bias (C_out) or undefined. D is any rank.
template <std::size_t D, typename T>
ReferenceConv reference_conv_transpose(const strata::Tensor<T>& input, const strata::Tensor<T>& weight,
                                       const strata::Tensor<T>& bias, const std::array<strata::index_t, D>& stride,
                                       const std::array<strata::index_t, D>& padding,
                                       const std::array<strata::index_t, D>& output_padding,
                                       const std::array<strata::index_t, D>& dilation, strata::index_t groups) {
  using strata::index_t;
  const std::vector<double> x = reference_values(input), w = reference_values(weight);
  const std::vector<double> b = bias.defined() ? reference_values(bias) : std::vector<double>();
  const index_t batch = input.size(0), channels = input.size(1), cout = weight.size(1);
  const index_t cin = channels / groups, out_channels = cout * groups;
  std::array<index_t, D> in{}, k{}, out{};
  index_t in_numel = 1, k_numel = 1, out_numel = 1;
  for (std::size_t d = 0; d < D; ++d) {
    in[d] = input.size(static_cast<index_t>(d + 2));
    k[d] = weight.size(static_cast<index_t>(d + 2));
    out[d] = (in[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (k[d] - 1) + output_padding[d] + 1;
    in_numel *= in[d];
    k_numel *= k[d];
    out_numel *= out[d];
  }
  ReferenceConv r;
  std::vector<index_t> shape{batch, out_channels};
  for (index_t o : out) shape.push_back(o);
  r.shape = strata::Shape(shape);
  r.reduction = cin * k_numel;  // at most this many products reach one output element
  r.values.assign(static_cast<std::size_t>(batch * out_channels * out_numel), 0.0);
  r.magnitudes = r.values;
  for (index_t n = 0; n < batch; ++n) {
    for (index_t oc = 0; oc < out_channels; ++oc) {
      const double start = b.empty() ? 0.0 : b[static_cast<std::size_t>(oc)];
      for (index_t o = 0; o < out_numel; ++o) {
        const auto at = static_cast<std::size_t>((n * out_channels + oc) * out_numel + o);
        r.values[at] = start;
        r.magnitudes[at] = std::abs(start);
      }
    }
    for (index_t ic = 0; ic < channels; ++ic) {
      const index_t g = ic / cin;
      for (index_t i = 0; i < in_numel; ++i) {
        std::array<index_t, D> ipos{};
        for (index_t d = D, rest = i; d-- > 0;) {
          ipos[static_cast<std::size_t>(d)] = rest % in[static_cast<std::size_t>(d)];
          rest /= in[static_cast<std::size_t>(d)];
        }
        const double xv = x[static_cast<std::size_t>((n * channels + ic) * in_numel + i)];
        for (index_t c = 0; c < cout; ++c) {
          const index_t oc = g * cout + c;
          for (index_t t = 0; t < k_numel; ++t) {
            std::array<index_t, D> kpos{};
            for (index_t d = D, rest = t; d-- > 0;) {
              kpos[static_cast<std::size_t>(d)] = rest % k[static_cast<std::size_t>(d)];
              rest /= k[static_cast<std::size_t>(d)];
            }
            index_t oi = 0;
            bool inside = true;
            for (std::size_t d = 0; d < D; ++d) {
              const index_t p = ipos[d] * stride[d] - padding[d] + kpos[d] * dilation[d];
              inside = inside && p >= 0 && p < out[d];
              oi = oi * out[d] + p;
            }
            if (!inside) continue;
            const double wv = w[static_cast<std::size_t>((ic * cout + c) * k_numel + t)];
            const auto at = static_cast<std::size_t>((n * out_channels + oc) * out_numel + oi);
            r.values[at] += wv * xv;
            r.magnitudes[at] += std::abs(wv * xv);
          }
        }
      }
    }
  }
  return r;
}

}  // namespace strata_test
