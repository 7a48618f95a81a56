// Tests for strata/nn/conv_geometry.hpp, the one home of convolution geometry:
// the window count with and without ceil_mode, the 'same' split, padding
// resolution, and that conv_output_shape and a layer's forward agree (same
// shape, or both refuse with the same message) on every input of an option grid.
#include <array>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <strata/nn/conv.hpp>
#include <strata/nn/conv_geometry.hpp>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;

TEST(ConvGeometryTest, WindowCountFloorAndCeil) {
  using strata::detail::window_output_size;
  // floor((in + before + after - extent) / stride) + 1
  EXPECT_EQ(window_output_size(50, 3, 2, 0, 0, 1, false, "t"), 24);
  EXPECT_EQ(window_output_size(7, 4, 1, 1, 2, 1, false, "t"), 7);
  EXPECT_EQ(window_output_size(2, 3, 1, 0, 0, 1, false, "t"), 0);  // does not fit
  // ceil_mode rounds up, but a last window that would start in the right padding is dropped (torch's rule).
  EXPECT_EQ(window_output_size(5, 2, 2, 0, 0, 1, true, "t"), 3);   // windows at 0, 2, 4 (the last is partial)
  EXPECT_EQ(window_output_size(5, 2, 2, 0, 0, 1, false, "t"), 2);
  EXPECT_EQ(window_output_size(6, 3, 2, 1, 1, 1, true, "t"), 4);   // at -1, 1, 3, 5: 5 is inside the input
  EXPECT_EQ(window_output_size(4, 2, 2, 1, 1, 1, true, "t"), 3);   // at -1, 1, 3: starts inside, kept
  EXPECT_EQ(window_output_size(3, 3, 2, 1, 1, 1, true, "t"), 2);   // at -1, 1
  EXPECT_EQ(window_output_size(4, 2, 3, 1, 1, 1, true, "t"), 2);   // a third window would start at 5, in the padding
  EXPECT_EQ(window_output_size(112, 3, 2, 1, 1, 1, true, "t"), 57);
  EXPECT_EQ(window_output_size(112, 3, 2, 1, 1, 1, false, "t"), 56);
  EXPECT_EQ(window_output_size(7, 3, 2, 0, 0, 2, true, "t"), 2);   // dilated extent 5
  EXPECT_THROW_WITH(window_output_size(std::numeric_limits<index_t>::max(), 3, 1, 1, 0, 1, false, "who"), strata::Error,
                    "who: size sum overflows int64");
}

TEST(ConvGeometryTest, SameSplitAndPaddingResolution) {
  using strata::detail::conv_resolve_padding;
  EXPECT_EQ(strata::detail::same_padding_split(4, 1, "t"), (std::pair<index_t, index_t>(1, 2)));
  EXPECT_EQ(strata::detail::same_padding_split(3, 2, "t"), (std::pair<index_t, index_t>(2, 2)));
  const auto same = conv_resolve_padding<2>("Conv2d", strata::kSame, {4, 3}, {1, 1}, {1, 2});
  EXPECT_EQ(same.before, (std::array<index_t, 2>{1, 2}));
  EXPECT_EQ(same.after, (std::array<index_t, 2>{2, 2}));
  const auto valid = conv_resolve_padding<2>("Conv2d", strata::kValid, {4, 3}, {2, 2}, {1, 1});
  EXPECT_EQ(valid.before, (std::array<index_t, 2>{0, 0}));
  const auto explicit_ = conv_resolve_padding<2>("Conv2d", {4, 2}, {3, 3}, {2, 2}, {1, 1});
  EXPECT_EQ(explicit_.before, (std::array<index_t, 2>{4, 2}));
  EXPECT_EQ(explicit_.after, (std::array<index_t, 2>{4, 2}));
  EXPECT_THROW_WITH(conv_resolve_padding<2>("Conv2d", strata::kSame, {3, 3}, {1, 2}, {1, 1}), strata::Error,
                    "Conv2d: padding='same' is not supported for strided convolutions, got stride=[1, 2]");
}

/// forward's answer for an input shape: the output shape, or the message of its refusal.
template <std::size_t D>
std::string geometry_forward_outcome(const strata::nn::Conv<D, float>& layer, const Shape& input) {
  try {
    return strata::to_string(layer.forward(strata::Tensor<float>::zeros(input)).shape());
  } catch (const strata::Error& e) {
    return e.what();
  }
}

/// conv_output_shape's answer for the same options and input.
template <std::size_t D>
std::string geometry_helper_outcome(const strata::nn::ConvOptions<D>& options, const Shape& input) {
  try {
    return strata::to_string(strata::nn::conv_output_shape(options, input));
  } catch (const strata::Error& e) {
    return e.what();
  }
}

TEST(ConvGeometryTest, ConvOutputShapeAndForwardAgreeOnAnOptionGrid) {
  using strata::nn::Conv2dOptions;
  int inputs = 0, refused = 0;
  for (index_t kernel : {1, 2, 3, 5}) {
    for (index_t stride : {1, 2, 3}) {
      for (int padding : {0, 1, 2, -1, -2}) {  // -1: 'same', -2: 'valid'
        for (index_t dilation : {1, 2, 3}) {
          for (strata::PaddingMode mode : {strata::kZeros, strata::kReflect, strata::kCircular}) {
            Conv2dOptions options(2, 4, {kernel, 3});
            options.stride({stride, 1}).dilation({dilation, 1}).padding_mode(mode);
            if (padding == -1) {
              options.padding(strata::kSame);
            } else if (padding == -2) {
              options.padding(strata::kValid);
            } else {
              options.padding({padding, 1});
            }
            std::unique_ptr<strata::nn::Conv2d<float>> layer;
            try {
              layer = std::make_unique<strata::nn::Conv2d<float>>(options);
            } catch (const strata::Error& e) {
              // Invalid options: conv_output_shape refuses them the same way.
              EXPECT_EQ(geometry_helper_outcome<2>(options, Shape{1, 2, 6, 6}), std::string(e.what()));
              continue;
            }
            // Inputs the layer computes and inputs it refuses (too small, wrong channels, wrong rank, empty).
            for (const Shape& input : {Shape{1, 2, 6, 6}, Shape{2, 2, 9, 7}, Shape{2, 6, 5}, Shape{1, 2, 2, 3},
                                       Shape{1, 2, 1, 3}, Shape{1, 3, 6, 6}, Shape{2, 6}, Shape{0, 2, 4, 4},
                                       Shape{1, 2, 0, 4}}) {
              const std::string helper = geometry_helper_outcome<2>(options, input);
              const std::string forward = geometry_forward_outcome<2>(*layer, input);
              EXPECT_EQ(helper, forward) << "input " << input;
              ++inputs;
              refused += helper.front() != '[';
            }
          }
        }
      }
    }
  }
  EXPECT_GT(inputs, 1000);
  EXPECT_GT(refused, inputs / 4);       // the grid holds many refused inputs,
  EXPECT_LT(refused, inputs * 3 / 4);   // and many computed ones
}

}  // namespace
