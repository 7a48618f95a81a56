// Tests for Conv3d (strata/nn/conv.hpp with D = 3) and functional::conv3d:
// every PyTorch golden case of tests/reference/golden_conv3d (made by
// tests/reference/generate_conv_transpose_golden.py with torch 1.13; each
// file's first comment is the producing torch call), the naive reference over
// a grid of padding modes, strides, dilations and groups, shapes, parameter
// counts, printing and torch's error messages. Conv3d is Conv<3, T>, the same
// implementation as Conv1d / Conv2d, so conv_test.cpp's checks of the shared
// code are not repeated here.
//
// Golden tolerance as in conv_golden_test.cpp: torch and strata each sum
// R = in_channels/groups * prod(kernel_size) rounded products plus the bias,
// in some order, so they may differ by 2 * reference_tolerance<T>.
#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <strata/nn/conv.hpp>
#include <strata/nn/conv_output_size.hpp>

#include "golden_reader.hpp"
#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::nn::Conv3d;
using strata::nn::Conv3dOptions;
using strata_test::GoldenCase;
using strata_test::GoldenTensor;

template <typename T>
class Conv3dTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(Conv3dTest, strata_test::ScalarTypes);

template <typename M>
std::string conv3d_printed(const M& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

// ---- PyTorch golden cases ------------------------------------------------------

std::string conv3d_golden_dir() { return std::string(STRATA_GOLDEN_DIR) + "/../golden_conv3d"; }

template <typename T>
strata::Tensor<T> conv3d_golden_tensor(const GoldenTensor& g) {
  std::vector<T> values;
  for (double v : g.values) values.push_back(static_cast<T>(v));  // %.9g float32 values round-trip through float
  return strata::Tensor<T>(Shape(std::vector<index_t>(g.shape.begin(), g.shape.end())), values);
}

strata::nn::ExpandingArray<3> conv3d_golden_array(const GoldenCase& c, const std::string& key) {
  const std::vector<std::int64_t> v = c.ints(key);
  return strata::nn::ExpandingArray<3>(std::vector<index_t>(v.begin(), v.end()));
}

strata::nn::PaddingMode conv3d_mode(const std::string& mode) {
  if (mode == "reflect") return strata::kReflect;
  if (mode == "replicate") return strata::kReplicate;
  if (mode == "circular") return strata::kCircular;
  EXPECT_EQ(mode, "zeros");
  return strata::kZeros;
}

struct Conv3dWorst {
  double abs = 0, relative = 0;
  int cases = 0;
};

template <typename T>
void conv3d_golden_case(const GoldenCase& c, Conv3dWorst& worst) {
  SCOPED_TRACE(c.name);
  Conv3dOptions options(c.ints("in_channels").at(0), c.ints("out_channels").at(0),
                        conv3d_golden_array(c, "kernel_size"));
  options.stride(conv3d_golden_array(c, "stride"))
      .dilation(conv3d_golden_array(c, "dilation"))
      .groups(c.ints("groups").at(0))
      .bias(c.ints("bias").at(0) != 0)
      .padding_mode(conv3d_mode(c.str("padding_mode")));
  const std::string padding = c.str("padding");
  if (padding == "same") {
    options.padding(strata::kSame);
  } else if (padding == "valid") {
    options.padding(strata::kValid);
  } else {
    options.padding(conv3d_golden_array(c, "padding"));
  }
  Conv3d<T> conv(options);
  ASSERT_EQ(options.bias(), c.has("bias"));
  conv.weight().copy_(conv3d_golden_tensor<T>(c.tensor("weight")));
  if (options.bias()) conv.bias().copy_(conv3d_golden_tensor<T>(c.tensor("bias")));
  const strata::Tensor<T> input = conv3d_golden_tensor<T>(c.tensor("input"));
  const strata::Tensor<T> expected = conv3d_golden_tensor<T>(c.tensor("output"));
  const strata::Tensor<T> output = conv(input);
  ASSERT_EQ(output.shape(), expected.shape());
  EXPECT_EQ(strata::nn::conv_output_shape(options, input.shape()), expected.shape());
  // The functional form, when the padding is zeros, gives the same bits.
  if (options.padding_mode() == strata::kZeros) {
    EXPECT_TRUE(strata_test::same_bits(
        strata::nn::functional::conv3d(input, conv.weight(), conv.bias(), options.stride(), options.padding(),
                                       options.dilation(), options.groups()),
        output));
  }

  const bool batched = input.dim() == 5;
  std::array<index_t, 3> before{}, after{};
  for (std::size_t d = 0; d < 3; ++d) {
    if (padding == "same") {
      std::tie(before[d], after[d]) = strata::nn::same_padding(options.kernel_size()[d], options.dilation()[d]);
    } else if (padding != "valid") {
      before[d] = after[d] = options.padding().values()[d];
    }
  }
  strata_test::ReferenceConv ref = strata_test::reference_conv<3, T>(
      batched ? input : input.unsqueeze(0), conv.weight(), conv.bias(), options.stride().array(), before, after,
      options.dilation().array(), options.groups(), options.padding_mode());
  if (!batched) ref.shape = expected.shape();
  EXPECT_TRUE(strata_test::matches_reference(output, ref));

  const std::vector<double> ours = strata_test::reference_values(output), torch = strata_test::reference_values(expected);
  int failures = 0;
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const double diff = std::abs(ours[i] - torch[i]);
    const double tolerance = 2 * strata_test::reference_tolerance<T>(ref.magnitudes[i], ref.reduction);
    if (!(diff <= tolerance) && failures++ == 0) {
      ADD_FAILURE() << "element " << i << ": strata " << ours[i] << ", torch " << torch[i] << ", |diff| " << diff;
    }
    worst.abs = std::max(worst.abs, diff);
    worst.relative = std::max(worst.relative, diff / (1 + std::abs(torch[i])));
  }
  EXPECT_EQ(failures, 0);
  ++worst.cases;
}

