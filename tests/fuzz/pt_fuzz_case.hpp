#pragma once
// The decoder and oracle behind the load_pt fuzzer (tests/fuzz/pt_fuzz.cpp,
// libFuzzer) and its corpus replay (tests/fuzz/pt_replay_test.cpp, a plain
// GoogleTest run on every build): turns any byte string into a torch.save
// file, loads it as float and as double, and judges the answers:
//  - strata::Error is a right answer for any file, as long as its message
//    reads "load_pt: fuzz.pt: ..."; anything else that escapes (another
//    exception, std::bad_alloc, a sanitizer report, a hang) is a finding;
//  - the two loads must agree: float may refuse what double loads only for an
//    integer that float cannot hold exactly, never the other way round; when
//    both load, they give the same keys and shapes, and every float value is
//    the double value rounded to float (NaN where it is NaN).
//
// Byte layout (tests/reference/generate_pt_fixtures.py writes seeds in it):
//   'Z' flags, then records, each a 2-byte little-endian length and its bytes
//       (a length past the end takes what is left): the first is data.pkl,
//       the next ones data/0, data/1, ...; the harness stores them in a zip
//       archive under "archive/" with a version record, as torch.save lays it
//       out. flags: 1 adds a "big" byteorder record, 2 a "little" one, 4
//       writes zip64 fields throughout.
//   'L' flags, then two records as above, the object pickle and the pickled
//       storage-key list, then the storages' bytes: the harness puts the
//       legacy format's preamble (magic number, protocol version, sys_info)
//       in front.
//   any other first byte: the input is the file itself (the committed
//   fixtures and tests/data/pt/hostile are such inputs).
//
// Allocations above 64 MiB are refused (strata::Error), as in the conv
// fuzzer: a file that asks for gigabytes is answered at once.
#ifndef STRATA_MAX_ALLOC_BYTES
#define STRATA_MAX_ALLOC_BYTES (std::int64_t{64} << 20)
#endif

#include <cmath>
#include <cstdint>
#include <exception>
#include <map>
#include <new>
#include <string>

#include <strata/io/pt.hpp>

#include "io/pt_zip.hpp"

namespace strata_pt_fuzz {

/// The verdict on one input.
struct Outcome {
  bool ok = true;        // false: a finding
  bool refused = false;  // the file was refused (rightly)
  std::string message;   // what went wrong, or the refusal
};

/// Reads the length-prefixed record at `pos`, advancing it.
inline std::string take_record(const std::uint8_t* data, std::size_t size, std::size_t& pos) {
  if (pos >= size) return std::string();
  std::size_t n = data[pos];
  if (pos + 1 < size) n |= static_cast<std::size_t>(data[pos + 1]) << 8;
  pos += 2;
  if (pos > size) pos = size;
  if (n > size - pos) n = size - pos;
  std::string out(reinterpret_cast<const char*>(data + pos), n);
  pos += n;
  return out;
}

/// The torch.save file an input stands for (see the byte layout above).
inline std::string file_of(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || (data[0] != 'Z' && data[0] != 'L')) return std::string(reinterpret_cast<const char*>(data), size);
  const unsigned flags = size > 1 ? data[1] : 0;
  std::size_t pos = 2;
  if (data[0] == 'L') {
    const std::string object = take_record(data, size, pos), keys = take_record(data, size, pos);
    return strata_test::pt_legacy_preamble() + object + keys +
           std::string(reinterpret_cast<const char*>(data) + pos, size - std::min(pos, size));
  }
  strata_test::PtZipWriter zip((flags & 4) != 0);
  zip.add("archive/data.pkl", take_record(data, size, pos));
  for (int key = 0; pos < size && key < 64; ++key)
    zip.add("archive/data/" + std::to_string(key), take_record(data, size, pos));
  if (flags & 1) zip.add("archive/byteorder", "big");
  if (flags & 2) zip.add("archive/byteorder", "little");
  zip.add("archive/version", "3\n");
  return zip.bytes();
}

/// Loads `file` as T; returns whether it loaded, and the tensors or the message.
template <typename T>
bool load(const std::string& file, std::map<std::string, strata::Tensor<T>>& out, Outcome& outcome,
          std::string& refusal) {
  try {
    out = strata::detail::load_pt_bytes<T>(reinterpret_cast<const unsigned char*>(file.data()), file.size(), "fuzz.pt");
    return true;
  } catch (const strata::Error& e) {
    refusal = e.what();
    if (refusal.rfind("load_pt: fuzz.pt: ", 0) != 0) {
      outcome.ok = false;
      outcome.message = "a strata::Error without the \"load_pt: fuzz.pt: \" prefix: " + refusal;
    }
  } catch (const std::bad_alloc&) {
    outcome.ok = false;
    outcome.message = "std::bad_alloc escaped";
  } catch (const std::exception& e) {
    outcome.ok = false;
    outcome.message = std::string("a non-strata exception escaped: ") + e.what();
  }
  return false;
}

/// Runs one input through both loads and the oracle.
inline Outcome run_case(const std::uint8_t* data, std::size_t size) {
  Outcome outcome;
  const std::string file = file_of(data, size);
  std::map<std::string, strata::Tensor<float>> as_float;
  std::map<std::string, strata::Tensor<double>> as_double;
  std::string float_refusal, double_refusal;
  const bool float_ok = load(file, as_float, outcome, float_refusal);
  const bool double_ok = load(file, as_double, outcome, double_refusal);
  if (!outcome.ok) return outcome;
  if (!float_ok && !double_ok) {
    outcome.refused = true;
    outcome.message = float_refusal;
    return outcome;
  }
  if (float_ok && !double_ok) {
    // Only the allocation limit may refuse double where float fits (twice the bytes).
    if (double_refusal.find("refusing to allocate") == std::string::npos) {
      outcome.ok = false;
      outcome.message = "double refused what float loaded: " + double_refusal;
    }
    return outcome;
  }
  if (!float_ok) {
    if (float_refusal.find("which float cannot represent exactly") == std::string::npos) {
      outcome.ok = false;
      outcome.message = "float refused what double loaded: " + float_refusal;
    }
    outcome.refused = true;
    return outcome;
  }
  if (as_float.size() != as_double.size()) {
    outcome.ok = false;
    outcome.message = "float and double loads give different numbers of tensors";
    return outcome;
  }
  for (const auto& [key, d] : as_double) {
    const auto found = as_float.find(key);
    if (found == as_float.end() || found->second.shape() != d.shape()) {
      outcome.ok = false;
      outcome.message = "float and double loads differ at key \"" + key + "\"";
      return outcome;
    }
    const float* f = found->second.data();
    for (strata::index_t i = 0; i < d.numel(); ++i) {
      const double v = d.data()[i];
      if (std::isnan(v) ? !std::isnan(f[i]) : f[i] != static_cast<float>(v)) {
        outcome.ok = false;
        outcome.message = "tensor \"" + key + "\" element " + std::to_string(i) + ": float " + std::to_string(f[i]) +
                          " is not double " + std::to_string(v) + " rounded";
        return outcome;
      }
    }
  }
  return outcome;
}

}  // namespace strata_pt_fuzz
