#pragma once
// Shared by the activation, softmax and dropout tests: ulp distances, the
// long-double references of every element-wise activation and of softmax,
// and the loader of the PyTorch golden cases in tests/reference/golden_activation/
// (written by tests/reference/generate_activation_golden.py).

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <strata/core/tensor.hpp>

#include "golden_reader.hpp"

namespace strata_test {
namespace activation {

/// Directory of the activation golden cases.
inline std::string golden_dir() { return std::string(STRATA_GOLDEN_DIR) + "/../golden_activation"; }

/// Every case whose file name starts with `prefix` (e.g. "gelu_", "softmax_").
inline std::vector<GoldenCase> golden_cases(const std::string& prefix) {
  std::vector<GoldenCase> out;
  for (const std::string& path : list_golden_cases(golden_dir())) {
    const std::string base = path.substr(path.find_last_of('/') + 1);
    if (base.compare(0, prefix.size(), prefix) == 0) out.push_back(read_golden_case(path));
  }
  return out;
}

/// A golden tensor as a Tensor<T> (exact: the files round-trip T).
template <typename T>
strata::Tensor<T> tensor_of(const GoldenTensor& g) {
  std::vector<T> values(g.values.begin(), g.values.end());
  return strata::Tensor<T>(strata::Shape(std::vector<strata::index_t>(g.shape.begin(), g.shape.end())), values);
}

/// True when the case's dtype is T's.
template <typename T>
bool is_dtype(const GoldenCase& c) {
  return c.dtype == (sizeof(T) == sizeof(float) ? "float32" : "float64");
}

/// The spacing of T at |v|: ulp(v) (the smallest subnormal at 0, the spacing
/// below the largest finite value past it).
template <typename T>
long double ulp(long double v) {
  T a = static_cast<T>(std::fabs(v));
  if (std::isinf(a)) a = std::numeric_limits<T>::max();
  if (a == 0) return std::numeric_limits<T>::denorm_min();
  return static_cast<long double>(std::nextafter(a, std::numeric_limits<T>::infinity())) - a;
}

/// T's unit roundoff 2^-24 or 2^-53.
template <typename T>
constexpr long double unit_roundoff() {
  return std::numeric_limits<T>::epsilon() / 2;
}

/// |got - want| in units of `scale`: 0 when both are the same infinity or
/// both NaN, +inf when exactly one is NaN or the infinities differ.
inline long double distance(long double got, long double want, long double scale) {
  if (std::isnan(got) || std::isnan(want)) return std::isnan(got) && std::isnan(want) ? 0 : INFINITY;
  if (std::isinf(got) || std::isinf(want)) return got == want ? 0 : INFINITY;
  return std::fabs(got - want) / scale;
}

/// Same value and same sign of zero, or both NaN.
template <typename T>
bool identical(T a, T b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return a == b && std::signbit(a) == std::signbit(b);
}

// ---- long-double references, the textbook formulas -------------------------

inline long double ref_sigmoid(long double x) { return 1 / (1 + std::exp(-x)); }
inline long double ref_silu(long double x) { return x / (1 + std::exp(-x)); }
inline long double ref_gelu(long double x) { return x / 2 * (1 + std::erf(x / std::sqrt(2.0L))); }
inline long double ref_gelu_tanh(long double x) {
  const long double inner = std::sqrt(2 / 3.14159265358979323846264338327950288L) * (x + 0.044715L * x * x * x);
  return x / 2 * (1 + std::tanh(inner));
}
inline long double ref_hardswish(long double x) { return x * std::min(std::max(x + 3, 0.0L), 6.0L) / 6; }
inline long double ref_hardsigmoid(long double x) { return std::min(std::max(x + 3, 0.0L), 6.0L) / 6; }

/// The scale GELU's error is measured in: the rounding of its terms,
/// u * |x| / 2 * (1 + |erf|) <= u |x| (the sum 1 + erf cancels for x < 0, in
/// torch as here), or ulp(value) where that is larger.
template <typename T>
long double gelu_scale(long double x, long double value) {
  return std::max(ulp<T>(value), unit_roundoff<T>() * std::fabs(x));
}

/// softmax (or log_softmax) of one slice in long double, max-shifted.
inline std::vector<long double> ref_softmax(const std::vector<long double>& x, bool log) {
  long double m = -INFINITY;
  bool nan = false;
  for (long double v : x) {
    nan = nan || std::isnan(v);
    m = std::max(m, v);
  }
  std::vector<long double> out(x.size(), NAN);
  if (nan || std::isinf(m)) return out;  // NaN, +inf or only -inf: NaN, as in torch
  long double sum = 0;
  for (long double v : x) sum += std::exp(v - m);
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = log ? (x[i] - m) - std::log(sum) : std::exp(x[i] - m) / sum;
  return out;
}

}  // namespace activation
}  // namespace strata_test
