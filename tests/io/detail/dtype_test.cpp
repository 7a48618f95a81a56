// Tests for strata/io/detail/dtype.hpp: byte-order-independent encoding and decoding
// (the portable loops, which little-endian hosts otherwise skip for same-type data).
#include <cstring>
#include <limits>
#include <vector>

#include <strata/io/detail/dtype.hpp>

#include "test_util.hpp"

namespace {

using strata::detail::StorageType;

template <typename T>
class DtypeTest : public ::testing::Test {};
TYPED_TEST_SUITE(DtypeTest, strata_test::ScalarTypes);

TYPED_TEST(DtypeTest, EncodeWritesLittleEndianBytes) {
  using T = TypeParam;
  const std::vector<T> values{T(1), T(-2.5), T(-0.0), std::numeric_limits<T>::infinity()};
  std::vector<unsigned char> bytes(values.size() * sizeof(T));
  strata::detail::encode_le(values.data(), static_cast<strata::index_t>(values.size()), bytes.data());
  // 1.0 is 0x3F800000 (float) / 0x3FF0000000000000 (double): the high byte comes last.
  EXPECT_EQ(bytes[sizeof(T) - 1], 0x3F);
  EXPECT_EQ(bytes[sizeof(T) - 2], sizeof(T) == 4 ? 0x80 : 0xF0);
  EXPECT_EQ(bytes[0], 0x00);
  // Decoding as little-endian, and the byte-reversed copy as big-endian, gives the values back.
  std::vector<unsigned char> reversed(bytes.size());
  for (std::size_t e = 0; e < values.size(); ++e)
    for (std::size_t b = 0; b < sizeof(T); ++b) reversed[e * sizeof(T) + b] = bytes[e * sizeof(T) + sizeof(T) - 1 - b];
  const StorageType type = strata::detail::storage_type_of<T>();
  for (const bool big_endian : {false, true}) {
    std::vector<T> back(values.size());
    strata::detail::decode((big_endian ? reversed : bytes).data(), type, big_endian, back.data(),
                           static_cast<strata::index_t>(back.size()));
    EXPECT_EQ(std::memcmp(back.data(), values.data(), bytes.size()), 0) << "big_endian=" << big_endian;
  }
}

TYPED_TEST(DtypeTest, DecodeConvertsBetweenWidthsAtAnyAlignment) {
  using T = TypeParam;
  // Three float64 values at an odd offset, little- and big-endian, read as T.
  const std::vector<double> values{0.1, -3.0, 1e300};
  std::vector<unsigned char> le(1 + 8 * values.size()), be(le.size());
  strata::detail::encode_le(values.data(), 3, le.data() + 1);
  for (std::size_t e = 0; e < 3; ++e)
    for (std::size_t b = 0; b < 8; ++b) be[1 + e * 8 + b] = le[1 + e * 8 + 7 - b];
  for (const bool big_endian : {false, true}) {
    T out[3];
    strata::detail::decode((big_endian ? be : le).data() + 1, StorageType::kFloat64, big_endian, out, 3);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(out[i], static_cast<T>(values[static_cast<std::size_t>(i)]));
  }
}

TEST(Dtype, StorageBytes) {
  EXPECT_EQ(strata::detail::storage_bytes(StorageType::kFloat16), 2);
  EXPECT_EQ(strata::detail::storage_bytes(StorageType::kBFloat16), 2);
  EXPECT_EQ(strata::detail::storage_bytes(StorageType::kFloat32), 4);
  EXPECT_EQ(strata::detail::storage_bytes(StorageType::kFloat64), 8);
}

}  // namespace
