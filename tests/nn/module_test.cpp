// Tests for strata/nn/module.hpp: parameters, state_dict and strict load_state_dict,
// through Linear and Bilinear and a small two-level container defined here.
#include <strata/nn/bilinear.hpp>
#include <strata/nn/identity.hpp>
#include <strata/nn/linear.hpp>
#include <strata/nn/module.hpp>

#include <sstream>

#include "test_util.hpp"

namespace {

using strata::Shape;

/// A container with children "0" (a Linear) and "head" (a Bilinear), enough to
/// check the dotted names and the order that containers produce.
template <typename T>
class Pair : public strata::nn::Module<T> {
 public:
  Pair() {
    first_ = this->register_module("0", strata::nn::Linear<T>(3, 2));
    head_ = this->register_module("head", strata::nn::Bilinear<T>(2, 2, 1, false));
  }
  strata::nn::Linear<T>& first() { return *first_; }
  strata::nn::Bilinear<T>& head() { return *head_; }
  std::string name() const override { return "Pair"; }
  void pretty_print(std::ostream& out) const override { out << "Pair"; }

 private:
  std::shared_ptr<strata::nn::Linear<T>> first_;
  std::shared_ptr<strata::nn::Bilinear<T>> head_;
};

template <typename T>
class ModuleTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
  using Linear = strata::nn::Linear<T>;
};
TYPED_TEST_SUITE(ModuleTest, strata_test::ScalarTypes);

TYPED_TEST(ModuleTest, NamedParametersInTorchOrder) {
  const typename TestFixture::Linear fc(4, 3);
  const auto named = fc.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[0].second.shape(), (Shape{3, 4}));
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_EQ(named[1].second.shape(), Shape{3});
  const auto params = fc.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_TRUE(params[0].shares_storage_with(fc.weight()));
  EXPECT_TRUE(params[1].shares_storage_with(fc.bias()));

  Pair<TypeParam> pair;
  std::vector<std::string> names;
  for (const auto& [name, tensor] : pair.named_parameters()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "head.weight"}));
  EXPECT_EQ(pair.num_parameters(), 3 * 2 + 2 + 2 * 2 * 1);
}

TYPED_TEST(ModuleTest, ParametersShareStorageWithTheLayer) {
  using T = TypeParam;
  typename TestFixture::Linear fc(4, 3);
  auto params = fc.parameters();
  params[0](2, 3) = T(42);
  params[1].fill_(T(-1));
  EXPECT_EQ(fc.weight()(2, 3), T(42));
  EXPECT_EQ(fc.bias().sum(), T(-3));
  auto named = fc.named_parameters();
  named[0].second(0, 0) = T(7);
  EXPECT_EQ(fc.weight()(0, 0), T(7));
  Pair<T> pair;
  pair.state_dict().at("head.weight").fill_(T(2));
  EXPECT_EQ(pair.head().weight().sum(), T(8));
}

TYPED_TEST(ModuleTest, NumParameters) {
  EXPECT_EQ(typename TestFixture::Linear(8, 32).num_parameters(), 288);
  EXPECT_EQ(typename TestFixture::Linear(8, 32, false).num_parameters(), 256);
  EXPECT_EQ(strata::nn::Bilinear<TypeParam>(20, 30, 40).num_parameters(), 24040);
  EXPECT_EQ(strata::nn::Identity<TypeParam>().num_parameters(), 0);
}

TYPED_TEST(ModuleTest, StateDictHasTorchKeys) {
  const typename TestFixture::Linear fc(4, 3);
  const auto sd = fc.state_dict();
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_TRUE(sd.at("weight").shares_storage_with(fc.weight()));
  EXPECT_TRUE(sd.at("bias").shares_storage_with(fc.bias()));
  EXPECT_EQ(typename TestFixture::Linear(4, 3, false).state_dict().count("bias"), 0u);
  Pair<TypeParam> pair;
  std::vector<std::string> keys;
  for (const auto& [key, tensor] : pair.state_dict()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"0.bias", "0.weight", "head.weight"}));  // std::map order
}

