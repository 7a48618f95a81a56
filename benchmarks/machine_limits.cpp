// The machine's limits for strata_bench (see machine_limits.hpp).

#include "machine_limits.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <sstream>
#include <vector>

#include <Eigen/Core>
#include <benchmark/benchmark.h>
#include <strata/kernels/simd.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef STRATA_BENCH_CXX_FLAGS
#define STRATA_BENCH_CXX_FLAGS "(unknown: benchmarks/CMakeLists.txt sets STRATA_BENCH_CXX_FLAGS)"
#endif

namespace strata_bench {
namespace {

STRATA_KERNELS_PACKETS_BEGIN

namespace ei = Eigen::internal;
using Vec = strata::kernels::detail::Packet<float>;
constexpr int kLanes = static_cast<int>(strata::kernels::detail::packet_size<float>());
// Independent FMA chains: enough to cover the FMA latency times the FMA ports
// (4 cycles x 2 ports on current x86 cores), within the vector registers.
constexpr int kChains = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 20 : 12;

/// `iterations` rounds of kChains independent packet FMAs; returns a value that depends on all of them.
float fma_chains(std::int64_t iterations, float seed) {
  Vec acc[kChains];
  STRATA_UNROLL
  for (int i = 0; i < kChains; ++i) acc[i] = ei::pset1<Vec>(seed + static_cast<float>(i));
  const Vec m = ei::pset1<Vec>(0.999999f), c = ei::pset1<Vec>(1e-6f);
  for (std::int64_t n = 0; n < iterations; ++n) {
    STRATA_UNROLL
    for (int i = 0; i < kChains; ++i) acc[i] = ei::pmadd(acc[i], m, c);
  }
  Vec sum = acc[0];
  STRATA_UNROLL
  for (int i = 1; i < kChains; ++i) sum = ei::padd(sum, acc[i]);
  return ei::predux(sum);
}

/// Sum of x[0, n) (n a multiple of 4 packets) with four independent packet sums, so the loop is bound by the loads.
float read_sum(const float* x, std::int64_t n) {
  Vec s0 = ei::pzero(Vec()), s1 = s0, s2 = s0, s3 = s0;
  for (std::int64_t i = 0; i < n; i += 4 * kLanes) {
    s0 = ei::padd(s0, ei::pload<Vec>(x + i));
    s1 = ei::padd(s1, ei::pload<Vec>(x + i + kLanes));
    s2 = ei::padd(s2, ei::pload<Vec>(x + i + 2 * kLanes));
    s3 = ei::padd(s3, ei::pload<Vec>(x + i + 3 * kLanes));
  }
  return ei::predux(ei::padd(ei::padd(s0, s1), ei::padd(s2, s3)));
}

STRATA_KERNELS_PACKETS_END

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Runs body(thread, threads) on `threads` threads (OpenMP), returns the wall time.
template <typename Body>
double timed_on(int threads, const Body& body) {
  const double start = now();
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
  body(omp_get_thread_num(), omp_get_num_threads());
#else
  (void)threads;
  body(0, 1);
#endif
  return now() - start;
}

/// Best of `repeats` timings.
template <typename Body>
double best_time(int threads, int repeats, const Body& body) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) best = std::min(best, timed_on(threads, body));
  return best;
}


using FloatMap = Eigen::Map<Eigen::ArrayXf>;

struct Arrays {
  static constexpr std::int64_t kTriad = std::int64_t{16} << 20;  // 64 MB each
  // 64-byte aligned (the read kernel uses aligned loads).
  std::vector<Eigen::ArrayXf> storage{Eigen::ArrayXf(kTriad), Eigen::ArrayXf(kTriad), Eigen::ArrayXf(kTriad)};
  float* a = storage[0].data();
  float* b = storage[1].data();
  float* c = storage[2].data();
};

/// [begin, end) of thread t's share of n, in whole 64-byte lines (and whole groups of 4 packets).
std::pair<std::int64_t, std::int64_t> share(std::int64_t n, int t, int threads) {
  constexpr std::int64_t kGroup = 4 * 16;
  const std::int64_t groups = n / kGroup;
  return {groups * t / threads * kGroup, groups * (t + 1) / threads * kGroup};
}

