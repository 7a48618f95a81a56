#!/usr/bin/python3
"""Generate the weight-file fixtures for strata's io tests (tests/io/).

Usage (from the repository root; /usr/bin/python3 is the interpreter that
Debian's python3-torch and python3-numpy are installed for):

    /usr/bin/python3 tests/reference/generate_io_fixtures.py [--outdir DIR]

Writes into tests/data/io/ (or DIR):

- NumPy .npy files written by numpy itself (np.save, np.lib.format.write_array):
  every version (1.0, 2.0, 3.0), both byte orders, C and Fortran order,
  float16 / float32 / float64, a 0-d and an empty array. Unless noted, the
  values are (i - 7.5) / 4 for the flat C-order index i, exact in every dtype.
- dtypes.safetensors: float16, bfloat16, float32 and float64 tensors whose
  bytes are torch's own conversions of the same float64 values (specials
  included), each next to "<name>_as_f64", torch's float64 value of it. The
  safetensors Python package is not in Debian, so this script writes the
  container itself, following the format's specification.

The output is deterministic: running the script twice gives identical files.
"""

import argparse
import json
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.normpath(os.path.join(HERE, "..", "data", "io"))

# Values that exercise every conversion: signs, -0, subnormals of each
# format, the largest finite values, infinities and NaN.
SPECIALS = [1.0, -2.0, 0.1, -0.0, 0.0, 65504.0, 2.0 ** -24, 2.0 ** -14, 3.0e38, 2.0 ** -133,
            float("inf"), float("-inf"), float("nan"), 1.0 / 3.0, -1234.5678, 1e-8]


def iota(shape, dtype):
    n = int(np.prod(shape)) if len(shape) else 1
    return ((np.arange(n, dtype=np.float64) - 7.5) / 4).reshape(shape).astype(dtype)


def write_npy(outdir):
    def save(name, array, version=None):
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=version)

    save("c_f4.npy", iota((2, 3, 4), "<f4"))                  # what np.save writes, version 1.0
    save("c_f8_1d.npy", iota((5,), "<f8"))
    save("scalar_f8.npy", iota((), "<f8"))
    save("empty_f4.npy", iota((0, 3), "<f4"))
    save("v2_f4.npy", iota((2, 3, 4), "<f4"), version=(2, 0))
    save("v3_f4.npy", iota((2, 3, 4), "<f4"), version=(3, 0))
    save("big_endian_f8.npy", iota((3, 2), ">f8"))
    save("big_endian_f4.npy", iota((2, 3, 4), ">f4"))
    save("fortran_f4.npy", np.asfortranarray(iota((2, 3, 4), "<f4")))
    save("fortran_big_endian_f8.npy", np.asfortranarray(iota((3, 2), ">f8")))
    specials = np.array(SPECIALS, dtype=np.float64)
    with np.errstate(over="ignore"):  # 3e38 becomes inf in float16, on purpose
        half = specials.astype("<f2")
    save("specials_f2.npy", half)
    save("specials_f2_big_endian.npy", half.astype(">f2"))
    # numpy's own float64 value of each float16 element.
    save("specials_f2_as_f8.npy", half.astype("<f8"))


def safetensors_bytes(tensors, metadata):
    """The safetensors container: tensors is a list of (name, torch tensor)."""
    names = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        t = t.contiguous()
        # Raw little-endian bytes of the tensor as torch stores it.
        if t.dtype in (torch.float16, torch.bfloat16):
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(outdir):
    values = torch.tensor(SPECIALS, dtype=torch.float64).reshape(2, 8)
    tensors = []
    for name, dtype in [("f16", torch.float16), ("bf16", torch.bfloat16), ("f32", torch.float32),
                        ("f64", torch.float64)]:
        t = values.to(dtype)
        tensors.append((name, t))
        tensors.append((name + "_as_f64", t.to(torch.float64)))
    tensors.append(("scalar", torch.tensor(2.5, dtype=torch.float32)))
    tensors.append(("empty", torch.zeros(0, 3, dtype=torch.float32)))
    meta = {"format": "pt", "producer": "generate_io_fixtures.py"}
    with open(os.path.join(outdir, "dtypes.safetensors"), "wb") as f:
        f.write(safetensors_bytes(tensors, meta))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    write_npy(args.outdir)
    write_safetensors(args.outdir)
    print("torch", torch.__version__, "numpy", np.__version__, "->", args.outdir)


if __name__ == "__main__":
    main()
