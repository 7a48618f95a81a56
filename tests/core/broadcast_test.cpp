// Tests for strata/core/broadcast.hpp: torch's broadcast shape and strides, and its error message.
#include <strata/core/broadcast.hpp>

#include <vector>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;
using strata::detail::broadcast_shapes;
using strata::detail::broadcast_strides;

TEST(BroadcastTest, ShapesAlignFromTheRight) {
  EXPECT_EQ(broadcast_shapes({2, 3}, {2, 3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({2, 3}, {3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({4, 1, 3}, {2, 1}, "add"), (Shape{4, 2, 3}));
  EXPECT_EQ(broadcast_shapes({8, 64, 56, 56}, {8, 64, 1, 1}, "mul"), (Shape{8, 64, 56, 56}));
  EXPECT_EQ(broadcast_shapes({1, 64, 1, 1}, {8, 64, 56, 56}, "add"), (Shape{8, 64, 56, 56}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({}, {}, "add"), Shape{});
  EXPECT_EQ(broadcast_shapes({3, 1}, {1, 4}, "add"), (Shape{3, 4}));
  // Size 0 broadcasts against 1 (torch: torch.ones(0, 3) + torch.ones(1, 3) has shape [0, 3]).
  EXPECT_EQ(broadcast_shapes({0, 3}, {1, 3}, "add"), (Shape{0, 3}));
  EXPECT_EQ(broadcast_shapes({1}, {0}, "add"), Shape{0});
}

TEST(BroadcastTest, MismatchNamesBothSizesTheDimAndBothShapes) {
  // torch: RuntimeError: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1
  EXPECT_THROW_WITH(broadcast_shapes({2, 3}, {2, 4}, "add"), strata::Error,
                    "add: the size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1 "
                    "(shapes [2, 3] and [2, 4])");
  // torch.ones(2,3) + torch.ones(4,1,3,1): "... tensor a (2) ... tensor b (3) at non-singleton dimension 2"
  EXPECT_THROW_WITH(broadcast_shapes({2, 3}, {4, 1, 3, 1}, "sub"), strata::Error,
                    "sub: the size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 2 "
                    "(shapes [2, 3] and [4, 1, 3, 1])");
  // torch.ones(0) + torch.ones(2): 0 is not a singleton.
  EXPECT_THROW_WITH(broadcast_shapes({0}, {2}, "mul"), strata::Error,
                    "mul: the size of tensor a (0) must match the size of tensor b (2) at non-singleton dimension 0");
}

TEST(BroadcastTest, StridesAreZeroAlongStretchedDims) {
  EXPECT_EQ(broadcast_strides({3}, {1}, {2, 3}), (std::vector<index_t>{0, 1}));
  EXPECT_EQ(broadcast_strides({8, 64, 1, 1}, {64, 1, 1, 1}, {8, 64, 56, 56}), (std::vector<index_t>{64, 1, 0, 0}));
  EXPECT_EQ(broadcast_strides({2, 1}, {1, 5}, {4, 2, 3}), (std::vector<index_t>{0, 1, 0}));
  EXPECT_EQ(broadcast_strides({}, {}, {2, 2}), (std::vector<index_t>{0, 0}));
  EXPECT_EQ(broadcast_strides({2, 3}, {1, 2}, {2, 3}),
            (std::vector<index_t>{1, 2}));  // a transposed view keeps its strides
}

}  // namespace
