// Tests for strata/kernels/conv.hpp: the pointwise fast path and the im2col
// path against the naive reference (groups, padding modes, bias or none), and
// the workspace size with its overflow check.
#include <array>
#include <limits>
#include <vector>

#include <strata/kernels/conv.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::kernels::ConvShape;

template <typename T>
class ConvKernelTest : public ::testing::Test {};
TYPED_TEST_SUITE(ConvKernelTest, strata_test::ScalarTypes);

template <std::size_t D>
ConvShape<D> make_shape(index_t batch, index_t in, index_t out, index_t groups, std::array<index_t, D> input,
                        std::array<index_t, D> kernel, std::array<index_t, D> stride, std::array<index_t, D> pad,
                        strata::PaddingMode mode) {
  ConvShape<D> s;
  s.batch = batch;
  s.in_channels = in;
  s.out_channels = out;
  s.groups = groups;
  s.input = input;
  s.kernel = kernel;
  s.stride = stride;
  s.pad_before = pad;
  s.pad_after = pad;
  s.padding_mode = mode;
  for (std::size_t d = 0; d < D; ++d) {
    s.dilation[d] = 1;
    s.output[d] = (input[d] + 2 * pad[d] - kernel[d]) / stride[d] + 1;
  }
  return s;
}

template <std::size_t D, typename T>
void run_and_compare(const ConvShape<D>& s, bool with_bias, strata::Generator& gen) {
  std::vector<index_t> in_shape{s.batch, s.in_channels}, w_shape{s.out_channels, s.in_channels / s.groups};
  for (std::size_t d = 0; d < D; ++d) {
    in_shape.push_back(s.input[d]);
    w_shape.push_back(s.kernel[d]);
  }
  const auto x = strata::Tensor<T>::randn(strata::Shape(in_shape), gen);
  const auto w = strata::Tensor<T>::randn(strata::Shape(w_shape), gen);
  const auto b = with_bias ? strata::Tensor<T>::randn({s.out_channels}, gen) : strata::Tensor<T>();
  const strata_test::ReferenceConv ref = strata_test::reference_conv<D, T>(x, w, b, s.stride, s.pad_before, s.pad_after,
                                                                           s.dilation, s.groups, s.padding_mode);
  auto y = strata::Tensor<T>::full(ref.shape, T(-7));
  const auto plan = strata::kernels::plan_conv(s);
  std::vector<T> workspace(static_cast<std::size_t>(plan.workspace()) + 1);
  strata::kernels::conv(plan, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data(), workspace.data());
  EXPECT_TRUE(strata_test::matches_reference(y, ref));
}

TYPED_TEST(ConvKernelTest, PointwiseFastPath) {
  strata::Generator gen(13);
  const auto s = make_shape<2>(3, 4, 6, 2, {5, 7}, {1, 1}, {1, 1}, {0, 0}, strata::kReflect);
  EXPECT_TRUE(strata::kernels::conv_is_pointwise(s));
  // No column buffer: the workspace (packed weight, a padded last strip) does not grow with the batch.
  auto many = s;
  many.batch = 300;
  EXPECT_EQ(strata::kernels::plan_conv(s, 1).workspace(), strata::kernels::plan_conv(many, 1).workspace());
  run_and_compare<2, TypeParam>(s, true, gen);
  const auto s1 = make_shape<1>(2, 8, 32, 1, {9}, {1}, {1}, {0}, strata::kZeros);
  EXPECT_TRUE(strata::kernels::conv_is_pointwise(s1));
  run_and_compare<1, TypeParam>(s1, false, gen);
  // A 1x1 kernel with stride or padding needs im2col.
  EXPECT_FALSE(strata::kernels::conv_is_pointwise(make_shape<1>(1, 2, 2, 1, {9}, {1}, {2}, {0}, strata::kZeros)));
  EXPECT_FALSE(strata::kernels::conv_is_pointwise(make_shape<1>(1, 2, 2, 1, {9}, {1}, {1}, {1}, strata::kZeros)));
  EXPECT_FALSE(
      strata::kernels::conv_is_pointwise(make_shape<2>(1, 2, 2, 1, {9, 9}, {1, 3}, {1, 1}, {0, 0}, strata::kZeros)));
}

TYPED_TEST(ConvKernelTest, Im2colPathWithGroupsAndModes) {
  strata::Generator gen(14);
  for (strata::PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular}) {
    for (index_t groups : {1, 2, 4}) {
      SCOPED_TRACE(::testing::Message() << "mode " << mode << " groups " << groups);
      const auto s = make_shape<2>(2, 4, 8, groups, {6, 5}, {3, 2}, {2, 1}, {2, 1}, mode);
      // Bounded whatever the batch: blocks of images, never a whole-batch column matrix.
      auto many = s;
      many.batch = 100000;
      EXPECT_LT(strata::kernels::plan_conv(many, 1).workspace(), index_t{1} << 20);
      run_and_compare<2, TypeParam>(s, groups != 2, gen);
      run_and_compare<1, TypeParam>(make_shape<1>(3, 4, 4, groups, {7}, {3}, {2}, {3}, mode), true, gen);
    }
  }
}

TEST(ConvKernelWorkspaceTest, OverflowIsAnError) {
  ConvShape<2> s;
  s.batch = 1;
  s.in_channels = std::numeric_limits<index_t>::max() / 4;
  s.out_channels = 1;
  s.kernel = {3, 3};
  s.stride = {1, 1};
  s.dilation = {1, 1};
  s.input = {3, 3};
  s.output = {1, 1};
  EXPECT_THROW_WITH(strata::kernels::plan_conv(s).workspace(), strata::Error, "conv: size product overflows int64");
}

}  // namespace
