#pragma once
/// \file
/// strata::io::load_safetensors / save_safetensors: the safetensors format
/// (https://github.com/huggingface/safetensors) that PyTorch models are shared
/// in. A file is an 8-byte little-endian header length N, N bytes of JSON
/// ({"name": {"dtype": "F32", "shape": [8, 1, 5], "data_offsets": [begin, end]},
/// ..., "__metadata__": {"key": "value"}}), then the data section, which the
/// tensors' byte ranges cover exactly, without gaps or overlaps.
///
/// Files are untrusted input: the loader validates the whole header (sizes,
/// offsets, dtypes, shapes, duplicate names) before it allocates any tensor,
/// so a corrupt or hostile file is a strata::Error naming the file and the
/// reason, never a crash or a huge allocation.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "strata/core/error.hpp"
#include "strata/core/shape.hpp"
#include "strata/core/tensor.hpp"
#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"
#include "strata/io/detail/tensor_data.hpp"

namespace strata {
namespace detail {

/// The largest JSON header accepted, as in the reference implementation
/// (safetensors' MAX_HEADER_SIZE): bounds what parsing the header allocates.
constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

/// One validated tensor entry of a safetensors header; [begin, end) is
/// relative to the start of the data section.
struct SafetensorsEntry {
  std::string name;
  StorageType type;
  Shape shape;
  std::uint64_t begin;
  std::uint64_t end;
};

/// A validated safetensors header.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // sorted by data offset
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start = 0;  // file offset of the data section
};

/// The safetensors dtype strings strata loads, by StorageType.
inline const char* safetensors_dtype_name(StorageType type) {
  switch (type) {
    case StorageType::kFloat16:
      return "F16";
    case StorageType::kBFloat16:
      return "BF16";
    case StorageType::kFloat32:
      return "F32";
    case StorageType::kFloat64:
      return "F64";
    case StorageType::kInt64:
      return "I64";
    case StorageType::kInt32:
      return "I32";
    case StorageType::kInt16:
      return "I16";
    case StorageType::kInt8:
      return "I8";
    case StorageType::kUInt8:
      return "U8";
    case StorageType::kBool:
      return "BOOL";
  }
  return "?";
}

/// Parses a safetensors dtype string, or explains why it cannot be loaded.
inline StorageType parse_safetensors_dtype(const std::string& dtype, const std::string& tensor, const char* who,
                                           const std::string& path) {
  for (StorageType type : {StorageType::kFloat16, StorageType::kBFloat16, StorageType::kFloat32, StorageType::kFloat64,
                           StorageType::kInt64, StorageType::kInt32, StorageType::kInt16, StorageType::kInt8,
                           StorageType::kUInt8, StorageType::kBool}) {
    if (dtype == safetensors_dtype_name(type)) return type;
  }
  static const std::set<std::string> known_other{"U16",     "U32",     "U64",     "F8_E5M2", "F8_E4M3",
                                                 "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",      "C64"};
  if (known_other.count(dtype))
    file_error(who, path, "tensor \"", tensor, "\" has dtype ", dtype,
               ", which strata does not load (it loads F16, BF16, F32, F64, I64, I32, I16, I8, U8 and BOOL)");
  file_error(who, path, "tensor \"", tensor, "\" has unknown dtype \"", dtype,
             "\" (expected F16, BF16, F32, F64, I64, I32, I16, I8, U8 or BOOL)");
}

/// A JSON value that must be a non-negative integer that fits index_t.
inline std::uint64_t safetensors_uint(const nlohmann::json& value, const std::string& tensor, const char* field,
                                      const char* who, const std::string& path) {
  if (!value.is_number_unsigned() ||
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<index_t>::max()))
    file_error(who, path, "tensor \"", tensor, "\": expected \"", field,
               "\" to hold non-negative integers below 2^63, got ", value.dump());
  return value.get<std::uint64_t>();
}

