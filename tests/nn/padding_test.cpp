// Tests for strata/nn/padding.hpp: the kSame / kValid tags, the padding modes
// and ConvPadding<D>.
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <strata/nn/padding.hpp>

#include "test_util.hpp"

namespace {

using strata::index_t;
using strata::nn::ConvPadding;

template <typename V>
std::string printed(const V& v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

TEST(PaddingTest, TagsAndModesAreReachableFromBothNamespaces) {
  static_assert(!std::is_same_v<std::decay_t<decltype(strata::nn::kSame)>, std::decay_t<decltype(strata::nn::kValid)>>);
  static_assert(std::is_same_v<decltype(&strata::kSame), decltype(&strata::nn::kSame)>);
  EXPECT_EQ(&strata::kSame, &strata::nn::kSame);
  EXPECT_EQ(&strata::kValid, &strata::nn::kValid);
  EXPECT_EQ(strata::kZeros, strata::nn::PaddingMode::Zeros);
  EXPECT_EQ(strata::kReflect, strata::PaddingMode::Reflect);
  EXPECT_EQ(strata::nn::kReplicate, strata::nn::PaddingMode::Replicate);
  EXPECT_EQ(strata::kCircular, strata::nn::PaddingMode::Circular);
}

TEST(PaddingTest, ModeNamesAreLibtorchs) {
  EXPECT_EQ(printed(strata::kZeros), "kZeros");
  EXPECT_EQ(printed(strata::kReflect), "kReflect");
  EXPECT_EQ(printed(strata::kReplicate), "kReplicate");
  EXPECT_EQ(std::string(strata::nn::padding_mode_name(strata::kCircular)), "kCircular");
}

TEST(PaddingTest, ConvPaddingHoldsIntsSameOrValid) {
  const ConvPadding<2> ints = {4, 2};
  EXPECT_TRUE(ints.is_explicit());
  EXPECT_FALSE(ints.is_same());
  EXPECT_EQ(ints.values()[0], 4);
  EXPECT_EQ(ints.values()[1], 2);
  const ConvPadding<2> one = 1;
  EXPECT_EQ(one, ConvPadding<2>({1, 1}));
  EXPECT_EQ(ConvPadding<2>(std::vector<index_t>{0, 3}).values()[1], 3);
  EXPECT_EQ(ConvPadding<1>(strata::nn::ExpandingArray<1>(5)).values()[0], 5);

  const ConvPadding<2> same = strata::kSame;
  EXPECT_TRUE(same.is_same());
  EXPECT_EQ(same.kind(), ConvPadding<2>::Kind::Same);
  const ConvPadding<1> valid = strata::nn::kValid;
  EXPECT_TRUE(valid.is_valid());
  EXPECT_EQ(valid.values()[0], 0);
  EXPECT_NE(same, ConvPadding<2>(0));
  EXPECT_NE(ConvPadding<1>(strata::kValid), ConvPadding<1>(0));  // equal sizes, different meaning

  EXPECT_EQ(printed(ints), "[4, 2]");
  EXPECT_EQ(printed(ConvPadding<1>(3)), "3");
  EXPECT_EQ(printed(same), "'same'");
  EXPECT_EQ(printed(valid), "'valid'");
  EXPECT_THROW_WITH(ConvPadding<2>({1, 2, 3}), strata::Error, "expected 2 values, got 3 values");
}

}  // namespace
