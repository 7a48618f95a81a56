// Tests for strata/nn/conv.hpp: ConvOptions, the Conv1d / Conv2d layers
// (shapes, values against hand-computed cases and the naive reference over a
// grid of options, initialisation, parameters, printing, threads, errors) and
// conv_output_shape. The PyTorch golden cases are in conv_golden_test.cpp.
#include <array>
#include <cmath>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <strata/nn/conv.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::nn::Conv1d;
using strata::nn::Conv1dOptions;
using strata::nn::Conv2d;
using strata::nn::Conv2dOptions;
using strata::nn::PaddingMode;

template <typename T>
class ConvTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(ConvTest, strata_test::ScalarTypes);

template <typename M>
std::string printed(const M& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

// ---- construction and class template argument deduction ------------------

TEST(ConvOptionsTest, DefaultsAndChainedSetters) {
  const Conv2dOptions defaults(16, 33, 3);
  EXPECT_EQ(defaults.in_channels(), 16);
  EXPECT_EQ(defaults.out_channels(), 33);
  EXPECT_EQ(defaults.kernel_size(), strata::nn::ExpandingArray<2>({3, 3}));
  EXPECT_EQ(defaults.stride(), strata::nn::ExpandingArray<2>(1));
  EXPECT_EQ(defaults.padding(), strata::nn::ConvPadding<2>(0));
  EXPECT_EQ(defaults.dilation(), strata::nn::ExpandingArray<2>(1));
  EXPECT_EQ(defaults.groups(), 1);
  EXPECT_TRUE(defaults.bias());
  EXPECT_EQ(defaults.padding_mode(), strata::kZeros);

  const auto o = Conv2dOptions(16, 33, {3, 5})
                     .stride({2, 1})
                     .padding({4, 2})
                     .dilation({3, 1})
                     .groups(1)
                     .bias(false)
                     .padding_mode(strata::kReflect);
  EXPECT_EQ(o.kernel_size()[1], 5);
  EXPECT_EQ(o.stride()[0], 2);
  EXPECT_EQ(o.padding().values()[1], 2);
  EXPECT_EQ(o.dilation()[0], 3);
  EXPECT_FALSE(o.bias());
  EXPECT_EQ(o.padding_mode(), PaddingMode::Reflect);
  EXPECT_TRUE(Conv1dOptions(2, 2, 3).padding(strata::kSame).padding().is_same());
  EXPECT_TRUE(Conv1dOptions(2, 2, 3).padding(strata::nn::kValid).padding().is_valid());
  EXPECT_EQ(Conv2dOptions(2, 2, 3).stride(2).stride(), strata::nn::ExpandingArray<2>({2, 2}));
  EXPECT_THROW_WITH(Conv2dOptions(2, 2, {3, 3, 3}), strata::Error, "expected 2 values, got 3 values");
  EXPECT_THROW_WITH(Conv2dOptions(2, 2, 3).stride({1}), strata::Error, "expected 2 values, got 1 value");
}

TEST(ConvLayerTest, DeductionGuidesGiveFloat) {
  Conv1d a(Conv1dOptions(16, 33, 3).stride(2));
  Conv2d b(16, 33, 3);
  Conv1d c(8, 32, 1);
  Conv2d<double> d(Conv2dOptions(2, 3, {3, 5}));
  static_assert(std::is_same_v<decltype(a), Conv1d<float>>);
  static_assert(std::is_same_v<decltype(b), Conv2d<float>>);
  static_assert(std::is_same_v<decltype(c), Conv1d<float>>);
  static_assert(std::is_base_of_v<strata::nn::Conv<2, double>, decltype(d)>);
  static_assert(std::is_base_of_v<strata::nn::Module<float>, Conv1d<>>);
  EXPECT_EQ(a.name(), "Conv1d");
  EXPECT_EQ(d.name(), "Conv2d");
}

// ---- shapes ---------------------------------------------------------------

TYPED_TEST(ConvTest, TorchDocumentationShapes) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(1);
  Conv1d<TypeParam> m1(Conv1dOptions(16, 33, 3).stride(2));
  EXPECT_EQ(m1(Tensor::randn({20, 16, 50}, gen)).shape(), (Shape{20, 33, 24}));

  // torch.nn.Conv2d's docstring examples, on a batch of 2 instead of 20 to
  // keep the test fast; the 20-image shapes are checked by conv_output_shape.
  Conv2d<TypeParam> m2(Conv2dOptions(16, 33, 3).stride(2));
  EXPECT_EQ(m2(Tensor::randn({2, 16, 50, 100}, gen)).shape(), (Shape{2, 33, 24, 49}));
  EXPECT_EQ(strata::nn::conv_output_shape(m2.options(), {20, 16, 50, 100}), (Shape{20, 33, 24, 49}));
  const auto o3 = Conv2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2}).dilation({3, 1});
  Conv2d<TypeParam> m3(o3);
  // H: floor((50 + 2*4 - 3*(3-1) - 1) / 2) + 1 = 26 (torch 1.13 prints [20, 33, 26, 100] too).
  EXPECT_EQ(m3(Tensor::randn({2, 16, 50, 100}, gen)).shape(), (Shape{2, 33, 26, 100}));
  EXPECT_EQ(strata::nn::conv_output_shape(o3, {20, 16, 50, 100}), (Shape{20, 33, 26, 100}));
}

