#pragma once
/// \file
/// What torch.save's pickles mean, and the short list of names they may use:
/// the hooks of the pickle machine (pickle.hpp) for torch 1.13's weights-only
/// unpickler. GLOBAL resolves only the names torch/_weights_only_unpickler.py
/// allows (the torch._utils rebuild functions, torch.Size, torch.Tensor,
/// torch.nn.Parameter, collections.OrderedDict, the storage and legacy tensor
/// classes, a few dtypes, torch.serialization._get_layout); REDUCE, NEWOBJ
/// and BUILD do what those names do when torch.save wrote them, and nothing
/// else; BINPERSID names a storage ('storage', type, key, location, numel),
/// with a sixth item (a view) in the legacy format. Nothing is looked up by
/// name beyond that list and nothing from the file is run: every other name,
/// call or argument is a strata::Error that names it. Complex, quantized,
/// sparse and meta tensors are refused by name; storages saved on a GPU
/// (location "cuda:0") load to the CPU, as map_location="cpu" would.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strata/core/shape.hpp"
#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/pickle.hpp"

namespace strata {
namespace detail {

/// A storage named by a persistent id. A legacy-format view is a range of
/// another (root) storage.
struct PtStorage {
  StorageType type = StorageType::kFloat32;
  std::string type_name;                // "torch.FloatStorage"
  std::string key;                      // the record is data/<key> (zip) or the key in the storage list (legacy)
  index_t numel = 0;                    // elements of this storage (of the view, for a view)
  std::int64_t root = -1;               // a view: index of its root storage
  index_t root_offset = 0;              // a view: its first element in the root
  const unsigned char* data = nullptr;  // set when the file's records are matched to the storages
};

/// A tensor as torch stores it: a storage (or none: torch.Tensor() is an
/// empty float32 tensor), a storage offset, sizes and strides in elements.
struct PtTensor {
  std::int64_t storage = -1;
  index_t offset = 0;
  std::vector<index_t> size{0}, stride{1};
  bool parameter = false;
};

/// The globals torch's weights-only unpickler allows, by what they do.
enum class TorchName : int {
  kOrderedDict,
  kParameter,
  kGetLayout,
  kSize,
  kTensor,
  kDtype,
  kTensorClass,
  kSparseTensorClass,
  kStorageClass,
  kRebuildTensor,
  kRebuildTensorV2,
  kRebuildParameter,
  kRebuildSparse,
  kRebuildSparseCsr,
  kRebuildMeta
};

/// The code of an allowed global ("torch._utils._rebuild_tensor_v2"), or -1:
/// exactly the names of torch 1.13's _get_allowed_globals().
inline int torch_global_code(const std::string& name) {
  static const std::unordered_map<std::string, TorchName> allowed = [] {
    std::unordered_map<std::string, TorchName> m{
        {"collections.OrderedDict", TorchName::kOrderedDict},
        {"torch.nn.parameter.Parameter", TorchName::kParameter},
        {"torch.serialization._get_layout", TorchName::kGetLayout},
        {"torch.Size", TorchName::kSize},
        {"torch.Tensor", TorchName::kTensor},
        {"torch._utils._rebuild_parameter", TorchName::kRebuildParameter},
        {"torch._utils._rebuild_tensor", TorchName::kRebuildTensor},
        {"torch._utils._rebuild_tensor_v2", TorchName::kRebuildTensorV2},
        {"torch._utils._rebuild_sparse_tensor", TorchName::kRebuildSparse},
        {"torch._utils._rebuild_meta_tensor_no_storage", TorchName::kRebuildMeta},
        {"torch._utils._rebuild_sparse_csr_tensor", TorchName::kRebuildSparseCsr},
        {"torch.storage.TypedStorage", TorchName::kStorageClass},
        {"torch.storage.UntypedStorage", TorchName::kStorageClass}};
    for (const char* dtype :
         {"complex32", "complex64", "complex128", "float16", "float32", "float64", "int8", "int16", "int32", "int64"})
      m.emplace(std::string("torch.") + dtype, TorchName::kDtype);
    for (const char* prefix : {"torch.", "torch.cuda."}) {
      for (const char* type : {"Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
                               "ComplexDouble", "ComplexFloat"})
        m.emplace(std::string(prefix) + type + "Storage", TorchName::kStorageClass);
      for (const char* type : {"BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"})
        m.emplace(std::string(prefix) + type + "Tensor", TorchName::kTensorClass);
      for (const char* type : {"BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short"})
        m.emplace(std::string(prefix) + "sparse." + type + "Tensor", TorchName::kSparseTensorClass);
    }
    for (const char* type : {"QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8"})
      m.emplace(std::string("torch.") + type + "Storage", TorchName::kStorageClass);
    return m;
  }();
  const auto found = allowed.find(name);
  return found == allowed.end() ? -1 : static_cast<int>(found->second);
}

/// The tensors and storages a torch pickle builds, and the rules for them.
class TorchUnpickler : public Unpickler {
 public:
  /// How BINPERSID reads: not at all (the small pickles of the legacy
  /// format), the zip format's 5-tuples, or the legacy format's 6-tuples.
  enum class PersistentIds { kNone, kZip, kLegacy };

