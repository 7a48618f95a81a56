#pragma once
/// \file
/// The two file layouts of torch.save, from bytes to a name -> tensor map:
///  - the zip format (torch >= 1.6): one folder, named after the saved file,
///    holding `data.pkl` (the object pickle), `data/<key>` (one record of raw
///    elements per storage), `version`, and, from torch 2.x, `byteorder`
///    ("little" or "big"); storages are read in place from the mapped file;
///  - the legacy format (torch.save(..., _use_new_zipfile_serialization=False)
///    and torch < 1.6): the pickles of a magic number, a protocol version and
///    a sys_info dict, the object pickle, a pickled list of storage keys,
///    then each storage in that order as an 8-byte little-endian element
///    count and its little-endian elements.
/// The object is walked into dotted keys ("model.layer1.0.weight"; list
/// indices and integer dict keys as decimal), plain values skipped. Every
/// tensor is checked against its storage, and the total size of the result
/// against STRATA_MAX_ALLOC_BYTES, before anything is allocated.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "strata/core/storage.hpp"
#include "strata/core/tensor.hpp"
#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"
#include "strata/io/detail/torch_pickle.hpp"
#include "strata/io/detail/zip.hpp"

namespace strata {
namespace detail {

/// How many containers and tensors walking a pickle's object may visit, and
/// through how many paths one container may be reached: a pickle whose
/// shared containers nest in each other (each tuple holding the next one
/// twice) would otherwise name exponentially many tensors.
constexpr std::uint64_t kPtMaxVisits = std::uint64_t{1} << 22;
constexpr std::uint32_t kPtMaxPaths = 64;
/// The most bytes all tensor keys together may take (256 MB, or
/// STRATA_MAX_ALLOC_BYTES when lower).
constexpr std::uint64_t kPtMaxKeyBytes =
    std::min<std::uint64_t>(std::uint64_t{1} << 28, static_cast<std::uint64_t>(STRATA_MAX_ALLOC_BYTES));

/// The object a torch.save file holds, and the byte order of its storages.
struct PtObject {
  PyId root = 0;
  bool big_endian = false;
};

/// Walks the object of a torch.save file into (dotted key, tensor index)
/// pairs. Plain values are skipped; a bare storage, a tensor under a key that
/// has no decimal or string form, a cycle or a too deep nesting are errors.
class PtWalker {
 public:
  PtWalker(const TorchUnpickler& pickle, const PickleArena& arena, const char* who, const std::string& path)
      : pickle_(pickle), arena_(arena), who_(who), path_(path), state_(arena.size()) {}

  std::vector<std::pair<std::string, std::size_t>> walk(PyId root) {
    std::string key;
    visit(root, key, 0, nullptr);
    return std::move(found_);
  }