TYPED_TEST(ConvTest, UnbatchedInputGivesUnbatchedOutput) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(2);
  for (PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular}) {
    Conv2d<TypeParam> conv(Conv2dOptions(3, 4, 3).padding(1).padding_mode(mode));
    const Tensor x = Tensor::randn({3, 5, 6}, gen);
    const Tensor y = conv(x);
    EXPECT_EQ(y.shape(), (Shape{4, 5, 6}));
    EXPECT_EQ(strata::max_abs_diff(y, conv(x.unsqueeze(0)).squeeze(0)), TypeParam(0));
    Conv1d<TypeParam> conv1(Conv1dOptions(3, 2, 2).padding(strata::kSame).padding_mode(mode));
    EXPECT_EQ(conv1(Tensor::randn({3, 7}, gen)).shape(), (Shape{2, 7}));
  }
}

TYPED_TEST(ConvTest, ZeroBatchGivesEmptyOutput) {
  using Tensor = typename TestFixture::Tensor;
  Conv2d<TypeParam> conv(Conv2dOptions(3, 4, 3).stride(2).padding_mode(strata::kReflect).padding(1));
  const Tensor y = conv(Tensor::zeros({0, 3, 9, 8}));
  EXPECT_EQ(y.shape(), (Shape{0, 4, 5, 4}));
  EXPECT_EQ(y.numel(), 0);
  Conv1d<TypeParam> conv1(2, 5, 3);
  EXPECT_EQ(conv1(Tensor::zeros({0, 2, 3})).shape(), (Shape{0, 5, 1}));
}

// ---- values: hand-computed ----------------------------------------------

TYPED_TEST(ConvTest, HandComputedConv1d) {
  using Tensor = typename TestFixture::Tensor;
  Conv1d<TypeParam> conv(1, 1, 3);
  conv.weight().copy_(Tensor({1, 1, 3}, {1, 2, 3}));
  conv.bias().fill_(TypeParam(0.5));
  // y[i] = x[i] + 2 x[i+1] + 3 x[i+2] + 0.5
  const Tensor y = conv(Tensor({1, 1, 5}, {1, 2, 3, 4, 5}));
  EXPECT_TRUE(strata::allclose(y, Tensor({1, 1, 3}, {14.5, 20.5, 26.5}), 0, 0));
}

TYPED_TEST(ConvTest, HandComputedPaddingModes) {
  using Tensor = typename TestFixture::Tensor;
  // Weight [1, 0, 0] with padding 1 reads each output's left neighbour, so the
  // output is the padded row shifted: it shows the padded element directly.
  const Tensor x({1, 1, 4}, {1, 2, 3, 4});
  const std::vector<std::pair<PaddingMode, std::vector<TypeParam>>> cases = {
      {strata::kZeros, {0, 1, 2, 3}},      // 0 | 1 2 3 4 | 0
      {strata::kReflect, {2, 1, 2, 3}},    // 2 | 1 2 3 4 | 3
      {strata::kReplicate, {1, 1, 2, 3}},  // 1 | 1 2 3 4 | 4
      {strata::kCircular, {4, 1, 2, 3}},   // 4 | 1 2 3 4 | 1
  };
  for (const auto& [mode, expected] : cases) {
    Conv1d<TypeParam> left(Conv1dOptions(1, 1, 3).padding(1).padding_mode(mode).bias(false));
    left.weight().copy_(Tensor({1, 1, 3}, {1, 0, 0}));
    EXPECT_TRUE(strata::allclose(left(x), Tensor({1, 1, 4}, expected), 0, 0)) << strata::nn::padding_mode_name(mode);
  }
  // Right neighbour, padding 2 on a 2-D input of height 1 (reflect needs padding < 4).
  const Tensor x2({1, 1, 1, 4}, {1, 2, 3, 4});
  const std::vector<std::pair<PaddingMode, std::vector<TypeParam>>> right_cases = {
      {strata::kZeros, {3, 4, 0, 0}},      // .. | 1 2 3 4 | 0 0
      {strata::kReflect, {3, 4, 3, 2}},    // .. | 1 2 3 4 | 3 2
      {strata::kReplicate, {3, 4, 4, 4}},  // .. | 1 2 3 4 | 4 4
      {strata::kCircular, {3, 4, 1, 2}},   // .. | 1 2 3 4 | 1 2
  };
  for (const auto& [mode, expected] : right_cases) {
    Conv2d<TypeParam> right(Conv2dOptions(1, 1, {1, 5}).padding({0, 2}).padding_mode(mode).bias(false));
    right.weight().copy_(Tensor({1, 1, 1, 5}, {0, 0, 0, 0, 1}));
    EXPECT_TRUE(strata::allclose(right(x2), Tensor({1, 1, 1, 4}, expected), 0, 0))
        << strata::nn::padding_mode_name(mode);
  }
}

