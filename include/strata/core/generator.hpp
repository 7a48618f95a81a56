#pragma once
/// \file
/// strata::Generator: the seeded random engine behind randn/rand/uniform and layer
/// initialisation, plus the default generator that manual_seed reseeds.

#include <cmath>
#include <cstdint>
#include <mutex>
#include <random>

namespace strata {

/// Seeded random engine. The same seed gives the same numbers on every platform:
/// the engine is std::mt19937_64 (whose output the standard fixes) and the
/// distributions below are our own, because std's distributions differ between
/// standard libraries. Not thread-safe: use one Generator per thread.
/// Example: `strata::Generator gen(42); auto x = strata::Tensor<>::randn({2, 3}, gen);`
class Generator {
 public:
  static constexpr std::uint64_t kDefaultSeed = 5489u;

  explicit Generator(std::uint64_t seed = kDefaultSeed) : engine_(seed), seed_(seed) {}

  /// Restarts the sequence from `seed`.
  void manual_seed(std::uint64_t seed) {
    engine_.seed(seed);
    seed_ = seed;
    has_spare_normal_ = false;
  }
  std::uint64_t initial_seed() const { return seed_; }

  /// Raw 64 random bits.
  std::uint64_t next_u64() { return engine_(); }

  /// Uniform in [0, 1), with the full mantissa of T (24 bits for float, 53 for double).
  template <typename T>
  T uniform01() {
    if constexpr (sizeof(T) == sizeof(float)) {
      return static_cast<T>(next_u64() >> 40) * static_cast<T>(1.0 / 16777216.0);
    } else {
      return static_cast<T>(next_u64() >> 11) * static_cast<T>(1.0 / 9007199254740992.0);
    }
  }

  /// Uniform in [low, high).
  template <typename T>
  T uniform(T low, T high) {
    T value = low + (high - low) * uniform01<T>();
    return value < high ? value : low;  // rounding may reach `high`; keep the interval half-open
  }

  /// Standard normal N(0, 1), Box-Muller in double precision.
  template <typename T>
  T normal() {
    if (has_spare_normal_) {
      has_spare_normal_ = false;
      return static_cast<T>(spare_normal_);
    }
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const double u1 = 1.0 - uniform01<double>();
    const double u2 = uniform01<double>();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586476925286766559 * u2;
    spare_normal_ = radius * std::sin(angle);
    has_spare_normal_ = true;
    return static_cast<T>(radius * std::cos(angle));
  }

 private:
  std::mt19937_64 engine_;
  std::uint64_t seed_;
  double spare_normal_ = 0.0;
  bool has_spare_normal_ = false;
};

namespace detail {
inline std::mutex& default_generator_mutex() {
  static std::mutex mutex;
  return mutex;
}
}  // namespace detail

/// The generator layers use when none is given. Guard concurrent use with
/// default_generator_lock(); the layers do.
inline Generator& default_generator() {
  static Generator generator;
  return generator;
}

/// A lock on the default generator, for code that draws from it while other
/// threads may construct layers.
inline std::unique_lock<std::mutex> default_generator_lock() {
  return std::unique_lock<std::mutex>(detail::default_generator_mutex());
}

/// Reseeds the default generator, like torch.manual_seed.
inline void manual_seed(std::uint64_t seed) {
  auto lock = default_generator_lock();
  default_generator().manual_seed(seed);
}

}  // namespace strata
