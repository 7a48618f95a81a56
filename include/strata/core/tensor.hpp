#pragma once
/// \file
/// strata::Tensor<T>: a strided view over shared, 64-byte aligned storage, with
/// torch's reference semantics (copies share data; clone() copies it).

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "strata/core/elementwise.hpp"
#include "strata/core/error.hpp"
#include "strata/core/generator.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/storage.hpp"

namespace strata {

/// An n-dimensional array of float or double.
///
/// Copying a Tensor shares its storage, as with torch::Tensor; views (reshape
/// when the layout allows, permute, transpose, squeeze, unsqueeze, narrow) share
/// it too, so writing through a view shows in the base. clone() copies.
/// Example: `auto x = strata::Tensor<float>::randn({128, 20}, gen); x(0, 1) = 2.f;`
/// Throws strata::Error for negative or overflowing sizes, bad indices and dims.
template <typename T = float>
class Tensor {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::Tensor<T>: T must be float or double");

 public:
  using value_type = T;

  /// The undefined tensor: defined() == false.
  Tensor() = default;

  /// A contiguous tensor of `shape` holding `values` in row-major order.
  Tensor(Shape shape, const std::vector<T>& values) : Tensor(empty(checked_value_count(std::move(shape), values))) {
    std::copy(values.begin(), values.end(), data_);
  }

  // ---- factories -------------------------------------------------------

  /// Uninitialised contiguous tensor.
  static Tensor empty(Shape shape) {
    const index_t n = detail::checked_numel(shape, "Tensor");
    Tensor t;
    t.storage_ = detail::allocate<T>(n, "Tensor");
    t.data_ = t.storage_.get();
    t.strides_ = detail::contiguous_strides(shape);
    t.shape_ = std::move(shape);
    return t;
  }
  static Tensor full(Shape shape, T value) {
    Tensor t = empty(std::move(shape));
    std::fill_n(t.data_, t.numel(), value);
    return t;
  }
  static Tensor zeros(Shape shape) { return full(std::move(shape), T(0)); }
  static Tensor ones(Shape shape) { return full(std::move(shape), T(1)); }
  /// 0, 1, ..., n-1 as a 1-D tensor.
  static Tensor arange(index_t n) {
    detail::check(n >= 0, "arange: expected n >= 0, got ", n);
    Tensor t = empty(Shape{n});
    for (index_t i = 0; i < n; ++i) t.data_[i] = static_cast<T>(i);
    return t;
  }
  /// Samples of N(0, 1).
  static Tensor randn(Shape shape, Generator& gen) {
    Tensor t = empty(std::move(shape));
    for (index_t i = 0, n = t.numel(); i < n; ++i) t.data_[i] = gen.normal<T>();
    return t;
  }
  /// Samples of U[0, 1).
  static Tensor rand(Shape shape, Generator& gen) { return uniform(std::move(shape), T(0), T(1), gen); }
  /// Samples of U[low, high). Throws strata::Error unless low <= high are
  /// finite and high - low is finite in T (as torch checks).
  static Tensor uniform(Shape shape, T low, T high, Generator& gen) {
    // Finiteness first: a NaN bound also fails low <= high, for the wrong reason.
    detail::check(std::isfinite(low) && std::isfinite(high), "uniform: expected finite bounds, got low=", low,
                  " high=", high);
    detail::check(low <= high, "uniform: expected low <= high, got low=", low, " high=", high);
    detail::check(std::isfinite(high - low), "uniform: expected high - low to be finite, got low=", low,
                  " high=", high);
    Tensor t = empty(std::move(shape));
    for (index_t i = 0, n = t.numel(); i < n; ++i) t.data_[i] = gen.uniform<T>(low, high);
    return t;
  }

  // ---- properties ------------------------------------------------------

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const std::vector<index_t>& strides() const { return strides_; }
  index_t dim() const { return static_cast<index_t>(shape_.size()); }
  index_t numel() const {
    // An empty tensor may have other sizes whose product leaves int64
    // ([2^40, 2^40, 0]): look for the zero before multiplying.
    for (index_t s : shape_) {
      if (s == 0) return 0;
    }
    index_t n = 1;
    for (index_t s : shape_) n *= s;
    return n;
  }
  /// Size of dimension d; d may be negative (-1 is the last).
  index_t size(index_t d) const { return shape_[detail::wrap_dim(d, shape_.size(), "Tensor::size")]; }
  index_t stride(index_t d) const { return strides_[detail::wrap_dim(d, shape_.size(), "Tensor::stride")]; }

