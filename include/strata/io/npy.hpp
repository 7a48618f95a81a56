#pragma once
/// \file
/// strata::io::load_npy / save_npy: NumPy's .npy format
/// (numpy.lib.format), versions 1.0, 2.0 and 3.0. A file is the magic
/// "\x93NUMPY", a major and minor version byte, a little-endian header length
/// (2 bytes in 1.0, 4 in 2.0 and 3.0), a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
/// spaces and a newline, then the raw data.
///
/// The header is a Python literal, not JSON: a small strict parser reads
/// exactly the grammar numpy writes (strings in ' or ", True / False, tuples
/// of integers). Files are untrusted input: every defect is a strata::Error
/// naming the file and the reason, found before anything is allocated.

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"
#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"
#include "strata/io/detail/tensor_data.hpp"

namespace strata {
namespace detail {

/// A validated .npy header.
struct NpyHeader {
  StorageType type = StorageType::kFloat32;
  bool big_endian = false;
  bool fortran_order = false;
  Shape shape;
  std::uint64_t data_start = 0;  // file offset of the data
};

/// Parses the header dict of a .npy file: exactly the keys 'descr' (a dtype
/// string), 'fortran_order' (True / False) and 'shape' (a tuple of
/// non-negative integers), each once, in any order, with Python's optional
/// trailing commas and whitespace.
class NpyHeaderParser {
 public:
  NpyHeaderParser(const char* begin, const char* end, int major_version, const char* who, const std::string& path)
      : begin_(begin), p_(begin), end_(end), major_(major_version), who_(who), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string("a key");
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        once(have_descr, key);
        parse_descr(header);
      } else if (key == "fortran_order") {
        once(have_order, key);
        header.fortran_order = parse_bool();
      } else if (key == "shape") {
        once(have_shape, key);
        header.shape = parse_shape();
      } else {
        fail("unexpected key '", key, "' (expected 'descr', 'fortran_order' and 'shape')");
      }
      skip_space();
      if (peek() != ',') break;
      ++p_;
    }
    skip_space();
    expect('}');
    skip_space();
    if (p_ != end_) fail("unexpected text after the closing '}'");
    if (!have_descr || !have_order || !have_shape)
      fail("missing key '", !have_descr ? "descr" : !have_order ? "fortran_order" : "shape", "'");
    return header;
  }

 private:
  template <typename... Args>
  [[noreturn]] void fail(Args&&... reason) const {
    // Quote the header, printable characters only, so the reader sees what was wrong.
    std::string shown;
    for (const char* c = begin_; c != end_ && shown.size() < 200; ++c)
      shown += (*c >= 0x20 && *c < 0x7f) ? *c : (*c == '\n' ? ' ' : '?');
    file_error(who_, path_, "bad header at byte ", p_ - begin_, ": ", std::forward<Args>(reason)..., " in \"", shown,
               "\"");
  }
  char peek() const { return p_ == end_ ? '\0' : *p_; }
  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  void expect(char c) {
    if (peek() != c) fail("expected '", c, "'");
    ++p_;
  }
  void once(bool& seen, const std::string& key) {
    if (seen) fail("the key '", key, "' appears twice");
    seen = true;
  }
  std::string parse_string(const char* what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected ", what, " in quotes");
    ++p_;
    std::string out;
    while (p_ != end_ && *p_ != quote) {
      // No escapes or non-ASCII: nothing numpy writes in these strings needs them.
      if (*p_ == '\\' || *p_ == '\n' || static_cast<unsigned char>(*p_) >= 0x80)
        fail("unsupported character in a string");
      out += *p_++;
    }
    expect(quote);
    return out;
  }
  bool parse_bool() {
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}}) {
      const std::string w(word);
      if (static_cast<std::size_t>(end_ - p_) >= w.size() && std::string(p_, w.size()) == w) {
        p_ += w.size();
        return value;
      }
    }
    fail("expected True or False for 'fortran_order'");
  }
  void parse_descr(NpyHeader& header) {
    if (peek() != '\'' && peek() != '"') fail("expected 'descr' to be a dtype string such as '<f4'");
    const std::string descr = parse_string("a dtype string");
    const bool order_ok = descr.size() == 3 && (descr[0] == '<' || descr[0] == '>') && descr[1] == 'f';
    if (order_ok && descr[2] == '2') {
      header.type = StorageType::kFloat16;
    } else if (order_ok && descr[2] == '4') {
      header.type = StorageType::kFloat32;
    } else if (order_ok && descr[2] == '8') {
      header.type = StorageType::kFloat64;
    } else {
      file_error(who_, path_, "unsupported dtype '", descr,
                 "' (strata reads float16, float32 and float64: '<f2', '<f4', '<f8', or '>' for big-endian)");
    }
    header.big_endian = descr[0] == '>';
  }
  Shape parse_shape() {
    expect('(');
    skip_space();
    std::vector<index_t> sizes;
    bool trailing_comma = false;
    while (peek() != ')') {
      sizes.push_back(parse_int());
      skip_space();
      trailing_comma = peek() == ',';
      if (!trailing_comma) break;
      ++p_;
      skip_space();
    }
    expect(')');
    if (sizes.size() == 1 && !trailing_comma) fail("'shape' must be a tuple, e.g. (3,)");
    return Shape(std::move(sizes));
  }
  index_t parse_int() {
    if (peek() < '0' || peek() > '9') fail("expected a non-negative integer in 'shape'");
    if (peek() == '0' && p_ + 1 != end_ && p_[1] >= '0' && p_[1] <= '9') fail("integer with a leading zero");
    index_t value = 0;
    while (peek() >= '0' && peek() <= '9') {
      const index_t digit = *p_++ - '0';
      if (value > (std::numeric_limits<index_t>::max() - digit) / 10) fail("a size in 'shape' overflows int64");
      value = value * 10 + digit;
    }
    // Python 2 wrote long integers as 3L; numpy still reads them in 1.0 and 2.0 files.
    if (major_ < 3 && peek() == 'L') ++p_;
    return value;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  int major_;
  const char* who_;
  const std::string& path_;
};

