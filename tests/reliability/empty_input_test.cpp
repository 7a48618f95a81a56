// Empty inputs have a right answer, as in torch: a zero batch (N = 0) gives an
// empty output of the right shape from every layer and container, and so do
// zero-size leading dimensions; a zero-size spatial dimension is fine with an
// empty batch and refused with a non-empty one (torch: "Only zero batch or zero
// channel inputs are supported"). Shapes below were checked with torch 1.13.
#include <sstream>
#include <vector>

#include <strata/strata.hpp>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;
namespace F = strata::nn::functional;

constexpr index_t kHugeDim = index_t{1} << 40;  // 2^40: leading dims whose product with 0 is 0

template <typename T>
class EmptyInputTest : public ::testing::Test {
 protected:
  /// Checks that y is defined, has `shape` and no elements.
  static void expect_empty(const Tensor<T>& y, const Shape& shape) {
    ASSERT_TRUE(y.defined());
    EXPECT_EQ(y.shape(), shape);
    EXPECT_EQ(y.numel(), 0);
  }
};
TYPED_TEST_SUITE(EmptyInputTest, strata_test::ScalarTypes);

TYPED_TEST(EmptyInputTest, LinearZeroBatchAndZeroLeadingSizes) {
  using T = TypeParam;
  const Linear<T> fc(3, 4);
  this->expect_empty(fc(Tensor<T>::zeros({0, 3})), Shape{0, 4});        // torch: (0, 4)
  this->expect_empty(fc(Tensor<T>::zeros({2, 0, 3})), Shape{2, 0, 4});  // torch: (2, 0, 4)
  this->expect_empty(fc(Tensor<T>::zeros({0, 0, 0, 3})), Shape{0, 0, 0, 4});
  // Leading sizes whose product leaves int64 (an empty tensor allows them): no overflow, the right shape.
  this->expect_empty(fc(Tensor<T>::zeros({kHugeDim, kHugeDim, 0, 3})), Shape{kHugeDim, kHugeDim, 0, 4});
  this->expect_empty(F::linear(Tensor<T>::zeros({0, 3}), fc.weight(), fc.bias()), Shape{0, 4});
  // A permuted empty view.
  this->expect_empty(fc(Tensor<T>::zeros({3, 0}).transpose(0, 1)), Shape{0, 4});
}

TYPED_TEST(EmptyInputTest, LinearWithZeroInFeaturesGivesTheBias) {
  // torch: F.linear(randn(2, 0), randn(4, 0), ones(4)) is ones(2, 4): an empty sum plus the bias.
  using T = TypeParam;
  const Tensor<T> bias({4}, {1, 2, 3, 4});
  const Tensor<T> y = F::linear(Tensor<T>::zeros({2, 0}), Tensor<T>::zeros({4, 0}), bias);
  ASSERT_EQ(y.shape(), (Shape{2, 4}));
  for (index_t i = 0; i < 2; ++i)
    for (index_t j = 0; j < 4; ++j) EXPECT_EQ(y(i, j), bias(j));
  EXPECT_EQ(F::linear(Tensor<T>::zeros({3, 0}), Tensor<T>::zeros({2, 0})).sum(), T(0));
}

TYPED_TEST(EmptyInputTest, LazyLinearInitialisedByAnEmptyBatch) {
  using T = TypeParam;
  LazyLinear<T> lazy(5);
  this->expect_empty(lazy(Tensor<T>::zeros({0, 7})), Shape{0, 5});
  EXPECT_EQ(lazy.in_features(), 7);
  EXPECT_EQ(lazy.weight().shape(), (Shape{5, 7}));
}

