// Tests for strata/kernels/conv_transpose.hpp and kernels/col2im.hpp: the
// planner's blocks, tiles and splits, the packed-GEMM + col2im path against
// the naive scatter reference over geometries that exercise every branch
// (tiles spanning several small images, several tiles per image with a
// short last one, strips with 1, 2 and 3 packets, uneven weight panels,
// groups, stride, dilation, padding that crops, output_padding, 1-d), batch
// 0/1/many, 1 and 2 threads (whose results must be bit-identical), the
// workspace bound, col2im's maps, and the weight swap of the conversions.
#include <array>
#include <limits>
#include <vector>

#include <strata/core/threads.hpp>
#include <strata/kernels/col2im.hpp>
#include <strata/kernels/conv_transpose.hpp>

#include "reference_conv_transpose.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::kernels::ConvTransposeShape;

template <typename T>
class ConvTransposeKernelTest : public ::testing::Test {
 protected:
  void TearDown() override { strata::set_num_threads(threads_); }
  int threads_ = strata::get_num_threads();
};
TYPED_TEST_SUITE(ConvTransposeKernelTest, strata_test::ScalarTypes);

/// One geometry, torch's arguments per dimension.
template <std::size_t D>
struct ConvTransposeGeometry {
  index_t batch, in, out, groups;
  std::array<index_t, D> input, kernel, stride, padding, output_padding, dilation;
};

template <std::size_t D>
ConvTransposeShape<D> conv_transpose_shape_of(const ConvTransposeGeometry<D>& g) {
  ConvTransposeShape<D> s;
  s.batch = g.batch;
  s.in_channels = g.in;
  s.out_channels = g.out;
  s.groups = g.groups;
  s.input = g.input;
  s.kernel = g.kernel;
  s.stride = g.stride;
  s.padding = g.padding;
  s.output_padding = g.output_padding;
  s.dilation = g.dilation;
  for (std::size_t d = 0; d < D; ++d) {
    s.output[d] = (g.input[d] - 1) * g.stride[d] - 2 * g.padding[d] + g.dilation[d] * (g.kernel[d] - 1) +
                  g.output_padding[d] + 1;
  }
  return s;
}

/// Runs the plan for `threads` threads into an output prefilled with NaN (an
/// element never written fails), checking the workspace bound with a canary.
template <std::size_t D, typename T>
std::vector<T> conv_transpose_run_kernel(const ConvTransposeShape<D>& s, const strata::Tensor<T>& x,
                                         const strata::Tensor<T>& w, const strata::Tensor<T>& b, int threads) {
  strata::set_num_threads(threads);
  index_t out_numel = s.batch * s.out_channels;
  for (index_t o : s.output) out_numel *= o;
  std::vector<T> y(static_cast<std::size_t>(out_numel), std::numeric_limits<T>::quiet_NaN());
  const auto plan = strata::kernels::plan_conv_transpose(s, threads);
  std::vector<T> workspace(static_cast<std::size_t>(plan.workspace()) + 1, T(0));
  const T canary = T(1234.5);
  workspace.back() = canary;
  strata::kernels::conv_transpose(plan, x.data(), w.data(), b.defined() ? b.data() : nullptr, y.data(),
                                  workspace.data());
  EXPECT_EQ(workspace.back(), canary) << "the kernel wrote past plan.workspace()";
  return y;
}