  /// Pointer to the first element (honour strides() when not contiguous).
  T* data() { return data_; }
  const T* data() const { return data_; }

  /// True when the elements lie in row-major order without gaps (size-1
  /// dimensions may have any stride, as in torch).
  bool is_contiguous() const {
    if (numel() == 0) return true;  // as in torch; also keeps `expected` below from overflowing
    index_t expected = 1;
    for (std::size_t i = shape_.size(); i-- > 0;) {
      if (shape_[i] == 1) continue;
      if (strides_[i] != expected) return false;
      expected *= shape_[i];
    }
    return true;
  }

  // ---- element access -------------------------------------------------

  /// Element at one index per dimension; negative indices count from the end.
  template <typename... Idx, typename = std::enable_if_t<(std::is_integral_v<Idx> && ...)>>
  T& operator()(Idx... idx) {
    return data_[offset_of({static_cast<index_t>(idx)...})];
  }
  template <typename... Idx, typename = std::enable_if_t<(std::is_integral_v<Idx> && ...)>>
  const T& operator()(Idx... idx) const {
    return data_[offset_of({static_cast<index_t>(idx)...})];
  }
  /// Element at an index vector (for rank-generic code).
  T& at(const std::vector<index_t>& idx) { return data_[offset_of(idx)]; }
  const T& at(const std::vector<index_t>& idx) const { return data_[offset_of(idx)]; }

  /// The single value of a one-element tensor.
  T item() const {
    detail::check(defined() && numel() == 1, "Tensor::item: expected a tensor with one element, got shape ",
                  shape_);
    return *data_;
  }

  // ---- views -----------------------------------------------------------

  /// Same data, new shape (one entry may be -1). A view when the strides allow
  /// it, otherwise a contiguous copy, exactly like torch.reshape.
  Tensor reshape(Shape new_shape) const {
    require_defined("reshape");
    new_shape = infer_shape(std::move(new_shape));
    if (auto strides = view_strides(new_shape)) {
      Tensor view = *this;
      view.shape_ = std::move(new_shape);
      view.strides_ = std::move(*strides);
      return view;
    }
    return contiguous_copy().reshape(std::move(new_shape));
  }

  /// Reorders the dimensions: result.size(i) == size(dims[i]). A view.
  Tensor permute(const std::vector<index_t>& dims) const {
    require_defined("permute");
    detail::check(dims.size() == shape_.size(), "permute: expected ", shape_.size(), " dims for a tensor of shape ",
                  shape_, ", got ", dims.size());
    std::vector<bool> seen(shape_.size(), false);
    Tensor view = *this;
    for (std::size_t i = 0; i < dims.size(); ++i) {
      const std::size_t d = detail::wrap_dim(dims[i], shape_.size(), "permute");
      detail::check(!seen[d], "permute: repeated dim ", dims[i], " in the permutation of shape ", shape_);
      seen[d] = true;
      view.shape_[i] = shape_[d];
      view.strides_[i] = strides_[d];
    }
    return view;
  }

  /// Swaps two dimensions. A view.
  Tensor transpose(index_t a, index_t b) const {
    require_defined("transpose");
    const std::size_t da = detail::wrap_dim(a, shape_.size(), "transpose");
    const std::size_t db = detail::wrap_dim(b, shape_.size(), "transpose");
    Tensor view = *this;
    std::swap(view.shape_[da], view.shape_[db]);
    std::swap(view.strides_[da], view.strides_[db]);
    return view;
  }

