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

/// The unsigned integer of `Bytes` bytes starting at p, in the given byte order.
/// Assembled byte by byte, so it works at any alignment on any host (compilers
/// turn the loop into one load, plus a byte swap when the orders differ).
template <typename UInt>
inline UInt load_uint(const unsigned char* p, bool big_endian) {
  UInt v = 0;
  constexpr std::size_t n = sizeof(UInt);
  for (std::size_t i = 0; i < n; ++i) v |= static_cast<UInt>(p[big_endian ? n - 1 - i : i]) << (8 * i);
  return v;
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

/// Converts `count` elements of `type`, stored in the given byte order at
/// `src` (any alignment), to T at `dst`. No checks: the caller has validated
/// that src holds count * storage_bytes(type) bytes.
template <typename T>
void decode(const unsigned char* src, StorageType type, bool big_endian, T* dst, index_t count) {
  switch (type) {
    case StorageType::kFloat16:
      for (index_t i = 0; i < count; ++i) {
        const Eigen::half h(Eigen::half_impl::raw_uint16_to_half(load_uint<std::uint16_t>(src + 2 * i, big_endian)));
        dst[i] = static_cast<T>(static_cast<float>(h));
      }
      return;
    case StorageType::kBFloat16:
      for (index_t i = 0; i < count; ++i) {
        const Eigen::bfloat16 b(
            Eigen::bfloat16_impl::raw_uint16_to_bfloat16(load_uint<std::uint16_t>(src + 2 * i, big_endian)));
        dst[i] = static_cast<T>(static_cast<float>(b));
      }
      return;
    case StorageType::kFloat32:
      for (index_t i = 0; i < count; ++i)
        dst[i] = static_cast<T>(bit_cast<float>(load_uint<std::uint32_t>(src + 4 * i, big_endian)));
      return;
    case StorageType::kFloat64:
      for (index_t i = 0; i < count; ++i)
        dst[i] = static_cast<T>(bit_cast<double>(load_uint<std::uint64_t>(src + 8 * i, big_endian)));
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
