// Tests for strata/io/detail/dtype.hpp: byte-order-independent encoding and decoding
// (the portable loops, which little-endian hosts otherwise skip for same-type data).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
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

TEST(Dtype, StorageBytesAndNames) {
  const std::pair<StorageType, strata::index_t> sizes[] = {
      {StorageType::kFloat16, 2}, {StorageType::kBFloat16, 2}, {StorageType::kFloat32, 4}, {StorageType::kFloat64, 8},
      {StorageType::kInt64, 8},   {StorageType::kInt32, 4},    {StorageType::kInt16, 2},   {StorageType::kInt8, 1},
      {StorageType::kUInt8, 1},   {StorageType::kBool, 1}};
  for (const auto& [type, bytes] : sizes) EXPECT_EQ(strata::detail::storage_bytes(type), bytes);
  EXPECT_STREQ(strata::detail::storage_type_name(StorageType::kBFloat16), "bfloat16");
  EXPECT_STREQ(strata::detail::storage_type_name(StorageType::kUInt8), "uint8");
  EXPECT_FALSE(strata::detail::is_integer_storage(StorageType::kFloat64));
  EXPECT_TRUE(strata::detail::is_integer_storage(StorageType::kBool));
}

/// `values` as little- or big-endian Int bytes.
template <typename Int>
std::vector<unsigned char> dtype_int_bytes(const std::vector<Int>& values, bool big_endian) {
  std::vector<unsigned char> out;
  for (Int v : values) {
    const auto bits = static_cast<std::make_unsigned_t<Int>>(v);
    for (std::size_t b = 0; b < sizeof(Int); ++b)
      out.push_back(static_cast<unsigned char>(bits >> (8 * (big_endian ? sizeof(Int) - 1 - b : b))));
  }
  return out;
}

TYPED_TEST(DtypeTest, IntegersConvertWhenExact) {
  using T = TypeParam;
  using strata::detail::decode;
  constexpr bool is_float = sizeof(T) == 4;
  for (const bool big_endian : {false, true}) {
    T out[4];
    const auto i64 = dtype_int_bytes<std::int64_t>({-3, std::int64_t{1} << 53, INT64_MIN, 7}, big_endian);
    EXPECT_EQ(decode(i64.data(), StorageType::kInt64, big_endian, out, 4), -1);
    EXPECT_EQ(out[0], T(-3));
    EXPECT_EQ(out[1], std::ldexp(T(1), 53));
    EXPECT_EQ(out[2], -std::ldexp(T(1), 63));
    const auto i32 = dtype_int_bytes<std::int32_t>({5, (1 << 24) + 1, INT32_MIN, INT32_MAX}, big_endian);
    EXPECT_EQ(decode(i32.data(), StorageType::kInt32, big_endian, out, 4), is_float ? 1 : -1);
    EXPECT_EQ(out[0], T(5));
    const auto i16 = dtype_int_bytes<std::int16_t>({-32768, 32767, -1, 0}, big_endian);
    EXPECT_EQ(decode(i16.data(), StorageType::kInt16, big_endian, out, 4), -1);
    EXPECT_EQ(out[0], T(-32768));
    EXPECT_EQ(out[2], T(-1));
  }
  // 2^53 + 1 and 2^63 - 1 are exact in neither type; the index is the first such element.
  T out[3];
  const auto i64 = dtype_int_bytes<std::int64_t>({1, 2, (std::int64_t{1} << 53) + 1}, false);
  EXPECT_EQ(decode(i64.data(), StorageType::kInt64, false, out, 3), 2);
  EXPECT_EQ(strata::detail::inexact_element_message<T>(i64.data() + 16, StorageType::kInt64, false, 2),
            std::string("element 2 is 9007199254740993, which ") + (is_float ? "float" : "double") +
                " cannot represent exactly");
  const auto top = dtype_int_bytes<std::int64_t>({INT64_MAX}, true);
  EXPECT_EQ(decode(top.data(), StorageType::kInt64, true, out, 1), 0);
  const unsigned char bytes[] = {0x80, 0x7f, 0xff, 0x00};
  EXPECT_EQ(decode(bytes, StorageType::kInt8, false, out, 3), -1);
  EXPECT_EQ(out[0], T(-128));
  EXPECT_EQ(out[2], T(-1));
  EXPECT_EQ(decode(bytes, StorageType::kUInt8, true, out, 3), -1);
  EXPECT_EQ(out[0], T(128));
  EXPECT_EQ(out[2], T(255));
}

TYPED_TEST(DtypeTest, BoolsAreZeroOrOne) {
  using T = TypeParam;
  const unsigned char ok[] = {1, 0, 1}, bad[] = {0, 1, 2};
  T out[3];
  EXPECT_EQ(strata::detail::decode(ok, StorageType::kBool, false, out, 3), -1);
  EXPECT_EQ(out[0], T(1));
  EXPECT_EQ(out[1], T(0));
  EXPECT_EQ(strata::detail::decode(bad, StorageType::kBool, false, out, 3), 2);
  EXPECT_EQ(strata::detail::inexact_element_message<T>(bad + 2, StorageType::kBool, false, 2),
            "element 2 is the byte 2, which is not a bool (0 or 1)");
}

}  // namespace