  TorchUnpickler(const char* who, const std::string& path) : Unpickler(who, path) {}
  void set_persistent_ids(PersistentIds mode) { mode_ = mode; }

  std::vector<PtStorage> storages;
  std::vector<PtTensor> tensors;

 protected:
  PyId on_global(const std::string& module, const std::string& name) override {
    const std::string full = module + "." + name;
    const int code = torch_global_code(full);
    if (code < 0) {
      const char* why = full == "torch._utils._rebuild_qtensor"        ? " (quantized tensors are not supported)"
                        : full.rfind("torch._utils._rebuild_", 0) == 0 ? " (this kind of tensor is not supported)"
                        : full.rfind("torch.jit", 0) == 0 || full.rfind("torch._C", 0) == 0
                            ? " (TorchScript objects are not supported)"
                        : full.rfind("torch.nn.modules.", 0) == 0 || full.rfind("__main__.", 0) == 0
                            ? " (a whole module, as torch.save(model) writes it: save model.state_dict() instead)"
                            : "";
      fail("refusing the global ", quoted_bytes(full), why,
           ": torch's weights-only unpickler allows only tensors, storages, torch.Size, dtypes, "
           "collections.OrderedDict and torch._utils' rebuild functions, and nothing from the file is ever run");
    }
    PyValue v;
    v.kind = PyKind::kGlobal;
    v.i = code;
    v.s = full;
    return arena().add(std::move(v));
  }