/// Reads and validates the preamble and header of a mapped .npy file and
/// checks that the data after it is exactly numel * itemsize bytes.
inline NpyHeader read_npy_header(const MappedFile& file, const std::string& path, const char* who) {
  const std::uint64_t size = file.size();
  const unsigned char* bytes = file.data();
  static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (size < 8 || std::memcmp(bytes, magic, 6) != 0)
    file_error(who, path, "not a .npy file (it does not start with \"\\x93NUMPY\")");
  const int major = bytes[6], minor = bytes[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    file_error(who, path, "unsupported .npy version ", major, ".", minor, " (strata reads 1.0, 2.0 and 3.0)");
  const std::uint64_t length_bytes = major == 1 ? 2 : 4;
  if (size < 8 + length_bytes)
    file_error(who, path, "file is ", size, " bytes, too short for the header length (truncated?)");
  const std::uint64_t header_len =
      major == 1 ? load_uint<std::uint16_t>(bytes + 8, false) : load_uint<std::uint32_t>(bytes + 8, false);
  const std::uint64_t header_start = 8 + length_bytes;
  if (header_len > size - header_start)
    file_error(who, path, "header length ", header_len, " exceeds the ", size - header_start,
               " bytes after the preamble (truncated?)");
  const char* text = reinterpret_cast<const char*>(bytes + header_start);
  NpyHeader header = NpyHeaderParser(text, text + header_len, major, who, path).parse();
  header.data_start = header_start + header_len;

  index_t expected = 0;
  try {
    expected = checked_mul(checked_numel(header.shape, "shape"), storage_bytes(header.type), "shape");
  } catch (const Error&) {
    file_error(who, path, "shape ", header.shape, " overflows int64 bytes");
  }
  const std::uint64_t available = size - header.data_start;
  if (static_cast<std::uint64_t>(expected) != available)
    file_error(who, path, "shape ", header.shape, " needs ", expected, " data bytes, the file has ", available,
               available < static_cast<std::uint64_t>(expected) ? " (truncated?)" : "");
  return header;
}

}  // namespace detail

