// Tests for strata/nn/conversions.hpp: Linear <-> 1x1 / global convolutions
// compute the same map, with the same parameter counts, and round-trip.
#include <strata/nn/conversions.hpp>

#include "test_util.hpp"

namespace {

using strata::Shape;
using strata::Tensor;
using strata::nn::Conv1d;
using strata::nn::Conv1dOptions;
using strata::nn::Conv2d;
using strata::nn::Conv2dOptions;
using strata::nn::Linear;

template <typename T>
class Conversions : public ::testing::Test {
 protected:
  void SetUp() override { strata::manual_seed(2024); }
  strata::Generator gen_{17};
};
TYPED_TEST_SUITE(Conversions, strata_test::ScalarTypes);

// A float result is a sum of `in` products of O(1) values; both paths run the
// same GEMM shapes in a different order, so they agree to a few ulps * in.
template <typename T>
double equivalence_tolerance(strata::index_t in) {
  return strata_test::tolerance<T>(0.5) * static_cast<double>(in);
}

TYPED_TEST(Conversions, LinearAndConv1dWithSharedWeightsAgree) {
  // The classic comparison: Linear(8, 32) on [128, 256, 8] and Conv1d(8, 32, 1)
  // on its permute [128, 8, 256], the conv weight being the linear weight
  // with a trailing kernel dimension (torch: conv.weight = fc.weight.unsqueeze(2)).
  Linear<TypeParam> fc(8, 32);
  Conv1d<TypeParam> conv(Conv1dOptions(8, 32, 1));
  conv.weight().copy_(fc.weight().unsqueeze(2));
  conv.bias().copy_(fc.bias());
  EXPECT_EQ(fc.num_parameters(), 288);
  EXPECT_EQ(conv.num_parameters(), 288);
  EXPECT_TRUE(strata::allclose(conv.weight().squeeze(2), fc.weight(), 0, 0));

  const auto x = Tensor<TypeParam>::randn({128, 256, 8}, this->gen_);
  const auto y_fc = fc(x);                                  // [128, 256, 32]
  const auto y_conv = conv(x.permute({0, 2, 1}));           // [128, 32, 256]
  ASSERT_EQ(y_conv.shape(), (Shape{128, 32, 256}));
  EXPECT_LE(strata::max_abs_diff(y_conv.permute({0, 2, 1}).contiguous(), y_fc), equivalence_tolerance<TypeParam>(8));
}

TYPED_TEST(Conversions, ToConv1dAndBackRoundTrip) {
  for (bool bias : {true, false}) {
    Linear<TypeParam> fc(5, 7, bias);
    const Conv1d<TypeParam> conv = strata::nn::to_conv1d(fc);
    EXPECT_EQ(conv.options().in_channels(), 5);
    EXPECT_EQ(conv.options().out_channels(), 7);
    EXPECT_EQ(conv.options().kernel_size()[0], 1);
    EXPECT_EQ(conv.options().bias(), bias);
    EXPECT_EQ(conv.weight().shape(), (Shape{7, 5, 1}));
    EXPECT_EQ(conv.num_parameters(), fc.num_parameters());
    EXPECT_FALSE(conv.weight().shares_storage_with(fc.weight()));  // copies, not aliases

    const auto x = Tensor<TypeParam>::randn({3, 5, 11}, this->gen_);
    const auto expected = fc(x.permute({0, 2, 1})).permute({0, 2, 1}).contiguous();
    EXPECT_LE(strata::max_abs_diff(conv(x), expected), equivalence_tolerance<TypeParam>(5));

    const Linear<TypeParam> back = strata::nn::to_linear(conv);
    EXPECT_EQ(strata::max_abs_diff(back.weight(), fc.weight()), TypeParam(0));
    EXPECT_EQ(back.bias().defined(), bias);
    if (bias) {
      EXPECT_EQ(strata::max_abs_diff(back.bias(), fc.bias()), TypeParam(0));
    }
  }
}

TYPED_TEST(Conversions, Conv2d1x1IsALinearOverChannels) {
  Linear<TypeParam> fc(6, 4);
  Conv2d<TypeParam> conv(Conv2dOptions(6, 4, 1));
  conv.weight().copy_(fc.weight().reshape({4, 6, 1, 1}));
  conv.bias().copy_(fc.bias());
  EXPECT_EQ(conv.num_parameters(), fc.num_parameters());
  const auto x = Tensor<TypeParam>::randn({2, 6, 5, 3}, this->gen_);
  const auto expected = fc(x.permute({0, 2, 3, 1})).permute({0, 3, 1, 2}).contiguous();  // NHWC linear, back to NCHW
  EXPECT_LE(strata::max_abs_diff(conv(x), expected), equivalence_tolerance<TypeParam>(6));
}

TYPED_TEST(Conversions, FullyConnectedAsGlobalConvolution) {
  // VGG's head in small: a C x 7 x 7 feature map through Linear(C*7*7, out)
  // and through Conv2d(C, out, 7), then a second FC as a 1x1 convolution.
  const strata::index_t C = 8, K = 7, hidden = 16, classes = 5;
  Linear<TypeParam> fc1(C * K * K, hidden), fc2(hidden, classes);
  const Conv2d<TypeParam> conv1 = strata::nn::to_conv2d(fc1, K, K);
  const Conv2d<TypeParam> conv2 = strata::nn::to_conv2d(fc2, 1, 1);
  EXPECT_EQ(conv1.weight().shape(), (Shape{hidden, C, K, K}));
  EXPECT_EQ(conv1.num_parameters(), fc1.num_parameters());

  const auto features = Tensor<TypeParam>::randn({3, C, K, K}, this->gen_);
  const auto y_fc = fc2(fc1(features.reshape({3, -1})));
  const auto y_conv = conv2(conv1(features));
  ASSERT_EQ(y_conv.shape(), (Shape{3, classes, 1, 1}));
  EXPECT_LE(strata::max_abs_diff(y_conv.reshape({3, classes}), y_fc), equivalence_tolerance<TypeParam>(C * K * K));

  // On a larger map the same conv slides: every 7x7 window is one FC evaluation.
  const auto big = Tensor<TypeParam>::randn({1, C, K + 2, K + 1}, this->gen_);
  const auto slid = conv1(big);
  ASSERT_EQ(slid.shape(), (Shape{1, hidden, 3, 2}));
  const auto window = big.narrow(2, 2, K).narrow(3, 1, K).contiguous().reshape({1, -1});
  const auto expected = fc1(window);
  for (strata::index_t o = 0; o < hidden; ++o) EXPECT_NEAR(slid(0, o, 2, 1), expected(0, o), equivalence_tolerance<TypeParam>(C * K * K));
}

TYPED_TEST(Conversions, DrawNothingFromTheDefaultGenerator) {
  // The converted layer's parameters are copies, so building it must not
  // consume random numbers (nor spend time drawing VGG-sized weights).
  const Linear<TypeParam> fc(12, 3);
  strata::manual_seed(5);
  const Conv1d<TypeParam> conv1 = strata::nn::to_conv1d(fc);
  const Conv2d<TypeParam> conv2 = strata::nn::to_conv2d(fc, 2, 2);
  const Linear<TypeParam> back = strata::nn::to_linear(conv1);
  const auto after = Tensor<TypeParam>::randn({4}, strata::default_generator());
  strata::manual_seed(5);
  const auto expected = Tensor<TypeParam>::randn({4}, strata::default_generator());
  EXPECT_EQ(strata::max_abs_diff(after, expected), TypeParam(0));
  EXPECT_EQ(strata::max_abs_diff(conv2.weight().reshape({3, 12}), fc.weight()), TypeParam(0));
}

TYPED_TEST(Conversions, RefusesConvolutionsThatAreNotPerPositionMaps) {
  const Conv1d<TypeParam> k3(Conv1dOptions(4, 4, 3));
  EXPECT_THROW_WITH(strata::nn::to_linear(k3), strata::Error,
                    "to_linear: expected a Conv1d with kernel_size=1, stride=1, padding=0 and groups=1, got "
                    "strata::nn::Conv1d(4, 4, kernel_size=3");
  EXPECT_THROW_WITH(strata::nn::to_linear(Conv1d<TypeParam>(Conv1dOptions(4, 4, 1).stride(2))), strata::Error,
                    "stride=1");
  EXPECT_THROW_WITH(strata::nn::to_linear(Conv1d<TypeParam>(Conv1dOptions(4, 4, 1).groups(2))), strata::Error,
                    "groups=1");
  EXPECT_THROW_WITH(strata::nn::to_linear(Conv1d<TypeParam>(Conv1dOptions(4, 4, 1).padding(1))), strata::Error,
                    "padding=0");
  EXPECT_NO_THROW(strata::nn::to_linear(Conv1d<TypeParam>(Conv1dOptions(4, 4, 1).padding(strata::nn::kValid))));
  const Linear<TypeParam> fc(50, 3);
  EXPECT_THROW_WITH(strata::nn::to_conv2d(fc, 7, 7), strata::Error,
                    "to_conv2d: expected in_features (50) to be channels * 7 * 7, but it is not a multiple of 49");
  EXPECT_THROW_WITH(strata::nn::to_conv2d(fc, 0, 7), strata::Error, "expected kernel sizes >= 1, got kh=0");
}

}  // namespace
