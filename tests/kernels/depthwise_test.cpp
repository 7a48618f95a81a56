// Tests for strata/kernels/depthwise.hpp through kernels::conv's dispatch:
// which shapes take the direct kernel, and its results against the naive
// reference for channel multipliers, strides, dilations, padding modes, odd
// widths (packet tails), 1-d and 2-d, on 1 and 2 threads.
#include <array>
#include <limits>
#include <vector>

#include <strata/core/threads.hpp>
#include <strata/kernels/conv.hpp>
#include <strata/kernels/depthwise.hpp>
#include <strata/nn/functional/conv.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;

template <typename T>
class DepthwiseTest : public ::testing::Test {
 protected:
  void TearDown() override { strata::set_num_threads(threads_); }
  int threads_ = strata::get_num_threads();
};
TYPED_TEST_SUITE(DepthwiseTest, strata_test::ScalarTypes);

/// conv{1,2}d with groups == channels (weight of `channels * multiplier`
/// outputs) against the reference, with the given padding mode, on 1 and 2
/// threads; the two results must be identical.
template <std::size_t D, typename T>
void check_depthwise(index_t batch, index_t channels, index_t multiplier, std::array<index_t, D> input,
                     std::array<index_t, D> kernel, std::array<index_t, D> stride, std::array<index_t, D> pad,
                     std::array<index_t, D> dilation, strata::PaddingMode mode, strata::Generator& gen) {
  std::vector<index_t> in_shape{batch, channels}, w_shape{channels * multiplier, 1};
  for (std::size_t d = 0; d < D; ++d) {
    in_shape.push_back(input[d]);
    w_shape.push_back(kernel[d]);
  }
  const auto x = strata::Tensor<T>::randn(strata::Shape(in_shape), gen);
  const auto w = strata::Tensor<T>::randn(strata::Shape(w_shape), gen);
  const auto b = strata::Tensor<T>::randn({channels * multiplier}, gen);
  const auto ref = strata_test::reference_conv<D, T>(x, w, b, stride, pad, pad, dilation, channels, mode);
  std::vector<strata::Tensor<T>> results;
  for (int threads : {1, 2}) {
    strata::set_num_threads(threads);
    results.push_back(strata::detail::conv_forward<D, T>("conv", x, w, b, stride, {pad, pad}, dilation, channels, mode));
    EXPECT_TRUE(strata_test::matches_reference(results.back(), ref)) << threads << " threads";
  }
  EXPECT_TRUE(strata_test::reference_values(results[0]) == strata_test::reference_values(results[1]));
}

TEST(DepthwiseDispatchTest, OneInputChannelPerGroupTakesTheDirectKernel) {
  strata::kernels::ConvShape<2> s;
  s.batch = 1;
  s.in_channels = s.groups = 8;
  s.out_channels = 16;
  s.input = {5, 5};
  s.kernel = {3, 3};
  s.stride = s.dilation = {1, 1};
  s.pad_before = s.pad_after = {1, 1};
  s.output = {5, 5};
  EXPECT_TRUE(strata::kernels::conv_is_depthwise(s));
  EXPECT_EQ(strata::kernels::plan_conv(s, 1).algorithm, strata::kernels::ConvAlgorithm::Depthwise);
  s.groups = 4;  // two input channels per group: the GEMM path
  EXPECT_FALSE(strata::kernels::conv_is_depthwise(s));
  s.groups = 8;
  s.kernel = {1, 1};  // a pointwise grouped convolution stays on the pointwise path
  s.pad_before = s.pad_after = {0, 0};
  EXPECT_FALSE(strata::kernels::conv_is_depthwise(s));
  EXPECT_EQ(strata::kernels::plan_conv(s, 1).algorithm, strata::kernels::ConvAlgorithm::Pointwise);
}

TYPED_TEST(DepthwiseTest, MobileNetLikeLayers) {
  strata::Generator gen(41);
  // 3x3, padding 1, widths around the packet sizes (tails of 4, 8 and 16 lanes).
  for (index_t width : {1, 5, 17, 28, 33}) {
    SCOPED_TRACE(::testing::Message() << "width " << width);
    check_depthwise<2, TypeParam>(2, 3, 1, {6, width}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, strata::kZeros, gen);
  }
  // Stride 2 (phase planes), channel multiplier 3, 5x5 with dilation 2.
  check_depthwise<2, TypeParam>(3, 4, 1, {13, 15}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, strata::kZeros, gen);
  check_depthwise<2, TypeParam>(2, 3, 3, {9, 10}, {3, 3}, {1, 2}, {1, 1}, {1, 1}, strata::kZeros, gen);
  check_depthwise<2, TypeParam>(1, 2, 2, {14, 12}, {5, 5}, {1, 1}, {4, 4}, {2, 2}, strata::kZeros, gen);
}

TYPED_TEST(DepthwiseTest, PaddingModesAndOneDimension) {
  strata::Generator gen(42);
  for (strata::PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular}) {
    SCOPED_TRACE(::testing::Message() << "mode " << mode);
    check_depthwise<2, TypeParam>(2, 3, 2, {7, 9}, {3, 4}, {1, 2}, {2, 3}, {1, 1}, mode, gen);
    check_depthwise<1, TypeParam>(3, 5, 1, {11}, {3}, {1}, {2}, {2}, mode, gen);
  }
  // Long sequences: many packets per row.
  check_depthwise<1, TypeParam>(2, 4, 2, {301}, {7}, {3}, {3}, {1}, strata::kZeros, gen);
}

TEST(DepthwiseKernelTest, RowBufferCoversTheLastGroupOfPackets) {
  strata::kernels::ConvShape<2> s;
  s.batch = 1;
  s.in_channels = s.groups = s.out_channels = 1;
  s.input = {3, 3};
  s.kernel = {3, 3};
  s.stride = s.dilation = {1, 1};
  s.pad_before = s.pad_after = {1, 1};
  s.output = {3, 3};
  const strata::kernels::ConvPlanes p = strata::kernels::make_conv_planes(s);
  // Columns 0 .. 2*5+3 are computed in groups of kDepthwisePackets packets.
  const index_t wide = strata::kernels::detail::kDepthwisePackets * strata::kernels::detail::packet_size<double>();
  EXPECT_GE(strata::kernels::detail::depthwise_row_buffer(p), (2 * p.plane_w + 3 + wide - 1) / wide * wide);
}

}  // namespace
