#!/usr/bin/python3
"""Generate the torch.save fixtures for strata::io::load_pt's tests (tests/io/pt*_test.cpp).

Usage (from the repository root; /usr/bin/python3 is the interpreter that
Debian's python3-torch 1.13 is installed for):

    /usr/bin/python3 tests/reference/generate_pt_fixtures.py [--outdir DIR] [--seeds DIR]

Writes into tests/data/pt/ (or DIR):

- Valid files, each written by torch.save itself unless noted, and a twin
  "<name>.twin.safetensors" holding, for each key load_pt must return,
  "f32/<key>" (torch's t.float(), contiguous) and, for float64 tensors,
  "f64/<key>" (t.double(); every other dtype widens exactly from float32):
  the tests compare load_pt<float> and load_pt<double> with them bit for
  bit, so every conversion is checked against torch's own.
    dtypes.pt, dtypes_legacy.pt      one tensor per dtype: float16, bfloat16,
                                     float32, float64 (specials included),
                                     int64, int32, int16, int8, uint8, bool
    layouts.pt, layouts_legacy.pt,   non-contiguous (t.t(), permuted,
    layouts_p3.pt                    channels_last, strided slices), storages
                                     shared by slices and tied weights, views
                                     inside larger storages, stride 0, 0-d,
                                     empty tensors, a Parameter; _p3 is pickle
                                     protocol 3
    nested.pt, nested_legacy.pt      a checkpoint: state_dict, optimizer state,
                                     lists, tuples, int keys, plain values
    tensor.pt                        torch.save(one tensor): key ""
    cuda.pt                          storage locations "cuda:0" (torch.save
                                     with location_tag patched: no GPU needed)
    cuda_legacy_global.pt            the torch.cuda.FloatStorage names older
                                     torch wrote for GPU storages (re-zipped)
    big_endian.pt                    torch 2.x's layout from a big-endian
                                     host: a "big" byteorder record and
                                     byte-swapped storages (zipped here)
    torch2_layout.pt                 a "little" byteorder record and the other
                                     records torch 2.x adds, folder "archive"
- cnn.pt (a state_dict), cnn_checkpoint_legacy.pt (epoch, model, Adam state,
  lr, losses; legacy format), cnn_inputs.npy, cnn_logits.npy (PyTorch's
  float32 output) and cnn_logits_f64.npy (the same weights run in float64):
  the network of tests/reference/train_cnn.py, randomly initialised.
- hostile/: files that load_pt must refuse, hand-built: pickles that call
  os.system, builtins.eval and the like (directly, through __reduce__ and
  through protocol 0/4 opcodes), every malformed pickle, archive and legacy
  layout the tests name, and torch's own files of the kinds strata does not
  load (complex, quantized, sparse, meta tensors, TorchScript). INDEX.txt
  lists "<file>\t<both|float>\t<message substring>": the error both
  load_pt<float> and load_pt<double> must raise, or ("float") one that only
  float raises while double loads.

And into tests/fuzz/pt_corpus/ (or --seeds DIR): seeds for tests/fuzz/pt_fuzz.cpp
in its 'Z' and 'L' modes (see tests/fuzz/pt_fuzz_case.hpp).

The output is deterministic: running the script twice gives identical files.
(The legacy format names storages by memory address; the script renames
them "0", "1", ... in the pickles.)
"""

import argparse
import collections
import io
import json
import os
import pickle
import pickletools
import re
import struct
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.normpath(os.path.join(HERE, "..", "data", "pt"))
DEFAULT_SEEDS = os.path.normpath(os.path.join(HERE, "..", "fuzz", "pt_corpus"))

SPECIALS = [1.0, -2.0, 0.1, -0.0, 0.0, 65504.0, 2.0 ** -24, 2.0 ** -14, 3.0e38, 2.0 ** -133,
            float("inf"), float("-inf"), float("nan"), 1.0 / 3.0, -1234.5678, 1e-8]

# ---------------------------------------------------------------------------
# safetensors twins (the container is simple; the package is not in Debian)

ST_NAMES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
            torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
            torch.bool: "BOOL"}


def raw_bytes(t, byteorder="<"):
    t = t.contiguous()
    if t.dtype in (torch.float16, torch.bfloat16):
        return t.view(torch.int16).numpy().astype(byteorder + "i2").tobytes()
    a = t.numpy()
    return a.astype(a.dtype.newbyteorder(byteorder)).tobytes()


def safetensors_bytes(tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        raw = raw_bytes(t)
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def flatten(obj, prefix=""):
    """The (key, tensor) pairs load_pt returns for obj, in the same walk."""
    join = (lambda k: prefix + "." + k) if prefix else (lambda k: k)
    if isinstance(obj, torch.Tensor):
        return [(prefix, obj)]
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += flatten(v, join(str(k)))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out += flatten(v, join(str(i)))
    return out


def write_twin(path, obj):
    pairs = []
    for key, t in flatten(obj):
        t = t.detach()
        if t.dtype == torch.float64:  # otherwise the float32 value widens exactly to it
            pairs.append(("f64/" + key, t.double().contiguous()))
        pairs.append(("f32/" + key, t.float().contiguous()))
    with open(path, "wb") as f:
        f.write(safetensors_bytes(pairs))

# ---------------------------------------------------------------------------
# writing torch.save files


def save_zip(obj, path, **kw):
    torch.save(obj, path, **kw)


def pickle_ends(data):
    """Offsets just past each STOP of the consecutive pickles at the start of data."""
    f, ends = io.BytesIO(data), []
    for _ in range(5):
        for opcode, arg, pos in pickletools.genops(f):
            if opcode.name == "STOP":
                ends.append(pos + 1)
                break
    return ends


def save_legacy(obj, path, **kw):
    """torch.save(..., _use_new_zipfile_serialization=False), with the storages renamed "0", "1", ... in the
    order the object pickle first names them (torch names them by memory address), listed and stored in
    torch's order (sorted keys)."""
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False, **kw)
    data = buf.getvalue()
    ends = pickle_ends(data)
    keys = pickle.loads(data[ends[3]:ends[4]])
    order, width = [], {}

    class Spy(pickle.Unpickler):
        def persistent_load(self, pid):
            _, storage_type, key, _, numel, _ = pid
            if key not in width:
                order.append(key)
                width[key] = torch._utils._element_size(storage_type.dtype)
            return torch.storage.TypedStorage(numel, dtype=storage_type.dtype)
    Spy(io.BytesIO(data[ends[2]:ends[3]])).load()
    blobs, pos = {}, ends[4]
    for key in keys:
        count = struct.unpack_from("<q", data, pos)[0]
        blobs[key] = data[pos:pos + 8 + count * width[key]]
        pos += 8 + count * width[key]
    assert pos == len(data)
    renamed = {key: str(i) for i, key in enumerate(order)}
    head = data[:ends[3]]
    for old, new in renamed.items():
        old, new = old.encode(), new.encode()
        head = head.replace(b"X" + struct.pack("<I", len(old)) + old, b"X" + struct.pack("<I", len(new)) + new)
    new_keys = sorted(renamed.values())
    by_new = {renamed[k]: blobs[k] for k in keys}
    with open(path, "wb") as f:
        f.write(head + pickle.dumps(new_keys, protocol=2) + b"".join(by_new[k] for k in new_keys))
    check = torch.load(path)  # still what torch reads, and the same tensors
    assert all(raw_bytes(a.detach()) == raw_bytes(b.detach()) and a.stride() == b.stride()
               for (_, a), (_, b) in zip(flatten(check), flatten(obj)))


