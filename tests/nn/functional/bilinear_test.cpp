// Tests for strata/nn/functional/bilinear.hpp: functional::bilinear, torch.nn.functional.bilinear.
#include <strata/nn/functional/bilinear.hpp>

#include <array>
#include <vector>

#include "linear_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata_test::Layout;

template <typename T>
class FunctionalBilinearTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(FunctionalBilinearTest, strata_test::ScalarTypes);

TYPED_TEST(FunctionalBilinearTest, HandComputed) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  // x1 = [1, 2], x2 = [3], W (1, 2, 1) = [[[0.5], [-1]]], b = [0.25]:
  // y = 1*0.5*3 + 2*(-1)*3 + 0.25 = -4.25
  const Tensor y = strata::nn::functional::bilinear(Tensor({2}, {1, 2}), Tensor({1}, {3}),
                                                    Tensor({1, 2, 1}, {T(0.5), -1}), Tensor({1}, {T(0.25)}));
  ASSERT_EQ(y.shape(), Shape{1});
  EXPECT_EQ(y(0), T(-4.25));
  // Two rows, two outputs, no bias: W[0] = [[1, 0], [0, 1]] (a dot product), W[1] = [[0, 1], [0, 0]] (x1[0]*x2[1]).
  const Tensor x1({2, 2}, {1, 2, 3, 4}), x2({2, 2}, {5, 6, 7, 8});
  const Tensor w({2, 2, 2}, {1, 0, 0, 1, 0, 1, 0, 0});
  const Tensor y2 = strata::nn::functional::bilinear(x1, x2, w);
  ASSERT_EQ(y2.shape(), (Shape{2, 2}));
  EXPECT_EQ(y2(0, 0), T(1 * 5 + 2 * 6));
  EXPECT_EQ(y2(0, 1), T(1 * 6));
  EXPECT_EQ(y2(1, 0), T(3 * 7 + 4 * 8));
  EXPECT_EQ(y2(1, 1), T(3 * 8));
}

TYPED_TEST(FunctionalBilinearTest, OutputShapes) {
  using Tensor = typename TestFixture::Tensor;
  namespace F = strata::nn::functional;
  strata::Generator gen(1);
  const Tensor w = Tensor::randn({40, 20, 30}, gen), b = Tensor::randn({40}, gen);
  EXPECT_EQ(F::bilinear(Tensor::randn({128, 20}, gen), Tensor::randn({128, 30}, gen), w, b).shape(), (Shape{128, 40}));
  EXPECT_EQ(F::bilinear(Tensor::randn({20}, gen), Tensor::randn({30}, gen), w, b).shape(), (Shape{40}));
  EXPECT_EQ(F::bilinear(Tensor::randn({2, 3, 4, 20}, gen), Tensor::randn({2, 3, 4, 30}, gen), w).shape(),
            (Shape{2, 3, 4, 40}));
  EXPECT_EQ(F::bilinear(Tensor::randn({0, 20}, gen), Tensor::randn({0, 30}, gen), w, b).shape(), (Shape{0, 40}));
}