TYPED_TEST(ConvTest, SamePaddingPutsTheOddElementLast) {
  using Tensor = typename TestFixture::Tensor;
  // kernel 4 -> padding (1, 2); weight e_0 reads x[i - 1].
  Conv1d<TypeParam> conv(Conv1dOptions(1, 1, 4).padding(strata::kSame).bias(false));
  conv.weight().copy_(Tensor({1, 1, 4}, {1, 0, 0, 0}));
  EXPECT_TRUE(strata::allclose(conv(Tensor({1, 1, 4}, {1, 2, 3, 4})), Tensor({1, 1, 4}, {0, 1, 2, 3}), 0, 0));
  conv.weight().copy_(Tensor({1, 1, 4}, {0, 0, 0, 1}));  // reads x[i + 2]
  EXPECT_TRUE(strata::allclose(conv(Tensor({1, 1, 4}, {1, 2, 3, 4})), Tensor({1, 1, 4}, {3, 4, 0, 0}), 0, 0));
}

// ---- values: the naive reference over a grid of options -----------------

struct GridCase {
  std::vector<index_t> kernel, stride, dilation;
  int padding;  // >= 0: that many on every side, -1: kSame, -2: kValid
  index_t in_channels, out_channels, groups;
  PaddingMode mode;
  bool bias, batched;
};

template <std::size_t D>
strata::nn::ExpandingArray<D> first_d(const std::vector<index_t>& v) {
  return strata::nn::ExpandingArray<D>(std::vector<index_t>(v.begin(), v.begin() + D));
}

template <std::size_t D, typename T>
void check_against_reference(const GridCase& g, strata::Generator& gen, int& checked) {
  strata::nn::ConvOptions<D> options(g.in_channels, g.out_channels, first_d<D>(g.kernel));
  options.stride(first_d<D>(g.stride))
      .dilation(first_d<D>(g.dilation))
      .groups(g.groups)
      .bias(g.bias)
      .padding_mode(g.mode);
  if (g.padding == -1) {
    options.padding(strata::kSame);
  } else if (g.padding == -2) {
    options.padding(strata::kValid);
  } else {
    options.padding(g.padding);
  }
  std::array<index_t, D> before{}, after{};
  std::vector<index_t> in_shape{2, g.in_channels};
  for (std::size_t d = 0; d < D; ++d) {
    if (g.padding == -1) std::tie(before[d], after[d]) = strata::nn::same_padding(g.kernel[d], g.dilation[d]);
    if (g.padding >= 0) before[d] = after[d] = g.padding;
    in_shape.push_back(d == 0 ? 7 : 6);
  }
  // Skip what torch refuses too: those errors have their own tests.
  if (g.mode == PaddingMode::Reflect && g.padding >= 6) return;
  const bool same_strided = g.padding == -1 && g.stride[0] * (D == 2 ? g.stride[1] : 1) > 1;
  if (same_strided) return;
  bool fits = true;
  for (std::size_t d = 0; d < D; ++d) {
    fits = fits && in_shape[d + 2] + before[d] + after[d] >= g.dilation[d] * (g.kernel[d] - 1) + 1;
  }
  if (!fits) return;

  strata::nn::Conv<D, T> conv(options);
  strata::Tensor<T> x = strata::Tensor<T>::randn(Shape(in_shape), gen);
  const strata_test::ReferenceConv ref =
      strata_test::reference_conv<D, T>(x, conv.weight(), conv.bias(), options.stride().array(), before, after,
                                        options.dilation().array(), g.groups, g.mode);
  if (g.batched) {
    const strata::Tensor<T> y = conv(x);
    EXPECT_EQ(y.shape(), strata::nn::conv_output_shape(options, x.shape()));
    EXPECT_TRUE(strata_test::matches_reference(y, ref));
  } else {
    // One image of the batch, unbatched.
    const strata::Tensor<T> x0 = x.narrow(0, 1, 1).squeeze(0);
    const strata::Tensor<T> y = conv(x0);
    EXPECT_EQ(y.shape(), strata::nn::conv_output_shape(options, x0.shape()));
    strata_test::ReferenceConv ref0 = ref;
    const std::size_t half = ref.values.size() / 2;
    ref0.values.assign(ref.values.begin() + static_cast<std::ptrdiff_t>(half), ref.values.end());
    ref0.magnitudes.assign(ref.magnitudes.begin() + static_cast<std::ptrdiff_t>(half), ref.magnitudes.end());
    ref0.shape = y.shape();
    EXPECT_EQ(Shape(std::vector<index_t>(ref.shape.begin() + 1, ref.shape.end())), y.shape());
    EXPECT_TRUE(strata_test::matches_reference(y, ref0));
  }
  ++checked;
}