TYPED_TEST(EmptyInputTest, BilinearZeroBatch) {
  using T = TypeParam;
  const Bilinear<T> bl(3, 2, 4);
  this->expect_empty(bl(Tensor<T>::zeros({0, 3}), Tensor<T>::zeros({0, 2})), Shape{0, 4});  // torch: (0, 4)
  this->expect_empty(bl(Tensor<T>::zeros({2, 0, 3}), Tensor<T>::zeros({2, 0, 2})), Shape{2, 0, 4});
  this->expect_empty(bl(Tensor<T>::zeros({kHugeDim, kHugeDim, 0, 3}), Tensor<T>::zeros({kHugeDim, kHugeDim, 0, 2})),
                     Shape{kHugeDim, kHugeDim, 0, 4});
  this->expect_empty(F::bilinear(Tensor<T>::zeros({0, 3}), Tensor<T>::zeros({0, 2}), bl.weight()), Shape{0, 4});
}

TYPED_TEST(EmptyInputTest, ConvZeroBatchEveryPaddingMode) {
  using T = TypeParam;
  for (PaddingMode mode : {kZeros, kReflect, kReplicate, kCircular}) {
    SCOPED_TRACE(padding_mode_name(mode));
    const Conv1d<T> c1(Conv1dOptions(3, 4, 3).padding(1).padding_mode(mode));
    this->expect_empty(c1(Tensor<T>::zeros({0, 3, 5})), Shape{0, 4, 5});
    const Conv2d<T> c2(Conv2dOptions(3, 4, 3).stride(2).padding_mode(mode));
    this->expect_empty(c2(Tensor<T>::zeros({0, 3, 5, 5})), Shape{0, 4, 2, 2});  // torch: (0, 4, 2, 2)
  }
  const Conv1d<T> plain(Conv1dOptions(3, 4, 3));
  this->expect_empty(plain(Tensor<T>::zeros({0, 3, 5})), Shape{0, 4, 3});  // torch: (0, 4, 3)
  const Conv2d<T> same(Conv2dOptions(4, 6, {3, 2}).padding(kSame).groups(2));
  this->expect_empty(same(Tensor<T>::zeros({0, 4, 7, 7})), Shape{0, 6, 7, 7});
  const Conv2d<T> pointwise(Conv2dOptions(4, 2, 1));
  this->expect_empty(pointwise(Tensor<T>::zeros({0, 4, 3, 3})), Shape{0, 2, 3, 3});
  this->expect_empty(F::conv2d(Tensor<T>::zeros({0, 4, 6, 6}), same.weight(), same.bias(), 1, 1, 1, 2),
                     Shape{0, 6, 6, 7});
}

TYPED_TEST(EmptyInputTest, ConvZeroSpatialSize) {
  using T = TypeParam;
  // An empty batch with an empty length: zero padding makes room for the kernel (torch: (0, 4, 2)).
  const Conv1d<T> padded(Conv1dOptions(3, 4, 1).padding(1));
  this->expect_empty(padded(Tensor<T>::zeros({0, 3, 0})), Shape{0, 4, 2});
  const Conv2d<T> padded2(Conv2dOptions(3, 4, 1).padding(1));
  this->expect_empty(padded2(Tensor<T>::zeros({0, 3, 0, 3})), Shape{0, 4, 2, 5});  // torch: (0, 4, 2, 5)
  // A non-empty batch with an empty length is refused, as torch does, whatever the padding mode.
  for (PaddingMode mode : {kZeros, kReplicate}) {
    const Conv1d<T> conv(Conv1dOptions(3, 4, 1).padding(1).padding_mode(mode));
    EXPECT_THROW_WITH(conv(Tensor<T>::zeros({2, 3, 0})), strata::Error, "Only zero batch or zero channel inputs");
  }
  EXPECT_THROW_WITH(padded2(Tensor<T>::zeros({3, 0, 3})), strata::Error,
                    "Conv2d: expected non-empty spatial dimensions for a non-empty batch, got input [1, 3, 0, 3]");
  // Without padding the kernel cannot fit: torch's kernel-size message comes first.
  EXPECT_THROW_WITH(Conv1d<T>(3, 4, 1)(Tensor<T>::zeros({2, 3, 0})), strata::Error,
                    "Calculated padded input size per channel: (0). Kernel size: (1)");
  EXPECT_EQ(conv_output_shape(Conv1dOptions(3, 4, 1).padding(1), Shape{0, 3, 0}), (Shape{0, 4, 2}));
}