TYPED_TEST(FunctionalBilinearTest, MatchesNaiveReferenceOverGrid) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(3);
  const std::vector<std::vector<index_t>> leading{{}, {1}, {5}, {2, 3}, {2, 1, 3}};
  const std::vector<std::array<index_t, 3>> features{{1, 1, 1}, {1, 3, 4}, {4, 1, 1}, {3, 5, 2}, {20, 30, 40}};
  int checked = 0;
  for (const auto& lead : leading) {
    for (const auto& [in1, in2, out] : features) {
      for (Layout layout : {Layout::kContiguous, Layout::kPermuted, Layout::kNarrowed, Layout::kStrided}) {
        for (bool with_bias : {true, false}) {
          std::vector<index_t> sizes1 = lead, sizes2 = lead;
          sizes1.push_back(in1);
          sizes2.push_back(in2);
          const Tensor x1 = strata_test::random_input<T>(Shape(sizes1), layout, gen);
          const Tensor x2 = strata_test::random_input<T>(Shape(sizes2), layout, gen);
          const Tensor w = strata_test::random_input<T>(Shape{out, in1, in2}, layout, gen);
          const Tensor b = with_bias ? strata_test::random_input<T>(Shape{out}, layout, gen) : Tensor();
          EXPECT_TRUE(strata_test::matches_reference(strata::nn::functional::bilinear(x1, x2, w, b),
                                                     strata_test::naive_bilinear(x1, x2, w, b)))
              << "input1 " << x1.shape() << " input2 " << x2.shape() << " " << strata_test::layout_name(layout)
              << " out=" << out << " bias=" << with_bias;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 5 * 5 * 4 * 2);
}

TYPED_TEST(FunctionalBilinearTest, MixedLayoutsOfTheTwoInputs) {
  using T = TypeParam;
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(4);
  const Tensor x1 = strata_test::random_input<T>(Shape{4, 3, 6}, Layout::kPermuted, gen);
  const Tensor x2 = strata_test::random_input<T>(Shape{4, 3, 5}, Layout::kNarrowed, gen);
  const Tensor w = Tensor::randn({7, 6, 5}, gen), b = Tensor::randn({7}, gen);
  EXPECT_TRUE(strata_test::matches_reference(strata::nn::functional::bilinear(x1, x2, w, b),
                                             strata_test::naive_bilinear(x1, x2, w, b)));
}

TYPED_TEST(FunctionalBilinearTest, Errors) {
  using Tensor = typename TestFixture::Tensor;
  namespace F = strata::nn::functional;
  strata::Generator gen(5);
  const Tensor w = Tensor::randn({5, 3, 4}, gen), b = Tensor::randn({5}, gen);
  const Tensor x1 = Tensor::randn({2, 3}, gen), x2 = Tensor::randn({2, 4}, gen);
  EXPECT_THROW_WITH(F::bilinear(Tensor(), x2, w, b), strata::Error, "bilinear(): input1 is undefined");
  EXPECT_THROW_WITH(F::bilinear(x1, Tensor(), w, b), strata::Error, "bilinear(): input2 is undefined");
  EXPECT_THROW_WITH(F::bilinear(x1, x2, Tensor(), b), strata::Error,
                    "bilinear(): expected a 3-D weight (out_features, in1_features, in2_features), got an undefined "
                    "tensor");
  EXPECT_THROW_WITH(F::bilinear(x1, x2, Tensor::randn({5, 12}, gen), b), strata::Error,
                    "bilinear(): expected a 3-D weight (out_features, in1_features, in2_features), got [5, 12]");
  EXPECT_THROW_WITH(F::bilinear(x1, x2, w, Tensor::randn({4}, gen)), strata::Error,
                    "bilinear(): expected bias of shape [5] (out_features), got [4]");
  EXPECT_THROW_WITH(F::bilinear(x1, x2, w, Tensor::randn({1, 5}, gen)), strata::Error,
                    "bilinear(): expected bias of shape [5] (out_features), got [1, 5]");
  // torch's wording for the input checks, with both shapes appended.
  EXPECT_THROW_WITH(F::bilinear(x1, Tensor::randn({4}, gen), w, b), strata::Error,
                    "bilinear(): input dimensions do not match: got 2 and 1 (input1 shape [2, 3], input2 shape [4])");
  EXPECT_THROW_WITH(F::bilinear(Tensor({}, {1}), Tensor({}, {1}), w, b), strata::Error,
                    "bilinear(): expected inputs with at least 1 dimension");
  EXPECT_THROW_WITH(F::bilinear(x1, Tensor::randn({3, 4}, gen), w, b), strata::Error,
                    "bilinear(): input batch dimensions do not match at dim 0: got 2 and 3");
  EXPECT_THROW_WITH(F::bilinear(Tensor::randn({2, 6, 3}, gen), Tensor::randn({2, 7, 4}, gen), w, b), strata::Error,
                    "bilinear(): input batch dimensions do not match at dim 1: got 6 and 7");
  EXPECT_THROW_WITH(F::bilinear(Tensor::randn({2, 5}, gen), x2, w, b), strata::Error,
                    "bilinear(): input1 size does not match weight size: got 5 but expected 3");
  EXPECT_THROW_WITH(F::bilinear(x1, Tensor::randn({2, 5}, gen), w, b), strata::Error,
                    "bilinear(): input2 size does not match weight size: got 5 but expected 4");
}

}  // namespace
