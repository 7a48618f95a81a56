// Tests for strata/kernels/linear.hpp: the raw GEMM kernel behind Linear.
#include <strata/kernels/linear.hpp>

#include <vector>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;

template <typename T>
class LinearKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(LinearKernelTest, strata_test::ScalarTypes);

TYPED_TEST(LinearKernelTest, HandComputed) {
  using T = TypeParam;
  // x = [[1, 2], [3, 4]], w = [[0.5, -1], [2, 0.25]], b = [10, -3]
  const std::vector<T> x{1, 2, 3, 4}, w{T(0.5), -1, 2, T(0.25)}, b{10, -3};
  std::vector<T> out(4, T(-99));
  strata::kernels::linear(x.data(), w.data(), b.data(), out.data(), 2, 2, 2);
  EXPECT_EQ(out, (std::vector<T>{1 * T(0.5) - 2 + 10, 2 + T(0.5) - 3, 3 * T(0.5) - 4 + 10, 6 + 1 - 3}));
  strata::kernels::linear(x.data(), w.data(), static_cast<const T*>(nullptr), out.data(), 2, 2, 2);
  EXPECT_EQ(out, (std::vector<T>{T(-1.5), T(2.5), T(-2.5), 7}));
}

TYPED_TEST(LinearKernelTest, EmptyBatchWritesNothing) {
  using T = TypeParam;
  const std::vector<T> w{1, 2, 3}, b{4};
  std::vector<T> out{T(-7)};
  strata::kernels::linear(static_cast<const T*>(nullptr), w.data(), b.data(), out.data(), 0, 3, 1);
  EXPECT_EQ(out[0], T(-7));
}

TYPED_TEST(LinearKernelTest, NoInputFeaturesGivesTheBias) {
  // K = 0: an empty sum, so every row is the bias (torch: F.linear(randn(2, 0), randn(3, 0), b) == b).
  using T = TypeParam;
  const std::vector<T> b{1, -2, 3};
  std::vector<T> out(6, T(-99));
  const T dummy = 0;
  strata::kernels::linear(&dummy, &dummy, b.data(), out.data(), 2, 0, 3);
  EXPECT_EQ(out, (std::vector<T>{1, -2, 3, 1, -2, 3}));
  strata::kernels::linear(&dummy, &dummy, static_cast<const T*>(nullptr), out.data(), 2, 0, 3);
  EXPECT_EQ(out, (std::vector<T>(6, T(0))));
}

TYPED_TEST(LinearKernelTest, MatchesNaiveReferenceOverShapeGrid) {
  // Sizes on both sides of Eigen's register and cache blocking (M 1..130, K up to 300).
  using T = TypeParam;
  using Tensor = strata::Tensor<T>;
  strata::Generator gen(11);
  for (index_t M : {1, 3, 17, 130}) {
    for (index_t K : {1, 5, 64, 300}) {
      for (index_t N : {1, 7, 33}) {
        for (bool with_bias : {true, false}) {
          const Tensor x = Tensor::randn({M, K}, gen), w = Tensor::randn({N, K}, gen);
          const Tensor b = with_bias ? Tensor::randn({N}, gen) : Tensor();
          Tensor out = Tensor::empty({M, N});
          strata::kernels::linear(x.data(), w.data(), with_bias ? b.data() : nullptr, out.data(), M, K, N);
          EXPECT_TRUE(strata_test::matches_reference(out, strata_test::naive_linear(x, w, b)))
              << "M=" << M << " K=" << K << " N=" << N << " bias=" << with_bias;
        }
      }
    }
  }
}

}  // namespace