TYPED_TEST(ConvTest, MatchesNaiveReferenceOverOptionGrid) {
  strata::Generator gen(3);
  const std::vector<std::vector<index_t>> kernels = {{1, 1}, {2, 3}, {3, 1}, {4, 2}};
  const std::vector<std::vector<index_t>> strides = {{1, 1}, {2, 1}, {3, 2}};
  const std::vector<std::vector<index_t>> dilations = {{1, 1}, {2, 3}};
  const std::vector<int> paddings = {0, 1, 3, -1, -2};
  // (in, out, groups): plain, grouped, depthwise (out = 2 * in), depthwise multiplier 1.
  const std::vector<std::array<index_t, 3>> channels = {{2, 3, 1}, {4, 6, 2}, {3, 6, 3}, {4, 4, 4}};
  const std::vector<PaddingMode> modes = {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular};
  int checked1 = 0, checked2 = 0, combo = 0;
  for (const auto& k : kernels)
    for (const auto& s : strides)
      for (const auto& d : dilations)
        for (int p : paddings)
          for (const auto& c : channels)
            for (PaddingMode m : modes) {
              // bias and batching alternate so both values meet every other option
              const bool bias = combo % 2 == 0, batched = combo % 3 != 0;
              ++combo;
              const GridCase g{k, s, d, p, c[0], c[1], c[2], m, bias, batched};
              SCOPED_TRACE(::testing::Message()
                           << "kernel " << k[0] << "x" << k[1] << " stride " << s[0] << "x" << s[1] << " dilation "
                           << d[0] << "x" << d[1] << " padding " << p << " channels " << c[0] << "->" << c[1]
                           << " groups " << c[2] << " mode " << m << " bias " << bias << " batched " << batched);
              check_against_reference<1, TypeParam>(g, gen, checked1);
              check_against_reference<2, TypeParam>(g, gen, checked2);
            }
  // Most of the grid is valid; the skipped combinations are the ones torch refuses.
  EXPECT_GT(checked1, 1000);
  EXPECT_GT(checked2, 1000);
}

TYPED_TEST(ConvTest, NonContiguousInputGivesTheSameResult) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(4);
  for (PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kCircular}) {
    Conv2d<TypeParam> conv(Conv2dOptions(3, 4, {3, 2}).padding({1, 1}).groups(1).padding_mode(mode));
    const Tensor nhwc = Tensor::randn({2, 5, 6, 3}, gen);
    const Tensor x = nhwc.permute({0, 3, 1, 2});  // (N, C, H, W) view of NHWC data
    ASSERT_FALSE(x.is_contiguous());
    EXPECT_EQ(strata::max_abs_diff(conv(x), conv(x.contiguous())), TypeParam(0));

    Conv1d<TypeParam> conv1(Conv1dOptions(4, 2, 3).stride(2).padding(2).padding_mode(mode));
    const Tensor nlc = Tensor::randn({3, 9, 4}, gen);
    const Tensor x1 = nlc.transpose(1, 2);
    EXPECT_EQ(strata::max_abs_diff(conv1(x1), conv1(x1.contiguous())), TypeParam(0));
    const Tensor unbatched = Tensor::randn({9, 4}, gen).transpose(0, 1);
    EXPECT_EQ(strata::max_abs_diff(conv1(unbatched), conv1(unbatched.contiguous())), TypeParam(0));
  }
}