def zip_bytes(records, folder="archive", order=None):
    """A stored zip archive of (name, bytes) under folder/, as Python's zipfile writes it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in records:
            info = zipfile.ZipInfo((folder + "/" if folder else "") + name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


def records_of(path):
    """(name under the folder, bytes) of every record of a torch.save zip file, and the folder."""
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        folder = names[0].split("/")[0]
        return [(n[len(folder) + 1:], z.read(n)) for n in names], folder

# ---------------------------------------------------------------------------
# the valid kinds


def dtype_tensors():
    g = torch.Generator().manual_seed(1)
    values = torch.tensor(SPECIALS, dtype=torch.float64).reshape(2, 8)
    out = collections.OrderedDict()
    for name, dtype in [("f16", torch.float16), ("bf16", torch.bfloat16), ("f32", torch.float32),
                        ("f64", torch.float64)]:
        out[name] = values.to(dtype)
    out["f64_rounding"] = torch.randn(3, 5, dtype=torch.float64, generator=g) * 1e3  # float() must round each
    out["i64"] = torch.tensor([0, -1, 2 ** 24, -(2 ** 24), 123456784, 7], dtype=torch.int64)
    out["i32"] = torch.tensor([[0, -1, 2 ** 24], [-(2 ** 24), 65535, -7]], dtype=torch.int32)
    out["i16"] = torch.tensor([-32768, 32767, 0, 5], dtype=torch.int16)
    out["i8"] = torch.tensor([-128, 127, 0, -5], dtype=torch.int8)
    out["u8"] = torch.tensor([0, 255, 128, 1], dtype=torch.uint8)
    out["bool"] = torch.tensor([True, False, True, True, False])
    out["num_batches_tracked"] = torch.tensor(42, dtype=torch.int64)  # BatchNorm's 0-d int64 buffer
    return out


def layout_tensors():
    g = torch.Generator().manual_seed(2)
    base = torch.randn(10, generator=g)
    tied = torch.randn(4, 3, generator=g)
    wide = torch.randn(4, 5, generator=g)
    out = collections.OrderedDict()
    out["transposed"] = torch.randn(3, 4, generator=g).t()
    out["permuted"] = torch.randn(2, 3, 4, generator=g).permute(2, 0, 1)
    out["channels_last"] = torch.randn(2, 3, 4, 5, generator=g).to(memory_format=torch.channels_last)
    out["slice_a"] = base[2:5]
    out["slice_b"] = base[1::3]
    out["whole"] = base
    out["embedding.weight"] = tied  # tied weights: one tensor under two keys
    out["head.weight"] = tied
    out["view_in_larger"] = wide[1:3, 1:4]
    out["expanded"] = torch.tensor([1.5]).expand(3, 4)
    out["scalar"] = torch.tensor(2.5)
    out["empty"] = torch.zeros(0, 3)
    out["empty_offset"] = base[10:]
    out["transposed_f16"] = torch.randn(3, 4, generator=g).half().t()
    out["int_columns"] = torch.arange(20).view(4, 5)[:, 1::2]
    out["bool_transposed"] = (torch.randn(2, 3, generator=g) > 0).t()
    out["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    return out


def checkpoint_of(model_sd, g):
    state = collections.OrderedDict()
    state["step"] = torch.tensor(3.0)
    state["exp_avg"] = torch.randn(2, generator=g)
    return {
        "epoch": 7, "lr": 0.001, "name": "run-1", "betas": (0.9, 0.999), "flags": (1, 2), "none": None,
        "done": True, "empty_dict": {}, "empty_list": [], "empty_tuple": (), "big": 2 ** 70, "neg": -5,
        "model": model_sd,
        "layers": [torch.randn(2, generator=g), {"inner": torch.randn(3, generator=g)},
                   (torch.randn(1, generator=g), torch.ones(2, dtype=torch.int32))],
        "by_index": {0: torch.randn(2, generator=g), 7: torch.randn(1, generator=g), -1: torch.zeros(1)},
        "optimizer": {"state": {0: state}, "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "params": [0, 1]}]},
        "losses": [0.5, 0.25, 0.125], "size": torch.Size([2, 3]), "dtype": torch.float32, "layout": torch.strided,
    }


class SmallCnn(torch.nn.Sequential):
    def __init__(self):
        super().__init__(torch.nn.Conv1d(1, 8, 5), torch.nn.ReLU(), torch.nn.Conv1d(8, 16, 3, stride=2, padding=1),
                         torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(16 * 14, 4))


def write_valid(outdir, seeds):
    def twin_and_seed(name, obj, path):
        write_twin(os.path.join(outdir, name + ".twin.safetensors"), obj)
        if path.endswith(".pt") and zipfile.is_zipfile(path):
            add_zip_seed(seeds, name, path)

    def both(name, obj, legacy=True, **kw):
        path = os.path.join(outdir, name + ".pt")
        save_zip(obj, path, **kw)
        twin_and_seed(name, obj, path)
        if legacy:
            save_legacy(obj, os.path.join(outdir, name + "_legacy.pt"), **kw)
            add_legacy_seed(seeds, name, os.path.join(outdir, name + "_legacy.pt"))

    both("dtypes", dtype_tensors())
    layouts = layout_tensors()
    both("layouts", layouts)
    save_zip(layouts, os.path.join(outdir, "layouts_p3.pt"), pickle_protocol=3)
    g = torch.Generator().manual_seed(3)
    sd = collections.OrderedDict([("0.weight", torch.randn(3, 2, generator=g)), ("0.bias", torch.randn(3, generator=g))])
    both("nested", checkpoint_of(sd, g))
    save_zip(torch.arange(6, dtype=torch.float32).view(2, 3), os.path.join(outdir, "tensor.pt"))
    write_twin(os.path.join(outdir, "tensor.twin.safetensors"), torch.arange(6, dtype=torch.float32).view(2, 3))

    # GPU locations without a GPU: torch.save asks location_tag for each storage.
    cuda_obj = collections.OrderedDict([("w", torch.randn(2, 3, generator=g)), ("b", torch.randn(3, generator=g))])
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        save_zip(cuda_obj, os.path.join(outdir, "cuda.pt"))
    finally:
        torch.serialization.location_tag = original
    write_twin(os.path.join(outdir, "cuda.twin.safetensors"), cuda_obj)
    records, folder = records_of(os.path.join(outdir, "cuda.pt"))
    records = [(n, d.replace(b"ctorch\nFloatStorage\n", b"ctorch.cuda\nFloatStorage\n") if n == "data.pkl" else d)
               for n, d in records]
    with open(os.path.join(outdir, "cuda_legacy_global.pt"), "wb") as f:
        f.write(zip_bytes(records, "cuda_legacy_global"))
    write_twin(os.path.join(outdir, "cuda_legacy_global.twin.safetensors"), cuda_obj)

    # torch 2.x's records; big-endian storages where the byteorder record says so.
    endian_obj = collections.OrderedDict([("f16", torch.randn(3, generator=g).half()),
                                          ("f32", torch.randn(2, 3, generator=g).t()),
                                          ("f64", torch.randn(4, dtype=torch.float64, generator=g)),
                                          ("bf16", torch.randn(3, generator=g).bfloat16()),
                                          ("i64", torch.tensor([1, -2, 3])), ("i32", torch.tensor([5, -6], dtype=torch.int32)),
                                          ("i16", torch.tensor([-7, 8], dtype=torch.int16)),
                                          ("u8", torch.tensor([9, 250], dtype=torch.uint8))])
    buf = io.BytesIO()
    torch.save(endian_obj, buf)
    records, _ = records_of(buf)
    pkl = dict(records)["data.pkl"]
    storages = {}  # key -> dtype, from the pickle's persistent ids

    class Spy(pickle.Unpickler):
        def persistent_load(self, pid):
            storages[pid[2]] = pid[1].dtype
            return torch.storage.TypedStorage(pid[4], dtype=pid[1].dtype)
    Spy(io.BytesIO(pkl)).load()
    width = {torch.float16: 2, torch.bfloat16: 2, torch.float32: 4, torch.float64: 8, torch.int64: 8, torch.int32: 4,
             torch.int16: 2, torch.uint8: 1}

    def swapped(name, data):
        key = name[len("data/"):]
        w = width[storages[key]]
        return b"".join(data[i:i + w][::-1] for i in range(0, len(data), w))
    big = [("data.pkl", pkl), ("byteorder", b"big")]
    big += [(n, swapped(n, d)) for n, d in records if n.startswith("data/")]
    big += [("version", b"3\n")]
    with open(os.path.join(outdir, "big_endian.pt"), "wb") as f:
        f.write(zip_bytes(big, "big_endian"))
    write_twin(os.path.join(outdir, "big_endian.twin.safetensors"), endian_obj)
    little = [("data.pkl", pkl), (".format_version", b"1"), (".storage_alignment", b"64"), ("byteorder", b"little")]
    little += [(n, d) for n, d in records if n.startswith("data/")]
    little += [("version", b"3\n"), (".data/serialization_id", b"1234567890")]
    with open(os.path.join(outdir, "torch2_layout.pt"), "wb") as f:
        f.write(zip_bytes(little, "archive"))
    write_twin(os.path.join(outdir, "torch2_layout.twin.safetensors"), endian_obj)
    for name in ["big_endian", "torch2_layout"]:
        loaded = torch.load(os.path.join(outdir, name + ".pt")) if name != "big_endian" else None
        if loaded is not None:
            assert all(torch.equal(loaded[k], endian_obj[k]) for k in endian_obj)
    for name in ["cuda_legacy_global", "layouts_p3", "tensor"]:
        torch.load(os.path.join(outdir, name + ".pt"), map_location="cpu", weights_only=True)


def write_cnn(outdir, seeds):
    torch.manual_seed(0)
    model = SmallCnn().eval()
    g = torch.Generator().manual_seed(4)
    inputs = torch.randn(16, 1, 32, generator=g)
    with torch.no_grad():
        logits = model(inputs)
        logits_f64 = SmallCnn().double().eval()
        logits_f64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        logits_f64 = logits_f64(inputs.double())
    torch.save(model.state_dict(), os.path.join(outdir, "cnn.pt"))
    add_zip_seed(seeds, "cnn", os.path.join(outdir, "cnn.pt"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(inputs).sum().backward()
    opt.step()
    checkpoint = {"epoch": 1, "model": model.state_dict(), "optimizer": opt.state_dict(), "lr": 1e-3,
                  "losses": [1.5, 1.25]}
    save_legacy(checkpoint, os.path.join(outdir, "cnn_checkpoint_legacy.pt"))
    write_twin(os.path.join(outdir, "cnn_checkpoint_legacy.twin.safetensors"), checkpoint)
    np.save(os.path.join(outdir, "cnn_inputs.npy"), inputs.numpy())
    np.save(os.path.join(outdir, "cnn_logits.npy"), logits.numpy())
    np.save(os.path.join(outdir, "cnn_logits_f64.npy"), logits_f64.numpy())

# ---------------------------------------------------------------------------
# fuzz seeds (the byte layouts of tests/fuzz/pt_fuzz_case.hpp)


def u16_record(data):
    return struct.pack("<H", len(data)) + data


def add_zip_seed(seeds, name, path):
    records, _ = records_of(path)
    d = dict(records)
    storages = sorted((n for n in d if n.startswith("data/")), key=lambda n: int(n[5:]))
    if any(len(d[n]) > 4096 for n in storages) or len(d["data.pkl"]) > 8192:
        return
    if [int(n[5:]) for n in storages] != list(range(len(storages))):
        return
    seed = b"Z\x00" + u16_record(d["data.pkl"]) + b"".join(u16_record(d[n]) for n in storages)
    with open(os.path.join(seeds, "seed_zip_" + name), "wb") as f:
        f.write(seed)


def add_legacy_seed(seeds, name, path):
    data = open(path, "rb").read()
    ends = pickle_ends(data)
    if len(data) > 8192:
        return
    seed = b"L\x00" + u16_record(data[ends[2]:ends[3]]) + u16_record(data[ends[3]:ends[4]]) + data[ends[4]:]
    with open(os.path.join(seeds, "seed_legacy_" + name), "wb") as f:
        f.write(seed)

# ---------------------------------------------------------------------------
# hand-built pickles


def P(*parts):
    return b"\x80\x02" + b"".join(parts) + b"."


def s_(text):
    b = text.encode("utf-8") if isinstance(text, str) else text
    return b"X" + struct.pack("<I", len(b)) + b


def i_(v):
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if -2 ** 31 <= v < 2 ** 31:
        return b"J" + struct.pack("<i", v)
    n = (v.bit_length() + 8) // 8
    return b"\x8a" + bytes([n]) + v.to_bytes(n, "little", signed=True)


def g_(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def tup(*items):
    return b"(" + b"".join(items) + b"t"


def hooks():
    return g_("collections", "OrderedDict") + b")R"


def pid(key="0", numel=4, storage="FloatStorage", module="torch", location="cpu"):
    return tup(s_("storage"), g_(module, storage), s_(key), s_(location), i_(numel)) + b"Q"


def rebuild(storage_pid, offset=0, size=(4,), stride=(1,), extra=b""):
    return (g_("torch._utils", "_rebuild_tensor_v2") +
            tup(storage_pid, i_(offset), tup(*map(i_, size)), tup(*map(i_, stride)), b"\x89", hooks(), extra) + b"R")


def sd(*pairs):
    """The pickle of an OrderedDict of (key op, value op) pairs."""
    return P(hooks() + b"(" + b"".join(k + v for k, v in pairs) + b"u")


def archive(pkl, storages=None, folder="archive", extra=(), version=b"3\n"):
    records = [("data.pkl", pkl)]
    records += [("data/" + k, v) for k, v in (storages or {}).items()]
    if version is not None:
        records.append(("version", version))
    records += list(extra)
    return zip_bytes(records, folder)


F4 = struct.pack("<4f", 1, 2, 3, 4)
ONE = sd((s_("w"), rebuild(pid())))  # {"w": float32 tensor [4]}, the body most hostile files vary


class Reduce:
    """An object whose pickle calls func(*args): the classic __reduce__ attack."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def hostile_cases():
    import builtins
    import os as os_module
    import subprocess
    cases = []  # (name, bytes, both|float, message)

    def add(name, data, message, which="both"):
        cases.append((name, data, which, message))

    def pk(name, pkl, message, storages=None, which="both"):
        if storages is None:
            storages = {"0": F4} if b"storage" in pkl else {}
        add(name, archive(pkl, storages), message, which)

    # Code execution, directly and through __reduce__.
    pk("os_system_reduce.pt", pickle.dumps({"w": Reduce(os_module.system, ("echo pwned",))}, protocol=2),
       'refusing the global "posix.system"')
    pk("os_system.pt", P(g_("os", "system"), tup(s_("echo pwned")), b"R"), 'refusing the global "os.system"')
    pk("builtins_eval.pt", pickle.dumps(Reduce(builtins.eval, ("1+1",)), protocol=2, fix_imports=False), 'refusing the global "builtins.eval"')
    pk("builtin_eval_py2_name.pt", pickle.dumps(Reduce(builtins.eval, ("1+1",)), protocol=2),
       'refusing the global "__builtin__.eval"')
    pk("builtins_exec.pt", P(g_("builtins", "exec"), tup(s_("import os")), b"R"), 'refusing the global "builtins.exec"')
    pk("builtins_getattr.pt", P(g_("builtins", "getattr"), tup(g_("torch", "Tensor"), s_("__class__")), b"R"),
       'refusing the global "builtins.getattr"')
    pk("builtins_import.pt", P(g_("builtins", "__import__"), tup(s_("os")), b"R"), '"builtins.__import__"')
    pk("subprocess_popen.pt", pickle.dumps(Reduce(subprocess.Popen, (["ls"],)), protocol=2, fix_imports=False),
       'refusing the global "subprocess.Popen"')
    pk("torch_load.pt", P(g_("torch", "load"), tup(s_("other.pt")), b"R"), 'refusing the global "torch.load"')
    pk("numpy_reconstruct.pt", P(g_("numpy.core.multiarray", "_reconstruct"), tup(), b"R"),
       'refusing the global "numpy.core.multiarray._reconstruct"')
    pk("global_in_tensor_slot.pt", sd((s_("w"), rebuild(pid(storage="FloatStorage", module="os")))),
       'refusing the global "os.FloatStorage"')
    pk("proto0_system.pt", b"cos\nsystem\n(S'echo pwned'\ntR.", "pickle protocol 0 or 1")
    pk("proto1_inst.pt", b"(S'echo'\nios\nsystem\n.", "pickle protocol 0 or 1")
    pk("inst_opcode.pt", P(b"(", s_("echo"), b"ios\nsystem\n"), "unsupported pickle opcode 0x69 (INST)")
    pk("obj_opcode.pt", P(b"(", g_("os", "system"), s_("echo"), b"o"), 'refusing the global "os.system"')
    pk("obj_opcode_allowed_class.pt", P(b"(", g_("collections", "OrderedDict"), b"o"),
       "unsupported pickle opcode 0x6f (OBJ)")
    pk("proto4.pt", pickle.dumps({"a": 1}, protocol=4), "pickle protocol 4")
    pk("proto5.pt", pickle.dumps({"a": 1}, protocol=5), "pickle protocol 5")
    pk("stack_global.pt", P(s_("os"), s_("system"), b"\x93"), "unsupported pickle opcode 0x93 (STACK_GLOBAL)")
    pk("ext1.pt", P(b"\x82\x01"), "unsupported pickle opcode 0x82 (EXT1)")
    pk("persid_text.pt", P(b"P0\n"), "unsupported pickle opcode 0x50 (PERSID)")
    pk("unknown_opcode.pt", P(b"\xff"), "unsupported pickle opcode 0xff, which")
    pk("binbytes.pt", P(b"C\x03abc"), "unsupported pickle opcode 0x43 (SHORT_BINBYTES)")
    pk("dup.pt", P(b"N2"), "unsupported pickle opcode 0x32 (DUP)")

    # Calls and objects the allowed names must not make.
    pk("reduce_on_list.pt", P(b"]", tup(), b"R"), "REDUCE calls a list of 0 items")
    pk("reduce_args_not_tuple.pt", P(g_("collections", "OrderedDict"), b"]R"), "is called with a list")
    pk("tensor_constructor_args.pt", P(g_("torch", "Tensor"), tup(i_(1000)), b"R"),
       "torch.Tensor is called with 1 arguments, expected 0")
    pk("legacy_tensor_constructor.pt", P(g_("torch", "FloatTensor"), tup(i_(5)), b"R"),
       "calling the legacy tensor constructor torch.FloatTensor")
    pk("storage_constructor.pt", P(g_("torch", "FloatStorage"), tup(i_(5)), b"R"), "calling torch.FloatStorage")
    pk("dtype_call.pt", P(g_("torch", "float32"), tup(), b"R"), "torch.float32 is not callable")
    pk("bfloat16_dtype.pt", P(b"}", s_("d"), g_("torch", "bfloat16"), b"s"), 'refusing the global "torch.bfloat16"')
    pk("layout_unknown.pt", P(g_("torch.serialization", "_get_layout"), tup(s_("torch.bogus")), b"R"),
       "unknown layout")
    pk("newobj_ordereddict.pt", P(g_("collections", "OrderedDict"), tup(), b"\x81"),
       "NEWOBJ of the global collections.OrderedDict")
    pk("build_list.pt", P(b"]", b"}", b"b"), "BUILD of a list")
    pk("build_dict.pt", P(b"}", b"}", b"b"), "BUILD of a dict")
    pk("build_tensor_bad_state.pt", sd((s_("w"), rebuild(pid()) + tup(i_(1)) + b"b")), "BUILD of a tensor from")
    pk("rebuild_arg_count.pt", sd((s_("w"), g_("torch._utils", "_rebuild_tensor_v2") + tup(pid(), i_(0)) + b"R")),
       "torch._utils._rebuild_tensor_v2 is called with 2 arguments, expected 6-7")
    pk("rebuild_metadata.pt", sd((s_("w"), rebuild(pid(), extra=b"}" + s_("neg") + b"\x88s"))),
       "tensor metadata (a dict) is not supported")
    pk("rebuild_storage_not_storage.pt", sd((s_("w"), g_("torch._utils", "_rebuild_tensor_v2") +
                                             tup(b"N", i_(0), tup(i_(4)), tup(i_(1)), b"\x89", hooks()) + b"R")),
       "is given None where a storage belongs")
    pk("rebuild_offset_float.pt", sd((s_("w"), g_("torch._utils", "_rebuild_tensor_v2") +
                                      tup(pid(), b"G" + struct.pack(">d", 0.0), tup(i_(4)), tup(i_(1)), b"\x89",
                                          hooks()) + b"R")),
       "expected the storage offset to be an int, got the float 0")
    pk("rebuild_requires_grad_int.pt", sd((s_("w"), g_("torch._utils", "_rebuild_tensor_v2") +
                                           tup(pid(), i_(0), tup(i_(4)), tup(i_(1)), i_(0), hooks()) + b"R")),
       "expected requires_grad to be a bool")
    pk("parameter_of_list.pt", P(g_("torch._utils", "_rebuild_parameter"), tup(b"]", b"\x89", hooks()), b"R"),
       "is given a list of 0 items instead of a tensor")

    # Tensors against their storages.
    pk("stride_length.pt", sd((s_("w"), rebuild(pid(), size=(2, 2), stride=(2,)))), "the size and the stride differ")
    pk("negative_size.pt", sd((s_("w"), rebuild(pid(), size=(-1,), stride=(1,)))), "negative size")
    pk("negative_stride.pt", sd((s_("w"), rebuild(pid(), offset=3, size=(4,), stride=(-1,)))),
       "negative strides are not supported")
    pk("negative_offset.pt", sd((s_("w"), rebuild(pid(), offset=-1))), "negative storage offset")
    pk("out_of_bounds.pt", sd((s_("w"), rebuild(pid(), offset=1))),
       "storage offset 1 needs 5 elements of its storage \"0\", which holds 4")
    pk("out_of_bounds_stride.pt", sd((s_("w"), rebuild(pid(), size=(2, 2), stride=(3, 1)))),
       "needs 5 elements of its storage")
    pk("size_overflow.pt", sd((s_("w"), rebuild(pid(), size=(2 ** 40, 2 ** 40), stride=(1, 1)))),
       "the number of elements overflows int64")
    pk("stride_overflow.pt", sd((s_("w"), rebuild(pid(), size=(2, 2), stride=(2 ** 62, 2 ** 62)))),
       "needs more than 2^63 elements of its storage")
    pk("storage_numel_overflow.pt", sd((s_("w"), rebuild(pid(numel=2 ** 62, storage="DoubleStorage")))),
       "of 4611686018427387904 elements overflows int64 bytes")
    pk("storage_negative_numel.pt", sd((s_("w"), rebuild(pid(numel=-4)))), "has a negative size (-4)")
    pk("storage_twice_different.pt", sd((s_("a"), rebuild(pid())), (s_("b"), rebuild(pid(numel=2), size=(2,)))),
       "is named twice with different types, sizes or offsets")
    pk("huge_tensor_stride0.pt", sd((s_("w"), rebuild(pid(numel=1), size=(2 ** 31, 2 ** 31), stride=(0, 0)))),
       "refusing to allocate more than", storages={"0": F4[:4]})

    # Persistent ids.
    pk("persid_int.pt", P(i_(3), b"Q"), "persistent id the int 3 is not a ('storage', ...) tuple")
    pk("persid_module.pt", P(tup(s_("module"), s_("x"), s_("y")), b"Q"), "is not a ('storage', ...) tuple")
    pk("persid_short.pt", P(tup(s_("storage"), g_("torch", "FloatStorage")), b"Q"), "a storage persistent id has 2 items")
    pk("persid_dtype.pt", P(tup(s_("storage"), g_("torch", "float32"), s_("0"), s_("cpu"), i_(4)), b"Q"),
       "names the global torch.float32 where a storage type belongs")
    pk("persid_typed_storage.pt", P(tup(s_("storage"), g_("torch.storage", "TypedStorage"), s_("0"), s_("cpu"), i_(4)),
                                    b"Q"), "torch.storage.TypedStorage, which has no dtype")
    pk("persid_key_int.pt", P(tup(s_("storage"), g_("torch", "FloatStorage"), i_(0), s_("cpu"), i_(4)), b"Q"),
       "expected a storage key to be a str, got the int 0")
    pk("bare_storage.pt", P(b"}", s_("s"), pid(), b"s"), "\"s\" holds a bare storage (torch.FloatStorage)")
    pk("complex_storage.pt", sd((s_("w"), rebuild(pid(storage="ComplexFloatStorage", numel=2), size=(2,)))),
       "complex tensors are not supported", storages={"0": F4})
    pk("quantized_storage.pt", sd((s_("w"), rebuild(pid(storage="QInt8Storage", numel=4)))),
       "quantized tensors are not supported", storages={"0": b"\x01\x02\x03\x04"})

    # The pickle machine itself.
    pk("memo_out_of_range.pt", P(b"h\x05"), "memo entry 5 is read before it is written")
    pk("long_memo_out_of_range.pt", P(b"j\xff\xff\xff\xff"), "memo entry 4294967295 is read before it is written")
    pk("put_empty_stack.pt", P(b"q\x00"), "BINPUT with an empty stack")
    pk("huge_string.pt", P(b"X\xff\xff\xff\xff" + b"abc"), "a string of 4294967295 bytes runs past the end")
    pk("string_past_end.pt", P(b"X\x10\x00\x00\x00abc"), "a string of 16 bytes runs past the end")
    pk("bad_utf8.pt", P(b"X\x02\x00\x00\x00\xc3\x28"), "a string is not valid UTF-8")
    pk("short_binstring_surrogate.pt", P(b"U\x03\xed\xa0\x80"), "a string is not valid UTF-8")
    pk("truncated_pickle.pt", P(b"}")[:-1], "data.pkl ends without STOP")
    pk("truncated_binint.pt", b"\x80\x02J\x01\x02", "data.pkl ends inside an opcode")
    pk("empty_pickle.pt", b"", "the pickle is empty")
    pk("pop_empty.pt", P(b"a"), "the pickle pops from an empty stack")
    pk("pop_below_mark.pt", P(b"]", b"(", b"a"), "the pickle pops from an empty stack")
    pk("append_to_dict.pt", P(b"}", b"N", b"a"), "APPEND on a dict (only lists can be appended to)")
    pk("appends_to_tuple.pt", P(b")", b"(", b"N", b"e"), "APPENDS on a tuple of 0 items")
    pk("setitem_on_list.pt", P(b"]", i_(0), b"N", b"s"), "SETITEM on a list of 0 items")
    pk("setitems_odd.pt", P(b"}", b"(", s_("a"), b"u"), "SETITEMS with an odd number of values (1)")
    pk("tuple_without_mark.pt", P(b"N", b"t"), "an opcode needs a MARK, and there is none")
    pk("tuple3_short.pt", P(b"N", b"N", b"\x87"), "TUPLE3 needs 3 values on the stack")
    pk("stop_leftovers.pt", P(b"N", b"N"), "the pickle leaves 1 values and 0 marks behind at STOP")
    pk("stop_open_mark.pt", P(b"(", b"N"), "the pickle leaves 0 values and 1 marks behind at STOP")
    pk("unhashable_key.pt", P(b"}", b"]", b"N", b"s"), "unhashable dict key (a list of 0 items)")
    pk("trailing_after_stop.pt", P(b"}") + b"junk", "data.pkl has 4 bytes after its STOP opcode")
    pk("marks_too_deep.pt", P(b"(" * 101), "MARKs nest deeper than 100 levels")
    pk("nesting_too_deep.pt", P(b"]" * 151 + b"a" * 150), "the object nests deeper than 100 levels")
    pk("self_containing_list.pt", P(b"]q\x00h\x00a"), "the object contains itself at \"0\"")
    dag = b"}" + s_("w") + rebuild(pid()) + b"s" + b"q\x00"  # a dict holding a tensor, then (d, d) forty times
    for level in range(40):
        dag += b"h" + bytes([level]) + b"\x86" + b"q" + bytes([level + 1])
    pk("exponential_sharing.pt", P(dag), "is reached through more than 64 paths")
    pk("tuple_key_too_deep.pt", P(b"}", b"N" + b"\x85" * 120, b"N", b"s"), "a dict key nests tuples deeper than 100")

    # Keys.
    pk("float_key.pt", P(b"}", b"G" + struct.pack(">d", 1.5), rebuild(pid()), b"s"),
       "a tensor at \"?\" is keyed by a float")
    pk("tuple_key.pt", P(b"}", tup(i_(1)), rebuild(pid()), b"s"), "keyed by a tuple")
    pk("duplicate_key.pt", P(b"}", s_("a.b"), rebuild(pid()), b"s", s_("a"), b"}", s_("b"), rebuild(pid()), b"ss"),
       "two tensors have the key \"a.b\"")

    # Integers and bools T cannot hold.
    i64 = struct.pack("<q", 2 ** 53 + 1)
    pk("int64_inexact.pt", sd((s_("step"), rebuild(pid(numel=1, storage="LongStorage"), size=(), stride=()))),
       "tensor \"step\" (int64): element 0 is 9007199254740993, which", storages={"0": i64})
    pk("int32_inexact_float.pt", sd((s_("n"), rebuild(pid(numel=2, storage="IntStorage"), size=(2,)))),
       "tensor \"n\" (int32): element 1 is 16777217, which float cannot represent exactly",
       storages={"0": struct.pack("<2i", 5, 2 ** 24 + 1)}, which="float")
    pk("bool_byte_2.pt", sd((s_("mask"), rebuild(pid(numel=3, storage="BoolStorage"), size=(3,)))),
       "tensor \"mask\" (bool): element 2 is the byte 2, which is not a bool (0 or 1)",
       storages={"0": b"\x01\x00\x02"})
    pk("strided_inexact.pt", sd((s_("t"), rebuild(pid(numel=4, storage="LongStorage"), size=(2, 2), stride=(1, 2)))),
       "tensor \"t\" (int64): element 1 is 9007199254740993",
       storages={"0": struct.pack("<4q", 1, 2, 2 ** 53 + 1, 4)})
    return cases