 private:
  /// What the walk knows about a container.
  struct State {
    bool plain = false;    // holds no tensor, directly or below: skipped from now on
    bool scanned = false;  // `plain` is known for its direct items
    bool on_path = false;  // being walked: reaching it again is a cycle
    std::uint32_t paths = 0;
  };
  static bool is_container(PyKind kind) {
    return kind == PyKind::kTuple || kind == PyKind::kList || kind == PyKind::kDict;
  }
  /// Whether a container holds nothing but plain values (scanned once: a
  /// shared list of a million floats costs one pass).
  bool only_plain_items(PyId id) {
    State& state = state_[id];
    if (!state.scanned) {
      state.scanned = true;
      state.plain = true;
      const PyValue& v = arena_[id];
      const std::size_t step = v.kind == PyKind::kDict ? 2 : 1;
      for (std::size_t k = step - 1; k < v.items.size(); k += step) {
        const PyKind kind = arena_[v.items[k]].kind;
        if (is_container(kind) || kind == PyKind::kTensor || kind == PyKind::kStorage) state.plain = false;
      }
    }
    return state.plain;
  }
  void count_visit() {
    if (++visits_ > kPtMaxVisits)
      file_error(who_, path_, "the object has more than ", kPtMaxVisits, " containers and tensors");
  }
  void visit(PyId id, std::string& key, int depth, const char* bad_key) {
    const PyValue& v = arena_[id];
    if (v.kind == PyKind::kTensor) {
      if (bad_key != nullptr)
        file_error(who_, path_, "a tensor at \"", key.substr(0, 200), "\" is keyed by ", bad_key,
                   ", which has no name");
      count_visit();
      key_bytes_ += key.size();
      if (key_bytes_ > kPtMaxKeyBytes)
        file_error(who_, path_, "the tensors' keys take more than ", kPtMaxKeyBytes, " bytes in all");
      found_.emplace_back(key, static_cast<std::size_t>(v.i));
      return;
    }
    if (v.kind == PyKind::kStorage)
      file_error(who_, path_, "\"", key, "\" holds a bare storage (",
                 pickle_.storages[static_cast<std::size_t>(v.i)].type_name, "), not a tensor");
    if (!is_container(v.kind) || only_plain_items(id)) return;
    State& state = state_[id];
    if (state.on_path) file_error(who_, path_, "the object contains itself at \"", key.substr(0, 200), "\"");
    if (depth >= kPickleMaxDepth)
      file_error(who_, path_, "the object nests deeper than ", kPickleMaxDepth, " levels at \"", key.substr(0, 200),
                 "\"");
    if (++state.paths > kPtMaxPaths)
      file_error(who_, path_, "a container is reached through more than ", kPtMaxPaths,
                 " paths (containers shared within each other?) at \"", key.substr(0, 200), "\"");
    count_visit();
    state.on_path = true;
    const std::size_t found_before = found_.size(), length = key.size();
    const bool dict = v.kind == PyKind::kDict;
    for (std::size_t k = 0, n = v.items.size(); k < n; k += dict ? 2 : 1) {
      const PyId item = v.items[dict ? k + 1 : k];
      const PyKind kind = arena_[item].kind;
      if (!is_container(kind) && kind != PyKind::kTensor && kind != PyKind::kStorage) continue;
      const char* bad = bad_key;
      if (length > 0) key += '.';
      if (!dict) {
        key += std::to_string(k);
      } else {
        const PyValue& name = arena_[v.items[k]];
        if (name.kind == PyKind::kStr) {
          if (name.s.size() > kPtMaxKeyBytes - key.size())
            file_error(who_, path_, "a tensor key grows past ", kPtMaxKeyBytes, " bytes");
          key += name.s;
        } else if (name.kind == PyKind::kInt) {
          key += std::to_string(name.i);
        } else {
          key += "?";
          if (bad == nullptr)
            bad = name.kind == PyKind::kBool    ? "a bool"
                  : name.kind == PyKind::kFloat ? "a float"
                  : name.kind == PyKind::kNone  ? "None"
                  : name.kind == PyKind::kTuple ? "a tuple"
                                                : "a dict key that is neither a str nor an int";
        }
      }
      visit(item, key, depth + 1, bad);
      key.resize(length);
    }
    state_[id].on_path = false;
    if (found_.size() == found_before) state_[id].plain = true;  // no tensor below: skip it next time
  }

