// Tests for strata/kernels/winograd.hpp (ConvAlgorithm::Winograd): every tile
// size against an extended-precision reference over a grid (odd sizes,
// partial tiles, rows wide enough for the packet (de)interleaves, every
// padding mode, asymmetric padding, groups, batch, 1-d and 2-d, 3 and 5
// taps, with and without bias), 1 and 2 threads bit-identical, the planner's
// choice and its switch, and the rounding error against the bound stated here.
//
// The bound. Winograd computes each output as A^T [(G g G^T) . (B^T d B)] A:
// besides the K = C r^2 rounded products of the direct sum, the transforms
// round sums of up to alpha^2 terms whose coefficients reach 5 (B), 8 (A)
// and 1/24 (G, non-dyadic), so the error relative to sum|terms| of the
// direct sum (accuracy_test.cpp's measure) is a constant per tile size
// times u, plus the random-walk term of the reduction over channels:
//   |y - y*| / sum|terms| <= 7 sqrt(K + 2) u + A_m u,
// with A_2 = 16, A_4 = 64 (F(2, 5): 64) and A_6 = 512, each about twice the
// worst measured over this grid (float: F(2, 3) 5u, F(4, 3) 28u, F(6, 3) 300u;
// double alike). The first term is accuracy_test's bound: for the layers the
// planner gives Winograd (32 channels and more: sqrt(K + 2) >= 17, 7 sqrt(K + 2)
// >= 119) F(4 x 4, 3 x 3)'s measured error, 10-20u, is well inside the
// conformance bound every layer is held to (checked below).
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include <strata/core/threads.hpp>
#include <strata/kernels/conv.hpp>
#include <strata/kernels/conv_plan.hpp>
#include <strata/kernels/winograd.hpp>
#include <strata/nn/conv.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::kernels::ConvAlgorithm;
using strata::kernels::ConvShape;

template <typename T>
class WinogradTest : public ::testing::Test {
 protected:
  void TearDown() override {
    strata::set_num_threads(threads_);
    strata::kernels::set_winograd_enabled(true);
  }
  int threads_ = strata::get_num_threads();
};
TYPED_TEST_SUITE(WinogradTest, strata_test::ScalarTypes);

/// A stride-1 geometry: batch, channels, groups, input sizes, kernel, padding per side, mode.
template <std::size_t D>
struct WinogradGeometry {
  index_t batch, in, out, groups;
  std::array<index_t, D> input;
  index_t kernel;
  std::array<index_t, D> pad_before, pad_after;
  strata::PaddingMode mode = strata::kZeros;
};

template <std::size_t D>
ConvShape<D> winograd_shape(const WinogradGeometry<D>& g) {
  ConvShape<D> s;
  s.batch = g.batch;
  s.in_channels = g.in;
  s.out_channels = g.out;
  s.groups = g.groups;
  s.input = g.input;
  s.kernel.fill(g.kernel);
  s.stride.fill(1);
  s.dilation.fill(1);
  s.pad_before = g.pad_before;
  s.pad_after = g.pad_after;
  s.padding_mode = g.mode;
  for (std::size_t d = 0; d < D; ++d) s.output[d] = g.input[d] + g.pad_before[d] + g.pad_after[d] - g.kernel + 1;
  return s;
}

/// The exact sums (long double) and sum|terms| of every output.
struct WinogradReference {
  std::vector<long double> values, magnitudes;
  index_t reduction = 0;
};