TEST(Conv3dGoldenTest, EveryCaseMatchesPyTorch) {
  Conv3dWorst f32, f64;
  int listed = 0;
  for (const std::string& path : strata_test::list_golden_cases(conv3d_golden_dir())) {
    const GoldenCase c = strata_test::read_golden_case(path);
    ++listed;
    ASSERT_EQ(c.layer, "conv3d") << c.name;
    if (c.dtype == "float32") {
      conv3d_golden_case<float>(c, f32);
    } else {
      ASSERT_EQ(c.dtype, "float64") << c.name;
      conv3d_golden_case<double>(c, f64);
    }
  }
  EXPECT_GE(listed, 20);  // INDEX.txt lists 26: a test that found nothing must not pass
  EXPECT_GT(f32.cases, 0);
  EXPECT_GT(f64.cases, 0);
  EXPECT_EQ(f32.cases + f64.cases, listed);
  std::cout << "[ golden   ] " << listed << " Conv3d cases\n"
            << "[ golden   ] float32: max |strata - torch| = " << f32.abs << ", max |diff| / (1 + |torch|) = "
            << f32.relative << "\n"
            << "[ golden   ] float64: max |strata - torch| = " << f64.abs << ", max |diff| / (1 + |torch|) = "
            << f64.relative << "\n";
}

// ---- the naive reference over a grid of options --------------------------------

TYPED_TEST(Conv3dTest, MatchesNaiveReferenceOverOptionGrid) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(31);
  double worst = 0;
  int checked = 0;
  const strata::nn::PaddingMode modes[] = {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular};
  // Every padding mode x stride x dilation x groups (1, 2 and depthwise), with an
  // anisotropic kernel and padding so the three dimensions cannot be confused.
  for (strata::nn::PaddingMode mode : modes)
    for (index_t s : {1, 2})
      for (index_t d : {1, 2})
        for (int g = 0; g < 3; ++g) {
          const index_t groups = g == 0 ? 1 : 2, in = g == 2 ? 2 : 2 * groups, out = g == 2 ? 4 : 3 * groups;
          const std::array<index_t, 3> k{3, 2, 3}, p{1, 0, d == 1 ? 2 : 1};
          auto o = Conv3dOptions(in, out, {k[0], k[1], k[2]}).stride({s, 1, s}).dilation({d, 1, d})
                       .padding({p[0], p[1], p[2]}).groups(groups).bias((s + d + g) % 2 == 0).padding_mode(mode);
          SCOPED_TRACE(conv3d_printed(Conv3d<TypeParam>(o, strata::nn::kSkipInit)));
          Conv3d<TypeParam> conv(o);
          const Tensor x = Tensor::randn({1 + g % 2, in, 5, 3, 6}, gen);
          const strata_test::ReferenceConv ref = strata_test::reference_conv<3, TypeParam>(
              x, conv.weight(), conv.bias(), {s, 1, s}, p, p, {d, 1, d}, groups, mode);
          EXPECT_TRUE(strata_test::matches_reference(conv(x), ref, 1.0, &worst));
          ++checked;
        }
  // 'same' with even kernels (torch pads the extra zero after), and a pointwise layer.
  for (strata::nn::PaddingMode mode : modes) {
    Conv3d<TypeParam> same(Conv3dOptions(2, 3, {2, 4, 3}).padding(strata::kSame).dilation({1, 1, 2}).padding_mode(mode));
    const Tensor x = Tensor::randn({2, 2, 4, 5, 6}, gen);
    const strata_test::ReferenceConv ref = strata_test::reference_conv<3, TypeParam>(
        x, same.weight(), same.bias(), {1, 1, 1}, {0, 1, 2}, {1, 2, 2}, {1, 1, 2}, 1, mode);
    EXPECT_TRUE(strata_test::matches_reference(same(x), ref, 1.0, &worst));
    EXPECT_EQ(same(x).shape(), (Shape{2, 3, 4, 5, 6}));
  }
  Conv3d<TypeParam> pointwise(5, 7, 1);
  const Tensor x = Tensor::randn({2, 5, 3, 4, 5}, gen);
  EXPECT_TRUE(strata_test::matches_reference(
      pointwise(x), strata_test::reference_conv<3, TypeParam>(x, pointwise.weight(), pointwise.bias(), {1, 1, 1},
                                                              {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1, strata::kZeros),
      1.0, &worst));
  EXPECT_EQ(checked, 48);
  ::testing::Test::RecordProperty("worst_abs_diff", std::to_string(worst));
}

