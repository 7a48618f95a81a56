#pragma once
/// \file
/// Moving tensor data between validated file bytes and Tensor<T>: decoding a
/// byte range into a new tensor, and streaming a tensor out as little-endian
/// bytes through a small fixed buffer (no full-size copy of the tensor).

#include <algorithm>
#include <vector>

#include "strata/core/tensor.hpp"
#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"

namespace strata {
namespace detail {

/// A new contiguous tensor of `shape` decoded from `src`. The caller has
/// checked that src holds numel(shape) * storage_bytes(type) bytes, so the
/// allocation is bounded by the file's size.
template <typename T>
Tensor<T> decode_tensor(const unsigned char* src, StorageType type, bool big_endian, const Shape& shape) {
  Tensor<T> out = Tensor<T>::empty(shape);
  decode(src, type, big_endian, out.data(), out.numel());
  return out;
}

/// Appends the elements of `tensor` (any strides) in row-major order as
/// little-endian float32 / float64 bytes.
template <typename T>
void write_tensor_data(FileWriter& out, const Tensor<T>& tensor) {
  const Tensor<T> values = tensor.contiguous();
  if (host_is_little_endian()) {  // the bytes in memory are already the file's
    out.write(values.data(), static_cast<std::size_t>(values.numel()) * sizeof(T));
    return;
  }
  constexpr index_t kChunk = 8192;  // elements per write
  std::vector<unsigned char> buffer(static_cast<std::size_t>(kChunk) * sizeof(T));
  for (index_t start = 0, n = values.numel(); start < n; start += kChunk) {
    const index_t count = std::min(kChunk, n - start);
    encode_le(values.data() + start, count, buffer.data());
    out.write(buffer.data(), static_cast<std::size_t>(count) * sizeof(T));
  }
}

}  // namespace detail
}  // namespace strata