  /// Removes dimension d when its size is 1 (otherwise returns the same view).
  Tensor squeeze(index_t d) const {
    require_defined("squeeze");
    if (shape_.empty()) {
      detail::wrap_dim(d, 0, "squeeze");
      return *this;
    }
    const std::size_t dd = detail::wrap_dim(d, shape_.size(), "squeeze");
    if (shape_[dd] != 1) return *this;
    Tensor view = *this;
    std::vector<index_t> sizes = shape_.vec();
    sizes.erase(sizes.begin() + static_cast<std::ptrdiff_t>(dd));
    view.strides_.erase(view.strides_.begin() + static_cast<std::ptrdiff_t>(dd));
    view.shape_ = Shape(std::move(sizes));
    return view;
  }
  /// Removes every dimension of size 1.
  Tensor squeeze() const {
    require_defined("squeeze");
    Tensor view = *this;
    std::vector<index_t> sizes, strides;
    for (std::size_t i = 0; i < shape_.size(); ++i) {
      if (shape_[i] == 1) continue;
      sizes.push_back(shape_[i]);
      strides.push_back(strides_[i]);
    }
    view.shape_ = Shape(std::move(sizes));
    view.strides_ = std::move(strides);
    return view;
  }

  /// Inserts a dimension of size 1 at d (d in [-dim()-1, dim()]). A view.
  Tensor unsqueeze(index_t d) const {
    require_defined("unsqueeze");
    const std::size_t dd = detail::wrap_dim(d, shape_.size() + 1, "unsqueeze");
    Tensor view = *this;
    std::vector<index_t> sizes = shape_.vec();
    // (An empty tensor's strides address nothing, and their product may leave int64.)
    const index_t stride = dd < shape_.size() && numel() > 0 ? strides_[dd] * shape_[dd] : 1;
    sizes.insert(sizes.begin() + static_cast<std::ptrdiff_t>(dd), 1);
    view.strides_.insert(view.strides_.begin() + static_cast<std::ptrdiff_t>(dd), stride);
    view.shape_ = Shape(std::move(sizes));
    return view;
  }

  /// Elements start..start+length-1 of dimension d. A view.
  Tensor narrow(index_t d, index_t start, index_t length) const {
    require_defined("narrow");
    const std::size_t dd = detail::wrap_dim(d, shape_.size(), "narrow");
    const index_t size = shape_[dd];
    if (start < 0) start += size;
    detail::check(start >= 0 && length >= 0 && start <= size - length, "narrow: start (", start, ") + length (",
                  length, ") exceeds dimension size (", size, ") of shape ", shape_);
    Tensor view = *this;
    if (numel() > 0) view.data_ += start * strides_[dd];  // an empty tensor's data is never addressed
    view.shape_[dd] = length;
    return view;
  }

  /// Merges dimensions start_dim..end_dim (inclusive, negative counts from the
  /// end) into one, like torch.flatten: a view when the strides allow it, else
  /// a copy (like reshape). start_dim == end_dim returns this tensor; a 0-d
  /// tensor gives shape [1] (its dims wrap as for a 1-d tensor).
  /// Example: `x.flatten(1);  // [N, C, H, W] -> [N, C*H*W]`
  /// Throws strata::Error on a dim out of range, start_dim after end_dim, or
  /// a merged size that overflows int64 (possible only for an empty tensor).
  Tensor flatten(index_t start_dim = 0, index_t end_dim = -1) const {
    require_defined("flatten");
    const std::size_t rank = shape_.size();
    const std::size_t start = detail::wrap_dim(start_dim, rank, "flatten");
    const std::size_t end = detail::wrap_dim(end_dim, rank, "flatten");
    detail::check(start <= end,
                  "flatten: flatten() has invalid args: start_dim cannot come after end_dim (start_dim=", start_dim,
                  ", end_dim=", end_dim, ", input shape ", shape_, ")");
    if (rank == 0) return reshape({1});
    if (start == end) return *this;
    std::vector<index_t> sizes(shape_.begin(), shape_.begin() + static_cast<std::ptrdiff_t>(start));
    index_t merged = 1;
    // An empty tensor may have sizes whose product leaves int64 ([0, 2^40, 2^40] from dim 1).
    for (std::size_t d = start; d <= end; ++d) merged = detail::checked_mul(merged, shape_[d], "flatten");
    sizes.push_back(merged);
    sizes.insert(sizes.end(), shape_.begin() + static_cast<std::ptrdiff_t>(end) + 1, shape_.end());
    return reshape(Shape(std::move(sizes)));
  }

