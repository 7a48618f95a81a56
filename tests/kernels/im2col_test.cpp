// Tests for strata/kernels/im2col.hpp: the padded index map, the plan, and the
// column matrix for every padding mode, against hand-written matrices and a
// brute-force construction from the reference index map.
#include <array>
#include <vector>

#include <strata/kernels/im2col.hpp>

#include "reference_conv.hpp"
#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::PaddingMode;
using strata::kernels::ConvShape;

template <typename T>
class Im2colTest : public ::testing::Test {};
TYPED_TEST_SUITE(Im2colTest, strata_test::ScalarTypes);

TEST(PaddedSourceIndexTest, EveryMode) {
  using strata::kernels::padded_source_index;
  // A row of 4: positions -3..6.
  const std::vector<index_t> zeros = {-1, -1, -1, 0, 1, 2, 3, -1, -1, -1};
  const std::vector<index_t> reflect = {3, 2, 1, 0, 1, 2, 3, 2, 1, 0};
  const std::vector<index_t> replicate = {0, 0, 0, 0, 1, 2, 3, 3, 3, 3};
  const std::vector<index_t> circular = {1, 2, 3, 0, 1, 2, 3, 0, 1, 2};
  for (index_t p = -3; p <= 6; ++p) {
    const auto i = static_cast<std::size_t>(p + 3);
    EXPECT_EQ(padded_source_index(p, 4, strata::kZeros), zeros[i]) << p;
    EXPECT_EQ(padded_source_index(p, 4, strata::kReflect), reflect[i]) << p;
    EXPECT_EQ(padded_source_index(p, 4, strata::kReplicate), replicate[i]) << p;
    EXPECT_EQ(padded_source_index(p, 4, strata::kCircular), circular[i]) << p;
  }
  EXPECT_EQ(padded_source_index(-4, 4, strata::kCircular), 0);  // padding == size wraps once exactly
}

TYPED_TEST(Im2colTest, HandWritten1d) {
  // Row [1 2 3 4], kernel 2, stride 1, dilation 2, padding (1, 1) -> out 4.
  // Output o reads padded positions o - 1 (row 0) and o + 1 (row 1).
  ConvShape<1> s;
  s.batch = 1;
  s.in_channels = 1;
  s.out_channels = 1;
  s.input = {4};
  s.kernel = {2};
  s.stride = {1};
  s.dilation = {2};
  s.pad_before = {1};
  s.pad_after = {1};
  s.output = {4};
  const std::vector<TypeParam> x = {1, 2, 3, 4};
  const std::vector<std::pair<PaddingMode, std::vector<TypeParam>>> cases = {
      {strata::kZeros, {0, 1, 2, 3, 2, 3, 4, 0}},
      {strata::kReflect, {2, 1, 2, 3, 2, 3, 4, 3}},
      {strata::kReplicate, {1, 1, 2, 3, 2, 3, 4, 4}},
      {strata::kCircular, {4, 1, 2, 3, 2, 3, 4, 1}},
  };
  for (const auto& [mode, expected] : cases) {
    s.padding_mode = mode;
    const strata::kernels::Im2colPlan plan = strata::kernels::make_im2col_plan(s);
    ASSERT_EQ(plan.rows(), 2);
    ASSERT_EQ(plan.cols(), 4);
    std::vector<TypeParam> cols(8, TypeParam(-99));
    strata::kernels::im2col(x.data(), plan, cols.data());
    EXPECT_EQ(cols, expected) << strata::nn::padding_mode_name(mode);
  }
}

TYPED_TEST(Im2colTest, HandWritten2dStrided) {
  // 2 channels of 3x3 (values c*10 + r*3 + col), kernel 2x2, stride 2, zero padding 1 -> out 2x2.
  ConvShape<2> s;
  s.batch = 1;
  s.in_channels = 2;
  s.out_channels = 1;
  s.input = {3, 3};
  s.kernel = {2, 2};
  s.stride = {2, 2};
  s.dilation = {1, 1};
  s.pad_before = {1, 1};
  s.pad_after = {1, 1};
  s.output = {2, 2};
  std::vector<TypeParam> x;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 9; ++i) x.push_back(static_cast<TypeParam>(c * 10 + i));
  const strata::kernels::Im2colPlan plan = strata::kernels::make_im2col_plan(s);
  ASSERT_EQ(plan.rows(), 8);
  ASSERT_EQ(plan.cols(), 4);
  std::vector<TypeParam> cols(32);
  strata::kernels::im2col(x.data(), plan, cols.data());
  // Row (c, kh, kw), columns (oh, ow): reads padded (2*oh + kh - 1, 2*ow + kw - 1).
  const std::vector<TypeParam> channel0 = {
      0, 0, 0, 4,  // kh 0, kw 0: (-1,-1) (-1,1) (1,-1) (1,1)
      0, 0, 3, 5,  // kh 0, kw 1: (-1,0) (-1,2) (1,0) (1,2)
      0, 1, 0, 7,  // kh 1, kw 0: (0,-1) (0,1) (2,-1) (2,1)
      0, 2, 6, 8,  // kh 1, kw 1: (0,0) (0,2) (2,0) (2,2)
  };
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(cols[i], channel0[i]) << i;
    // Channel 1 is channel 0 + 10 wherever the value comes from the input.
    const bool from_input = !(i == 0 || i == 1 || i == 2 || i == 4 || i == 5 || i == 8 || i == 10);
    EXPECT_EQ(cols[16 + i], from_input ? channel0[i] + 10 : TypeParam(0)) << i;
  }
}

