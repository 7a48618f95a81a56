#pragma once
/// \file
/// The geometry of a transposed convolution (ConvTransposeShape<D>) and
/// col2im, its overlap-add: a transposed convolution multiplies the
/// transposed weight with the input, giving a column matrix with one row per
/// (output channel, kernel tap) and one column per input position, and each
/// of its entries adds into the output element that tap reaches from that
/// position: output[o] with o = i * stride - padding + k * dilation, dropped
/// when o falls outside the output (the cropped padding). col2im_add does
/// that for a tile of columns, 2-d form (a 1-d transposed convolution has
/// height 1). Raw pointers, no checks: the geometry is validated by
/// nn/conv_geometry.hpp.

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/kernels/simd.hpp"

namespace strata {
namespace kernels {

/// The geometry of one transposed convolution call, D spatial dimensions.
/// Validated by the caller (nn/conv_geometry.hpp): every size >= 1 (batch may
/// be 0), groups divides both channel counts, output[d] ==
/// (input[d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel[d] - 1) + output_padding[d] + 1 >= 1.
/// The weight is (in_channels, out_channels / groups, kernel...), as torch's.
template <std::size_t D>
struct ConvTransposeShape {
  index_t batch = 0;
  index_t in_channels = 0;
  index_t out_channels = 0;
  index_t groups = 1;
  std::array<index_t, D> input{};
  std::array<index_t, D> kernel{};
  std::array<index_t, D> stride{};
  std::array<index_t, D> padding{};
  std::array<index_t, D> output_padding{};
  std::array<index_t, D> dilation{};
  std::array<index_t, D> output{};
};

/// The index maps of col2im for one geometry, in 2-d form. Built once per call
/// by make_col2im_plan, read-only afterwards.
struct Col2imPlan {
  index_t height = 1, width = 1;  ///< input
  index_t kernel_h = 1, kernel_w = 1;
  index_t stride_h = 1, stride_w = 1;
  index_t out_h = 1, out_w = 1;
  std::vector<index_t> row_offset;  ///< [kh]: kh * dilation_h - padding_h
  std::vector<index_t> col_offset;  ///< [kw]: kw * dilation_w - padding_w
  std::vector<index_t> col_begin;   ///< [kw]: first iw whose output column lies inside the output
  std::vector<index_t> col_end;     ///< [kw]: one past the last such iw