  /// Splits dimension dim into views of ceil(size / chunks) elements each (the
  /// last one smaller), like torch.chunk: possibly fewer than `chunks` of
  /// them; a dimension of size 0 gives `chunks` empty views.
  /// Example: `auto halves = x.chunk(2, 1);  // [N, 2C, H, W] -> two [N, C, H, W] views`
  /// Throws strata::Error on a 0-d tensor, chunks <= 0 or a dim out of range.
  std::vector<Tensor> chunk(index_t chunks, index_t dim = 0) const {
    require_defined("chunk");
    detail::check(!shape_.empty(), "chunk: chunk expects at least a 1-dimensional tensor (got shape ", shape_, ")");
    detail::check(chunks > 0, "chunk: chunk expects `chunks` to be greater than 0, got: ", chunks);
    const std::size_t d = detail::wrap_dim(dim, shape_.size(), "chunk");
    const index_t size = shape_[d];
    std::vector<Tensor> parts;
    if (size == 0) {
      detail::check(chunks <= (index_t{1} << 20), "chunk: refusing to make ", chunks,
                    " empty chunks (more than 2^20) of shape ", shape_);
      parts.assign(static_cast<std::size_t>(chunks), *this);
      return parts;
    }
    const index_t split = size / chunks + (size % chunks != 0 ? 1 : 0);
    for (index_t start = 0; start < size; start += split) {
      parts.push_back(narrow(static_cast<index_t>(d), start, std::min(split, size - start)));
    }
    return parts;
  }

  // ---- copies ----------------------------------------------------------

  /// This tensor when contiguous, else a contiguous copy.
  Tensor contiguous() const {
    require_defined("contiguous");
    return is_contiguous() ? *this : contiguous_copy();
  }
  /// A contiguous copy that shares nothing with this tensor.
  Tensor clone() const {
    require_defined("clone");
    return contiguous_copy();
  }

  /// Copies src's values into this tensor's storage (same shape required).
  Tensor& copy_(const Tensor& src) {
    require_defined("copy_");
    src.require_defined("copy_");
    detail::check(src.shape_ == shape_, "copy_: expected a source of shape ", shape_, ", got ", src.shape_);
    // Read everything first so that overlapping source and destination are safe.
    const Tensor values = src.contiguous_copy();
    detail::unary_map_into(shape_, values.data_, values.strides_, data_, strides_, copy_run);
    return *this;
  }
  Tensor& fill_(T value) {
    require_defined("fill_");
    for_each_offset([&](index_t offset) { data_[offset] = value; });
    return *this;
  }

  // ---- reductions ------------------------------------------------------

  /// Sum of all elements (accumulated in double).
  T sum() const {
    require_defined("sum");
    double total = 0;
    for_each_offset([&](index_t offset) { total += static_cast<double>(data_[offset]); });
    return static_cast<T>(total);
  }
  /// Mean of all elements; NaN for an empty tensor, as in torch.
  T mean() const {
    require_defined("mean");
    const index_t n = numel();
    return n == 0 ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(static_cast<double>(sum()) / n);
  }

  /// Sum over the dimensions `dims` (negative counts from the end; empty: all
  /// of them, as torch), like torch.sum(t, dims, keepdim): the reduced
  /// dimensions are dropped, or kept with size 1. Accumulated in double.
  /// Example: `x.sum({2, 3}, true);  // [N, C, H, W] -> [N, C, 1, 1]`
  /// Throws strata::Error on a dim out of range or named twice. (core/reduce.hpp)
  Tensor sum(const std::vector<index_t>& dims, bool keepdim = false) const;
  /// Mean over the dimensions `dims`, like torch.mean(t, dims, keepdim); an
  /// empty reduction gives NaN, as torch. Example: `x.mean({-2, -1});  // global average pool`
  /// Throws strata::Error on a dim out of range or named twice. (core/reduce.hpp)
  Tensor mean(const std::vector<index_t>& dims, bool keepdim = false) const;

  // ---- in-place arithmetic (core/arithmetic.hpp) ------------------------

