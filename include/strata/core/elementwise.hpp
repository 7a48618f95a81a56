#pragma once
/// \file
/// The one strided N-ary loop behind strata's element-wise work (arithmetic,
/// broadcasting, copies, reductions, activations over any strides).
///
/// StridedLoop takes the operands' strides over one common shape (0 along
/// broadcast dimensions), drops size-1 dimensions, orders the rest by memory
/// (largest stride outermost) and merges dimensions that are contiguous with
/// each other in every operand. What is left is a few long inner runs: a
/// same-shape contiguous add is one run, (N, C, H, W) * (N, C, 1, 1) is N*C
/// runs of H*W elements against one scalar. Its for_each_run calls a functor
/// once per run with each operand's offset and step, so the inner loop carries
/// no index arithmetic. for_each_dense_run adds the last step: runs with a
/// step other than 0 or 1 are gathered into (and written back from) small
/// blocks, so kernels only ever see contiguous runs and broadcast scalars.
///
/// The helpers take raw pointers and strides, and (unary_map) any type with
/// strata::Tensor's interface, so this header does not include tensor.hpp
/// (which includes it).

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/core/threads.hpp"

namespace strata {
namespace detail {

/// Elements per thread below which an element-wise loop stays on one thread
/// (a memory-bound loop gains nothing from a second thread below ~100 kB).
constexpr index_t kElementwiseGrain = index_t{1} << 15;

/// Elements per gathered block in for_each_dense_run (on the stack, per operand).
constexpr index_t kDenseRunBlock = 256;

/// An iteration over N operands viewed with one shape: see the file comment.
/// Operand `order_by` (default 0, the output) decides the loop order; the
/// others break its ties. Offsets and steps are in elements.
template <std::size_t N>
class StridedLoop {
 public:
  using Offsets = std::array<index_t, N>;

  /// `strides[k]` views operand k with `shape` (one stride per dimension).
  StridedLoop(const Shape& shape, const std::array<std::vector<index_t>, N>& strides, std::size_t order_by = 0) {
    // An empty shape's other sizes may multiply past int64: look for the zero first.
    for (index_t s : shape) {
      if (s == 0) return;
    }
    numel_ = 1;
    for (index_t s : shape) numel_ *= s;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;  // addresses nothing: any stride, no loop
      Offsets st{};
      for (std::size_t k = 0; k < N; ++k) st[k] = strides[k][d];
      sizes_.push_back(shape[d]);
      strides_.push_back(st);
    }
    order(order_by);
    collapse();
  }

  /// Number of elements iterated (the product of the shape).
  index_t numel() const { return numel_; }
  /// Dimensions left after dropping, ordering and merging (outermost first).
  std::size_t rank() const { return sizes_.size(); }
  const std::vector<index_t>& sizes() const { return sizes_; }
  /// Operand k's stride along dimension d (of the merged dimensions).
  index_t stride(std::size_t k, std::size_t d) const { return strides_[d][k]; }

  /// Calls run(offsets, steps, n) for each maximal inner run among elements
  /// [begin, end) of the loop order: element i of a run of operand k is at
  /// offsets[k] + i * steps[k].
  template <typename Run>
  void for_each_run(index_t begin, index_t end, const Run& run) const {
    if (begin >= end) return;
    const std::size_t rank = sizes_.size();
    if (rank == 0) {  // one element
      run(Offsets{}, Offsets{}, index_t{1});
      return;
    }
    const std::size_t last = rank - 1;
    const index_t inner = sizes_[last];
    const Offsets& steps = strides_[last];
    std::vector<index_t> idx(rank, 0);
    Offsets offsets{};
    index_t rest = begin;
    for (std::size_t d = rank; d-- > 0;) {
      idx[d] = rest % sizes_[d];
      rest /= sizes_[d];
      for (std::size_t k = 0; k < N; ++k) offsets[k] += idx[d] * strides_[d][k];
    }
    index_t remaining = end - begin;
    while (true) {
      const index_t n = std::min(inner - idx[last], remaining);
      run(offsets, steps, n);
      remaining -= n;
      if (remaining == 0) return;
      // The run reached the end of its row: back to the row's start, then carry.
      for (std::size_t k = 0; k < N; ++k) offsets[k] -= idx[last] * steps[k];
      idx[last] = 0;
      for (std::size_t d = last; d-- > 0;) {
        for (std::size_t k = 0; k < N; ++k) offsets[k] += strides_[d][k];
        if (++idx[d] < sizes_[d]) break;
        for (std::size_t k = 0; k < N; ++k) offsets[k] -= strides_[d][k] * sizes_[d];
        idx[d] = 0;
      }
    }
  }

 private:
  /// True when dimension `outer` should move inside dimension `inner`: the
  /// first operand (order_by, then the others) with distinct non-zero strides
  /// on both has the smaller one on `outer`. Zero strides (broadcast) say nothing.
  bool belongs_inside(std::size_t outer, std::size_t inner, std::size_t order_by) const {
    for (std::size_t j = 0; j < N; ++j) {
      const std::size_t k = j == 0 ? order_by : (j <= order_by ? j - 1 : j);
      const index_t so = strides_[outer][k], si = strides_[inner][k];
      if (so == 0 || si == 0 || so == si) continue;
      return so < si;
    }
    return false;
  }

  /// A stable insertion sort into memory order, as torch's TensorIterator does.
  void order(std::size_t order_by) {
    for (std::size_t i = 1; i < sizes_.size(); ++i) {
      for (std::size_t j = i; j > 0 && belongs_inside(j - 1, j, order_by); --j) {
        std::swap(sizes_[j - 1], sizes_[j]);
        std::swap(strides_[j - 1], strides_[j]);
      }
    }
  }