  /// Kernel taps: kernel_h * kernel_w.
  index_t taps() const { return kernel_h * kernel_w; }
  /// Input positions of one image: height * width.
  index_t positions() const { return height * width; }
};

namespace detail {

/// ceil(a / b) for b > 0 and any a.
inline index_t col2im_ceil_div(index_t a, index_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

}  // namespace detail

/// The col2im maps of a validated transposed-convolution geometry. D is 1 or 2.
template <std::size_t D>
Col2imPlan make_col2im_plan(const ConvTransposeShape<D>& s) {
  static_assert(D == 1 || D == 2, "strata::kernels::make_col2im_plan: D must be 1 or 2");
  Col2imPlan p;
  constexpr std::size_t w = D - 1;
  p.width = s.input[w];
  p.kernel_w = s.kernel[w];
  p.stride_w = s.stride[w];
  p.out_w = s.output[w];
  if constexpr (D == 2) {
    p.height = s.input[0];
    p.kernel_h = s.kernel[0];
    p.stride_h = s.stride[0];
    p.out_h = s.output[0];
  }
  for (index_t kh = 0; kh < p.kernel_h; ++kh) p.row_offset.push_back(D == 2 ? kh * s.dilation[0] - s.padding[0] : 0);
  for (index_t kw = 0; kw < p.kernel_w; ++kw) {
    const index_t off = kw * s.dilation[w] - s.padding[w];
    // iw * stride + off in [0, out_w): iw in [ceil(-off / stride), ceil((out_w - off) / stride)).
    const index_t begin = std::clamp<index_t>(detail::col2im_ceil_div(-off, p.stride_w), 0, p.width);
    const index_t end = std::clamp<index_t>(detail::col2im_ceil_div(p.out_w - off, p.stride_w), begin, p.width);
    p.col_offset.push_back(off);
    p.col_begin.push_back(begin);
    p.col_end.push_back(end);
  }
  return p;
}

namespace detail {

STRATA_KERNELS_PACKETS_BEGIN

/// dst[i] += src[i] for i < n, in packets (then half packets); src and dst do not overlap.
template <typename T, typename Pk = Packet<T>>
void col2im_add_run(const T* src, index_t n, T* dst, index_t i = 0) {
  namespace ei = Eigen::internal;
  constexpr index_t P = ei::unpacket_traits<Pk>::size;
  for (; i + P <= n; i += P) ei::pstoreu(dst + i, ei::padd(ei::ploadu<Pk>(dst + i), ei::ploadu<Pk>(src + i)));
  using Half = typename ei::unpacket_traits<Pk>::half;
  if constexpr (!std::is_same_v<Half, Pk> && ei::unpacket_traits<Half>::size > 1) {
    col2im_add_run<T, Half>(src, n, dst, i);
  } else {
    for (; i < n; ++i) dst[i] += src[i];
  }
}

/// dst[0, n) = value, in packets.
template <typename T>
void col2im_fill(T* dst, index_t n, T value) {
  namespace ei = Eigen::internal;
  constexpr index_t P = packet_size<T>();
  const Packet<T> v = ei::pset1<Packet<T>>(value);
  index_t i = 0;
  for (; i + P <= n; i += P) ei::pstoreu(dst + i, v);
  for (; i < n; ++i) dst[i] = value;
}

// (lo, hi) = a and b interleaved, a0 b0 a1 b1 ...: the even and odd output
// columns of two taps of a stride-2 row, added as whole packets.
#if defined(EIGEN_VECTORIZE_SSE2)
constexpr bool kCol2imInterleaves = true;
inline void col2im_interleave(__m128 a, __m128 b, __m128& lo, __m128& hi) {
  lo = _mm_unpacklo_ps(a, b);
  hi = _mm_unpackhi_ps(a, b);
}
inline void col2im_interleave(__m128d a, __m128d b, __m128d& lo, __m128d& hi) {
  lo = _mm_unpacklo_pd(a, b);
  hi = _mm_unpackhi_pd(a, b);
}
#else
constexpr bool kCol2imInterleaves = false;
#endif
#if defined(EIGEN_VECTORIZE_AVX)
inline void col2im_interleave(__m256 a, __m256 b, __m256& lo, __m256& hi) {
  const __m256 l = _mm256_unpacklo_ps(a, b), h = _mm256_unpackhi_ps(a, b);  // per 128-bit lane
  lo = _mm256_permute2f128_ps(l, h, 0x20);
  hi = _mm256_permute2f128_ps(l, h, 0x31);
}
inline void col2im_interleave(__m256d a, __m256d b, __m256d& lo, __m256d& hi) {
  const __m256d l = _mm256_unpacklo_pd(a, b), h = _mm256_unpackhi_pd(a, b);
  lo = _mm256_permute2f128_pd(l, h, 0x20);
  hi = _mm256_permute2f128_pd(l, h, 0x31);
}
#endif
#if defined(EIGEN_VECTORIZE_AVX512)
inline void col2im_interleave(__m512 a, __m512 b, __m512& lo, __m512& hi) {
  lo = _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
  hi = _mm512_permutex2var_ps(a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
}
inline void col2im_interleave(__m512d a, __m512d b, __m512d& lo, __m512d& hi) {
  lo = _mm512_permutex2var_pd(a, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), b);
  hi = _mm512_permutex2var_pd(a, _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), b);
}
#endif

/// dst[2i] += a[i] and dst[2i + 1] += b[i] for i < n: two taps of a stride-2
/// row whose output columns are neighbours, in packets (then half packets)
/// where the ISA has an interleave.
template <typename T, typename Pk = Packet<T>>
void col2im_add_pair(const T* a, const T* b, index_t n, T* dst, index_t i = 0) {
  namespace ei = Eigen::internal;
  constexpr index_t P = ei::unpacket_traits<Pk>::size;
  if constexpr (kCol2imInterleaves && P > 1) {
    for (; i + P <= n; i += P) {
      Pk lo, hi;
      col2im_interleave(ei::ploadu<Pk>(a + i), ei::ploadu<Pk>(b + i), lo, hi);
      T* d = dst + 2 * i;
      ei::pstoreu(d, ei::padd(ei::ploadu<Pk>(d), lo));
      ei::pstoreu(d + P, ei::padd(ei::ploadu<Pk>(d + P), hi));
    }
    using Half = typename ei::unpacket_traits<Pk>::half;
    if constexpr (!std::is_same_v<Half, Pk> && ei::unpacket_traits<Half>::size > 1) {
      return col2im_add_pair<T, Half>(a, b, n, dst, i);
    }
  }
  for (; i < n; ++i) {
    dst[2 * i] += a[i];
    dst[2 * i + 1] += b[i];
  }
}

/// dst[i * stride] += src[i] for i < n (a tap of a row).
template <typename T>
void col2im_add_strided(const T* src, index_t n, index_t stride, T* dst) {
  if (stride == 1) {
    col2im_add_run(src, n, dst);
  } else {
    for (index_t i = 0; i < n; ++i) dst[i * stride] += src[i];
  }
}

STRATA_KERNELS_PACKETS_END

}  // namespace detail

/// Adds a tile of a column matrix into output planes. The columns are the
/// input positions of a block of whole images, numbered image-major
/// (column c = image * plan.positions() + ih * width + iw); the tile holds
/// columns [first, first + count), column c at cols[r * ldc + c - first] for
/// row r = (channel * kernel_h + kh) * kernel_w + kw, channel in [0, channels).
/// Channel `channel` of image `image` of the block is the output plane at
/// out + image * image_stride + channel * out_h * out_w. Each output element
/// receives its terms in a fixed order (by tile, input row, tap, input
/// column), so the sums do not depend on how the caller splits channels.
template <typename T>
void col2im_add(const T* cols, index_t ldc, index_t channels, const Col2imPlan& p, index_t first, index_t count, T* out,
                index_t image_stride) {
  const index_t positions = p.positions(), out_plane = p.out_h * p.out_w, kw_n = p.kernel_w;
  const index_t last = first + count;
  for (index_t c = first; c < last;) {
    const index_t image = c / positions, within = c % positions;
    const index_t ih = within / p.width, iw0 = within % p.width;
    const index_t iw1 = std::min(p.width, iw0 + (last - c));
    T* const image_out = out + image * image_stride;
    for (index_t ch = 0; ch < channels; ++ch) {
      for (index_t kh = 0; kh < p.kernel_h; ++kh) {
        const index_t oh = ih * p.stride_h + p.row_offset[static_cast<std::size_t>(kh)];
        if (oh < 0 || oh >= p.out_h) continue;  // a row of the cropped padding
        T* const out_row = image_out + ch * out_plane + oh * p.out_w;
        // Input column iw of this row at tap kw, and the output element it reaches.
        const index_t r0 = (ch * p.kernel_h + kh) * kw_n;
        const auto src = [&](index_t kw, index_t iw) { return cols + (r0 + kw) * ldc + (c - first) + (iw - iw0); };
        const auto dst = [&](index_t kw, index_t iw) {
          return out_row + iw * p.stride_w + p.col_offset[static_cast<std::size_t>(kw)];
        };
        const auto tap = [&](index_t kw, index_t b, index_t e) {
          if (b < e) detail::col2im_add_strided(src(kw, b), e - b, p.stride_w, dst(kw, b));
        };
        for (index_t kw = 0; kw < kw_n; ++kw) {
          const auto k = static_cast<std::size_t>(kw);
          const index_t b = std::max(iw0, p.col_begin[k]), e = std::min(iw1, p.col_end[k]);
          if (p.stride_w == 2 && kw + 1 < kw_n && p.col_offset[k + 1] == p.col_offset[k] + 1) {
            // Taps kw and kw + 1 fill the even and odd output columns: one interleaved run
            // where both reach the output, single-tap edges around it. Each output column
            // gets one term from the pair, so the terms' order is as tap by tap.
            const index_t b2 = std::max(iw0, p.col_begin[k + 1]), e2 = std::min(iw1, p.col_end[k + 1]);
            const index_t cb = std::max(b, b2), ce = std::min(e, e2);
            if (cb < ce) {
              tap(kw, b, cb);
              tap(kw, ce, e);
              tap(kw + 1, b2, cb);
              tap(kw + 1, ce, e2);
              detail::col2im_add_pair(src(kw, cb), src(kw + 1, cb), ce - cb, dst(kw, cb));
              ++kw;
              continue;
            }
          }
          tap(kw, b, e);
        }
      }
    }
    c += iw1 - iw0;
  }
}

}  // namespace kernels
}  // namespace strata
