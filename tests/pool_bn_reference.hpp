#pragma once
// Naive reference implementations of pooling and batch normalisation for the
// tests: direct loops over every output and window tap, written from torch
// 1.13's CPU kernels and formulas (not from strata's), computed in long
// double. Used by tests/kernels, tests/nn and tests/nn/functional.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <strata/core/tensor.hpp>

#include "golden_reader.hpp"

namespace strata_test {

enum class RefPoolMode { Max, Avg, AdaptiveAvg };

/// A pool as the reference computes it; every vector has one entry per spatial dimension.
struct RefPool {
  RefPoolMode mode = RefPoolMode::Max;
  std::vector<std::int64_t> kernel, stride, padding, dilation;  // Max / Avg (dilation: Max only)
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::int64_t divisor_override = 0;  // Avg: 0 = none
  std::vector<std::int64_t> output_size;  // AdaptiveAvg
};

/// torch's pooling_output_shape_pad_lr, written as torch writes it (floor division, then the ceil_mode rule).
inline std::int64_t ref_pool_output_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p,
                                         std::int64_t d, bool ceil_mode) {
  const std::int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  std::int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

/// The reference pool of x ((N, C, spatial...) or (C, spatial...), D = rank of
/// the spatial part given by the options), as a double tensor.
template <typename T>
strata::Tensor<double> reference_pool(const strata::Tensor<T>& input, const RefPool& o) {
  using strata::index_t;
  const std::size_t D = o.mode == RefPoolMode::AdaptiveAvg ? o.output_size.size() : o.kernel.size();
  const strata::Tensor<T> x = input.contiguous();
  const std::size_t rank = x.shape().size();
  index_t planes = 1;
  for (std::size_t i = 0; i + D < rank; ++i) planes *= x.shape()[i];
  // As 2-D: height 1 for D == 1.
  const index_t H = D == 2 ? x.shape()[rank - 2] : 1, W = x.shape()[rank - 1];
  auto at = [&](const std::vector<std::int64_t>& v, std::size_t d2, std::int64_t one) {
    return D == 2 ? v[d2] : (d2 == 0 ? one : v[0]);
  };
  index_t OH, OW, kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  if (o.mode == RefPoolMode::AdaptiveAvg) {
    OH = at(o.output_size, 0, 1);
    OW = at(o.output_size, 1, 1);
  } else {
    kh = at(o.kernel, 0, 1), kw = at(o.kernel, 1, 1), sh = at(o.stride, 0, 1), sw = at(o.stride, 1, 1);
    ph = at(o.padding, 0, 0), pw = at(o.padding, 1, 0);
    if (o.mode == RefPoolMode::Max) dh = at(o.dilation, 0, 1), dw = at(o.dilation, 1, 1);
    OH = ref_pool_output_size(H, kh, sh, ph, dh, o.ceil_mode);
    OW = ref_pool_output_size(W, kw, sw, pw, dw, o.ceil_mode);
  }
  std::vector<index_t> sizes(x.shape().begin(), x.shape().end() - static_cast<std::ptrdiff_t>(D));
  if (D == 2) sizes.push_back(OH);
  sizes.push_back(OW);
  strata::Tensor<double> y = strata::Tensor<double>::zeros(strata::Shape(sizes));
  for (index_t p = 0; p < planes; ++p) {
    const T* in = x.data() + p * H * W;
    double* out = y.data() + p * OH * OW;
    for (index_t oh = 0; oh < OH; ++oh) {
      for (index_t ow = 0; ow < OW; ++ow) {
        long double result = 0;
        if (o.mode == RefPoolMode::Max) {
          long double m = -std::numeric_limits<long double>::infinity();
          for (index_t i = 0; i < kh; ++i) {
            const index_t h = oh * sh - ph + i * dh;
            if (h < 0 || h >= H) continue;
            for (index_t j = 0; j < kw; ++j) {
              const index_t w = ow * sw - pw + j * dw;
              if (w < 0 || w >= W) continue;
              const long double v = in[h * W + w];
              if (v > m || std::isnan(v)) m = v;
            }
          }
          result = m;
        } else if (o.mode == RefPoolMode::Avg) {
          index_t h0 = oh * sh - ph, w0 = ow * sw - pw;
          index_t h1 = std::min(h0 + kh, H + ph), w1 = std::min(w0 + kw, W + pw);
          const index_t pool_size = (h1 - h0) * (w1 - w0);
          h0 = std::max<index_t>(h0, 0), w0 = std::max<index_t>(w0, 0);
          h1 = std::min(h1, H), w1 = std::min(w1, W);
          long double sum = 0;
          for (index_t h = h0; h < h1; ++h)
            for (index_t w = w0; w < w1; ++w) sum += in[h * W + w];
          const index_t divisor = o.divisor_override != 0  ? o.divisor_override
                                  : o.count_include_pad ? pool_size
                                                        : (h1 - h0) * (w1 - w0);
          result = sum / static_cast<long double>(divisor);
        } else {
          const index_t h0 = (oh * H) / OH, h1 = ((oh + 1) * H + OH - 1) / OH;
          const index_t w0 = (ow * W) / OW, w1 = ((ow + 1) * W + OW - 1) / OW;
          long double sum = 0;
          for (index_t h = h0; h < h1; ++h)
            for (index_t w = w0; w < w1; ++w) sum += in[h * W + w];
          result = sum / static_cast<long double>((h1 - h0) * (w1 - w0));
        }
        out[oh * OW + ow] = static_cast<double>(result);
      }
    }
  }
  return y;
}

/// The reference batch norm of x (N, C, *): running statistics when mean and
/// var are given, else the batch's (biased variance); weight / bias may be empty (ones / zeros).
template <typename T>
strata::Tensor<double> reference_batch_norm(const strata::Tensor<T>& input, const std::vector<double>& mean,
                                            const std::vector<double>& var, const std::vector<double>& weight,
                                            const std::vector<double>& bias, double eps) {
  using strata::index_t;
  const strata::Tensor<T> x = input.contiguous();
  const index_t N = x.size(0), C = x.size(1), plane = N * C == 0 ? 0 : x.numel() / (N * C);
  strata::Tensor<double> y = strata::Tensor<double>::zeros(x.shape());
  for (index_t c = 0; c < C; ++c) {
    long double m, v;
    if (!mean.empty()) {
      m = mean[c], v = var[c];
    } else {
      long double sum = 0, squares = 0;
      for (index_t n = 0; n < N; ++n)
        for (index_t i = 0; i < plane; ++i) sum += x.data()[(n * C + c) * plane + i];
      m = sum / static_cast<long double>(N * plane);
      for (index_t n = 0; n < N; ++n)
        for (index_t i = 0; i < plane; ++i) {
          const long double d = x.data()[(n * C + c) * plane + i] - m;
          squares += d * d;
        }
      v = squares / static_cast<long double>(N * plane);
    }
    const long double w = weight.empty() ? 1.0L : weight[c], b = bias.empty() ? 0.0L : bias[c];
    for (index_t n = 0; n < N; ++n)
      for (index_t i = 0; i < plane; ++i) {
        const index_t at = (n * C + c) * plane + i;
        y.data()[at] = static_cast<double>((x.data()[at] - m) / std::sqrt(v + eps) * w + b);
      }
  }
  return y;
}

/// Largest |a - b| / (1 + |b|) of two tensors of one shape (a of T, b double);
/// NaN positions must match (else infinity), infinities must be equal.
template <typename T>
double pool_bn_rel_diff(const strata::Tensor<T>& a, const strata::Tensor<double>& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  const strata::Tensor<T> ca = a.contiguous();
  double worst = 0;
  for (strata::index_t i = 0; i < ca.numel(); ++i) {
    const double x = ca.data()[i], r = b.data()[i];
    if (std::isnan(x) || std::isnan(r)) {
      if (std::isnan(x) != std::isnan(r)) return std::numeric_limits<double>::infinity();
      continue;
    }
    if (std::isinf(x) || std::isinf(r)) {
      if (x != r) return std::numeric_limits<double>::infinity();
      continue;
    }
    worst = std::max(worst, std::abs(x - r) / (1 + std::abs(r)));
  }
  return worst;
}

/// tests/reference/golden_pool_bn/, written by tests/reference/generate_pool_bn_golden.py.
inline std::string pool_bn_golden_dir() { return std::string(STRATA_GOLDEN_DIR) + "/../golden_pool_bn"; }

/// Every golden case whose layer starts with `layer_prefix` ("max_pool", "batch_norm", "fuse_conv_bn", ...).
inline std::vector<GoldenCase> pool_bn_golden_cases(const std::string& layer_prefix) {
  std::vector<GoldenCase> out;
  for (const std::string& path : list_golden_cases(pool_bn_golden_dir())) {
    GoldenCase c = read_golden_case(path);
    if (c.layer.compare(0, layer_prefix.size(), layer_prefix) == 0) out.push_back(std::move(c));
  }
  return out;
}

/// A golden tensor as a strata tensor of T (float32 values convert exactly).
template <typename T>
strata::Tensor<T> pool_bn_golden_tensor(const GoldenTensor& g) {
  std::vector<T> values(g.values.size());
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(g.values[i]);
  return strata::Tensor<T>(strata::Shape(std::vector<strata::index_t>(g.shape.begin(), g.shape.end())), values);
}

/// The golden tensor as doubles, for pool_bn_rel_diff.
inline strata::Tensor<double> pool_bn_golden_double(const GoldenTensor& g) { return pool_bn_golden_tensor<double>(g); }

}  // namespace strata_test