/// Reads and validates the header of a mapped safetensors file: lengths,
/// JSON syntax, duplicate keys, the schema of every entry, dtypes, shapes
/// whose byte size matches their data_offsets, and offsets that tile the
/// data section exactly (sorted, contiguous, non-overlapping, complete), as
/// the reference implementation requires.
inline SafetensorsHeader read_safetensors_header(const MappedFile& file, const std::string& path, const char* who) {
  const std::uint64_t file_size = file.size();
  if (file_size < 8)
    file_error(who, path, "file is ", file_size, " bytes, too short for the 8-byte header length (truncated?)");
  const std::uint64_t header_len = load_uint<std::uint64_t>(file.data(), false);
  if (header_len > file_size - 8)
    file_error(who, path, "header length ", header_len, " exceeds the ", file_size - 8,
               " bytes that follow the length field (file size ", file_size, "; truncated or not safetensors?)");
  if (header_len > kSafetensorsMaxHeaderBytes)
    file_error(who, path, "header length ", header_len, " exceeds the limit of ", kSafetensorsMaxHeaderBytes, " bytes");
  const char* text = reinterpret_cast<const char*>(file.data() + 8);
  if (header_len == 0 || text[0] != '{') file_error(who, path, "header does not start with '{' (not safetensors?)");

  // The parser callback rejects duplicate keys (JSON parsers silently keep
  // the last one) and nesting deeper than the format has, while parsing.
  std::vector<std::set<std::string>> open_objects;
  const auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth > 2)
      file_error(who, path, "header nests deeper than the safetensors format allows");
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end) open_objects.pop_back();
    if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second)
      file_error(who, path, "header has the key \"", parsed.get<std::string>(), "\" twice");
    return true;
  };
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text, text + header_len, callback);
  } catch (const nlohmann::json::exception& e) {
    file_error(who, path, "header is not valid JSON: ", e.what());
  }
  if (!root.is_object()) file_error(who, path, "header is not a JSON object");

  SafetensorsHeader header;
  header.data_start = 8 + header_len;
  const std::uint64_t data_size = file_size - header.data_start;
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) file_error(who, path, "\"__metadata__\" is not an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          file_error(who, path, "\"__metadata__\" entry \"", key, "\" is not a string: ", value.dump());
        header.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    if (!entry.is_object()) file_error(who, path, "tensor \"", name, "\" is not an object");
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!entry.contains(field)) file_error(who, path, "tensor \"", name, "\" has no \"", field, "\"");
    }
    const nlohmann::json& dtype = entry.at("dtype");
    if (!dtype.is_string()) file_error(who, path, "tensor \"", name, "\": \"dtype\" is not a string");
    SafetensorsEntry info{name, parse_safetensors_dtype(dtype.get<std::string>(), name, who, path), Shape(), 0, 0};

    const nlohmann::json& shape = entry.at("shape");
    if (!shape.is_array()) file_error(who, path, "tensor \"", name, "\": \"shape\" is not an array");
    std::vector<index_t> sizes;
    for (const auto& size : shape)
      sizes.push_back(static_cast<index_t>(safetensors_uint(size, name, "shape", who, path)));
    info.shape = Shape(std::move(sizes));

    const nlohmann::json& offsets = entry.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2)
      file_error(who, path, "tensor \"", name, "\": expected \"data_offsets\" to be [begin, end], got ",
                 offsets.dump());
    info.begin = safetensors_uint(offsets[0], name, "data_offsets", who, path);
    info.end = safetensors_uint(offsets[1], name, "data_offsets", who, path);
    if (info.begin > info.end)
      file_error(who, path, "tensor \"", name, "\" data_offsets [", info.begin, ", ", info.end,
                 ") end before they begin");
    if (info.end > data_size)
      file_error(who, path, "tensor \"", name, "\" data_offsets [", info.begin, ", ", info.end,
                 ") exceed the data section (", data_size, " bytes)");

    // Overflow-checked: a hostile shape must not wrap around to a small size.
    index_t bytes = storage_bytes(info.type);
    try {
      for (index_t size : info.shape) bytes = checked_mul(bytes, size, "shape");
    } catch (const Error&) {
      file_error(who, path, "tensor \"", name, "\" shape ", info.shape, " of ", dtype.get<std::string>(),
                 " overflows int64 bytes");
    }
    if (static_cast<std::uint64_t>(bytes) != info.end - info.begin)
      file_error(who, path, "tensor \"", name, "\" shape ", info.shape, " of ", dtype.get<std::string>(), " needs ",
                 bytes, " bytes, but data_offsets [", info.begin, ", ", info.end, ") hold ", info.end - info.begin);
    header.tensors.push_back(std::move(info));
  }

  std::sort(header.tensors.begin(), header.tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < header.tensors.size(); ++i) {
    const SafetensorsEntry& t = header.tensors[i];
    if (t.begin < covered) {
      const SafetensorsEntry& prev = header.tensors[i - 1];
      file_error(who, path, "tensor \"", t.name, "\" data_offsets [", t.begin, ", ", t.end, ") overlap tensor \"",
                 prev.name, "\" [", prev.begin, ", ", prev.end, ")");
    }
    if (t.begin > covered)
      file_error(who, path, "bytes [", covered, ", ", t.begin,
                 ") of the data section belong to no tensor (safetensors requires contiguous data)");
    covered = t.end;
  }
  if (covered != data_size)
    file_error(who, path, "bytes [", covered, ", ", data_size,
               ") of the data section belong to no tensor (trailing data or a wrong header length)");
  return header;
}

}  // namespace detail

