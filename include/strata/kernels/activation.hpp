#pragma once
/// \file
/// Elementwise activation kernels. Raw pointers, no checks: nn/functional validates.

#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"

namespace strata {
namespace kernels {

/// out[i] = max(in[i], 0) for i < n, with torch's edge cases: NaN stays NaN
/// and -0.0 stays -0.0 (only values below zero become +0). out may equal in.
template <typename T>
void relu(const T* in, T* out, index_t n) {
  detail::parallel_for(n, index_t{1} << 16, [&](index_t begin, index_t end) {
    for (index_t i = begin; i < end; ++i) out[i] = in[i] < T(0) ? T(0) : in[i];
  });
}

}  // namespace kernels
}  // namespace strata