  PyId on_reduce(PyId func, PyId args) override {
    if (value(func).kind != PyKind::kGlobal)
      fail("REDUCE calls ", describe(func), " (only the allowed globals can be called)");
    const std::string name = value(func).s;  // a copy: adding values moves the arena
    switch (static_cast<TorchName>(value(func).i)) {
      case TorchName::kOrderedDict: {
        const std::vector<PyId> a = arguments(args, name, 0, 1);
        PyValue d;
        d.kind = PyKind::kDict;
        d.ordered = true;
        const PyId dict = arena().add(std::move(d));
        if (!a.empty()) fill_ordered_dict(dict, a[0]);
        return dict;
      }
      case TorchName::kSize: {
        const std::vector<PyId> a = arguments(args, name, 0, 1);
        PyValue t;
        t.kind = PyKind::kTuple;
        if (!a.empty()) {
          for (index_t size : int_list(a[0], "the argument of torch.Size")) t.items.push_back(int_value(size));
        }
        return arena().add(std::move(t));
      }
      case TorchName::kTensor:
        arguments(args, name, 0, 0);  // torch.Tensor(sizes...) would be uninitialised memory
        return add_tensor(PtTensor{});
      case TorchName::kParameter:
        return parameter(args);
      case TorchName::kRebuildTensorV2:
      case TorchName::kRebuildTensor: {
        const bool v2 = static_cast<TorchName>(value(func).i) == TorchName::kRebuildTensorV2;
        // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]]);
        // metadata is torch 2.x's, accepted when it says nothing.
        const std::vector<PyId> a = arguments(args, name, v2 ? 6 : 4, v2 ? 7 : 4);
        if (v2) {
          expect_kind(a[4], PyKind::kBool, "requires_grad");
          expect_kind(a[5], PyKind::kDict, "backward_hooks");
          if (a.size() == 7 && value(a[6]).kind != PyKind::kNone &&
              !(value(a[6]).kind == PyKind::kDict && value(a[6]).items.empty()))
            fail(name, ": tensor metadata (", describe(a[6]), ") is not supported");
        }
        return add_tensor(view_of(a[0], a[1], a[2], a[3], name));
      }
      case TorchName::kRebuildParameter: {
        const std::vector<PyId> a = arguments(args, name, 3, 3);
        expect_kind(a[1], PyKind::kBool, "requires_grad");
        expect_kind(a[2], PyKind::kDict, "backward_hooks");
        return parameter_of(a[0], name);
      }
      case TorchName::kGetLayout: {
        const std::vector<PyId> a = arguments(args, name, 1, 1);
        const std::string layout = value(a[0]).kind == PyKind::kStr ? value(a[0]).s : std::string();
        for (const char* known : {"torch.strided", "torch.sparse_coo", "torch.sparse_csr", "torch.sparse_csc",
                                  "torch.sparse_bsr", "torch.sparse_bsc", "torch._mkldnn"}) {
          if (layout == known) {
            PyValue v;
            v.kind = PyKind::kOpaque;
            v.s = "the layout " + layout;
            return arena().add(std::move(v));
          }
        }
        fail(name, ": unknown layout ", describe(a[0]));
      }
      case TorchName::kRebuildSparse:
      case TorchName::kRebuildSparseCsr:
      case TorchName::kSparseTensorClass:
        fail("sparse tensors are not supported (", name, ")");
      case TorchName::kRebuildMeta:
        fail("meta tensors are not supported (", name, "): they hold no data");
      case TorchName::kTensorClass:
        fail("calling the legacy tensor constructor ", name, " is not supported (torch.save never writes it)");
      case TorchName::kStorageClass:
        fail("calling ", name, " is not supported (torch.save names storages by persistent ids)");
      case TorchName::kDtype:
        fail(name, " is not callable");
    }
    fail("REDUCE of ", name, " is not supported");
  }

  PyId on_newobj(PyId cls, PyId args) override {
    if (value(cls).kind != PyKind::kGlobal || static_cast<TorchName>(value(cls).i) != TorchName::kParameter)
      fail("NEWOBJ of ", describe(cls), " (torch's weights-only unpickler instantiates only torch.nn.Parameter)");
    return parameter(args);
  }

  void on_build(PyId inst, PyId state) override {
    const PyValue& target = value(inst);
    if (target.kind == PyKind::kDict && target.ordered) {
      // An OrderedDict's attributes (a state_dict's _metadata): not items.
      expect_kind(state, PyKind::kDict, "the state of an OrderedDict");
      return;
    }
    if (target.kind != PyKind::kTensor)
      fail("BUILD of ", describe(inst), " (only tensors, parameters and OrderedDicts can be built)");
    const PyValue& s = value(state);
    const std::size_t n = s.kind == PyKind::kTuple || s.kind == PyKind::kList ? s.items.size() : 0;
    const auto index = static_cast<std::size_t>(target.i);
    if (n == 4) {  // Tensor.set_(storage, storage_offset, size, stride): the legacy Tensor state
      const std::vector<PyId> a = s.items;
      PtTensor t = view_of(a[0], a[1], a[2], a[3], "BUILD");
      t.parameter = tensors[index].parameter;
      tensors[index] = std::move(t);
    } else if (tensors[index].parameter && n == 3) {
      // Parameter.__setstate__: (requires_grad, _, backward_hooks) change no data.
    } else if (tensors[index].parameter && n == 5) {  // the legacy Variable state: data first
      if (value(s.items[0]).kind != PyKind::kTensor) fail("BUILD of a parameter from ", describe(s.items[0]));
      tensors[index] = tensors[static_cast<std::size_t>(value(s.items[0]).i)];
      tensors[index].parameter = true;
    } else {
      fail("BUILD of a tensor from ", describe(state), " (expected (storage, storage_offset, size, stride))");
    }
  }

