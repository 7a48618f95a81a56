#!/usr/bin/python3
"""Generate the PyTorch golden data for strata's activation, softmax and dropout tests.

Usage (from the repository root):

    /usr/bin/python3 tests/reference/generate_activation_golden.py [--outdir DIR]

Writes one text file per case into tests/reference/golden_activation/ (or
DIR) plus INDEX.txt, in the golden format of tests/reference/README.md
(read by tests/golden_reader.hpp), in float32 and float64. Every case seeds
torch from a CRC32 of its own name, so the output is deterministic and a
case's data does not depend on the others. Torch runs on one thread.

Per layer (the `layer` line), the options and tensors are:
  relu, relu6, silu, sigmoid, tanh, hardswish, hardsigmoid
                       tensor input; output = torch.nn.functional.<layer>(input)
  leaky_relu           option negative_slope (%.17g); output = F.leaky_relu(input, negative_slope)
  gelu                 option approximate none|tanh, option onednn 0|1;
                       output = F.gelu(input, approximate=...). With onednn 0
                       the case ran under torch.backends.mkldnn.flags(enabled=False),
                       i.e. ATen's own kernel, the erf formula torch also uses for
                       float64, for one-element and for non-contiguous float32
                       inputs. With onednn 1 it ran as torch runs by default:
                       torch 1.13 hands contiguous float32 GELU to oneDNN, whose
                       erf is a polynomial approximation (its values differ from
                       ATen's by up to 1.4 * 2^-23 * |x|, and it gives +0.0 for
                       -0.0), so strata is compared with those cases at a looser
                       tolerance and only on ordinary inputs.
  softmax, log_softmax option dim; output = F.<layer>(input, dim)
  dropout              option p; output = F.dropout(input, p, training=False)

Inputs: random normals scaled by 4, an even grid over [-12, 12], and a
vector of special values (NaN, +-inf, +-0, subnormals, the overflow
thresholds of exp, +-1000, ...); softmax adds rows of +-1000 and rows
holding -inf, +inf and NaN, over every dim of a 4-D tensor and with row and
inner lengths that leave partial packets (37, 19).
"""

import argparse
import glob
import math
import os
import struct
import zlib

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.join(HERE, "golden_activation")
DTYPES = {"f32": torch.float32, "f64": torch.float64}
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}
NAN, INF = float("nan"), float("inf")