template <std::size_t D, typename T>
WinogradReference winograd_reference(const ConvShape<D>& s, const std::vector<T>& x, const std::vector<T>& w,
                                     const std::vector<T>& b) {
  const index_t cin = s.in_channels / s.groups, cout = s.out_channels / s.groups;
  const index_t H = D == 2 ? s.input[0] : 1, W = s.input[D - 1], OH = D == 2 ? s.output[0] : 1, OW = s.output[D - 1];
  const index_t KH = D == 2 ? s.kernel[0] : 1, KW = s.kernel[D - 1];
  const index_t top = D == 2 ? s.pad_before[0] : 0, left = s.pad_before[D - 1];
  WinogradReference r;
  r.reduction = cin * KH * KW;
  for (index_t n = 0; n < s.batch; ++n) {
    for (index_t o = 0; o < s.out_channels; ++o) {
      const index_t g = o / cout;
      for (index_t oy = 0; oy < OH; ++oy) {
        for (index_t ox = 0; ox < OW; ++ox) {
          long double sum = b.empty() ? 0.0L : b[o], magnitude = b.empty() ? 0.0L : std::fabs((long double)b[o]);
          for (index_t c = 0; c < cin; ++c) {
            for (index_t kh = 0; kh < KH; ++kh) {
              const index_t iy = D == 2 ? strata_test::reference_source(oy + kh - top, H, s.padding_mode) : 0;
              for (index_t kw = 0; kw < KW; ++kw) {
                const index_t ix = strata_test::reference_source(ox + kw - left, W, s.padding_mode);
                if (iy < 0 || ix < 0) continue;
                const long double term = (long double)x[(((n * s.in_channels + g * cin + c) * H) + iy) * W + ix] *
                                         (long double)w[((o * cin + c) * KH + kh) * KW + kw];
                sum += term;
                magnitude += std::fabs(term);
              }
            }
          }
          r.values.push_back(sum);
          r.magnitudes.push_back(magnitude);
        }
      }
    }
  }
  return r;
}

/// Runs a Winograd plan with the given tile (0: the planner's) on `threads` threads into NaN-prefilled output.
template <std::size_t D, typename T>
std::vector<T> winograd_run_plan(const ConvShape<D>& s, const std::vector<T>& x, const std::vector<T>& w,
                                 const std::vector<T>& b, int threads, int tile) {
  strata::set_num_threads(threads);
  auto plan = strata::kernels::plan_conv(s, threads, ConvAlgorithm::Winograd);
  if (tile != 0) {
    plan.winograd = strata::kernels::make_winograd_plan(s, threads, tile, "conv");
    plan.items = plan.winograd.items;
    plan.packed = plan.winograd.shared;
    plan.buffer = plan.winograd.buffer;
    plan.workers = std::max<index_t>(1, std::min<index_t>(threads, plan.items));
  }
  index_t out_numel = s.batch * s.out_channels;
  for (index_t o : s.output) out_numel *= o;
  std::vector<T> y(static_cast<std::size_t>(out_numel), std::numeric_limits<T>::quiet_NaN());
  std::vector<T> workspace(static_cast<std::size_t>(plan.workspace()));
  strata::kernels::conv(plan, x.data(), w.data(), b.empty() ? nullptr : b.data(), y.data(), workspace.data());
  return y;
}

/// The bound stated at the top of this file, for tile m of a kernel of r taps.
template <typename T>
double winograd_bound(index_t reduction, int m, index_t r) {
  const double u = std::numeric_limits<T>::epsilon() / 2;
  const double constant = r == 5 ? 64 : m == 2 ? 16 : m == 4 ? 64 : 512;
  return 7 * std::sqrt(static_cast<double>(reduction + 2)) * u + constant * u;
}

/// Worst |y - y*| / sum|terms| of y against the reference.
template <typename T>
double winograd_worst(const std::vector<T>& y, const WinogradReference& ref) {
  double worst = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const long double diff = std::fabs((long double)y[i] - ref.values[i]);
    const double rel = ref.magnitudes[i] > 0 ? static_cast<double>(diff / ref.magnitudes[i]) : static_cast<double>(diff);
    if (!(rel <= worst)) worst = std::isnan(rel) ? std::numeric_limits<double>::infinity() : rel;
  }
  return worst;
}

template <typename T>
std::vector<T> winograd_random(index_t n, strata::Generator& gen) {
  const auto t = strata::Tensor<T>::randn({n}, gen);
  return std::vector<T>(t.data(), t.data() + n);
}

/// Every tile of the kernel size on 1 and 2 threads: within the bound, the same bits.
template <std::size_t D, typename T>
void winograd_check(const WinogradGeometry<D>& g, bool with_bias, strata::Generator& gen) {
  const ConvShape<D> s = winograd_shape(g);
  index_t in_numel = g.batch * g.in, w_numel = g.out * (g.in / g.groups);
  for (std::size_t d = 0; d < D; ++d) {
    in_numel *= g.input[d];
    w_numel *= g.kernel;
  }
  const std::vector<T> x = winograd_random<T>(in_numel, gen), w = winograd_random<T>(w_numel, gen);
  const std::vector<T> b = with_bias ? winograd_random<T>(g.out, gen) : std::vector<T>();
  const WinogradReference ref = winograd_reference<D, T>(s, x, w, b);
  const std::vector<int> tiles = g.kernel == 5 ? std::vector<int>{2} : std::vector<int>{2, 4, 6};
  for (int tile : tiles) {
    SCOPED_TRACE(::testing::Message() << "F(" << tile << ", " << g.kernel << ")");
    const std::vector<T> one = winograd_run_plan<D, T>(s, x, w, b, 1, tile);
    const std::vector<T> two = winograd_run_plan<D, T>(s, x, w, b, 2, tile);
    const double worst = winograd_worst(one, ref), bound = winograd_bound<T>(ref.reduction, tile, g.kernel);
    EXPECT_LE(worst, bound) << "relative error " << worst / (std::numeric_limits<T>::epsilon() / 2) << " u";
    EXPECT_TRUE(one == two) << "1 and 2 threads disagree";
  }
}

