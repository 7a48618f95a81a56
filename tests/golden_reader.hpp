// Reader for the PyTorch golden reference files in tests/reference/golden/.
//
// Self-contained (standard library only, C++17); it does not depend on the
// strata library.  The file format is described in tests/reference/README.md:
//
//   # comment lines (ignored), blank lines (ignored)
//   layer conv2d
//   dtype float64
//   <option> <value> [<value> ...]          e.g. "stride 2 1", "padding same"
//   tensor <name> <ndim> <dim0> ... <dimN-1>
//   <values, whitespace separated, row-major, possibly over several lines>
//
// Values are parsed with std::strtod, so the printed %.9g (float32) and
// %.17g (float64) decimal strings convert back to the exact stored values.
#ifndef STRATA_TESTS_GOLDEN_READER_HPP
#define STRATA_TESTS_GOLDEN_READER_HPP

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace strata_test {

struct GoldenTensor {
  std::vector<std::int64_t> shape;
  std::vector<double> values;  // row-major

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }
};

struct GoldenCase {
  std::string name;           // file name without directory and extension
  std::string path;           // path the case was read from
  std::string layer, dtype;   // e.g. "conv2d", "float64"
  // every "key value..." line, e.g. "stride" -> {"2","1"},
  // "padding" -> {"same"}; "layer" and "dtype" are included as well.
  std::map<std::string, std::vector<std::string>> options;
  std::map<std::string, GoldenTensor> tensors;

  bool has(const std::string& tensor) const { return tensors.count(tensor) != 0; }

  bool has_option(const std::string& option) const { return options.count(option) != 0; }

  const GoldenTensor& tensor(const std::string& tensor_name) const {
    auto it = tensors.find(tensor_name);
    if (it == tensors.end())
      throw std::runtime_error("golden case '" + name + "': no tensor '" + tensor_name + "'");
    return it->second;
  }

  const std::vector<std::string>& raw(const std::string& option) const {
    auto it = options.find(option);
    if (it == options.end())
      throw std::runtime_error("golden case '" + name + "': no option '" + option + "'");
    return it->second;
  }

  // All values of an option as integers; throws if the option is missing
  // or a value is not an integer (e.g. "padding same").
  std::vector<std::int64_t> ints(const std::string& option) const {
    const std::vector<std::string>& vals = raw(option);
    std::vector<std::int64_t> out;
    out.reserve(vals.size());
    for (const std::string& v : vals) {
      errno = 0;
      char* end = nullptr;
      const long long x = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE)
        throw std::runtime_error("golden case '" + name + "': option '" + option +
                                 "' value '" + v + "' is not an integer");
      out.push_back(static_cast<std::int64_t>(x));
    }
    return out;
  }

  // The option's values joined by single spaces; throws if missing.
  std::string str(const std::string& option) const {
    const std::vector<std::string>& vals = raw(option);
    std::string out;
    for (std::size_t i = 0; i < vals.size(); ++i) {
      if (i) out += ' ';
      out += vals[i];
    }
    return out;
  }
};

namespace golden_detail {

inline std::vector<std::string> split_ws(const std::string& line) {
  std::vector<std::string> toks;
  std::istringstream is(line);
  std::string t;
  while (is >> t) toks.push_back(t);
  return toks;
}

inline bool skip_line(const std::string& line) {
  for (char c : line) {
    if (c == ' ' || c == '\t' || c == '\r') continue;
    return c == '#';
  }
  return true;  // blank
}

inline std::string base_name(const std::string& path) {
  const std::size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot != 0) base.erase(dot);
  return base;
}

}  // namespace golden_detail

