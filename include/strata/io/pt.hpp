#pragma once
/// \file
/// strata::io::load_pt: the files torch.save writes, read without Python or
/// libtorch. `torch.save(model.state_dict(), "model.pt")` in Python, then
/// `strata::io::load_pt<float>("model.pt")` in C++.
///
/// A .pt file is a pickle, and unpickling runs whatever code a file names;
/// load_pt does not. It accepts what torch 1.13's weights-only unpickler
/// (`torch.load(path, weights_only=True)`) accepts, plus float values (which
/// torch 2.x accepts: a learning rate, a loss history), and refuses the rest
/// by name: the pickle opcodes and globals of torch/_weights_only_unpickler.py
/// and nothing else (detail/pickle.hpp, detail/torch_pickle.hpp), the zip
/// format of torch >= 1.6 (detail/zip.hpp) and the legacy format before it
/// (detail/pt_format.hpp).

#include <map>
#include <string>
#include <type_traits>

#include "strata/core/tensor.hpp"
#include "strata/io/detail/file.hpp"
#include "strata/io/detail/pt_format.hpp"

namespace strata {
namespace io {

/// Loads the tensors of a file written by `torch.save(obj, path)`, converted
/// to T: obj a state_dict, a single tensor (key ""), or dicts, lists and
/// tuples nesting them beside plain values, as a checkpoint holds a model's
/// and an optimizer's state next to its epoch and learning rate. Tensors are
/// keyed by their dotted path ({"model": sd} gives "model.layer1.0.weight";
/// list indices and integer dict keys are written in decimal); plain values
/// (ints, floats, strings, None, bools, tuples of ints, dtypes, empty
/// containers) are skipped. Each tensor is a new contiguous Tensor<T> of its
/// size, whatever its strides, storage offset or shared storage in the file
/// (tied weights give two equal tensors).
///
/// Reads the zip format (torch >= 1.6, with zip64 beyond 4 GB; storages read
/// in place from the memory-mapped file, big-endian where its byteorder
/// record says so) and the legacy format (torch < 1.6, or
/// _use_new_zipfile_serialization=False); pickle protocols 2 and 3; storages
/// of float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8
/// and bool. Floats convert exactly, except float64 to float, which rounds to
/// nearest; integers convert when T holds them exactly; bools give 0 and 1.
/// Storages saved on a GPU (location "cuda:0") load to the CPU.
/// Returns name -> tensor, ready for Module::load_state_dict.
/// Example: `net.load_state_dict(strata::io::load_pt<float>("model.pt"));  // torch.save(model.state_dict(), ...)`
/// Throws strata::Error "load_pt: <path>: <reason>" for a file that cannot be
/// read or is not exactly what torch.save writes: any global, opcode, call
/// or persistent id outside the weights-only list (named in the message;
/// nothing from the file is run), pickle protocols 0, 1, 4 and 5,
/// TorchScript archives, complex, quantized, sparse and meta tensors, bare
/// storages, an integer T cannot hold exactly (naming the tensor and the
/// element), compressed or encrypted zip entries, truncated or inconsistent
/// archives, records that are missing, extra or shorter than their storage,
/// tensors reaching outside their storage, sizes that overflow, memo
/// references out of range, nesting deeper than 100 levels, and results
/// beyond STRATA_MAX_ALLOC_BYTES. Every check runs before the allocation it
/// guards.
template <typename T = float>
std::map<std::string, Tensor<T>> load_pt(const std::string& path) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "strata::io::load_pt<T>: T must be float or double");
  const detail::MappedFile file(path, "load_pt");
  return detail::load_pt_bytes<T>(file.data(), file.size(), path);
}

}  // namespace io
}  // namespace strata