TYPED_TEST(ConvTest, ForwardIsSafeFromSeveralThreads) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(5);
  Conv2d<TypeParam> conv(Conv2dOptions(4, 8, 3).padding(1).padding_mode(strata::kReflect).groups(2));
  std::vector<Tensor> inputs, expected;
  for (int i = 0; i < 4; ++i) {
    inputs.push_back(Tensor::randn({2, 4, 12, 10}, gen));
    expected.push_back(conv(inputs.back()));
  }
  std::vector<Tensor> results(inputs.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int repeat = 0; repeat < 20; ++repeat) results[i] = conv(inputs[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < inputs.size(); ++i)
    EXPECT_EQ(strata::max_abs_diff(results[i], expected[i]), TypeParam(0));
}

// ---- initialisation --------------------------------------------------------

TYPED_TEST(ConvTest, InitialisationBoundsAndMoments) {
  strata::manual_seed(11);
  Conv2d<TypeParam> conv(Conv2dOptions(64, 32, 3).groups(2));  // fan_in = 64/2 * 3 * 3 = 288
  // The bound as T: U(-b, b) is drawn in T, and float(b) may round above b.
  const double bound = static_cast<TypeParam>(1.0 / std::sqrt(288.0));
  const auto w = strata_test::reference_values(conv.weight());
  const auto b = strata_test::reference_values(conv.bias());
  ASSERT_EQ(w.size(), 32u * 32u * 9u);
  double mean = 0, square = 0;
  for (double v : w) {
    EXPECT_LE(std::abs(v), bound);
    mean += v;
    square += v * v;
  }
  mean /= static_cast<double>(w.size());
  const double variance = square / static_cast<double>(w.size()) - mean * mean;
  // U(-b, b): mean 0 and variance b^2/3; with 9216 samples the standard error
  // of the mean is b/sqrt(3*9216) ~ 0.0035 b, of the variance ~ 0.01 b^2/3.
  EXPECT_LT(std::abs(mean), 0.02 * bound);
  EXPECT_NEAR(variance, bound * bound / 3, 0.05 * bound * bound / 3);
  ASSERT_EQ(b.size(), 32u);
  for (double v : b) EXPECT_LE(std::abs(v), bound);

  // Weight first, then bias, both from the default generator.
  strata::Generator gen(11);
  strata::Tensor<TypeParam> w2 = strata::Tensor<TypeParam>::empty(conv.weight().shape());
  strata::Tensor<TypeParam> b2 = strata::Tensor<TypeParam>::empty({32});
  strata::nn::init::kaiming_uniform_(w2, std::sqrt(5.0), gen);
  strata::nn::init::uniform_(b2, -strata::nn::init::fan_in_bound(288), strata::nn::init::fan_in_bound(288), gen);
  EXPECT_EQ(strata::max_abs_diff(conv.weight(), w2), TypeParam(0));
  EXPECT_EQ(strata::max_abs_diff(conv.bias(), b2), TypeParam(0));

  // Same seed, same parameters; reset_parameters redraws.
  strata::manual_seed(11);
  Conv2d<TypeParam> again(Conv2dOptions(64, 32, 3).groups(2));
  EXPECT_EQ(strata::max_abs_diff(again.weight(), conv.weight()), TypeParam(0));
  again.reset_parameters();
  EXPECT_GT(strata::max_abs_diff(again.weight(), conv.weight()), TypeParam(0));
  strata::Generator g1(3), g2(3);
  again.reset_parameters(g1);
  conv.reset_parameters(g2);
  EXPECT_EQ(strata::max_abs_diff(again.weight(), conv.weight()), TypeParam(0));
  EXPECT_EQ(strata::max_abs_diff(again.bias(), conv.bias()), TypeParam(0));

  Conv1d<TypeParam> small(Conv1dOptions(3, 2, 5).bias(false));  // fan_in 15
  const double small_bound = static_cast<TypeParam>(1.0 / std::sqrt(15.0));
  for (double v : strata_test::reference_values(small.weight())) EXPECT_LE(std::abs(v), small_bound);
}

// ---- parameters, state_dict, printing --------------------------------------

