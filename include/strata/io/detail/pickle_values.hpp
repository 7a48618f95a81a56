#pragma once
/// \file
/// The Python values a restricted pickle machine builds (pickle.hpp): None,
/// bools, ints (int64, and longer ones kept as bytes), floats, strings,
/// tuples, lists, dicts and sets, plus the torch objects its hooks make
/// (allowed globals, storages, tensors). Values live in one arena and refer
/// to each other by index, so a list may contain itself and freeing the
/// arena never recurses; what they occupy is counted against
/// STRATA_MAX_ALLOC_BYTES. Dict keys follow Python's equality (1, 1.0 and
/// True are one key), each value hashed once however often it is a key.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strata/core/storage.hpp"
#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"
#include "strata/io/detail/zip.hpp"

namespace strata {
namespace detail {

/// How deeply MARKs, containers and tuple keys may nest. torch.save's
/// files nest a few levels (a checkpoint of state_dicts); a deeper file is
/// refused rather than walked.
constexpr int kPickleMaxDepth = 100;

/// Index of a value in a PickleArena.
using PyId = std::uint32_t;

/// The kinds of values the machine and its hooks build.
enum class PyKind : std::uint8_t {
  kNone,
  kBool,
  kInt,
  kBigInt,
  kFloat,
  kStr,
  kTuple,
  kList,
  kDict,
  kSet,
  kGlobal,   // an allowed global; `s` is its dotted name, `i` the hooks' code for it
  kStorage,  // a storage named by a persistent id; `i` indexes the hooks' storage table
  kTensor,   // `i` indexes the hooks' tensor table
  kOpaque    // a plain value without data (a torch.layout); `s` names it
};

/// One Python value. Containers hold PyIds: `items` is the items of a
/// tuple or list, or key, value, key, value, ... of a dict.
struct PyValue {
  PyKind kind = PyKind::kNone;
  bool ordered = false;  // a kDict that is a collections.OrderedDict
  std::int64_t i = 0;    // kBool / kInt value; kGlobal, kStorage, kTensor code or index
  double f = 0;          // kFloat value
  std::string s;         // kStr text (UTF-8), kBigInt bytes (little-endian two's complement), kGlobal / kOpaque name
  std::vector<PyId> items;
};

/// The values of one load, and the dict semantics they need.
class PickleArena {
 public:
  PickleArena(const char* who, const std::string& path) : who_(who), path_(path) {}

  PyId add(PyValue value) {
    charge(sizeof(PyValue) + value.s.size() + sizeof(PyId) * value.items.size());
    if (values_.size() >= std::numeric_limits<PyId>::max()) file_error(who_, path_, "too many pickle values");
    values_.push_back(std::move(value));
    return static_cast<PyId>(values_.size() - 1);
  }
  PyValue& operator[](PyId id) { return values_[id]; }
  const PyValue& operator[](PyId id) const { return values_[id]; }
  std::size_t size() const { return values_.size(); }

  /// Counts `bytes` more against STRATA_MAX_ALLOC_BYTES.
  void charge(std::uint64_t bytes) {
    used_ += bytes;
    if (used_ > static_cast<std::uint64_t>(STRATA_MAX_ALLOC_BYTES))
      file_error(who_, path_, "refusing to build more than ", static_cast<index_t>(STRATA_MAX_ALLOC_BYTES),
                 " bytes of pickle values (limit STRATA_MAX_ALLOC_BYTES)");
  }

  /// Appends `item` to a list or tuple being built.
  void push_item(PyId container, PyId item) {
    charge(sizeof(PyId));
    values_[container].items.push_back(item);
  }

  /// dict[key] = value, as Python does it: a key equal to one already there
  /// (1, 1.0 and True are equal; NaN only to itself) replaces its value and
  /// keeps its place. Throws (through `fail`) for unhashable keys.
  template <typename Fail>
  void dict_set(PyId dict, PyId key, PyId value, const Fail& fail) {
    const std::uint32_t k = key_id(key, 0, fail);
    auto& index = dict_index_[dict];
    const auto found = index.find(k);
    if (found != index.end()) {
      values_[dict].items[found->second + 1] = value;
      return;
    }
    charge(2 * sizeof(PyId) + 32);
    index.emplace(k, values_[dict].items.size());
    values_[dict].items.push_back(key);
    values_[dict].items.push_back(value);
  }

