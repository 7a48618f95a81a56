// Tests for strata/nn/conv_transpose.hpp: ConvTransposeOptions, the
// ConvTranspose1d / ConvTranspose2d layers (shapes, torch's docstring
// examples, hand-computed values, the naive reference over a grid of
// options, forward(x, output_size), initialisation, parameters, printing,
// threads, torch's error messages), conv_transpose_output_shape, and the
// exact conversions to_conv / to_conv_transpose of nn/conversions.hpp (here
// rather than in conversions_test.cpp, beside the layer they convert). The
// PyTorch golden cases are in conv_transpose_golden_test.cpp, which also
// runs to_conv of every stride-1 case against torch's output.
#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <strata/nn/conv_transpose.hpp>
#include <strata/nn/conversions.hpp>

#include "reference_conv_transpose.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::nn::ConvTranspose1d;
using strata::nn::ConvTranspose1dOptions;
using strata::nn::ConvTranspose2d;
using strata::nn::ConvTranspose2dOptions;

template <typename T>
class ConvTransposeTest : public ::testing::Test {
 protected:
  using Tensor = strata::Tensor<T>;
};
TYPED_TEST_SUITE(ConvTransposeTest, strata_test::ScalarTypes);

template <typename M>
std::string conv_transpose_printed(const M& m) {
  std::ostringstream out;
  out << m;
  return out.str();
}

TEST(ConvTransposeOptionsTest, DefaultsSettersAndDeduction) {
  const ConvTranspose2dOptions d(16, 33, 3);
  EXPECT_EQ(d.kernel_size(), strata::nn::ExpandingArray<2>({3, 3}));
  EXPECT_EQ(d.stride(), strata::nn::ExpandingArray<2>(1));
  EXPECT_EQ(d.padding(), strata::nn::ExpandingArray<2>(0));
  EXPECT_EQ(d.output_padding(), strata::nn::ExpandingArray<2>(0));
  EXPECT_EQ(d.dilation(), strata::nn::ExpandingArray<2>(1));
  EXPECT_EQ(d.groups(), 1);
  EXPECT_TRUE(d.bias());
  EXPECT_EQ(d.padding_mode(), strata::kZeros);
  const auto o = ConvTranspose2dOptions(4, 6, {3, 5}).stride({2, 1}).padding({1, 2}).output_padding({1, 0}).groups(2)
                     .bias(false).dilation({1, 3});
  EXPECT_EQ(o.stride()[0], 2);
  EXPECT_EQ(o.padding()[1], 2);
  EXPECT_EQ(o.output_padding()[0], 1);
  EXPECT_EQ(o.dilation()[1], 3);
  EXPECT_FALSE(o.bias());
  EXPECT_THROW_WITH(ConvTranspose2dOptions(2, 2, {3, 3, 3}), strata::Error, "expected 2 values, got 3 values");

  ConvTranspose2d a(ConvTranspose2dOptions(4, 2, 3));
  ConvTranspose1d b(4, 2, 3);
  static_assert(std::is_same_v<decltype(a), ConvTranspose2d<float>>);
  static_assert(std::is_same_v<decltype(b), ConvTranspose1d<float>>);
  static_assert(std::is_base_of_v<strata::nn::ConvTranspose<2, double>, ConvTranspose2d<double>>);
  EXPECT_EQ(a.name(), "ConvTranspose2d");
  EXPECT_EQ(b.name(), "ConvTranspose1d");
}

