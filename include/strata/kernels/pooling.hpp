#pragma once
/// \file
/// kernels::pool: max, average and adaptive average pooling of NCL / NCHW
/// planes (kernels/pool_shape.hpp), one skeleton for all three. A 1-D pool
/// runs as a 2-D one of height 1. Pooling windows are rectangles, so every
/// output row is computed in two passes: a vertical reduction of the input
/// rows the window covers (whole rows, vectorised along W), then a
/// horizontal reduction along that row. For the fixed-stride pools (Max,
/// Avg) the horizontal pass is tap-major: the reduced row is split into its
/// `stride` phases (for stride 2, its even and odd elements), so each kernel
/// tap reads a contiguous run and updates a contiguous run of the output
/// row, both vectorised; taps and rows that would fall into the padding are
/// clipped once per tap or per row, never tested per element. Adaptive
/// windows have no fixed stride: their horizontal pass sums each window's
/// run. A global average (every output size 1) sums each plane as one run.
/// Planes go to strata's threads, each worker with its own part of the
/// workspace. Raw pointers, no checks: the geometry is validated by
/// nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"
#include "strata/kernels/pool_shape.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {
namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// Product of the sizes (validated by the caller: no overflow).
template <std::size_t D>
index_t pool_numel(const std::array<index_t, D>& sizes) {
  index_t n = 1;
  for (index_t s : sizes) n *= s;
  return n;
}