  /// "a list", "the int 3", "the global os.system", ... for messages.
  std::string describe(PyId id) const {
    const PyValue& v = values_[id];
    switch (v.kind) {
      case PyKind::kNone:
        return "None";
      case PyKind::kBool:
        return v.i ? "True" : "False";
      case PyKind::kInt:
        return concat("the int ", v.i);
      case PyKind::kBigInt:
        return concat("an int of ", v.s.size(), " bytes");
      case PyKind::kFloat:
        return concat("the float ", v.f);
      case PyKind::kStr:
        return concat("the str ", quoted_bytes(v.s, 40));
      case PyKind::kTuple:
        return concat("a tuple of ", v.items.size(), " items");
      case PyKind::kList:
        return concat("a list of ", v.items.size(), " items");
      case PyKind::kDict:
        return v.ordered ? "an OrderedDict" : "a dict";
      case PyKind::kSet:
        return "a set";
      case PyKind::kGlobal:
        return concat("the global ", v.s);
      case PyKind::kStorage:
        return "a storage";
      case PyKind::kTensor:
        return "a tensor";
      case PyKind::kOpaque:
        return v.s;
    }
    return "a value";
  }

 private:
  /// A number for the key's equality class: equal keys get equal numbers.
  template <typename Fail>
  std::uint32_t key_id(PyId id, int depth, const Fail& fail) {
    // Values never change once built (only lists and dicts do, and they are
    // unhashable): each value is hashed once, however often it is a key.
    const auto cached = key_ids_.find(id);
    if (cached != key_ids_.end()) return cached->second;
    const std::uint32_t k = compute_key_id(id, depth, fail);
    charge(32);
    key_ids_.emplace(id, k);
    return k;
  }
  template <typename Fail>
  std::uint32_t compute_key_id(PyId id, int depth, const Fail& fail) {
    const PyValue& v = values_[id];
    std::string text;
    switch (v.kind) {
      case PyKind::kNone:
        text = "N";
        break;
      case PyKind::kBool:
      case PyKind::kInt:
        text = concat("i", v.i);
        break;
      case PyKind::kFloat:
        if (v.f != v.f) {
          text = concat("o", id);  // NaN equals only itself
        } else if (v.f >= -9.2e18 && v.f <= 9.2e18 && v.f == std::floor(v.f)) {
          text = concat("i", static_cast<std::int64_t>(v.f));  // 2.0 == 2
        } else {
          text = concat("f", bit_cast<std::uint64_t>(v.f));
        }
        break;
      case PyKind::kBigInt:
        text = "b" + v.s;
        break;
      case PyKind::kStr:
        text = "s" + v.s;
        break;
      case PyKind::kGlobal:
      case PyKind::kOpaque:
        text = "g" + v.s;
        break;
      case PyKind::kStorage:
      case PyKind::kTensor:
        text = concat("o", id);  // hashed by identity, as in Python
        break;
      case PyKind::kTuple:
        if (depth >= kPickleMaxDepth) fail(concat("a dict key nests tuples deeper than ", kPickleMaxDepth, " levels"));
        text = "t";  // the ids of its items: equal tuples have equal items
        for (PyId item : v.items) {
          const std::uint32_t k = key_id(item, depth + 1, fail);
          text.append(reinterpret_cast<const char*>(&k), sizeof k);
        }
        break;
      case PyKind::kList:
      case PyKind::kDict:
      case PyKind::kSet:
        fail(concat("unhashable dict key (", describe(id), ")"));
    }
    return intern(std::move(text));
  }
  std::uint32_t intern(std::string text) {
    const auto found = interned_.find(text);
    if (found != interned_.end()) return found->second;
    charge(text.size() + 48);
    const auto k = static_cast<std::uint32_t>(interned_.size());
    interned_.emplace(std::move(text), k);
    return k;
  }

  const char* who_;
  const std::string& path_;
  std::vector<PyValue> values_;
  std::uint64_t used_ = 0;
  std::unordered_map<PyId, std::unordered_map<std::uint32_t, std::size_t>> dict_index_;
  std::unordered_map<PyId, std::uint32_t> key_ids_;
  std::unordered_map<std::string, std::uint32_t> interned_;
};

}  // namespace detail
}  // namespace strata
