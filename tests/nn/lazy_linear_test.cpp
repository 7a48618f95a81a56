// Tests for strata/nn/lazy_linear.hpp: LazyLinear, torch.nn.LazyLinear.
#include <strata/nn/lazy_linear.hpp>

#include <sstream>
#include <type_traits>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::Shape;

template <typename T>
class LazyLinearTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
  using LazyLinear = strata::nn::LazyLinear<T>;
  using Linear = strata::nn::Linear<T>;
};
TYPED_TEST_SUITE(LazyLinearTest, strata_test::ScalarTypes);

TYPED_TEST(LazyLinearTest, UninitialisedState) {
  const typename TestFixture::LazyLinear fc(30);
  EXPECT_TRUE(fc.has_uninitialized_params());
  EXPECT_EQ(fc.in_features(), 0);
  EXPECT_EQ(fc.out_features(), 30);
  EXPECT_TRUE(fc.has_bias());
  EXPECT_FALSE(fc.weight().defined());
  EXPECT_FALSE(fc.bias().defined());
  EXPECT_EQ(fc.num_parameters(), 0);
  EXPECT_TRUE(fc.parameters().empty());
  EXPECT_TRUE(fc.state_dict().empty());
  std::ostringstream out;
  out << fc;
  // torch: LazyLinear(in_features=0, out_features=30, bias=True)
  EXPECT_EQ(out.str(), "strata::nn::LazyLinear(in_features=0, out_features=30, bias=true)");
  EXPECT_EQ(fc.name(), "LazyLinear");
}

TYPED_TEST(LazyLinearTest, FirstForwardInfersInFeatures) {
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::LazyLinear fc(30);
  strata::Generator gen(1);
  const Tensor y = fc(Tensor::randn({128, 20}, gen));
  EXPECT_EQ(y.shape(), (Shape{128, 30}));
  EXPECT_FALSE(fc.has_uninitialized_params());
  EXPECT_EQ(fc.in_features(), 20);
  EXPECT_EQ(fc.weight().shape(), (Shape{30, 20}));
  EXPECT_EQ(fc.bias().shape(), Shape{30});
  EXPECT_EQ(fc.num_parameters(), 630);
  const auto named = fc.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[1].first, "bias");
  std::ostringstream out;
  out << fc;
  EXPECT_EQ(out.str(), "strata::nn::LazyLinear(in_features=20, out_features=30, bias=true)");
  // Later inputs of any rank with the same last dimension.
  EXPECT_EQ(fc(Tensor::randn({20}, gen)).shape(), Shape{30});
  EXPECT_EQ(fc.forward(Tensor::randn({2, 3, 4, 20}, gen)).shape(), (Shape{2, 3, 4, 30}));
  EXPECT_EQ(fc(Tensor::randn({0, 20}, gen)).shape(), (Shape{0, 30}));
}

TYPED_TEST(LazyLinearTest, InitialisesExactlyLikeLinear) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(2);
  const Tensor x = Tensor::randn({5, 20}, gen);
  strata::manual_seed(123);
  const typename TestFixture::Linear reference(20, 30);
  strata::manual_seed(123);
  typename TestFixture::LazyLinear fc(30);
  const Tensor y = fc(x);
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), reference.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(fc.bias(), reference.bias()), T(0));
  EXPECT_EQ(strata::max_abs_diff(y, reference(x)), T(0));
  EXPECT_TRUE(strata_test::matches_reference(y, strata_test::naive_linear(x, fc.weight(), fc.bias())));
}

TYPED_TEST(LazyLinearTest, InitialisationDistribution) {
  using Tensor = typename TestFixture::Tensor;
  strata::manual_seed(0);
  typename TestFixture::LazyLinear fc(300);
  fc(Tensor::zeros({1, 400}));
  EXPECT_TRUE(strata_test::looks_uniform(fc.weight(), 0.05));
  EXPECT_TRUE(strata_test::looks_uniform(fc.bias(), 0.05));
}

TYPED_TEST(LazyLinearTest, ConstructionDrawsNothing) {
  // Only initialisation draws from the default generator, so a LazyLinear
  // built in between does not shift the numbers of the layers after it.
  using T = TypeParam;
  strata::manual_seed(5);
  const typename TestFixture::Linear a(3, 4);
  strata::manual_seed(5);
  const typename TestFixture::LazyLinear lazy(4);
  const typename TestFixture::Linear b(3, 4);
  EXPECT_EQ(strata::max_abs_diff(a.weight(), b.weight()), T(0));
}

