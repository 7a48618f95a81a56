#!/usr/bin/python3
"""Generate the PyTorch golden reference data for the strata layer tests.

Usage (from the repository root):

    /usr/bin/python3 tests/reference/generate_golden.py [--outdir DIR]

Writes one text file per case into tests/reference/golden/ (or DIR) plus
INDEX.txt listing the case file names.  See tests/reference/README.md for
the file format.  The output is deterministic: every case is seeded from a
CRC32 of its own name, so adding or removing a case does not change the
data of any other case.
"""

import argparse
import os
import struct
import sys
import warnings
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.join(HERE, "golden")

DTYPES = {"f32": torch.float32, "f64": torch.float64}
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


# ---------------------------------------------------------------------------
# formatting helpers
# ---------------------------------------------------------------------------

def fmt_value(v, dtype):
    # float32 -> 9 significant digits, float64 -> 17: both round-trip exactly.
    if dtype == torch.float32:
        s = "%.9g" % v
        back = struct.unpack("<f", struct.pack("<f", float(s)))[0]
    else:
        s = "%.17g" % v
        back = float(s)
    assert back == v, (v, s)          # exact round trip
    return s


def fmt_tensor(name, t):
    t = t.detach().contiguous()
    shape = list(t.shape)
    lines = ["tensor %s %d%s" % (name, len(shape),
                                 "".join(" %d" % d for d in shape))]
    flat = [float(x) for x in t.reshape(-1).tolist()]
    # one line per innermost row (row-major); 1-D and 0-D tensors on one line
    row = shape[-1] if len(shape) >= 1 and shape[-1] > 0 else max(len(flat), 1)
    for i in range(0, len(flat), row):
        lines.append(" ".join(fmt_value(v, t.dtype) for v in flat[i:i + row]))
    return lines


def pyrepr(v):
    """repr() that prints tuples of ints / strings the way one writes them."""
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, tuple):
        if len(v) == 1:
            return "(%s,)" % pyrepr(v[0])
        return "(" + ", ".join(pyrepr(x) for x in v) + ")"
    return repr(v)


def seed_for(name):
    return zlib.crc32(name.encode("ascii")) & 0x7FFFFFFF


# ---------------------------------------------------------------------------
# case descriptions
# ---------------------------------------------------------------------------

class Case:
    def __init__(self, name, dtype, ctor, args, kwargs, input_shapes, header):
        self.name = name
        self.dtype = dtype
        self.ctor = ctor              # e.g. "torch.nn.Conv2d"
        self.args = args              # positional constructor args
        self.kwargs = kwargs          # list of (key, value) pairs, ordered
        self.input_shapes = input_shapes  # list of (tensor name, shape)
        self.header = header          # list of (key, [values]) option lines

    def call(self):
        parts = [pyrepr(a) for a in self.args]
        parts += ["%s=%s" % (k, pyrepr(v)) for k, v in self.kwargs]
        parts.append("dtype=torch.%s" % DTYPE_NAMES[self.dtype])
        return "%s(%s)" % (self.ctor, ", ".join(parts))


CASES = []
NAMES = set()


def add(case):
    assert case.name not in NAMES, "duplicate case name " + case.name
    NAMES.add(case.name)
    CASES.append(case)


def dims_tag(shape):
    return "x".join(str(d) for d in shape)


def linear(dt, in_f, out_f, lead, bias=True, tag=""):
    dtype = DTYPES[dt]
    shape = tuple(lead) + (in_f,)
    name = "linear_%s_in%d_out%d_%s" % (dt, in_f, out_f,
                                       "%dd_%s" % (len(shape), dims_tag(shape)))
    if not bias:
        name += "_nobias"
    name += tag
    header = [("in_features", [in_f]), ("out_features", [out_f]),
              ("bias", [int(bias)])]
    add(Case(name, dtype, "torch.nn.Linear", [in_f, out_f],
             [("bias", bias)], [("input", shape)], header))


