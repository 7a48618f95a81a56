#!/usr/bin/python3
"""Generate the PyTorch golden data for strata's tensor arithmetic tests.

Usage (from the repository root):

    /usr/bin/python3 tests/reference/generate_arithmetic_golden.py [--outdir DIR]

Writes one text file per case into tests/reference/golden_arithmetic/ (or
DIR) plus INDEX.txt, in the golden format of tests/reference/README.md
(read by tests/golden_reader.hpp). Cases: broadcasting +, -, *, / (tensor
with tensor, with a scalar on either side, in place), special values
(0, -0, inf, NaN), torch.cat (with torch 1.13's legacy [0]-shaped empties),
torch.chunk's sizes, and sum / mean over dims, in float32 and float64.
Every case seeds torch from a CRC32 of its own name, so the output is
deterministic and a case's data does not depend on the others.

Per layer, the options and tensors are:
  add/sub/mul/div      tensors a, b, output = torch.<op>(a, b)
  add_/sub_/mul_/div_  tensors a, b, output = a.clone().<op>_(b)
  <op>_scalar          option scalar (%.17g), side left|right; tensor a;
                       right: torch.<op>(a, scalar); left: as libtorch's C++
                       `scalar <op> a`, torch.full_like(a, scalar).<op>_(a)
  cat                  options dim, count; tensors input0..input<count-1>
  chunk                options chunks, dim; tensor input; output = the chunk
                       sizes along dim
  sum/mean             options dims (ints, or the word all for dim=[]),
                       keepdim 0/1; tensor input
"""

import argparse
import os
import struct
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.join(HERE, "golden_arithmetic")
DTYPES = {"f32": torch.float32, "f64": torch.float64}
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


def fmt_value(v, dtype):
    if dtype == torch.float32:
        s = "%.9g" % v
        back = struct.unpack("<f", struct.pack("<f", float(s)))[0]
    else:
        s = "%.17g" % v
        back = float(s)
    assert back == v or (v != v and back != back), (v, s)  # exact round trip (NaN stays NaN)
    return s


def fmt_tensor(name, t):
    t = t.detach().contiguous()
    shape = list(t.shape)
    lines = ["tensor %s %d%s" % (name, len(shape), "".join(" %d" % d for d in shape))]
    flat = [float(x) for x in t.reshape(-1).tolist()]
    row = shape[-1] if len(shape) >= 1 and shape[-1] > 0 else max(len(flat), 1)
    for i in range(0, len(flat), row):
        lines.append(" ".join(fmt_value(v, t.dtype) for v in flat[i:i + row]))
    return lines


def seed_for(name):
    return zlib.crc32(name.encode("ascii")) & 0x7FFFFFFF


def shape_tag(shape):
    return "x".join(str(d) for d in shape) if shape else "scalar"


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.names = []

    def write(self, name, dtype, header, options, tensors):
        lines = ["# produced by: " + header,
                 "# torch %s; torch.manual_seed(%d) before drawing the inputs" % (torch.__version__, seed_for(name)),
                 "dtype " + DTYPE_NAMES[dtype]]
        for key, value in options:
            lines.append("%s %s" % (key, value))
        for tname, t in tensors:
            lines.extend(fmt_tensor(tname, t))
        with open(os.path.join(self.outdir, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.names.append(name + ".txt")


BINARY_OPS = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}

BROADCAST_SHAPES = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((4, 1, 3), (2, 1)),
    ((2, 3, 4, 5), (1, 3, 1, 1)),   # per-channel
    ((2, 3, 4, 5), (2, 3, 1, 1)),   # squeeze-excitation gate
    ((), (2, 3)),
    ((3, 1), (1, 4)),
    ((0, 3), (1, 3)),
]

INPLACE_SHAPES = [((2, 3, 4), (3, 1)), ((2, 3), (2, 3)), ((4, 5), ())]

SPECIALS = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1.0, -2.5, 1e-30, 3e30]


def binary_cases(w):
    for tag, dtype in DTYPES.items():
        for op, fn in BINARY_OPS.items():
            for sa, sb in BROADCAST_SHAPES:
                name = "%s_%s_%s_and_%s" % (op, tag, shape_tag(sa), shape_tag(sb))
                torch.manual_seed(seed_for(name))
                a = torch.randn(sa, dtype=dtype)
                b = torch.randn(sb, dtype=dtype)
                w.write(name, dtype, "torch.%s(a, b)" % op, [("layer", op)],
                        [("a", a), ("b", b), ("output", fn(a, b))])
            for sa, sb in INPLACE_SHAPES:
                name = "%s__%s_%s_and_%s" % (op, tag, shape_tag(sa), shape_tag(sb))
                torch.manual_seed(seed_for(name))
                a = torch.randn(sa, dtype=dtype)
                b = torch.randn(sb, dtype=dtype)
                out = getattr(a.clone(), op + "_")(b)
                w.write(name, dtype, "a.clone().%s_(b)" % op, [("layer", op + "_")],
                        [("a", a), ("b", b), ("output", out)])
            # Every pair of special values: a [9, 1] against b [9].
            name = "%s_%s_specials" % (op, tag)
            a = torch.tensor(SPECIALS, dtype=dtype).reshape(-1, 1)
            b = torch.tensor(SPECIALS, dtype=dtype)
            w.write(name, dtype, "torch.%s(a, b) over special values" % op, [("layer", op)],
                    [("a", a), ("b", b), ("output", fn(a, b))])
            for side in ("left", "right"):
                for scalar in (0.3, -7.0):
                    name = "%s_scalar_%s_%s_%s" % (op, tag, side, "0p3" if scalar == 0.3 else "m7")
                    torch.manual_seed(seed_for(name))
                    a = torch.randn((3, 4), dtype=dtype)
                    if side == "right":
                        out, header = fn(a, scalar), "torch.%s(a, %r)" % (op, scalar)
                    else:
                        out = getattr(torch.full_like(a, scalar), op + "_")(a)
                        header = "torch.full_like(a, %r).%s_(a)  (libtorch's scalar %s a)" % (scalar, op, op)
                    w.write(name, dtype, header,
                            [("layer", op + "_scalar"), ("scalar", "%.17g" % scalar), ("side", side)],
                            [("a", a), ("output", out)])


