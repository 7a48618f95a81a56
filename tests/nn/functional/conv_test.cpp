// Tests for strata/nn/functional/conv.hpp: conv1d / conv2d with
// torch.nn.functional's arguments and defaults, against hand-computed values,
// the layers and the naive reference, and every error they report.
#include <array>
#include <vector>

#include <strata/nn/conv.hpp>
#include <strata/nn/functional/conv.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
namespace F = strata::nn::functional;

template <typename T>
class FunctionalConvTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(FunctionalConvTest, strata_test::ScalarTypes);

TYPED_TEST(FunctionalConvTest, HandComputedConv2d) {
  using Tensor = typename TestFixture::Tensor;
  // x = [[1 2 3], [4 5 6], [7 8 9]], w = [[1 0], [0 -1]]: y[i][j] = x[i][j] - x[i+1][j+1].
  const Tensor x({1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor w({1, 1, 2, 2}, {1, 0, 0, -1});
  EXPECT_TRUE(strata::allclose(F::conv2d(x, w), Tensor({1, 1, 2, 2}, {-4, -4, -4, -4}), 0, 0));
  EXPECT_TRUE(strata::allclose(F::conv2d(x, w, Tensor({1}, {10})), Tensor({1, 1, 2, 2}, {6, 6, 6, 6}), 0, 0));
  // Zero padding 1, stride 2: outputs at padded (0,0), (0,2), (2,0), (2,2).
  // y(0,0) = pad - x(0,0) = -1; y(0,1) = pad - x(0,2) = -3; y(1,0) = pad - x(2,0) = -7; y(1,1) = x(1,1) - x(2,2) = -4.
  EXPECT_TRUE(strata::allclose(F::conv2d(x, w, {}, 2, 1), Tensor({1, 1, 2, 2}, {-1, -3, -7, -4}), 0, 0));
  // Unbatched in, unbatched out.
  EXPECT_TRUE(strata::allclose(F::conv2d(x.squeeze(0), w), Tensor({1, 2, 2}, {-4, -4, -4, -4}), 0, 0));
}

TYPED_TEST(FunctionalConvTest, HandComputedConv1dGroupsAndDilation) {
  using Tensor = typename TestFixture::Tensor;
  // Two groups of one channel each: channel 0 sums taps 0 and 2 (dilation 2), channel 1 doubles them.
  const Tensor x({1, 2, 5}, {1, 2, 3, 4, 5, 10, 20, 30, 40, 50});
  const Tensor w({2, 1, 2}, {1, 1, 2, 2});
  const Tensor y = F::conv1d(x, w, Tensor(), 1, 0, 2, 2);
  EXPECT_TRUE(strata::allclose(y, Tensor({1, 2, 3}, {4, 6, 8, 80, 120, 160}), 0, 0));
}

TYPED_TEST(FunctionalConvTest, ArgumentFormsAndDefaults) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(7);
  const Tensor x = Tensor::randn({2, 3, 9, 8}, gen);
  const Tensor w = Tensor::randn({4, 3, 3, 2}, gen);
  const Tensor b = Tensor::randn({4}, gen);
  EXPECT_EQ(strata::max_abs_diff(F::conv2d(x, w), F::conv2d(x, w, Tensor(), 1, 0, 1, 1)), TypeParam(0));
  EXPECT_EQ(strata::max_abs_diff(F::conv2d(x, w, b, 2), F::conv2d(x, w, b, {2, 2})), TypeParam(0));
  EXPECT_EQ(strata::max_abs_diff(F::conv2d(x, w, b, 1, strata::kValid), F::conv2d(x, w, b)), TypeParam(0));
  EXPECT_EQ(F::conv2d(x, w, b, 1, strata::kSame).shape(), (Shape{2, 4, 9, 8}));
  EXPECT_EQ(F::conv2d(x, w, b, 1, strata::kSame, {2, 3}).shape(), (Shape{2, 4, 9, 8}));
  EXPECT_EQ(F::conv2d(x, w, b, {2, 1}, {1, 0}, {1, 2}).shape(), (Shape{2, 4, 5, 6}));
  const Tensor x1 = Tensor::randn({2, 3, 10}, gen);
  const Tensor w1 = Tensor::randn({6, 1, 4}, gen);
  EXPECT_EQ(F::conv1d(x1, w1, Tensor(), 1, strata::kSame, 1, 3).shape(), (Shape{2, 6, 10}));
  EXPECT_EQ(F::conv1d(x1.narrow(0, 0, 1).squeeze(0), w1, Tensor(), 3, 2, 1, 3).shape(), (Shape{6, 4}));
}

TYPED_TEST(FunctionalConvTest, AgreesWithTheLayer) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(8);
  strata::nn::Conv2d<TypeParam> conv(
      strata::nn::Conv2dOptions(4, 6, {3, 2}).stride({1, 2}).padding(strata::kValid).dilation({2, 1}).groups(2));
  const Tensor x = Tensor::randn({3, 4, 9, 9}, gen);
  EXPECT_EQ(strata::max_abs_diff(conv(x), F::conv2d(x, conv.weight(), conv.bias(), {1, 2}, 0, {2, 1}, 2)),
            TypeParam(0));
  strata::nn::Conv1d<TypeParam> conv1(strata::nn::Conv1dOptions(2, 3, 4).padding(strata::kSame).bias(false));
  const Tensor x1 = Tensor::randn({2, 7}, gen);
  EXPECT_EQ(strata::max_abs_diff(conv1(x1), F::conv1d(x1, conv1.weight(), Tensor(), 1, strata::kSame)), TypeParam(0));
}