  const TorchUnpickler& pickle_;
  const PickleArena& arena_;
  const char* who_;
  const std::string& path_;
  std::vector<State> state_;
  std::uint64_t visits_ = 0, key_bytes_ = 0;
  std::vector<std::pair<std::string, std::size_t>> found_;
};

/// The zip format: finds the records, runs data.pkl and places every storage
/// in its data/<key> record.
inline PtObject read_pt_zip(const unsigned char* data, std::uint64_t size, TorchUnpickler& pickle, const char* who,
                            const std::string& path) {
  const ZipReader zip(data, size, who, path);
  if (zip.records().empty()) file_error(who, path, "the zip archive holds no records (not a torch.save file?)");
  // torch's reader: the folder of the first record prefixes every record.
  const std::string& first = zip.records().front().name;
  const std::size_t slash = first.find('/');
  if (slash == std::string::npos)
    file_error(who, path, "zip entry ", quoted_bytes(first), " is not in a folder (not a torch.save file?)");
  const std::string folder = first.substr(0, slash + 1);
  std::map<std::string, const ZipRecord*> records;
  for (const ZipRecord& record : zip.records()) {
    if (record.name.compare(0, folder.size(), folder) != 0)
      file_error(who, path, "zip entry ", quoted_bytes(record.name), " lies outside the archive folder ",
                 quoted_bytes(folder));
    records.emplace(record.name.substr(folder.size()), &record);
  }
  const auto bytes_of = [&](const std::string& name) {
    const ZipRecord& r = *records.at(name);
    return std::string(reinterpret_cast<const char*>(data + r.offset), static_cast<std::size_t>(r.size));
  };
  if (records.count("constants.pkl") || records.count("code/__torch__.py") || records.count("bytecode.pkl"))
    file_error(who, path,
               "a TorchScript archive (torch.jit.save), which load_pt does not read: it reads torch.save "
               "files (in Python: torch.save(torch.jit.load(f).state_dict(), path))");
  for (const ZipRecord& record : zip.records()) {
    if (record.method != 0)
      file_error(who, path, "zip entry ", quoted_bytes(record.name), " is compressed (method ", record.method,
                 record.method == 8 ? ", deflate" : "",
                 "); torch.save writes uncompressed (stored) entries, and load_pt reads only those");
  }
  if (!records.count("data.pkl")) file_error(who, path, "the archive has no data.pkl record (not a torch.save file?)");
  const std::string version_name = records.count(".data/version") ? ".data/version" : "version";
  if (!records.count(version_name)) file_error(who, path, "the archive has no version record");
  const std::string version = bytes_of(version_name);
  std::size_t digits = 0;
  std::uint64_t number = 0;
  while (digits < version.size() && digits < 6 && version[digits] >= '0' && version[digits] <= '9')
    number = number * 10 + static_cast<std::uint64_t>(version[digits++] - '0');
  if (digits == 0 || version.find_first_not_of("\r\n ", digits) != std::string::npos || number < 1 || number > 10)
    file_error(who, path, "unsupported archive version ", quoted_bytes(version, 20),
               " (torch 1.13 reads versions 1 to 10)");
  PtObject object;
  if (records.count("byteorder")) {
    const std::string order = bytes_of("byteorder");
    if (order != "little" && order != "big")
      file_error(who, path, "the byteorder record is ", quoted_bytes(order, 20), ", expected \"little\" or \"big\"");
    object.big_endian = order == "big";
  }

  const ZipRecord& pkl = *records.at("data.pkl");
  pickle.set_persistent_ids(TorchUnpickler::PersistentIds::kZip);
  const auto [root, end] = pickle.run(data + pkl.offset, pkl.size, "data.pkl");
  if (end != pkl.size) file_error(who, path, "data.pkl has ", pkl.size - end, " bytes after its STOP opcode");
  object.root = root;

  std::map<std::string, bool> used;  // data/<key> records the pickle names
  for (PtStorage& s : pickle.storages) {
    const std::string name = "data/" + s.key;
    const auto found = records.find(name);
    if (found == records.end())
      file_error(who, path, "storage ", quoted_bytes(s.key), " has no record ", quoted_bytes(folder + name));
    const std::uint64_t bytes = static_cast<std::uint64_t>(s.numel) * static_cast<std::uint64_t>(storage_bytes(s.type));
    if (found->second->size != bytes)
      file_error(who, path, "record ", quoted_bytes(folder + name), " holds ", found->second->size, " bytes, but its ",
                 s.type_name, " of ", s.numel, " elements needs ", bytes);
    s.data = data + found->second->offset;
    used[name] = true;
  }
  for (const auto& [name, record] : records) {
    if (name.compare(0, 5, "data/") == 0 && !used.count(name))
      file_error(who, path, "record ", quoted_bytes(folder + name),
                 " is not a storage that data.pkl names (an extra record)");
  }
  return object;
}

/// The legacy format: the five pickles, then the storages in key order.
inline PtObject read_pt_legacy(const unsigned char* data, std::uint64_t size, TorchUnpickler& pickle, const char* who,
                               const std::string& path) {
  std::uint64_t pos = 0;
  const auto next = [&](const char* record) {
    const auto [value, end] = pickle.run(data + pos, size - pos, record);
    pos += end;
    return value;
  };
  pickle.set_persistent_ids(TorchUnpickler::PersistentIds::kNone);
  const PyValue& magic = pickle.arena()[next("the magic-number pickle")];
  // 0x1950a86a20f9469cfc6c, torch's MAGIC_NUMBER, as LONG1 stores it.
  static const unsigned char kMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  if (magic.kind != PyKind::kBigInt || magic.s != std::string(reinterpret_cast<const char*>(kMagic), sizeof kMagic))
    file_error(who, path, "invalid magic number in the legacy format (not a torch.save file, or corrupt)");
  const PyId protocol = next("the protocol-version pickle");
  if (pickle.arena()[protocol].kind != PyKind::kInt || pickle.arena()[protocol].i != 1001)
    file_error(who, path, "invalid legacy protocol version (", pickle.arena().describe(protocol),
               ", expected torch's 1001)");
  next("the sys_info pickle");  // byte order and C type sizes: the storages are little-endian whatever it says
  pickle.set_persistent_ids(TorchUnpickler::PersistentIds::kLegacy);
  PtObject object;
  object.root = next("the object pickle");
  pickle.set_persistent_ids(TorchUnpickler::PersistentIds::kNone);
  const PyValue& keys = pickle.arena()[next("the storage-key pickle")];
  if (keys.kind != PyKind::kList) file_error(who, path, "the legacy storage-key pickle is not a list");
  const std::vector<PyId> key_ids = keys.items;

  std::map<std::string, PtStorage*> roots;
  for (PtStorage& s : pickle.storages) {
    if (s.root < 0) roots.emplace(s.key, &s);
  }
  for (PyId id : key_ids) {
    const PyValue& key = pickle.arena()[id];
    if (key.kind != PyKind::kStr)
      file_error(who, path, "the legacy storage-key list holds ", pickle.arena().describe(id));
    const auto found = roots.find(key.s);
    if (found == roots.end())
      file_error(who, path, "storage key ", quoted_bytes(key.s), " is not a storage the object pickle names");
    PtStorage& s = *found->second;
    if (s.data != nullptr) file_error(who, path, "storage key ", quoted_bytes(key.s), " is listed twice");
    if (size - pos < 8) file_error(who, path, "the file ends before storage ", quoted_bytes(key.s), " (truncated?)");
    const std::uint64_t count = load_uint<std::uint64_t, false>(data + pos);
    if (count != static_cast<std::uint64_t>(s.numel))
      file_error(who, path, "storage ", quoted_bytes(key.s), " holds ", count, " elements, but the pickle says ",
                 s.numel);
    const std::uint64_t bytes = count * static_cast<std::uint64_t>(storage_bytes(s.type));
    if (bytes > size - pos - 8)
      file_error(who, path, "storage ", quoted_bytes(key.s), " of ", bytes, " bytes runs past the end of the file (",
                 size - pos - 8, " bytes left; truncated?)");
    s.data = data + pos + 8;
    pos += 8 + bytes;
  }
  for (PtStorage& s : pickle.storages) {
    if (s.root < 0 && s.data == nullptr)
      file_error(who, path, "storage ", quoted_bytes(s.key), " is named by the pickle but not in the storage list");
  }
  for (PtStorage& s : pickle.storages) {  // views point into their roots
    if (s.root >= 0) {
      const PtStorage& root = pickle.storages[static_cast<std::size_t>(s.root)];
      s.data = root.data + s.root_offset * storage_bytes(s.type);
    }
  }
  if (pos != size) file_error(who, path, size - pos, " bytes follow the last storage");
  return object;
}

/// Copies the elements of a strided tensor view of storage bytes into a
/// contiguous T buffer; returns the row-major index of the first element T
/// cannot hold (see decode), or -1.
template <typename T>
index_t gather_pt_tensor(const PtTensor& t, const unsigned char* base, StorageType type, bool big_endian, T* out,
                         index_t numel, const unsigned char** bad) {
  const index_t eb = storage_bytes(type);
  const std::size_t rank = t.size.size();
  bool contiguous = true;
  for (index_t d = static_cast<index_t>(rank), expected = 1; d-- > 0;) {
    if (t.size[d] != 1 && t.stride[d] != expected) contiguous = false;
    expected *= t.size[d];
  }
  if (contiguous || rank == 0) {
    const unsigned char* src = base + t.offset * eb;
    const index_t at = decode(src, type, big_endian, out, numel);
    *bad = at >= 0 ? src + at * eb : nullptr;
    return at;
  }
  // Row by row over the last dimension; an index counter for the others.
  const index_t row = t.size[rank - 1], step = t.stride[rank - 1];
  std::vector<index_t> index(rank - 1, 0);
  for (index_t done = 0; done < numel; done += row) {
    index_t offset = t.offset;
    for (std::size_t d = 0; d + 1 < rank; ++d) offset += index[d] * t.stride[d];
    for (index_t k = 0; k < row; ++k) {
      const unsigned char* src = base + (offset + k * step) * eb;
      if (decode(src, type, big_endian, out + done + k, 1) >= 0) {
        *bad = src;
        return done + k;
      }
    }
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < t.size[d]) break;
      index[d] = 0;
    }
  }
  *bad = nullptr;
  return -1;
}

