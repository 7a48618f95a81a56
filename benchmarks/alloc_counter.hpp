#pragma once
// Peak heap use of a call, for the workspace column: strata_bench replaces
// malloc and friends (alloc_counter.cpp) so every allocation is seen, strata's,
// Eigen's and libtorch's alike.

#include <cstdint>

#include "bench_case.hpp"

namespace strata_bench {

/// The largest number of heap bytes live at once during run(), counted from
/// zero when it starts (blocks freed during run() that were allocated before
/// it do not lower the baseline).
std::int64_t peak_heap_bytes(const Runner& run);

}  // namespace strata_bench
