// Tests for strata/core/storage.hpp: alignment and refused allocations.
#include <cstdint>

#include "test_util.hpp"

namespace {

template <typename T>
class Storage : public ::testing::Test {};
TYPED_TEST_SUITE(Storage, strata_test::ScalarTypes);

TYPED_TEST(Storage, Is64ByteAligned) {
  for (strata::index_t n : {0, 1, 3, 17, 1000}) {
    auto block = strata::detail::allocate<TypeParam>(n, "test");
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(block.get()) % 64, 0u) << n;
  }
}

TYPED_TEST(Storage, RefusesHugeAndNegativeRequests) {
  EXPECT_THROW_WITH(strata::detail::allocate<TypeParam>(-1, "Tensor"), strata::Error, "negative");
  EXPECT_THROW_WITH(strata::detail::allocate<TypeParam>(strata::index_t{1} << 61, "Tensor"), strata::Error,
                    "overflows int64");
  EXPECT_THROW_WITH(strata::detail::allocate<TypeParam>(strata::index_t{1} << 50, "Tensor"), strata::Error,
                    "refusing to allocate");
}

}  // namespace
