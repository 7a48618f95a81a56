// Tests for strata/core/shape.hpp: Shape and the checked size arithmetic.
#include <sstream>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::Shape;

TEST(Shape, ConstructsComparesAndPrints) {
  const Shape s{128, 30};
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], 128);
  EXPECT_EQ(s[1], 30);
  EXPECT_EQ(s, Shape(std::vector<index_t>{128, 30}));
  EXPECT_NE(s, (Shape{30, 128}));
  std::ostringstream out;
  out << s << ' ' << Shape{} << ' ' << Shape{7};
  EXPECT_EQ(out.str(), "[128, 30] [] [7]");
}

TEST(Shape, CheckedNumel) {
  using strata::detail::checked_numel;
  EXPECT_EQ(checked_numel(Shape{2, 3, 4}, "test"), 24);
  EXPECT_EQ(checked_numel(Shape{}, "test"), 1);
  EXPECT_EQ(checked_numel(Shape{0, index_t{1} << 62, 5}, "test"), 0);  // empty never overflows
  EXPECT_THROW_WITH(checked_numel(Shape{2, -3}, "Tensor"), strata::Error, "Tensor: sizes must be non-negative");
  EXPECT_THROW_WITH(checked_numel(Shape{index_t{1} << 32, index_t{1} << 32}, "Tensor"), strata::Error,
                    "overflows int64");
}

TEST(Shape, CheckedArithmetic) {
  using strata::detail::checked_add;
  using strata::detail::checked_mul;
  EXPECT_EQ(checked_mul(1 << 20, 1 << 20, "x"), index_t{1} << 40);
  EXPECT_THROW_WITH(checked_mul(index_t{1} << 40, index_t{1} << 40, "im2col"), strata::Error,
                    "im2col: size product overflows int64");
  EXPECT_THROW_WITH(checked_add(std::numeric_limits<index_t>::max(), 1, "pad"), strata::Error, "overflows int64");
}

TEST(Shape, WrapDim) {
  using strata::detail::wrap_dim;
  EXPECT_EQ(wrap_dim(-1, 3, "t"), 2u);
  EXPECT_EQ(wrap_dim(0, 3, "t"), 0u);
  EXPECT_EQ(wrap_dim(-3, 3, "t"), 0u);
  EXPECT_THROW_WITH(wrap_dim(3, 3, "size"), strata::Error, "expected to be in range of [-3, 2], but got 3");
  EXPECT_THROW_WITH(wrap_dim(-4, 3, "size"), strata::Error, "but got -4");
}

TEST(Shape, ContiguousStrides) {
  EXPECT_EQ(strata::detail::contiguous_strides(Shape{2, 3, 4}), (std::vector<index_t>{12, 4, 1}));
  EXPECT_EQ(strata::detail::contiguous_strides(Shape{}), std::vector<index_t>{});
}

}  // namespace
