// Tests for strata/kernels/pooling.hpp: kernels::pool against the naive
// reference (tests/pool_bn_reference.hpp) over grids of max, average and
// adaptive geometries in 1-D and 2-D, on one and two threads, with row
// lengths that leave partial packets; NaN propagation, windows that see only
// padding, kernels far wider than the input, the global-average path.
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <strata/kernels/pooling.hpp>

#include "pool_bn_reference.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::kernels::PoolMode;
using strata::kernels::PoolShape;

template <typename T>
class PoolKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(PoolKernelTest, strata_test::ScalarTypes);

/// kernels::pool on x ((planes, spatial...)), its output shaped (planes, output...).
template <std::size_t D, typename T>
strata::Tensor<T> pool_kernel_apply(const PoolShape<D>& s, const strata::Tensor<T>& x, int threads) {
  std::vector<index_t> sizes{s.planes};
  for (index_t o : s.output) sizes.push_back(o);
  strata::Tensor<T> y = strata::Tensor<T>::full(strata::Shape(sizes), T(12345));
  std::vector<T> workspace(static_cast<std::size_t>(strata::kernels::pool_workspace<T>(s, threads)));
  strata::kernels::pool(s, x.data(), y.data(), workspace.data(), threads);
  return y;
}

/// The reference's description of a PoolShape.
template <std::size_t D>
strata_test::RefPool pool_kernel_reference_options(const PoolShape<D>& s, bool ceil_mode) {
  strata_test::RefPool r;
  r.mode = s.mode == PoolMode::Max   ? strata_test::RefPoolMode::Max
           : s.mode == PoolMode::Avg ? strata_test::RefPoolMode::Avg
                                     : strata_test::RefPoolMode::AdaptiveAvg;
  r.kernel.assign(s.kernel.begin(), s.kernel.end());
  r.stride.assign(s.stride.begin(), s.stride.end());
  r.padding.assign(s.padding.begin(), s.padding.end());
  r.dilation.assign(s.dilation.begin(), s.dilation.end());
  r.output_size.assign(s.output.begin(), s.output.end());
  r.ceil_mode = ceil_mode;
  r.count_include_pad = s.count_include_pad;
  r.divisor_override = s.divisor_override;
  return r;
}

/// Compares the kernel with the reference on `threads` threads; returns the largest relative difference.
template <std::size_t D, typename T>
double pool_kernel_compare(const PoolShape<D>& s, bool ceil_mode, strata::Generator& gen, int threads) {
  std::vector<index_t> sizes{s.planes};
  for (index_t i : s.input) sizes.push_back(i);
  const auto x = strata::Tensor<T>::randn(strata::Shape(sizes), gen);
  const auto y = pool_kernel_apply<D, T>(s, x, threads);
  const auto ref = strata_test::reference_pool(x, pool_kernel_reference_options<D>(s, ceil_mode));
  return strata_test::pool_bn_rel_diff(y, ref);
}

TYPED_TEST(PoolKernelTest, MaxAndAvgIn2dMatchTheReferenceOnAnOptionGrid) {
  using T = TypeParam;
  strata::Generator gen(11);
  int cases = 0;
  double worst = 0;
  const std::vector<std::array<index_t, 2>> inputs{{5, 7}, {8, 37}, {1, 20}, {12, 12}};
  const std::vector<std::array<index_t, 2>> kernels{{1, 1}, {2, 2}, {3, 3}, {2, 3}, {5, 4}};
  const std::vector<std::array<index_t, 2>> strides{{1, 1}, {2, 2}, {3, 1}, {1, 3}};
  for (const auto& in : inputs)
    for (const auto& k : kernels)
      for (const auto& st : strides)
        for (index_t pad : {0, 1, 2})
          for (index_t dil : {1, 2})
            for (bool ceil : {false, true})
              for (PoolMode mode : {PoolMode::Max, PoolMode::Avg}) {
                if (pad > k[0] / 2 || pad > k[1] / 2 || (mode == PoolMode::Avg && dil > 1)) continue;
                PoolShape<2> s;
                s.mode = mode;
                s.planes = 3;
                s.input = in;
                s.kernel = k;
                s.stride = st;
                s.padding = {pad, pad};
                s.dilation = {dil, dil};
                s.count_include_pad = (cases % 2) == 0;
                s.divisor_override = (cases % 7) == 3 && mode == PoolMode::Avg ? 3 : 0;
                bool fits = true;
                for (int d = 0; d < 2; ++d) {
                  s.output[d] = strata_test::ref_pool_output_size(in[d], k[d], st[d], pad, dil, ceil);
                  fits = fits && s.output[d] >= 1;
                }
                if (!fits) continue;
                const double diff = pool_kernel_compare<2, T>(s, ceil, gen, 1 + cases % 2);
                worst = std::max(worst, diff);
                ASSERT_LE(diff, strata_test::tolerance<T>(1)) << "case " << cases << " input " << in[0] << "x" << in[1]
                                                              << " kernel " << k[0] << "x" << k[1] << " stride " << st[0]
                                                              << "x" << st[1] << " pad " << pad << " dil " << dil
                                                              << " ceil " << ceil << " mode " << static_cast<int>(mode);
                ++cases;
              }
  EXPECT_GT(cases, 400);
  this->RecordProperty("cases", cases);
}

