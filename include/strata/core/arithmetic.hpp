#pragma once
/// \file
/// Tensor arithmetic: a + b, a - b, a * b, a / b with torch's broadcasting
/// rules, with a scalar on either side, and the in-place forms (+= -= *= /=).
///
/// Every form runs through one path: the operands' strides over the
/// broadcast shape go to detail::StridedLoop (core/elementwise.hpp), and a
/// run kernel computes each contiguous run with Eigen arrays against a
/// contiguous run or a broadcast scalar (a scalar operand is a 0-d operand
/// of stride 0). Results are IEEE-exact, so they equal torch's bit for bit;
/// `s / a` is true division, as libtorch's C++ operator computes it.

#include <array>
#include <cstddef>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "strata/core/broadcast.hpp"
#include "strata/core/elementwise.hpp"
#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"

namespace strata {
namespace detail {

struct AddOp {
  static constexpr const char* name = "add";
  static constexpr const char* inplace_name = "add_";
  template <typename X, typename Y>
  static auto apply(const X& x, const Y& y) {
    return x + y;
  }
};
struct SubOp {
  static constexpr const char* name = "sub";
  static constexpr const char* inplace_name = "sub_";
  template <typename X, typename Y>
  static auto apply(const X& x, const Y& y) {
    return x - y;
  }
};
struct MulOp {
  static constexpr const char* name = "mul";
  static constexpr const char* inplace_name = "mul_";
  template <typename X, typename Y>
  static auto apply(const X& x, const Y& y) {
    return x * y;
  }
};
struct DivOp {
  static constexpr const char* name = "div";
  static constexpr const char* inplace_name = "div_";
  template <typename X, typename Y>
  static auto apply(const X& x, const Y& y) {
    return x / y;
  }
};

/// One dense run of a binary op: out[0, n) = a op b, where a and b are
/// contiguous runs (step 1) or scalars (step 0). out may be a itself.
template <typename Op>
struct BinaryRun {
  template <typename T>
  void operator()(const std::array<T*, 3>& p, const std::array<index_t, 3>& steps, index_t n) const {
    using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
    Eigen::Map<Array> out(p[0], n);
    if (steps[1] != 0 && steps[2] != 0) {
      out = Op::apply(Eigen::Map<const Array>(p[1], n), Eigen::Map<const Array>(p[2], n));
    } else if (steps[1] != 0) {
      out = Op::apply(Eigen::Map<const Array>(p[1], n), *p[2]);
    } else if (steps[2] != 0) {
      out = Op::apply(*p[1], Eigen::Map<const Array>(p[2], n));
    } else {
      out.setConstant(Op::apply(*p[1], *p[2]));
    }
  }
};

/// out = a op b over `shape`, each operand with its own strides over it (0
/// where broadcast). out must not overlap a or b except by being one of them
/// with the same strides.
template <typename Op, typename T>
void binary_into(const Shape& shape, T* out, const std::vector<index_t>& out_strides, const T* a,
                 const std::vector<index_t>& a_strides, const T* b, const std::vector<index_t>& b_strides) {
  const StridedLoop<3> loop(shape, {out_strides, a_strides, b_strides});
  parallel_dense_runs<true, T, 3>(loop, {out, const_cast<T*>(a), const_cast<T*>(b)}, BinaryRun<Op>{});
}

template <typename T>
void require_operand(const Tensor<T>& t, const char* who, const char* which) {
  check(t.defined(), who, ": operand ", which, " is undefined");
}

/// a op b broadcast, into a new contiguous tensor.
template <typename Op, typename T>
Tensor<T> binary(const Tensor<T>& a, const Tensor<T>& b) {
  require_operand(a, Op::name, "a");
  require_operand(b, Op::name, "b");
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), Op::name);
  Tensor<T> out = Tensor<T>::empty(shape);
  binary_into<Op>(shape, out.data(), out.strides(), a.data(), broadcast_strides(a.shape(), a.strides(), shape),
                  b.data(), broadcast_strides(b.shape(), b.strides(), shape));
  return out;
}

