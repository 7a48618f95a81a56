// Tests for the algorithms of strata/kernels/conv.hpp (pointwise, phase-plane
// implicit GEMM, im2col + GEMM, depthwise), each run on every geometry it
// applies to, against the naive reference: odd sizes,
// partial strips and tiles, uneven weight panels, reduction chunks, several
// small images per block, bands of rows, groups, padding modes, dilation,
// stride, batch 0/1/many, non-contiguous inputs, 1 and 2 threads (whose
// results must be identical), concurrent calls, and the workspace bound.
#include <array>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include <strata/core/threads.hpp>
#include <strata/kernels/conv.hpp>
#include <strata/kernels/conv_plan.hpp>
#include <strata/nn/conv.hpp>
#include <strata/nn/functional/conv.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::kernels::ConvShape;

template <typename T>
class ConvPathsTest : public ::testing::Test {
 protected:
  void TearDown() override { strata::set_num_threads(threads_); }
  int threads_ = strata::get_num_threads();
};
TYPED_TEST_SUITE(ConvPathsTest, strata_test::ScalarTypes);

/// One convolution geometry, torch's arguments spelled out per dimension.
template <std::size_t D>
struct Geometry {
  index_t batch, in, out, groups;
  std::array<index_t, D> input, kernel, stride, pad_before, pad_after, dilation;
  strata::PaddingMode mode = strata::kZeros;
};

template <std::size_t D>
ConvShape<D> shape_of(const Geometry<D>& g) {
  ConvShape<D> s;
  s.batch = g.batch;
  s.in_channels = g.in;
  s.out_channels = g.out;
  s.groups = g.groups;
  s.input = g.input;
  s.kernel = g.kernel;
  s.stride = g.stride;
  s.dilation = g.dilation;
  s.pad_before = g.pad_before;
  s.pad_after = g.pad_after;
  s.padding_mode = g.mode;
  for (std::size_t d = 0; d < D; ++d) {
    s.output[d] =
        (g.input[d] + g.pad_before[d] + g.pad_after[d] - g.dilation[d] * (g.kernel[d] - 1) - 1) / g.stride[d] + 1;
  }
  return s;
}

/// Runs the plan of `algorithm` on `threads` threads (as set_num_threads
/// would) into an output prefilled with NaN, so an element the kernel never writes fails.
template <std::size_t D, typename T>
std::vector<T> run_kernel(const ConvShape<D>& s, const strata::Tensor<T>& x, const strata::Tensor<T>& w,
                          const strata::Tensor<T>& b, int threads, strata::kernels::ConvAlgorithm algorithm) {
  strata::set_num_threads(threads);
  index_t out_numel = s.batch * s.out_channels;
  for (index_t o : s.output) out_numel *= o;
  std::vector<T> y(static_cast<std::size_t>(out_numel), std::numeric_limits<T>::quiet_NaN());
  const auto plan = strata::kernels::plan_conv(s, threads, algorithm);
  EXPECT_NE(plan.algorithm, strata::kernels::ConvAlgorithm::Auto);
  std::vector<T> workspace(static_cast<std::size_t>(plan.workspace()));
  strata::kernels::conv(plan, x.data(), w.data(), b.defined() ? b.data() : nullptr, y.data(), workspace.data());
  return y;
}

/// Every algorithm that applies to s: the planner's choice, the two general
/// ones, and pointwise / depthwise where they apply.
template <std::size_t D>
std::vector<strata::kernels::ConvAlgorithm> algorithms_for(const ConvShape<D>& s) {
  using strata::kernels::ConvAlgorithm;
  std::vector<ConvAlgorithm> out{ConvAlgorithm::Auto, ConvAlgorithm::ImplicitGemm, ConvAlgorithm::Im2colGemm};
  if (strata::kernels::conv_is_pointwise(s)) out.push_back(ConvAlgorithm::Pointwise);
  if (strata::kernels::conv_is_depthwise(s)) out.push_back(ConvAlgorithm::Depthwise);
  if (strata::kernels::conv_is_winograd(s)) out.push_back(ConvAlgorithm::Winograd);
  return out;
}