TYPED_TEST(ConvTransposeTest, TorchDocumentationShapes) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(1);
  // torch.nn.ConvTranspose2d's docstring: (20, 16, 50, 100) -> (20, 33, 101, 201), here on 2 images.
  ConvTranspose2d<TypeParam> m(ConvTranspose2dOptions(16, 33, 3).stride(2));
  EXPECT_EQ(m(Tensor::randn({2, 16, 50, 100}, gen)).shape(), (Shape{2, 33, 101, 201}));
  EXPECT_EQ(strata::nn::conv_transpose_output_shape(m.options(), {20, 16, 50, 100}), (Shape{20, 33, 101, 201}));
  const auto o2 = ConvTranspose2dOptions(16, 33, {3, 5}).stride({2, 1}).padding({4, 2});
  EXPECT_EQ(strata::nn::conv_transpose_output_shape(o2, {20, 16, 50, 100}), (Shape{20, 33, 93, 100}));
  // The docstring's down-then-up pair: output_size in torch's full form restores 12 x 12.
  strata::nn::Conv2d<TypeParam> down(strata::nn::Conv2dOptions(16, 16, 3).stride(2).padding(1));
  ConvTranspose2d<TypeParam> up(ConvTranspose2dOptions(16, 16, 3).stride(2).padding(1));
  const Tensor x = Tensor::randn({1, 16, 12, 12}, gen);
  const Tensor h = down(x);
  EXPECT_EQ(h.shape(), (Shape{1, 16, 6, 6}));
  EXPECT_EQ(up(h).shape(), (Shape{1, 16, 11, 11}));
  EXPECT_EQ(up(h, x.shape().vec()).shape(), (Shape{1, 16, 12, 12}));
  EXPECT_EQ(up(h, {12, 12}).shape(), (Shape{1, 16, 12, 12}));
  // Unbatched, an empty batch, output_padding.
  ConvTranspose1d<TypeParam> m1(ConvTranspose1dOptions(4, 2, 3).stride(2).padding(1).output_padding(1));
  EXPECT_EQ(m1(Tensor::randn({4, 5}, gen)).shape(), (Shape{2, 10}));
  EXPECT_EQ(m1(Tensor::zeros({0, 4, 5})).shape(), (Shape{0, 2, 10}));
  EXPECT_EQ(m1(Tensor::zeros({0, 4, 0})).shape(), (Shape{0, 2, 0}));  // torch: (0 - 1) * 2 - 2 + 2 + 1 + 1 = 0
  EXPECT_EQ(m1(Tensor::zeros({0, 4, 1})).shape(), (Shape{0, 2, 2}));
  const Tensor u = Tensor::randn({4, 7}, gen);
  EXPECT_TRUE(strata_test::same_bits(m1(u), m1(u.unsqueeze(0)).squeeze(0)));
}

TYPED_TEST(ConvTransposeTest, HandComputedValues) {
  using Tensor = typename TestFixture::Tensor;
  // One channel, weight {1, 2}, input {1, 2, 3}: each input scatters a copy of the kernel.
  ConvTranspose1d<TypeParam> s2(ConvTranspose1dOptions(1, 1, 2).stride(2).bias(false));
  s2.weight().copy_(Tensor({1, 1, 2}, {1, 2}));
  const Tensor x({1, 1, 3}, {1, 2, 3});
  EXPECT_EQ(strata::max_abs_diff(s2(x), Tensor({1, 1, 6}, {1, 2, 2, 4, 3, 6})), TypeParam(0));
  ConvTranspose1d<TypeParam> s1(ConvTranspose1dOptions(1, 1, 2));
  s1.weight().copy_(Tensor({1, 1, 2}, {1, 2}));
  s1.bias().fill_(TypeParam(10));
  EXPECT_EQ(strata::max_abs_diff(s1(x), Tensor({1, 1, 4}, {11, 14, 17, 16})), TypeParam(0));
  // padding crops both ends; output_padding adds one more (bias-only) position at the end.
  ConvTranspose1d<TypeParam> cropped(ConvTranspose1dOptions(1, 1, 2).stride(2).padding(1).output_padding(1));
  cropped.weight().copy_(Tensor({1, 1, 2}, {1, 2}));
  cropped.bias().fill_(TypeParam(0.5));
  EXPECT_EQ(strata::max_abs_diff(cropped(x), Tensor({1, 1, 5}, {2.5, 2.5, 4.5, 3.5, 6.5})), TypeParam(0));
  // 2-d, groups 2: each input channel feeds only its group's output channel.
  ConvTranspose2d<TypeParam> g(ConvTranspose2dOptions(2, 2, 1).groups(2).bias(false));
  g.weight().copy_(Tensor({2, 1, 1, 1}, {2, -1}));
  const Tensor y = g(Tensor({2, 1, 2}, {1, 2, 3, 4}));
  EXPECT_EQ(strata::max_abs_diff(y, Tensor({2, 1, 2}, {2, 4, -3, -4})), TypeParam(0));
}

