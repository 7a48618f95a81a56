#pragma once
// Naive references for Linear and Bilinear (plain loops in double over
// element indices, so any strides work), and a comparison whose tolerance
// follows from rounding-error analysis rather than being picked by hand.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <strata/core/tensor.hpp>

namespace strata_test {

/// Every element of t in row-major index order, read through t(i, j, ...)
/// semantics (strides honoured), converted to double.
template <typename T>
std::vector<double> values_of(const strata::Tensor<T>& t) {
  std::vector<double> out;
  const std::size_t rank = t.shape().size();
  if (t.numel() == 0) return out;
  std::vector<strata::index_t> idx(rank, 0);
  while (true) {
    out.push_back(static_cast<double>(t.at(idx)));
    std::size_t d = rank;
    while (d-- > 0) {
      if (++idx[d] < t.shape()[d]) break;
      idx[d] = 0;
    }
    if (d == static_cast<std::size_t>(-1)) return out;
  }
}

/// How test inputs are laid out in memory: the same values can be reached
/// through contiguous storage or through views with other strides.
enum class Layout { kContiguous, kPermuted, kNarrowed, kStrided };

inline const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::kContiguous:
      return "contiguous";
    case Layout::kPermuted:
      return "permuted";
    case Layout::kNarrowed:
      return "narrowed";
    case Layout::kStrided:
      return "strided";
  }
  return "?";
}

/// N(0, 1) samples of `shape` in the given layout: kPermuted is a permute()
/// view of a tensor stored with its dimensions reversed, kNarrowed a narrow()
/// view of the last dimension of a wider tensor, kStrided a view with every
/// stride doubled. All but kContiguous are non-contiguous whenever some
/// dimension holds more than one element (kPermuted: two dimensions).
template <typename T>
strata::Tensor<T> random_input(const strata::Shape& shape, Layout layout, strata::Generator& gen) {
  using Tensor = strata::Tensor<T>;
  std::vector<strata::index_t> sizes = shape.vec();
  switch (layout) {
    case Layout::kContiguous:
      return Tensor::randn(shape, gen);
    case Layout::kPermuted: {
      std::vector<strata::index_t> reversed(sizes.rbegin(), sizes.rend()), order;
      for (std::size_t d = sizes.size(); d-- > 0;) order.push_back(static_cast<strata::index_t>(d));
      return Tensor::randn(strata::Shape(reversed), gen).permute(order);
    }
    case Layout::kNarrowed: {
      if (sizes.empty()) return Tensor::randn(shape, gen);
      sizes.back() += 3;
      return Tensor::randn(strata::Shape(sizes), gen).narrow(-1, 2, shape.back());
    }
    case Layout::kStrided: {
      sizes.push_back(2);
      return Tensor::randn(strata::Shape(sizes), gen).narrow(-1, 1, 1).squeeze(-1);
    }
  }
  return Tensor();
}

/// Exact-ish result of a sum of products, with what the error analysis needs:
/// magnitude[e] = sum of |term| (bias included) for output e, and the number of
/// rounded operations `ops` along any one output's computation.
struct Reference {
  strata::Shape shape;
  std::vector<double> value;
  std::vector<double> magnitude;
  strata::index_t ops = 0;
};

/// y = x W^T + b over (*, K) inputs, in double.
template <typename T>
Reference naive_linear(const strata::Tensor<T>& x, const strata::Tensor<T>& w, const strata::Tensor<T>& b) {
  const strata::index_t K = w.size(1), N = w.size(0);
  const std::vector<double> xv = values_of(x), wv = values_of(w);
  const std::vector<double> bv = b.defined() ? values_of(b) : std::vector<double>(static_cast<std::size_t>(N), 0.0);
  std::vector<strata::index_t> sizes = x.shape().vec();
  sizes.back() = N;
  Reference ref;
  ref.shape = strata::Shape(sizes);
  ref.ops = K + 1;  // K products and K additions (the bias one included), each rounded once
  strata::index_t M = 1;
  for (std::size_t d = 0; d + 1 < sizes.size(); ++d) M *= sizes[d];
  for (strata::index_t m = 0; m < M; ++m) {
    for (strata::index_t n = 0; n < N; ++n) {
      double sum = bv[n], mag = std::abs(bv[n]);
      for (strata::index_t k = 0; k < K; ++k) {
        const double term = xv[m * K + k] * wv[n * K + k];
        sum += term;
        mag += std::abs(term);
      }
      ref.value.push_back(sum);
      ref.magnitude.push_back(mag);
    }
  }
  return ref;
}

