#pragma once
/// \file
/// Reductions over dimensions: Tensor::sum(dims, keepdim) and
/// Tensor::mean(dims, keepdim), torch's sum and mean with a dim list.
///
/// One pass through detail::StridedLoop (core/elementwise.hpp) over the input
/// and an accumulator that has stride 0 along the reduced dimensions, in the
/// input's memory order: when the innermost run is reduced (mean over H, W)
/// each run is one vectorised sum; when it is kept (mean over N of (N, C))
/// each run adds a contiguous row into the accumulators. Accumulators are
/// double for float and double alike (float runs are summed in float by
/// blocks of 64 first), so results stay within a few roundings of sum|x|,
/// as torch's cascade sums do. Threads split the outermost dimension when
/// it is kept.

#include <algorithm>
#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "strata/core/elementwise.hpp"
#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"
#include "strata/core/threads.hpp"

namespace strata {
namespace detail {

/// Which dimensions of a rank-`rank` tensor `dims` names (empty: all, as
/// torch's dim=[]); throws on a dim out of range or named twice.
inline std::vector<bool> reduced_dims_mask(const std::vector<index_t>& dims, std::size_t rank, const char* who) {
  std::vector<bool> mask(rank, dims.empty());
  std::vector<bool> seen(std::max<std::size_t>(rank, 1), false);  // a 0-d tensor takes dim 0 or -1
  for (index_t d : dims) {
    const std::size_t w = wrap_dim(d, rank, who);
    check(!seen[w], who, ": dim ", w, " appears multiple times in the list of dims");
    seen[w] = true;
    if (w < rank) mask[w] = true;
  }
  return mask;
}

/// Elements per block of the float paths below.
constexpr index_t kReduceBlock = 64;

/// Sum of n contiguous elements, in double. Floats go by blocks of 64, each
/// summed in float by Eigen's packet tree (six roundings deep), the block
/// sums in double: within a few roundings of sum|x|, like torch's cascade
/// sum, and at its speed (a float-to-double conversion costs a third more).
inline double sum_contiguous(const double* p, index_t n) { return Eigen::Map<const Eigen::ArrayXd>(p, n).sum(); }
inline double sum_contiguous(const float* p, index_t n) {
  double total = 0;
  index_t i = 0;
  for (; i + kReduceBlock <= n; i += kReduceBlock) {
    total += static_cast<double>(Eigen::Map<const Eigen::Array<float, kReduceBlock, 1>>(p + i).sum());
  }
  if (i < n) total += static_cast<double>(Eigen::Map<const Eigen::ArrayXf>(p + i, n - i).sum());
  return total;
}

/// acc[0, n) += p[0, n) in double.
inline void accumulate_contiguous(double* acc, const double* p, index_t n) {
  Eigen::Map<Eigen::ArrayXd>(acc, n) += Eigen::Map<const Eigen::ArrayXd>(p, n);
}
inline void accumulate_contiguous(double* acc, const float* p, index_t n) {
  alignas(64) double block[kReduceBlock];
  index_t i = 0;
  for (; i + kReduceBlock <= n; i += kReduceBlock) {
    for (index_t j = 0; j < kReduceBlock; ++j) block[j] = static_cast<double>(p[i + j]);
    Eigen::Map<Eigen::Array<double, kReduceBlock, 1>>(acc + i) +=
        Eigen::Map<const Eigen::Array<double, kReduceBlock, 1>, Eigen::Aligned64>(block);
  }
  for (; i < n; ++i) acc[i] += static_cast<double>(p[i]);
}

/// The sums over the masked dimensions: `kept` doubles (the result's numel)
/// in row-major order of the kept dimensions; `count` receives the number of
/// elements in each sum.
template <typename T>
std::vector<double> sum_over(const Tensor<T>& t, const std::vector<bool>& mask, index_t kept, double& count) {
  const Shape& shape = t.shape();
  const std::size_t rank = shape.size();
  // The accumulators: contiguous over the kept dimensions, stride 0 along the reduced ones.
  std::vector<index_t> acc_strides(rank, 0);
  index_t stride = 1;
  count = 1;
  for (std::size_t d = rank; d-- > 0;) {
    if (mask[d]) {
      count *= static_cast<double>(shape[d]);
    } else {
      acc_strides[d] = stride;
      stride = saturating_mul(stride, shape[d]);  // (only an empty tensor's can saturate)
    }
  }
  std::vector<double> acc(static_cast<std::size_t>(kept), 0.0);
  if (t.numel() == 0) return acc;

  const StridedLoop<2> loop(shape, {acc_strides, t.strides()}, 1);
  double* acc_base = acc.data();
  const T* in_base = t.data();
  auto run = [&](const std::array<index_t, 2>& off, const std::array<index_t, 2>& steps, index_t n) {
    double* a = acc_base + off[0];
    const T* x = in_base + off[1];
    if (steps[0] == 0 && steps[1] == 1) {
      *a += sum_contiguous(x, n);
    } else if (steps[0] == 0) {
      double total = 0;
      for (index_t i = 0; i < n; ++i) total += static_cast<double>(x[i * steps[1]]);
      *a += total;
    } else if (steps[0] == 1 && steps[1] == 1) {
      accumulate_contiguous(a, x, n);
    } else {
      for (index_t i = 0; i < n; ++i) a[i * steps[0]] += static_cast<double>(x[i * steps[1]]);
    }
  };
  // Threads take disjoint ranges of the outermost dimension when it is kept,
  // so no two of them add into the same accumulator.
  const bool split = loop.rank() > 1 && loop.stride(0, 0) != 0;
  if (!split) {
    loop.for_each_run(0, loop.numel(), run);
    return acc;
  }
  const index_t outer = loop.sizes()[0];
  const index_t inner = loop.numel() / outer;
  parallel_for(outer, std::max<index_t>(1, kElementwiseGrain / inner),
               [&](index_t begin, index_t end) { loop.for_each_run(begin * inner, end * inner, run); });
  return acc;
}

/// The shape of a reduction's result: reduced dimensions dropped, or kept as 1.
inline Shape reduced_shape(const Shape& shape, const std::vector<bool>& mask, bool keepdim) {
  std::vector<index_t> sizes;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (!mask[d]) {
      sizes.push_back(shape[d]);
    } else if (keepdim) {
      sizes.push_back(1);
    }
  }
  return Shape(std::move(sizes));
}

template <typename T>
Tensor<T> reduce_sum(const Tensor<T>& t, const std::vector<index_t>& dims, bool keepdim, bool mean, const char* who) {
  check(t.defined(), "Tensor::", who, ": the tensor is undefined");
  const std::vector<bool> mask = reduced_dims_mask(dims, t.shape().size(), who);
  Tensor<T> out = Tensor<T>::empty(reduced_shape(t.shape(), mask, keepdim));
  double count = 0;
  const std::vector<double> sums = sum_over(t, mask, out.numel(), count);
  T* o = out.data();
  // An empty reduction: sum 0, mean 0/0 = NaN, as torch.
  for (index_t i = 0, n = out.numel(); i < n; ++i) {
    o[i] = static_cast<T>(mean ? sums[static_cast<std::size_t>(i)] / count : sums[static_cast<std::size_t>(i)]);
  }
  return out;
}

}  // namespace detail

template <typename T>
Tensor<T> Tensor<T>::sum(const std::vector<index_t>& dims, bool keepdim) const {
  return detail::reduce_sum(*this, dims, keepdim, false, "sum");
}

template <typename T>
Tensor<T> Tensor<T>::mean(const std::vector<index_t>& dims, bool keepdim) const {
  return detail::reduce_sum(*this, dims, keepdim, true, "mean");
}

}  // namespace strata
