#pragma once
/// \file
/// A restricted pickle machine: the opcodes of torch 1.13's weights-only
/// unpickler (torch/_weights_only_unpickler.py), plus BINFLOAT, over the
/// Python values they build (pickle_values.hpp). The machine never looks a
/// name up or calls anything: GLOBAL, REDUCE, NEWOBJ, BUILD and BINPERSID are
/// handed to hooks (torch_pickle.hpp), which accept only torch's short list
/// of names. Protocols 2 and 3 only; any other opcode is refused by name.
///
/// Pickles are untrusted input: every length is checked against the bytes
/// left, strings must be valid UTF-8, memo lookups, stack pops and MARK
/// nesting are checked, and every defect is a strata::Error naming the file,
/// the record and the byte offset.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strata/io/detail/dtype.hpp"
#include "strata/io/detail/file.hpp"
#include "strata/io/detail/pickle_values.hpp"
#include "strata/io/detail/zip.hpp"

namespace strata {
namespace detail {

/// The name of a pickle opcode, for messages ("STACK_GLOBAL"), or null.
inline const char* pickle_opcode_name(unsigned char op) {
  // clang-format off
  static const std::pair<unsigned char, const char*> names[] = {
      {'(', "MARK"}, {'.', "STOP"}, {'0', "POP"}, {'1', "POP_MARK"}, {'2', "DUP"},
      {'F', "FLOAT"}, {'I', "INT"}, {'J', "BININT"}, {'K', "BININT1"}, {'L', "LONG"},
      {'M', "BININT2"}, {'N', "NONE"}, {'P', "PERSID"}, {'Q', "BINPERSID"}, {'R', "REDUCE"},
      {'S', "STRING"}, {'T', "BINSTRING"}, {'U', "SHORT_BINSTRING"}, {'V', "UNICODE"}, {'X', "BINUNICODE"},
      {'a', "APPEND"}, {'b', "BUILD"}, {'c', "GLOBAL"}, {'d', "DICT"}, {'}', "EMPTY_DICT"},
      {'e', "APPENDS"}, {'g', "GET"}, {'h', "BINGET"}, {'i', "INST"}, {'j', "LONG_BINGET"},
      {'l', "LIST"}, {']', "EMPTY_LIST"}, {'o', "OBJ"}, {'p', "PUT"}, {'q', "BINPUT"},
      {'r', "LONG_BINPUT"}, {'s', "SETITEM"}, {'t', "TUPLE"}, {')', "EMPTY_TUPLE"}, {'u', "SETITEMS"},
      {'G', "BINFLOAT"}, {0x80, "PROTO"}, {0x81, "NEWOBJ"}, {0x82, "EXT1"}, {0x83, "EXT2"},
      {0x84, "EXT4"}, {0x85, "TUPLE1"}, {0x86, "TUPLE2"}, {0x87, "TUPLE3"}, {0x88, "NEWTRUE"},
      {0x89, "NEWFALSE"}, {0x8a, "LONG1"}, {0x8b, "LONG4"}, {'B', "BINBYTES"}, {'C', "SHORT_BINBYTES"},
      {0x8c, "SHORT_BINUNICODE"}, {0x8d, "BINUNICODE8"}, {0x8e, "BINBYTES8"}, {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"},
      {0x91, "FROZENSET"}, {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"}, {0x94, "MEMOIZE"}, {0x95, "FRAME"},
      {0x96, "BYTEARRAY8"}, {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"}};
  // clang-format on
  for (const auto& [code, name] : names) {
    if (code == op) return name;
  }
  return nullptr;
}

/// Whether [p, p + n) is well-formed UTF-8. `surrogates` admits the encoded
/// UTF-16 surrogates that Python's "surrogatepass" decoding (BINUNICODE)
/// accepts; strict UTF-8 (SHORT_BINSTRING, decoded as "utf-8") refuses them.
inline bool valid_utf8(const unsigned char* p, std::uint64_t n, bool surrogates) {
  for (std::uint64_t i = 0; i < n;) {
    const unsigned c = p[i];
    std::uint64_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n - i) return false;
    std::uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (std::uint64_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    const std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[len] || cp > 0x10ffff || (!surrogates && cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

/// The pickle machine. A subclass supplies what GLOBAL, REDUCE, NEWOBJ,
/// BUILD and BINPERSID mean (and refuses what they must not do).
class Unpickler {
 public:
  Unpickler(const char* who, const std::string& path) : who_(who), path_(path), arena_(who, path) {}
  virtual ~Unpickler() = default;
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  PickleArena& arena() { return arena_; }

  /// Runs the pickle in [data, data + size) named `record` ("data.pkl") to
  /// its STOP. Returns the value and the offset just past STOP.
  std::pair<PyId, std::uint64_t> run(const unsigned char* data, std::uint64_t size, const std::string& record) {
    data_ = data;
    size_ = size;
    record_ = record;
    stack_.clear();
    marks_.clear();
    memo_.clear();
    pos_ = 0;
    op_at_ = 0;
    if (size == 0 || data[0] != 0x80)
      fail(size == 0 ? "the pickle is empty"
                     : "the pickle does not start with PROTO: pickle protocol 0 or 1, which load_pt does not read "
                       "(torch.save writes protocol 2; load_pt reads protocols 2 and 3)");
    while (true) {
      op_at_ = pos_;
      const unsigned char op = byte();
      switch (op) {
        case 0x80: {  // PROTO
          const unsigned version = byte();
          if (version != 2 && version != 3)
            fail("pickle protocol ", version,
                 ", which load_pt does not read (torch.save writes protocol 2; load_pt reads protocols 2 and 3)");
          break;
        }
        case '.': {  // STOP
          const PyId result = pop();
          if (stack_.size() != 0 || !marks_.empty())
            fail("the pickle leaves ", stack_.size(), " values and ", marks_.size(), " marks behind at STOP");
          return {result, pos_};
        }
        case '(':  // MARK
          if (marks_.size() >= static_cast<std::size_t>(kPickleMaxDepth))
            fail("MARKs nest deeper than ", kPickleMaxDepth, " levels");
          marks_.push_back(stack_.size());
          break;
        case 'N':
          push(PyValue{});
          break;
        case 0x88:  // NEWTRUE
        case 0x89:  // NEWFALSE
          push(scalar(PyKind::kBool, op == 0x88));
          break;
        case 'J':
          push(scalar(PyKind::kInt, static_cast<std::int32_t>(load_uint<std::uint32_t, false>(take(4)))));
          break;
        case 'K':
          push(scalar(PyKind::kInt, byte()));
          break;
        case 'M':
          push(scalar(PyKind::kInt, load_uint<std::uint16_t, false>(take(2))));
          break;
        case 0x8a:  // LONG1
          push(long1());
          break;
        case 'G': {  // BINFLOAT: 8 bytes, big-endian
          PyValue v;
          v.kind = PyKind::kFloat;
          v.f = bit_cast<double>(load_uint<std::uint64_t, true>(take(8)));
          push(std::move(v));
          break;
        }
        case 'X':    // BINUNICODE
        case 'U': {  // SHORT_BINSTRING (Python 2's str), decoded as UTF-8 as torch.load does
          const std::uint64_t n = op == 'X' ? load_uint<std::uint32_t, false>(take(4)) : byte();
          if (n > size_ - pos_)
            fail("a string of ", n, " bytes runs past the end of the pickle (", size_ - pos_, " bytes left)");
          const unsigned char* text = take(n);
          if (!valid_utf8(text, n, op == 'X')) fail("a string is not valid UTF-8");
          PyValue v;
          v.kind = PyKind::kStr;
          v.s.assign(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n));
          push(std::move(v));
          break;
        }
        case ')':
        case ']':
        case '}':
        case 0x8f: {  // EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT, EMPTY_SET
          PyValue v;
          v.kind = op == ')' ? PyKind::kTuple : op == ']' ? PyKind::kList : op == '}' ? PyKind::kDict : PyKind::kSet;
          push(std::move(v));
          break;
        }
        case 't': {  // TUPLE
          PyValue v;
          v.kind = PyKind::kTuple;
          v.items = pop_mark();
          push(std::move(v));
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
          const std::size_t n = op - 0x84u;
          if (stack_.size() < floor() + n) fail("TUPLE", n, " needs ", n, " values on the stack");
          PyValue v;
          v.kind = PyKind::kTuple;
          v.items.assign(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(std::move(v));
          break;
        }
        case 'a': {  // APPEND
          const PyId item = pop();
          arena_.push_item(list_on_top("APPEND"), item);
          break;
        }
        case 'e': {  // APPENDS
          const std::vector<PyId> items = pop_mark();
          const PyId list = list_on_top("APPENDS");
          for (PyId item : items) arena_.push_item(list, item);
          break;
        }
        case 's': {  // SETITEM
          const PyId value = pop(), key = pop();
          arena_.dict_set(dict_on_top("SETITEM"), key, value, [this](const std::string& reason) { fail(reason); });
          break;
        }
        case 'u': {  // SETITEMS
          const std::vector<PyId> items = pop_mark();
          const PyId dict = dict_on_top("SETITEMS");
          if (items.size() % 2 != 0) fail("SETITEMS with an odd number of values (", items.size(), ")");
          for (std::size_t k = 0; k < items.size(); k += 2)
            arena_.dict_set(dict, items[k], items[k + 1], [this](const std::string& reason) { fail(reason); });
          break;
        }
        case 'h':
        case 'j': {  // BINGET, LONG_BINGET
          const std::uint32_t key = op == 'h' ? byte() : load_uint<std::uint32_t, false>(take(4));
          const auto found = memo_.find(key);
          if (found == memo_.end()) fail("memo entry ", key, " is read before it is written");
          push_id(found->second);
          break;
        }
        case 'q':
        case 'r': {  // BINPUT, LONG_BINPUT
          const std::uint32_t key = op == 'q' ? byte() : load_uint<std::uint32_t, false>(take(4));
          if (stack_.size() <= floor()) fail("BINPUT with an empty stack");
          arena_.charge(48);
          memo_[key] = stack_.back();
          break;
        }
        case 'c': {  // GLOBAL: "module\nname\n"
          const std::string module = line(), name = line();
          push_id(on_global(module, name));
          break;
        }
        case 'R': {  // REDUCE
          const PyId args = pop();
          const PyId func = top();
          stack_.back() = on_reduce(func, args);
          break;
        }
        case 0x81: {  // NEWOBJ
          const PyId args = pop();
          const PyId cls = pop();
          push_id(on_newobj(cls, args));
          break;
        }
        case 'b': {  // BUILD
          const PyId state = pop();
          on_build(top(), state);
          break;
        }
        case 'Q': {  // BINPERSID
          const PyId pid = pop();
          push_id(on_persistent_id(pid));
          break;
        }
        default: {
          const char* name = pickle_opcode_name(op);
          fail("unsupported pickle opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
               name ? concat(" (", name, ")") : std::string(),
               ", which torch's weights-only unpickler refuses (nothing from the file is run)");
        }
      }
    }
  }

  /// Throws "who: path: <reason> (at byte N of <record>)" for the current opcode.
  template <typename... Args>
  [[noreturn]] void fail(Args&&... reason) const {
    file_error(who_, path_, std::forward<Args>(reason)..., " (at byte ", op_at_, " of ", record_, ")");
  }

 protected:
  virtual PyId on_global(const std::string& module, const std::string& name) = 0;
  virtual PyId on_reduce(PyId func, PyId args) = 0;
  virtual PyId on_newobj(PyId cls, PyId args) = 0;
  virtual void on_build(PyId inst, PyId state) = 0;
  virtual PyId on_persistent_id(PyId pid) = 0;

  const char* who_;
  const std::string& path_;

 private:
  static PyValue scalar(PyKind kind, std::int64_t i) {
    PyValue v;
    v.kind = kind;
    v.i = i;
    return v;
  }
  const unsigned char* take(std::uint64_t n) {
    if (n > size_ - pos_)
      fail(record_, " ends inside an opcode (truncated?): ", n, " bytes needed, ", size_ - pos_, " left");
    const unsigned char* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  unsigned char byte() {
    if (pos_ == size_) fail(record_, " ends without STOP (truncated?)");
    return data_[pos_++];
  }
  std::string line() {
    std::uint64_t end = pos_;
    while (end < size_ && data_[end] != '\n' && end - pos_ < 1000) ++end;
    if (end == size_ || data_[end] != '\n') fail("a GLOBAL name is unterminated or longer than 1000 bytes");
    if (!valid_utf8(data_ + pos_, end - pos_, false)) fail("a GLOBAL name is not valid UTF-8");
    std::string text(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(end - pos_));
    pos_ = end + 1;
    return text;
  }
  PyValue long1() {
    const unsigned n = byte();
    const unsigned char* p = take(n);
    // Little-endian two's complement; it fits int64 when every byte past the
    // eighth repeats the sign of the eighth.
    const bool negative = n > 0 && (p[n - 1] & 0x80);
    bool fits = true;
    for (unsigned k = 8; k < n; ++k) fits = fits && p[k] == (negative ? 0xff : 0x00);
    if (n > 8 && fits) fits = ((p[7] & 0x80) != 0) == negative;
    if (fits) {
      std::uint64_t bits = negative ? ~std::uint64_t{0} : 0;
      for (unsigned k = 0; k < n && k < 8; ++k) {
        bits &= ~(std::uint64_t{0xff} << (8 * k));
        bits |= std::uint64_t{p[k]} << (8 * k);
      }
      return scalar(PyKind::kInt, static_cast<std::int64_t>(bits));
    }
    // Beyond int64: kept as its shortest byte string, so equal values compare equal.
    unsigned len = n;
    while (len > 1 && p[len - 1] == (negative ? 0xff : 0x00) && ((p[len - 2] & 0x80) != 0) == negative) --len;
    PyValue v;
    v.kind = PyKind::kBigInt;
    v.s.assign(reinterpret_cast<const char*>(p), len);
    return v;
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(PyValue value) { push_id(arena_.add(std::move(value))); }
  void push_id(PyId id) {
    arena_.charge(sizeof(PyId));
    stack_.push_back(id);
  }
  PyId pop() {
    if (stack_.size() <= floor()) fail("the pickle pops from an empty stack");
    const PyId id = stack_.back();
    stack_.pop_back();
    return id;
  }
  PyId top() const {
    if (stack_.size() <= floor()) fail("the pickle reads from an empty stack");
    return stack_.back();
  }
  std::vector<PyId> pop_mark() {
    if (marks_.empty()) fail("an opcode needs a MARK, and there is none");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<PyId> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  PyId list_on_top(const char* op) const {
    const PyId id = top();
    if (arena_[id].kind != PyKind::kList) fail(op, " on ", arena_.describe(id), " (only lists can be appended to)");
    return id;
  }
  PyId dict_on_top(const char* op) const {
    const PyId id = top();
    if (arena_[id].kind != PyKind::kDict) fail(op, " on ", arena_.describe(id), " (only dicts are filled by ", op, ")");
    return id;
  }

  PickleArena arena_;
  const unsigned char* data_ = nullptr;
  std::uint64_t size_ = 0, pos_ = 0, op_at_ = 0;
  std::string record_;
  std::vector<PyId> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, PyId> memo_;
};

}  // namespace detail
}  // namespace strata