/// Every algorithm on 1 and 2 threads against the reference; both thread
/// counts must give the very same bits (each output's sum runs in the same order).
template <std::size_t D, typename T>
void check_geometry(const Geometry<D>& g, bool with_bias, strata::Generator& gen) {
  const ConvShape<D> s = shape_of(g);
  std::vector<index_t> in_shape{g.batch, g.in}, w_shape{g.out, g.in / g.groups};
  for (std::size_t d = 0; d < D; ++d) {
    in_shape.push_back(g.input[d]);
    w_shape.push_back(g.kernel[d]);
  }
  const auto x = strata::Tensor<T>::randn(strata::Shape(in_shape), gen);
  const auto w = strata::Tensor<T>::randn(strata::Shape(w_shape), gen);
  const auto b = with_bias ? strata::Tensor<T>::randn({g.out}, gen) : strata::Tensor<T>();
  const strata_test::ReferenceConv ref =
      strata_test::reference_conv<D, T>(x, w, b, g.stride, g.pad_before, g.pad_after, g.dilation, g.groups, g.mode);
  for (const auto algorithm : algorithms_for(s)) {
    SCOPED_TRACE(strata::kernels::conv_algorithm_name(algorithm));
    const std::vector<T> one = run_kernel<D, T>(s, x, w, b, 1, algorithm);
    const std::vector<T> two = run_kernel<D, T>(s, x, w, b, 2, algorithm);
    // Winograd rounds its transforms too: up to 64 u beyond the direct sum's
    // bound (tests/kernels/winograd_test.cpp), 4x the tolerance covers it for any K.
    const double slack = algorithm == strata::kernels::ConvAlgorithm::Winograd ? 4.0 : 1.0;
    EXPECT_TRUE(strata_test::matches_reference(strata::Tensor<T>(ref.shape, one), ref, slack));
    EXPECT_TRUE(one == two) << "1 and 2 threads disagree";
  }
}

TYPED_TEST(ConvPathsTest, PointwiseTailsGroupsAndPanels) {
  strata::Generator gen(31);
  using G1 = Geometry<1>;
  using G2 = Geometry<2>;
  // Planes of 37 and 300 positions: a partial last strip, a second partial tile.
  check_geometry<2, TypeParam>(G2{3, 5, 13, 1, {1, 37}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}}, true, gen);
  check_geometry<2, TypeParam>(G2{2, 6, 29, 1, {15, 20}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}}, false, gen);
  // Groups, more output channels than one register panel, a plane narrower than one strip.
  check_geometry<1, TypeParam>(G1{4, 6, 30, 3, {7}, {1}, {1}, {0}, {0}, {1}}, true, gen);
  // The classic Linear(8, 32) equivalent, small: exact strips.
  check_geometry<1, TypeParam>(G1{5, 8, 32, 1, {64}, {1}, {1}, {0}, {0}, {1}}, true, gen);
  // An output of 2 MB (float) and more with 64-byte rows, into a tensor (64-byte
  // aligned): written with streaming stores.
  using Tensor = strata::Tensor<TypeParam>;
  const Tensor x = Tensor::randn({2, 4, 64, 64}, gen), w = Tensor::randn({64, 4, 1, 1}, gen);
  const Tensor b = Tensor::randn({64}, gen);
  const auto ref = strata_test::reference_conv<2, TypeParam>(x, w, b, {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1,
                                                             strata::kZeros);
  EXPECT_TRUE(strata_test::matches_reference(strata::nn::functional::conv2d(x, w, b), ref));
  // A single image, a single position.
  check_geometry<2, TypeParam>(G2{1, 3, 2, 1, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}}, true, gen);
}