  PyId on_persistent_id(PyId pid) override {
    if (mode_ == PersistentIds::kNone) fail("a persistent id outside the object pickle");
    const PyValue& p = value(pid);
    if (p.kind != PyKind::kTuple || p.items.empty() || value(p.items[0]).kind != PyKind::kStr ||
        value(p.items[0]).s != "storage")
      fail("persistent id ", describe(pid), " is not a ('storage', ...) tuple, the only kind torch loads");
    const std::size_t n = mode_ == PersistentIds::kZip ? 5 : 6;
    if (p.items.size() != n)
      fail("a storage persistent id has ", p.items.size(), " items, expected ", n,
           n == 5 ? " ('storage', type, key, location, numel)" : " ('storage', type, key, location, numel, view)");
    const std::vector<PyId> items = p.items;
    if (value(items[1]).kind != PyKind::kGlobal ||
        static_cast<TorchName>(value(items[1]).i) != TorchName::kStorageClass)
      fail("a storage persistent id names ", describe(items[1]), " where a storage type belongs");
    const std::string type_name = value(items[1]).s;  // copies: adding values moves the arena
    const StorageType storage_type = storage_class_type(type_name);
    const std::string key = text(items[2], "a storage key");
    text(items[3], "a storage location");  // "cpu", "cuda:0", ...: every storage loads to the CPU
    const index_t numel = int_of(items[4], "a storage size");
    if (numel < 0) fail("storage ", quoted_bytes(key), " has a negative size (", numel, ")");
    if (saturating_mul(numel, storage_bytes(storage_type)) == std::numeric_limits<index_t>::max())
      fail("storage ", quoted_bytes(key), " of ", numel, " elements overflows int64 bytes");

    const PyId root = storage_value(roots_, key, storage_type, type_name, numel, -1, 0);
    if (mode_ == PersistentIds::kZip || value(items[5]).kind == PyKind::kNone) return root;
    // A legacy view: (view_key, offset, size) in elements of the root.
    const PyValue& view = value(items[5]);
    if (view.kind != PyKind::kTuple || view.items.size() != 3)
      fail("a storage view is ", describe(items[5]), ", expected (key, offset, size)");
    const std::vector<PyId> v = view.items;
    const std::string view_key = text(v[0], "a storage view key");
    const index_t offset = int_of(v[1], "a storage view offset"), size = int_of(v[2], "a storage view size");
    if (offset < 0 || size < 0 || offset > numel || size > numel - offset)
      fail("storage view ", quoted_bytes(view_key), " [", offset, ", +", size, ") lies outside its storage ",
           quoted_bytes(key), " of ", numel, " elements");
    return storage_value(views_, view_key, storage_type, type_name, size, value(root).i, offset);
  }

 private:
  const PyValue& value(PyId id) { return arena()[id]; }
  std::string describe(PyId id) { return arena().describe(id); }
  PyId int_value(std::int64_t i) {
    PyValue v;
    v.kind = PyKind::kInt;
    v.i = i;
    return arena().add(std::move(v));
  }
  PyId add_tensor(PtTensor t) {
    arena().charge(sizeof(PtTensor) + 2 * sizeof(index_t) * t.size.size());
    tensors.push_back(std::move(t));
    PyValue v;
    v.kind = PyKind::kTensor;
    v.i = static_cast<std::int64_t>(tensors.size() - 1);
    return arena().add(std::move(v));
  }