/// y[.., o] = sum_{i,j} x1[.., i] W[o, i, j] x2[.., j] + b[o], in double.
template <typename T>
Reference naive_bilinear(const strata::Tensor<T>& x1, const strata::Tensor<T>& x2, const strata::Tensor<T>& w,
                         const strata::Tensor<T>& b) {
  const strata::index_t N = w.size(0), I = w.size(1), J = w.size(2);
  const std::vector<double> av = values_of(x1), cv = values_of(x2), wv = values_of(w);
  const std::vector<double> bv = b.defined() ? values_of(b) : std::vector<double>(static_cast<std::size_t>(N), 0.0);
  std::vector<strata::index_t> sizes = x1.shape().vec();
  sizes.back() = N;
  Reference ref;
  ref.shape = strata::Shape(sizes);
  ref.ops = I * J + 2;  // two products per term, I*J additions
  strata::index_t M = 1;
  for (std::size_t d = 0; d + 1 < sizes.size(); ++d) M *= sizes[d];
  for (strata::index_t m = 0; m < M; ++m) {
    for (strata::index_t o = 0; o < N; ++o) {
      double sum = bv[o], mag = std::abs(bv[o]);
      for (strata::index_t i = 0; i < I; ++i) {
        for (strata::index_t j = 0; j < J; ++j) {
          const double term = av[m * I + i] * wv[(o * I + i) * J + j] * cv[m * J + j];
          sum += term;
          mag += std::abs(term);
        }
      }
      ref.value.push_back(sum);
      ref.magnitude.push_back(mag);
    }
  }
  return ref;
}

/// The classic bound on a computed sum of products: |computed - exact| <=
/// gamma_ops * sum|terms| with gamma_n = n u / (1 - n u), u = eps/2, for any
/// summation order (Higham, Accuracy and Stability, 3.1). Two implementations
/// that each meet it differ by at most twice that, i.e. about ops * eps * sum|terms|;
/// we allow ops + 1 to absorb the reference's own double rounding.
template <typename T>
double rounding_bound(strata::index_t ops, double magnitude) {
  const double eps = std::numeric_limits<T>::epsilon();
  return static_cast<double>(ops + 1) * eps * magnitude;
}

/// Checks got against ref elementwise with rounding_bound; reports the worst element.
template <typename T>
::testing::AssertionResult matches_reference(const strata::Tensor<T>& got, const Reference& ref) {
  if (!got.defined()) return ::testing::AssertionFailure() << "result is undefined";
  if (got.shape() != ref.shape)
    return ::testing::AssertionFailure() << "shape " << got.shape() << ", expected " << ref.shape;
  const std::vector<double> gv = values_of(got);
  for (std::size_t e = 0; e < gv.size(); ++e) {
    const double diff = std::abs(gv[e] - ref.value[e]);
    const double bound = rounding_bound<T>(ref.ops, ref.magnitude[e]);
    if (!(diff <= bound))
      return ::testing::AssertionFailure() << "element " << e << ": got " << gv[e] << ", expected " << ref.value[e]
                                           << " (|diff| " << diff << " > bound " << bound << ")";
  }
  return ::testing::AssertionSuccess();
}

/// Checks that the elements of t look like independent draws of U(-bound, bound):
/// every value in [-bound, bound), the sample mean within 5 standard errors of 0
/// (sd = bound / sqrt(3 n)), the mean of squares within 5 standard errors of
/// bound^2 / 3 (sd = sqrt(4/45) bound^2 / sqrt(n), from E x^4 = bound^4 / 5), and,
/// for n >= 1000, some |value| above bound * (1 - 20 / n) (all values below it
/// has probability (1 - 20/n)^n < e^-20): a bound smaller than claimed fails.
/// With a fixed seed the result is deterministic; 5 standard errors make a
/// correct implementation fail for fewer than one seed in a million.
template <typename T>
::testing::AssertionResult looks_uniform(const strata::Tensor<T>& t, double exact_bound) {
  // The generator draws in T, from the bound rounded to T.
  const double bound = static_cast<double>(static_cast<T>(exact_bound));
  const std::vector<double> v = values_of(t);
  const double n = static_cast<double>(v.size());
  if (v.empty()) return ::testing::AssertionFailure() << "no values";
  double sum = 0, sum_sq = 0, largest = 0;
  for (double x : v) {
    if (!(x >= -bound && x < bound))
      return ::testing::AssertionFailure() << x << " is outside [-" << bound << ", " << bound << ")";
    sum += x;
    sum_sq += x * x;
    largest = std::max(largest, std::abs(x));
  }
  const double mean = sum / n, mean_sq = sum_sq / n;
  const double mean_tol = 5 * bound / std::sqrt(3 * n);
  const double sq_tol = 5 * std::sqrt(4.0 / 45.0) * bound * bound / std::sqrt(n);
  if (std::abs(mean) > mean_tol)
    return ::testing::AssertionFailure() << "mean " << mean << " is further than " << mean_tol << " from 0";
  if (std::abs(mean_sq - bound * bound / 3) > sq_tol)
    return ::testing::AssertionFailure() << "mean square " << mean_sq << " is further than " << sq_tol << " from "
                                         << bound * bound / 3;
  if (v.size() >= 1000 && largest < bound * (1 - 20 / n))
    return ::testing::AssertionFailure() << "largest |value| " << largest << " stays well below the bound " << bound;
  return ::testing::AssertionSuccess();
}

}  // namespace strata_test
