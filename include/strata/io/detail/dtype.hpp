#pragma once
/// \file
/// The floating-point storage types the weight files hold (float16, bfloat16,
/// float32, float64) and their conversion, from bytes in either byte order, to
/// float or double, and back from float / double to little-endian bytes.
/// float16 and bfloat16 are decoded with Eigen::half and Eigen::bfloat16, so
/// every value (subnormals, infinities, NaN) converts exactly as in torch.

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <Eigen/Core>

#include "strata/core/shape.hpp"

namespace strata {
namespace detail {

/// A scalar type as stored in a file.
enum class StorageType { kFloat16, kBFloat16, kFloat32, kFloat64 };

/// Bytes per element.
inline index_t storage_bytes(StorageType type) {
  switch (type) {
    case StorageType::kFloat16:
    case StorageType::kBFloat16:
      return 2;
    case StorageType::kFloat32:
      return 4;
    case StorageType::kFloat64:
      return 8;
  }
  return 0;
}

/// The storage type that holds T exactly (float32 for float, float64 for double).
template <typename T>
constexpr StorageType storage_type_of() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "T must be float or double");
  return std::is_same_v<T, float> ? StorageType::kFloat32 : StorageType::kFloat64;
}

/// The unsigned integer of sizeof(UInt) bytes starting at p, stored big- or
/// little-endian. Assembled byte by byte, so it works at any alignment on any
/// host; with the byte order a constant, compilers turn it into one load
/// (plus a byte swap when the orders differ).
template <typename UInt, bool BigEndian>
inline UInt load_uint(const unsigned char* p) {
  UInt v = 0;
  constexpr std::size_t n = sizeof(UInt);
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<UInt>(p[BigEndian ? n - 1 - i : i]) << (8 * i);
  return v;
}
template <typename UInt>
inline UInt load_uint(const unsigned char* p, bool big_endian) {
  return big_endian ? load_uint<UInt, true>(p) : load_uint<UInt, false>(p);
}

/// Writes v as `sizeof(UInt)` little-endian bytes at p.
template <typename UInt>
inline void store_uint_le(UInt v, unsigned char* p) {
  for (std::size_t i = 0; i < sizeof(UInt); ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

/// Reinterprets the bits of `from` as To (C++20's std::bit_cast).
template <typename To, typename From>
inline To bit_cast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "bit_cast: sizes differ");
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

/// True when the host stores numbers little-endian (known at compile time
/// with GCC and Clang; elsewhere assumed unknown, and the portable loop runs).
constexpr bool host_is_little_endian() {
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
  return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
#else
  return false;
#endif
}

/// dst[i] = convert(bits of element i) for `count` elements of UInt at src.
template <typename UInt, bool BigEndian, typename T, typename Convert>
void decode_loop(const unsigned char* src, T* dst, index_t count, Convert convert) {
  for (index_t i = 0; i < count; ++i) dst[i] = convert(load_uint<UInt, BigEndian>(src + sizeof(UInt) * i));
}
template <typename UInt, typename T, typename Convert>
void decode_loop(const unsigned char* src, bool big_endian, T* dst, index_t count, Convert convert) {
  if (big_endian) {
    decode_loop<UInt, true>(src, dst, count, convert);
  } else {
    decode_loop<UInt, false>(src, dst, count, convert);
  }
}

/// Converts `count` elements of `type`, stored in the given byte order at
/// `src` (any alignment), to T at `dst`. No checks: the caller has validated
/// that src holds count * storage_bytes(type) bytes.
template <typename T>
void decode(const unsigned char* src, StorageType type, bool big_endian, T* dst, index_t count) {
  if (type == storage_type_of<T>() && big_endian != host_is_little_endian() && host_is_little_endian()) {
    std::memcpy(dst, src, sizeof(T) * static_cast<std::size_t>(count));  // already T's bytes
    return;
  }
  switch (type) {
    case StorageType::kFloat16:
      decode_loop<std::uint16_t>(src, big_endian, dst, count, [](std::uint16_t bits) {
        return static_cast<T>(static_cast<float>(Eigen::half(Eigen::half_impl::raw_uint16_to_half(bits))));
      });
      return;
    case StorageType::kBFloat16:
      decode_loop<std::uint16_t>(src, big_endian, dst, count, [](std::uint16_t bits) {
        return static_cast<T>(static_cast<float>(Eigen::bfloat16(Eigen::bfloat16_impl::raw_uint16_to_bfloat16(bits))));
      });
      return;
    case StorageType::kFloat32:
      decode_loop<std::uint32_t>(src, big_endian, dst, count,
                                 [](std::uint32_t bits) { return static_cast<T>(bit_cast<float>(bits)); });
      return;
    case StorageType::kFloat64:
      decode_loop<std::uint64_t>(src, big_endian, dst, count,
                                 [](std::uint64_t bits) { return static_cast<T>(bit_cast<double>(bits)); });
      return;
  }
}

/// Writes `count` values of T at `src` as little-endian float32 (T = float)
/// or float64 (T = double) bytes at `dst`: bit-exact, any host.
template <typename T>
void encode_le(const T* src, index_t count, unsigned char* dst) {
  using UInt = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  for (index_t i = 0; i < count; ++i) store_uint_le(bit_cast<UInt>(src[i]), dst + sizeof(T) * i);
}

}  // namespace detail
}  // namespace strata
