// Tests for strata/nn/identity.hpp: Identity, torch.nn.Identity.
#include <strata/nn/identity.hpp>

#include <sstream>
#include <type_traits>

#include "test_util.hpp"

namespace {

using strata::Shape;

template <typename T>
class IdentityTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
  using Identity = strata::nn::Identity<T>;
};
TYPED_TEST_SUITE(IdentityTest, strata_test::ScalarTypes);

TYPED_TEST(IdentityTest, ReturnsTheInputItself) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Identity id;
  strata::Generator gen(1);
  const Tensor x = Tensor::randn({3, 4, 5}, gen);
  const Tensor y = id(x);
  EXPECT_TRUE(y.shares_storage_with(x));
  EXPECT_EQ(y.data(), x.data());
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(strata::max_abs_diff(id.forward(x), x), T(0));
}

TYPED_TEST(IdentityTest, KeepsViewsAsTheyAre) {
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Identity id;
  strata::Generator gen(2);
  const Tensor view = Tensor::randn({3, 4}, gen).transpose(0, 1);
  const Tensor y = id(view);
  EXPECT_FALSE(y.is_contiguous());
  EXPECT_EQ(y.strides(), view.strides());
  EXPECT_EQ(y.data(), view.data());
  EXPECT_EQ(id(Tensor::empty({0, 7})).shape(), (Shape{0, 7}));
  EXPECT_EQ(id(Tensor({}, {3})).item(), TypeParam(3));
  EXPECT_FALSE(id(Tensor()).defined());  // like torch, whatever it is given comes back
}

TYPED_TEST(IdentityTest, HasNoParameters) {
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::Identity id;
  EXPECT_TRUE(id.parameters().empty());
  EXPECT_TRUE(id.named_parameters().empty());
  EXPECT_EQ(id.num_parameters(), 0);
  EXPECT_TRUE(id.state_dict().empty());
  id.load_state_dict({});
  EXPECT_THROW_WITH(id.load_state_dict({{"weight", Tensor::zeros({1})}}), strata::Error,
                    "Error(s) in loading state_dict for Identity:\n\tUnexpected key(s) in state_dict: \"weight\".");
}

TYPED_TEST(IdentityTest, Printing) {
  std::ostringstream out;
  out << typename TestFixture::Identity();
  EXPECT_EQ(out.str(), "strata::nn::Identity()");
  EXPECT_EQ(typename TestFixture::Identity().name(), "Identity");
}

TEST(IdentityDeduction, DefaultsToFloat) {
  strata::nn::Identity id;
  static_assert(std::is_same_v<decltype(id), strata::nn::Identity<float>>);
  EXPECT_EQ(id(strata::Tensor<float>::ones({2})).sum(), 2.f);
}

}  // namespace