/// One grid point of the option sweep.
struct ConvTransposeGridCase {
  index_t in, out, groups, k0, k1, s0, s1, p0, p1, op0, op1, d0, d1, h, w, batch;
  bool bias;
};

template <typename T>
void conv_transpose_check_grid_case(const ConvTransposeGridCase& c, strata::Generator& gen, double& worst) {
  using Tensor = strata::Tensor<T>;
  SCOPED_TRACE(testing::Message() << "in=" << c.in << " out=" << c.out << " g=" << c.groups << " k=" << c.k0 << "x"
                                  << c.k1 << " s=" << c.s0 << "x" << c.s1 << " p=" << c.p0 << "x" << c.p1
                                  << " op=" << c.op0 << "x" << c.op1 << " d=" << c.d0 << "x" << c.d1);
  const auto o = ConvTranspose2dOptions(c.in, c.out, {c.k0, c.k1}).stride({c.s0, c.s1}).padding({c.p0, c.p1})
                     .output_padding({c.op0, c.op1}).dilation({c.d0, c.d1}).groups(c.groups).bias(c.bias);
  ConvTranspose2d<T> m(o);
  const Tensor x = Tensor::randn({c.batch, c.in, c.h, c.w}, gen);
  const strata_test::ReferenceConv ref = strata_test::reference_conv_transpose<2, T>(
      x, m.weight(), m.bias(), {c.s0, c.s1}, {c.p0, c.p1}, {c.op0, c.op1}, {c.d0, c.d1}, c.groups);
  const Tensor y = m(x);
  EXPECT_TRUE(strata_test::matches_reference(y, ref, 1.0, &worst));
  // The functional form, in torch's argument order, computes the same bits.
  const Tensor f = strata::nn::functional::conv_transpose2d(x, m.weight(), m.bias(), {c.s0, c.s1}, {c.p0, c.p1},
                                                            {c.op0, c.op1}, c.groups, {c.d0, c.d1});
  EXPECT_TRUE(strata_test::same_bits(f, y));
  // And the 1-d layer on the width alone (height 1) matches its own reference.
  const auto o1 = ConvTranspose1dOptions(c.in, c.out, c.k1).stride(c.s1).padding(c.p1).output_padding(c.op1)
                      .dilation(c.d1).groups(c.groups).bias(c.bias);
  ConvTranspose1d<T> m1(o1);
  const Tensor x1 = Tensor::randn({c.batch, c.in, c.w}, gen);
  const strata_test::ReferenceConv ref1 = strata_test::reference_conv_transpose<1, T>(
      x1, m1.weight(), m1.bias(), {c.s1}, {c.p1}, {c.op1}, {c.d1}, c.groups);
  EXPECT_TRUE(strata_test::matches_reference(m1(x1), ref1, 1.0, &worst));
}