inline GoldenCase read_golden_case(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("golden file '" + path + "': cannot open");

  GoldenCase gc;
  gc.path = path;
  gc.name = golden_detail::base_name(path);

  std::size_t lineno = 0;
  auto fail = [&](const std::string& msg) -> std::runtime_error {
    return std::runtime_error("golden file '" + path + "', line " + std::to_string(lineno) +
                              ": " + msg);
  };
  auto parse_int = [&](const std::string& s, const char* what) -> std::int64_t {
    errno = 0;
    char* end = nullptr;
    const long long x = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || x < 0)
      throw fail(std::string("bad ") + what + " '" + s + "'");
    return static_cast<std::int64_t>(x);
  };

  GoldenTensor* pending = nullptr;  // tensor still waiting for values
  std::string pending_name;
  std::size_t expected = 0;

  std::string line;
  while (std::getline(in, line)) {
    ++lineno;
    if (golden_detail::skip_line(line)) continue;
    const std::vector<std::string> toks = golden_detail::split_ws(line);

    if (pending) {  // value line(s) of the current tensor
      for (const std::string& t : toks) {
        if (pending->values.size() >= expected)
          throw fail("too many values for tensor '" + pending_name + "' (expected " +
                     std::to_string(expected) + ")");
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        // ERANGE is only an error on overflow; underflow to a subnormal is exact enough
        if (end != t.c_str() + t.size() || (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)))
          throw fail("bad value '" + t + "' in tensor '" + pending_name + "'");
        pending->values.push_back(v);
      }
      if (pending->values.size() == expected) pending = nullptr;
      continue;
    }

    const std::string& key = toks[0];
    if (key == "tensor") {
      if (toks.size() < 3) throw fail("tensor line needs: tensor <name> <ndim> <dims...>");
      const std::string& tname = toks[1];
      const std::int64_t ndim = parse_int(toks[2], "ndim");
      if (static_cast<std::int64_t>(toks.size()) != 3 + ndim)
        throw fail("tensor '" + tname + "' declares " + toks[2] + " dims but lists " +
                   std::to_string(toks.size() - 3));
      if (gc.tensors.count(tname)) throw fail("duplicate tensor '" + tname + "'");
      GoldenTensor t;
      std::uint64_t n = 1;
      for (std::int64_t i = 0; i < ndim; ++i) {
        const std::int64_t d = parse_int(toks[static_cast<std::size_t>(3 + i)], "dimension");
        t.shape.push_back(d);
        if (d != 0 && n > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()) /
                              static_cast<std::uint64_t>(d))
          throw fail("tensor '" + tname + "' is unreasonably large");
        n *= static_cast<std::uint64_t>(d);
      }
      expected = static_cast<std::size_t>(n);
      t.values.reserve(expected);
      GoldenTensor& stored = gc.tensors.emplace(tname, std::move(t)).first->second;
      if (expected > 0) {
        pending = &stored;
        pending_name = tname;
      }
      continue;
    }

    if (toks.size() < 2) throw fail("option '" + key + "' has no value");
    if (gc.options.count(key)) throw fail("duplicate option '" + key + "'");
    gc.options.emplace(key, std::vector<std::string>(toks.begin() + 1, toks.end()));
    if (key == "layer" || key == "dtype") {
      if (toks.size() != 2) throw fail("'" + key + "' takes exactly one value");
      (key == "layer" ? gc.layer : gc.dtype) = toks[1];
    }
  }
  if (in.bad()) throw std::runtime_error("golden file '" + path + "': read error");
  if (pending)
    throw std::runtime_error("golden file '" + path + "': tensor '" + pending_name + "' has " +
                             std::to_string(pending->values.size()) + " values, expected " +
                             std::to_string(expected));
  if (gc.layer.empty()) throw std::runtime_error("golden file '" + path + "': no 'layer' line");
  if (gc.dtype.empty()) throw std::runtime_error("golden file '" + path + "': no 'dtype' line");
  if (!gc.has("output")) throw std::runtime_error("golden file '" + path + "': no output tensor");
  return gc;
}

// Reads <dir>/INDEX.txt and returns "<dir>/<case file>" for every listed case.
inline std::vector<std::string> list_golden_cases(const std::string& dir) {
  std::string prefix = dir;
  if (!prefix.empty() && prefix.back() != '/' && prefix.back() != '\\') prefix += '/';
  const std::string index = prefix + "INDEX.txt";
  std::ifstream in(index);
  if (!in) throw std::runtime_error("golden index '" + index + "': cannot open");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (golden_detail::skip_line(line)) continue;
    const std::vector<std::string> toks = golden_detail::split_ws(line);
    if (toks.size() != 1)
      throw std::runtime_error("golden index '" + index + "': bad line '" + line + "'");
    out.push_back(prefix + toks[0]);
  }
  if (out.empty()) throw std::runtime_error("golden index '" + index + "': no cases listed");
  return out;
}

}  // namespace strata_test

#endif  // STRATA_TESTS_GOLDEN_READER_HPP