TYPED_TEST(PoolKernelTest, MaxAndAvgIn1dMatchTheReferenceOnAnOptionGrid) {
  using T = TypeParam;
  strata::Generator gen(12);
  int cases = 0;
  for (index_t L : {1, 9, 40, 67})
    for (index_t k : {1, 2, 3, 4, 7})
      for (index_t st : {1, 2, 3, 5})
        for (index_t pad = 0; pad <= k / 2; ++pad)
          for (index_t dil : {1, 2, 3})
            for (bool ceil : {false, true})
              for (PoolMode mode : {PoolMode::Max, PoolMode::Avg}) {
                if (mode == PoolMode::Avg && dil > 1) continue;
                PoolShape<1> s;
                s.mode = mode;
                s.planes = 4;
                s.input = {L};
                s.kernel = {k};
                s.stride = {st};
                s.padding = {pad};
                s.dilation = {dil};
                s.count_include_pad = (cases % 3) != 0;
                s.output = {strata_test::ref_pool_output_size(L, k, st, pad, dil, ceil)};
                if (s.output[0] < 1) continue;
                const double diff = pool_kernel_compare<1, T>(s, ceil, gen, 1 + cases % 2);
                ASSERT_LE(diff, strata_test::tolerance<T>(1)) << "L " << L << " k " << k << " s " << st << " p "
                                                              << pad << " d " << dil << " ceil " << ceil;
                ++cases;
              }
  EXPECT_GT(cases, 400);
}

TYPED_TEST(PoolKernelTest, AdaptiveAverageMatchesTheReference) {
  using T = TypeParam;
  strata::Generator gen(13);
  int cases = 0;
  for (const std::array<index_t, 2>& in : std::vector<std::array<index_t, 2>>{{1, 1}, {5, 7}, {7, 7}, {12, 33}}) {
    for (index_t oh : {1, 2, 3, 5, 7, 13}) {
      for (index_t ow : {1, 2, 4, 7, 9, 40}) {
        PoolShape<2> s;
        s.mode = PoolMode::AdaptiveAvg;
        s.planes = 3;
        s.input = in;
        s.output = {oh, ow};
        ASSERT_LE((pool_kernel_compare<2, T>(s, false, gen, 1 + cases % 2)), strata_test::tolerance<T>(1))
            << in[0] << "x" << in[1] << " -> " << oh << "x" << ow;
        ++cases;
      }
    }
    for (index_t o : {1, 2, 6, 11, 50}) {
      PoolShape<1> s;
      s.mode = PoolMode::AdaptiveAvg;
      s.planes = 2;
      s.input = {in[1]};
      s.output = {o};
      ASSERT_LE((pool_kernel_compare<1, T>(s, false, gen, 2)), strata_test::tolerance<T>(1)) << in[1] << " -> " << o;
    }
  }
}

TYPED_TEST(PoolKernelTest, GlobalAverageOfLargePlanesOnTwoThreads) {
  using T = TypeParam;
  strata::Generator gen(14);
  for (const std::array<index_t, 2>& in : std::vector<std::array<index_t, 2>>{{7, 7}, {56, 56}, {3, 1000}}) {
    PoolShape<2> s;
    s.mode = PoolMode::AdaptiveAvg;
    s.planes = 64;
    s.input = in;
    s.output = {1, 1};
    EXPECT_LE((pool_kernel_compare<2, T>(s, false, gen, 2)), strata_test::tolerance<T>(1)) << in[0] << "x" << in[1];
  }
}

