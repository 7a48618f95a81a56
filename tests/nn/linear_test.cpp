// Tests for strata/nn/linear.hpp: Linear and LinearOptions, torch.nn.Linear.
#include <strata/nn/linear.hpp>

#include <cmath>
#include <sstream>
#include <thread>
#include <type_traits>
#include <vector>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;

template <typename T>
class LinearTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
  using Linear = strata::nn::Linear<T>;
};
TYPED_TEST_SUITE(LinearTest, strata_test::ScalarTypes);

TYPED_TEST(LinearTest, HandComputed) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::Linear fc(2, 1);
  // weight [[w0, w1]] = [[0.5, -2]], bias b = 0.75: [1, 2] -> 1*0.5 + 2*(-2) + 0.75 = -2.75
  fc.weight().copy_(Tensor({1, 2}, {T(0.5), T(-2)}));
  fc.bias().copy_(Tensor({1}, {T(0.75)}));
  const Tensor y = fc(Tensor({1, 2}, {1, 2}));
  ASSERT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(y(0, 0), T(-2.75));
  // Two rows and the 1-D form.
  const Tensor y2 = fc(Tensor({2, 2}, {1, 2, -4, 0.5}));
  EXPECT_EQ(y2(1, 0), T(-4 * 0.5 - 1 + 0.75));
  const Tensor y1 = fc(Tensor({2}, {1, 2}));
  ASSERT_EQ(y1.shape(), Shape{1});
  EXPECT_EQ(y1(0), T(-2.75));
}

TEST(LinearDeduction, ClassTemplateArgumentDeductionGivesFloat) {
  strata::nn::Linear fc(20, 30);
  static_assert(std::is_same_v<decltype(fc), strata::nn::Linear<float>>);
  strata::nn::Linear from_options(strata::nn::LinearOptions(20, 30).bias(false));
  static_assert(std::is_same_v<decltype(from_options), strata::nn::Linear<float>>);
  EXPECT_FALSE(from_options.bias().defined());
}

TYPED_TEST(LinearTest, OptionsAndParameters) {
  using Linear = typename TestFixture::Linear;
  const Linear fc(20, 30);
  EXPECT_EQ(fc.options().in_features(), 20);
  EXPECT_EQ(fc.options().out_features(), 30);
  EXPECT_TRUE(fc.options().bias());
  EXPECT_EQ(fc.weight().shape(), (Shape{30, 20}));
  EXPECT_EQ(fc.bias().shape(), Shape{30});
  EXPECT_EQ(fc.num_parameters(), 630);
  const auto named = fc.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_EQ(Linear(8, 32).num_parameters(), 288);

  const Linear no_bias(strata::nn::LinearOptions(20, 30).bias(false));
  EXPECT_FALSE(no_bias.options().bias());
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(no_bias.num_parameters(), 600);
  ASSERT_EQ(no_bias.parameters().size(), 1u);
  EXPECT_EQ(Linear(20, 30, false).named_parameters().at(0).first, "weight");
  EXPECT_EQ(Linear(20, 30, false).parameters().size(), 1u);
}

TYPED_TEST(LinearTest, OutputShapes) {
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Linear fc(20, 30);
  strata::Generator gen(1);
  EXPECT_EQ(fc(Tensor::randn({128, 20}, gen)).shape(), (Shape{128, 30}));
  EXPECT_EQ(fc(Tensor::randn({20}, gen)).shape(), Shape{30});
  EXPECT_EQ(fc(Tensor::randn({4, 5, 20}, gen)).shape(), (Shape{4, 5, 30}));
  EXPECT_EQ(fc(Tensor::randn({2, 3, 4, 20}, gen)).shape(), (Shape{2, 3, 4, 30}));
  EXPECT_EQ(fc(Tensor::randn({0, 20}, gen)).shape(), (Shape{0, 30}));
  EXPECT_EQ(fc.forward(Tensor::randn({0, 20}, gen)).shape(), (Shape{0, 30}));
}

