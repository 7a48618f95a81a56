#pragma once
// The machine's limits, measured by strata_bench in the same run as its cases:
// the core's fp32 FMA peak (independent FMA chains on the widest packets) and
// the memory bandwidth (large streaming read and triad), at 1 and 2 threads,
// and what the binary was built with (compiler, flags, instruction set).

#include <string>

namespace strata_bench {

struct MachineLimits {
  /// Sizes of the streaming reads: a working set in L2 / L3, one as large as
  /// the largest memory-bound case's (the single-row Linear's 64 MB weight),
  /// and one far past any cache.
  static constexpr int kReadSizes = 3;
  static constexpr double kReadMegabytes[kReadSizes] = {8, 64, 512};

  double peak_gflops[2] = {0, 0};         ///< fp32 FMA peak at 1 and 2 threads, GFLOP/s
  double read_gbs[kReadSizes][2] = {};    ///< streaming read (a sum) of each size at 1 and 2 threads, GB/s
  double triad_gbs[2] = {0, 0};           ///< STREAM triad a = b + s * c over 3 x 64 MB, GB/s (3 arrays counted)

  /// The FMA peak on `threads` (1 or 2) threads, FLOP/s.
  double peak(int threads) const { return peak_gflops[threads > 1 ? 1 : 0] * 1e9; }
  /// The read bandwidth, bytes/s, of the smallest measured working set of at least `bytes` (else the largest).
  double bandwidth(double bytes, int threads) const {
    int i = 0;
    while (i + 1 < kReadSizes && kReadMegabytes[i] * 1e6 < bytes) ++i;
    return read_gbs[i][threads > 1 ? 1 : 0] * 1e9;
  }
};

/// The fp32 FMA peak on `threads` threads: the best of `samples` samples of about 5 ms, GFLOP/s.
double fma_peak_gflops(int threads, int samples);

/// Measures the limits (about a second).
MachineLimits measure_machine_limits();

/// "GCC 12.2.0" / "Clang 14.0.6" from the compiler's macros.
std::string compiler_description();
/// The flags the binary was built with (CMAKE_CXX_FLAGS and the build type's, set by benchmarks/CMakeLists.txt).
std::string build_flags();
/// Eigen's instruction sets in use (Eigen::SimdInstructionSetsInUse()), and the widest packet of float.
std::string instruction_sets();

}  // namespace strata_bench