TYPED_TEST(FunctionalConvTest, MatchesNaiveReference) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(9);
  int checked = 0;
  for (index_t groups : {1, 2})
    for (index_t stride : {1, 2})
      for (index_t padding : {0, 2})
        for (index_t dilation : {1, 2})
          for (index_t k : {1, 3}) {
            SCOPED_TRACE(::testing::Message() << "groups " << groups << " stride " << stride << " padding " << padding
                                              << " dilation " << dilation << " kernel " << k);
            const Tensor x = Tensor::randn({2, 4, 8, 7}, gen);
            const Tensor w = Tensor::randn({6, 4 / groups, k, k + 1}, gen);
            const Tensor b = Tensor::randn({6}, gen);
            const std::array<index_t, 2> s{stride, stride}, p{padding, padding}, d{dilation, dilation};
            EXPECT_TRUE(strata_test::matches_reference(
                F::conv2d(x, w, b, stride, padding, dilation, groups),
                strata_test::reference_conv<2, TypeParam>(x, w, b, s, p, p, d, groups, strata::kZeros)));
            const Tensor x1 = Tensor::randn({2, 4, 9}, gen);
            const Tensor w1 = Tensor::randn({6, 4 / groups, k}, gen);
            const std::array<index_t, 1> s1{stride}, p1{padding}, d1{dilation};
            EXPECT_TRUE(strata_test::matches_reference(
                F::conv1d(x1, w1, Tensor(), stride, padding, dilation, groups),
                strata_test::reference_conv<1, TypeParam>(x1, w1, Tensor(), s1, p1, p1, d1, groups, strata::kZeros)));
            ++checked;
          }
  EXPECT_EQ(checked, 32);
}

TYPED_TEST(FunctionalConvTest, DetailEntryPointAppliesPaddingModes) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(10);
  const Tensor x = Tensor::randn({2, 2, 5, 6}, gen);
  const Tensor w = Tensor::randn({3, 2, 3, 4}, gen);
  const Tensor b = Tensor::randn({3}, gen);
  const std::array<index_t, 2> stride{1, 2}, before{1, 3}, after{2, 0}, dilation{1, 1};
  for (strata::PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular}) {
    const Tensor y =
        strata::detail::conv_forward<2, TypeParam>("conv2d", x, w, b, stride, {before, after}, dilation, 1, mode);
    EXPECT_TRUE(strata_test::matches_reference(
        y, strata_test::reference_conv<2, TypeParam>(x, w, b, stride, before, after, dilation, 1, mode)));
  }
}

