// Tests for strata/nn/functional/pooling.hpp: max_pool1d/2d, avg_pool1d/2d,
// adaptive_avg_pool1d/2d against PyTorch's golden data (every pooling case
// of tests/reference/golden_pool_bn/) and small hand-computed cases; the
// `{}` stride, unbatched and empty inputs, non-contiguous inputs, NaN, and
// every message (torch 1.13's wording, after the function's name).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <strata/nn/functional/pooling.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
namespace F = strata::nn::functional;

template <typename T>
class FunctionalPoolingTest : public ::testing::Test {};
TYPED_TEST_SUITE(FunctionalPoolingTest, strata_test::ScalarTypes);

/// The golden case's option as D ints.
template <std::size_t D>
strata::nn::ExpandingArray<D> fpool_option(const strata_test::GoldenCase& c, const std::string& name) {
  const std::vector<std::int64_t> v = c.ints(name);
  return strata::nn::ExpandingArray<D>(std::vector<index_t>(v.begin(), v.end()));
}

/// The functional call a golden case describes.
template <std::size_t D, typename T>
Tensor<T> fpool_golden_call(const strata_test::GoldenCase& c, const Tensor<T>& x) {
  const std::string& layer = c.layer;
  if (layer.compare(0, 8, "adaptive") == 0) {
    if constexpr (D == 1) return F::adaptive_avg_pool1d(x, fpool_option<1>(c, "output_size"));
    if constexpr (D == 2) return F::adaptive_avg_pool2d(x, fpool_option<2>(c, "output_size"));
  }
  const auto kernel = fpool_option<D>(c, "kernel_size");
  const strata::nn::PoolStride<D> stride =
      c.ints("stride_given")[0] ? strata::nn::PoolStride<D>(fpool_option<D>(c, "stride")) : strata::nn::PoolStride<D>();
  const auto padding = fpool_option<D>(c, "padding");
  const bool ceil = c.ints("ceil_mode")[0] != 0;
  if (layer.compare(0, 3, "max") == 0) {
    const auto dilation = fpool_option<D>(c, "dilation");
    if constexpr (D == 1) return F::max_pool1d(x, kernel, stride, padding, dilation, ceil);
    if constexpr (D == 2) return F::max_pool2d(x, kernel, stride, padding, dilation, ceil);
  }
  const bool include_pad = c.ints("count_include_pad")[0] != 0;
  const index_t divisor = c.ints("divisor_override")[0];
  if constexpr (D == 1) return F::avg_pool1d(x, kernel, stride, padding, ceil, include_pad);
  if constexpr (D == 2) {
    return F::avg_pool2d(x, kernel, stride, padding, ceil, include_pad,
                         divisor != 0 ? std::optional<index_t>(divisor) : std::nullopt);
  }
}

TYPED_TEST(FunctionalPoolingTest, MatchesPyTorchOnEveryGoldenCase) {
  using T = TypeParam;
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  int cases = 0;
  double worst_avg = 0;
  for (const std::string prefix : {"max_pool", "avg_pool", "adaptive_avg_pool"}) {
    for (const strata_test::GoldenCase& c : strata_test::pool_bn_golden_cases(prefix)) {
      if (c.dtype != dtype) continue;
      const Tensor<T> x = strata_test::pool_bn_golden_tensor<T>(c.tensor("input"));
      const bool two_d = c.layer.back() == 'd' && c.layer[c.layer.size() - 2] == '2';
      const Tensor<T> y = two_d ? fpool_golden_call<2, T>(c, x) : fpool_golden_call<1, T>(c, x);
      const Tensor<T> want = strata_test::pool_bn_golden_tensor<T>(c.tensor("output"));
      ASSERT_EQ(y.shape(), want.shape()) << c.name;
      if (prefix == std::string("max_pool")) {
        // The maximum is one of the inputs: equal to torch's, NaN where torch has NaN.
        for (index_t i = 0; i < y.numel(); ++i) {
          const T a = y.data()[i], b = want.data()[i];
          ASSERT_TRUE(std::isnan(b) ? std::isnan(a) : a == b) << c.name << " element " << i << ": " << a << " vs " << b;
        }
      } else {
        const double diff = strata_test::pool_bn_rel_diff(y, strata_test::pool_bn_golden_double(c.tensor("output")));
        worst_avg = std::max(worst_avg, diff);
        ASSERT_LE(diff, sizeof(T) == 4 ? 4e-7 : 1e-15) << c.name;
      }
      ++cases;
    }
  }
  EXPECT_GT(cases, 100);
  std::printf("[ golden ] %d pooling cases in %s, averages within %.3g of torch (relative)\n", cases, dtype.c_str(),
              worst_avg);
}

