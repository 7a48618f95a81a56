// Tests for strata/nn/pooling.hpp: MaxPool1d/2d, AvgPool1d/2d and
// AdaptiveAvgPool1d/2d as modules — options and their defaults, libtorch's
// printing, construction and forward messages naming the layer, the layers
// against PyTorch's golden data and against their functional forms, use in a
// Sequential; and the pooling section of nn/conv_geometry.hpp (ceil_mode's
// rule for a kernel overhanging the input, the checks' order).
#include <sstream>
#include <string>
#include <vector>

#include <strata/nn/conv_geometry.hpp>
#include <strata/nn/pooling.hpp>
#include <strata/nn/sequential.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::Tensor;
using namespace strata::nn;

template <typename T>
class PoolingLayerTest : public ::testing::Test {};
TYPED_TEST_SUITE(PoolingLayerTest, strata_test::ScalarTypes);

template <typename M>
std::string pool_layer_printed(const M& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

TEST(PoolingLayerTest, OptionsAndTheirDefaults) {
  const MaxPool2dOptions m = MaxPool2dOptions({3, 2});
  EXPECT_EQ(m.stride(), (ExpandingArray<2>{3, 2}));  // stride defaults to kernel_size
  EXPECT_EQ(m.padding(), ExpandingArray<2>(0));
  EXPECT_EQ(m.dilation(), ExpandingArray<2>(1));
  EXPECT_FALSE(m.ceil_mode());
  MaxPool1dOptions late(3);
  late.kernel_size(5);  // the default stride follows the kernel set later
  EXPECT_EQ(late.stride(), ExpandingArray<1>(5));
  const AvgPool2dOptions a = AvgPool2dOptions(2).stride(1).padding(1).ceil_mode(true).count_include_pad(false);
  EXPECT_EQ(a.stride(), ExpandingArray<2>(1));
  EXPECT_TRUE(a.ceil_mode());
  EXPECT_FALSE(a.count_include_pad());
  EXPECT_FALSE(a.divisor_override().has_value());
  EXPECT_EQ(*AvgPool2dOptions(2).divisor_override(3).divisor_override(), 3);
  EXPECT_EQ(AdaptiveAvgPool2dOptions({7, 5}).output_size(), (ExpandingArray<2>{7, 5}));
  EXPECT_THROW_WITH(MaxPool2dOptions({3, 3, 3}), strata::Error, "ExpandingArray: expected 2 values, got 3 values");
}

TEST(PoolingLayerTest, PrintsLikeLibtorch) {
  // libtorch 1.13's pretty_print, with strata::nn:: for torch::nn::.
  EXPECT_EQ(pool_layer_printed(MaxPool2d<float>(3)),
            "strata::nn::MaxPool2d(kernel_size=[3, 3], stride=[3, 3], padding=[0, 0], dilation=[1, 1], ceil_mode=false)");
  EXPECT_EQ(pool_layer_printed(MaxPool2d<float>(MaxPool2dOptions({3, 2}).stride({2, 1}).padding({1, 0}).dilation(2)
                                                    .ceil_mode(true))),
            "strata::nn::MaxPool2d(kernel_size=[3, 2], stride=[2, 1], padding=[1, 0], dilation=[2, 2], ceil_mode=true)");
  EXPECT_EQ(pool_layer_printed(MaxPool1d<double>(MaxPool1dOptions(3).stride(2).padding(1).dilation(2).ceil_mode(true))),
            "strata::nn::MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=true)");
  EXPECT_EQ(pool_layer_printed(AvgPool2d<float>(2)),
            "strata::nn::AvgPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])");
  EXPECT_EQ(pool_layer_printed(AvgPool2d<float>(AvgPool2dOptions({3, 2}).stride(1).padding(1).ceil_mode(true)
                                                    .count_include_pad(false).divisor_override(5))),
            "strata::nn::AvgPool2d(kernel_size=[3, 2], stride=[1, 1], padding=[1, 1])");
  EXPECT_EQ(pool_layer_printed(AvgPool1d<float>(AvgPool1dOptions(3).stride(2).padding(1))),
            "strata::nn::AvgPool1d(kernel_size=3, stride=2, padding=1)");
  EXPECT_EQ(pool_layer_printed(AvgPool1d<float>(3)), "strata::nn::AvgPool1d(kernel_size=3, stride=3, padding=0)");
  EXPECT_EQ(pool_layer_printed(AdaptiveAvgPool2d<float>(1)), "strata::nn::AdaptiveAvgPool2d(output_size=[1, 1])");
  EXPECT_EQ(pool_layer_printed(AdaptiveAvgPool2d<float>({7, 5})), "strata::nn::AdaptiveAvgPool2d(output_size=[7, 5])");
  EXPECT_EQ(pool_layer_printed(AdaptiveAvgPool1d<float>(5)), "strata::nn::AdaptiveAvgPool1d(output_size=5)");
  EXPECT_EQ(MaxPool1d<float>(2).name(), "MaxPool1d");
  EXPECT_EQ(AdaptiveAvgPool2d<float>(2).name(), "AdaptiveAvgPool2d");
}

TEST(PoolingLayerTest, ConstructionChecksTheOptions) {
  EXPECT_THROW_WITH(MaxPool2d<float>(MaxPool2dOptions(3).padding(2)), strata::Error,
                    "MaxPool2d: pad should be at most half of kernel size, but got pad=2 and kernel_size=3");
  EXPECT_THROW_WITH(MaxPool1d<float>(0), strata::Error,
                    "MaxPool1d: kernel size should be greater than zero, but got kernel_size=0");
  EXPECT_THROW_WITH(MaxPool2d<float>(MaxPool2dOptions(2).dilation({1, 0})), strata::Error,
                    "MaxPool2d: dilation should be greater than zero, but got dilation=[1, 0]");
  EXPECT_THROW_WITH(AvgPool2d<float>(AvgPool2dOptions(2).stride({0, 1})), strata::Error,
                    "AvgPool2d: stride should be greater than zero, but got stride=[0, 1]");
  EXPECT_THROW_WITH(AvgPool1d<float>(AvgPool1dOptions(2).padding(-1)), strata::Error,
                    "AvgPool1d: pad must be non-negative, but got padding=-1");
  EXPECT_THROW_WITH(AvgPool2d<float>(AvgPool2dOptions(2).divisor_override(0)), strata::Error,
                    "AvgPool2d: divisor must be not zero");
  EXPECT_THROW_WITH(AdaptiveAvgPool2d<float>({3, -1}), strata::Error,
                    "AdaptiveAvgPool2d: elements of output_size must be greater than or equal to 0 but received [3, -1]");
}

TYPED_TEST(PoolingLayerTest, ForwardMessagesNameTheLayer) {
  using T = TypeParam;
  EXPECT_THROW_WITH(MaxPool2d<T>(3)(Tensor<T>::zeros({3, 8})), strata::Error,
                    "MaxPool2d: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                    "got:[3, 8]");
  EXPECT_THROW_WITH(AvgPool1d<T>(3)(Tensor<T>::zeros({1, 2, 2})), strata::Error,
                    "AvgPool1d: Given input size: (2x2). Calculated output size: (2x0). Output size is too small");
  EXPECT_THROW_WITH(AdaptiveAvgPool1d<T>(3)(Tensor<T>::zeros({1, 2, 0})), strata::Error,
                    "AdaptiveAvgPool1d: Expected input to have non-zero size for non-batch dimensions, but input has "
                    "sizes [1, 2, 0] with dimension 2 being empty");
  EXPECT_THROW_WITH(AdaptiveAvgPool2d<T>(3)(Tensor<T>()), strata::Error, "AdaptiveAvgPool2d: the input is undefined");
}

/// The layer a golden case describes, applied to x.
template <typename T>
Tensor<T> pool_layer_golden_forward(const strata_test::GoldenCase& c, const Tensor<T>& x) {
  auto ints = [&](const std::string& name) {
    const std::vector<std::int64_t> v = c.ints(name);
    return std::vector<index_t>(v.begin(), v.end());
  };
  const bool two_d = c.layer[c.layer.size() - 2] == '2';
  if (c.layer.compare(0, 8, "adaptive") == 0) {
    return two_d ? AdaptiveAvgPool2d<T>(ints("output_size"))(x) : AdaptiveAvgPool1d<T>(ints("output_size"))(x);
  }
  const bool ceil = c.ints("ceil_mode")[0] != 0;
  if (c.layer.compare(0, 3, "max") == 0) {
    if (two_d) {
      return MaxPool2d<T>(MaxPool2dOptions(ints("kernel_size")).stride(ints("stride")).padding(ints("padding"))
                              .dilation(ints("dilation")).ceil_mode(ceil))(x);
    }
    return MaxPool1d<T>(MaxPool1dOptions(ints("kernel_size")).stride(ints("stride")).padding(ints("padding"))
                            .dilation(ints("dilation")).ceil_mode(ceil))(x);
  }
  const bool include_pad = c.ints("count_include_pad")[0] != 0;
  if (two_d) {
    AvgPool2dOptions o = AvgPool2dOptions(ints("kernel_size")).stride(ints("stride")).padding(ints("padding"))
                             .ceil_mode(ceil).count_include_pad(include_pad);
    if (c.ints("divisor_override")[0] != 0) o.divisor_override(c.ints("divisor_override")[0]);
    return AvgPool2d<T>(o)(x);
  }
  return AvgPool1d<T>(AvgPool1dOptions(ints("kernel_size")).stride(ints("stride")).padding(ints("padding"))
                          .ceil_mode(ceil).count_include_pad(include_pad))(x);
}

TYPED_TEST(PoolingLayerTest, LayersMatchPyTorch) {
  using T = TypeParam;
  const std::string dtype = sizeof(T) == 4 ? "float32" : "float64";
  int cases = 0;
  for (const std::string prefix : {"max_pool", "avg_pool", "adaptive_avg_pool"}) {
    for (const strata_test::GoldenCase& c : strata_test::pool_bn_golden_cases(prefix)) {
      if (c.dtype != dtype) continue;
      const Tensor<T> y = pool_layer_golden_forward(c, strata_test::pool_bn_golden_tensor<T>(c.tensor("input")));
      ASSERT_LE(strata_test::pool_bn_rel_diff(y, strata_test::pool_bn_golden_double(c.tensor("output"))),
                sizeof(T) == 4 ? 4e-7 : 1e-15)
          << c.name;
      ++cases;
    }
  }
  EXPECT_GT(cases, 100);
}

TYPED_TEST(PoolingLayerTest, LayersAreTheirFunctionalForms) {
  using T = TypeParam;
  namespace F = strata::nn::functional;
  strata::Generator gen(51);
  const auto x = Tensor<T>::randn({2, 3, 11, 9}, gen), v = Tensor<T>::randn({2, 3, 13}, gen);
  EXPECT_TRUE(strata_test::same_bits(MaxPool2d<T>(MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true))(x),
                                     F::max_pool2d(x, 3, 2, 1, 1, true)));
  EXPECT_TRUE(strata_test::same_bits(AvgPool2d<T>(AvgPool2dOptions({3, 2}).padding({1, 0}).count_include_pad(false))(x),
                                     F::avg_pool2d(x, {3, 2}, {}, {1, 0}, false, false)));
  EXPECT_TRUE(strata_test::same_bits(AvgPool2d<T>(AvgPool2dOptions(2).divisor_override(3))(x),
                                     F::avg_pool2d(x, 2, {}, 0, false, true, 3)));
  EXPECT_TRUE(strata_test::same_bits(AdaptiveAvgPool2d<T>({4, 3})(x), F::adaptive_avg_pool2d(x, {4, 3})));
  EXPECT_TRUE(strata_test::same_bits(MaxPool1d<T>(MaxPool1dOptions(4).dilation(2))(v), F::max_pool1d(v, 4, {}, 0, 2)));
  EXPECT_TRUE(strata_test::same_bits(AvgPool1d<T>(AvgPool1dOptions(3).stride(2).padding(1))(v),
                                     F::avg_pool1d(v, 3, 2, 1)));
  EXPECT_TRUE(strata_test::same_bits(AdaptiveAvgPool1d<T>(5)(v), F::adaptive_avg_pool1d(v, 5)));
}

TYPED_TEST(PoolingLayerTest, SequentialChildrenWithoutParameters) {
  using T = TypeParam;
  strata::nn::MaxPool2d stem_pool(MaxPool2dOptions(3).stride(2).padding(1));  // CTAD: float
  static_assert(std::is_same_v<decltype(stem_pool), MaxPool2d<float>>);
  Sequential<T> net(MaxPool2d<T>(MaxPool2dOptions(3).stride(2).padding(1)), AvgPool2d<T>(2), AdaptiveAvgPool2d<T>(1));
  EXPECT_TRUE(net.state_dict().empty());
  EXPECT_EQ(net.num_parameters(), 0);
  strata::Generator gen(52);
  EXPECT_EQ(net(Tensor<T>::randn({2, 4, 16, 16}, gen)).shape(), (Shape{2, 4, 1, 1}));
  EXPECT_EQ(pool_layer_printed(net),
            "strata::nn::Sequential(\n"
            "  (0): strata::nn::MaxPool2d(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], dilation=[1, 1], "
            "ceil_mode=false)\n"
            "  (1): strata::nn::AvgPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])\n"
            "  (2): strata::nn::AdaptiveAvgPool2d(output_size=[1, 1])\n"
            ")");
}

TEST(PoolingLayerTest, GeometryCeilModeCountsAKernelOverhangingByLessThanAStride) {
  using strata::detail::window_output_size;
  // torch: F.max_pool2d of a 2x2 input with kernel 3, stride 2, ceil_mode -> 1x1.
  EXPECT_EQ(window_output_size(2, 3, 2, 0, 0, 1, true, "t"), 1);
  EXPECT_EQ(window_output_size(2, 3, 2, 0, 0, 1, false, "t"), 0);
  EXPECT_EQ(window_output_size(2, 3, 1, 0, 0, 1, true, "t"), 0);  // overhang of a whole stride: none
  EXPECT_EQ(window_output_size(2, 4, 3, 0, 0, 1, true, "t"), 1);
  EXPECT_EQ(window_output_size(3, 2, 2, 0, 0, 3, true, "t"), 1);  // dilated extent 4 over 3
  // Against torch's own formula over a grid.
  for (index_t in = 1; in <= 9; ++in)
    for (index_t k = 1; k <= 5; ++k)
      for (index_t s = 1; s <= 4; ++s)
        for (index_t p = 0; p <= k / 2; ++p)
          for (index_t d = 1; d <= 3; ++d)
            for (bool ceil : {false, true}) {
              const index_t want = std::max<index_t>(0, strata_test::ref_pool_output_size(in, k, s, p, d, ceil));
              ASSERT_EQ(window_output_size(in, k, s, p, p, d, ceil, "t"), want)
                  << in << " " << k << " " << s << " " << p << " " << d << " " << ceil;
            }
}

TEST(PoolingLayerTest, GeometryChecksRunInTorchsOrder) {
  using strata::kernels::PoolMode;
  const auto shape = [](const Shape& input, std::array<index_t, 2> k, std::array<index_t, 2> s) {
    return strata::detail::pool_check_shapes<2>("P", PoolMode::Max, input, k, s, {0, 0}, {1, 1}, false);
  };
  // Options first (a bad kernel is named even for an input of the wrong rank), then the input, then the output size.
  EXPECT_THROW_WITH(shape({3, 8}, {0, 2}, {1, 1}), strata::Error, "P: kernel size should be greater than zero");
  EXPECT_THROW_WITH(shape({3, 8}, {2, 2}, {1, 1}), strata::Error, "P: Expected 3D or 4D");
  EXPECT_THROW_WITH(shape({1, 3, 1, 8}, {2, 2}, {1, 1}), strata::Error, "P: Given input size: (3x1x8)");
  const auto [s, batched] = shape({2, 3, 7, 8}, {2, 3}, {2, 2});
  EXPECT_TRUE(batched);
  EXPECT_EQ(s.planes, 6);
  EXPECT_EQ(s.output, (std::array<index_t, 2>{3, 3}));
  EXPECT_EQ(strata::detail::pool_output_shape_of<2>(Shape{2, 3, 7, 8}, s), (Shape{2, 3, 3, 3}));
  const auto unbatched = strata::detail::adaptive_pool_check_shapes<1>("A", Shape{4, 9}, {5});
  EXPECT_FALSE(unbatched.second);
  EXPECT_EQ(unbatched.first.planes, 4);
  EXPECT_EQ(strata::detail::pool_output_shape_of<1>(Shape{4, 9}, unbatched.first), (Shape{4, 5}));
  EXPECT_THROW_WITH(strata::detail::adaptive_pool_check_shapes<1>("A", Shape{1, std::int64_t{1} << 40},
                                                                  {std::int64_t{1} << 40}),
                    strata::Error, "A: ");  // the window bounds would overflow int64
}

}  // namespace
