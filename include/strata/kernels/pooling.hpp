#pragma once
/// \file
/// kernels::pool: max, average and adaptive average pooling of NCL / NCHW
/// planes (kernels/pool_shape.hpp), one skeleton for all three. A 1-D pool
/// runs as a 2-D one of height 1. Pooling windows are rectangles, so every
/// output row is computed in two passes: a vertical reduction of the input
/// rows the window covers (clipped to the input once per row; vectorised
/// along W with the accumulator in a register), then a horizontal reduction
/// along that row. For the fixed-stride pools (Max, Avg) the reduced row is
/// split into its `stride` phases (for stride 2, its even and odd elements,
/// gathered a packet at a time) inside slots holding the reduction's
/// identity (-inf, 0), so every kernel tap reads a contiguous run for a
/// whole packet of output columns: no bound check and no scalar tail in the
/// inner loop, whatever the padding. Adaptive windows have no fixed stride:
/// their horizontal pass sums each window's run. A global average (every
/// output size 1) sums each plane as one run. Planes go to strata's threads,
/// each worker with its own part of the workspace. Raw pointers, no checks:
/// the geometry is validated by nn/conv_geometry.hpp.

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

/// A run of input indices: `count` of them from `first`.
struct PoolRange {
  index_t first = 0;
  index_t count = 0;
};

/// One horizontal kernel tap of a fixed-stride pool: output column ow reads
/// the split row at source + ow (padding slots hold the reduction's identity).
struct PoolTap {
  index_t source = 0;
};

/// Everything a call computes once before the planes: the call as 2-D, the
/// input rows of each output row, the horizontal taps and the split row's
/// layout (Max, Avg), the column windows (AdaptiveAvg), the average's
/// divisors, and the size of a worker's buffer.
///
/// The split row of a fixed-stride pool holds the vertically reduced row as
/// its `stride` phases (phase r: elements r, r + stride, ...), each phase
/// between `lead` slots before and enough slots after that every tap can
/// read a whole padded output row, [0, out_padded), without a bound check.
template <typename T>
struct PoolTables {
  PoolShape<2> s;
  bool global = false;               ///< AdaptiveAvg with every output size 1
  index_t row_step = 1;              ///< input rows between two taps of a row range
  std::vector<PoolRange> rows;       ///< per output row
  std::vector<PoolTap> taps;         ///< Max, Avg: the taps that reach the input, in kernel order
  index_t phases = 1;                ///< Max, Avg: phases of the split row, min(stride, W)
  index_t lead = 0;                  ///< Max, Avg: identity slots before each phase
  index_t phase_stride = 0;          ///< Max, Avg: elements from one phase's slots to the next's
  index_t out_padded = 0;            ///< output columns rounded up to whole packets
  std::vector<PoolRange> cols;       ///< AdaptiveAvg: per output column
  std::vector<index_t> row_divisor;  ///< Avg: the divisor's factor of each output row
  std::vector<T> col_divisor;        ///< Avg: the divisor's factor of each column (out_padded, 1 past OW)
  index_t buffer = 0;                ///< elements of one worker's buffer
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
  constexpr index_t P = packet_size<T>();
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
    t.buffer = t.global ? 0 : W;
    return t;
  }
  t.row_step = s.dilation[0];
  for (index_t o = 0; o < OH; ++o) {
    t.rows[o] = pool_window_taps(o, H, s.kernel[0], s.stride[0], s.padding[0], s.dilation[0]);
  }
  t.out_padded = (OW + P - 1) / P * P;
  // Only the taps some output column reads inside the input: with a kernel far
  // wider than the input (padding up to half of it) most taps read padding only.
  const index_t sw = s.stride[1], pw = s.padding[1], dw = s.dilation[1];
  const index_t first_tap = std::max<index_t>(0, pool_ceil_div(pw - (OW - 1) * sw, dw));
  const index_t end_tap = std::min(s.kernel[1], pool_ceil_div(pw + W, dw));
  t.phases = std::min(sw, W);
  const index_t longest = (W + sw - 1) / sw;  // phase 0 is the longest
  std::vector<std::pair<index_t, index_t>> phase_and_shift;
  index_t lead = 0, trail = 0;
  for (index_t j = first_tap; j < end_tap; ++j) {
    const index_t offset = j * dw - pw;  // input index of output column ow: ow * sw + offset
    const index_t lo = offset >= 0 ? 0 : pool_ceil_div(-offset, sw);
    const index_t hi = std::min(OW, pool_ceil_div(W - offset, sw));
    if (hi <= lo) continue;
    const index_t shift = pool_floor_div(offset, sw);  // column ow reads its phase's element ow + shift
    phase_and_shift.emplace_back(offset - shift * sw, shift);
    lead = std::max(lead, -shift);
    trail = std::max(trail, t.out_padded + shift - longest);
  }
  t.lead = lead;
  t.phase_stride = lead + longest + trail;
  for (const auto& [phase, shift] : phase_and_shift) {
    t.taps.push_back({phase * t.phase_stride + lead + shift});
  }
  if (s.mode == PoolMode::Avg && s.divisor_override == 0) {
    t.row_divisor.resize(static_cast<std::size_t>(OH));
    for (index_t o = 0; o < OH; ++o) {
      t.row_divisor[o] = avg_pool_window_size(o, H, s.kernel[0], s.stride[0], s.padding[0], s.count_include_pad);
    }
    t.col_divisor.assign(static_cast<std::size_t>(t.out_padded), T(1));
    for (index_t o = 0; o < OW; ++o) {
      t.col_divisor[o] = T(avg_pool_window_size(o, W, s.kernel[1], sw, pw, s.count_include_pad));
    }
  }
  // The vertically reduced row, the split row, one padded output row.
  t.buffer = W + t.phases * t.phase_stride + t.out_padded;
  return t;
}