// ---- shapes, parameters, printing --------------------------------------------

TYPED_TEST(Conv3dTest, ShapesUnbatchedAndNonContiguous) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(32);
  // torch.nn.Conv3d's docstring layers on its (20, 16, 10, 50, 100) input.
  EXPECT_EQ(strata::nn::conv_output_shape(Conv3dOptions(16, 33, 3).stride(2), {20, 16, 10, 50, 100}),
            (Shape{20, 33, 4, 24, 49}));
  EXPECT_EQ(strata::nn::conv_output_shape(Conv3dOptions(16, 33, {3, 5, 2}).stride({2, 1, 1}).padding({4, 2, 0}),
                                          {20, 16, 10, 50, 100}),
            (Shape{20, 33, 8, 50, 99}));
  Conv3d<TypeParam> conv(Conv3dOptions(4, 6, 3).padding(1).stride({1, 2, 2}));
  const Tensor clip = Tensor::randn({4, 5, 7, 6}, gen);  // unbatched (C, D, H, W)
  const Tensor y = conv(clip);
  EXPECT_EQ(y.shape(), (Shape{6, 5, 4, 3}));
  EXPECT_TRUE(strata_test::same_bits(y, conv(clip.unsqueeze(0)).squeeze(0)));
  EXPECT_EQ(conv(Tensor::zeros({0, 4, 5, 7, 6})).shape(), (Shape{0, 6, 5, 4, 3}));
  // A permuted view is read as its logical (N, C, D, H, W) order.
  const Tensor base = Tensor::randn({2, 6, 7, 5, 4}, gen);  // (N, W, H, D, C) in memory
  const Tensor x = base.permute({0, 4, 3, 2, 1});
  ASSERT_FALSE(x.is_contiguous());
  EXPECT_TRUE(strata_test::same_bits(conv(x), conv(x.contiguous())));
  // conv_output_shape answers a shape too large for memory as forward's checks do, without planning it (a
  // fuzz finding: a 2^41-deep output made the im2col plan's index tables a std::bad_alloc).
  const index_t deep = index_t{1} << 40;
  EXPECT_EQ(strata::nn::conv_output_shape(Conv3dOptions(1, 1, 3).padding({deep, 1, 1}), {2, 1, 1, 1, 1}),
            (Shape{2, 1, 2 * deep - 1, 1, 1}));
  EXPECT_THROW_WITH(Conv3d<TypeParam>(Conv3dOptions(1, 1, 3).padding({deep, 1, 1}))(Tensor::zeros({2, 1, 1, 1, 1})),
                    strata::Error, "refusing to allocate");
}