/// a op s (or s op a when scalar_first), into a new contiguous tensor.
template <typename Op, typename T>
Tensor<T> binary_scalar(const Tensor<T>& a, T s, bool scalar_first) {
  require_operand(a, Op::name, scalar_first ? "b" : "a");
  Tensor<T> out = Tensor<T>::empty(a.shape());
  const std::vector<index_t> zero(a.shape().size(), 0);
  if (scalar_first) {
    binary_into<Op>(a.shape(), out.data(), out.strides(), &s, zero, a.data(), a.strides());
  } else {
    binary_into<Op>(a.shape(), out.data(), out.strides(), a.data(), a.strides(), &s, zero);
  }
  return out;
}

/// [first, last] element addresses a non-empty tensor spans (strides are never negative).
template <typename T>
std::array<const T*, 2> memory_extent(const Tensor<T>& t) {
  index_t span = 0;
  for (std::size_t d = 0; d < t.shape().size(); ++d) span += (t.shape()[d] - 1) * t.strides()[d];
  return {t.data(), t.data() + span};
}

/// True when writing a element by element could change an element of b
/// that is still to be read: they share memory, and b does not read each
/// element exactly where a writes it (b_strides: b's strides over a's shape).
template <typename T>
bool overlaps_differently(const Tensor<T>& a, const Tensor<T>& b, const std::vector<index_t>& b_strides) {
  if (!a.shares_storage_with(b) || b.numel() == 0) return false;
  const auto ea = memory_extent(a), eb = memory_extent(b);
  if (ea[1] < eb[0] || eb[1] < ea[0]) return false;
  if (a.data() != b.data()) return true;
  for (std::size_t d = 0; d < a.shape().size(); ++d) {
    if (a.shape()[d] != 1 && a.strides()[d] != b_strides[d]) return true;
  }
  return false;
}

/// a = a op b in place, b broadcast to a's shape (torch's add_ and friends).
template <typename Op, typename T>
void binary_inplace(Tensor<T>& a, const Tensor<T>& b) {
  require_operand(a, Op::inplace_name, "a");
  require_operand(b, Op::inplace_name, "b");
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), Op::inplace_name);
  check(shape == a.shape(), Op::inplace_name, ": output with shape ", a.shape(), " doesn't match the broadcast shape ",
        shape);
  if (a.numel() == 0) return;
  std::vector<index_t> b_strides = broadcast_strides(b.shape(), b.strides(), shape);
  // torch computes as if b were an independent copy: read it whole first
  // when a's writes would reach elements of b not yet read.
  if (overlaps_differently(a, b, b_strides)) {
    const Tensor<T> copy = b.clone();
    binary_into<Op>(shape, a.data(), a.strides(), a.data(), a.strides(), copy.data(),
                    broadcast_strides(copy.shape(), copy.strides(), shape));
    return;
  }
  binary_into<Op>(shape, a.data(), a.strides(), a.data(), a.strides(), b.data(), b_strides);
}

/// a = a op s in place.
template <typename Op, typename T>
void binary_inplace_scalar(Tensor<T>& a, T s) {
  require_operand(a, Op::inplace_name, "a");
  binary_into<Op>(a.shape(), a.data(), a.strides(), a.data(), a.strides(), &s,
                  std::vector<index_t>(a.shape().size(), 0));
}

template <typename S>
using EnableIfScalar = std::enable_if_t<std::is_arithmetic_v<S>>;

}  // namespace detail

// ---- in-place members (declared in tensor.hpp) ------------------------------