TYPED_TEST(FunctionalPoolingTest, HandComputedWindows) {
  using T = TypeParam;
  // 1 x 4 x 4 plane of 0..15.
  const Tensor<T> x = Tensor<T>::arange(16).reshape({1, 1, 4, 4});
  const auto m = F::max_pool2d(x, 2);
  EXPECT_EQ(m.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(m(0, 0, 0, 0), T(5));
  EXPECT_EQ(m(0, 0, 1, 1), T(15));
  // Kernel 3, stride 2, padding 1: windows [-1, 1] and [1, 3] in each dimension.
  const auto stem = F::max_pool2d(x, 3, 2, 1);
  EXPECT_EQ(stem.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(stem(0, 0, 0, 0), T(5));
  EXPECT_EQ(stem(0, 0, 0, 1), T(7));
  // Average 2x2: mean of 0, 1, 4, 5.
  EXPECT_EQ(F::avg_pool2d(x, 2)(0, 0, 0, 0), T(2.5));
  // count_include_pad: window at (-1, -1) of kernel 2 holds x[0][0] = 0 and three zeros of padding.
  const auto padded = F::avg_pool2d(x + T(4), 2, 2, 1);
  EXPECT_EQ(padded(0, 0, 0, 0), T(1));  // 4 / 4
  EXPECT_EQ(F::avg_pool2d(x + T(4), 2, 2, 1, false, false)(0, 0, 0, 0), T(4));
  EXPECT_EQ(F::avg_pool2d(x, 2, {}, 0, false, true, 2)(0, 0, 0, 0), T(5));  // 10 / 2
  // Adaptive 4 -> 3: windows [0, 2), [1, 3), [2, 4).
  const auto a = F::adaptive_avg_pool1d(Tensor<T>::arange(4).reshape({1, 4}), 3);
  EXPECT_EQ(a.shape(), (Shape{1, 3}));
  EXPECT_EQ(a(0, 1), T(1.5));
  // Larger than the input: 2 -> 5.
  const auto up = F::adaptive_avg_pool1d(Tensor<T>({1, 1, 2}, {2, 4}), 5);
  const std::vector<T> expected{2, 2, 3, 4, 4};
  for (index_t i = 0; i < 5; ++i) EXPECT_EQ(up(0, 0, i), expected[i]) << i;
}

TYPED_TEST(FunctionalPoolingTest, StrideDefaultsToTheKernelSize) {
  using T = TypeParam;
  strata::Generator gen(31);
  const auto x = Tensor<T>::randn({2, 3, 9, 10}, gen);
  EXPECT_TRUE(strata_test::same_bits(F::max_pool2d(x, 3), F::max_pool2d(x, 3, 3)));
  EXPECT_TRUE(strata_test::same_bits(F::max_pool2d(x, {3, 2}, {}, {1, 0}), F::max_pool2d(x, {3, 2}, {3, 2}, {1, 0})));
  EXPECT_TRUE(strata_test::same_bits(F::avg_pool2d(x, 2, {}), F::avg_pool2d(x, 2, 2)));
  const auto v = Tensor<T>::randn({2, 3, 11}, gen);
  EXPECT_EQ(F::max_pool1d(v, 3).shape(), (Shape{2, 3, 3}));
  EXPECT_EQ(F::avg_pool1d(v, 3, {}, 1).shape(), (Shape{2, 3, 4}));
  EXPECT_FALSE(strata::nn::PoolStride<2>().has_value());
  EXPECT_EQ(strata::nn::PoolStride<2>({}).value_or(5), strata::nn::ExpandingArray<2>(5));
  EXPECT_EQ(strata::nn::PoolStride<2>({2, 1}).value_or(5), (strata::nn::ExpandingArray<2>{2, 1}));
}

TYPED_TEST(FunctionalPoolingTest, UnbatchedEmptyAndNonContiguousInputs) {
  using T = TypeParam;
  strata::Generator gen(32);
  const auto x = Tensor<T>::randn({3, 8, 9}, gen);
  const auto batched = F::max_pool2d(x.unsqueeze(0), 3, 2, 1);
  const auto unbatched = F::max_pool2d(x, 3, 2, 1);
  EXPECT_EQ(unbatched.shape(), (Shape{3, 4, 5}));
  EXPECT_TRUE(strata_test::same_bits(unbatched, batched.squeeze(0)));
  EXPECT_EQ(F::avg_pool1d(Tensor<T>::randn({3, 9}, gen), 2).shape(), (Shape{3, 4}));
  EXPECT_EQ(F::adaptive_avg_pool2d(x, {2, 3}).shape(), (Shape{3, 2, 3}));
  // Zero batch: an empty output of the right shape.
  EXPECT_EQ(F::max_pool2d(Tensor<T>::zeros({0, 2, 8, 8}), 3).shape(), (Shape{0, 2, 2, 2}));
  EXPECT_EQ(F::avg_pool1d(Tensor<T>::zeros({0, 2, 8}), 3).shape(), (Shape{0, 2, 2}));
  EXPECT_EQ(F::adaptive_avg_pool2d(Tensor<T>::zeros({0, 2, 8, 8}), 3).shape(), (Shape{0, 2, 3, 3}));
  // Adaptive pools accept zero channels and a zero output size, as torch.
  EXPECT_EQ(F::adaptive_avg_pool2d(Tensor<T>::zeros({2, 0, 8, 8}), 3).shape(), (Shape{2, 0, 3, 3}));
  EXPECT_EQ(F::adaptive_avg_pool2d(Tensor<T>::zeros({2, 3, 8, 8}), {2, 0}).shape(), (Shape{2, 3, 2, 0}));
  // A transposed view gives what its contiguous copy gives.
  const auto t = Tensor<T>::randn({2, 3, 10, 7}, gen).transpose(2, 3);
  ASSERT_FALSE(t.is_contiguous());
  EXPECT_TRUE(strata_test::same_bits(F::max_pool2d(t, 2, 1), F::max_pool2d(t.contiguous(), 2, 1)));
  EXPECT_TRUE(strata_test::same_bits(F::avg_pool2d(t, 3, 2, 1), F::avg_pool2d(t.contiguous(), 3, 2, 1)));
  EXPECT_TRUE(strata_test::same_bits(F::adaptive_avg_pool2d(t, 3), F::adaptive_avg_pool2d(t.contiguous(), 3)));
}

TYPED_TEST(FunctionalPoolingTest, NaNPropagatesThroughMaxAndAverage) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  Tensor<T> x = Tensor<T>::zeros({1, 1, 4, 4});
  x(0, 0, 1, 1) = nan;
  const auto m = F::max_pool2d(x, 2);
  EXPECT_TRUE(std::isnan(m(0, 0, 0, 0)));
  EXPECT_EQ(m(0, 0, 1, 1), T(0));
  EXPECT_TRUE(std::isnan(F::avg_pool2d(x, 2)(0, 0, 0, 0)));
  EXPECT_TRUE(std::isnan(F::adaptive_avg_pool2d(x, 1)(0, 0, 0, 0)));
  // NaN wins over +inf, in any order.
  const auto row = F::max_pool1d(Tensor<T>({1, 4}, {std::numeric_limits<T>::infinity(), nan, nan, 1}), 2);
  EXPECT_TRUE(std::isnan(row(0, 0)));
  EXPECT_TRUE(std::isnan(row(0, 1)));
}

TYPED_TEST(FunctionalPoolingTest, TorchsMessages) {
  using T = TypeParam;
  const auto x4 = Tensor<T>::zeros({2, 3, 8, 8});
  const auto x3 = Tensor<T>::zeros({2, 3, 8});
  EXPECT_THROW_WITH(F::max_pool2d(x4, 3, 1, 2), strata::Error,
                    "max_pool2d: pad should be at most half of kernel size, but got pad=2 and kernel_size=3");
  EXPECT_THROW_WITH(F::avg_pool2d(x4, {3, 4}, 1, {1, 3}), strata::Error,
                    "avg_pool2d: pad should be at most half of kernel size, but got pad=3 and kernel_size=4");
  EXPECT_THROW_WITH(F::max_pool2d(x4, 3, 1, 2, 2), strata::Error, "pad=2 and kernel_size=3");  // the undilated kernel
  EXPECT_THROW_WITH(F::max_pool2d(x4, {2, -1}), strata::Error,
                    "max_pool2d: kernel size should be greater than zero, but got kernel_size=[2, -1]");
  EXPECT_THROW_WITH(F::max_pool2d(x4, 0), strata::Error, "kernel size should be greater than zero");
  EXPECT_THROW_WITH(F::avg_pool2d(x4, 2, 0), strata::Error,
                    "avg_pool2d: stride should be greater than zero, but got stride=[0, 0]");
  EXPECT_THROW_WITH(F::max_pool1d(x3, 2, -1), strata::Error,
                    "max_pool1d: stride should be greater than zero, but got stride=-1");
  EXPECT_THROW_WITH(F::max_pool2d(x4, 2, 1, 0, {1, 0}), strata::Error,
                    "max_pool2d: dilation should be greater than zero, but got dilation=[1, 0]");
  EXPECT_THROW_WITH(F::avg_pool1d(x3, 2, 1, -1), strata::Error,
                    "avg_pool1d: pad must be non-negative, but got padding=-1");
  EXPECT_THROW_WITH(F::max_pool2d(Tensor<T>::zeros({3, 8}), 2), strata::Error,
                    "max_pool2d: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                    "but got:[3, 8]");
  EXPECT_THROW_WITH(F::avg_pool2d(Tensor<T>::zeros({2, 0, 8, 8}), 2), strata::Error,
                    "avg_pool2d: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                    "but got:[2, 0, 8, 8]");
  EXPECT_THROW_WITH(F::max_pool1d(Tensor<T>::zeros({8}), 2), strata::Error,
                    "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                    "but got:[8]");
  EXPECT_THROW_WITH(F::max_pool1d(Tensor<T>::zeros({2, 2, 0}), 2), strata::Error, "but got:[2, 2, 0]");
  EXPECT_THROW_WITH(F::max_pool2d(Tensor<T>::zeros({1, 2, 2, 2}), 3), strata::Error,
                    "max_pool2d: Given input size: (2x2x2). Calculated output size: (2x0x0). Output size is too small");
  EXPECT_THROW_WITH(F::avg_pool2d(Tensor<T>::zeros({2, 2, 8}), 3), strata::Error,
                    "Given input size: (2x2x8). Calculated output size: (2x0x2). Output size is too small");
  EXPECT_THROW_WITH(F::max_pool2d(Tensor<T>::zeros({1, 2, 4, 4}), 2, 1, 0, 4), strata::Error,
                    "Calculated output size: (2x0x0)");  // the dilated kernel does not fit
  EXPECT_THROW_WITH(F::avg_pool1d(Tensor<T>::zeros({1, 2, 2}), 3), strata::Error,
                    "avg_pool1d: Given input size: (2x2). Calculated output size: (2x0). Output size is too small");
  EXPECT_THROW_WITH(F::avg_pool2d(x4, 2, {}, 0, false, true, 0), strata::Error, "avg_pool2d: divisor must be not zero");
  EXPECT_EQ(F::avg_pool2d(x4, 2, {}, 0, false, true, -1).shape(), (Shape{2, 3, 4, 4}));  // torch divides by -1
  EXPECT_THROW_WITH(F::adaptive_avg_pool2d(x4, -1), strata::Error,
                    "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received "
                    "[-1, -1]");
  EXPECT_THROW_WITH(F::adaptive_avg_pool1d(x3, -2), strata::Error, "but received -2");
  EXPECT_THROW_WITH(F::adaptive_avg_pool2d(Tensor<T>::zeros({8, 8}), 2), strata::Error,
                    "adaptive_avg_pool2d: Expected 3D or 4D tensor, but got [8, 8]");
  EXPECT_THROW_WITH(F::adaptive_avg_pool1d(Tensor<T>::zeros({1, 2, 3, 4}), 2), strata::Error,
                    "adaptive_avg_pool1d: Expected 2D or 3D tensor, but got [1, 2, 3, 4]");
  EXPECT_THROW_WITH(F::adaptive_avg_pool2d(Tensor<T>::zeros({2, 2, 0, 8}), 2), strata::Error,
                    "adaptive_avg_pool2d: Expected input to have non-zero size for non-batch dimensions, but input "
                    "has sizes [2, 2, 0, 8] with dimension 2 being empty");
  EXPECT_THROW_WITH(F::max_pool2d(x4, {2, 2, 2}), strata::Error, "ExpandingArray: expected 2 values, got 3 values");
  EXPECT_THROW_WITH(F::max_pool2d(Tensor<T>(), 2), strata::Error, "max_pool2d: the input is undefined");
}

}  // namespace
