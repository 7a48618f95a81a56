#pragma once
/// \file
/// Which instruction set strata's kernels were compiled for, and which the
/// CPU running them has. strata is header-only, so its kernels are built with
/// the flags of the program that includes it: without -march=native (or the
/// CMake target strata::native) an x86-64 build gets SSE2 kernels, several
/// times slower than the AVX-512 or AVX2 ones the same CPU could run. The
/// benchmark and the examples print both; a build that could be faster says
/// so at compile time too (define STRATA_NO_ISA_MESSAGE to silence it).

#include <string>

#include <Eigen/Core>

#if (defined(__x86_64__) || defined(_M_X64)) && !defined(__AVX2__) && !defined(STRATA_NO_ISA_MESSAGE)
#pragma message( \
    "strata: kernels built for SSE2 only; compile with -march=native (CMake: link strata::native, or STRATA_NATIVE=ON) for AVX2 / AVX-512 kernels, several times faster")
#endif

namespace strata {

/// The widest instruction set the kernels of this build use: "AVX-512",
/// "AVX2+FMA", "AVX", "SSE2", "NEON" or "scalar" (Eigen's vectorisation macros).
/// Example: `std::cout << "kernels: " << strata::instruction_set() << "\n";`
inline std::string instruction_set() {
#if defined(EIGEN_VECTORIZE_AVX512)
  return "AVX-512";
#elif defined(EIGEN_VECTORIZE_AVX2) && defined(EIGEN_VECTORIZE_FMA)
  return "AVX2+FMA";
#elif defined(EIGEN_VECTORIZE_AVX)
  return "AVX";
#elif defined(EIGEN_VECTORIZE_SSE2)
  return "SSE2";
#elif defined(EIGEN_VECTORIZE_NEON)
  return "NEON";
#else
  return "scalar";
#endif
}

/// The widest of those instruction sets the running CPU has (x86-64 with
/// GCC or Clang; elsewhere the build's own, since it cannot be asked).
inline std::string cpu_instruction_set() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "AVX-512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "AVX2+FMA";
  if (__builtin_cpu_supports("avx")) return "AVX";
  return "SSE2";
#else
  return instruction_set();
#endif
}

/// A sentence for programs to print when the build leaves speed on the table
/// ("strata: kernels built for SSE2, this CPU has AVX-512: ..."), else empty.
inline std::string instruction_set_advice() {
  const std::string built = instruction_set(), cpu = cpu_instruction_set();
  if (built == cpu || built == "AVX-512") return "";
  return "strata: kernels built for " + built + ", this CPU has " + cpu +
         ": compile with -march=native (CMake: link strata::native) for faster kernels";
}

}  // namespace strata