TYPED_TEST(PoolKernelTest, MaxPropagatesNaNAndGivesMinusInfinityForWindowsInThePadding) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
  // One row of 40: NaN at 5 and 33, +inf at 20; kernel 3, stride 2, padding 1 (the ResNet stem's).
  std::vector<T> values(40);
  for (int i = 0; i < 40; ++i) values[i] = T(i % 7) - 3;
  values[5] = nan, values[33] = nan, values[20] = inf;
  const strata::Tensor<T> x({1, 1, 40}, values);
  PoolShape<2> s;
  s.planes = 1;
  s.input = {1, 40};
  s.kernel = {1, 3};
  s.stride = {1, 2};
  s.padding = {0, 1};
  s.dilation = {1, 1};
  s.output = {1, 20};
  const auto y = pool_kernel_apply<2, T>(s, x, 1);
  for (index_t o = 0; o < 20; ++o) {
    const index_t lo = 2 * o - 1, hi = 2 * o + 1;
    const bool has_nan = (lo <= 5 && 5 <= hi) || (lo <= 33 && 33 <= hi);
    if (has_nan) {
      EXPECT_TRUE(std::isnan(y.data()[o])) << o;
    } else if (lo <= 20 && 20 <= hi) {
      EXPECT_EQ(y.data()[o], inf) << o;
    } else {
      EXPECT_FALSE(std::isnan(y.data()[o])) << o;
    }
  }
  // Kernel 2, dilation 3, padding 1 on a 2x2 plane: output (0, 0) reads (-1, -1), (-1, 2), (2, -1), (2, 2).
  PoolShape<2> d;
  d.planes = 1;
  d.input = {2, 2};
  d.kernel = {2, 2};
  d.stride = {1, 1};
  d.padding = {1, 1};
  d.dilation = {3, 3};
  d.output = {1, 1};
  const auto z = pool_kernel_apply<2, T>(d, strata::Tensor<T>({1, 2, 2}, {1, 2, 3, 4}), 1);
  EXPECT_EQ(z.data()[0], -inf);
}

TYPED_TEST(PoolKernelTest, AKernelFarWiderThanTheInputReadsOnlyItsTaps) {
  using T = TypeParam;
  strata::Generator gen(15);
  // kernel 2^20 with padding 2^19 over 3 values: four windows, nearly all padding.
  for (PoolMode mode : {PoolMode::Max, PoolMode::Avg}) {
    PoolShape<1> s;
    s.mode = mode;
    s.planes = 2;
    s.input = {3};
    s.kernel = {index_t{1} << 20};
    s.stride = {1};
    s.padding = {index_t{1} << 19};
    s.dilation = {1};
    s.count_include_pad = false;
    s.output = {strata_test::ref_pool_output_size(3, s.kernel[0], 1, s.padding[0], 1, false)};
    ASSERT_EQ(s.output[0], 4);
    EXPECT_LE((pool_kernel_compare<1, T>(s, false, gen, 1)), strata_test::tolerance<T>(1));
  }
}

TYPED_TEST(PoolKernelTest, ZeroPlanesAndEmptyAdaptiveOutputsWriteNothing) {
  using T = TypeParam;
  PoolShape<2> s;
  s.mode = PoolMode::AdaptiveAvg;
  s.planes = 2;
  s.input = {3, 3};
  s.output = {0, 2};
  T sentinel = T(7);
  strata::kernels::pool(s, static_cast<const T*>(nullptr), &sentinel, static_cast<T*>(nullptr), 2);
  s.planes = 0;
  s.output = {2, 2};
  strata::kernels::pool(s, static_cast<const T*>(nullptr), &sentinel, static_cast<T*>(nullptr), 2);
  EXPECT_EQ(sentinel, T(7));
}

TEST(PoolKernelTest, WindowArithmetic) {
  using strata::kernels::detail::adaptive_pool_window;
  using strata::kernels::detail::pool_window_taps;
  // torch's adaptive windows of 7 -> 3: [0, 3), [2, 5), [4, 7).
  EXPECT_EQ(adaptive_pool_window(1, 7, 3).first, 2);
  EXPECT_EQ(adaptive_pool_window(1, 7, 3).count, 3);
  EXPECT_EQ(adaptive_pool_window(2, 7, 3).first, 4);
  // Larger than the input: 2 -> 5 repeats elements, each window one or two wide.
  EXPECT_EQ(adaptive_pool_window(2, 2, 5).first, 0);
  EXPECT_EQ(adaptive_pool_window(2, 2, 5).count, 2);
  // Kernel 3, stride 2, padding 1 over 8: window 0 clips its first tap.
  EXPECT_EQ(pool_window_taps(0, 8, 3, 2, 1, 1).first, 0);
  EXPECT_EQ(pool_window_taps(0, 8, 3, 2, 1, 1).count, 2);
  // Dilation 3, padding 1 over 2: taps at -1 and 2, none inside.
  EXPECT_EQ(pool_window_taps(0, 2, 2, 1, 1, 3).count, 0);
}

}  // namespace
