// Tests for strata/nn/expanding_array.hpp: construction from one value or D
// values, the length check, comparison and libtorch's printing.
#include <array>
#include <sstream>
#include <string>
#include <vector>

#include <strata/nn/expanding_array.hpp>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::nn::ExpandingArray;

template <std::size_t D>
std::string printed(const ExpandingArray<D>& a) {
  std::ostringstream out;
  out << a;
  return out.str();
}

TEST(ExpandingArrayTest, OneValueExpands) {
  const ExpandingArray<2> a = 3;
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0], 3);
  EXPECT_EQ(a[1], 3);
  const ExpandingArray<1> b(7);
  EXPECT_EQ(b[0], 7);
}

TEST(ExpandingArrayTest, ExactlyDValues) {
  const ExpandingArray<2> a = {3, 5};
  EXPECT_EQ(a[0], 3);
  EXPECT_EQ(a[1], 5);
  EXPECT_EQ(ExpandingArray<2>(std::vector<index_t>{4, 2}), ExpandingArray<2>({4, 2}));
  EXPECT_EQ(ExpandingArray<2>(std::array<index_t, 2>{1, 6}).array(), (std::array<index_t, 2>{1, 6}));
  EXPECT_NE(ExpandingArray<2>({3, 5}), ExpandingArray<2>(3));
  ExpandingArray<2> c = 0;
  c[1] = 9;
  EXPECT_EQ(c, ExpandingArray<2>({0, 9}));
  index_t sum = 0;
  for (index_t v : ExpandingArray<3>({1, 2, 3})) sum += v;
  EXPECT_EQ(sum, 6);
}

TEST(ExpandingArrayTest, WrongCountIsAnError) {
  EXPECT_THROW_WITH(ExpandingArray<2>({1, 2, 3}), strata::Error, "ExpandingArray: expected 2 values, got 3 values");
  EXPECT_THROW_WITH(ExpandingArray<2>({1}), strata::Error, "ExpandingArray: expected 2 values, got 1 value");
  EXPECT_THROW_WITH(ExpandingArray<1>(std::vector<index_t>{}), strata::Error, "expected 1 value, got 0 values");
}

TEST(ExpandingArrayTest, PrintsLikeLibtorch) {
  EXPECT_EQ(printed(ExpandingArray<2>({3, 5})), "[3, 5]");
  EXPECT_EQ(printed(ExpandingArray<3>(2)), "[2, 2, 2]");
  EXPECT_EQ(printed(ExpandingArray<1>(3)), "3");  // libtorch prints a one-element array as its value
}

}  // namespace