TYPED_TEST(WinogradTest, TilesPaddingModesGroupsAndTails2d) {
  strata::Generator gen(71);
  using G = WinogradGeometry<2>;
  // Odd sizes: partial tiles at the right and bottom, uneven output panels.
  winograd_check<2, TypeParam>(G{2, 5, 13, 1, {11, 13}, 3, {1, 1}, {1, 1}}, true, gen);
  // No padding, a single channel, an output of one partial tile.
  winograd_check<2, TypeParam>(G{1, 1, 3, 1, {5, 3}, 3, {0, 0}, {0, 0}}, false, gen);
  // Rows wide enough for the packet (de)interleave of 4-column tiles, asymmetric padding.
  winograd_check<2, TypeParam>(G{1, 3, 4, 1, {6, 83}, 3, {2, 0}, {0, 2}}, true, gen);
  for (const auto mode : {strata::kReflect, strata::kReplicate, strata::kCircular}) {
    SCOPED_TRACE(strata::kernels::padding_mode_name(mode));
    winograd_check<2, TypeParam>(G{3, 6, 10, 2, {9, 70}, 3, {1, 2}, {2, 1}, mode}, true, gen);
  }
  // 5 x 5 (F(2 x 2, 5 x 5)), groups of 4 channels, reflect.
  winograd_check<2, TypeParam>(G{2, 8, 6, 2, {12, 9}, 5, {2, 2}, {2, 2}, strata::kReflect}, true, gen);
}

TYPED_TEST(WinogradTest, OneDimensionalKernels) {
  strata::Generator gen(72);
  using G = WinogradGeometry<1>;
  winograd_check<1, TypeParam>(G{3, 7, 11, 1, {50}, 3, {1}, {1}}, true, gen);
  winograd_check<1, TypeParam>(G{2, 4, 6, 2, {131}, 3, {0}, {2}, strata::kCircular}, false, gen);
  winograd_check<1, TypeParam>(G{2, 5, 7, 1, {29}, 5, {2}, {2}, strata::kReplicate}, true, gen);
}

TYPED_TEST(WinogradTest, BlocksBandsSplitsAndShapesOfWork) {
  strata::Generator gen(73);
  using G = WinogradGeometry<2>;
  // 48 channels: several bands of tile rows per image (filters transformed
  // once into the shared workspace); on 2 threads one image splits further.
  winograd_check<2, TypeParam>(G{1, 48, 20, 1, {60, 61}, 3, {1, 1}, {1, 1}}, true, gen);
  // Several small images per block; 2 threads take one image each.
  winograd_check<2, TypeParam>(G{5, 16, 24, 1, {8, 9}, 3, {1, 1}, {1, 1}}, false, gen);
  // One small image with many output panels: ranges of panels per thread,
  // filters transformed by each worker for its own panels; 300 channels: two reduction chunks.
  winograd_check<2, TypeParam>(G{1, 300, 40, 1, {6, 7}, 3, {1, 1}, {1, 1}}, true, gen);
}

