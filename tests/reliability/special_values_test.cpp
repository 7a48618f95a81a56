// NaN and infinities propagate as in torch, with no crash and no silent
// finite garbage: an output is NaN exactly when its exact sum involves a NaN,
// inf - inf or 0 * inf, and +-inf when it involves only infinities of one sign.
// The hand-written cases were checked against torch 1.13 (values in comments);
// the padding-mode cases compare the NaN/Inf pattern and the finite values with
// the naive reference of tests/reference_conv.hpp.
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include <strata/strata.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;
namespace F = strata::nn::functional;

template <typename T>
class SpecialValuesTest : public ::testing::Test {
 protected:
  static constexpr T nan = std::numeric_limits<T>::quiet_NaN();
  static constexpr T inf = std::numeric_limits<T>::infinity();

  /// Elementwise: NaN where expected is NaN, else equal (infinities included).
  static void expect_same(const Tensor<T>& got, const Tensor<T>& expected) {
    ASSERT_EQ(got.shape(), expected.shape());
    const std::vector<double> g = strata_test::reference_values(got), e = strata_test::reference_values(expected);
    for (std::size_t i = 0; i < g.size(); ++i) {
      if (std::isnan(e[i])) {
        EXPECT_TRUE(std::isnan(g[i])) << "element " << i << " is " << g[i] << ", expected nan";
      } else {
        EXPECT_EQ(g[i], e[i]) << "element " << i;
      }
    }
  }
};
TYPED_TEST_SUITE(SpecialValuesTest, strata_test::ScalarTypes);

TYPED_TEST(SpecialValuesTest, ConvLikeTorch) {
  using T = TypeParam;
  const T nan = this->nan, inf = this->inf;
  // torch: F.conv1d(tensor([[[1, nan, 2, 3, 4]]]), ones(1, 1, 2)) == [[[nan, nan, 5, 7]]]
  this->expect_same(F::conv1d(Tensor<T>({1, 1, 5}, {1, nan, 2, 3, 4}), Tensor<T>::ones({1, 1, 2})),
                    Tensor<T>({1, 1, 4}, {nan, nan, 5, 7}));
  // torch: F.conv1d(tensor([[[1, inf, 2, 3, 4]]]), tensor([[[1, -1]]])) == [[[-inf, inf, -1, -1]]]
  this->expect_same(F::conv1d(Tensor<T>({1, 1, 5}, {1, inf, 2, 3, 4}), Tensor<T>({1, 1, 2}, {1, -1})),
                    Tensor<T>({1, 1, 4}, {-inf, inf, -1, -1}));
  // inf - inf in one window: nan.
  this->expect_same(F::conv1d(Tensor<T>({1, 1, 3}, {inf, -inf, 1}), Tensor<T>::ones({1, 1, 2})),
                    Tensor<T>({1, 1, 2}, {nan, -inf}));
  // A NaN weight poisons its whole output channel (no padding: every output reads every tap); the other stays finite.
  Tensor<T> w = Tensor<T>::ones({2, 1, 2});
  w(1, 0, 1) = nan;
  const Tensor<T> y = F::conv1d(Tensor<T>({1, 1, 4}, {1, 2, 3, 4}), w, Tensor<T>({2}, {0, 1}));
  this->expect_same(y, Tensor<T>({1, 2, 3}, {3, 5, 7, nan, nan, nan}));
  // A NaN bias: its channel only.
  this->expect_same(F::conv2d(Tensor<T>::ones({1, 1, 2, 2}), Tensor<T>::ones({2, 1, 1, 1}), Tensor<T>({2}, {nan, 1})),
                    Tensor<T>({1, 2, 2, 2}, {nan, nan, nan, nan, 2, 2, 2, 2}));
}

TYPED_TEST(SpecialValuesTest, ConvPaddingModesCarryNaNIntoThePadding) {
  // reflect / replicate / circular padding copies input values, NaN included,
  // into the padding; zero padding adds zeros. Checked against the naive reference.
  using T = TypeParam;
  const T nan = this->nan, inf = this->inf;
  for (PaddingMode mode : {kZeros, kReflect, kReplicate, kCircular}) {
    SCOPED_TRACE(padding_mode_name(mode));
    Conv2d<T> conv(Conv2dOptions(1, 2, 3).padding(2).padding_mode(mode));
    conv.weight().copy_(Tensor<T>::arange(18).reshape({2, 1, 3, 3}));
    Tensor<T> x = Tensor<T>::ones({1, 1, 5, 6});
    x(0, 0, 0, 1) = nan;  // next to the top edge: reflected into the padding
    x(0, 0, 4, 5) = inf;  // in the corner: replicated and wrapped
    x(0, 0, 2, 0) = -inf;
    const Tensor<T> y = conv(x);
    const strata_test::ReferenceConv ref =
        strata_test::reference_conv<2, T>(x, conv.weight(), conv.bias(), {1, 1}, {2, 2}, {2, 2}, {1, 1}, 1, mode);
    ASSERT_EQ(y.shape(), ref.shape);
    const std::vector<double> got = strata_test::reference_values(y);
    int nans = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      if (std::isnan(ref.values[i])) {
        ++nans;
        EXPECT_TRUE(std::isnan(got[i])) << "element " << i << " is " << got[i];
      } else if (std::isinf(ref.values[i])) {
        EXPECT_EQ(got[i], ref.values[i]) << "element " << i;
      } else {
        EXPECT_NEAR(got[i], ref.values[i], strata_test::reference_tolerance<T>(ref.magnitudes[i], ref.reduction))
            << "element " << i;
      }
    }
    EXPECT_GT(nans, 0);  // the case does exercise NaN
  }
}