TYPED_TEST(ConvTest, Parameters) {
  Conv1d<TypeParam> pointwise(8, 32, 1);
  EXPECT_EQ(pointwise.num_parameters(), 288);  // the same as Linear(8, 32)
  EXPECT_EQ(pointwise.weight().shape(), (Shape{32, 8, 1}));
  EXPECT_EQ(pointwise.bias().shape(), (Shape{32}));

  Conv2d<TypeParam> conv(Conv2dOptions(4, 6, {3, 2}).groups(2));
  const auto named = conv.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[0].second.shape(), (Shape{6, 2, 3, 2}));
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_TRUE(named[0].second.shares_storage_with(conv.weight()));
  EXPECT_EQ(conv.parameters().size(), 2u);
  EXPECT_EQ(conv.num_parameters(), 6 * 2 * 3 * 2 + 6);

  Conv2d<TypeParam> nobias(Conv2dOptions(4, 6, 3).bias(false));
  EXPECT_FALSE(nobias.bias().defined());
  ASSERT_EQ(nobias.named_parameters().size(), 1u);
  EXPECT_EQ(nobias.num_parameters(), 6 * 4 * 9);

  // state_dict round trip into a fresh layer.
  Conv2d<TypeParam> copy(Conv2dOptions(4, 6, {3, 2}).groups(2));
  copy.load_state_dict(conv.state_dict());
  strata::Generator gen(6);
  const auto x = strata::Tensor<TypeParam>::randn({1, 4, 5, 5}, gen);
  EXPECT_EQ(strata::max_abs_diff(copy(x), conv(x)), TypeParam(0));
  EXPECT_THROW_WITH(copy.load_state_dict(nobias.state_dict()), strata::Error, "Missing key(s) in state_dict");
}

TEST(ConvPrintTest, LikeLibtorch) {
  EXPECT_EQ(printed(Conv1d(Conv1dOptions(16, 33, 3).stride(2))), "strata::nn::Conv1d(16, 33, kernel_size=3, stride=2)");
  EXPECT_EQ(printed(Conv2d(Conv2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2}).dilation({3, 1}))),
            "strata::nn::Conv2d(16, 33, kernel_size=[3, 5], stride=[2, 1], padding=[4, 2], dilation=[3, 1])");
  EXPECT_EQ(printed(Conv2d(16, 33, 3)), "strata::nn::Conv2d(16, 33, kernel_size=[3, 3], stride=[1, 1])");
  EXPECT_EQ(printed(Conv1d<double>(
                Conv1dOptions(4, 8, 3).padding(strata::kSame).groups(2).bias(false).padding_mode(strata::kCircular))),
            "strata::nn::Conv1d(4, 8, kernel_size=3, stride=1, padding='same', groups=2, bias=false, "
            "padding_mode=kCircular)");
  EXPECT_EQ(printed(Conv2d(Conv2dOptions(2, 2, 3).padding(strata::kValid).padding_mode(strata::kReplicate))),
            "strata::nn::Conv2d(2, 2, kernel_size=[3, 3], stride=[1, 1], padding='valid', padding_mode=kReplicate)");
  EXPECT_EQ(printed(Conv2d(Conv2dOptions(2, 2, 3).padding({0, 1}).padding_mode(strata::kReflect))),
            "strata::nn::Conv2d(2, 2, kernel_size=[3, 3], stride=[1, 1], padding=[0, 1], padding_mode=kReflect)");
}

// ---- conv_output_shape ---------------------------------------------------------

TEST(ConvOutputShapeTest, ShapesAndErrors) {
  EXPECT_EQ(strata::nn::conv_output_shape(Conv1dOptions(16, 33, 3).stride(2), {20, 16, 50}), (Shape{20, 33, 24}));
  EXPECT_EQ(strata::nn::conv_output_shape(Conv1dOptions(16, 33, 3).stride(2), {16, 50}), (Shape{33, 24}));
  EXPECT_EQ(
      strata::nn::conv_output_shape(Conv2dOptions(2, 4, {2, 4}).padding(strata::kSame).dilation({3, 1}), {2, 7, 9}),
      (Shape{4, 7, 9}));
  EXPECT_EQ(strata::nn::conv_output_shape(Conv2dOptions(2, 4, 3).padding(strata::kValid), {1, 2, 7, 9}),
            (Shape{1, 4, 5, 7}));
  EXPECT_THROW_WITH(strata::nn::conv_output_shape(Conv2dOptions(2, 4, 3), {3, 8}), strata::Error,
                    "Conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [3, 8]");
  EXPECT_THROW_WITH(strata::nn::conv_output_shape(Conv2dOptions(3, 4, 3).groups(2), {1, 3, 8, 8}), strata::Error,
                    "in_channels must be divisible by groups");
  EXPECT_THROW_WITH(strata::nn::conv_output_shape(Conv2dOptions(2, 4, 3), {1, 2, 2, 5}), strata::Error,
                    "Calculated padded input size per channel: (2 x 5). Kernel size: (3 x 3). Kernel size can't be "
                    "greater than actual input size");
  EXPECT_THROW_WITH(
      strata::nn::conv_output_shape(Conv1dOptions(2, 4, 3).padding(5).padding_mode(strata::kReflect), {1, 2, 5}),
      strata::Error, "Padding size should be less than the corresponding input dimension");
}

