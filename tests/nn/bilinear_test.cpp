// Tests for strata/nn/bilinear.hpp: Bilinear and BilinearOptions, torch.nn.Bilinear.
#include <strata/nn/bilinear.hpp>

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
class BilinearTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
  using Bilinear = strata::nn::Bilinear<T>;
};
TYPED_TEST_SUITE(BilinearTest, strata_test::ScalarTypes);

TYPED_TEST(BilinearTest, HandComputed) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  typename TestFixture::Bilinear m(2, 2, 1);
  // W[0] = [[1, 2], [3, 4]], b = 0.5; x1 = [1, -1], x2 = [2, 3]:
  // 1*1*2 + 1*2*3 - 1*3*2 - 1*4*3 + 0.5 = 2 + 6 - 6 - 12 + 0.5 = -9.5
  m.weight().copy_(Tensor({1, 2, 2}, {1, 2, 3, 4}));
  m.bias().copy_(Tensor({1}, {T(0.5)}));
  const Tensor y = m(Tensor({1, 2}, {1, -1}), Tensor({1, 2}, {2, 3}));
  ASSERT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(y(0, 0), T(-9.5));
  const Tensor y1 = m(Tensor({2}, {1, -1}), Tensor({2}, {2, 3}));
  ASSERT_EQ(y1.shape(), Shape{1});
  EXPECT_EQ(y1(0), T(-9.5));
}

TEST(BilinearDeduction, ClassTemplateArgumentDeductionGivesFloat) {
  strata::nn::Bilinear m(20, 30, 40);
  static_assert(std::is_same_v<decltype(m), strata::nn::Bilinear<float>>);
  strata::nn::Bilinear from_options(strata::nn::BilinearOptions(2, 3, 4).bias(false));
  static_assert(std::is_same_v<decltype(from_options), strata::nn::Bilinear<float>>);
  EXPECT_FALSE(from_options.bias().defined());
}

TYPED_TEST(BilinearTest, OptionsAndParameters) {
  using Bilinear = typename TestFixture::Bilinear;
  const Bilinear m(20, 30, 40);
  EXPECT_EQ(m.options().in1_features(), 20);
  EXPECT_EQ(m.options().in2_features(), 30);
  EXPECT_EQ(m.options().out_features(), 40);
  EXPECT_TRUE(m.options().bias());
  EXPECT_EQ(m.weight().shape(), (Shape{40, 20, 30}));
  EXPECT_EQ(m.bias().shape(), Shape{40});
  EXPECT_EQ(m.num_parameters(), 40 * 20 * 30 + 40);
  const auto named = m.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_TRUE(named[0].second.shares_storage_with(m.weight()));

  const Bilinear no_bias(strata::nn::BilinearOptions(20, 30, 40).bias(false));
  EXPECT_FALSE(no_bias.options().bias());
  EXPECT_FALSE(no_bias.bias().defined());
  EXPECT_EQ(no_bias.num_parameters(), 24000);
  EXPECT_EQ(Bilinear(2, 3, 4, false).parameters().size(), 1u);
}

TYPED_TEST(BilinearTest, OutputShapes) {
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Bilinear m(20, 30, 40);
  strata::Generator gen(1);
  EXPECT_EQ(m(Tensor::randn({128, 20}, gen), Tensor::randn({128, 30}, gen)).shape(), (Shape{128, 40}));
  EXPECT_EQ(m(Tensor::randn({20}, gen), Tensor::randn({30}, gen)).shape(), Shape{40});
  EXPECT_EQ(m(Tensor::randn({4, 5, 20}, gen), Tensor::randn({4, 5, 30}, gen)).shape(), (Shape{4, 5, 40}));
  EXPECT_EQ(m(Tensor::randn({2, 3, 4, 20}, gen), Tensor::randn({2, 3, 4, 30}, gen)).shape(), (Shape{2, 3, 4, 40}));
  EXPECT_EQ(m.forward(Tensor::randn({0, 20}, gen), Tensor::randn({0, 30}, gen)).shape(), (Shape{0, 40}));
}