TYPED_TEST(SpecialValuesTest, LinearAndBilinearLikeTorch) {
  using T = TypeParam;
  const T nan = this->nan, inf = this->inf;
  // torch: F.linear(tensor([[inf, 1.]]), eye(2)) == [[inf, nan]]  (inf * 0 is nan)
  this->expect_same(F::linear(Tensor<T>({1, 2}, {inf, 1}), Tensor<T>({2, 2}, {1, 0, 0, 1})),
                    Tensor<T>({1, 2}, {inf, nan}));
  // A NaN in one input row poisons that row only, on every kernel path (skinny, few rows, general).
  for (index_t rows : {3, 6, 40}) {
    for (index_t in : {2, 64}) {
      SCOPED_TRACE(::testing::Message() << rows << " rows, in_features " << in);
      const Linear<T> fc(in, 5);
      Tensor<T> x = Tensor<T>::ones({rows, in});
      x(1, in - 1) = nan;
      const Tensor<T> y = fc(x);
      for (index_t r = 0; r < rows; ++r)
        for (index_t c = 0; c < 5; ++c) EXPECT_EQ(std::isnan(y(r, c)), r == 1) << r << ", " << c;
    }
  }
  // A NaN weight row poisons its output column.
  Linear<T> fc(3, 4);
  fc.weight()(2, 0) = nan;
  const Tensor<T> y = fc(Tensor<T>::ones({5, 3}));
  for (index_t r = 0; r < 5; ++r)
    for (index_t c = 0; c < 4; ++c) EXPECT_EQ(std::isnan(y(r, c)), c == 2);
  // Bilinear: NaN in x1's row 0 gives a NaN row 0; +inf times positive weights stays +inf.
  Bilinear<T> bl(2, 2, 1, false);
  bl.weight().fill_(T(1));
  const Tensor<T> z = bl(Tensor<T>({2, 2}, {nan, 1, inf, 1}), Tensor<T>({2, 2}, {1, 1, 1, 1}));
  this->expect_same(z, Tensor<T>({2, 1}, {nan, inf}));
}

TEST(SpecialValues, FloatOverflowBecomesInfinity) {
  // torch (float32): F.linear(tensor([[3e38, 3e38]]), ones(1, 2)) == [[inf]]; conv likewise.
  const float big = 3e38f;
  EXPECT_EQ(F::linear(Tensor<float>({1, 2}, {big, big}), Tensor<float>::ones({1, 2}))(0, 0),
            std::numeric_limits<float>::infinity());
  EXPECT_EQ(F::conv1d(Tensor<float>({1, 1, 2}, {-big, -big}), Tensor<float>::ones({1, 1, 2}))(0, 0, 0),
            -std::numeric_limits<float>::infinity());
}

TYPED_TEST(SpecialValuesTest, ReluAndTensorHelpers) {
  using T = TypeParam;
  const T nan = this->nan, inf = this->inf;
  // torch: F.relu(tensor([nan, -inf, inf, -0.])) == [nan, 0, inf, -0.]
  const Tensor<T> r = F::relu(Tensor<T>({4}, {nan, -inf, inf, T(-0.0)}));
  EXPECT_TRUE(std::isnan(r(0)));
  EXPECT_EQ(r(1), T(0));
  EXPECT_EQ(r(2), inf);
  EXPECT_EQ(r(3), T(0));
  EXPECT_TRUE(std::signbit(r(3)));
  const Tensor<T> x({3}, {1, nan, inf});
  EXPECT_TRUE(std::isnan(x.sum()));
  EXPECT_EQ(Tensor<T>({2}, {1, inf}).mean(), inf);
  EXPECT_FALSE(strata::allclose(x, x));  // like torch.allclose: NaN is never close
  EXPECT_TRUE(std::isnan(strata::max_abs_diff(x, x)));
  EXPECT_TRUE(strata::allclose(Tensor<T>({1}, {inf}), Tensor<T>({1}, {inf})));
}

TEST(SpecialValues, PrintedLikeTorch) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::ostringstream a, b;
  a << Tensor<float>({3}, {nan, inf, -inf});
  EXPECT_EQ(a.str(), "tensor([nan, inf, -inf])");  // torch: tensor([nan, inf, -inf])
  b << Tensor<float>({2}, {1.5f, nan});
  EXPECT_EQ(b.str(), "tensor([1.5000,    nan])");  // torch: tensor([1.5000,    nan])
}

}  // namespace