def bilinear(dt, in1, in2, out_f, lead, bias=True, tag=""):
    dtype = DTYPES[dt]
    s1 = tuple(lead) + (in1,)
    s2 = tuple(lead) + (in2,)
    name = "bilinear_%s_in%d_%d_out%d_%dd" % (dt, in1, in2, out_f, len(s1))
    if lead:
        name += "_lead" + dims_tag(lead)
    if not bias:
        name += "_nobias"
    name += tag
    header = [("in1_features", [in1]), ("in2_features", [in2]),
              ("out_features", [out_f]), ("bias", [int(bias)])]
    add(Case(name, dtype, "torch.nn.Bilinear", [in1, in2, out_f],
             [("bias", bias)], [("input1", s1), ("input2", s2)], header))


def _tup(v, nd):
    if isinstance(v, (tuple, list)):
        assert len(v) == nd
        return tuple(v)
    return (v,) * nd


def conv(nd, dt, cin, cout, k, spatial, stride=1, padding=0, dilation=1,
         groups=1, bias=True, mode="zeros", batch=2, tag=""):
    """nd = 1 or 2; spatial = input length (1d) or (H, W) (2d);
    batch = None for an unbatched input."""
    dtype = DTYPES[dt]
    ks = _tup(k, nd)
    st = _tup(stride, nd)
    dl = _tup(dilation, nd)
    sp = _tup(spatial, nd)
    if isinstance(padding, str):
        pad_tag = padding
        pd = None
    else:
        pd = _tup(padding, nd)
        pad_tag = "p" + dims_tag(pd)

    name = "conv%dd_%s_%s_%s_k%s" % (nd, dt, mode, pad_tag, dims_tag(ks))
    if any(s != 1 for s in st):
        name += "_s" + dims_tag(st)
    if any(d != 1 for d in dl):
        name += "_d" + dims_tag(dl)
    if groups != 1:
        if groups == cin and cout % cin == 0:
            name += "_dw%d" % (cout // cin)
        else:
            name += "_g%d" % groups
    name += "_c%dto%d" % (cin, cout)
    if not bias:
        name += "_nobias"
    if batch is None:
        name += "_unbatched"
        shape = (cin,) + sp
    else:
        shape = (batch, cin) + sp
    name += "_in" + dims_tag(sp)
    name += tag

    # constructor call written the way a user would write it
    def arg(v, full):
        return v if isinstance(v, (int, str)) else full
    kwargs = []
    if any(s != 1 for s in st):
        kwargs.append(("stride", arg(stride, st)))
    kwargs.append(("padding", arg(padding, pd)))
    if any(d != 1 for d in dl):
        kwargs.append(("dilation", arg(dilation, dl)))
    if groups != 1:
        kwargs.append(("groups", groups))
    kwargs.append(("bias", bias))
    kwargs.append(("padding_mode", mode))

    header = [("kernel_size", list(ks)), ("stride", list(st)),
              ("padding", [padding] if pd is None else list(pd)),
              ("dilation", list(dl)), ("groups", [groups]),
              ("bias", [int(bias)]), ("padding_mode", [mode]),
              ("in_channels", [cin]), ("out_channels", [cout])]
    ctor = "torch.nn.Conv%dd" % nd
    add(Case(name, dtype, ctor, [cin, cout, k if isinstance(k, int) else ks],
             kwargs, [("input", shape)], header))


def conv1d(*a, **kw):
    conv(1, *a, **kw)


def conv2d(*a, **kw):
    conv(2, *a, **kw)


BOTH = ("f32", "f64")


def build_cases():
    # ---------------- Linear ----------------
    for dt in BOTH:
        linear(dt, 5, 3, [])                      # 1-D input (in,)
        linear(dt, 5, 3, [], bias=False)
        linear(dt, 5, 3, [4])                     # 2-D
        linear(dt, 5, 3, [4], bias=False)
        linear(dt, 4, 6, [2, 3])                  # 3-D
        linear(dt, 5, 4, [2, 2, 3], bias=False)   # 4-D
        linear(dt, 1, 4, [3])                     # in = 1
        linear(dt, 6, 1, [3])                     # out = 1
        linear(dt, 1, 1, [4], bias=False)         # in = out = 1
        linear(dt, 16, 8, [3])                    # wider
    linear("f32", 7, 5, [2, 2, 2])
    linear("f64", 3, 2, [1])                      # batch of one
    linear("f64", 1, 3, [])                       # 1-D, in = 1

    # ---------------- Bilinear ----------------
    for dt in BOTH:
        bilinear(dt, 3, 4, 5, [])                 # unbatched 1-D inputs
        bilinear(dt, 3, 4, 5, [], bias=False)
        bilinear(dt, 3, 2, 4, [4])                # 2-D
        bilinear(dt, 3, 2, 4, [4], bias=False)
        bilinear(dt, 3, 4, 2, [2, 3])             # 3-D
        bilinear(dt, 2, 3, 3, [2, 2, 2])          # 4-D
        bilinear(dt, 1, 3, 1, [3])                # in1 = 1, out = 1
    bilinear("f32", 5, 5, 6, [3], bias=False)
    bilinear("f64", 4, 1, 2, [2, 2])              # in2 = 1

    # ---------------- Conv1d ----------------
    for dt in BOTH:
        conv1d(dt, 3, 4, 3, 8)                                    # plain
        conv1d(dt, 3, 4, 3, 8, padding=1)
        conv1d(dt, 3, 4, 3, 8, padding=1, bias=False)
        conv1d(dt, 3, 4, 3, 8, padding=1, batch=None)             # unbatched
        conv1d(dt, 2, 3, 4, 9, padding="same")                    # even kernel
        conv1d(dt, 2, 3, 3, 9, padding="same", dilation=2)
        conv1d(dt, 4, 4, 3, 7, padding=1, groups=2)
        conv1d(dt, 3, 6, 3, 7, padding=1, groups=3)               # depthwise K=2
        conv1d(dt, 2, 3, 3, 10, padding=1, stride=2)
        conv1d(dt, 2, 2, 3, 6, padding=2, mode="reflect")
        conv1d(dt, 2, 2, 3, 6, padding=2, mode="replicate")
        conv1d(dt, 2, 2, 3, 6, padding=2, mode="circular")
    f32, f64 = "f32", "f64"
    # zeros padding amounts / kernels
    conv1d(f32, 2, 3, 5, 9, padding=2)
    conv1d(f64, 2, 3, 5, 9, padding=3)
    conv1d(f32, 2, 3, 2, 7, padding=0)
    conv1d(f64, 3, 5, 1, 6)                                       # pointwise
    conv1d(f32, 3, 5, 1, 6, stride=2, bias=False)                 # pointwise, strided
    conv1d(f64, 2, 3, 4, 6, padding=2, stride=3)
    conv1d(f32, 2, 2, 3, 12, stride=3)
    conv1d(f64, 2, 2, 3, 11, dilation=3)
    conv1d(f32, 2, 2, 3, 11, padding=3, dilation=3, stride=2)
    conv1d(f64, 2, 3, 2, 9, dilation=2, stride=2, bias=False)
    # output size exactly 1
    conv1d(f32, 2, 3, 5, 5)
    conv1d(f64, 2, 3, 3, 4, stride=3)
    conv1d(f64, 2, 2, 3, 5, dilation=2)
    conv1d(f32, 1, 1, 3, 1, padding=1, batch=None)                # L=1 -> 1
    # padding='same'
    conv1d(f32, 2, 3, 3, 7, padding="same")
    conv1d(f64, 2, 3, 5, 8, padding="same", bias=False)
    conv1d(f32, 2, 2, 2, 6, padding="same", dilation=3)           # total 3, odd
    conv1d(f64, 2, 2, 4, 10, padding="same", dilation=2)          # total 6
    conv1d(f64, 2, 2, 4, 7, padding="same", batch=None)
    conv1d(f32, 4, 4, 3, 6, padding="same", groups=4)             # depthwise K=1
    # padding='valid'
    conv1d(f32, 3, 2, 3, 8, padding="valid")
    conv1d(f64, 3, 2, 3, 8, padding="valid", stride=2)
    conv1d(f64, 2, 2, 3, 7, padding="valid", mode="reflect")
    # reflect
    conv1d(f32, 2, 3, 3, 5, padding=1, mode="reflect", batch=None)
    conv1d(f64, 2, 3, 3, 5, padding=4, mode="reflect")            # max: L-1
    conv1d(f32, 2, 2, 4, 6, padding="same", mode="reflect")       # (1, 2)
    conv1d(f64, 2, 2, 3, 7, padding="same", dilation=2, mode="reflect")
    conv1d(f32, 4, 4, 3, 7, padding=3, stride=2, groups=2, mode="reflect")
    conv1d(f64, 2, 4, 2, 6, padding=1, mode="reflect", bias=False)
    # replicate
    conv1d(f64, 2, 3, 3, 5, padding=1, mode="replicate", batch=None)
    conv1d(f32, 2, 2, 3, 4, padding=6, mode="replicate")          # pad > L
    conv1d(f64, 2, 2, 2, 7, padding="same", dilation=3, mode="replicate")
    conv1d(f32, 3, 6, 3, 8, padding=2, stride=3, groups=3, mode="replicate")
    # circular
    conv1d(f32, 2, 3, 3, 5, padding=1, mode="circular", batch=None)
    conv1d(f64, 2, 2, 3, 5, padding=5, mode="circular")           # max: pad == L
    conv1d(f64, 2, 2, 4, 6, padding="same", mode="circular")      # (1, 2)
    conv1d(f32, 2, 2, 3, 8, padding="same", dilation=2, mode="circular")
    conv1d(f64, 4, 2, 3, 7, padding=2, stride=2, groups=2, mode="circular",
           bias=False)
    conv1d(f32, 2, 2, 4, 5, padding="same", mode="circular", batch=None)

    # ---------------- Conv2d ----------------
    for dt in BOTH:
        conv2d(dt, 2, 3, 3, (5, 6))
        conv2d(dt, 2, 3, 3, (5, 6), padding=1)
        conv2d(dt, 2, 3, 3, (5, 6), padding=1, bias=False, batch=None)
        conv2d(dt, 2, 3, (3, 2), (6, 5), padding=(1, 0))          # non-square
        conv2d(dt, 4, 6, (3, 2), (7, 7), padding="same", stride=1, groups=2,
               bias=True, mode="reflect", batch=None)
        conv2d(dt, 2, 2, (2, 4), (6, 7), padding="same")          # even kernels
        conv2d(dt, 2, 4, 3, (7, 6), padding=1, stride=2)
        conv2d(dt, 4, 4, 3, (6, 6), padding=1, groups=2)
        conv2d(dt, 3, 6, 3, (5, 5), padding=1, groups=3)          # depthwise K=2
        conv2d(dt, 2, 2, 3, (5, 5), padding=(2, 1), mode="reflect")
        conv2d(dt, 2, 2, 3, (5, 5), padding=(1, 2), mode="replicate")
        conv2d(dt, 2, 2, 3, (5, 5), padding=(2, 1), mode="circular")
    # zeros padding amounts / kernels / strides / dilations
    conv2d(f32, 2, 2, 3, (6, 5), padding=(0, 2))
    conv2d(f64, 2, 2, (1, 3), (5, 6), padding=(0, 1))
    conv2d(f32, 2, 2, (3, 1), (6, 5), padding=(2, 0), bias=False)
    conv2d(f64, 3, 4, 1, (5, 5))                                  # pointwise
    conv2d(f32, 3, 4, 1, (5, 6), stride=2, batch=None)
    conv2d(f64, 2, 2, 3, (8, 7), stride=(2, 1), padding=1)
    conv2d(f32, 2, 2, (2, 3), (7, 9), stride=(1, 3), padding=(0, 1))
    conv2d(f64, 2, 3, 3, (9, 9), stride=3, padding=2, bias=False)
    conv2d(f32, 2, 2, 3, (7, 7), dilation=2)
    conv2d(f64, 2, 2, 3, (7, 9), dilation=(2, 3), padding=(1, 2))
    conv2d(f32, 2, 2, (2, 3), (8, 7), dilation=(3, 1), stride=(1, 2))
    conv2d(f64, 2, 2, 4, (5, 6), padding=2)
    conv2d(f32, 2, 2, (5, 3), (9, 6), padding=(2, 1), stride=(2, 1),
           dilation=(1, 2))
    conv2d(f64, 6, 4, 3, (5, 5), padding=1, groups=2, batch=None)
    conv2d(f32, 2, 4, 3, (6, 5), padding=(1, 0), groups=2, stride=(2, 2))
    conv2d(f64, 4, 4, (3, 2), (6, 6), padding=1, groups=4, bias=False)  # dw K=1
    # output size exactly 1 (per spatial dim and in total)
    conv2d(f32, 2, 3, 3, (3, 3))
    conv2d(f64, 2, 3, (3, 4), (3, 4), bias=False)
    conv2d(f64, 2, 2, 3, (5, 4), stride=3)
    conv2d(f32, 2, 2, 2, (3, 5), dilation=(2, 1))                 # H -> 1
    conv2d(f64, 1, 2, 3, (1, 1), padding=1, batch=None)           # 1x1 input
    # padding='same'
    conv2d(f32, 2, 3, 3, (6, 5), padding="same")
    conv2d(f64, 2, 3, (3, 5), (5, 7), padding="same", bias=False)
    conv2d(f32, 2, 2, (4, 3), (8, 6), padding="same", dilation=(2, 1))
    conv2d(f64, 2, 2, (2, 2), (7, 7), padding="same", dilation=(3, 2))
    conv2d(f64, 2, 2, (2, 3), (6, 6), padding="same", batch=None)
    conv2d(f32, 3, 6, 3, (5, 6), padding="same", groups=3)
    conv2d(f64, 3, 3, (4, 1), (6, 4), padding="same", dilation=(1, 2))
    # padding='valid'
    conv2d(f32, 2, 3, (2, 3), (6, 7), padding="valid")
    conv2d(f64, 2, 3, 3, (7, 6), padding="valid", stride=(2, 3))
    conv2d(f32, 2, 2, 3, (5, 5), padding="valid", mode="circular")
    # reflect
    conv2d(f32, 2, 3, 3, (5, 5), padding=1, mode="reflect", batch=None)
    conv2d(f64, 2, 2, 3, (5, 4), padding=(4, 3), mode="reflect")  # max pads
    conv2d(f32, 2, 2, (2, 4), (6, 6), padding="same", mode="reflect")
    conv2d(f64, 2, 2, 3, (7, 6), padding="same", dilation=(2, 1),
           mode="reflect")
    conv2d(f32, 4, 4, 3, (7, 7), padding=(2, 0), stride=2, groups=2,
           mode="reflect", bias=False)
    conv2d(f64, 2, 2, (2, 3), (5, 6), padding=(0, 2), mode="reflect")
    # replicate
    conv2d(f64, 2, 3, 3, (5, 5), padding=1, mode="replicate", batch=None)
    conv2d(f32, 2, 2, 3, (4, 3), padding=(5, 4), mode="replicate")  # pad > size
    conv2d(f64, 2, 2, (4, 2), (7, 6), padding="same", mode="replicate")
    conv2d(f32, 2, 2, (2, 3), (8, 6), padding="same", dilation=(3, 2),
           mode="replicate")
    conv2d(f64, 3, 6, 3, (7, 8), padding=(1, 2), stride=(3, 2), groups=3,
           mode="replicate")
    # circular
    conv2d(f32, 2, 3, 3, (5, 5), padding=1, mode="circular", batch=None)
    conv2d(f64, 2, 2, 3, (4, 3), padding=(4, 3), mode="circular")  # pad == size
    conv2d(f64, 2, 2, (4, 2), (6, 5), padding="same", mode="circular")
    conv2d(f32, 2, 2, 3, (6, 7), padding="same", dilation=(1, 2),
           mode="circular")
    conv2d(f64, 4, 2, 3, (6, 7), padding=(2, 1), stride=(1, 2), groups=2,
           mode="circular", bias=False)
    conv2d(f32, 2, 2, (3, 2), (5, 5), padding="same", mode="circular",
           batch=None)


# ---------------------------------------------------------------------------
# running a case
# ---------------------------------------------------------------------------

def run_case(case):
    seed = seed_for(case.name)
    torch.manual_seed(seed)
    call = case.call()
    module = eval(call, {"torch": torch})        # noqa: S307 - our own string
    inputs = [(n, torch.randn(s, dtype=case.dtype))
              for n, s in case.input_shapes]

    notes = []
    with torch.no_grad():
        try:
            output = module(*[t for _, t in inputs])
        except RuntimeError as e:
            # torch 1.13 refuses padding_mode='circular' on unbatched conv
            # input ("Invalid padding size, expected 0 but got 2"); newer
            # torch versions accept it.  Compute it as a batch of one.
            if (case.ctor.startswith("torch.nn.Conv")
                    and ("'circular'" in call)
                    and "_unbatched" in case.name
                    and "Invalid padding size" in str(e)):
                output = module(inputs[0][1].unsqueeze(0)).squeeze(0)
                notes.append("# note: torch %s refuses unbatched input with "
                             "padding_mode='circular' (RuntimeError: %s);"
                             % (torch.__version__, str(e).strip()))
                notes.append("#       output computed as "
                             "module(input.unsqueeze(0)).squeeze(0)")
            else:
                raise

    lines = ["# produced by: " + call]
    lines.append("# torch %s; torch.manual_seed(%d); module constructed, then "
                 % (torch.__version__, seed)
                 + "; ".join("%s = torch.randn(%s, dtype=torch.%s)"
                             % (n, pyrepr(tuple(s)), DTYPE_NAMES[case.dtype])
                             for n, s in case.input_shapes))
    lines.append("# output = module(%s) under torch.no_grad()"
                 % ", ".join(n for n, _ in inputs))
    lines += notes
    layer = case.ctor.split(".")[-1].lower()
    lines.append("layer " + layer)
    lines.append("dtype " + DTYPE_NAMES[case.dtype])
    for key, vals in case.header:
        lines.append(key + " " + " ".join(str(v) for v in vals))
    for n, t in inputs:
        lines += fmt_tensor(n, t)
    lines += fmt_tensor("weight", module.weight)
    if module.bias is not None:
        lines += fmt_tensor("bias", module.bias)
    lines += fmt_tensor("output", output)

    # sanity: padding attributes of the module agree with what we wrote
    if layer.startswith("conv"):
        hdr = dict(case.header)
        pad = module.padding
        assert (list(pad) if isinstance(pad, tuple) else [pad]) == hdr["padding"]
        assert list(module.kernel_size) == hdr["kernel_size"]
        assert list(module.stride) == hdr["stride"]
        assert list(module.dilation) == hdr["dilation"]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=DEFAULT_OUTDIR)
    args = ap.parse_args()

    torch.set_num_threads(1)
    # "Using padding='same' with even kernel lengths and odd dilation may
    # require a zero-padded copy of the input be created" - expected here.
    warnings.filterwarnings("ignore", message="Using padding='same'")
    torch.use_deterministic_algorithms(True)
    build_cases()

    os.makedirs(args.outdir, exist_ok=True)
    # remove stale case files from earlier runs
    for f in os.listdir(args.outdir):
        if f.endswith(".txt"):
            os.remove(os.path.join(args.outdir, f))

    names = []
    total = 0
    for case in CASES:
        text = run_case(case)
        fname = case.name + ".txt"
        with open(os.path.join(args.outdir, fname), "w", newline="\n") as fh:
            fh.write(text)
        names.append(fname)
        total += len(text)
    with open(os.path.join(args.outdir, "INDEX.txt"), "w", newline="\n") as fh:
        fh.write("".join(n + "\n" for n in names))
    print("wrote %d cases (%d bytes) to %s" % (len(names), total, args.outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