TYPED_TEST(ConvTransposeTest, MatchesNaiveReferenceOverOptionGrid) {
  strata::Generator gen(7);
  double worst = 0;
  int checked = 0;
  // Strides x paddings x output_paddings x dilations x groups, on small inputs; the
  // width gets its own stride and kernel, and combinations torch refuses are skipped.
  const auto output = [](index_t in, index_t k, index_t s, index_t p, index_t op, index_t d) {
    return (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
  };
  for (index_t s : {1, 2, 3})
    for (index_t p : {0, 1, 2})
      for (index_t op : {0, 1, 2})
        for (index_t d : {1, 2})
          for (index_t groups : {1, 2}) {
            const index_t k = 2 + (s + p + d) % 3, kw = std::max<index_t>(1, k - 1);  // kernels 1 to 4
            const index_t sw = s == 3 ? 1 : s, pw = p == 2 ? 0 : p, opw = op < sw ? op : 0;
            if (!(op < s || op < d) || output(3, k, s, p, op, d) < 1 || output(4, kw, sw, pw, opw, 1) < 1) continue;
            const ConvTransposeGridCase c{2 * groups, 3 * groups, groups, k, kw, s, sw, p, pw, op, opw, d, 1, 3, 4,
                                          1 + (s + op) % 2, (s + p) % 2 == 0};
            conv_transpose_check_grid_case<TypeParam>(c, gen, worst);
            ++checked;
          }
  EXPECT_GT(checked, 40);
  ::testing::Test::RecordProperty("worst_abs_diff", std::to_string(worst));
}

TYPED_TEST(ConvTransposeTest, HugeStrideOnOneInputPosition) {
  using Tensor = typename TestFixture::Tensor;
  // One input position: the stride places nothing, whatever its size (a fuzz finding: a stride of
  // INT64_MAX overflowed the overlap-add's ceiling divisions and dropped a tap). Output 0*s - 2 + 3*2 + 1 + 1 = 6.
  const index_t huge = std::numeric_limits<index_t>::max();
  ConvTranspose1d<TypeParam> m(ConvTranspose1dOptions(3, 6, 3).stride(huge).padding(1).output_padding(1).dilation(3)
                                   .groups(3));
  strata::Generator gen(11);
  const Tensor x = Tensor::randn({3, 1}, gen);
  const Tensor y = m(x);
  ASSERT_EQ(y.shape(), (Shape{6, 6}));
  strata_test::ReferenceConv ref = strata_test::reference_conv_transpose<1, TypeParam>(
      x.unsqueeze(0), m.weight(), m.bias(), {huge}, {1}, {1}, {3}, 3);
  ref.shape = y.shape();
  EXPECT_TRUE(strata_test::matches_reference(y, ref));
  ConvTranspose2d<TypeParam> m2(ConvTranspose2dOptions(2, 2, 2).stride({huge, 2}));
  const Tensor x2 = Tensor::randn({1, 2, 1, 3}, gen);
  EXPECT_TRUE(strata_test::matches_reference(
      m2(x2), strata_test::reference_conv_transpose<2, TypeParam>(x2, m2.weight(), m2.bias(), {huge, 2}, {0, 0}, {0, 0},
                                                                  {1, 1}, 1)));
}

TYPED_TEST(ConvTransposeTest, NonContiguousInputAndThreads) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(8);
  ConvTranspose2d<TypeParam> m(ConvTranspose2dOptions(6, 4, 4).stride(2).padding(1).groups(2));
  const Tensor base = Tensor::randn({2, 9, 7, 6}, gen);  // (N, W, H, C) storage, viewed as (N, C, H, W)
  const Tensor x = base.permute({0, 3, 2, 1}).narrow(1, 0, 6);
  ASSERT_FALSE(x.is_contiguous());
  const Tensor expected = m(x.contiguous());
  EXPECT_TRUE(strata_test::same_bits(m(x), expected));
  std::vector<Tensor> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) threads.emplace_back([&, i] { results[i] = m(x); });
  for (auto& t : threads) t.join();
  for (const Tensor& r : results) EXPECT_TRUE(strata_test::same_bits(r, expected));
}

TYPED_TEST(ConvTransposeTest, InitialisationUsesTorchsFanIn) {
  strata::manual_seed(12);
  // weight (32, 64/2, 3, 3): torch's fan_in is weight.size(1) * 9 = 32 * 9 = 288.
  ConvTranspose2d<TypeParam> m(ConvTranspose2dOptions(32, 64, 3).groups(2));
  EXPECT_EQ(m.weight().shape(), (Shape{32, 32, 3, 3}));
  const double bound = static_cast<TypeParam>(1.0 / std::sqrt(288.0));
  double largest = 0;
  for (double v : strata_test::reference_values(m.weight())) largest = std::max(largest, std::abs(v));
  EXPECT_LE(largest, bound);
  EXPECT_GT(largest, 0.95 * bound);  // 9216 draws of U(-b, b) come close to b
  for (double v : strata_test::reference_values(m.bias())) EXPECT_LE(std::abs(v), bound);
  strata::Generator gen(12);
  strata::Tensor<TypeParam> w = strata::Tensor<TypeParam>::empty(m.weight().shape());
  strata::nn::init::kaiming_uniform_(w, std::sqrt(5.0), gen);
  EXPECT_TRUE(strata_test::same_bits(w, m.weight()));  // weight first, from the default generator
  // ConvTranspose1d(4, 6, 5): fan_in = 6 * 5 = 30 (not in_channels * 5 = 20, as a Conv1d's would be).
  ConvTranspose1d<TypeParam> m1(4, 6, 5);
  double largest1 = 0;
  for (double v : strata_test::reference_values(m1.weight())) largest1 = std::max(largest1, std::abs(v));
  EXPECT_LE(largest1, static_cast<TypeParam>(1.0 / std::sqrt(30.0)));
  EXPECT_GT(largest1, 1.0 / std::sqrt(20.0) * 0.5);
}