  /// this = this op other element by element, other broadcast to this
  /// tensor's shape (any strides, overlapping this tensor or not: it is read
  /// as if it were a copy). Writes through views. Example: `x += residual; x.narrow(1, 0, 2) *= 0.5;`
  /// Throws strata::Error on an undefined operand, shapes that do not
  /// broadcast, or a broadcast shape other than this tensor's ("add_: output
  /// with shape [2, 1] doesn't match the broadcast shape [2, 3]").
  Tensor& operator+=(const Tensor& other);
  Tensor& operator-=(const Tensor& other);
  Tensor& operator*=(const Tensor& other);
  Tensor& operator/=(const Tensor& other);
  /// this = this op value for any arithmetic value, converted to T first.
  template <typename S, typename = std::enable_if_t<std::is_arithmetic_v<S>>>
  Tensor& operator+=(S value);
  template <typename S, typename = std::enable_if_t<std::is_arithmetic_v<S>>>
  Tensor& operator-=(S value);
  template <typename S, typename = std::enable_if_t<std::is_arithmetic_v<S>>>
  Tensor& operator*=(S value);
  template <typename S, typename = std::enable_if_t<std::is_arithmetic_v<S>>>
  Tensor& operator/=(S value);

  /// Calls f(offset) for every element in row-major index order.
  template <typename F>
  void for_each_offset(F&& f) const {
    if (numel() == 0) return;
    if (is_contiguous()) {
      for (index_t i = 0, n = numel(); i < n; ++i) f(i);
      return;
    }
    const std::size_t rank = shape_.size();
    std::vector<index_t> idx(rank, 0);
    index_t offset = 0;
    const index_t inner = shape_[rank - 1], inner_stride = strides_[rank - 1];
    while (true) {
      for (index_t i = 0; i < inner; ++i) f(offset + i * inner_stride);
      // Advance the outer index like an odometer.
      std::size_t d = rank - 1;
      while (d-- > 0) {
        offset += strides_[d];
        if (++idx[d] < shape_[d]) break;
        offset -= strides_[d] * shape_[d];
        idx[d] = 0;
      }
      if (d == static_cast<std::size_t>(-1)) return;
    }
  }

  /// True when both tensors use the same storage block.
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_ && storage_; }

 private:
  /// The shape, once `values` is known to fill it exactly: checked before
  /// anything is allocated, so a wrong shape never costs its allocation.
  static Shape checked_value_count(Shape shape, const std::vector<T>& values) {
    const index_t n = detail::checked_numel(shape, "Tensor");
    detail::check(static_cast<index_t>(values.size()) == n, "Tensor: shape ", shape, " needs ", n, " values, got ",
                  values.size());
    return shape;
  }

  void require_defined(const char* what) const {
    detail::check(defined(), "Tensor::", what, ": the tensor is undefined");
  }

