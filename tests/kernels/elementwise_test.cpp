// Tests for strata/kernels/elementwise.hpp: kernels::unary applies a functor
// to every element, tails and parallel splits included, in place or not.
#include <strata/kernels/elementwise.hpp>

#include <vector>

#include "test_util.hpp"

namespace {

using strata::index_t;

/// x * x + 1.
struct ElementwiseSquarePlusOne {
  static constexpr int cost = 2;
  template <typename P>
  P packet(const P& x) const {
    namespace ei = Eigen::internal;
    return ei::padd(ei::pmul(x, x), ei::pset1<P>(1));
  }
  template <typename T>
  T operator()(T x) const {
    return packet(x);
  }
};

template <typename T>
class ElementwiseKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(ElementwiseKernelTest, strata_test::ScalarTypes);

TYPED_TEST(ElementwiseKernelTest, EveryLengthAndOffset) {
  using T = TypeParam;
  // Lengths around the packet width and its double, unaligned starts.
  for (index_t n = 0; n <= 40; ++n) {
    for (index_t offset : {0, 1, 3}) {
      std::vector<T> in(n + offset), out(n + offset + 1, T(-7));
      for (index_t i = 0; i < n + offset; ++i) in[i] = T(i) - T(9.5);
      strata::kernels::unary_serial(ElementwiseSquarePlusOne{}, in.data() + offset, out.data() + offset, n);
      for (index_t i = 0; i < n; ++i) EXPECT_EQ(out[offset + i], in[offset + i] * in[offset + i] + 1) << n << " " << i;
      EXPECT_EQ(out[n + offset], T(-7));  // nothing written past n
      if (offset > 0) {
        EXPECT_EQ(out[offset - 1], T(-7));
      }
    }
  }
}

TYPED_TEST(ElementwiseKernelTest, ParallelAndInPlace) {
  using T = TypeParam;
  const index_t n = 5 * strata::kernels::unary_grain<ElementwiseSquarePlusOne>() + 13;
  std::vector<T> x(n);
  for (index_t i = 0; i < n; ++i) x[i] = T(i % 97) / T(8);
  std::vector<T> serial(n), parallel(n), in_place(x);
  strata::kernels::unary_serial(ElementwiseSquarePlusOne{}, x.data(), serial.data(), n);
  strata::kernels::unary(ElementwiseSquarePlusOne{}, x.data(), parallel.data(), n);
  strata::kernels::unary(ElementwiseSquarePlusOne{}, in_place.data(), in_place.data(), n);
  EXPECT_EQ(serial, parallel);
  EXPECT_EQ(serial, in_place);
  EXPECT_EQ(ElementwiseSquarePlusOne{}(T(3)), T(10));
}

struct ElementwiseCheapOp {
  static constexpr int cost = 1;
};
struct ElementwiseExpensiveOp {
  static constexpr int cost = 40;
};

TEST(ElementwiseKernelGrain, CheaperFunctorsNeedMoreWork) {
  EXPECT_EQ(strata::kernels::unary_grain<ElementwiseCheapOp>(), index_t{1} << 16);
  EXPECT_EQ(strata::kernels::unary_grain<ElementwiseExpensiveOp>(), index_t{1} << 11);
}

}  // namespace