TYPED_TEST(ConvPathsTest, PlanesStrideDilationAndAsymmetricPadding) {
  strata::Generator gen(32);
  using G2 = Geometry<2>;
  // ResNet-like 3x3, padding 1, odd sizes; output 20 x 21 = 420 columns: two tiles.
  check_geometry<2, TypeParam>(G2{2, 5, 11, 1, {20, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
  // torch's documentation cases, shrunk: stride 2; (3, 5) kernel, stride (2, 1), padding (4, 2), dilation (3, 1).
  check_geometry<2, TypeParam>(G2{3, 4, 7, 1, {11, 17}, {3, 3}, {2, 2}, {0, 0}, {0, 0}, {1, 1}}, true, gen);
  check_geometry<2, TypeParam>(G2{2, 4, 9, 1, {12, 19}, {3, 5}, {2, 1}, {4, 2}, {4, 2}, {3, 1}}, false, gen);
  // Strides larger than the kernel (some phases unused), stride 3 with dilation 2.
  check_geometry<2, TypeParam>(G2{2, 3, 5, 1, {13, 14}, {2, 2}, {3, 4}, {1, 0}, {1, 0}, {1, 1}}, true, gen);
  check_geometry<2, TypeParam>(G2{1, 3, 6, 1, {16, 15}, {3, 2}, {3, 2}, {2, 1}, {2, 1}, {2, 3}}, true, gen);
  // padding='same' with an even kernel: more padding after than before.
  check_geometry<2, TypeParam>(G2{2, 3, 4, 1, {9, 8}, {4, 2}, {1, 1}, {1, 0}, {2, 1}, {1, 1}}, true, gen);
  // A kernel as large as the padded input: one output position.
  check_geometry<2, TypeParam>(G2{2, 2, 3, 1, {4, 5}, {6, 7}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
}

TYPED_TEST(ConvPathsTest, PlanesReductionChunksAndManyPanels) {
  strata::Generator gen(33);
  using G2 = Geometry<2>;
  // 40 * 9 = 360 reduction rows: two chunks; 27 output channels: uneven panels.
  check_geometry<2, TypeParam>(G2{1, 40, 27, 1, {7, 9}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
  // One small image and 40 output channels on two threads: split by ranges of channels (whole panels).
  check_geometry<2, TypeParam>(G2{1, 16, 40, 1, {6, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
  // 64 * 9 = 576: three chunks, with groups of 32 input channels.
  check_geometry<2, TypeParam>(G2{2, 64, 10, 2, {5, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, false, gen);
}

TYPED_TEST(ConvPathsTest, PlanesSmallImagesShareABlock) {
  strata::Generator gen(34);
  using G1 = Geometry<1>;
  using G2 = Geometry<2>;
  // Conv1d(16, 33, 3, stride 2)-like on many short sequences: several images per block,
  // strips that run from one image into the next.
  check_geometry<1, TypeParam>(G1{9, 4, 7, 1, {13}, {3}, {2}, {0}, {0}, {1}}, true, gen);
  check_geometry<1, TypeParam>(G1{7, 3, 5, 1, {6}, {2}, {1}, {1}, {1}, {2}}, true, gen);
  // 2-d images of 5 x 4: each adds dropped rows and columns to the block.
  check_geometry<2, TypeParam>(G2{6, 3, 4, 1, {5, 4}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
}

TYPED_TEST(ConvPathsTest, PlanesPaddingModesAndGroups) {
  strata::Generator gen(35);
  using G1 = Geometry<1>;
  using G2 = Geometry<2>;
  for (strata::PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular}) {
    SCOPED_TRACE(::testing::Message() << "mode " << mode);
    // Padding as large as each mode allows (reflect < size, circular <= size).
    const index_t big = mode == strata::kReflect ? 4 : 5;
    G2 g{2, 4, 6, 2, {5, 7}, {3, 3}, {1, 2}, {big, 2}, {1, big}, {1, 1}, mode};
    check_geometry<2, TypeParam>(g, true, gen);
    check_geometry<1, TypeParam>(G1{3, 6, 4, 2, {9}, {3}, {2}, {3}, {2}, {2}, mode}, true, gen);
  }
}

TYPED_TEST(ConvPathsTest, PlanesBandsOfRows) {
  strata::Generator gen(36);
  using G2 = Geometry<2>;
  // A single image whose planes exceed one worker's budget (3 x 420 x 420
  // elements): it is cut into bands of output rows, each with its halo.
  check_geometry<2, TypeParam>(G2{1, 3, 2, 1, {420, 420}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
  // One image on two threads: two bands even when it fits the budget.
  check_geometry<2, TypeParam>(G2{1, 3, 5, 1, {9, 10}, {3, 3}, {2, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
}

TYPED_TEST(ConvPathsTest, Im2colTilesOfTheColumnMatrix) {
  strata::Generator gen(39);
  using G1 = Geometry<1>;
  using G2 = Geometry<2>;
  // ResNet's last stage, shrunk: a 7 x 7 plane and a reduction of 32 * 9 = 288 (the planner's im2col case).
  check_geometry<2, TypeParam>(G2{2, 32, 9, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, true, gen);
  // A reduction of 600 taps: a tile narrower than the plane, the last one partial.
  check_geometry<2, TypeParam>(G2{1, 24, 6, 2, {13, 11}, {5, 5}, {1, 1}, {2, 2}, {2, 2}, {1, 1}}, true, gen);
  // Rows that start inside the padding, strided and dilated, every padding mode.
  for (strata::PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular}) {
    check_geometry<1, TypeParam>(G1{2, 3, 4, 1, {10}, {3}, {3}, {2}, {2}, {2}, mode}, false, gen);
  }
}

TEST(ConvPlanTest, AutoChoosesByShapeAndRefusesAlgorithmsThatDoNotApply) {
  using strata::kernels::ConvAlgorithm;
  using G2 = Geometry<2>;
  const auto choice = [](const G2& g) { return strata::kernels::plan_conv(shape_of(g), 1).algorithm; };
  EXPECT_EQ(choice(G2{1, 64, 64, 1, {56, 56}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, {1, 1}}), ConvAlgorithm::Pointwise);
  EXPECT_EQ(choice(G2{1, 64, 64, 64, {56, 56}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}), ConvAlgorithm::Depthwise);
  const G2 resnet{1, 64, 64, 1, {56, 56}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
  EXPECT_EQ(choice(resnet), ConvAlgorithm::Winograd);
  // The documented switch sends the same layer back to the direct path, for every plan made after it.
  strata::kernels::set_winograd_enabled(false);
  const ConvAlgorithm without_winograd = choice(resnet);
  strata::kernels::set_winograd_enabled(true);
  EXPECT_EQ(without_winograd, ConvAlgorithm::ImplicitGemm);
  EXPECT_EQ(choice(resnet), ConvAlgorithm::Winograd);
  EXPECT_EQ(choice(G2{1, 512, 512, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}), ConvAlgorithm::Im2colGemm);
  EXPECT_EQ(choice(G2{1, 256, 512, 1, {14, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}), ConvAlgorithm::Im2colGemm);
  const ConvShape<2> s = shape_of(G2{1, 4, 4, 1, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}});
  EXPECT_THROW_WITH(strata::kernels::plan_conv(s, 1, ConvAlgorithm::Pointwise), strata::Error,
                    "conv: the pointwise algorithm needs kernel_size 1, stride 1 and no padding");
  EXPECT_THROW_WITH(strata::kernels::plan_conv(s, 1, ConvAlgorithm::Depthwise), strata::Error,
                    "conv: the depthwise algorithm needs groups == in_channels > 1");
  // The layer option selects the algorithm, and every choice computes the same layer.
  strata::Generator gen(40);
  const auto x = strata::Tensor<float>::randn({2, 4, 6, 6}, gen);
  strata::nn::Conv2d<float> automatic(strata::nn::Conv2dOptions(4, 3, 3).padding(1));
  for (ConvAlgorithm algorithm : {ConvAlgorithm::ImplicitGemm, ConvAlgorithm::Im2colGemm, ConvAlgorithm::Winograd}) {
    strata::nn::Conv2d<float> chosen(strata::nn::Conv2dOptions(4, 3, 3).padding(1).algorithm(algorithm));
    chosen.load_state_dict(automatic.state_dict());
    EXPECT_LT(strata::max_abs_diff(chosen(x), automatic(x)), 1e-5f) << strata::kernels::conv_algorithm_name(algorithm);
  }
}

TYPED_TEST(ConvPathsTest, BatchZeroOneAndNonContiguousInputs) {
  using Tensor = strata::Tensor<TypeParam>;
  namespace F = strata::nn::functional;
  strata::Generator gen(37);
  const Tensor w = Tensor::randn({6, 4, 3, 3}, gen), b = Tensor::randn({6}, gen);
  // Batch 0: shape only.
  EXPECT_EQ(F::conv2d(Tensor::empty({0, 4, 5, 5}), w, b, 1, 1).shape(), strata::Shape({0, 6, 5, 5}));
  // Unbatched (C, H, W).
  const Tensor x3 = Tensor::randn({4, 7, 6}, gen);
  const auto ref3 = strata_test::reference_conv<2, TypeParam>(x3.unsqueeze(0), w, b, {1, 1}, {1, 1}, {1, 1}, {1, 1},
                                                               1, strata::kZeros);
  EXPECT_TRUE(strata_test::matches_reference(F::conv2d(x3, w, b, 1, 1).unsqueeze(0), ref3));
  // A channels-last view (permute) and a narrowed view, through the pointwise and the planes paths.
  const Tensor nhwc = Tensor::randn({3, 6, 5, 4}, gen);
  const Tensor x = nhwc.permute({0, 3, 1, 2});
  ASSERT_FALSE(x.is_contiguous());
  const auto ref = strata_test::reference_conv<2, TypeParam>(x, w, b, {2, 1}, {1, 0}, {1, 0}, {1, 1}, 1,
                                                              strata::kZeros);
  EXPECT_TRUE(strata_test::matches_reference(F::conv2d(x, w, b, {2, 1}, {1, 0}), ref));
  const Tensor w1 = Tensor::randn({5, 4, 1, 1}, gen);
  const auto ref1 = strata_test::reference_conv<2, TypeParam>(x, w1, Tensor(), {1, 1}, {0, 0}, {0, 0}, {1, 1}, 1,
                                                               strata::kZeros);
  EXPECT_TRUE(strata_test::matches_reference(F::conv2d(x, w1), ref1));
  const Tensor wide = Tensor::randn({2, 4, 20}, gen);
  const Tensor part = wide.narrow(2, 3, 11);
  const Tensor wk = Tensor::randn({3, 4, 3}, gen);
  const auto refn = strata_test::reference_conv<1, TypeParam>(part, wk, Tensor(), {1}, {1}, {1}, {2}, 1,
                                                              strata::kZeros);
  EXPECT_TRUE(strata_test::matches_reference(F::conv1d(part, wk, Tensor(), 1, 1, 2), refn));
}

TYPED_TEST(ConvPathsTest, ConcurrentForwardsOnOneLayer) {
  using Tensor = strata::Tensor<TypeParam>;
  strata::set_num_threads(2);
  strata::Generator gen(38);
  const strata::nn::Conv<2, TypeParam> conv(strata::nn::Conv2dOptions(6, 8, 3).padding(1));
  const Tensor x = Tensor::randn({3, 6, 12, 11}, gen);
  const Tensor expected = conv.forward(x);
  std::vector<Tensor> results(4);
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < results.size(); ++i) {
    workers.emplace_back([&, i] {
      for (int repeat = 0; repeat < 5; ++repeat) results[i] = conv.forward(x);
    });
  }
  for (std::thread& t : workers) t.join();
  for (const Tensor& r : results) EXPECT_TRUE(strata_test::reference_values(r) == strata_test::reference_values(expected));
}

TEST(ConvPathsWorkspaceTest, ResNetLayerNeedsAFewMegabytesNotTheWholeIm2col) {
  Geometry<2> g{8, 64, 64, 1, {56, 56}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
  const ConvShape<2> s = shape_of(g);
  const index_t im2col = 8 * 64 * 9 * 56 * 56;  // 57 MB of float
  for (int threads : {1, 2}) {
    const index_t bytes = strata::kernels::plan_conv(s, threads).workspace() * static_cast<index_t>(sizeof(float));
    EXPECT_LT(bytes, index_t{4} << 20) << threads << " threads";
    EXPECT_LT(bytes * 10, im2col * static_cast<index_t>(sizeof(float)));
  }
  // The workspace does not grow with the batch.
  g.batch = 64;
  EXPECT_EQ(strata::kernels::plan_conv(shape_of(g), 1).workspace(), strata::kernels::plan_conv(s, 1).workspace());
}

}  // namespace