TYPED_TEST(Conv3dTest, ParametersAndPrinting) {
  // torch: sum(p.numel() for p in nn.Conv3d(16, 32, 3).parameters()) == 13856
  Conv3d<TypeParam> conv(Conv3dOptions(16, 32, 3).padding(1));
  EXPECT_EQ(conv.num_parameters(), 13856);
  EXPECT_EQ(conv.weight().shape(), (Shape{32, 16, 3, 3, 3}));
  EXPECT_EQ(conv.name(), "Conv3d");
  // Depthwise with multiplier 2: nn.Conv3d(8, 16, 3, groups=8, bias=False) has 16 * 1 * 27 = 432.
  Conv3d<TypeParam> depthwise(Conv3dOptions(8, 16, 3).groups(8).bias(false));
  EXPECT_EQ(depthwise.num_parameters(), 432);
  EXPECT_EQ(depthwise.weight().shape(), (Shape{16, 1, 3, 3, 3}));
  // Initialised like torch: U(-k, k) with k = 1/sqrt(fan_in), fan_in = 16 * 27.
  const double bound = static_cast<TypeParam>(1.0 / std::sqrt(16.0 * 27.0));
  double largest = 0;
  for (double v : strata_test::reference_values(conv.weight())) largest = std::max(largest, std::abs(v));
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.95 * bound);
  // libtorch's format, as Conv1d / Conv2d print.
  EXPECT_EQ(conv3d_printed(conv),
            "strata::nn::Conv3d(16, 32, kernel_size=[3, 3, 3], stride=[1, 1, 1], padding=[1, 1, 1])");
  EXPECT_EQ(conv3d_printed(depthwise),
            "strata::nn::Conv3d(8, 16, kernel_size=[3, 3, 3], stride=[1, 1, 1], groups=8, bias=false)");
  EXPECT_EQ(conv3d_printed(Conv3d<TypeParam>(Conv3dOptions(2, 4, {1, 3, 3}).padding(strata::kSame)
                                                 .padding_mode(strata::kReplicate))),
            "strata::nn::Conv3d(2, 4, kernel_size=[1, 3, 3], stride=[1, 1, 1], padding='same', "
            "padding_mode=kReplicate)");
  EXPECT_EQ(conv3d_printed(Conv3d<TypeParam>(Conv3dOptions(16, 32, {1, 3, 3}).stride({1, 2, 2}).padding({0, 1, 1}))),
            "strata::nn::Conv3d(16, 32, kernel_size=[1, 3, 3], stride=[1, 2, 2], padding=[0, 1, 1])");
}

// ---- errors ---------------------------------------------------------------------

TYPED_TEST(Conv3dTest, TorchsErrorMessages) {
  using Tensor = typename TestFixture::Tensor;
  namespace F = strata::nn::functional;
  EXPECT_THROW_WITH(Conv3d<TypeParam>(Conv3dOptions(3, 6, 3).groups(2)), strata::Error,
                    "Conv3d: in_channels must be divisible by groups, got in_channels=3 and groups=2");
  EXPECT_THROW_WITH(Conv3d<TypeParam>(Conv3dOptions(4, 6, 3).groups(4)), strata::Error,
                    "Conv3d: out_channels must be divisible by groups, got out_channels=6 and groups=4");
  EXPECT_THROW_WITH(Conv3d<TypeParam>(Conv3dOptions(2, 2, 3).stride({1, 2, 1}).padding(strata::kSame)),
                    strata::Error,
                    "Conv3d: padding='same' is not supported for strided convolutions, got stride=[1, 2, 1]");
  EXPECT_THROW_WITH(Conv3dOptions(2, 2, {3, 3}), strata::Error, "expected 3 values, got 2 values");
  Conv3d<TypeParam> conv(2, 3, 3);
  EXPECT_THROW_WITH(conv(Tensor::zeros({2, 5, 5})), strata::Error,
                    "Conv3d: expected 5-D input (N, C, D, H, W) or 4-D (C, D, H, W), got shape [2, 5, 5]");
  EXPECT_THROW_WITH(conv(Tensor::zeros({1, 3, 5, 5, 5})), strata::Error,
                    "Conv3d: Given groups=1, weight of size [3, 2, 3, 3, 3], expected input[1, 3, 5, 5, 5] to have 2 "
                    "channels, but got 3 channels instead");
  EXPECT_THROW_WITH(conv(Tensor::zeros({1, 2, 5, 2, 5})), strata::Error,
                    "Conv3d: Calculated padded input size per channel: (5 x 2 x 5). Kernel size: (3 x 3 x 3). Kernel "
                    "size can't be greater than actual input size");
  Conv3d<TypeParam> reflect(Conv3dOptions(2, 2, 3).padding({1, 1, 4}).padding_mode(strata::kReflect));
  EXPECT_THROW_WITH(reflect(Tensor::zeros({1, 2, 5, 5, 4})), strata::Error,
                    "Conv3d: expected reflect padding smaller than the input size, got padding (4, 4) at dimension 4");
  EXPECT_THROW_WITH(F::conv3d(Tensor::zeros({1, 4, 5, 5, 5}), Tensor::zeros({6, 2, 3, 3, 3}), Tensor(), 1, 0, 1, 3),
                    strata::Error,
                    "conv3d: Given groups=3, weight of size [6, 2, 3, 3, 3], expected input[1, 4, 5, 5, 5] to have 6 "
                    "channels, but got 4 channels instead");
  EXPECT_THROW_WITH(F::conv3d(Tensor::zeros({4, 2, 5, 5}), Tensor::zeros({6, 4, 3, 3, 3})), strata::Error,
                    "conv3d: Calculated padded input size per channel: (2 x 5 x 5)");
  EXPECT_EQ(F::conv3d(Tensor::zeros({1, 4, 5, 5, 5}), Tensor::zeros({6, 2, 3, 3, 3}), Tensor(), 1, 1, 1, 2).shape(),
            (Shape{1, 6, 5, 5, 5}));
}

}  // namespace