TYPED_TEST(BilinearTest, ForwardIsTheFunctionalAndMatchesTheReference) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(2);
  for (const auto& [in1, in2, out] :
       std::vector<std::array<index_t, 3>>{{1, 1, 1}, {1, 4, 3}, {5, 1, 2}, {3, 4, 1}, {20, 30, 40}}) {
    for (bool bias : {true, false}) {
      const typename TestFixture::Bilinear m(in1, in2, out, bias);
      for (auto layout : {strata_test::Layout::kContiguous, strata_test::Layout::kPermuted,
                          strata_test::Layout::kNarrowed, strata_test::Layout::kStrided}) {
        const Tensor x1 = strata_test::random_input<T>(Shape{3, 2, in1}, layout, gen);
        const Tensor x2 = strata_test::random_input<T>(Shape{3, 2, in2}, layout, gen);
        const Tensor y = m.forward(x1, x2);
        EXPECT_TRUE(strata_test::matches_reference(y, strata_test::naive_bilinear(x1, x2, m.weight(), m.bias())))
            << in1 << "x" << in2 << "->" << out << " " << strata_test::layout_name(layout);
        EXPECT_EQ(strata::max_abs_diff(y, m(x1, x2)), T(0));
        EXPECT_EQ(strata::max_abs_diff(y, strata::nn::functional::bilinear(x1, x2, m.weight(), m.bias())), T(0));
      }
    }
  }
}

TYPED_TEST(BilinearTest, InitialisationDistribution) {
  // torch.nn.Bilinear.reset_parameters: bound = 1/sqrt(weight.size(1)) = 1/sqrt(in1_features)
  // for the weight and the bias alike; Bilinear(25, 30, 400) gives 0.2.
  strata::manual_seed(0);
  const typename TestFixture::Bilinear m(25, 30, 400);
  EXPECT_TRUE(strata_test::looks_uniform(m.weight(), 0.2));
  EXPECT_TRUE(strata_test::looks_uniform(m.bias(), 0.2));
  // in2_features plays no part in the bound.
  const typename TestFixture::Bilinear wide(4, 1000, 3);
  EXPECT_TRUE(strata_test::looks_uniform(wide.weight(), 0.5));
}