def archive_cases(outdir):
    cases = []

    def add(name, data, message, which="both"):
        cases.append((name, data, which, message))

    good = archive(ONE, {"0": F4})
    add("compressed_entry.pt", deflated(ONE), "is compressed (method 8, deflate)")
    add("truncated_half.pt", good[:len(good) // 2], "no zip end-of-central-directory record")
    add("truncated_eocd.pt", good[:-5], "no zip end-of-central-directory record")
    add("empty.pt", b"", "not a torch.save file")
    add("random_bytes.pt", bytes(range(7, 200)), "not a torch.save file")
    add("empty_zip.pt", zip_bytes([]), "an empty zip archive")
    add("tar_archive.pt", tar_bytes(), "a tar archive")
    add("missing_data_pkl.pt", zip_bytes([("version", b"3\n")], "archive"), "the archive has no data.pkl record")
    add("missing_version.pt", archive(ONE, {"0": F4}, version=None), "the archive has no version record")
    add("bad_version.pt", archive(ONE, {"0": F4}, version=b"99\n"), "unsupported archive version \"99\\x0a\"")
    add("missing_storage.pt", archive(ONE, {}), "storage \"0\" has no record \"archive/data/0\"")
    add("extra_storage.pt", archive(ONE, {"0": F4, "9": F4}), "record \"archive/data/9\" is not a storage")
    add("short_storage.pt", archive(ONE, {"0": F4[:12]}),
        "record \"archive/data/0\" holds 12 bytes, but its torch.FloatStorage of 4 elements needs 16")
    add("long_storage.pt", archive(ONE, {"0": F4 + F4}), "holds 32 bytes, but its torch.FloatStorage")
    add("no_folder.pt", zip_bytes([("data.pkl", ONE), ("version", b"3\n")], ""), "is not in a folder")
    add("outside_folder.pt", zip_bytes([("a/data.pkl", ONE), ("b/version", b"3\n")], ""),
        "zip entry \"b/version\" lies outside the archive folder \"a/\"")
    add("bad_byteorder.pt", archive(ONE, {"0": F4}, extra=[("byteorder", b"middle")]),
        "the byteorder record is \"middle\"")
    add("torchscript.pt", torchscript_bytes(), "a TorchScript archive (torch.jit.save)")
    add("duplicate_entry.pt", duplicate_entry(good), "zip archive has two entries named")
    at = good.find(b"PK\x01\x02")
    bad = bytearray(good)
    bad[at + 8] |= 1
    add("encrypted_flag.pt", bytes(bad), "is encrypted")
    bad = bytearray(good)
    struct.pack_into("<I", bad, at + 42, len(good) - 10)
    add("local_header_offset_out.pt", bytes(bad), ": no local header at offset")
    bad = bytearray(good)
    bad[30 + 5] ^= 0x20  # the local header's copy of the first name
    add("local_name_mismatch.pt", bytes(bad), "its local header does not match the central directory")
    bad = bytearray(good)
    end = bad.rfind(b"PK\x05\x06")
    struct.pack_into("<I", bad, end + 16, 3)
    add("directory_offset_wrong.pt", bytes(bad), "does not end where the end record begins")
    bad = bytearray(good)
    struct.pack_into("<HH", bad, end + 8, 0xffff, 0xffff)
    add("zip64_needed_missing.pt", bytes(bad), "needs a zip64 record, and there is none")
    bad = bytearray(good)
    struct.pack_into("<H", bad, end + 4, 1)
    add("multi_disk.pt", bytes(bad), "multi-disk (split) zip archives are not supported")
    bad = bytearray(good)
    struct.pack_into("<H", bad, end + 8, 200)
    struct.pack_into("<H", bad, end + 10, 200)
    add("directory_count_huge.pt", bytes(bad), "claims 200 records in")
    torch_file = open(os.path.join(outdir, "tensor.pt"), "rb").read()
    locator = torch_file.rfind(b"PK\x06\x07")
    bad = bytearray(torch_file)
    struct.pack_into("<Q", bad, locator + 8, 5)
    add("zip64_locator_wrong.pt", bytes(bad), "the zip64 end-of-central-directory locator points to offset 5")
    add("torch_file_truncated.pt", torch_file[:len(torch_file) - 30], "no zip end-of-central-directory record")

    # The legacy format.
    legacy = open(os.path.join(outdir, "layouts_legacy.pt"), "rb").read()
    ends = pickle_ends(legacy)
    add("legacy_bad_magic.pt", pickle.dumps(12345, protocol=2) + legacy[ends[0]:], "invalid magic number")
    add("legacy_bad_protocol.pt", legacy[:ends[0]] + pickle.dumps(1000, protocol=2) + legacy[ends[1]:],
        "invalid legacy protocol version (the int 1000, expected torch's 1001)")
    add("legacy_truncated.pt", legacy[:len(legacy) - 7], "runs past the end of the file")
    add("legacy_trailing.pt", legacy + b"\x00" * 5, "5 bytes follow the last storage")
    add("legacy_truncated_pickle.pt", legacy[:ends[3] - 3], "ends without STOP")
    keys = pickle.loads(legacy[ends[3]:ends[4]])
    add("legacy_key_twice.pt", legacy[:ends[3]] + pickle.dumps(keys + keys[:1], protocol=2) + legacy[ends[4]:],
        "is listed twice")
    add("legacy_key_unknown.pt", legacy[:ends[3]] + pickle.dumps(keys + ["999"], protocol=2) + legacy[ends[4]:],
        "storage key \"999\" is not a storage the object pickle names")
    add("legacy_key_missing.pt", legacy[:ends[3]] + pickle.dumps(keys[:-1], protocol=2) + legacy[ends[4]:],
        "is named by the pickle but not in the storage list")
    count_at = ends[4]
    bad = bytearray(legacy)
    struct.pack_into("<q", bad, count_at, struct.unpack_from("<q", legacy, count_at)[0] + 1)
    add("legacy_count_mismatch.pt", bytes(bad), "elements, but the pickle says")
    add("legacy_zip_persid.pt", legacy[:ends[2]] + P(b"}", s_("w"), rebuild(pid()), b"s") + legacy[ends[3]:],
        "a storage persistent id has 5 items, expected 6")
    view = tup(s_("storage"), g_("torch", "FloatStorage"), s_("0"), s_("cpu"), i_(4),
               tup(s_("v"), i_(2), i_(5))) + b"Q"
    add("legacy_view_outside.pt", legacy[:ends[2]] + P(b"}", s_("w"), g_("torch._utils", "_rebuild_tensor_v2") +
                                                      tup(view, i_(0), tup(i_(1)), tup(i_(1)), b"\x89", hooks()) +
                                                      b"R", b"s") + legacy[ends[3]:],
        "storage view \"v\" [2, +5) lies outside its storage \"0\" of 4 elements")
    add("legacy_persid_in_sysinfo.pt", legacy[:ends[1]] + P(pid(), b"") + legacy[ends[2]:],
        "a persistent id outside the object pickle")
    return cases


def deflated(pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, method in [("archive/data.pkl", pkl, zipfile.ZIP_DEFLATED),
                                   ("archive/data/0", F4, zipfile.ZIP_STORED),
                                   ("archive/version", b"3\n", zipfile.ZIP_STORED)]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def duplicate_entry(good):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in [("archive/data.pkl", ONE), ("archive/data/0", F4), ("archive/data/0", F4),
                           ("archive/version", b"3\n")]:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def tar_bytes():
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("pickle")
        info.size, info.mtime = 3, 0
        tar.addfile(info, io.BytesIO(b"abc"))
    return buf.getvalue()[:512]  # the header block is what tells a tar archive


def torchscript_bytes():
    torch.manual_seed(5)
    module = torch.jit.script(torch.nn.Linear(1, 1))
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    return buf.getvalue()


def torch_refusals(outdir):
    """torch's own files of the kinds strata refuses."""
    cases = []
    for name, obj, message in [
            ("complex.pt", {"c": torch.ones(2, dtype=torch.complex64)}, "complex tensors are not supported"),
            ("quantized.pt", {"q": torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint8)},
             "quantized tensors are not supported"),
            ("sparse.pt", {"s": torch.eye(3).to_sparse()}, "sparse tensors are not supported"),
            ("sparse_csr.pt", {"s": torch.eye(3).to_sparse_csr()}, "sparse tensors are not supported"),
            ("meta.pt", {"m": torch.empty(3, device="meta")}, "meta tensors are not supported")]:
        buf = io.BytesIO()
        torch.save(obj, buf)
        cases.append((name, buf.getvalue(), "both", message))
    torch.manual_seed(6)
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(1, 1), buf)  # the whole module, not its state_dict
    cases.append(("whole_module.pt", buf.getvalue(), "both",
                  'refusing the global "torch.nn.modules.linear.Linear" (a whole module, as torch.save(model) writes '
                  'it: save model.state_dict() instead)'))
    return cases


def write_hostile(outdir):
    hostile = os.path.join(outdir, "hostile")
    os.makedirs(hostile, exist_ok=True)
    for old in os.listdir(hostile):
        os.remove(os.path.join(hostile, old))
    cases = hostile_cases() + archive_cases(outdir) + torch_refusals(outdir)
    names = [c[0] for c in cases]
    assert len(names) == len(set(names)), "duplicate hostile names"
    with open(os.path.join(hostile, "INDEX.txt"), "w") as index:
        index.write("# <file>\t<both|float>\t<message substring>  (written by generate_pt_fixtures.py)\n")
        for name, data, which, message in cases:
            with open(os.path.join(hostile, name), "wb") as f:
                f.write(data)
            index.write(f"{name}\t{which}\t{message}\n")
            # torch must refuse each file too (weights_only), unless strata is stricter on purpose.
    return len(cases)


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript's code records follow set order, which string hashing randomises per process.
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR)
    parser.add_argument("--seeds", default=DEFAULT_SEEDS)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    os.makedirs(args.seeds, exist_ok=True)
    torch.set_num_threads(1)
    write_valid(args.outdir, args.seeds)
    write_cnn(args.outdir, args.seeds)
    count = write_hostile(args.outdir)
    print("torch", torch.__version__, "->", args.outdir, f"({count} hostile files)")


if __name__ == "__main__":
    main()