  /// The items of an argument tuple, which must have min..max of them.
  std::vector<PyId> arguments(PyId args, const std::string& func, std::size_t min, std::size_t max) {
    const PyValue& a = value(args);
    if (a.kind != PyKind::kTuple) fail(func, " is called with ", describe(args), " instead of an argument tuple");
    if (a.items.size() < min || a.items.size() > max)
      fail(func, " is called with ", a.items.size(), " arguments, expected ", min, min == max ? "" : concat("-", max));
    return a.items;
  }
  void expect_kind(PyId id, PyKind kind, const char* what) {
    if (value(id).kind != kind)
      fail("expected ", what, " to be a ", kind == PyKind::kBool ? "bool" : "dict", ", got ", describe(id));
  }
  std::int64_t int_of(PyId id, const char* what) {
    if (value(id).kind != PyKind::kInt) fail("expected ", what, " to be an int, got ", describe(id));
    return value(id).i;
  }
  const std::string& text(PyId id, const char* what) {
    if (value(id).kind != PyKind::kStr) fail("expected ", what, " to be a str, got ", describe(id));
    return value(id).s;
  }
  std::vector<index_t> int_list(PyId id, const char* what) {
    const PyValue& v = value(id);
    if (v.kind != PyKind::kTuple && v.kind != PyKind::kList)
      fail("expected ", what, " to be a tuple of ints, got ", describe(id));
    std::vector<index_t> out;
    for (PyId item : v.items) out.push_back(int_of(item, what));
    return out;
  }

  void fill_ordered_dict(PyId dict, PyId source) {
    const std::vector<PyId> items = value(source).items;
    if (value(source).kind == PyKind::kDict) {
      for (std::size_t k = 0; k < items.size(); k += 2)
        arena().dict_set(dict, items[k], items[k + 1], [this](const std::string& reason) { fail(reason); });
      return;
    }
    if (value(source).kind != PyKind::kList && value(source).kind != PyKind::kTuple)
      fail("collections.OrderedDict is called with ", describe(source));
    for (PyId pair : items) {
      const PyValue& p = value(pair);
      if ((p.kind != PyKind::kTuple && p.kind != PyKind::kList) || p.items.size() != 2)
        fail("collections.OrderedDict is given ", describe(pair), " where a (key, value) pair belongs");
      const PyId key = p.items[0], item = p.items[1];
      arena().dict_set(dict, key, item, [this](const std::string& reason) { fail(reason); });
    }
  }

  /// torch.nn.Parameter(), Parameter(data) or Parameter(data, requires_grad).
  PyId parameter(PyId args) {
    const std::vector<PyId> a = arguments(args, "torch.nn.parameter.Parameter", 0, 2);
    if (a.size() == 2) expect_kind(a[1], PyKind::kBool, "requires_grad");
    if (a.empty()) {
      PtTensor t;
      t.parameter = true;
      return add_tensor(std::move(t));
    }
    return parameter_of(a[0], "torch.nn.parameter.Parameter");
  }
  PyId parameter_of(PyId data, const std::string& func) {
    if (value(data).kind != PyKind::kTensor) fail(func, " is given ", describe(data), " instead of a tensor");
    PtTensor t = tensors[static_cast<std::size_t>(value(data).i)];
    t.parameter = true;
    return add_tensor(std::move(t));
  }