def fmt_value(v, dtype):
    if dtype == torch.float32:
        s = "%.9g" % v
        back = struct.unpack("<f", struct.pack("<f", float(s)))[0]
    else:
        s = "%.17g" % v
        back = float(s)
    same = back == v and math.copysign(1, back) == math.copysign(1, v)
    assert same or (v != v and back != back), (v, s)  # exact round trip, -0.0 and NaN included
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


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.names = []

    def write(self, name, dtype, call, options, make_input, compute):
        torch.manual_seed(seed_for(name))
        x = make_input(dtype)
        with torch.no_grad():
            y = compute(x)
        lines = ["# produced by: " + call,
                 "# torch %s; torch.manual_seed(%d) before drawing the input, one thread"
                 % (torch.__version__, seed_for(name)),
                 "layer " + options[0][1],
                 "dtype " + DTYPE_NAMES[dtype]]
        lines += ["%s %s" % (k, v) for k, v in options[1:]]
        lines += fmt_tensor("input", x)
        lines += fmt_tensor("output", y)
        with open(os.path.join(self.outdir, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.names.append(name + ".txt")


def specials(dtype):
    tiny = 1e-45 if dtype == torch.float32 else 5e-324  # the smallest subnormal
    values = [NAN, INF, -INF, 0.0, -0.0, tiny, -tiny, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 1.0, -1.0,
              2.9, -2.9, 3.0, -3.0, 3.1, -3.1, 6.0, -6.0, 6.5, -6.5, 9.0, -9.0, 20.0, -20.0, 40.0, -40.0,
              87.0, -87.0, 88.5, -88.5, 89.0, -89.0, 103.0, -103.0, 105.0, -105.0, 700.0, -700.0, 709.5,
              -709.5, 710.0, -710.0, 745.0, -745.0, 1000.0, -1000.0, 1e30, -1e30]
    return torch.tensor(values, dtype=dtype)


def inputs():
    return {
        "randn": lambda dt: torch.randn(3, 4, 5, dtype=dt) * 4,
        "grid": lambda dt: torch.linspace(-12, 12, 97, dtype=dt),
        "specials": specials,
    }


ELEMENTWISE = [
    ("relu", [], "F.relu(input)", F.relu),
    ("relu6", [], "F.relu6(input)", F.relu6),
    ("silu", [], "F.silu(input)", F.silu),
    ("sigmoid", [], "torch.sigmoid(input)", torch.sigmoid),
    ("tanh", [], "torch.tanh(input)", torch.tanh),
    ("hardswish", [], "F.hardswish(input)", F.hardswish),
    ("hardsigmoid", [], "F.hardsigmoid(input)", F.hardsigmoid),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for old in glob.glob(os.path.join(args.outdir, "*.txt")):
        os.remove(old)
    torch.set_num_threads(1)
    w = Writer(args.outdir)

    for tag, dtype in DTYPES.items():
        for input_name, make in inputs().items():
            for layer, extra, call, fn in ELEMENTWISE:
                w.write("%s_%s_%s" % (layer, tag, input_name), dtype, call, [("layer", layer)] + extra, make, fn)
            for slope in [0.01, 0.2, 0.0, -2.0]:
                w.write("leaky_relu_%s_%s_slope%s" % (tag, input_name, ("%g" % slope).replace("-", "m")), dtype,
                        "F.leaky_relu(input, %r)" % slope,
                        [("layer", "leaky_relu"), ("negative_slope", "%.17g" % slope)], make,
                        lambda x, s=slope: F.leaky_relu(x, s))
            for approximate in ["none", "tanh"]:
                def aten_gelu(x, a=approximate):
                    with torch.backends.mkldnn.flags(enabled=False):
                        return F.gelu(x, approximate=a)
                w.write("gelu_%s_%s_%s" % (tag, input_name, approximate), dtype,
                        "F.gelu(input, approximate=%r) under torch.backends.mkldnn.flags(enabled=False)" % approximate,
                        [("layer", "gelu"), ("approximate", approximate), ("onednn", "0")], make, aten_gelu)
        # torch's default float32 GELU path (oneDNN), ordinary inputs only.
        if dtype == torch.float32:
            for input_name in ["randn", "grid"]:
                w.write("gelu_f32_%s_onednn" % input_name, dtype, "F.gelu(input) (torch's default path: oneDNN)",
                        [("layer", "gelu"), ("approximate", "none"), ("onednn", "1")], inputs()[input_name], F.gelu)

        # softmax / log_softmax
        cases = []
        for dim in [0, 1, 2, 3, -1, -3]:
            cases.append(("randn_dim%s" % str(dim).replace("-", "m"), dim,
                          lambda dt: torch.randn(2, 3, 4, 5, dtype=dt) * 4))
        cases.append(("row37_dim1", 1, lambda dt: torch.randn(3, 37, dtype=dt) * 4))
        cases.append(("inner19_dim1", 1, lambda dt: torch.randn(2, 5, 19, dtype=dt) * 4))
        cases.append(("vector_dim0", 0, lambda dt: torch.randn(7, dtype=dt)))
        cases.append(("large_dim1", 1, lambda dt: torch.randn(4, 10, dtype=dt) * 1000))
        cases.append(("large_dim0", 0, lambda dt: torch.randn(6, 3, 2, dtype=dt) * 1000))
        rows = [[1, 2, 3, 4, 5], [1000, -1000, 999, -999, 0], [-1000, -1000, -1001, -1002, -1003],
                [1, -INF, 3, 4, 5], [-INF, -INF, 0, -INF, -INF], [NAN, 1, 2, 3, 4], [1, 2, INF, 4, 5],
                [-INF, -INF, -INF, -INF, -INF], [-0.0, 0.0, -0.0, 0.0, 1e-30]]
        for dim in [1, 0]:
            cases.append(("specials_dim%d" % dim, dim, lambda dt: torch.tensor(rows, dtype=dt)))
        for layer, fn in [("softmax", F.softmax), ("log_softmax", F.log_softmax)]:
            for case, dim, make in cases:
                w.write("%s_%s_%s" % (layer, tag, case), dtype, "F.%s(input, dim=%d)" % (layer, dim),
                        [("layer", layer), ("dim", str(dim))], make, lambda x, d=dim, f=fn: f(x, d))

        for p in [0.0, 0.5, 1.0]:
            w.write("dropout_%s_p%g" % (tag, p), dtype, "F.dropout(input, %r, training=False)" % p,
                    [("layer", "dropout"), ("p", "%.17g" % p)], lambda dt: torch.randn(3, 4, dtype=dt),
                    lambda x, q=p: F.dropout(x, q, training=False))

    with open(os.path.join(args.outdir, "INDEX.txt"), "w") as f:
        f.write("\n".join(w.names) + "\n")
    print("wrote %d cases to %s" % (len(w.names), args.outdir))


if __name__ == "__main__":
    main()
