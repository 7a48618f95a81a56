// Tests for strata/nn/conv_output_size.hpp: conv_output_size (symmetric and
// per-side padding), same_padding, and their errors.
#include <limits>
#include <utility>

#include <strata/nn/conv_output_size.hpp>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::nn::conv_output_size;
using strata::nn::same_padding;

TEST(ConvOutputSizeTest, TorchFormula) {
  // floor((in + 2*padding - dilation*(kernel-1) - 1) / stride) + 1
  EXPECT_EQ(conv_output_size(50, 3, 2), 24);          // Conv1d(16, 33, 3, stride=2) on L = 50
  EXPECT_EQ(conv_output_size(100, 3, 2), 49);         // Conv2d(16, 33, 3, stride=2), W = 100
  EXPECT_EQ(conv_output_size(50, 3, 2, 4, 3), 26);    // H of the dilated docs example
  EXPECT_EQ(conv_output_size(100, 5, 1, 2, 1), 100);  // W of the dilated docs example
  EXPECT_EQ(conv_output_size(5, 5), 1);               // kernel == input
  EXPECT_EQ(conv_output_size(1, 3, 1, 1), 1);         // padding makes room
  EXPECT_EQ(conv_output_size(10, 3, 3), 3);           // floor((10 - 3) / 3) + 1
  EXPECT_EQ(conv_output_size(11, 1, 5), 3);
  EXPECT_EQ(conv_output_size(7, 3, 1, 0, 3), 1);  // extent 7
  EXPECT_EQ(conv_output_size(0, 1, 1, 1), 2);     // an empty dimension with padding
}

TEST(ConvOutputSizeTest, PerSidePadding) {
  // kernel 4, padding='same' = (1, 2): the output keeps the input size.
  EXPECT_EQ(conv_output_size(7, 4, 1, 1, 2, 1), 7);
  EXPECT_EQ(conv_output_size(6, 2, 1, 1, 2, 3), 6);  // kernel 2, dilation 3: same = (1, 2)
  EXPECT_EQ(conv_output_size(9, 3, 2, 0, 1, 1), 4);  // floor((10 - 3) / 2) + 1
  EXPECT_EQ(conv_output_size(9, 3, 2, 0, 2, 1), 5);
  EXPECT_EQ(conv_output_size(9, 3, 2, 1, 1), conv_output_size(9, 3, 2, 1, 1, 1));
}

TEST(ConvOutputSizeTest, SamePadding) {
  EXPECT_EQ(same_padding(1), (std::pair<index_t, index_t>(0, 0)));
  EXPECT_EQ(same_padding(3), (std::pair<index_t, index_t>(1, 1)));
  EXPECT_EQ(same_padding(4), (std::pair<index_t, index_t>(1, 2)));  // the odd element goes after
  EXPECT_EQ(same_padding(3, 2), (std::pair<index_t, index_t>(2, 2)));
  EXPECT_EQ(same_padding(2, 3), (std::pair<index_t, index_t>(1, 2)));
  EXPECT_EQ(same_padding(4, 2), (std::pair<index_t, index_t>(3, 3)));
  for (index_t k = 1; k <= 6; ++k) {
    for (index_t d = 1; d <= 3; ++d) {
      const auto [before, after] = same_padding(k, d);
      EXPECT_EQ(conv_output_size(11, k, 1, before, after, d), 11) << "kernel " << k << " dilation " << d;
    }
  }
  EXPECT_THROW_WITH(same_padding(0), strata::Error, "same_padding: expected kernel_size > 0 in every dimension, got kernel_size=0");
  EXPECT_THROW_WITH(same_padding(3, 0), strata::Error, "same_padding: expected dilation >= 1 in every dimension, got dilation=0");
}

TEST(ConvOutputSizeTest, Errors) {
  EXPECT_THROW_WITH(conv_output_size(2, 3), strata::Error,
                    "conv_output_size: Calculated padded input size per channel: (2). Kernel size: (3). Kernel size "
                    "can't be greater than actual input size");
  EXPECT_THROW_WITH(conv_output_size(5, 3, 1, 0, 3), strata::Error,
                    "padded input size per channel: (5). Kernel size: (7)");
  EXPECT_THROW_WITH(conv_output_size(-1, 3), strata::Error,
                    "conv_output_size: expected a non-negative input size, got -1");
  EXPECT_THROW_WITH(conv_output_size(5, 0), strata::Error, "conv_output_size: expected kernel_size > 0 in every dimension, got kernel_size=0");
  EXPECT_THROW_WITH(conv_output_size(5, 3, 0), strata::Error,
                    "conv_output_size: expected stride >= 1 in every dimension, got stride=0 (non-positive stride is not "
                    "supported)");
  EXPECT_THROW_WITH(conv_output_size(5, 3, 1, 0, 0), strata::Error,
                    "conv_output_size: expected dilation >= 1 in every dimension, got dilation=0 (dilation should be "
                    "greater than zero)");
  EXPECT_THROW_WITH(
      conv_output_size(5, 3, 1, -1), strata::Error,
      "conv_output_size: expected padding >= 0 in every dimension, got padding=-1 (negative padding is not "
      "supported)");
  EXPECT_THROW_WITH(conv_output_size(5, 3, 1, 0, -2, 1), strata::Error, "got padding=0 before and -2 after");
  const index_t big = std::numeric_limits<index_t>::max();
  EXPECT_THROW_WITH(conv_output_size(big, 3, 1, 1), strata::Error, "conv_output_size: size sum overflows int64");
  EXPECT_THROW_WITH(conv_output_size(5, big, 1, 0, 2), strata::Error, "conv_output_size: size product overflows int64");
}

}  // namespace