TYPED_TEST(ModuleTest, LoadStateDictCopiesValues) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(1);
  const typename TestFixture::Linear source(4, 3);
  typename TestFixture::Linear target(4, 3);
  const Tensor weight_storage = target.weight();
  target.load_state_dict(source.state_dict());
  EXPECT_EQ(strata::max_abs_diff(target.weight(), source.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(target.bias(), source.bias()), T(0));
  // Copied into the existing storage, not aliased to the source.
  EXPECT_TRUE(target.weight().shares_storage_with(weight_storage));
  EXPECT_FALSE(target.weight().shares_storage_with(source.weight()));
  const Tensor x = Tensor::randn({2, 4}, gen);
  EXPECT_EQ(strata::max_abs_diff(target(x), source(x)), T(0));
  // Non-contiguous sources are fine.
  typename TestFixture::Linear square(3, 3);
  const Tensor transposed = Tensor::randn({3, 3}, gen).transpose(0, 1);
  square.load_state_dict({{"weight", transposed}, {"bias", Tensor::zeros({3})}});
  EXPECT_EQ(square.weight()(0, 1), transposed(0, 1));
  EXPECT_EQ(strata::max_abs_diff(square.weight(), transposed), T(0));

  Pair<T> a, b;
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(strata::max_abs_diff(b.first().weight(), a.first().weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(b.head().weight(), a.head().weight()), T(0));
}

TYPED_TEST(ModuleTest, LoadStateDictIsStrict) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::Linear fc(4, 3);
  const Tensor before = fc.weight().clone();
  EXPECT_THROW_WITH(fc.load_state_dict({{"weight", Tensor::zeros({3, 4})}}), strata::Error,
                    "Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: \"bias\".");
  EXPECT_THROW_WITH(
      fc.load_state_dict({{"weight", Tensor::zeros({3, 4})}, {"bias", Tensor::zeros({3})}, {"extra", Tensor()}}),
      strata::Error, "Error(s) in loading state_dict for Linear:\n\tUnexpected key(s) in state_dict: \"extra\".");
  EXPECT_THROW_WITH(fc.load_state_dict({{"weight", Tensor::zeros({3, 2})}, {"bias", Tensor::zeros({3})}}),
                    strata::Error,
                    "Error(s) in loading state_dict for Linear:\n\tsize mismatch for weight: copying a param with "
                    "shape [3, 2], the shape in current model is [3, 4].");
  EXPECT_THROW_WITH(
      fc.load_state_dict({{"weight", Tensor::zeros({3, 4})}, {"bias", Tensor()}}), strata::Error,
      "Error(s) in loading state_dict for Linear:\n\tsize mismatch for bias: copying an undefined tensor");
  // Everything wrong at once: one error listing all of it, in torch's order.
  try {
    fc.load_state_dict({{"weight", Tensor::zeros({4, 3})}, {"b", Tensor::zeros({3})}, {"c", Tensor::zeros({1})}});
    ADD_FAILURE() << "expected a strata::Error";
  } catch (const strata::Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "Error(s) in loading state_dict for Linear:\n"
              "\tMissing key(s) in state_dict: \"bias\".\n"
              "\tUnexpected key(s) in state_dict: \"b\", \"c\".\n"
              "\tsize mismatch for weight: copying a param with shape [4, 3], the shape in current model is [3, 4].");
  }
  // Nothing was changed by the failed loads.
  EXPECT_EQ(strata::max_abs_diff(fc.weight(), before), T(0));

  typename TestFixture::Linear no_bias(4, 3, false);
  EXPECT_THROW_WITH(no_bias.load_state_dict(fc.state_dict()), strata::Error,
                    "Unexpected key(s) in state_dict: \"bias\".");

  Pair<T> pair;
  auto sd = pair.state_dict();
  sd.erase("0.bias");
  sd["head.weight"] = Tensor::zeros({1, 2, 3});
  EXPECT_THROW_WITH(pair.load_state_dict(sd), strata::Error,
                    "Error(s) in loading state_dict for Pair:\n\tMissing key(s) in state_dict: \"0.bias\".\n\tsize "
                    "mismatch for head.weight: copying a param with shape [1, 2, 3], the shape in current model is "
                    "[1, 2, 2].");
}

}  // namespace