namespace io {

/// Loads a .npy file (versions 1.0-3.0) holding float16, float32 or float64
/// in either byte order, in C or Fortran order, as a contiguous row-major
/// Tensor<T> of the same shape (a 0-d array gives a 0-d tensor).
/// Example: `auto x = strata::io::load_npy<float>("inputs.npy");  // np.save("inputs.npy", x.numpy())`
/// Throws strata::Error, naming the file and the reason, when the file
/// cannot be read, the magic or version is wrong, the header is not the dict
/// numpy writes, the dtype is not a float type, or the data is not exactly
/// the size the shape declares (truncated or trailing bytes).
template <typename T = float>
Tensor<T> load_npy(const std::string& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::io::load_npy<T>: T must be float or double");
  const detail::MappedFile file(path, "load_npy");
  const detail::NpyHeader header = detail::read_npy_header(file, path, "load_npy");
  const unsigned char* data = file.data() + header.data_start;
  if (!header.fortran_order || header.shape.size() < 2)
    return detail::decode_tensor<T>(data, header.type, header.big_endian, header.shape);
  // Fortran order is C order of the reversed shape: decode that, then
  // reverse the dimensions back and lay the result out row-major.
  const std::vector<index_t> sizes(header.shape.vec().rbegin(), header.shape.vec().rend());
  std::vector<index_t> reverse(sizes.size());
  for (std::size_t d = 0; d < sizes.size(); ++d) reverse[d] = static_cast<index_t>(sizes.size() - 1 - d);
  return detail::decode_tensor<T>(data, header.type, header.big_endian, Shape(sizes)).permute(reverse).clone();
}

/// Writes a tensor (any strides) as a C-order .npy file, '<f4' for float and
/// '<f8' for double, byte for byte what numpy.save writes for the same array
/// (version 1.0, header padded to 64 bytes).
/// Example: `strata::io::save_npy("logits.npy", logits);  // np.load("logits.npy")`
/// Throws strata::Error for an undefined tensor or a file that cannot be written.
template <typename T>
void save_npy(const std::string& path, const Tensor<T>& tensor) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::io::save_npy: T must be float or double");
  const char* who = "save_npy";
  if (!tensor.defined()) detail::file_error(who, path, "the tensor is undefined");
  // Python's repr of the shape tuple: (), (3,), (2, 3).
  std::string shape = "(";
  for (std::size_t d = 0; d < tensor.shape().size(); ++d) shape += (d ? ", " : "") + std::to_string(tensor.shape()[d]);
  shape += tensor.shape().size() == 1 ? ",)" : ")";
  std::string dict = std::string("{'descr': '") + (std::is_same_v<T, float> ? "<f4" : "<f8") +
                     "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy leaves room to grow the first dimension in place (GROWTH_AXIS_MAX_DIGITS = 21).
  if (tensor.dim() > 0) dict.append(21 - std::to_string(tensor.size(0)).size(), ' ');
  // Pad so that magic + length + header is a multiple of 64, ending in '\n'.
  // Version 1.0 unless the header outgrows its 2-byte length, as numpy chooses.
  std::size_t length_bytes = 2;
  std::size_t pad = 64 - (8 + length_bytes + dict.size() + 1) % 64;
  if (dict.size() + 1 + pad > 65535) {
    length_bytes = 4;
    pad = 64 - (8 + length_bytes + dict.size() + 1) % 64;
  }
  dict.append(pad, ' ');
  dict += '\n';

  detail::FileWriter out(path, who);
  unsigned char preamble[12] = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(length_bytes == 2 ? 1 : 2),
                                0};
  if (length_bytes == 2) {
    detail::store_uint_le<std::uint16_t>(static_cast<std::uint16_t>(dict.size()), preamble + 8);
  } else {
    detail::store_uint_le<std::uint32_t>(static_cast<std::uint32_t>(dict.size()), preamble + 8);
  }
  out.write(preamble, 8 + length_bytes);
  out.write(dict);
  detail::write_tensor_data(out, tensor);
  out.close();
}

}  // namespace io
}  // namespace strata