TYPED_TEST(Im2colTest, MatchesReferenceIndexMapOverGrid) {
  strata::Generator gen(12);
  int checked = 0;
  for (PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kReplicate, strata::kCircular})
    for (index_t k : {1, 2, 3})
      for (index_t stride : {1, 2, 3})
        for (index_t dilation : {1, 2})
          for (index_t pb : {0, 1, 3})
            for (index_t pa : {0, 2}) {
              ConvShape<2> s;
              s.batch = 1;
              s.in_channels = 2;
              s.out_channels = 1;
              s.input = {4, 5};
              s.kernel = {k, k + 1};
              s.stride = {stride, 1 + stride % 2};
              s.dilation = {dilation, 1};
              s.pad_before = {pb, pa};
              s.pad_after = {pa, pb};
              s.padding_mode = mode;
              bool fits = true;
              for (std::size_t d = 0; d < 2; ++d) {
                const index_t span = s.input[d] + s.pad_before[d] + s.pad_after[d] - s.dilation[d] * (s.kernel[d] - 1);
                fits = fits && span >= 1;
                s.output[d] = fits ? (span - 1) / s.stride[d] + 1 : 0;
              }
              if (!fits) continue;
              SCOPED_TRACE(::testing::Message() << "mode " << mode << " k " << k << " stride " << stride << " dilation "
                                                << dilation << " pad " << pb << "/" << pa);
              const auto x = strata::Tensor<TypeParam>::randn({2, 4, 5}, gen);
              const strata::kernels::Im2colPlan plan = strata::kernels::make_im2col_plan(s);
              std::vector<TypeParam> cols(static_cast<std::size_t>(plan.rows() * plan.cols()));
              strata::kernels::im2col(x.data(), plan, cols.data());
              std::size_t at = 0;
              for (index_t c = 0; c < 2; ++c)
                for (index_t kh = 0; kh < s.kernel[0]; ++kh)
                  for (index_t kw = 0; kw < s.kernel[1]; ++kw)
                    for (index_t oh = 0; oh < s.output[0]; ++oh)
                      for (index_t ow = 0; ow < s.output[1]; ++ow, ++at) {
                        const index_t h = strata_test::reference_source(
                            oh * s.stride[0] + kh * s.dilation[0] - s.pad_before[0], 4, mode);
                        const index_t w = strata_test::reference_source(
                            ow * s.stride[1] + kw * s.dilation[1] - s.pad_before[1], 5, mode);
                        const TypeParam expected = (h < 0 || w < 0) ? TypeParam(0) : x(c, h, w);
                        ASSERT_EQ(cols[at], expected)
                            << "row (" << c << ", " << kh << ", " << kw << ") column (" << oh << ", " << ow << ")";
                      }
              ++checked;
            }
  EXPECT_GT(checked, 400);
}

TEST(Im2colTest, GroupPlanCoversOneGroupOfChannels) {
  ConvShape<1> s;
  s.batch = 2;
  s.in_channels = 6;
  s.out_channels = 9;
  s.groups = 3;
  s.input = {5};
  s.kernel = {3};
  s.stride = {1};
  s.dilation = {1};
  s.output = {3};
  const strata::kernels::Im2colPlan plan = strata::kernels::make_im2col_plan(s);
  EXPECT_EQ(plan.channels, 2);
  EXPECT_EQ(plan.rows(), 6);
  EXPECT_EQ(plan.cols(), 3);
  EXPECT_EQ(plan.height, 1);
  EXPECT_EQ(plan.width, 5);
}

}  // namespace
