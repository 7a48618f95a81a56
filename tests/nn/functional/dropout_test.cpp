// Tests for strata/nn/functional/dropout.hpp: dropout at inference is the
// identity (torch.nn.functional.dropout(x, p, training=False) returns x), and p
// is checked with torch's message.
#include <limits>

#include <strata/nn/functional/dropout.hpp>

#include "activation_reference.hpp"
#include "test_util.hpp"

namespace {

namespace F = strata::nn::functional;
using strata::Tensor;

template <typename T>
class DropoutFunctionalTest : public ::testing::Test {};
TYPED_TEST_SUITE(DropoutFunctionalTest, strata_test::ScalarTypes);

TYPED_TEST(DropoutFunctionalTest, MatchesPyTorchGolden) {
  using T = TypeParam;
  int cases = 0;
  for (const auto& c : strata_test::activation::golden_cases("dropout_")) {
    if (!strata_test::activation::is_dtype<T>(c)) continue;
    ++cases;
    const Tensor<T> x = strata_test::activation::tensor_of<T>(c.tensor("input"));
    const Tensor<T> y = F::dropout(x, std::stod(c.str("p")));
    EXPECT_TRUE(strata_test::same_bits(y, strata_test::activation::tensor_of<T>(c.tensor("output")))) << c.name;
  }
  EXPECT_EQ(cases, 3);
}

TYPED_TEST(DropoutFunctionalTest, ReturnsTheInputItself) {
  using T = TypeParam;
  strata::Generator gen(3);
  const Tensor<T> x = Tensor<T>::randn({4, 5}, gen).transpose(0, 1);
  for (double p : {0.0, 0.1, 0.5, 1.0}) {
    const Tensor<T> y = F::dropout(x, p);
    EXPECT_TRUE(y.shares_storage_with(x));
    EXPECT_EQ(y.data(), x.data());
    EXPECT_EQ(y.strides(), x.strides());
  }
  EXPECT_TRUE(F::dropout(x).shares_storage_with(x));  // p = 0.5 by default
  EXPECT_EQ(F::dropout(Tensor<T>::empty({0, 2})).shape(), (strata::Shape{0, 2}));
}

// torch: RuntimeError: dropout probability has to be between 0 and 1, but got 1.5
TYPED_TEST(DropoutFunctionalTest, Messages) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::ones({2});
  EXPECT_THROW_WITH(F::dropout(x, 1.5), strata::Error,
                    "dropout: dropout probability has to be between 0 and 1, but got 1.5");
  EXPECT_THROW_WITH(F::dropout(x, -0.5), strata::Error, "but got -0.5");
  EXPECT_THROW_WITH(F::dropout(x, std::numeric_limits<double>::quiet_NaN()), strata::Error,
                    "dropout probability has to be between 0 and 1, but got nan");
  EXPECT_THROW_WITH(F::dropout(Tensor<T>(), 0.5), strata::Error, "dropout: the input is undefined");
}

}  // namespace