TYPED_TEST(LinearTest, ForwardIsTheFunctionalAndMatchesTheReference) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(2);
  for (const auto& [in, out] : std::vector<std::pair<index_t, index_t>>{{1, 1}, {1, 9}, {9, 1}, {20, 30}}) {
    for (bool bias : {true, false}) {
      const typename TestFixture::Linear fc(in, out, bias);
      for (auto layout : {strata_test::Layout::kContiguous, strata_test::Layout::kPermuted,
                          strata_test::Layout::kNarrowed, strata_test::Layout::kStrided}) {
        const Tensor x = strata_test::random_input<T>(Shape{3, 4, in}, layout, gen);
        const Tensor y = fc.forward(x);
        EXPECT_TRUE(strata_test::matches_reference(y, strata_test::naive_linear(x, fc.weight(), fc.bias())))
            << "in=" << in << " out=" << out << " " << strata_test::layout_name(layout);
        EXPECT_EQ(strata::max_abs_diff(y, fc(x)), T(0));
        EXPECT_EQ(strata::max_abs_diff(y, strata::nn::functional::linear(x, fc.weight(), fc.bias())), T(0));
      }
    }
  }
}

TYPED_TEST(LinearTest, InitialisationDistribution) {
  // torch: kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(in), 1/sqrt(in)) for the
  // weight, and the bias is U(-1/sqrt(in), 1/sqrt(in)). For Linear(400, 300): 0.05.
  strata::manual_seed(0);
  const typename TestFixture::Linear fc(400, 300);
  EXPECT_TRUE(strata_test::looks_uniform(fc.weight(), 0.05));
  EXPECT_TRUE(strata_test::looks_uniform(fc.bias(), 0.05));
  const typename TestFixture::Linear small(3, 1000);
  EXPECT_TRUE(strata_test::looks_uniform(small.weight(), 1 / std::sqrt(3.0)));
  EXPECT_TRUE(strata_test::looks_uniform(small.bias(), 1 / std::sqrt(3.0)));
}

