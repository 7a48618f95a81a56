#pragma once
/// \file
/// Thread control: set_num_threads / get_num_threads drive both Eigen's GEMM
/// threads and strata's own parallel loops (OpenMP when the build has it).
///
/// Default: OpenMP's default team size (OMP_NUM_THREADS, else the number of
/// hardware threads), like torch. Without OpenMP everything runs on the calling
/// thread. Our parallel loops run Eigen serially inside each worker (Eigen sees
/// it is inside a parallel region), so the two never oversubscribe the cores.

#include <algorithm>
#include <atomic>

#include <Eigen/Core>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace strata {
namespace detail {
inline std::atomic<int>& thread_count() {
#ifdef _OPENMP
  static std::atomic<int> count{std::max(1, omp_get_max_threads())};
#else
  static std::atomic<int> count{1};
#endif
  return count;
}
}  // namespace detail

/// Sets the number of threads strata uses (Eigen's products and its own loops).
/// Throws strata::Error when n < 1.
inline void set_num_threads(int n) {
  detail::check(n >= 1, "set_num_threads: expected a thread count >= 1, got ", n);
  detail::thread_count() = n;
  Eigen::setNbThreads(n);
}

/// The number of threads strata uses.
inline int get_num_threads() { return detail::thread_count(); }

namespace detail {

/// Runs body(begin, end) over [0, n) split into contiguous chunks, one per
/// thread, when there is at least `min_per_thread` work per thread; otherwise
/// runs it once on the calling thread. Nested calls run serially.
template <typename Body>
void parallel_for(index_t n, index_t min_per_thread, const Body& body) {
  if (n <= 0) return;
#ifdef _OPENMP
  const index_t wanted = std::min<index_t>(get_num_threads(), n / std::max<index_t>(1, min_per_thread));
  if (wanted > 1 && !omp_in_parallel()) {
    const int threads = static_cast<int>(wanted);
#pragma omp parallel num_threads(threads)
    {
      const index_t t = omp_get_thread_num();
      const index_t team = omp_get_num_threads();
      const index_t begin = n * t / team;
      const index_t end = n * (t + 1) / team;
      if (begin < end) body(begin, end);
    }
    return;
  }
#else
  (void)min_per_thread;
#endif
  body(index_t{0}, n);
}

}  // namespace detail
}  // namespace strata
