#pragma once
/// \file
/// The scalar types weight files store (float16, bfloat16, float32, float64,
/// int64, int32, int16, int8, uint8 and bool) and their conversion, from bytes
/// in either byte order, to float or double, and back from float / double to
/// little-endian bytes. float16 and bfloat16 are decoded with Eigen::half and
/// Eigen::bfloat16, so every value (subnormals, infinities, NaN) converts
/// exactly as in torch. Integers and bools convert only when T holds them
/// exactly: decode() reports the first element that T cannot hold, and every
/// loader turns that into an error naming the tensor (one rule for all files).

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include <Eigen/Core>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"

namespace strata {
namespace detail {

/// A scalar type as stored in a file.
enum class StorageType { kFloat16, kBFloat16, kFloat32, kFloat64, kInt64, kInt32, kInt16, kInt8, kUInt8, kBool };

/// Bytes per element.
inline index_t storage_bytes(StorageType type) {
  switch (type) {
    case StorageType::kInt8:
    case StorageType::kUInt8:
    case StorageType::kBool:
      return 1;
    case StorageType::kFloat16:
    case StorageType::kBFloat16:
    case StorageType::kInt16:
      return 2;
    case StorageType::kFloat32:
    case StorageType::kInt32:
      return 4;
    case StorageType::kFloat64:
    case StorageType::kInt64:
      return 8;
  }
  return 0;
}

/// torch's name of the dtype ("float16", "int64", "bool", ...), for messages.
inline const char* storage_type_name(StorageType type) {
  switch (type) {
    case StorageType::kFloat16:
      return "float16";
    case StorageType::kBFloat16:
      return "bfloat16";
    case StorageType::kFloat32:
      return "float32";
    case StorageType::kFloat64:
      return "float64";
    case StorageType::kInt64:
      return "int64";
    case StorageType::kInt32:
      return "int32";
    case StorageType::kInt16:
      return "int16";
    case StorageType::kInt8:
      return "int8";
    case StorageType::kUInt8:
      return "uint8";
    case StorageType::kBool:
      return "bool";
  }
  return "?";
}

/// True for the integer and bool types, whose conversion to T can fail.
inline bool is_integer_storage(StorageType type) {
  return type != StorageType::kFloat16 && type != StorageType::kBFloat16 && type != StorageType::kFloat32 &&
         type != StorageType::kFloat64;
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

/// The signed integer of type SInt (two's complement, sizeof(SInt) bytes) at p.
template <typename SInt, bool BigEndian>
inline SInt load_sint(const unsigned char* p) {
  using UInt = std::make_unsigned_t<SInt>;
  return static_cast<SInt>(load_uint<UInt, BigEndian>(p));  // modular since C++20, and in GCC / Clang before
}

/// Integers of type Int at src into T, stopping at the first one T cannot
/// hold exactly; returns its index, or -1. The check is compiled only where
/// it can fail (int32 into float, int64 into float or double).
template <typename Int, bool BigEndian, typename T>
index_t decode_integers(const unsigned char* src, T* dst, index_t count) {
  constexpr bool may_round = std::numeric_limits<Int>::digits > std::numeric_limits<T>::digits;
  for (index_t i = 0; i < count; ++i) {
    Int v;
    if constexpr (std::is_signed_v<Int>) {
      v = load_sint<Int, BigEndian>(src + sizeof(Int) * static_cast<std::size_t>(i));
    } else {
      static_assert(sizeof(Int) == 1, "only uint8 is unsigned");
      v = src[i];
    }
    const T t = static_cast<T>(v);
    if constexpr (may_round) {
      // 2^63 is where a rounded-up int64 lands; converting it back would overflow.
      if (!(t < T(9223372036854775808.0)) || static_cast<std::int64_t>(t) != static_cast<std::int64_t>(v)) return i;
    }
    dst[i] = t;
  }
  return -1;
}
template <typename Int, typename T>
index_t decode_integers(const unsigned char* src, bool big_endian, T* dst, index_t count) {
  return big_endian ? decode_integers<Int, true>(src, dst, count) : decode_integers<Int, false>(src, dst, count);
}

/// Converts `count` elements of `type`, stored in the given byte order at
/// `src` (any alignment), to T at `dst`. Floating-point types always convert
/// (float64 to float rounds to nearest, the others are exact); integers
/// convert when T holds them exactly, bools when the byte is 0 or 1. Returns
/// the index of the first element that does not convert (dst is then filled
/// only up to it), or -1 when all did. No other checks: the caller has
/// validated that src holds count * storage_bytes(type) bytes.
template <typename T>
index_t decode(const unsigned char* src, StorageType type, bool big_endian, T* dst, index_t count) {
  if (type == storage_type_of<T>() && big_endian != host_is_little_endian() && host_is_little_endian()) {
    std::memcpy(dst, src, sizeof(T) * static_cast<std::size_t>(count));  // already T's bytes
    return -1;
  }
  switch (type) {
    case StorageType::kFloat16:
      decode_loop<std::uint16_t>(src, big_endian, dst, count, [](std::uint16_t bits) {
        return static_cast<T>(static_cast<float>(Eigen::half(Eigen::half_impl::raw_uint16_to_half(bits))));
      });
      return -1;
    case StorageType::kBFloat16:
      decode_loop<std::uint16_t>(src, big_endian, dst, count, [](std::uint16_t bits) {
        return static_cast<T>(static_cast<float>(Eigen::bfloat16(Eigen::bfloat16_impl::raw_uint16_to_bfloat16(bits))));
      });
      return -1;
    case StorageType::kFloat32:
      decode_loop<std::uint32_t>(src, big_endian, dst, count,
                                 [](std::uint32_t bits) { return static_cast<T>(bit_cast<float>(bits)); });
      return -1;
    case StorageType::kFloat64:
      decode_loop<std::uint64_t>(src, big_endian, dst, count,
                                 [](std::uint64_t bits) { return static_cast<T>(bit_cast<double>(bits)); });
      return -1;
    case StorageType::kInt64:
      return decode_integers<std::int64_t>(src, big_endian, dst, count);
    case StorageType::kInt32:
      return decode_integers<std::int32_t>(src, big_endian, dst, count);
    case StorageType::kInt16:
      return decode_integers<std::int16_t>(src, big_endian, dst, count);
    case StorageType::kInt8:
      return decode_integers<std::int8_t>(src, big_endian, dst, count);
    case StorageType::kUInt8:
      return decode_integers<std::uint8_t>(src, big_endian, dst, count);
    case StorageType::kBool:
      for (index_t i = 0; i < count; ++i) {
        if (src[i] > 1) return i;
        dst[i] = static_cast<T>(src[i]);
      }
      return -1;
  }
  return -1;
}

/// The value of the integer or bool element at `element`, for messages.
inline std::int64_t load_storage_integer(const unsigned char* element, StorageType type, bool big_endian) {
  switch (type) {
    case StorageType::kInt64:
      return big_endian ? load_sint<std::int64_t, true>(element) : load_sint<std::int64_t, false>(element);
    case StorageType::kInt32:
      return big_endian ? load_sint<std::int32_t, true>(element) : load_sint<std::int32_t, false>(element);
    case StorageType::kInt16:
      return big_endian ? load_sint<std::int16_t, true>(element) : load_sint<std::int16_t, false>(element);
    case StorageType::kInt8:
      return static_cast<std::int8_t>(*element);
    default:
      return *element;
  }
}

/// Why the element at `element` (one that decode() stopped at; `index` is
/// its position, as the caller counts) does not convert to T: "element 3 is
/// 16777217, which float cannot represent exactly", or, for a bool, "element
/// 3 is the byte 2, which is not a bool (0 or 1)".
template <typename T>
std::string inexact_element_message(const unsigned char* element, StorageType type, bool big_endian, index_t index) {
  const std::int64_t value = load_storage_integer(element, type, big_endian);
  if (type == StorageType::kBool)
    return concat("element ", index, " is the byte ", value, ", which is not a bool (0 or 1)");
  return concat("element ", index, " is ", value, ", which ", std::is_same_v<T, float> ? "float" : "double",
                " cannot represent exactly");
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