TYPED_TEST(LinearTest, SeedingIsReproducible) {
  using T = TypeParam;
  using Linear = typename TestFixture::Linear;
  strata::manual_seed(42);
  const Linear a(20, 30);
  strata::manual_seed(42);
  const Linear b(20, 30);
  const Linear c(20, 30);  // the default generator moved on
  EXPECT_EQ(strata::max_abs_diff(a.weight(), b.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(a.bias(), b.bias()), T(0));
  EXPECT_GT(strata::max_abs_diff(a.weight(), c.weight()), T(0));

  // reset_parameters(Generator&) draws from the given generator only.
  Linear d(20, 30), e(20, 30);
  strata::Generator g1(7), g2(7);
  d.reset_parameters(g1);
  e.reset_parameters(g2);
  EXPECT_EQ(strata::max_abs_diff(d.weight(), e.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(d.bias(), e.bias()), T(0));
  EXPECT_GT(strata::max_abs_diff(d.weight(), a.weight()), T(0));
  d.reset_parameters(g1);  // the generator moved on
  EXPECT_GT(strata::max_abs_diff(d.weight(), e.weight()), T(0));

  // reset_parameters() draws from the default generator, as construction does.
  strata::manual_seed(42);
  d.reset_parameters();
  EXPECT_EQ(strata::max_abs_diff(d.weight(), a.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(d.bias(), a.bias()), T(0));
}

TYPED_TEST(LinearTest, ParametersShareStorageWithTheLayer) {
  using T = TypeParam;
  typename TestFixture::Linear fc(2, 3);
  fc.parameters()[0](1, 1) = T(5);
  EXPECT_EQ(fc.weight()(1, 1), T(5));
  fc.state_dict().at("bias")(2) = T(-1);
  EXPECT_EQ(fc.bias()(2), T(-1));
  // Copying a layer shares its parameters (torch's reference semantics).
  typename TestFixture::Linear copy = fc;
  copy.weight()(0, 0) = T(9);
  EXPECT_EQ(fc.weight()(0, 0), T(9));
}

TYPED_TEST(LinearTest, Printing) {
  std::ostringstream out;
  out << typename TestFixture::Linear(20, 30) << "\n" << typename TestFixture::Linear(3, 1, false);
  EXPECT_EQ(out.str(),
            "strata::nn::Linear(in_features=20, out_features=30, bias=true)\n"
            "strata::nn::Linear(in_features=3, out_features=1, bias=false)");
  EXPECT_EQ(typename TestFixture::Linear(1, 1).name(), "Linear");
}

TYPED_TEST(LinearTest, ConcurrentForwardOnOneLayer) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Linear fc(20, 30);
  strata::Generator gen(3);
  std::vector<Tensor> inputs, expected, results(4);
  for (int i = 0; i < 4; ++i) {
    inputs.push_back(Tensor::randn({64, 20}, gen));
    expected.push_back(fc(inputs.back()));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 20; ++repeat) results[i] = fc(inputs[i]);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(strata::max_abs_diff(results[i], expected[i]), T(0));
}

TYPED_TEST(LinearTest, ConstructorErrors) {
  using Linear = typename TestFixture::Linear;
  EXPECT_THROW_WITH(Linear(0, 30), strata::Error, "Linear: expected in_features > 0, got 0");
  EXPECT_THROW_WITH(Linear(-3, 30), strata::Error, "Linear: expected in_features > 0, got -3");
  EXPECT_THROW_WITH(Linear(20, 0), strata::Error, "Linear: expected out_features > 0, got 0");
  EXPECT_THROW_WITH(Linear(strata::nn::LinearOptions(20, -1).bias(false)), strata::Error,
                    "Linear: expected out_features > 0, got -1");
}

TYPED_TEST(LinearTest, InputErrors) {
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Linear fc(20, 30);
  strata::Generator gen(4);
  EXPECT_THROW_WITH(fc(Tensor::randn({128, 10}, gen)), strata::Error,
                    "Linear: expected input of shape (*, 20) with in_features=20, got shape [128, 10]");
  EXPECT_THROW_WITH(fc(Tensor::randn({20, 5}, gen)), strata::Error, "got shape [20, 5]");
  EXPECT_THROW_WITH(fc(Tensor::randn({10}, gen)), strata::Error, "got shape [10]");
  EXPECT_THROW_WITH(fc(Tensor({}, {1})), strata::Error,
                    "Linear: expected input of shape (*, 20) with in_features=20, got shape []");
  EXPECT_THROW_WITH(fc(Tensor()), strata::Error, "Linear: the input is undefined");
}

TYPED_TEST(LinearTest, ParameterErrorsAreCaughtInForward) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(5);
  const Tensor x = Tensor::randn({4, 20}, gen);
  {
    typename TestFixture::Linear fc(20, 30);
    fc.weight() = Tensor::zeros({30, 21});
    EXPECT_THROW_WITH(fc(x), strata::Error, "Linear: expected weight of shape [30, 20], got [30, 21]");
    fc.weight() = Tensor();
    EXPECT_THROW_WITH(fc(x), strata::Error, "Linear: expected weight of shape [30, 20], got an undefined tensor");
  }
  {
    typename TestFixture::Linear fc(20, 30);
    fc.bias() = Tensor::zeros({31});
    EXPECT_THROW_WITH(fc(x), strata::Error, "Linear: expected bias of shape [30], got [31]");
    fc.bias() = Tensor();
    EXPECT_THROW_WITH(fc(x), strata::Error, "Linear: expected bias of shape [30], got an undefined tensor");
  }
  {
    typename TestFixture::Linear fc(20, 30, false);
    fc.bias() = Tensor::zeros({30});
    EXPECT_THROW_WITH(fc(x), strata::Error,
                      "Linear: expected no bias (the layer was built with bias=false), got shape [30]");
  }
}

}  // namespace