// ---- errors -------------------------------------------------------------------

TEST(ConvErrorTest, ConstructorRefusesInvalidOptions) {
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(3, 6, 3).groups(2)), strata::Error,
                    "Conv2d: in_channels must be divisible by groups, got in_channels=3 and groups=2");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(4, 6, 3).groups(4)), strata::Error,
                    "Conv2d: out_channels must be divisible by groups, got out_channels=6 and groups=4");
  EXPECT_THROW_WITH(Conv1d(Conv1dOptions(4, 6, 3).groups(0)), strata::Error,
                    "Conv1d: groups must be a positive integer, got groups=0");
  EXPECT_THROW_WITH(Conv1d(Conv1dOptions(4, 6, 3).groups(-2)), strata::Error, "groups must be a positive integer");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, 2, 3).stride(2).padding(strata::kSame)), strata::Error,
                    "Conv2d: padding='same' is not supported for strided convolutions, got stride=[2, 2]");
  EXPECT_THROW_WITH(Conv1d(Conv1dOptions(2, 2, 3).stride(3).padding(strata::kSame)), strata::Error,
                    "padding='same' is not supported for strided convolutions, got stride=3");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, 2, {3, 0})), strata::Error,
                    "Conv2d: expected kernel_size > 0 in every dimension, got kernel_size=[3, 0]");
  EXPECT_THROW_WITH(Conv1d(Conv1dOptions(2, 2, -1)), strata::Error, "expected kernel_size > 0");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, 2, 3).stride({1, 0})), strata::Error,
                    "Conv2d: expected stride >= 1 in every dimension, got stride=[1, 0] (non-positive stride is not "
                    "supported)");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, 2, 3).stride(0).padding(strata::kSame)), strata::Error,
                    "non-positive stride is not supported");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, 2, 3).dilation({1, 0})), strata::Error,
                    "got dilation=[1, 0] (dilation should be greater than zero)");
  EXPECT_THROW_WITH(Conv1d(Conv1dOptions(2, 2, 3).dilation(-1).padding(strata::kSame)), strata::Error,
                    "dilation should be greater than zero");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(0, 2, 3)), strata::Error, "Conv2d: expected in_channels > 0, got 0");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, -1, 3)), strata::Error, "Conv2d: expected out_channels > 0, got -1");
  EXPECT_THROW_WITH(Conv2d(Conv2dOptions(2, 2, 3).padding({1, -1})), strata::Error,
                    "Conv2d: expected padding >= 0 in every dimension, got padding=[1, -1] (negative padding is not "
                    "supported)");
}

TYPED_TEST(ConvTest, ForwardRefusesInvalidInputs) {
  using Tensor = typename TestFixture::Tensor;
  Conv2d<TypeParam> conv(2, 2, 3);
  EXPECT_THROW_WITH(conv(Tensor::zeros({3, 8})), strata::Error,
                    "Conv2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [3, 8]");
  EXPECT_THROW_WITH(conv(Tensor::zeros({2})), strata::Error, "got shape [2]");
  EXPECT_THROW_WITH(conv(Tensor::zeros({1, 1, 2, 5, 5})), strata::Error, "expected 4-D input");
  EXPECT_THROW_WITH(conv(Tensor()), strata::Error, "Conv2d: the input is undefined");
  Conv1d<TypeParam> conv1(2, 2, 3);
  EXPECT_THROW_WITH(conv1(Tensor::zeros({1, 2, 5, 5})), strata::Error,
                    "Conv1d: expected 3-D input (N, C, L) or 2-D (C, L), got shape [1, 2, 5, 5]");
  EXPECT_THROW_WITH(conv(Tensor::zeros({1, 3, 5, 5})), strata::Error,
                    "Conv2d: Given groups=1, weight of size [2, 2, 3, 3], expected input[1, 3, 5, 5] to have 2 "
                    "channels, but got 3 channels instead");
  // Unbatched inputs are reported as torch reports them, as a batch of one.
  EXPECT_THROW_WITH(conv(Tensor::zeros({3, 5, 5})), strata::Error,
                    "expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead");
  EXPECT_THROW_WITH(conv(Tensor::zeros({1, 2, 2, 5})), strata::Error,
                    "Conv2d: Calculated padded input size per channel: (2 x 5). Kernel size: (3 x 3). Kernel size "
                    "can't be greater than actual input size");
  Conv1d<TypeParam> dilated(Conv1dOptions(2, 2, 3).dilation(2).padding(1));
  EXPECT_THROW_WITH(dilated(Tensor::zeros({2, 2})), strata::Error,
                    "Calculated padded input size per channel: (4). Kernel size: (5)");
}