TYPED_TEST(WinogradTest, PlannerChoiceAndSwitch) {
  ConvShape<2> s = winograd_shape(WinogradGeometry<2>{1, 64, 64, 1, {56, 56}, 3, {1, 1}, {1, 1}});
  EXPECT_EQ(strata::kernels::plan_conv(s, 1).algorithm, ConvAlgorithm::Winograd);
  EXPECT_STREQ(strata::kernels::conv_algorithm_name(ConvAlgorithm::Winograd), "winograd");
  strata::kernels::set_winograd_enabled(false);
  EXPECT_FALSE(strata::kernels::winograd_enabled());
  EXPECT_EQ(strata::kernels::plan_conv(s, 1).algorithm, ConvAlgorithm::ImplicitGemm);
  EXPECT_EQ(strata::kernels::plan_conv(s, 1, ConvAlgorithm::Winograd).algorithm, ConvAlgorithm::Winograd);
  strata::kernels::set_winograd_enabled(true);
  // Few channels or a tiny image: the direct path.
  EXPECT_NE(strata::kernels::plan_conv(winograd_shape(WinogradGeometry<2>{1, 3, 16, 1, {56, 56}, 3, {1, 1}, {1, 1}}), 1)
                .algorithm,
            ConvAlgorithm::Winograd);
  EXPECT_NE(strata::kernels::plan_conv(winograd_shape(WinogradGeometry<2>{1, 64, 64, 1, {4, 4}, 3, {1, 1}, {1, 1}}), 1)
                .algorithm,
            ConvAlgorithm::Winograd);
  // Strided: refused by name.
  s.stride = {2, 2};
  s.output = {27, 27};
  EXPECT_THROW_WITH(strata::kernels::plan_conv(s, 1, ConvAlgorithm::Winograd), strata::Error,
                    "conv: the winograd algorithm needs stride 1, dilation 1");
  // The workspace of the batch-8 ResNet layer: a few MB.
  const auto big = strata::kernels::plan_conv(
      winograd_shape(WinogradGeometry<2>{8, 64, 64, 1, {56, 56}, 3, {1, 1}, {1, 1}}), 2, ConvAlgorithm::Winograd);
  EXPECT_LE(big.workspace() * static_cast<index_t>(sizeof(TypeParam)), index_t{16} << 20);
}

TYPED_TEST(WinogradTest, PlannerChoicesWithinTheConformanceBound) {
  // Where Auto chooses Winograd (32+ channels), its error stays inside
  // accuracy_test.cpp's bound 7 sqrt(K + 2) u alone.
  strata::Generator gen(74);
  using G = WinogradGeometry<2>;
  for (const G& g : {G{1, 32, 40, 1, {17, 19}, 3, {1, 1}, {1, 1}}, G{2, 64, 33, 1, {12, 30}, 3, {1, 1}, {1, 1}}}) {
    const ConvShape<2> s = winograd_shape(g);
    ASSERT_EQ(strata::kernels::plan_conv(s, 1).algorithm, ConvAlgorithm::Winograd);
    const std::vector<TypeParam> x = winograd_random<TypeParam>(g.batch * g.in * g.input[0] * g.input[1], gen);
    const std::vector<TypeParam> w = winograd_random<TypeParam>(g.out * g.in * 9, gen);
    const std::vector<TypeParam> b = winograd_random<TypeParam>(g.out, gen);
    const WinogradReference ref = winograd_reference<2, TypeParam>(s, x, w, b);
    const double u = std::numeric_limits<TypeParam>::epsilon() / 2;
    EXPECT_LE(winograd_worst(winograd_run_plan<2, TypeParam>(s, x, w, b, 2, 0), ref),
              7 * std::sqrt(static_cast<double>(ref.reduction + 2)) * u);
  }
}

TYPED_TEST(WinogradTest, LayerOptionSelectsIt) {
  strata::Generator gen(75);
  using Tensor = strata::Tensor<TypeParam>;
  strata::nn::Conv2d<TypeParam> wino(
      strata::nn::Conv2dOptions(8, 12, 3).padding(1).padding_mode(strata::kReflect).algorithm(ConvAlgorithm::Winograd));
  strata::nn::Conv2d<TypeParam> direct(strata::nn::Conv2dOptions(8, 12, 3).padding(1).padding_mode(strata::kReflect));
  wino.reset_parameters(gen);
  direct.weight().copy_(wino.weight());
  direct.bias().copy_(wino.bias());
  const Tensor x = Tensor::randn({2, 8, 9, 21}, gen);
  const auto ref = strata_test::reference_conv<2, TypeParam>(x, wino.weight(), wino.bias(), {1, 1}, {1, 1}, {1, 1},
                                                             {1, 1}, 1, strata::kReflect);
  EXPECT_TRUE(strata_test::matches_reference(wino.forward(x), ref, 4.0));
  EXPECT_TRUE(strata_test::matches_reference(direct.forward(x), ref));
}

}  // namespace