  /// Tensor.set_(storage, storage_offset, size, stride), checked as torch
  /// checks it: sizes and offset non-negative, as many strides as sizes, and
  /// every element inside the storage (negative strides are refused).
  PtTensor view_of(PyId storage, PyId offset, PyId size, PyId stride, const std::string& func) {
    if (value(storage).kind != PyKind::kStorage)
      fail(func, " is given ", describe(storage), " where a storage belongs");
    PtTensor t;
    t.storage = value(storage).i;
    t.offset = int_of(offset, "the storage offset");
    t.size = int_list(size, "the size");
    t.stride = int_list(stride, "the stride");
    const PtStorage& s = storages[static_cast<std::size_t>(t.storage)];
    const std::string shown =
        concat("a tensor of size ", Shape(t.size), ", stride ", Shape(t.stride), " and storage offset ", t.offset);
    if (t.size.size() != t.stride.size()) fail(shown, ": the size and the stride differ in length");
    if (t.offset < 0) fail(shown, ": negative storage offset");
    index_t numel = 1, last = t.offset;
    for (std::size_t d = 0; d < t.size.size(); ++d) {
      if (t.size[d] < 0) fail(shown, ": negative size");
      if (t.stride[d] < 0) fail(shown, ": negative strides are not supported");
      numel = saturating_mul(numel, t.size[d]);
    }
    if (numel == 0) return t;  // addresses nothing: torch checks no bounds
    if (numel == std::numeric_limits<index_t>::max()) fail(shown, ": the number of elements overflows int64");
    for (std::size_t d = 0; d < t.size.size(); ++d)
      last = saturating_add(last, saturating_mul(t.size[d] - 1, t.stride[d]));
    if (last >= s.numel)
      fail(shown, " needs ",
           last == std::numeric_limits<index_t>::max() ? std::string("more than 2^63") : concat(last + 1),
           " elements of its storage ", quoted_bytes(s.key), ", which holds ", s.numel,
           " (out of bounds for the storage)");
    return t;
  }

  /// The storage dtype of a storage class name, or an error naming what is not supported.
  StorageType storage_class_type(const std::string& name) {
    std::string base = name.substr(name.rfind('.') + 1);
    static const std::pair<const char*, StorageType> types[] = {
        {"DoubleStorage", StorageType::kFloat64}, {"FloatStorage", StorageType::kFloat32},
        {"HalfStorage", StorageType::kFloat16},   {"BFloat16Storage", StorageType::kBFloat16},
        {"LongStorage", StorageType::kInt64},     {"IntStorage", StorageType::kInt32},
        {"ShortStorage", StorageType::kInt16},    {"CharStorage", StorageType::kInt8},
        {"ByteStorage", StorageType::kUInt8},     {"BoolStorage", StorageType::kBool},
        {"UntypedStorage", StorageType::kUInt8}};
    for (const auto& [storage, type] : types) {
      if (base == storage) return type;
    }
    if (base.rfind("Complex", 0) == 0) fail("complex tensors are not supported (storage type ", name, ")");
    if (base.rfind("QInt", 0) == 0 || base.rfind("QUInt", 0) == 0)
      fail("quantized tensors are not supported (storage type ", name, ")");
    fail("a storage persistent id names ", name, ", which has no dtype");
  }

  /// The storage value for `key`: made on first use, and the same value
  /// (torch returns the same object) when the key comes again, which must
  /// then agree on the type and size.
  PyId storage_value(std::unordered_map<std::string, PyId>& known, const std::string& key, StorageType type,
                     const std::string& type_name, index_t numel, std::int64_t root, index_t root_offset) {
    const auto found = known.find(key);
    if (found != known.end()) {
      const PtStorage& s = storages[static_cast<std::size_t>(value(found->second).i)];
      if (s.type != type || s.numel != numel || s.root != root || s.root_offset != root_offset)
        fail("storage ", quoted_bytes(key), " is named twice with different types, sizes or offsets (", s.type_name,
             " of ", s.numel, " elements, then ", type_name, " of ", numel, ")");
      return found->second;
    }
    arena().charge(sizeof(PtStorage) + key.size() + type_name.size() + 64);
    storages.push_back(PtStorage{type, type_name, key, numel, root, root_offset, nullptr});
    PyValue v;
    v.kind = PyKind::kStorage;
    v.i = static_cast<std::int64_t>(storages.size() - 1);
    const PyId id = arena().add(std::move(v));
    known.emplace(key, id);
    return id;
  }

  PersistentIds mode_ = PersistentIds::kNone;
  std::unordered_map<std::string, PyId> roots_, views_;
};

}  // namespace detail
}  // namespace strata