TYPED_TEST(ConvTransposeTest, ParametersAndState) {
  // torch: sum(p.numel() for p in nn.ConvTranspose2d(64, 32, 4).parameters()) == 32800.
  ConvTranspose2d<TypeParam> m(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1));
  EXPECT_EQ(m.num_parameters(), 64 * 32 * 16 + 32);
  EXPECT_EQ(m.weight().shape(), (Shape{64, 32, 4, 4}));
  const auto named = m.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[1].first, "bias");
  ConvTranspose1d<TypeParam> g(ConvTranspose1dOptions(6, 9, 3).groups(3).bias(false));
  EXPECT_EQ(g.num_parameters(), 6 * 3 * 3);  // torch: 54
  EXPECT_FALSE(g.bias().defined());
  ConvTranspose2d<TypeParam> copy(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1));
  copy.load_state_dict(m.state_dict());
  strata::Generator gen(9);
  const auto x = strata::Tensor<TypeParam>::randn({1, 64, 3, 3}, gen);
  EXPECT_TRUE(strata_test::same_bits(copy(x), m(x)));
}

TEST(ConvTransposePrintTest, LikeLibtorch) {
  EXPECT_EQ(conv_transpose_printed(ConvTranspose2d(ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1))),
            "strata::nn::ConvTranspose2d(64, 32, kernel_size=[4, 4], stride=[2, 2], padding=[1, 1])");
  EXPECT_EQ(conv_transpose_printed(ConvTranspose1d(4, 2, 3)),
            "strata::nn::ConvTranspose1d(4, 2, kernel_size=3, stride=1)");
  EXPECT_EQ(conv_transpose_printed(ConvTranspose2d<double>(ConvTranspose2dOptions(4, 6, {3, 5}).stride({2, 1})
                                                               .dilation({1, 2}).output_padding({1, 0}).groups(2)
                                                               .bias(false))),
            "strata::nn::ConvTranspose2d(4, 6, kernel_size=[3, 5], stride=[2, 1], dilation=[1, 2], "
            "output_padding=[1, 0], groups=2, bias=false)");
}

TYPED_TEST(ConvTransposeTest, OutputSizeFollowsTorchsRule) {
  using Tensor = typename TestFixture::Tensor;
  ConvTranspose2d<TypeParam> m(ConvTranspose2dOptions(4, 2, 3).stride(2).output_padding(1));
  const Tensor x = Tensor::zeros({1, 4, 5, 5});
  EXPECT_EQ(m(x).shape(), (Shape{1, 2, 12, 12}));
  EXPECT_EQ(m(x, {11, 12}).shape(), (Shape{1, 2, 11, 12}));  // the options' output_padding is not used
  EXPECT_EQ(m(x, {7, 7, 11, 11}).shape(), (Shape{1, 2, 11, 11}));  // the full form's leading sizes are ignored
  EXPECT_EQ(m(x.squeeze(0), {2, 12, 11}).shape(), (Shape{2, 12, 11}));
  EXPECT_EQ(strata::nn::conv_transpose_output_shape(m.options(), x.shape(), {11, 12}), (Shape{1, 2, 11, 12}));
  EXPECT_THROW_WITH(m(x, {13, 13}), strata::Error,
                    "ConvTranspose2d: requested an output size of [13, 13], but valid sizes range from [11, 11] to "
                    "[12, 12] (for an input of [5, 5])");
  EXPECT_THROW_WITH(m(x, {10, 11}), strata::Error, "requested an output size of [10, 11]");
  EXPECT_THROW_WITH(m(x, {12}), strata::Error,
                    "ConvTranspose2d: for 4D input, output_size must have 2 or 4 elements (got 1)");
  EXPECT_THROW_WITH(m(x.squeeze(0), {1, 2, 11, 12}), strata::Error,
                    "ConvTranspose2d: for 3D input, output_size must have 2 or 3 elements (got 4)");
  ConvTranspose1d<TypeParam> m1(ConvTranspose1dOptions(4, 2, 3).stride(2));
  EXPECT_THROW_WITH(m1(Tensor::zeros({1, 4, 5}), {13}), strata::Error,
                    "ConvTranspose1d: requested an output size of [13], but valid sizes range from [11] to [12] (for "
                    "an input of [5])");
  EXPECT_THROW_WITH(m1(Tensor::zeros({4, 5}), {1, 2, 13}), strata::Error,
                    "for 2D input, output_size must have 1 or 2 elements (got 3)");
  // A wrong rank is reported by forward's own check, output_size or not.
  EXPECT_THROW_WITH(m1(Tensor::zeros({5}), {11}), strata::Error,
                    "ConvTranspose1d: expected 3-D input (N, C, L) or 2-D (C, L), got shape [5]");
}