/// Loads a torch.save file held in [data, data + size); `path` names it in
/// messages. The public load_pt maps the file and calls this; the fuzzer
/// calls it on its bytes.
template <typename T>
std::map<std::string, Tensor<T>> load_pt_bytes(const unsigned char* data, std::uint64_t size, const std::string& path) {
  const char* who = "load_pt";
  TorchUnpickler pickle(who, path);
  PtObject object;
  if (size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0) {
    object = read_pt_zip(data, size, pickle, who, path);
  } else if (size >= 2 && data[0] == 0x80) {
    object = read_pt_legacy(data, size, pickle, who, path);
  } else if (size >= 262 && std::memcmp(data + 257, "ustar", 5) == 0) {
    file_error(who, path,
               "a tar archive (the torch.save format of PyTorch 0.1), which load_pt does not read: load "
               "it with torch.load and save it again");
  } else if (size >= 4 && std::memcmp(data, "PK\x05\x06", 4) == 0) {
    file_error(who, path, "an empty zip archive (not a torch.save file)");
  } else {
    file_error(who, path, "not a torch.save file (it starts neither with a zip header nor with a pickle)");
  }

  const std::vector<std::pair<std::string, std::size_t>> found =
      PtWalker(pickle, pickle.arena(), who, path).walk(object.root);
  // Everything is checked and counted before the first tensor is allocated.
  std::uint64_t total = 0;
  std::map<std::string, std::size_t> named;
  for (const auto& [key, index] : found) {
    const PtTensor& t = pickle.tensors[index];
    index_t numel = 1;
    for (index_t s : t.size) numel = saturating_mul(numel, s);
    total += static_cast<std::uint64_t>(saturating_mul(numel, static_cast<index_t>(sizeof(T)))) + key.size() + 64;
    if (total > static_cast<std::uint64_t>(STRATA_MAX_ALLOC_BYTES))
      file_error(who, path, "refusing to allocate more than ", static_cast<index_t>(STRATA_MAX_ALLOC_BYTES),
                 " bytes for the tensors (limit STRATA_MAX_ALLOC_BYTES)");
    if (!named.emplace(key, index).second) file_error(who, path, "two tensors have the key \"", key, "\"");
  }
  // Decoded in file order, so the mapped file is read front to back (as its
  // MADV_SEQUENTIAL hint promises) whatever order the keys sort in.
  const auto source = [&](std::size_t index) {
    const PtTensor& t = pickle.tensors[index];
    return t.storage < 0 ? nullptr : pickle.storages[static_cast<std::size_t>(t.storage)].data;
  };
  std::vector<const std::pair<const std::string, std::size_t>*> order;
  for (const auto& entry : named) order.push_back(&entry);
  std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
    return std::less<const unsigned char*>()(source(a->second), source(b->second));
  });
  std::map<std::string, Tensor<T>> out;
  for (const auto* entry : order) {
    const std::string& key = entry->first;
    const PtTensor& t = pickle.tensors[entry->second];
    Tensor<T> tensor = Tensor<T>::empty(Shape(t.size));
    if (t.storage >= 0 && tensor.numel() > 0) {
      const PtStorage& s = pickle.storages[static_cast<std::size_t>(t.storage)];
      const unsigned char* bad = nullptr;
      const index_t at = gather_pt_tensor(t, s.data, s.type, object.big_endian, tensor.data(), tensor.numel(), &bad);
      if (at >= 0)
        file_error(who, path, "tensor \"", key, "\" (", storage_type_name(s.type),
                   "): ", inexact_element_message<T>(bad, s.type, object.big_endian, at));
    }
    out.emplace(key, std::move(tensor));
  }
  return out;
}

}  // namespace detail
}  // namespace strata