template <typename T>
Tensor<T>& Tensor<T>::operator+=(const Tensor& other) {
  detail::binary_inplace<detail::AddOp>(*this, other);
  return *this;
}
template <typename T>
Tensor<T>& Tensor<T>::operator-=(const Tensor& other) {
  detail::binary_inplace<detail::SubOp>(*this, other);
  return *this;
}
template <typename T>
Tensor<T>& Tensor<T>::operator*=(const Tensor& other) {
  detail::binary_inplace<detail::MulOp>(*this, other);
  return *this;
}
template <typename T>
Tensor<T>& Tensor<T>::operator/=(const Tensor& other) {
  detail::binary_inplace<detail::DivOp>(*this, other);
  return *this;
}
template <typename T>
template <typename S, typename>
Tensor<T>& Tensor<T>::operator+=(S value) {
  detail::binary_inplace_scalar<detail::AddOp>(*this, static_cast<T>(value));
  return *this;
}
template <typename T>
template <typename S, typename>
Tensor<T>& Tensor<T>::operator-=(S value) {
  detail::binary_inplace_scalar<detail::SubOp>(*this, static_cast<T>(value));
  return *this;
}
template <typename T>
template <typename S, typename>
Tensor<T>& Tensor<T>::operator*=(S value) {
  detail::binary_inplace_scalar<detail::MulOp>(*this, static_cast<T>(value));
  return *this;
}
template <typename T>
template <typename S, typename>
Tensor<T>& Tensor<T>::operator/=(S value) {
  detail::binary_inplace_scalar<detail::DivOp>(*this, static_cast<T>(value));
  return *this;
}

// ---- binary operators ---------------------------------------------------------

/// Element-wise a + b with torch's broadcasting (sizes aligned from the right;
/// a size-1 or missing dimension stretches), into a new contiguous tensor.
/// Either operand may have any strides. Shapes: broadcast(a, b).
/// Example: `auto y = x + bias.reshape({1, -1, 1, 1});  // [N, C, H, W] + per-channel`
/// Throws strata::Error on an undefined operand or shapes that do not
/// broadcast, e.g. "add: the size of tensor a (3) must match the size of
/// tensor b (4) at non-singleton dimension 1 (shapes [2, 3] and [2, 4])".
template <typename T>
Tensor<T> operator+(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::binary<detail::AddOp>(a, b);
}
/// Element-wise a - b, broadcast as operator+ (errors name "sub").
template <typename T>
Tensor<T> operator-(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::binary<detail::SubOp>(a, b);
}
/// Element-wise a * b, broadcast as operator+ (errors name "mul").
/// Example: `auto gated = x * gate;  // [N, C, H, W] * [N, C, 1, 1]`
template <typename T>
Tensor<T> operator*(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::binary<detail::MulOp>(a, b);
}
/// Element-wise a / b (true division; x / 0 is inf or NaN as in IEEE),
/// broadcast as operator+ (errors name "div").
template <typename T>
Tensor<T> operator/(const Tensor<T>& a, const Tensor<T>& b) {
  return detail::binary<detail::DivOp>(a, b);
}

/// a op s and s op a for any arithmetic s, converted to T first (as torch
/// converts a Python number to the tensor's dtype); a new contiguous tensor.
/// Example: `auto y = 2 * x - 1.5;`
/// Throws strata::Error when the tensor is undefined.
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator+(const Tensor<T>& a, S s) {
  return detail::binary_scalar<detail::AddOp>(a, static_cast<T>(s), false);
}
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator+(S s, const Tensor<T>& a) {
  return detail::binary_scalar<detail::AddOp>(a, static_cast<T>(s), true);
}
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator-(const Tensor<T>& a, S s) {
  return detail::binary_scalar<detail::SubOp>(a, static_cast<T>(s), false);
}
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator-(S s, const Tensor<T>& a) {
  return detail::binary_scalar<detail::SubOp>(a, static_cast<T>(s), true);
}
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator*(const Tensor<T>& a, S s) {
  return detail::binary_scalar<detail::MulOp>(a, static_cast<T>(s), false);
}
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator*(S s, const Tensor<T>& a) {
  return detail::binary_scalar<detail::MulOp>(a, static_cast<T>(s), true);
}
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator/(const Tensor<T>& a, S s) {
  return detail::binary_scalar<detail::DivOp>(a, static_cast<T>(s), false);
}
/// s / a: true division of s by each element, as libtorch's C++ `s / a`
/// (Python's `s / a` multiplies by a.reciprocal(), which can differ by one rounding).
template <typename T, typename S, typename = detail::EnableIfScalar<S>>
Tensor<T> operator/(S s, const Tensor<T>& a) {
  return detail::binary_scalar<detail::DivOp>(a, static_cast<T>(s), true);
}

}  // namespace strata