namespace io {

/// Loads every tensor of a safetensors file, converted to T. F16, BF16, F32
/// and F64 convert exactly to float or double, except F64 to float, which
/// rounds to nearest; the integer dtypes I64, I32, I16, I8 and U8 (such as
/// BatchNorm's 0-d I64 num_batches_tracked) convert when T holds the value
/// exactly, BOOL gives 0 and 1. The file is memory-mapped and read once.
/// Returns name -> contiguous tensor, ready for Module::load_state_dict.
/// Example: `auto sd = strata::io::load_safetensors<float>("model.safetensors"); net.load_state_dict(sd);`
/// Throws strata::Error, naming the file and the reason, when the file
/// cannot be read or is malformed: truncated, a header length or offset
/// beyond the file, invalid JSON, duplicate names, unknown or unsupported
/// dtypes, an integer that T cannot hold exactly or a BOOL byte other than 0
/// and 1 (the message names the tensor and the element), a shape whose byte size differs from its data range,
/// overlapping, reversed or non-contiguous data ranges. Nothing is allocated for a tensor until the whole header has
/// been validated against the file size.
template <typename T = float>
std::map<std::string, Tensor<T>> load_safetensors(const std::string& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::io::load_safetensors<T>: T must be float or double");
  const detail::MappedFile file(path, "load_safetensors");
  const detail::SafetensorsHeader header = detail::read_safetensors_header(file, path, "load_safetensors");
  std::map<std::string, Tensor<T>> tensors;
  for (const detail::SafetensorsEntry& entry : header.tensors) {
    const unsigned char* bytes = file.data() + header.data_start + entry.begin;
    Tensor<T> tensor = Tensor<T>::empty(entry.shape);
    const index_t inexact = detail::decode(bytes, entry.type, false, tensor.data(), tensor.numel());
    if (inexact >= 0)
      detail::file_error("load_safetensors", path, "tensor \"", entry.name, "\" (",
                         detail::safetensors_dtype_name(entry.type), "): ",
                         detail::inexact_element_message<T>(bytes + detail::storage_bytes(entry.type) * inexact,
                                                            entry.type, false, inexact));
    tensors.emplace(entry.name, std::move(tensor));
  }
  return tensors;
}

/// The "__metadata__" map of a safetensors file (empty when there is none),
/// read from the header alone after validating it like load_safetensors.
/// Example: `auto meta = strata::io::load_safetensors_metadata("model.safetensors"); meta["format"];`
/// Throws strata::Error like load_safetensors.
inline std::map<std::string, std::string> load_safetensors_metadata(const std::string& path) {
  const detail::MappedFile file(path, "load_safetensors_metadata");
  return detail::read_safetensors_header(file, path, "load_safetensors_metadata").metadata;
}

/// Writes tensors as a safetensors file: F32 for float, F64 for double,
/// values bit-exact, data laid out in name order, the JSON header padded with
/// spaces to a multiple of 8 bytes as the reference writer does. `metadata`,
/// when not empty, becomes the "__metadata__" entry. Readable by the
/// safetensors package (safetensors.torch.load_file) and by load_safetensors.
/// Example: `strata::io::save_safetensors("model.safetensors", net.state_dict());`
/// Throws strata::Error for an undefined tensor, a tensor named
/// "__metadata__", or a file that cannot be written.
template <typename T>
void save_safetensors(const std::string& path, const std::map<std::string, Tensor<T>>& tensors,
                      const std::map<std::string, std::string>& metadata = {}) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::io::save_safetensors: T must be float or double");
  const char* who = "save_safetensors";
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") detail::file_error(who, path, "\"__metadata__\" cannot name a tensor");
    if (!tensor.defined()) detail::file_error(who, path, "tensor \"", name, "\" is undefined");
    const auto bytes = static_cast<std::uint64_t>(tensor.numel()) * sizeof(T);
    header[name] = {{"dtype", detail::safetensors_dtype_name(detail::storage_type_of<T>())},
                    {"shape", tensor.shape().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned

  detail::FileWriter out(path, who);
  unsigned char length[8];
  detail::store_uint_le<std::uint64_t>(text.size(), length);
  out.write(length, sizeof length);
  out.write(text);
  for (const auto& [name, tensor] : tensors) detail::write_tensor_data(out, tensor);
  out.close();
}

}  // namespace io
}  // namespace strata