TYPED_TEST(EmptyInputTest, SequentialAndParameterFreeLayers) {
  using T = TypeParam;
  const Sequential<T> net(Conv1d<T>(Conv1dOptions(2, 8, 5).padding(2)), ReLU<T>(), Flatten<T>(), Linear<T>(8 * 16, 10),
                          Identity<T>(), Linear<T>(10, 3));
  this->expect_empty(net(Tensor<T>::zeros({0, 2, 16})), Shape{0, 3});
  this->expect_empty(ReLU<T>()(Tensor<T>::zeros({0, 5})), Shape{0, 5});
  this->expect_empty(Flatten<T>()(Tensor<T>::zeros({0, 3, 4})), Shape{0, 12});  // torch: (0, 12)
  this->expect_empty(Flatten<T>(0)(Tensor<T>::zeros({3, 0, 2})), Shape{0});
  this->expect_empty(Identity<T>()(Tensor<T>::zeros({0})), Shape{0});
  this->expect_empty(Sequential<T>()(Tensor<T>::zeros({0, 1})), Shape{0, 1});
}

TYPED_TEST(EmptyInputTest, HugeSizesNextToAZero) {
  // An empty tensor's other sizes may multiply past int64; nothing may
  // compute that product (found by the fuzzer: the strides of the empty
  // output of a convolution with a 2^40 padding overflowed).
  using T = TypeParam;
  const Tensor<T> e = Tensor<T>::zeros({kHugeDim, kHugeDim, 0, 3});
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.is_contiguous());
  this->expect_empty(e.unsqueeze(1), Shape{kHugeDim, 1, kHugeDim, 0, 3});
  this->expect_empty(e.narrow(1, kHugeDim - 1, 1), Shape{kHugeDim, 1, 0, 3});
  this->expect_empty(e.permute({3, 2, 1, 0}).contiguous(), Shape{3, 0, kHugeDim, kHugeDim});
  this->expect_empty(e.reshape({0}), Shape{0});
  this->expect_empty(Tensor<T>::empty({0, 1, kHugeDim, kHugeDim}).clone(), Shape{0, 1, kHugeDim, kHugeDim});
  // The fuzzer's case: an empty batch through a convolution whose padding makes each output plane 2^79 large.
  const Conv2d<T> conv(Conv2dOptions(1, 1, 3).stride(3).dilation({2, 3}).padding(kHugeDim));
  this->expect_empty(conv(Tensor<T>::zeros({0, 1, 11, 11})), Shape{0, 1, 733007751853, 733007751853});
  EXPECT_EQ(conv_output_shape(conv.options(), Shape{0, 1, 11, 11}), (Shape{0, 1, 733007751853, 733007751853}));
}

TYPED_TEST(EmptyInputTest, TensorOperations) {
  using T = TypeParam;
  const Tensor<T> e = Tensor<T>::zeros({0, 3});
  EXPECT_EQ(e.sum(), T(0));
  EXPECT_TRUE(std::isnan(e.mean()));  // torch: nan
  this->expect_empty(e.clone(), Shape{0, 3});
  this->expect_empty(e.transpose(0, 1).contiguous(), Shape{3, 0});
  this->expect_empty(e.reshape({3, 0}), Shape{3, 0});
  this->expect_empty(e.narrow(1, 1, 0), Shape{0, 0});
  this->expect_empty(Tensor<T>::arange(0), Shape{0});
  this->expect_empty(Tensor<T>(Shape{0, 2}, {}), Shape{0, 2});
  this->expect_empty(Tensor<T>::empty({kHugeDim, 0, kHugeDim}), Shape{kHugeDim, 0, kHugeDim});
  EXPECT_TRUE(strata::allclose(e, e));
  EXPECT_EQ(strata::max_abs_diff(e, e), T(0));
  Tensor<T> target = Tensor<T>::zeros({0, 3});
  target.copy_(e).fill_(T(1));
  std::ostringstream printed;
  printed << Tensor<float>::zeros({0, 3});
  EXPECT_EQ(printed.str(), "tensor([], size=(0, 3))");  // torch prints the same
}

}  // namespace