/// Streaming read of n floats (a multiple of 64) on `threads` threads, GB/s.
double measure_read(std::int64_t n, int threads) {
  Eigen::ArrayXf data(n);
  // First touch by the threads that read each part; more repeats for small sizes.
  timed_on(threads, [&](int t, int team) {
    auto [r0, r1] = share(n, t, team);
    FloatMap(data.data() + r0, r1 - r0).setConstant(1.0f);
  });
  const int repeats = static_cast<int>(std::clamp<std::int64_t>((std::int64_t{1} << 28) / n, 5, 64));
  const double seconds = best_time(threads, repeats, [&](int t, int team) {
    auto [r0, r1] = share(n, t, team);
    benchmark::DoNotOptimize(read_sum(data.data() + r0, r1 - r0));
  });
  return static_cast<double>(n) * sizeof(float) / seconds * 1e-9;
}

double measure_triad(Arrays& arrays, int threads) {
  timed_on(threads, [&](int t, int team) {
    auto [t0, t1] = share(Arrays::kTriad, t, team);
    FloatMap(arrays.a + t0, t1 - t0).setZero();
    FloatMap(arrays.b + t0, t1 - t0).setConstant(2.0f);
    FloatMap(arrays.c + t0, t1 - t0).setConstant(0.5f);
  });
  const double triad_s = best_time(threads, 5, [&](int t, int team) {
    auto [t0, t1] = share(Arrays::kTriad, t, team);
    FloatMap(arrays.a + t0, t1 - t0) = FloatMap(arrays.b + t0, t1 - t0) + 3.0f * FloatMap(arrays.c + t0, t1 - t0);
    benchmark::ClobberMemory();
  });
  return 3.0 * Arrays::kTriad * sizeof(float) / triad_s * 1e-9;
}

}  // namespace

double fma_peak_gflops(int threads, int samples) {
  constexpr std::int64_t kIterations = std::int64_t{1} << 20;  // about 5 ms per sample at 200 GFLOP/s
  const double seconds = best_time(threads, samples, [](int t, int) {
    benchmark::DoNotOptimize(fma_chains(kIterations, 1.0f + static_cast<float>(t)));
  });
  const double flops = static_cast<double>(threads) * kIterations * kChains * kLanes * 2.0;
  return flops / seconds * 1e-9;
}

MachineLimits measure_machine_limits() {
  MachineLimits limits;
  for (int i = 0; i < 2; ++i) limits.peak_gflops[i] = fma_peak_gflops(i + 1, 40);
  for (int s = 0; s < MachineLimits::kReadSizes; ++s) {
    const auto n = static_cast<std::int64_t>(MachineLimits::kReadMegabytes[s] * 1e6 / sizeof(float)) / 64 * 64;
    for (int i = 0; i < 2; ++i) limits.read_gbs[s][i] = measure_read(n, i + 1);
  }
  Arrays arrays;
  for (int i = 0; i < 2; ++i) limits.triad_gbs[i] = measure_triad(arrays, i + 1);
  return limits;
}

std::string compiler_description() {
  std::ostringstream out;
#if defined(__clang__)
  out << "Clang " << __clang_major__ << "." << __clang_minor__ << "." << __clang_patchlevel__;
#elif defined(__GNUC__)
  out << "GCC " << __GNUC__ << "." << __GNUC_MINOR__ << "." << __GNUC_PATCHLEVEL__;
#elif defined(_MSC_VER)
  out << "MSVC " << _MSC_VER;
#else
  out << "unknown compiler";
#endif
  return out.str();
}

std::string build_flags() { return STRATA_BENCH_CXX_FLAGS; }

std::string instruction_sets() {
  std::ostringstream out;
  out << Eigen::SimdInstructionSetsInUse() << " (float packets of " << kLanes << ")";
  return out.str();
}

}  // namespace strata_bench
