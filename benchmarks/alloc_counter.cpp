// Counting replacements for glibc's allocation functions. They forward to
// glibc's own __libc_* entry points and, only while a measurement runs, add
// each block's usable size to a live-bytes counter and track its maximum.
// Defining them in the executable makes every shared library (libstdc++'s
// operator new, libgomp, libtorch) use them too.

#include "alloc_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstddef>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* ptr, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* ptr);
}

namespace {

std::atomic<bool> counting{false};
std::atomic<std::int64_t> live{0};
std::atomic<std::int64_t> peak{0};

void note_alloc(void* p) {
  if (p == nullptr || !counting.load(std::memory_order_relaxed)) return;
  const auto now = live.fetch_add(static_cast<std::int64_t>(malloc_usable_size(p))) +
                   static_cast<std::int64_t>(malloc_usable_size(p));
  auto seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now)) {
  }
}

void note_free(void* p) {
  if (p == nullptr || !counting.load(std::memory_order_relaxed)) return;
  live.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)));
}

}  // namespace

extern "C" {

void* malloc(std::size_t size) noexcept {
  void* p = __libc_malloc(size);
  note_alloc(p);
  return p;
}

void* calloc(std::size_t count, std::size_t size) noexcept {
  void* p = __libc_calloc(count, size);
  note_alloc(p);
  return p;
}

void* realloc(void* ptr, std::size_t size) noexcept {
  note_free(ptr);
  void* p = __libc_realloc(ptr, size);
  note_alloc(p != nullptr || size == 0 ? p : ptr);  // a failed realloc keeps the old block
  return p;
}

void free(void* ptr) noexcept {
  note_free(ptr);
  __libc_free(ptr);
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
  void* p = __libc_memalign(alignment, size);
  note_alloc(p);
  return p;
}

void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept { return memalign(alignment, size); }

int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = memalign(alignment, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"

namespace strata_bench {

std::int64_t peak_heap_bytes(const Runner& run) {
  live = 0;
  peak = 0;
  counting = true;
  run();
  counting = false;
  return peak.load();
}

}  // namespace strata_bench
