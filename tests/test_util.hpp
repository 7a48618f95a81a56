#pragma once
// Shared test helpers: the scalar types every typed test runs over, tolerances,
// and EXPECT_THROW_WITH for pinning error messages.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>

#include <strata/strata.hpp>

namespace strata_test {

/// The scalar types every typed test sweeps.
using ScalarTypes = ::testing::Types<float, double>;

/// A tolerance scaled to the precision of T: `k` units of roughly 1e-6 (float)
/// or 1e-12 (double); used where results are sums of O(100) rounded products.
template <typename T>
constexpr double tolerance(double k = 1.0) {
  return k * (sizeof(T) == sizeof(float) ? 1e-5 : 1e-12);
}

/// A readable name for T in failure messages.
template <typename T>
std::string type_name() {
  return sizeof(T) == sizeof(float) ? "float" : "double";
}

/// True when a and b have the same shape and hold the same bits (NaN payloads
/// and -0.0 included), whatever their strides.
template <typename T>
bool same_bits(const strata::Tensor<T>& a, const strata::Tensor<T>& b) {
  if (a.shape() != b.shape()) return false;
  const strata::Tensor<T> ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data(), cb.data(), sizeof(T) * static_cast<std::size_t>(ca.numel())) == 0;
}

}  // namespace strata_test

/// Expects `statement` to throw `type` whose what() contains `substring`.
#define EXPECT_THROW_WITH(statement, type, substring)                                              \
  do {                                                                                             \
    try {                                                                                          \
      statement;                                                                                   \
      ADD_FAILURE() << "expected " #statement " to throw " #type;                                  \
    } catch (const type& error_) {                                                                 \
      EXPECT_NE(std::string(error_.what()).find(substring), std::string::npos)                     \
          << "message was: " << error_.what() << "\nexpected it to contain: " << (substring);     \
    } catch (const std::exception& other_) {                                                       \
      ADD_FAILURE() << "expected " #type ", got another exception: " << other_.what();             \
    }                                                                                              \
  } while (false)