/// The kernel on 1 and 2 threads against the reference; both must give the same bits.
template <std::size_t D, typename T>
void conv_transpose_check_geometry(const ConvTransposeGeometry<D>& g, bool with_bias, strata::Generator& gen) {
  const ConvTransposeShape<D> s = conv_transpose_shape_of(g);
  std::vector<index_t> in_shape{g.batch, g.in}, w_shape{g.in, g.out / g.groups};
  for (std::size_t d = 0; d < D; ++d) {
    in_shape.push_back(g.input[d]);
    w_shape.push_back(g.kernel[d]);
  }
  const auto x = strata::Tensor<T>::randn(strata::Shape(in_shape), gen);
  const auto w = strata::Tensor<T>::randn(strata::Shape(w_shape), gen);
  const auto b = with_bias ? strata::Tensor<T>::randn({g.out}, gen) : strata::Tensor<T>();
  const strata_test::ReferenceConv ref = strata_test::reference_conv_transpose<D, T>(
      x, w, b, g.stride, g.padding, g.output_padding, g.dilation, g.groups);
  const std::vector<T> one = conv_transpose_run_kernel<D, T>(s, x, w, b, 1);
  const std::vector<T> two = conv_transpose_run_kernel<D, T>(s, x, w, b, 2);
  EXPECT_TRUE(strata_test::matches_reference(strata::Tensor<T>(ref.shape, one), ref));
  EXPECT_TRUE(one == two) << "1 and 2 threads disagree";
}

TYPED_TEST(ConvTransposeKernelTest, MatchesTheReferenceOverGeometries) {
  strata::Generator gen(41);
  using G1 = ConvTransposeGeometry<1>;
  using G2 = ConvTransposeGeometry<2>;
  const std::vector<G2> cases2 = {
      // The benchmark's upsampling shape, smaller: stride 2, padding 1, kernel 4.
      {2, 8, 6, 1, {7, 9}, {4, 4}, {2, 2}, {1, 1}, {0, 0}, {1, 1}},
      // Padding that crops more than a tap, output_padding, non-square.
      {3, 4, 5, 1, {5, 6}, {3, 2}, {2, 3}, {2, 1}, {1, 2}, {1, 1}},
      // Dilation (output_padding below the dilation, not the stride), groups.
      {2, 6, 9, 3, {4, 5}, {3, 3}, {1, 1}, {1, 0}, {1, 1}, {2, 2}},
      // Depthwise-like: groups == in_channels, stride 3.
      {2, 4, 8, 4, {5, 5}, {2, 3}, {3, 3}, {0, 1}, {2, 0}, {1, 1}},
      // A 1x1 input (DCGAN's first layer), many images in one block.
      {5, 7, 6, 1, {1, 1}, {4, 4}, {1, 1}, {0, 0}, {0, 0}, {1, 1}},
      // A large image: several tiles, the last one short; 13 output channels x 9 taps (uneven panels).
      {1, 3, 13, 1, {37, 41}, {3, 3}, {1, 1}, {1, 1}, {0, 0}, {1, 1}},
      // Batch 0 and a kernel of 1.
      {0, 2, 2, 1, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {0, 0}, {1, 1}},
      {2, 5, 3, 1, {6, 4}, {1, 1}, {2, 1}, {0, 0}, {1, 0}, {1, 1}},
  };
  for (std::size_t i = 0; i < cases2.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "2-d case " << i);
    conv_transpose_check_geometry<2, TypeParam>(cases2[i], i % 2 == 0, gen);
  }
  const std::vector<G1> cases1 = {
      {3, 4, 6, 2, {9}, {4}, {2}, {1}, {1}, {1}},
      {2, 3, 2, 1, {300}, {5}, {1}, {2}, {0}, {2}},  // one image of several tiles
      {4, 2, 3, 1, {1}, {3}, {5}, {0}, {4}, {1}},    // output_padding up to stride - 1
      {1, 6, 6, 6, {11}, {3}, {2}, {4}, {0}, {3}},   // padding beyond the kernel's reach at the edges
  };
  for (std::size_t i = 0; i < cases1.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "1-d case " << i);
    conv_transpose_check_geometry<1, TypeParam>(cases1[i], i % 2 == 1, gen);
  }
}