TEST(ConvTransposeErrorTest, ConstructorRefusesInvalidOptions) {
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).padding_mode(strata::kReflect)), strata::Error,
                    "ConvTranspose2d: Only \"zeros\" padding mode is supported for ConvTranspose2d");
  EXPECT_THROW_WITH(ConvTranspose1d(ConvTranspose1dOptions(4, 2, 3).padding_mode(strata::kCircular)), strata::Error,
                    "Only \"zeros\" padding mode is supported for ConvTranspose1d");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).groups(0)), strata::Error,
                    "ConvTranspose2d: groups must be a positive integer, got groups=0");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(3, 2, 3).groups(2)), strata::Error,
                    "in_channels must be divisible by groups, got in_channels=3 and groups=2");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 3, 3).groups(2)), strata::Error,
                    "out_channels must be divisible by groups, got out_channels=3 and groups=2");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).output_padding(1)), strata::Error,
                    "ConvTranspose2d: output padding must be smaller than either stride or dilation, but got "
                    "output_padding_height: 1 output_padding_width: 1 stride_height: 1 stride_width: 1 "
                    "dilation_height: 1 dilation_width: 1");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).stride(2).output_padding({2, 0})), strata::Error,
                    "but got output_padding_height: 2 output_padding_width: 0 stride_height: 2 stride_width: 2");
  // torch runs 1-d as 2-d of height 1, and its message says so.
  EXPECT_THROW_WITH(ConvTranspose1d(ConvTranspose1dOptions(4, 2, 3).stride(2).output_padding(2)), strata::Error,
                    "but got output_padding_height: 0 output_padding_width: 2 stride_height: 1 stride_width: 2 "
                    "dilation_height: 1 dilation_width: 1");
  EXPECT_NO_THROW(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).dilation(2).output_padding(1)));
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).stride(2).output_padding(-1)), strata::Error,
                    "negative output_padding is not supported");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).padding(-1)), strata::Error,
                    "negative padding is not supported");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).stride(0)), strata::Error,
                    "non-positive stride is not supported");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 3).dilation(0)), strata::Error,
                    "dilation should be greater than zero");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(4, 2, 0)), strata::Error, "expected kernel_size > 0");
  EXPECT_THROW_WITH(ConvTranspose2d(ConvTranspose2dOptions(0, 2, 3)), strata::Error, "expected in_channels > 0");
}