TYPED_TEST(LazyLinearTest, ResetParameters) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::LazyLinear fc(6);
  strata::Generator g1(7), g2(7);
  fc.reset_parameters(g1);  // nothing to draw yet: no effect, nothing consumed
  EXPECT_TRUE(fc.has_uninitialized_params());
  EXPECT_EQ(g1.next_u64(), g2.next_u64());
  fc(Tensor::zeros({4}));
  typename TestFixture::Linear reference(4, 6);
  fc.reset_parameters(g1);
  reference.reset_parameters(g2);
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), reference.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(fc.bias(), reference.bias()), T(0));
  strata::manual_seed(9);
  fc.reset_parameters();
  strata::manual_seed(9);
  reference.reset_parameters();
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), reference.weight()), T(0));
}

TYPED_TEST(LazyLinearTest, WithoutBias) {
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::LazyLinear fc(3, false);
  EXPECT_FALSE(fc.has_bias());
  std::ostringstream out;
  out << fc;
  EXPECT_EQ(out.str(), "strata::nn::LazyLinear(in_features=0, out_features=3, bias=false)");
  fc(Tensor::ones({2, 5}));
  EXPECT_FALSE(fc.bias().defined());
  EXPECT_EQ(fc.num_parameters(), 15);
  EXPECT_EQ(fc.parameters().size(), 1u);
}

TYPED_TEST(LazyLinearTest, HandComputedAfterInitialisation) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::LazyLinear fc(1);
  fc(Tensor::zeros({2}));
  fc.weight().copy_(Tensor({1, 2}, {T(0.5), T(-2)}));
  fc.bias().copy_(Tensor({1}, {T(0.75)}));
  EXPECT_EQ(fc(Tensor({1, 2}, {1, 2}))(0, 0), T(-2.75));
}

TYPED_TEST(LazyLinearTest, LoadStateDictMaterialisesTheParameters) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(3);
  const typename TestFixture::Linear source(7, 5);
  typename TestFixture::LazyLinear fc(5);
  fc.load_state_dict(source.state_dict());
  EXPECT_FALSE(fc.has_uninitialized_params());
  EXPECT_EQ(fc.in_features(), 7);
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), source.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(fc.bias(), source.bias()), T(0));
  EXPECT_FALSE(fc.weight().shares_storage_with(source.weight()));  // copied, as torch copies
  const Tensor x = Tensor::randn({3, 7}, gen);
  EXPECT_EQ(strata::max_abs_diff(fc(x), source(x)), T(0));
  // Once initialised, the loaded shapes must match as for any layer.
  EXPECT_THROW_WITH(
      fc.load_state_dict(typename TestFixture::Linear(8, 5).state_dict()), strata::Error,
      "size mismatch for weight: copying a param with shape [5, 8], the shape in current model is [5, 7].");
  EXPECT_EQ(fc.in_features(), 7);
}

TYPED_TEST(LazyLinearTest, LoadStateDictErrorsLeaveTheLayerUninitialised) {
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::LazyLinear fc(5);
  EXPECT_THROW_WITH(fc.load_state_dict({}), strata::Error,
                    "Error(s) in loading state_dict for LazyLinear:\n\tMissing key(s) in state_dict: \"weight\", "
                    "\"bias\".");
  EXPECT_THROW_WITH(fc.load_state_dict({{"weight", Tensor::zeros({6, 7})}, {"bias", Tensor::zeros({6})}}),
                    strata::Error,
                    "Error(s) in loading state_dict for LazyLinear:\n\tsize mismatch for weight: copying a param "
                    "with shape [6, 7], expected [5, in_features] with in_features > 0 (uninitialised LazyLinear).\n"
                    "\tsize mismatch for bias: copying a param with shape [6], expected [5] (uninitialised "
                    "LazyLinear).");
  EXPECT_TRUE(fc.has_uninitialized_params());
  EXPECT_FALSE(fc.weight().defined());
  EXPECT_FALSE(fc.bias().defined());
  EXPECT_THROW_WITH(fc.load_state_dict({{"weight", Tensor::zeros({5, 7})}, {"bias", Tensor::zeros({5, 1})}}),
                    strata::Error, "size mismatch for bias: copying a param with shape [5, 1], expected [5]");
  EXPECT_THROW_WITH(fc.load_state_dict({{"weight", Tensor::zeros({5})}, {"bias", Tensor::zeros({5})}}), strata::Error,
                    "size mismatch for weight: copying a param with shape [5], expected [5, in_features]");
  EXPECT_THROW_WITH(fc.load_state_dict({{"weight", Tensor::zeros({5, 0})}, {"bias", Tensor::zeros({5})}}),
                    strata::Error, "size mismatch for weight: copying a param with shape [5, 0]");
  EXPECT_TRUE(fc.has_uninitialized_params());
  EXPECT_EQ(fc.num_parameters(), 0);
  typename TestFixture::LazyLinear no_bias(5, false);
  EXPECT_THROW_WITH(no_bias.load_state_dict({{"weight", Tensor::zeros({4, 2})}}), strata::Error,
                    "copying a param with shape [4, 2], expected [5, in_features] with in_features > 0");
  EXPECT_THROW_WITH(no_bias.load_state_dict({{"weight", Tensor::zeros({5, 2})}, {"bias", Tensor::zeros({5})}}),
                    strata::Error, "Unexpected key(s) in state_dict: \"bias\".");
  no_bias.load_state_dict({{"weight", Tensor::zeros({5, 2})}});
  EXPECT_EQ(no_bias.in_features(), 2);
}