TYPED_TEST(BilinearTest, SeedingIsReproducible) {
  using T = TypeParam;
  using Bilinear = typename TestFixture::Bilinear;
  strata::manual_seed(42);
  const Bilinear a(4, 5, 6);
  strata::manual_seed(42);
  Bilinear b(4, 5, 6);
  EXPECT_EQ(strata::max_abs_diff(a.weight(), b.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(a.bias(), b.bias()), T(0));
  strata::Generator g1(7), g2(7);
  Bilinear c(4, 5, 6);
  b.reset_parameters(g1);
  c.reset_parameters(g2);
  EXPECT_EQ(strata::max_abs_diff(b.weight(), c.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(b.bias(), c.bias()), T(0));
  EXPECT_GT(strata::max_abs_diff(a.weight(), b.weight()), T(0));
  strata::manual_seed(42);
  b.reset_parameters();
  EXPECT_EQ(strata::max_abs_diff(a.weight(), b.weight()), T(0));
  EXPECT_EQ(strata::max_abs_diff(a.bias(), b.bias()), T(0));
  // The weight is drawn first, then the bias, from one stream (torch's order).
  strata::Generator g3(9), g4(9);
  b.reset_parameters(g3);
  const double bound = 0.5;
  const auto w = strata::Tensor<T>::uniform({6, 4, 5}, T(-bound), T(bound), g4);
  const auto bias = strata::Tensor<T>::uniform({6}, T(-bound), T(bound), g4);
  EXPECT_EQ(strata::max_abs_diff(b.weight(), w), T(0));
  EXPECT_EQ(strata::max_abs_diff(b.bias(), bias), T(0));
}

TYPED_TEST(BilinearTest, Printing) {
  std::ostringstream out;
  out << typename TestFixture::Bilinear(20, 30, 40) << "\n" << typename TestFixture::Bilinear(1, 2, 3, false);
  EXPECT_EQ(out.str(),
            "strata::nn::Bilinear(in1_features=20, in2_features=30, out_features=40, bias=true)\n"
            "strata::nn::Bilinear(in1_features=1, in2_features=2, out_features=3, bias=false)");
  EXPECT_EQ(typename TestFixture::Bilinear(1, 1, 1).name(), "Bilinear");
}

TYPED_TEST(BilinearTest, ConcurrentForwardOnOneLayer) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Bilinear m(20, 30, 40);
  strata::Generator gen(3);
  std::vector<Tensor> a, b, expected, results(4);
  for (int i = 0; i < 4; ++i) {
    a.push_back(Tensor::randn({32, 20}, gen));
    b.push_back(Tensor::randn({32, 30}, gen));
    expected.push_back(m(a.back(), b.back()));
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 3; ++repeat) results[i] = m(a[i], b[i]);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(strata::max_abs_diff(results[i], expected[i]), T(0));
}

TYPED_TEST(BilinearTest, ConstructorErrors) {
  using Bilinear = typename TestFixture::Bilinear;
  EXPECT_THROW_WITH(Bilinear(0, 3, 4), strata::Error, "Bilinear: expected in1_features > 0, got 0");
  EXPECT_THROW_WITH(Bilinear(2, -3, 4), strata::Error, "Bilinear: expected in2_features > 0, got -3");
  EXPECT_THROW_WITH(Bilinear(2, 3, 0), strata::Error, "Bilinear: expected out_features > 0, got 0");
  EXPECT_THROW_WITH(Bilinear(strata::nn::BilinearOptions(2, 3, -4).bias(false)), strata::Error,
                    "Bilinear: expected out_features > 0, got -4");
}

TYPED_TEST(BilinearTest, InputErrors) {
  using Tensor = typename TestFixture::Tensor;
  const typename TestFixture::Bilinear m(3, 4, 5);
  strata::Generator gen(4);
  const Tensor x1 = Tensor::randn({2, 3}, gen), x2 = Tensor::randn({2, 4}, gen);
  EXPECT_THROW_WITH(m(Tensor(), x2), strata::Error, "Bilinear: input1 is undefined");
  EXPECT_THROW_WITH(m(x1, Tensor()), strata::Error, "Bilinear: input2 is undefined");
  EXPECT_THROW_WITH(m(Tensor::randn({2, 5}, gen), x2), strata::Error,
                    "Bilinear: input1 size does not match weight size: got 5 but expected 3 (input1 shape [2, 5], "
                    "input2 shape [2, 4])");
  EXPECT_THROW_WITH(m(x1, Tensor::randn({2, 5}, gen)), strata::Error,
                    "Bilinear: input2 size does not match weight size: got 5 but expected 4");
  EXPECT_THROW_WITH(m(x1, Tensor::randn({3, 4}, gen)), strata::Error,
                    "Bilinear: input batch dimensions do not match at dim 0: got 2 and 3");
  EXPECT_THROW_WITH(m(Tensor::randn({2, 2, 3}, gen), Tensor::randn({2, 1, 4}, gen)), strata::Error,
                    "Bilinear: input batch dimensions do not match at dim 1: got 2 and 1");
  EXPECT_THROW_WITH(m(x1, Tensor::randn({4}, gen)), strata::Error,
                    "Bilinear: input dimensions do not match: got 2 and 1");
  EXPECT_THROW_WITH(m(Tensor({}, {1}), Tensor({}, {1})), strata::Error,
                    "Bilinear: expected inputs with at least 1 dimension");
}

TYPED_TEST(BilinearTest, ParameterErrorsAreCaughtInForward) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(5);
  const Tensor x1 = Tensor::randn({2, 3}, gen), x2 = Tensor::randn({2, 4}, gen);
  {
    typename TestFixture::Bilinear m(3, 4, 5);
    m.weight() = Tensor::zeros({5, 4, 3});
    EXPECT_THROW_WITH(m(x1, x2), strata::Error, "Bilinear: expected weight of shape [5, 3, 4], got [5, 4, 3]");
    m.weight() = Tensor();
    EXPECT_THROW_WITH(m(x1, x2), strata::Error,
                      "Bilinear: expected weight of shape [5, 3, 4], got an undefined tensor");
  }
  {
    typename TestFixture::Bilinear m(3, 4, 5);
    m.bias() = Tensor::zeros({5, 1});
    EXPECT_THROW_WITH(m(x1, x2), strata::Error, "Bilinear: expected bias of shape [5], got [5, 1]");
    m.bias() = Tensor();
    EXPECT_THROW_WITH(m(x1, x2), strata::Error, "Bilinear: expected bias of shape [5], got an undefined tensor");
  }
  {
    typename TestFixture::Bilinear m(3, 4, 5, false);
    m.bias() = Tensor::zeros({5});
    EXPECT_THROW_WITH(m(x1, x2), strata::Error,
                      "Bilinear: expected no bias (the layer was built with bias=false), got shape [5]");
  }
}

}  // namespace