/// Sum of n contiguous values: packets within blocks, the blocks added in double.
template <typename T>
double pool_plane_sum(const T* x, index_t n) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>(), kBlock = 64 * P;
  double total = 0;
  for (index_t begin = 0; begin < n; begin += kBlock) {
    const index_t end = std::min(n, begin + kBlock);
    index_t i = begin;
    Vec a = ei::pset1<Vec>(T(0)), b = a;
    for (; i + 2 * P <= end; i += 2 * P) {
      a = ei::padd(a, ei::ploadu<Vec>(x + i));
      b = ei::padd(b, ei::ploadu<Vec>(x + i + P));
    }
    if (i + P <= end) a = ei::padd(a, ei::ploadu<Vec>(x + i)), i += P;
    T sum = ei::predux(ei::padd(a, b));
    for (; i < end; ++i) sum += x[i];
    total += static_cast<double>(sum);
  }
  return total;
}

/// dst[i] = Op over k < count of rows[k * step + i], for i < n (count >= 1):
/// one packet of columns at a time with its accumulator in a register; the
/// last packet overlaps the one before instead of a scalar tail.
template <typename Op, typename T>
void pool_vertical(const T* rows, index_t count, index_t step, index_t n, T* dst) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>();
  if (n < P) {
    for (index_t i = 0; i < n; ++i) {
      T acc = rows[i];
      for (index_t k = 1; k < count; ++k) acc = Op::scalar(acc, rows[k * step + i]);
      dst[i] = acc;
    }
    return;
  }
  for (index_t i = 0;; i += P) {
    i = std::min(i, n - P);
    Vec acc = ei::ploadu<Vec>(rows + i);
    for (index_t k = 1; k < count; ++k) acc = Op::packet(acc, ei::ploadu<Vec>(rows + k * step + i));
    ei::pstoreu(dst + i, acc);
    if (i == n - P) break;
  }
}

/// dst[i] = src[i * stride] for i < n.
template <typename T>
void pool_gather(const T* src, index_t stride, index_t n, T* dst) {
  namespace ei = Eigen::internal;
  constexpr index_t P = packet_size<T>();
  // Eigen's AVX-512 gather computes its offsets in 32 bits.
  if (n < P || stride > (index_t{1} << 20)) {
    for (index_t i = 0; i < n; ++i) dst[i] = src[i * stride];
    return;
  }
  for (index_t i = 0;; i += P) {
    i = std::min(i, n - P);
    ei::pstoreu(dst + i, ei::pgather<T, Packet<T>>(src + i * stride, stride));
    if (i == n - P) break;
  }
}