/// floor(a / b) and ceil(a / b) for b > 0 and any sign of a.
inline index_t pool_floor_div(index_t a, index_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline index_t pool_ceil_div(index_t a, index_t b) { return a >= 0 ? a / b + (a % b != 0 ? 1 : 0) : -((-a) / b); }

/// The maximum as torch's CPU kernels take it, `(v > acc || isnan(v)) ? v : acc`:
/// a NaN wins and stays, and of equal values (+0 and -0) the first is kept.
struct PoolMaxOp {
  template <typename T>
  static T identity() {
    return -std::numeric_limits<T>::infinity();
  }
  template <typename T>
  static T scalar(T acc, T v) {
    return (v > acc || std::isnan(v)) ? v : acc;
  }
  template <typename P>
  static P packet(const P& acc, const P& v) {
    namespace ei = Eigen::internal;
    const P larger = ei::pselect(ei::pcmp_lt(acc, v), v, acc);
    return ei::pselect(ei::pcmp_eq(v, v), larger, v);
  }
};

/// The sum of the average pools.
struct PoolSumOp {
  template <typename T>
  static T identity() {
    return T(0);
  }
  template <typename T>
  static T scalar(T acc, T v) {
    return acc + v;
  }
  template <typename P>
  static P packet(const P& acc, const P& v) {
    return Eigen::internal::padd(acc, v);
  }
};

/// dst[i] = Op(a[i], b[i]) for i < n; dst may be a.
template <typename Op, typename T>
void pool_combine_run(T* dst, const T* a, const T* b, index_t n) {
  namespace ei = Eigen::internal;
  constexpr index_t P = packet_size<T>();
  index_t i = 0;
  for (; i + P <= n; i += P) ei::pstoreu(dst + i, Op::packet(ei::ploadu<Packet<T>>(a + i), ei::ploadu<Packet<T>>(b + i)));
  for (; i < n; ++i) dst[i] = Op::scalar(a[i], b[i]);
}

/// A run of input indices: `count` of them from `first`.
struct PoolRange {
  index_t first = 0;
  index_t count = 0;
};

/// One horizontal kernel tap of a fixed-stride pool, clipped to the input:
/// for the output columns [lo, hi) it reads the split row at source + ow.
struct PoolTap {
  index_t lo = 0;
  index_t hi = 0;
  index_t source = 0;
};

/// Everything a call computes once before the planes: the call as 2-D, the
/// input rows of each output row, the horizontal taps (Max, Avg), the
/// column windows (AdaptiveAvg), the average's divisors, the workers.
template <typename T>
struct PoolTables {
  PoolShape<2> s;
  bool global = false;               ///< AdaptiveAvg with every output size 1
  index_t row_step = 1;              ///< input rows between two taps of a row range
  std::vector<PoolRange> rows;       ///< per output row
  std::vector<PoolTap> taps;         ///< Max, Avg: the taps that reach the input
  std::vector<PoolRange> cols;       ///< AdaptiveAvg: per output column
  std::vector<index_t> row_divisor;  ///< Avg: the divisor's factor of each output row
  std::vector<T> col_divisor;        ///< Avg: the divisor's factor of each output column
};

/// A 1-D geometry as the 2-D one of height 1.
inline PoolShape<2> pool_as_2d(const PoolShape<2>& s) { return s; }
inline PoolShape<2> pool_as_2d(const PoolShape<1>& s) {
  PoolShape<2> t;
  t.mode = s.mode;
  t.planes = s.planes;
  t.input = {1, s.input[0]};
  t.output = {1, s.output[0]};
  t.kernel = {1, s.kernel[0]};
  t.stride = {1, s.stride[0]};
  t.padding = {0, s.padding[0]};
  t.dilation = {1, s.dilation[0]};
  t.count_include_pad = s.count_include_pad;
  t.divisor_override = s.divisor_override;
  return t;
}

/// torch's adaptive window of output index i: [floor(i*in/out), ceil((i+1)*in/out)).
inline PoolRange adaptive_pool_window(index_t i, index_t in, index_t out) {
  const index_t first = (i / out) * in + ((i % out) * in) / out;
  const index_t end = 1 + ((i + 1) * in - 1) / out;
  return {first, end - first};
}

/// The taps of one fixed-stride window along a dimension of size n that hit
/// the input, for output index o: first input index and count (step dilation).
inline PoolRange pool_window_taps(index_t o, index_t n, index_t kernel, index_t stride, index_t pad,
                                  index_t dilation) {
  const index_t start = o * stride - pad;
  const index_t lo = start >= 0 ? 0 : pool_ceil_div(-start, dilation);
  const index_t hi = n - start > 0 ? std::min(kernel, pool_ceil_div(n - start, dilation)) : 0;
  if (hi <= lo) return {0, 0};
  return {start + lo * dilation, hi - lo};
}

/// torch's divisor factor of an average window along one dimension: the
/// window clipped to the padded input (count_include_pad) or to the input.
inline index_t avg_pool_window_size(index_t o, index_t n, index_t kernel, index_t stride, index_t pad,
                                    bool count_include_pad) {
  const index_t start = o * stride - pad;
  const index_t end = std::min(start + kernel, n + pad);
  if (count_include_pad) return end - start;
  return std::min(end, n) - std::max<index_t>(start, 0);
}

template <typename T, std::size_t D>
PoolTables<T> pool_tables(const PoolShape<D>& shape) {
  PoolTables<T> t;
  t.s = pool_as_2d(shape);
  const PoolShape<2>& s = t.s;
  const index_t H = s.input[0], W = s.input[1], OH = s.output[0], OW = s.output[1];
  t.rows.resize(static_cast<std::size_t>(OH));
  if (s.mode == PoolMode::AdaptiveAvg) {
    t.global = OH == 1 && OW == 1;
    for (index_t o = 0; o < OH; ++o) t.rows[o] = adaptive_pool_window(o, H, OH);
    t.cols.resize(static_cast<std::size_t>(OW));
    for (index_t o = 0; o < OW; ++o) t.cols[o] = adaptive_pool_window(o, W, OW);
    return t;
  }
  t.row_step = s.dilation[0];
  for (index_t o = 0; o < OH; ++o) {
    t.rows[o] = pool_window_taps(o, H, s.kernel[0], s.stride[0], s.padding[0], s.dilation[0]);
  }
  // Only the taps some output column reads inside the input: with a kernel far
  // wider than the input (padding up to half of it) most taps read padding only.
  const index_t sw = s.stride[1], pw = s.padding[1], dw = s.dilation[1];
  const index_t first_tap = std::max<index_t>(0, pool_ceil_div(pw - (OW - 1) * sw, dw));
  const index_t end_tap = std::min(s.kernel[1], pool_ceil_div(pw + W, dw));
  // The split row holds phase r (elements r, r + sw, ...) at phase_base(r).
  const index_t whole = W / sw, extra = W % sw;
  for (index_t j = first_tap; j < end_tap; ++j) {
    const index_t offset = j * dw - pw;  // input index of output column ow: ow * sw + offset
    PoolTap tap;
    tap.lo = offset >= 0 ? 0 : pool_ceil_div(-offset, sw);
    tap.hi = std::min(OW, pool_ceil_div(W - offset, sw));
    if (tap.hi <= tap.lo) continue;
    const index_t phase = offset - pool_floor_div(offset, sw) * sw;
    const index_t phase_base = sw == 1 ? 0 : phase * whole + std::min(phase, extra);
    tap.source = phase_base + pool_floor_div(offset, sw);
    t.taps.push_back(tap);
  }
  if (s.mode == PoolMode::Avg && s.divisor_override == 0) {
    t.row_divisor.resize(static_cast<std::size_t>(OH));
    for (index_t o = 0; o < OH; ++o) {
      t.row_divisor[o] = avg_pool_window_size(o, H, s.kernel[0], s.stride[0], s.padding[0], s.count_include_pad);
    }
    t.col_divisor.resize(static_cast<std::size_t>(OW));
    for (index_t o = 0; o < OW; ++o) {
      t.col_divisor[o] = T(avg_pool_window_size(o, W, s.kernel[1], sw, pw, s.count_include_pad));
    }
  }
  return t;
}

/// Sum of n contiguous values: packets within blocks, the blocks added in double.
template <typename T>
double pool_plane_sum(const T* x, index_t n) {
  namespace ei = Eigen::internal;
  constexpr index_t P = packet_size<T>(), kBlock = 64 * P;
  double total = 0;
  for (index_t begin = 0; begin < n; begin += kBlock) {
    const index_t end = std::min(n, begin + kBlock);
    index_t i = begin;
    T sum = 0;
    if (end - begin >= 2 * P) {
      Packet<T> a = ei::ploadu<Packet<T>>(x + i), b = ei::ploadu<Packet<T>>(x + i + P);
      for (i += 2 * P; i + 2 * P <= end; i += 2 * P) {
        a = ei::padd(a, ei::ploadu<Packet<T>>(x + i));
        b = ei::padd(b, ei::ploadu<Packet<T>>(x + i + P));
      }
      sum = ei::predux(ei::padd(a, b));
    }
    for (; i < end; ++i) sum += x[i];
    total += static_cast<double>(sum);
  }
  return total;
}

/// One output row of a fixed-stride pool from its vertically reduced input
/// row `row` (W values). `split` has room for W values.
template <typename Op, typename T>
void pool_row_taps(const PoolTables<T>& t, const T* row, T* split, index_t oh, T* out) {
  const PoolShape<2>& s = t.s;
  const index_t W = s.input[1], OW = s.output[1], sw = s.stride[1];
  const T* source = row;
  if (sw > 1) {
    // Phase r holds row[r], row[r + sw], ...: each tap then reads a contiguous run.
    T* to = split;
    for (index_t r = 0; r < std::min(sw, W); ++r) {
      for (index_t i = r; i < W; i += sw) *to++ = row[i];
    }
    source = split;
  }
  std::fill(out, out + OW, Op::template identity<T>());
  for (const PoolTap& tap : t.taps) pool_combine_run<Op>(out + tap.lo, out + tap.lo, source + tap.source + tap.lo, tap.hi - tap.lo);
  if (s.mode == PoolMode::Avg) {
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> values(out, OW);
    if (s.divisor_override != 0) {
      values /= T(s.divisor_override);
    } else {
      const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> cols(t.col_divisor.data(), OW);
      values /= T(t.row_divisor[oh]) * cols;
    }
  }
}

/// One plane: every output row, vertical pass then horizontal pass.
/// `buffer` has room for 2 * W values.
template <typename Op, typename T>
void pool_plane(const PoolTables<T>& t, const T* x, T* y, T* buffer) {
  const PoolShape<2>& s = t.s;
  const index_t W = s.input[1], OH = s.output[0], OW = s.output[1];
  T* const vertical = buffer;
  T* const split = buffer + W;
  for (index_t oh = 0; oh < OH; ++oh) {
    const PoolRange rows = t.rows[oh];
    const T* row = x + rows.first * W;
    if (rows.count == 0) {
      std::fill(vertical, vertical + W, Op::template identity<T>());  // every tap in the padding
      row = vertical;
    } else if (rows.count > 1) {
      const index_t step = t.row_step * W;
      pool_combine_run<Op>(vertical, row, row + step, W);
      for (index_t k = 2; k < rows.count; ++k) pool_combine_run<Op>(vertical, vertical, row + k * step, W);
      row = vertical;
    }
    T* out = y + oh * OW;
    if (s.mode != PoolMode::AdaptiveAvg) {
      pool_row_taps<Op>(t, row, split, oh, out);
      continue;
    }
    // torch's order: the window's sum divided by its height, then by its width.
    for (index_t ow = 0; ow < OW; ++ow) {
      const PoolRange cols = t.cols[ow];
      T sum = 0;
      for (index_t i = 0; i < cols.count; ++i) sum += row[cols.first + i];
      out[ow] = sum / T(rows.count) / T(cols.count);
    }
  }
}

/// Planes per worker below which a second worker does not pay.
template <typename T>
index_t pool_min_planes(const PoolTables<T>& t) {
  const index_t work = std::max<index_t>(1, pool_numel(t.s.input) + pool_numel(t.s.output));
  return std::max<index_t>(1, (index_t{1} << 15) / work);
}

template <typename T>
index_t pool_workers(const PoolTables<T>& t, int threads) {
  return std::max<index_t>(1, std::min<index_t>(threads, t.s.planes / pool_min_planes(t)));
}

/// Elements of one worker's buffer.
template <typename T>
index_t pool_buffer(const PoolTables<T>& t) {
  return t.global ? 0 : 2 * t.s.input[1];
}

template <typename Op, typename T>
void pool_run(const PoolTables<T>& t, const T* input, T* output, T* workspace, index_t workers) {
  const index_t planes = t.s.planes, in_plane = pool_numel(t.s.input), out_plane = pool_numel(t.s.output);
  const index_t buffer = pool_buffer(t);
  strata::detail::parallel_for(workers, 1, [&](index_t first_worker, index_t end_worker) {
    for (index_t w = first_worker; w < end_worker; ++w) {
      for (index_t p = planes * w / workers, end = planes * (w + 1) / workers; p < end; ++p) {
        const T* x = input + p * in_plane;
        if (t.global) {
          output[p] = static_cast<T>(pool_plane_sum(x, in_plane) / static_cast<double>(in_plane));
        } else {
          pool_plane<Op>(t, x, output + p * out_plane, workspace + w * buffer);
        }
      }
    }
  });
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail

/// Elements of workspace kernels::pool needs for `shape` on `threads` threads.
/// Example: `std::vector<float> ws(kernels::pool_workspace<float>(s, 2));`
template <typename T, std::size_t D>
index_t pool_workspace(const PoolShape<D>& shape, int threads) {
  const auto t = detail::pool_tables<T>(shape);
  return detail::pool_workers(t, threads) * detail::pool_buffer(t);
}

/// Pools shape.planes planes of `input` (each prod(shape.input) contiguous
/// values) into `output` (prod(shape.output) values each) on up to
/// `threads` threads; `workspace` holds pool_workspace<T>(shape, threads)
/// elements and is this call's own. Max propagates NaN and gives -inf for
/// a window that lies wholly in the padding; Avg divides each window's sum by
/// divisor_override, or by the window clipped to the padded input
/// (count_include_pad) or to the input; AdaptiveAvg by the window's size.
/// Example: `kernels::pool(s, x, y, ws.data(), 2);`
template <typename T, std::size_t D>
void pool(const PoolShape<D>& shape, const T* input, T* output, T* workspace, int threads) {
  const auto t = detail::pool_tables<T>(shape);
  if (t.s.planes == 0 || detail::pool_numel(t.s.output) == 0) return;
  const index_t workers = detail::pool_workers(t, threads);
  if (t.s.mode == PoolMode::Max) {
    detail::pool_run<detail::PoolMaxOp>(t, input, output, workspace, workers);
  } else {
    detail::pool_run<detail::PoolSumOp>(t, input, output, workspace, workers);
  }
}

}  // namespace kernels
}  // namespace strata