  /// Merges each dimension into the one outside it when every operand steps
  /// over the inner one exactly to the outer one's next element.
  void collapse() {
    std::vector<index_t> sizes;
    std::vector<Offsets> strides;
    for (std::size_t d = 0; d < sizes_.size(); ++d) {
      bool merge = !sizes.empty();
      for (std::size_t k = 0; merge && k < N; ++k) merge = strides.back()[k] == strides_[d][k] * sizes_[d];
      if (merge) {
        sizes.back() *= sizes_[d];
        strides.back() = strides_[d];
      } else {
        sizes.push_back(sizes_[d]);
        strides.push_back(strides_[d]);
      }
    }
    sizes_ = std::move(sizes);
    strides_ = std::move(strides);
  }

  index_t numel_ = 0;
  std::vector<index_t> sizes_;
  std::vector<Offsets> strides_;
};

/// for_each_run over operands of one type T whose base pointers are `base`
/// (operand 0 the output), calling kernel(ptrs, steps, n) with ptrs[0] of
/// step 1 and every input of step 1 (or 0, a broadcast scalar, when
/// kScalarInputs): a run that does not fit is gathered into blocks of
/// kDenseRunBlock elements and its output written back from one. An output
/// that is also an input must have the same strides as that input.
template <bool kScalarInputs, typename T, std::size_t N, typename Kernel>
void for_each_dense_run(const StridedLoop<N>& loop, const std::array<T*, N>& base, index_t begin, index_t end,
                        const Kernel& kernel) {
  using Offsets = typename StridedLoop<N>::Offsets;
  auto fits = [](index_t step) { return step == 1 || (kScalarInputs && step == 0); };
  loop.for_each_run(begin, end, [&](const Offsets& offsets, const Offsets& steps, index_t n) {
    std::array<T*, N> ptrs;
    bool dense = steps[0] == 1;
    for (std::size_t k = 0; k < N; ++k) {
      ptrs[k] = base[k] + offsets[k];
      if (k > 0) dense = dense && fits(steps[k]);
    }
    if (dense) {
      kernel(ptrs, steps, n);
      return;
    }
    alignas(64) T blocks[N][kDenseRunBlock];
    for (index_t start = 0; start < n; start += kDenseRunBlock) {
      const index_t m = std::min(kDenseRunBlock, n - start);
      std::array<T*, N> block_ptrs;
      Offsets block_steps;
      for (std::size_t k = 0; k < N; ++k) {
        const T* src = ptrs[k] + start * steps[k];
        if (k > 0 && fits(steps[k])) {
          block_ptrs[k] = const_cast<T*>(src);
          block_steps[k] = steps[k];
        } else if (k == 0 && steps[0] == 1) {
          block_ptrs[0] = ptrs[0] + start;
          block_steps[0] = 1;
        } else {
          if (k > 0) {
            for (index_t i = 0; i < m; ++i) blocks[k][i] = src[i * steps[k]];
          }
          block_ptrs[k] = blocks[k];
          block_steps[k] = 1;
        }
      }
      kernel(block_ptrs, block_steps, m);
      if (steps[0] != 1) {
        T* dst = ptrs[0] + start * steps[0];
        for (index_t i = 0; i < m; ++i) dst[i * steps[0]] = blocks[0][i];
      }
    }
  });
}

/// for_each_dense_run over the whole loop, split across threads (strata's
/// thread count) when each gets at least `grain` elements.
template <bool kScalarInputs, typename T, std::size_t N, typename Kernel>
void parallel_dense_runs(const StridedLoop<N>& loop, const std::array<T*, N>& base, const Kernel& kernel,
                         index_t grain = kElementwiseGrain) {
  parallel_for(loop.numel(), grain,
               [&](index_t begin, index_t end) { for_each_dense_run<kScalarInputs>(loop, base, begin, end, kernel); });
}

/// out = kernel(in) element by element: kernel(const T* in, T* out, index_t n)
/// is called on contiguous runs (gathered and written back when the strides
/// are not unit), in parallel past `grain` elements per thread. in and out
/// have `shape` with their own strides; out may be in itself (same strides).
/// Example: `unary_map_into(x.shape(), x.data(), x.strides(), y.data(), y.strides(), kernels::relu<float>);`
template <typename T, typename Kernel>
void unary_map_into(const Shape& shape, const T* in, const std::vector<index_t>& in_strides, T* out,
                    const std::vector<index_t>& out_strides, const Kernel& kernel, index_t grain = kElementwiseGrain) {
  const StridedLoop<2> loop(shape, {out_strides, in_strides});
  parallel_dense_runs<false, T, 2>(
      loop, {out, const_cast<T*>(in)},
      [&](const std::array<T*, 2>& p, const std::array<index_t, 2>&, index_t n) { kernel(p[1], p[0], n); }, grain);
}

/// A new contiguous tensor of x's shape holding kernel(x) (see unary_map_into);
/// x may have any strides. TensorT is a strata::Tensor<T>.
/// Example: `Tensor<float> y = detail::unary_map(x.transpose(0, 1), kernels::relu<float>);`
template <typename TensorT, typename Kernel>
TensorT unary_map(const TensorT& x, const Kernel& kernel, index_t grain = kElementwiseGrain) {
  TensorT out = TensorT::empty(x.shape());
  unary_map_into(x.shape(), x.data(), x.strides(), out.data(), out.strides(), kernel, grain);
  return out;
}

}  // namespace detail
}  // namespace strata