/// One output row of a fixed-stride pool, after the vertical pass left the
/// reduced row in the split row's phases: every packet of output columns
/// reduces its taps in registers, then divides (Avg).
template <typename Op, typename T>
void pool_row_taps(const PoolTables<T>& t, const T* split, index_t oh, T* out) {
  namespace ei = Eigen::internal;
  using Vec = Packet<T>;
  constexpr index_t P = packet_size<T>();
  const PoolShape<2>& s = t.s;
  const bool avg = s.mode == PoolMode::Avg;
  const Vec override_divisor = ei::pset1<Vec>(T(s.divisor_override != 0 ? s.divisor_override : 1));
  const Vec row_divisor = ei::pset1<Vec>(T(t.row_divisor.empty() ? 1 : t.row_divisor[oh]));
  for (index_t c = 0; c < t.out_padded; c += P) {
    Vec acc = ei::pset1<Vec>(Op::template identity<T>());
    for (const PoolTap& tap : t.taps) acc = Op::packet(acc, ei::ploadu<Vec>(split + tap.source + c));
    if (avg) {
      acc = s.divisor_override != 0
                ? ei::pdiv(acc, override_divisor)
                : ei::pdiv(acc, ei::pmul(row_divisor, ei::ploadu<Vec>(t.col_divisor.data() + c)));
    }
    ei::pstoreu(out + c, acc);
  }
}

/// Fills every slot of a worker's split row with the identity (the phases'
/// interiors are overwritten row by row; the slots around them stay).
template <typename Op, typename T>
void pool_fill_split(const PoolTables<T>& t, T* split) {
  std::fill(split, split + t.phases * t.phase_stride, Op::template identity<T>());
}

/// One plane: every output row, vertical pass then horizontal pass.
template <typename Op, typename T>
void pool_plane(const PoolTables<T>& t, const T* x, T* y, T* buffer) {
  const PoolShape<2>& s = t.s;
  const index_t W = s.input[1], OH = s.output[0], OW = s.output[1], sw = s.stride[1];
  T* const vertical = buffer;
  T* const split = buffer + W;
  T* const row_out = split + t.phases * t.phase_stride;
  for (index_t oh = 0; oh < OH; ++oh) {
    const PoolRange rows = t.rows[oh];
    const T* first = x + rows.first * W;
    T* out = y + oh * OW;
    if (s.mode == PoolMode::AdaptiveAvg) {
      const T* row = first;
      if (rows.count > 1) {
        pool_vertical<Op>(first, rows.count, W, W, vertical);
        row = vertical;
      }
      // torch's order: the window's sum divided by its height, then by its width.
      for (index_t ow = 0; ow < OW; ++ow) {
        const PoolRange cols = t.cols[ow];
        T sum = 0;
        for (index_t i = 0; i < cols.count; ++i) sum += row[cols.first + i];
        out[ow] = sum / T(rows.count) / T(cols.count);
      }
      continue;
    }
    const index_t step = t.row_step * W;
    if (rows.count == 0) {  // every tap in the padding: phases of identities
      for (index_t r = 0; r < t.phases; ++r) {
        T* phase = split + r * t.phase_stride + t.lead;
        std::fill(phase, phase + (W - r + sw - 1) / sw, Op::template identity<T>());
      }
    } else if (sw == 1) {
      pool_vertical<Op>(first, rows.count, step, W, split + t.lead);
    } else {
      const T* row = first;
      if (rows.count > 1) {
        pool_vertical<Op>(first, rows.count, step, W, vertical);
        row = vertical;
      }
      for (index_t r = 0; r < t.phases; ++r) {
        pool_gather(row + r, sw, (W - r + sw - 1) / sw, split + r * t.phase_stride + t.lead);
      }
    }
    pool_row_taps<Op>(t, split, oh, row_out);
    copy_run(row_out, OW, out);
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

template <typename Op, typename T>
void pool_run(const PoolTables<T>& t, const T* input, T* output, T* workspace, index_t workers) {
  const index_t planes = t.s.planes, in_plane = pool_numel(t.s.input), out_plane = pool_numel(t.s.output);
  strata::detail::parallel_for(workers, 1, [&](index_t first_worker, index_t end_worker) {
    for (index_t w = first_worker; w < end_worker; ++w) {
      T* buffer = workspace + w * t.buffer;
      if (!t.global && t.s.mode != PoolMode::AdaptiveAvg) pool_fill_split<Op>(t, buffer + t.s.input[1]);
      for (index_t p = planes * w / workers, end = planes * (w + 1) / workers; p < end; ++p) {
        const T* x = input + p * in_plane;
        if (t.global) {
          output[p] = static_cast<T>(pool_plane_sum(x, in_plane) / static_cast<double>(in_plane));
        } else {
          pool_plane<Op>(t, x, output + p * out_plane, buffer);
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
  return detail::pool_workers(t, threads) * t.buffer;
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