TYPED_TEST(ConvTest, ForwardRefusesPaddingTheModeCannotApply) {
  using Tensor = typename TestFixture::Tensor;
  Conv2d<TypeParam> reflect(Conv2dOptions(2, 2, 3).padding(4).padding_mode(strata::kReflect));
  EXPECT_THROW_WITH(reflect(Tensor::zeros({1, 2, 4, 4})), strata::Error,
                    "Conv2d: expected reflect padding smaller than the input size, got padding (4, 4) at dimension 2 "
                    "of input [1, 2, 4, 4] (Padding size should be less than the corresponding input dimension)");
  EXPECT_EQ(reflect(Tensor::zeros({1, 2, 5, 5})).shape(), (Shape{1, 2, 11, 11}));  // padding size - 1 is fine
  Conv1d<TypeParam> reflect1(Conv1dOptions(2, 2, 3).padding(5).padding_mode(strata::kReflect));
  EXPECT_THROW_WITH(reflect1(Tensor::zeros({1, 2, 5})), strata::Error,
                    "padding (5, 5) at dimension 2 of input [1, 2, 5]");
  // 'same' padding with an even kernel pads (1, 2): the larger side decides.
  Conv1d<TypeParam> reflect_same(Conv1dOptions(1, 1, 4).padding(strata::kSame).padding_mode(strata::kReflect));
  EXPECT_THROW_WITH(reflect_same(Tensor::zeros({1, 2})), strata::Error, "got padding (1, 2) at dimension 2");
  EXPECT_EQ(reflect_same(Tensor::zeros({1, 3})).shape(), (Shape{1, 3}));

  Conv2d<TypeParam> circular(Conv2dOptions(2, 2, 3).padding({1, 5}).padding_mode(strata::kCircular));
  EXPECT_THROW_WITH(circular(Tensor::zeros({1, 2, 4, 4})), strata::Error,
                    "Conv2d: expected circular padding no larger than the input size, got padding (5, 5) at dimension "
                    "3 of input [1, 2, 4, 4] (Padding value causes wrapping around more than once.)");
  EXPECT_EQ(circular(Tensor::zeros({1, 2, 4, 5})).shape(), (Shape{1, 2, 4, 13}));  // padding == size is fine
  // Replicate pads any amount.
  Conv1d<TypeParam> replicate(Conv1dOptions(1, 1, 3).padding(6).padding_mode(strata::kReplicate));
  EXPECT_EQ(replicate(Tensor::ones({1, 1, 2})).shape(), (Shape{1, 1, 12}));
}

TYPED_TEST(ConvTest, ForwardRefusesParametersOfTheWrongShape) {
  using Tensor = typename TestFixture::Tensor;
  const Tensor x = Tensor::zeros({1, 2, 5, 5});
  Conv2d<TypeParam> conv(2, 3, 3);
  conv.weight() = Tensor::zeros({3, 2, 3, 2});
  EXPECT_THROW_WITH(conv(x), strata::Error, "Conv2d: expected weight of shape [3, 2, 3, 3], got [3, 2, 3, 2]");
  conv.weight() = Tensor();
  EXPECT_THROW_WITH(conv(x), strata::Error, "expected weight of shape [3, 2, 3, 3], got an undefined tensor");
  conv.weight() = Tensor::zeros({3, 2, 3, 3});
  conv.bias() = Tensor::zeros({2});
  EXPECT_THROW_WITH(conv(x), strata::Error, "Conv2d: expected bias of shape [3], got [2]");
  conv.bias() = Tensor();
  EXPECT_THROW_WITH(conv(x), strata::Error, "expected bias of shape [3], got an undefined tensor");
  Conv1d<TypeParam> nobias(Conv1dOptions(2, 3, 3).bias(false));
  nobias.bias() = Tensor::zeros({3});
  EXPECT_THROW_WITH(nobias(Tensor::zeros({2, 5})), strata::Error,
                    "Conv1d: expected no bias (the layer was built with bias=false), got shape [3]");
}

}  // namespace
