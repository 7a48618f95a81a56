#pragma once
/// \file
/// 64-byte aligned, shared, size-checked storage for tensor data.

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"

/// Largest single allocation strata makes, in bytes (default 64 GiB). A request
/// above it is a strata::Error instead of a bad_alloc or an overcommitted page
/// fault later. Define before including strata to change it.
#ifndef STRATA_MAX_ALLOC_BYTES
#define STRATA_MAX_ALLOC_BYTES (std::int64_t{64} << 30)
#endif

namespace strata {
namespace detail {

constexpr std::size_t kAlignment = 64;

/// Allocates room for `count` elements of T, 64-byte aligned, owned by the
/// returned shared_ptr. Throws strata::Error naming `who` when the byte size
/// overflows or passes STRATA_MAX_ALLOC_BYTES, or when the system refuses.
template <typename T>
std::shared_ptr<T> allocate(index_t count, const char* who) {
  check(count >= 0, who, ": cannot allocate a negative number of elements (", count, ")");
  const index_t bytes = checked_mul(count, static_cast<index_t>(sizeof(T)), who);
  check(bytes <= static_cast<index_t>(STRATA_MAX_ALLOC_BYTES), who, ": refusing to allocate ", bytes,
        " bytes (limit STRATA_MAX_ALLOC_BYTES = ", static_cast<index_t>(STRATA_MAX_ALLOC_BYTES), ")");
  // aligned_alloc wants a multiple of the alignment, and never zero.
  const std::size_t rounded =
      (static_cast<std::size_t>(bytes) + kAlignment - 1) / kAlignment * kAlignment + (bytes == 0 ? kAlignment : 0);
  void* raw = std::aligned_alloc(kAlignment, rounded);
  if (raw == nullptr) throw Error(concat(who, ": out of memory allocating ", bytes, " bytes"));
  return std::shared_ptr<T>(static_cast<T*>(raw), [](T* p) { std::free(p); });
}

}  // namespace detail
}  // namespace strata
