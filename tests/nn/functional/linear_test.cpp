// Tests for strata/nn/functional/linear.hpp: functional::linear, torch.nn.functional.linear.
#include <strata/nn/functional/linear.hpp>

#include <vector>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata_test::Layout;

template <typename T>
class FunctionalLinearTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(FunctionalLinearTest, strata_test::ScalarTypes);

TYPED_TEST(FunctionalLinearTest, HandComputed) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  // weight [[w0, w1]] = [[0.5, -0.25]], bias 2: [1, 2] -> 1*0.5 + 2*(-0.25) + 2 = 2
  const Tensor w({1, 2}, {T(0.5), T(-0.25)});
  const Tensor b({1}, {2});
  const Tensor y = strata::nn::functional::linear(Tensor({1, 2}, {1, 2}), w, b);
  EXPECT_EQ(y.shape(), (Shape{1, 1}));
  EXPECT_EQ(y(0, 0), T(2));
  // No bias, two outputs, two rows: [[1, 2], [3, 4]] x [[1, 0], [1, 1]]^T
  const Tensor y2 = strata::nn::functional::linear(Tensor({2, 2}, {1, 2, 3, 4}), Tensor({2, 2}, {1, 0, 1, 1}));
  EXPECT_EQ(y2.shape(), (Shape{2, 2}));
  EXPECT_EQ(y2(0, 0), T(1));
  EXPECT_EQ(y2(0, 1), T(3));
  EXPECT_EQ(y2(1, 0), T(3));
  EXPECT_EQ(y2(1, 1), T(7));
}

TYPED_TEST(FunctionalLinearTest, OutputShapes) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(1);
  const Tensor w = Tensor::randn({30, 20}, gen), b = Tensor::randn({30}, gen);
  namespace F = strata::nn::functional;
  EXPECT_EQ(F::linear(Tensor::randn({128, 20}, gen), w, b).shape(), (Shape{128, 30}));
  EXPECT_EQ(F::linear(Tensor::randn({20}, gen), w, b).shape(), (Shape{30}));
  EXPECT_EQ(F::linear(Tensor::randn({2, 3, 4, 20}, gen), w, b).shape(), (Shape{2, 3, 4, 30}));
  EXPECT_EQ(F::linear(Tensor::randn({0, 20}, gen), w, b).shape(), (Shape{0, 30}));
  EXPECT_EQ(F::linear(Tensor::randn({3, 0, 20}, gen), w).shape(), (Shape{3, 0, 30}));
}

TYPED_TEST(FunctionalLinearTest, ReturnsANewTensor) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(2);
  const Tensor x = Tensor::randn({4, 4}, gen);
  const Tensor w = Tensor({4, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});  // identity
  const Tensor y = strata::nn::functional::linear(x, w);
  EXPECT_FALSE(y.shares_storage_with(x));
  EXPECT_EQ(strata::max_abs_diff(y, x), T(0));
}

TYPED_TEST(FunctionalLinearTest, NoInputFeatures) {
  // torch: F.linear(torch.randn(2, 0), torch.randn(3, 0), b) is b on every row.
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  const Tensor b({3}, {1, 2, 3});
  const Tensor y = strata::nn::functional::linear(Tensor::empty({2, 0}), Tensor::empty({3, 0}), b);
  ASSERT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y(1, 2), T(3));
  EXPECT_EQ(y.sum(), T(12));
}

TYPED_TEST(FunctionalLinearTest, MatchesNaiveReferenceOverGrid) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(3);
  const std::vector<std::vector<index_t>> leading{{}, {1}, {5}, {2, 3}, {2, 1, 3}};
  const std::vector<std::pair<index_t, index_t>> features{{1, 1}, {1, 4}, {6, 1}, {7, 5}, {33, 17}};
  int checked = 0;
  for (const auto& lead : leading) {
    for (const auto& [in, out] : features) {
      for (Layout layout : {Layout::kContiguous, Layout::kPermuted, Layout::kNarrowed, Layout::kStrided}) {
        for (bool with_bias : {true, false}) {
          std::vector<index_t> sizes = lead;
          sizes.push_back(in);
          const Tensor x = strata_test::random_input<T>(Shape(sizes), layout, gen);
          // The weight and bias take the same layout: the functional accepts any strides.
          const Tensor w = strata_test::random_input<T>(Shape{out, in}, layout, gen);
          const Tensor b = with_bias ? strata_test::random_input<T>(Shape{out}, layout, gen) : Tensor();
          EXPECT_TRUE(strata_test::matches_reference(strata::nn::functional::linear(x, w, b),
                                                     strata_test::naive_linear(x, w, b)))
              << "input " << x.shape() << " " << strata_test::layout_name(layout) << " out=" << out
              << " bias=" << with_bias;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 5 * 5 * 4 * 2);
}

TYPED_TEST(FunctionalLinearTest, NonContiguousInputsAreReallyNonContiguous) {
  // Guards the grid above: the views it feeds are not secretly contiguous.
  strata::Generator gen(4);
  EXPECT_FALSE(strata_test::random_input<TypeParam>(Shape{2, 3, 5}, Layout::kPermuted, gen).is_contiguous());
  EXPECT_FALSE(strata_test::random_input<TypeParam>(Shape{2, 3, 5}, Layout::kNarrowed, gen).is_contiguous());
  EXPECT_FALSE(strata_test::random_input<TypeParam>(Shape{5}, Layout::kStrided, gen).is_contiguous());
  EXPECT_EQ(strata_test::random_input<TypeParam>(Shape{2, 3, 5}, Layout::kStrided, gen).shape(), (Shape{2, 3, 5}));
}

TYPED_TEST(FunctionalLinearTest, Errors) {
  using Tensor = typename TestFixture::Tensor;
  namespace F = strata::nn::functional;
  strata::Generator gen(5);
  const Tensor w = Tensor::randn({4, 3}, gen), b = Tensor::randn({4}, gen);
  EXPECT_THROW_WITH(F::linear(Tensor(), w, b), strata::Error, "linear: the input is undefined");
  EXPECT_THROW_WITH(F::linear(Tensor::randn({2, 3}, gen), Tensor(), b), strata::Error,
                    "linear: expected a 2-D weight (out_features, in_features), got an undefined tensor");
  EXPECT_THROW_WITH(F::linear(Tensor::randn({2, 3}, gen), Tensor::randn({4, 3, 1}, gen)), strata::Error,
                    "linear: expected a 2-D weight (out_features, in_features), got [4, 3, 1]");
  EXPECT_THROW_WITH(F::linear(Tensor({}, {1}), w, b), strata::Error,
                    "linear: expected an input with at least 1 dimension (*, in_features), got shape []");
  EXPECT_THROW_WITH(F::linear(Tensor::randn({2, 5}, gen), w, b), strata::Error,
                    "linear: expected input with last dimension 3 (in_features), got shape [2, 5]");
  EXPECT_THROW_WITH(F::linear(Tensor::randn({5}, gen), w, b), strata::Error, "got shape [5]");
  EXPECT_THROW_WITH(F::linear(Tensor::randn({2, 3}, gen), w, Tensor::randn({5}, gen)), strata::Error,
                    "linear: expected bias of shape [4], got [5]");
  EXPECT_THROW_WITH(F::linear(Tensor::randn({2, 3}, gen), w, Tensor::randn({1, 4}, gen)), strata::Error,
                    "linear: expected bias of shape [4], got [1, 4]");
}

}  // namespace