TYPED_TEST(FunctionalConvTest, Errors) {
  using Tensor = typename TestFixture::Tensor;
  const Tensor x = Tensor::zeros({1, 2, 5, 5});
  const Tensor w = Tensor::zeros({2, 2, 3, 3});
  EXPECT_THROW_WITH(F::conv2d(Tensor(), w), strata::Error, "conv2d: the input is undefined");
  EXPECT_THROW_WITH(F::conv2d(x, Tensor()), strata::Error, "conv2d: the weight is undefined");
  EXPECT_THROW_WITH(F::conv2d(x, Tensor::zeros({2, 2, 3})), strata::Error,
                    "conv2d: expected a 4-D weight (out_channels, in_channels/groups, kH, kW) with positive sizes, "
                    "got shape [2, 2, 3]");
  EXPECT_THROW_WITH(F::conv1d(Tensor::zeros({1, 2, 5}), Tensor::zeros({2, 2, 0})), strata::Error,
                    "conv1d: expected a 3-D weight (out_channels, in_channels/groups, kL) with positive sizes, got "
                    "shape [2, 2, 0]");
  EXPECT_THROW_WITH(F::conv2d(Tensor::zeros({2, 5}), w), strata::Error,
                    "conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [2, 5]");
  EXPECT_THROW_WITH(F::conv1d(x, Tensor::zeros({2, 2, 3})), strata::Error,
                    "conv1d: expected 3-D input (N, C, L) or 2-D (C, L), got shape [1, 2, 5, 5]");
  EXPECT_THROW_WITH(F::conv2d(Tensor::zeros({1, 3, 5, 5}), w), strata::Error,
                    "conv2d: Given groups=1, weight of size [2, 2, 3, 3], expected input[1, 3, 5, 5] to have 2 "
                    "channels, but got 3 channels instead");
  EXPECT_THROW_WITH(F::conv2d(Tensor::zeros({1, 3, 5, 5}), w, Tensor(), 1, 0, 1, 2), strata::Error,
                    "Given groups=2, weight of size [2, 2, 3, 3], expected input[1, 3, 5, 5] to have 4 channels, but "
                    "got 3 channels instead");
  EXPECT_THROW_WITH(F::conv2d(Tensor::zeros({1, 9, 5, 5}), Tensor::zeros({2, 3, 3, 3}), Tensor(), 1, 0, 1, 3),
                    strata::Error,
                    "conv2d: expected weight to be divisible by 3 (groups) at dimension 0, got weight of size [2, 3, "
                    "3, 3] (out_channels must be divisible by groups)");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor::zeros({3})), strata::Error,
                    "conv2d: expected bias of shape [2] (out_channels), got shape [3]");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor::zeros({1, 2})), strata::Error, "got shape [1, 2]");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor(), 1, 0, 1, 0), strata::Error,
                    "conv2d: groups must be a positive integer, got groups=0");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor(), {1, 2}, strata::kSame), strata::Error,
                    "conv2d: padding='same' is not supported for strided convolutions, got stride=[1, 2]");
  EXPECT_THROW_WITH(F::conv1d(Tensor::zeros({1, 2, 5}), Tensor::zeros({2, 2, 3}), Tensor(), 0), strata::Error,
                    "conv1d: expected stride >= 1 in every dimension, got stride=0 (non-positive stride is not "
                    "supported)");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor(), 1, 0, {1, 0}), strata::Error,
                    "conv2d: expected dilation >= 1 in every dimension, got dilation=[1, 0] (dilation should be "
                    "greater than zero)");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor(), 1, {-1, 0}), strata::Error,
                    "conv2d: expected padding >= 0 in every dimension, got padding=[-1, 0] (negative padding is not "
                    "supported)");
  EXPECT_THROW_WITH(F::conv2d(Tensor::zeros({1, 2, 2, 5}), w), strata::Error,
                    "conv2d: Calculated padded input size per channel: (2 x 5). Kernel size: (3 x 3). Kernel size "
                    "can't be greater than actual input size");
  EXPECT_THROW_WITH(F::conv2d(x, w, Tensor(), 1, 0, 3), strata::Error, "Kernel size: (7 x 7)");
  // The detail entry point names the asymmetric padding it was given.
  EXPECT_THROW_WITH(
      (strata::detail::conv_forward<1, TypeParam>("Conv1d", Tensor::zeros({1, 2, 5}), Tensor::zeros({2, 2, 3}),
                                                  Tensor(), {1}, {{0}, {-1}}, {1}, 1, strata::kZeros)),
      strata::Error, "got padding=0 before and -1 after (negative padding is not supported)");
}

}  // namespace