TYPED_TEST(ConvTransposeTest, ForwardRefusesInvalidInputs) {
  using Tensor = typename TestFixture::Tensor;
  ConvTranspose2d<TypeParam> m(3, 2, 3);
  EXPECT_THROW_WITH(m(Tensor::zeros({4, 5})), strata::Error,
                    "ConvTranspose2d: expected 4-D input (N, C, H, W) or 3-D (C, H, W), got shape [4, 5]");
  EXPECT_THROW_WITH(m(Tensor::zeros({1, 4, 5, 5})), strata::Error,
                    "ConvTranspose2d: Given transposed=1, weight of size [3, 2, 3, 3], expected input[1, 4, 5, 5] to "
                    "have 3 channels, but got 4 channels instead");
  EXPECT_THROW_WITH(m(Tensor::zeros({4, 5, 5})), strata::Error, "expected input[1, 4, 5, 5] to have 3 channels");
  EXPECT_THROW_WITH(m(Tensor::zeros({1, 3, 0, 5})), strata::Error,
                    "Only zero batch or zero channel inputs are supported, but got input shape: [1, 3, 0, 5]");
  EXPECT_THROW_WITH(m(Tensor()), strata::Error, "ConvTranspose2d: the input is undefined");
  ConvTranspose2d<TypeParam> cropped(ConvTranspose2dOptions(4, 2, 3).padding(3));
  EXPECT_THROW_WITH(cropped(Tensor::zeros({1, 4, 1, 1})), strata::Error,
                    "ConvTranspose2d: Given input size per channel: (1 x 1). Calculated output size per channel: "
                    "(-3 x -3). Output size is too small");
  ConvTranspose1d<TypeParam> cropped1(ConvTranspose1dOptions(4, 2, 3).padding(3));
  EXPECT_THROW_WITH(cropped1(Tensor::zeros({1, 4, 1})), strata::Error,
                    "Given input size per channel: (1 x 1). Calculated output size per channel: (1 x -3)");
  m.weight() = Tensor::zeros({3, 2, 3, 2});
  EXPECT_THROW_WITH(m(Tensor::zeros({1, 3, 5, 5})), strata::Error,
                    "ConvTranspose2d: expected weight of shape [3, 2, 3, 3], got [3, 2, 3, 2]");
}

TYPED_TEST(ConvTransposeTest, FunctionalFormsCheckTheirArguments) {
  using Tensor = typename TestFixture::Tensor;
  namespace F = strata::nn::functional;
  const Tensor x = Tensor::zeros({1, 4, 5, 5});
  EXPECT_EQ(F::conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), 1, 0, 0, 2).shape(), (Shape{1, 4, 7, 7}));
  EXPECT_THROW_WITH(F::conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor::zeros({3})), strata::Error,
                    "conv_transpose2d: Given transposed=1, weight of size [4, 2, 3, 3], expected bias to be "
                    "1-dimensional with 2 elements, but got bias of size [3] instead");
  EXPECT_THROW_WITH(F::conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), 1, 0, 0, 3), strata::Error,
                    "conv_transpose2d: expected weight to be divisible by 3 (groups) at dimension 0, got weight of "
                    "size [4, 2, 3, 3]");
  EXPECT_THROW_WITH(F::conv_transpose2d(x, Tensor::zeros({4, 2, 3})), strata::Error,
                    "conv_transpose2d: expected a 4-D weight (in_channels, out_channels/groups, kH, kW) with "
                    "positive sizes, got shape [4, 2, 3]");
  EXPECT_THROW_WITH(F::conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), 2, 0, 2), strata::Error,
                    "conv_transpose2d: output padding must be smaller than either stride or dilation");
  EXPECT_THROW_WITH(F::conv_transpose2d(x, Tensor::zeros({4, 2, 3, 3}), Tensor(), 1, 0, 0, 0), strata::Error,
                    "groups must be a positive integer");
  EXPECT_THROW_WITH(F::conv_transpose1d(Tensor::zeros({1, 4, 5}), Tensor::zeros({3, 2, 3})), strata::Error,
                    "conv_transpose1d: Given transposed=1, weight of size [3, 2, 3], expected input[1, 4, 5] to have "
                    "3 channels, but got 4 channels instead");
}

