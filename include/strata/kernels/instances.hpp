#pragma once
/// \file
/// Compiling the heavy kernels once per program instead of once per
/// translation unit. The convolution kernels (every algorithm of the plan)
/// and Linear's for float and double are the largest part of what a
/// translation unit that uses strata costs to compile (measured with GCC 12
/// at -O2: 11 s of a 33 s file that runs Conv1d, Conv2d and Linear), paid
/// again by every file of a program. To pay it once:
///  - compile every translation unit with STRATA_EXTERN_KERNELS defined
///    (e.g. `target_compile_definitions(app PRIVATE STRATA_EXTERN_KERNELS)`);
///  - in exactly one .cpp of the program write
///    `#define STRATA_INSTANTIATE_KERNELS` before `#include <strata/strata.hpp>`.
/// The kernel headers then declare their float and double instances extern
/// (C++11 explicit instantiation declarations) and that one file defines
/// them; the code and the results are the same. Every file must see the same
/// flags and STRATA_MAX_ALLOC_BYTES.

#if defined(STRATA_INSTANTIATE_KERNELS)
#define STRATA_KERNEL_INSTANCE template
#elif defined(STRATA_EXTERN_KERNELS)
#define STRATA_KERNEL_INSTANCE extern template
#endif
