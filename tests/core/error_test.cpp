// Tests for strata/core/error.hpp.
#include "test_util.hpp"

namespace {

TEST(Error, IsARuntimeError) {
  try {
    strata::detail::check(false, "Conv2d: expected ", 4, "-D input, got shape ", strata::Shape{2, 3});
    FAIL() << "check(false) must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Conv2d: expected 4-D input, got shape [2, 3]");
    EXPECT_NE(dynamic_cast<const strata::Error*>(&e), nullptr);
  }
  EXPECT_NO_THROW(strata::detail::check(true, "never shown"));
}

TEST(Error, ConcatStreamsEveryArgument) {
  EXPECT_EQ(strata::detail::concat("a", 1, ' ', 2.5, strata::Shape{1}), "a1 2.5[1]");
}

}  // namespace