TYPED_TEST(ConvTransposeTest, ConversionsAreExact) {
  using Tensor = typename TestFixture::Tensor;
  strata::Generator gen(10);
  // Stride 1 with padding p and dilation d: the Conv with padding d*(k-1) - p and the flipped kernel.
  ConvTranspose2d<TypeParam> t(ConvTranspose2dOptions(4, 6, {3, 2}).padding({1, 0}).dilation({2, 1}).groups(2));
  const strata::nn::Conv2d<TypeParam> c = strata::nn::to_conv(t);
  EXPECT_EQ(conv_transpose_printed(c),
            "strata::nn::Conv2d(4, 6, kernel_size=[3, 2], stride=[1, 1], padding=[3, 1], dilation=[2, 1], groups=2)");
  EXPECT_EQ(c.weight().shape(), (Shape{6, 2, 3, 2}));
  const Tensor x = Tensor::randn({2, 4, 5, 6}, gen);
  const Tensor yt = t(x), yc = c(x);
  ASSERT_EQ(yt.shape(), yc.shape());
  EXPECT_LT(strata::max_abs_diff(yt, yc), strata_test::tolerance<TypeParam>(10));
  // And back: the round trip gives the original weight exactly.
  const ConvTranspose2d<TypeParam> back = strata::nn::to_conv_transpose(c);
  EXPECT_TRUE(strata_test::same_bits(back.weight(), t.weight()));
  EXPECT_TRUE(strata_test::same_bits(back.bias(), t.bias()));
  EXPECT_EQ(conv_transpose_printed(back), conv_transpose_printed(t));
  // 1-d, and a Conv with padding='same' (even total) or 'valid'.
  strata::nn::Conv1d<TypeParam> same(strata::nn::Conv1dOptions(3, 5, 3).padding(strata::kSame).bias(false));
  const ConvTranspose1d<TypeParam> up = strata::nn::to_conv_transpose(same);
  EXPECT_EQ(up.options().padding()[0], 1);
  const Tensor x1 = Tensor::randn({2, 3, 7}, gen);
  EXPECT_LT(strata::max_abs_diff(up(x1), same(x1)), strata_test::tolerance<TypeParam>(10));
  strata::nn::Conv1d<TypeParam> valid(strata::nn::Conv1dOptions(3, 5, 3).padding(strata::kValid));
  EXPECT_LT(strata::max_abs_diff(strata::nn::to_conv_transpose(valid)(x1), valid(x1)),
            strata_test::tolerance<TypeParam>(10));
  EXPECT_LT(strata::max_abs_diff(strata::nn::to_conv(up)(x1), up(x1)), strata_test::tolerance<TypeParam>(10));
  // 1-d with dilation, groups and no bias: the printed padding is dilation*(k-1) - padding = 2*3 - 1 = 5.
  ConvTranspose1d<TypeParam> t1(ConvTranspose1dOptions(6, 4, 4).padding(1).dilation(2).groups(2).bias(false));
  const strata::nn::Conv1d<TypeParam> c1 = strata::nn::to_conv(t1);
  EXPECT_EQ(conv_transpose_printed(c1),
            "strata::nn::Conv1d(6, 4, kernel_size=4, stride=1, padding=5, dilation=2, groups=2, bias=false)");
  EXPECT_EQ(c1.num_parameters(), t1.num_parameters());
  const Tensor x3 = Tensor::randn({3, 6, 9}, gen);
  EXPECT_LT(strata::max_abs_diff(c1(x3), t1(x3)), strata_test::tolerance<TypeParam>(10));
  EXPECT_TRUE(strata_test::same_bits(strata::nn::to_conv_transpose(c1).weight(), t1.weight()));
  // The converted layer owns its parameters: changing it leaves the original as it was.
  const Tensor before = t1.weight().clone();
  strata::nn::Conv1d<TypeParam> owned = strata::nn::to_conv(t1);
  owned.weight().fill_(TypeParam(3));
  EXPECT_TRUE(strata_test::same_bits(t1.weight(), before));
  // What has no exact stride-1 form is refused.
  EXPECT_THROW_WITH(strata::nn::to_conv(ConvTranspose2d<TypeParam>(ConvTranspose2dOptions(4, 6, 3).stride(2))),
                    strata::Error, "to_conv: expected a ConvTranspose with stride 1, output_padding 0 and padding <= "
                                   "dilation * (kernel_size - 1), got strata::nn::ConvTranspose2d(4, 6");
  EXPECT_THROW_WITH(strata::nn::to_conv(ConvTranspose1d<TypeParam>(ConvTranspose1dOptions(4, 6, 3).padding(3))),
                    strata::Error, "to_conv: expected");
  EXPECT_THROW_WITH(strata::nn::to_conv_transpose(strata::nn::Conv1d<TypeParam>(
                        strata::nn::Conv1dOptions(3, 5, 3).padding(1).padding_mode(strata::kReflect))),
                    strata::Error, "to_conv_transpose: expected a Conv with stride 1, padding_mode zeros");
  EXPECT_THROW_WITH(strata::nn::to_conv_transpose(
                        strata::nn::Conv1d<TypeParam>(strata::nn::Conv1dOptions(3, 5, 4).padding(strata::kSame))),
                    strata::Error, "to_conv_transpose: expected");
}

}  // namespace
