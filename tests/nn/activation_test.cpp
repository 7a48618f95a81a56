// Tests for strata/nn/activation.hpp and nn/functional/activation.hpp: ReLU.
#include <cmath>
#include <limits>
#include <sstream>

#include <strata/nn/activation.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;

template <typename T>
class ReLUTest : public ::testing::Test {};
TYPED_TEST_SUITE(ReLUTest, strata_test::ScalarTypes);

TYPED_TEST(ReLUTest, ClampsNegativesToZero) {
  using T = TypeParam;
  const strata::Tensor<T> x({2, 3}, {-2, -0.5, 0, 0.25, 3, -1e-30});
  const strata::nn::ReLU<T> relu;
  const strata::Tensor<T> y = relu(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  const std::vector<T> expected{0, 0, 0, T(0.25), 3, 0};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data()[i], expected[i]) << i;
  EXPECT_FALSE(y.shares_storage_with(x));
  EXPECT_EQ(x(0, 0), T(-2));  // the input is left alone
}

// torch.relu(torch.tensor([-0.0, nan, -inf, inf])) == [-0.0, nan, 0.0, inf]
TYPED_TEST(ReLUTest, EdgeValuesLikeTorch) {
  using T = TypeParam;
  const T inf = std::numeric_limits<T>::infinity();
  const strata::Tensor<T> x({4}, {T(-0.0), std::numeric_limits<T>::quiet_NaN(), -inf, inf});
  const strata::Tensor<T> y = strata::nn::functional::relu(x);
  EXPECT_EQ(y(0), T(0));
  EXPECT_TRUE(std::signbit(y(0)));
  EXPECT_TRUE(std::isnan(y(1)));
  EXPECT_EQ(y(2), T(0));
  EXPECT_FALSE(std::signbit(y(2)));
  EXPECT_EQ(y(3), inf);
}

TYPED_TEST(ReLUTest, NonContiguousAndLargeInputs) {
  using T = TypeParam;
  strata::Generator gen(3);
  // Large enough to take the parallel path of the kernel.
  const auto x = strata::Tensor<T>::randn({300, 700}, gen).transpose(0, 1);
  ASSERT_FALSE(x.is_contiguous());
  const auto y = strata::nn::ReLU<T>()(x);
  EXPECT_EQ(y.shape(), (Shape{700, 300}));
  EXPECT_TRUE(y.is_contiguous());
  for (int i = 0; i < 700; i += 37)
    for (int j = 0; j < 300; j += 11) EXPECT_EQ(y(i, j), x(i, j) > 0 ? x(i, j) : T(0));
}

TYPED_TEST(ReLUTest, ZeroDimAndEmpty) {
  using T = TypeParam;
  EXPECT_EQ(strata::nn::ReLU<T>()(strata::Tensor<T>({}, {-3})).item(), T(0));
  EXPECT_EQ(strata::nn::ReLU<T>()(strata::Tensor<T>::empty({0, 4})).shape(), (Shape{0, 4}));
}

TYPED_TEST(ReLUTest, ModuleInterface) {
  strata::nn::ReLU<TypeParam> relu;
  EXPECT_EQ(relu.num_parameters(), 0);
  EXPECT_TRUE(relu.state_dict().empty());
  EXPECT_EQ(relu.name(), "ReLU");
  std::ostringstream out;
  out << relu;
  EXPECT_EQ(out.str(), "strata::nn::ReLU()");
  relu.load_state_dict({});
  EXPECT_THROW_WITH(relu.load_state_dict({{"weight", strata::Tensor<TypeParam>::zeros({1})}}), strata::Error,
                    "Unexpected key(s) in state_dict: \"weight\"");
}

TYPED_TEST(ReLUTest, UndefinedInput) {
  EXPECT_THROW_WITH(strata::nn::ReLU<TypeParam>()(strata::Tensor<TypeParam>()), strata::Error,
                    "relu: the input is undefined");
}

TEST(ReLUTest, DeducesFloat) {
  strata::nn::ReLU relu;
  static_assert(std::is_same_v<decltype(relu)::value_type, float>);
}

}  // namespace