TEST(ConvTransposePlanTest, BlocksTilesAndSplits) {
  using strata::kernels::plan_conv_transpose;
  // Small images share a block; one block and two threads: two ranges of channels.
  const auto small = conv_transpose_shape_of<2>({8, 64, 32, 1, {4, 4}, {4, 4}, {2, 2}, {1, 1}, {0, 0}, {1, 1}});
  const auto p1 = plan_conv_transpose(small, 1), p2 = plan_conv_transpose(small, 2);
  EXPECT_EQ(p1.images, 8);
  EXPECT_EQ(p1.blocks, 1);
  EXPECT_EQ(p1.splits, 1);
  EXPECT_EQ(p2.splits, 2);
  EXPECT_EQ(p2.items, 2);
  EXPECT_EQ(p1.tile_columns, p2.tile_columns);  // tiles depend on the geometry only
  EXPECT_EQ(p2.split_begin(1), 16);
  // 4096 rows leave room for 48 columns: blocks of 3 images, 3 blocks; on 2 threads 6 items.
  const auto wide = conv_transpose_shape_of<2>({8, 512, 256, 1, {4, 4}, {4, 4}, {2, 2}, {1, 1}, {0, 0}, {1, 1}});
  const auto p3 = plan_conv_transpose(wide, 2);
  EXPECT_EQ(p3.images, 3);
  EXPECT_EQ(p3.blocks, 3);
  EXPECT_EQ(p3.splits, 2);
  EXPECT_EQ(p3.items, 6);
  // A large image: tiles of whole quanta, the column tile within a few MB.
  const auto large = conv_transpose_shape_of<2>({8, 64, 32, 1, {28, 28}, {4, 4}, {2, 2}, {1, 1}, {0, 0}, {1, 1}});
  const auto p = plan_conv_transpose(large, 2);
  EXPECT_EQ(p.images, 1);
  EXPECT_EQ(p.blocks, 8);
  EXPECT_EQ(p.splits, 1);
  EXPECT_EQ(p.M, 32 * 16);
  EXPECT_EQ(p.K, 64);
  EXPECT_EQ(p.tile_columns % 48, 0);
  EXPECT_LE(p.buffer * static_cast<index_t>(sizeof(float)), index_t{2} << 20);
  EXPECT_EQ(p.workspace(), p.packed + p.workers * p.buffer);
}

TEST(ConvTransposePlanTest, Col2imMapsClipToTheOutput) {
  // Kernel 3, stride 2, padding 2 on 4 inputs: output 5; tap 0 starts at -2 (input 0 dropped).
  const auto s = conv_transpose_shape_of<1>({1, 1, 1, 1, {4}, {3}, {2}, {2}, {0}, {1}});
  ASSERT_EQ(s.output[0], 5);
  const strata::kernels::Col2imPlan p = strata::kernels::make_col2im_plan(s);
  EXPECT_EQ(p.col_offset, (std::vector<index_t>{-2, -1, 0}));
  EXPECT_EQ(p.col_begin, (std::vector<index_t>{1, 1, 0}));
  EXPECT_EQ(p.col_end, (std::vector<index_t>{4, 3, 3}));  // 3*2 - 2 = 4 < 5; 3*2 - 1 = 5 is out
  EXPECT_EQ(p.row_offset, (std::vector<index_t>{0}));
}

TEST(ConvTransposePlanTest, SwapWeightReversesTapsAndSwapsChannels) {
  // x (groups * a, b, taps) = (2 * 1, 2, 3) -> y (2 * 2, 1, 3).
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<float> y(12);
  strata::kernels::conv_transpose_swap_weight(x.data(), 2, 1, 2, 3, y.data());
  EXPECT_EQ(y, (std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}));
  // One group, a = 2, b = 2, one tap: a plain transpose.
  const std::vector<double> m = {1, 2, 3, 4};
  std::vector<double> t(4);
  strata::kernels::conv_transpose_swap_weight(m.data(), 1, 2, 2, 1, t.data());
  EXPECT_EQ(t, (std::vector<double>{1, 3, 2, 4}));
}

}  // namespace