TYPED_TEST(LazyLinearTest, Errors) {
  using Tensor = typename TestFixture::Tensor;
  using LazyLinear = typename TestFixture::LazyLinear;
  strata::Generator gen(4);
  EXPECT_THROW_WITH(LazyLinear(0), strata::Error, "LazyLinear: expected out_features > 0, got 0");
  EXPECT_THROW_WITH(LazyLinear(-2, false), strata::Error, "LazyLinear: expected out_features > 0, got -2");
  LazyLinear fc(30);
  EXPECT_THROW_WITH(fc(Tensor()), strata::Error, "LazyLinear: the input is undefined");
  EXPECT_THROW_WITH(fc(Tensor({}, {1})), strata::Error,
                    "LazyLinear: expected an input of shape (*, in_features) with in_features > 0 to infer "
                    "in_features from, got shape []");
  EXPECT_THROW_WITH(fc(Tensor::empty({4, 0})), strata::Error, "got shape [4, 0]");
  EXPECT_TRUE(fc.has_uninitialized_params());
  fc(Tensor::randn({128, 20}, gen));
  EXPECT_THROW_WITH(fc(Tensor::randn({128, 10}, gen)), strata::Error,
                    "LazyLinear: expected input of shape (*, 20) with in_features=20 (inferred when the layer was "
                    "initialised), got shape [128, 10]");
  EXPECT_THROW_WITH(fc(Tensor({}, {1})), strata::Error, "got shape []");
  EXPECT_EQ(fc.in_features(), 20);
  fc.weight() = Tensor::zeros({30, 21});
  EXPECT_THROW_WITH(fc(Tensor::randn({1, 20}, gen)), strata::Error,
                    "LazyLinear: expected weight of shape [30, 20], got [30, 21]");
  fc.weight() = Tensor::zeros({30, 20});
  fc.bias() = Tensor();
  EXPECT_THROW_WITH(fc(Tensor::randn({1, 20}, gen)), strata::Error,
                    "LazyLinear: expected bias of shape [30], got an undefined tensor");
  LazyLinear no_bias(2, false);
  no_bias(Tensor::randn({3}, gen));
  no_bias.bias() = Tensor::zeros({2});
  EXPECT_THROW_WITH(no_bias(Tensor::randn({3}, gen)), strata::Error,
                    "LazyLinear: expected no bias (the layer was built with bias=false), got shape [2]");
}

TYPED_TEST(LazyLinearTest, ToLinear) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::LazyLinear fc(4);
  EXPECT_THROW_WITH(strata::nn::to_linear(fc), strata::Error, "to_linear: the LazyLinear is uninitialised");
  strata::Generator gen(6);
  const Tensor x = Tensor::randn({3, 5}, gen);
  const Tensor y = fc(x);
  const strata::nn::Linear<T> plain = strata::nn::to_linear(fc);
  EXPECT_EQ(plain.options().in_features(), 5);
  EXPECT_EQ(plain.options().out_features(), 4);
  EXPECT_EQ(strata::max_abs_diff(plain(x), y), T(0));
  EXPECT_FALSE(plain.weight().shares_storage_with(fc.weight()));  // copies, like the other conversions
  typename TestFixture::LazyLinear no_bias(2, false);
  no_bias(x);
  const strata::nn::Linear<T> plain_no_bias = strata::nn::to_linear(no_bias);
  EXPECT_FALSE(plain_no_bias.bias().defined());
  EXPECT_EQ(strata::max_abs_diff(plain_no_bias(x), no_bias(x)), T(0));
}

TEST(LazyLinearDeduction, DefaultsToFloat) {
  strata::nn::LazyLinear fc(30);
  static_assert(std::is_same_v<decltype(fc), strata::nn::LazyLinear<float>>);
  EXPECT_EQ(fc(strata::Tensor<float>::ones({2, 4})).shape(), (Shape{2, 30}));
}

}  // namespace