  index_t offset_of(const std::vector<index_t>& idx) const {
    detail::check(defined(), "Tensor: cannot index an undefined tensor");
    detail::check(idx.size() == shape_.size(), "Tensor: expected ", shape_.size(), " indices for shape ", shape_,
                  ", got ", idx.size());
    index_t offset = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) {
      index_t i = idx[d];
      detail::check(i >= -shape_[d] && i < shape_[d], "Tensor: index ", i, " is out of bounds for dimension ", d,
                    " with size ", shape_[d], " (shape ", shape_, ")");
      if (i < 0) i += shape_[d];
      offset += i * strides_[d];
    }
    return offset;
  }

  static void copy_run(const T* in, T* out, index_t n) { std::copy_n(in, n, out); }

  Tensor contiguous_copy() const {
    Tensor out = empty(shape_);
    detail::unary_map_into(shape_, data_, strides_, out.data_, out.strides_, copy_run);
    return out;
  }

  /// Resolves a single -1 and checks that the element count is unchanged.
  Shape infer_shape(Shape s) const {
    const index_t n = numel();
    index_t known = 1;
    int infer_at = -1;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == -1) {
        detail::check(infer_at < 0, "reshape: only one dimension can be inferred, got shape ", s);
        infer_at = static_cast<int>(i);
        continue;
      }
      detail::check(s[i] >= 0, "reshape: invalid shape dimension ", s[i], " in shape ", s);
      known = detail::checked_mul(known, s[i], "reshape");
    }
    if (infer_at >= 0) {
      detail::check(known != 0 && n % known == 0, "reshape: shape ", s, " is invalid for input of size ", n,
                    " (shape ", shape_, ")");
      s[static_cast<std::size_t>(infer_at)] = n / known;
    } else {
      detail::check(known == n, "reshape: shape ", s, " is invalid for input of size ", n, " (shape ", shape_, ")");
    }
    return s;
  }

  /// Strides that view this tensor's data with `new_shape`, if any exist
  /// (torch's computeStride: merge runs of dimensions that are contiguous
  /// with each other, then split them again).
  std::optional<std::vector<index_t>> view_strides(const Shape& new_shape) const {
    const std::size_t new_rank = new_shape.size();
    std::vector<index_t> new_strides(new_rank, 0);
    if (numel() == 0 || shape_.empty()) return detail::contiguous_strides(new_shape);
    std::ptrdiff_t view_d = static_cast<std::ptrdiff_t>(new_rank) - 1;
    index_t chunk_base_stride = strides_.back();
    index_t tensor_numel = 1, view_numel = 1;
    for (std::ptrdiff_t tensor_d = static_cast<std::ptrdiff_t>(shape_.size()) - 1; tensor_d >= 0; --tensor_d) {
      const auto td = static_cast<std::size_t>(tensor_d);
      tensor_numel *= shape_[td];
      if (tensor_d == 0 || (shape_[td - 1] != 1 && strides_[td - 1] != tensor_numel * chunk_base_stride)) {
        while (view_d >= 0 && (view_numel < tensor_numel || new_shape[static_cast<std::size_t>(view_d)] == 1)) {
          new_strides[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
          view_numel *= new_shape[static_cast<std::size_t>(view_d)];
          --view_d;
        }
        if (view_numel != tensor_numel) return std::nullopt;
        if (tensor_d > 0) {
          chunk_base_stride = strides_[td - 1];
          tensor_numel = 1;
          view_numel = 1;
        }
      }
    }
    if (view_d != -1) return std::nullopt;
    return new_strides;
  }

  std::shared_ptr<T> storage_;
  T* data_ = nullptr;
  Shape shape_;
  std::vector<index_t> strides_;
};

/// Like torch.allclose: |a - b| <= atol + rtol * |b| elementwise; NaN is never close.
/// Throws strata::Error when the shapes differ.
template <typename T>
bool allclose(const Tensor<T>& a, const Tensor<T>& b, double rtol = 1e-5, double atol = 1e-8) {
  detail::check(a.defined() && b.defined(), "allclose: both tensors must be defined");
  detail::check(a.shape() == b.shape(), "allclose: shapes differ: ", a.shape(), " vs ", b.shape());
  const Tensor<T> ca = a.contiguous(), cb = b.contiguous();
  for (index_t i = 0, n = ca.numel(); i < n; ++i) {
    const double x = ca.data()[i], y = cb.data()[i];
    if (x == y) continue;  // also equal infinities
    if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
  }
  return true;
}

/// Largest |a - b| over all elements (NaN if any difference is NaN); 0 for empty tensors.
/// Throws strata::Error when the shapes differ.
template <typename T>
T max_abs_diff(const Tensor<T>& a, const Tensor<T>& b) {
  detail::check(a.defined() && b.defined(), "max_abs_diff: both tensors must be defined");
  detail::check(a.shape() == b.shape(), "max_abs_diff: shapes differ: ", a.shape(), " vs ", b.shape());
  const Tensor<T> ca = a.contiguous(), cb = b.contiguous();
  T worst = 0;
  for (index_t i = 0, n = ca.numel(); i < n; ++i) {
    const T d = std::abs(ca.data()[i] - cb.data()[i]);
    if (std::isnan(d)) return d;
    worst = std::max(worst, d);
  }
  return worst;
}

}  // namespace strata

#include "strata/core/arithmetic.hpp"
#include "strata/core/print.hpp"
#include "strata/core/reduce.hpp"