CAT_CASES = [
    ("dim0", [(2, 3), (4, 3)], 0),
    ("dim1", [(2, 3), (2, 1), (2, 5)], 1),
    ("dimneg1_4d", [(2, 3, 2, 2), (2, 3, 2, 1)], -1),
    ("channels", [(2, 3, 4, 4), (2, 5, 4, 4)], 1),
    ("legacy_empty", [(0,), (3, 4), (0,), (3, 2)], 1),
    ("zero_size_part", [(0, 4), (3, 4)], 0),
    ("single", [(3, 2)], 0),
]


def cat_cases(w):
    for tag, dtype in DTYPES.items():
        for label, shapes, dim in CAT_CASES:
            name = "cat_%s_%s" % (tag, label)
            torch.manual_seed(seed_for(name))
            inputs = [torch.randn(s, dtype=dtype) for s in shapes]
            w.write(name, dtype, "torch.cat(inputs, %d) of shapes %s" % (dim, shapes),
                    [("layer", "cat"), ("dim", dim), ("count", len(inputs))],
                    [("input%d" % i, t) for i, t in enumerate(inputs)] + [("output", torch.cat(inputs, dim))])


CHUNK_CASES = [((5,), 3, 0), ((6,), 4, 0), ((7, 2), 3, 0), ((2, 10), 4, -1), ((2, 0), 3, 1), ((3, 4), 9, 1),
               ((2, 64, 3), 2, 1)]


def chunk_cases(w):
    dtype = torch.float32
    for shape, chunks, dim in CHUNK_CASES:
        name = "chunk_%s_c%d_d%d" % (shape_tag(shape), chunks, dim)
        x = torch.zeros(shape, dtype=dtype)
        sizes = [c.shape[dim] for c in x.chunk(chunks, dim)]
        w.write(name, dtype, "[c.shape[%d] for c in x.chunk(%d, %d)] for x of shape %s" % (dim, chunks, dim, shape),
                [("layer", "chunk"), ("chunks", chunks), ("dim", dim)],
                [("input", x), ("output", torch.tensor(sizes, dtype=dtype))])


REDUCE_CASES = [
    ((3, 4, 5, 6), [], False),
    ((3, 4, 5, 6), [0], False),
    ((3, 4, 5, 6), [2, 3], True),      # global average pool
    ((3, 4, 5, 6), [-1], False),
    ((3, 4, 5, 6), [0, 3], True),
    ((3, 4, 5, 6), [1], False),
    ((2, 3, 400), [2], False),         # long rows: summation accuracy
    ((2, 3, 400), [0, 1], False),
    ((1500,), [0], False),
    ((0, 3), [0], False),              # empty reduction: NaN means
    ((), [0], True),
]


def reduce_cases(w):
    for tag, dtype in DTYPES.items():
        for op in ("mean", "sum"):
            for shape, dims, keepdim in REDUCE_CASES:
                dims_tag = "all" if not dims else "_".join(str(d).replace("-", "m") for d in dims)
                name = "%s_%s_%s_dims_%s%s" % (op, tag, shape_tag(shape), dims_tag, "_keepdim" if keepdim else "")
                torch.manual_seed(seed_for(name))
                x = torch.randn(shape, dtype=dtype) + 0.5  # a non-zero mean, so relative errors mean something
                out = getattr(torch, op)(x, dims, keepdim=keepdim)
                w.write(name, dtype, "torch.%s(x, %s, keepdim=%s)" % (op, dims, keepdim),
                        [("layer", op), ("dims", " ".join(str(d) for d in dims) if dims else "all"),
                         ("keepdim", int(keepdim))],
                        [("input", x), ("output", out)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for f in os.listdir(args.outdir):
        if f.endswith(".txt"):
            os.remove(os.path.join(args.outdir, f))
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    w = Writer(args.outdir)
    binary_cases(w)
    cat_cases(w)
    chunk_cases(w)
    reduce_cases(w)
    with open(os.path.join(args.outdir, "INDEX.txt"), "w") as f:
        f.write("".join(n + "\n" for n in w.names))
    print("wrote %d cases to %s" % (len(w.names), args.outdir))


if __name__ == "__main__":
    main()
