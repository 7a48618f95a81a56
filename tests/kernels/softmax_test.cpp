// Tests for strata/kernels/softmax.hpp: softmax / log_softmax over the middle
// dimension of [outer, dim, inner] blocks against long double, for lengths
// around the packet widths, in place, and on large and special values.
#include <strata/kernels/softmax.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "activation_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
namespace ref = strata_test::activation;

template <typename T>
class SoftmaxKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(SoftmaxKernelTest, strata_test::ScalarTypes);

/// The worst distance of the kernel from long double over one block: softmax
/// in ulps times max(1, |x - max|), as exp turns the rounding of x - max into a
/// relative error of u |x - max| (torch's too); log_softmax in units of
/// u (1 + 2 |value|) (see tests/nn/functional/softmax_test.cpp).
template <typename T>
long double softmax_kernel_worst(const std::vector<T>& x, index_t outer, index_t dim, index_t inner, bool log,
                                 bool in_place) {
  std::vector<T> y(x);
  if (log) {
    strata::kernels::log_softmax(in_place ? y.data() : x.data(), y.data(), outer, dim, inner);
  } else {
    strata::kernels::softmax(in_place ? y.data() : x.data(), y.data(), outer, dim, inner);
  }
  long double worst = 0;
  for (index_t o = 0; o < outer; ++o)
    for (index_t i = 0; i < inner; ++i) {
      std::vector<long double> slice;
      for (index_t d = 0; d < dim; ++d) slice.push_back(x[(o * dim + d) * inner + i]);
      const auto exact = ref::ref_softmax(slice, log);
      const long double m = *std::max_element(slice.begin(), slice.end());
      for (index_t d = 0; d < dim; ++d) {
        const long double e = exact[d];
        const long double scale = log ? std::max(ref::ulp<T>(e), ref::unit_roundoff<T>() * (1 + 2 * std::fabs(e)))
                                      : ref::ulp<T>(e) * std::max(1.0L, m - slice[d]);
        worst = std::max(worst, ref::distance(y[(o * dim + d) * inner + i], e, scale));
      }
    }
  return worst;
}

TYPED_TEST(SoftmaxKernelTest, MatchesLongDoubleOverBlockShapes) {
  using T = TypeParam;
  strata::Generator gen(21);
  for (index_t dim : {1, 2, 3, 7, 16, 17, 33, 70}) {
    for (index_t inner : {1, 2, 5, 8, 16, 19}) {
      const index_t outer = 3;
      const auto t = strata::Tensor<T>::randn({outer * dim * inner}, gen);
      std::vector<T> x(t.data(), t.data() + t.numel());
      for (T& v : x) v *= T(6);
      for (bool log : {false, true})
        for (bool in_place : {false, true})
          EXPECT_LE(softmax_kernel_worst(x, outer, dim, inner, log, in_place), 6.0)
              << "dim " << dim << " inner " << inner << (log ? " log" : "") << (in_place ? " in place" : "");
    }
  }
}

TYPED_TEST(SoftmaxKernelTest, ParallelMatchesSerial) {
  using T = TypeParam;
  strata::Generator gen(22);
  // Enough slices for several threads; the same bits as one slice at a time.
  for (index_t inner : {1, 24}) {
    const index_t outer = 300, dim = 50;
    const auto t = strata::Tensor<T>::randn({outer * dim * inner}, gen);
    std::vector<T> whole(t.numel()), one(t.numel());
    strata::kernels::softmax(t.data(), whole.data(), outer, dim, inner);
    for (index_t o = 0; o < outer; ++o)
      strata::kernels::softmax(t.data() + o * dim * inner, one.data() + o * dim * inner, 1, dim, inner);
    EXPECT_EQ(whole, one);
  }
}

TYPED_TEST(SoftmaxKernelTest, SpecialSlices) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  // Slices of 5 along the last dim and (transposed) along a middle one.
  const std::vector<std::vector<T>> slices{{1000, -1000, 999, 0, -999},
                                           {1, -inf, 3, 4, 5},
                                           {nan, 1, 2, 3, 4},
                                           {1, 2, inf, 4, 5},
                                           {-inf, -inf, -inf, -inf, -inf}};
  for (bool log : {false, true}) {
    for (const auto& s : slices) {
      std::vector<T> rows(s), cols(5 * 3);
      for (int d = 0; d < 5; ++d)
        for (int i = 0; i < 3; ++i) cols[d * 3 + i] = s[d];
      std::vector<T> r(5), c(15);
      if (log) {
        strata::kernels::log_softmax(rows.data(), r.data(), 1, 5, 1);
        strata::kernels::log_softmax(cols.data(), c.data(), 1, 5, 3);
      } else {
        strata::kernels::softmax(rows.data(), r.data(), 1, 5, 1);
        strata::kernels::softmax(cols.data(), c.data(), 1, 5, 3);
      }
      const auto exact = ref::ref_softmax(std::vector<long double>(s.begin(), s.end()), log);
      for (int d = 0; d < 5; ++d) {
        const long double e = exact[d];
        EXPECT_LE(ref::distance(r[d], e, ref::ulp<T>(e)), 4) << r[d] << " vs " << double(e);
        EXPECT_LE(ref::distance(c[d * 3], e, ref::ulp<T>(e)), 4) << c[d * 3] << " vs " << double(e);
        for (int i = 0; i < 3; ++i) EXPECT_TRUE(ref::identical(c[d * 3 + i], c[d * 3])) << "lanes differ";
      }
    }
  }
  // Nothing to do for empty blocks.
  std::vector<T> none{T(5)};
  strata::kernels::softmax(none.data(), none.data(), 0, 3, 2);
  strata::kernels::log_softmax(none.data(), none.data(), 2, 0, 2);
  EXPECT_EQ(none[0], T(5));
}

}  // namespace
