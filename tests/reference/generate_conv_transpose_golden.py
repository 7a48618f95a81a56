#!/usr/bin/python3
"""Generate PyTorch golden data for strata's ConvTranspose1d / ConvTranspose2d and Conv3d tests.

Usage (from the repository root):

    /usr/bin/python3 tests/reference/generate_conv_transpose_golden.py [--outdir DIR]

Writes golden_conv_transpose/ (ConvTranspose1d and ConvTranspose2d over grids
of stride, padding, output_padding, groups, dilation, bias, unbatched inputs
and forward(x, output_size)) and golden_conv3d/ (Conv3d over every Conv2d
option: the four padding modes, 'same' / 'valid', groups, depthwise, stride,
dilation, unbatched inputs) next to this script (or under DIR), each with an
INDEX.txt.  The file format is the one of tests/reference/README.md, read by
tests/golden_reader.hpp; ConvTranspose cases add `output_padding` and, for
forward(x, output_size) cases, `output_size` (the list passed to forward).
Deterministic: every case seeds torch with crc32(case name), so adding or
removing a case changes no other case's data; float32 values are printed
with %.9g, float64 with %.17g (both round-trip exactly).
"""

import argparse
import os
import struct
import warnings
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"f32": torch.float32, "f64": torch.float64}
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}
BOTH = ("f32", "f64")


def fmt_value(v, dtype):
    if dtype == torch.float32:
        s = "%.9g" % v
        back = struct.unpack("<f", struct.pack("<f", float(s)))[0]
    else:
        s = "%.17g" % v
        back = float(s)
    assert back == v, (v, s)
    return s


def fmt_tensor(name, t):
    t = t.detach().contiguous()
    shape = list(t.shape)
    lines = ["tensor %s %d%s" % (name, len(shape), "".join(" %d" % d for d in shape))]
    flat = [float(x) for x in t.reshape(-1).tolist()]
    row = shape[-1] if shape and shape[-1] > 0 else max(len(flat), 1)
    for i in range(0, len(flat), row):
        lines.append(" ".join(fmt_value(v, t.dtype) for v in flat[i:i + row]))
    return lines


def tup(v, nd):
    if isinstance(v, (tuple, list)):
        assert len(v) == nd
        return tuple(v)
    return (v,) * nd


def tag(values):
    return "x".join(str(v) for v in values)


def seed_for(name):
    return zlib.crc32(name.encode("ascii")) & 0x7FFFFFFF


class Case:
    def __init__(self, name, dtype, ctor, args, kwargs, input_shape, header, output_size=None):
        self.name, self.dtype, self.ctor = name, dtype, ctor
        self.args, self.kwargs = args, kwargs
        self.input_shape, self.header, self.output_size = input_shape, header, output_size

    def call(self):
        parts = [repr(a) for a in self.args] + ["%s=%r" % kv for kv in self.kwargs]
        parts.append("dtype=torch.%s" % DTYPE_NAMES[self.dtype])
        return "%s(%s)" % (self.ctor, ", ".join(parts))


TRANSPOSE_CASES, CONV3D_CASES, NAMES = [], [], set()


def add(cases, case):
    assert case.name not in NAMES, case.name
    NAMES.add(case.name)
    cases.append(case)


def conv_transpose(nd, dt, cin, cout, k, spatial, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                   dilation=1, batch=2, output_size=None, full_output_size=False):
    """nd = 1 or 2; batch None: unbatched; output_size: spatial sizes for forward(x, output_size)."""
    ks, st, pd, op, dl, sp = (tup(v, nd) for v in (k, stride, padding, output_padding, dilation, spatial))
    name = "convt%dd_%s_k%s" % (nd, dt, tag(ks))
    for label, values, default in (("s", st, 1), ("p", pd, 0), ("op", op, 0), ("d", dl, 1)):
        if any(v != default for v in values):
            name += "_%s%s" % (label, tag(values))
    if groups != 1:
        name += "_g%d" % groups
    name += "_c%dto%d" % (cin, cout)
    if not bias:
        name += "_nobias"
    shape = (cin,) + sp if batch is None else (batch, cin) + sp
    if batch is None:
        name += "_unbatched"
    name += "_in" + tag(sp)
    size_arg = None
    if output_size is not None:
        size_arg = list(shape[:len(shape) - nd]) + list(output_size) if full_output_size else list(output_size)
        name += "_size" + tag(size_arg)
    kwargs = [("stride", st), ("padding", pd), ("output_padding", op), ("groups", groups), ("bias", bias),
              ("dilation", dl)]
    header = [("kernel_size", ks), ("stride", st), ("padding", pd), ("output_padding", op), ("dilation", dl),
              ("groups", [groups]), ("bias", [int(bias)]), ("in_channels", [cin]), ("out_channels", [cout])]
    if size_arg is not None:
        header.append(("output_size", size_arg))
    add(TRANSPOSE_CASES, Case(name, DTYPES[dt], "torch.nn.ConvTranspose%dd" % nd, [cin, cout, ks], kwargs, shape,
                              header, size_arg))


def conv3d(dt, cin, cout, k, spatial, stride=1, padding=0, dilation=1, groups=1, bias=True, mode="zeros", batch=2):
    ks, st, dl, sp = (tup(v, 3) for v in (k, stride, dilation, spatial))
    pad_tag = padding if isinstance(padding, str) else "p" + tag(tup(padding, 3))
    name = "conv3d_%s_%s_%s_k%s" % (dt, mode, pad_tag, tag(ks))
    if any(s != 1 for s in st):
        name += "_s" + tag(st)
    if any(d != 1 for d in dl):
        name += "_d" + tag(dl)
    if groups != 1:
        name += "_dw%d" % (cout // cin) if groups == cin else "_g%d" % groups
    name += "_c%dto%d" % (cin, cout)
    if not bias:
        name += "_nobias"
    shape = (cin,) + sp if batch is None else (batch, cin) + sp
    if batch is None:
        name += "_unbatched"
    name += "_in" + tag(sp)
    pad_value = padding if isinstance(padding, str) else tup(padding, 3)
    kwargs = [("stride", st), ("padding", pad_value), ("dilation", dl), ("groups", groups), ("bias", bias),
              ("padding_mode", mode)]
    header = [("kernel_size", ks), ("stride", st), ("padding", [padding] if isinstance(padding, str) else pad_value),
              ("dilation", dl), ("groups", [groups]), ("bias", [int(bias)]), ("padding_mode", [mode]),
              ("in_channels", [cin]), ("out_channels", [cout])]
    add(CONV3D_CASES, Case(name, DTYPES[dt], "torch.nn.Conv3d", [cin, cout, ks], kwargs, shape, header))


def build_cases():
    # ---------------- ConvTranspose1d ----------------
    for dt in BOTH:
        conv_transpose(1, dt, 3, 4, 3, 6)                                         # plain
        conv_transpose(1, dt, 3, 4, 4, 7, stride=2, padding=1)                    # the upsampling pattern
        conv_transpose(1, dt, 4, 6, 3, 5, stride=2, padding=1, output_padding=1, groups=2)
        conv_transpose(1, dt, 2, 3, 3, 6, dilation=2, padding=2, bias=False)
        conv_transpose(1, dt, 3, 2, 5, 4, stride=3, padding=2, output_padding=2, batch=None)
        conv_transpose(1, dt, 2, 2, 3, 5, stride=2, output_size=[12])             # forward(x, output_size)
    conv_transpose(1, "f32", 4, 4, 3, 8, groups=4)                                # depthwise-like
    conv_transpose(1, "f64", 3, 6, 1, 5, stride=2, output_padding=1)              # kernel 1
    conv_transpose(1, "f32", 2, 3, 2, 1, stride=4)                                # length 1
    conv_transpose(1, "f64", 2, 2, 3, 6, dilation=3, output_padding=2)            # output_padding < dilation only
    conv_transpose(1, "f64", 2, 2, 4, 5, stride=2, padding=3)                     # padding crops past a tap
    conv_transpose(1, "f32", 2, 2, 3, 5, stride=3, output_size=[16], full_output_size=True)
    conv_transpose(1, "f64", 2, 2, 3, 4, stride=2, batch=None, output_size=[10])

    # ---------------- ConvTranspose2d ----------------
    for dt in BOTH:
        conv_transpose(2, dt, 3, 4, 3, (5, 6))
        conv_transpose(2, dt, 4, 3, 4, (5, 5), stride=2, padding=1)              # DCGAN / decoder upsampling
        conv_transpose(2, dt, 4, 6, 3, (4, 5), stride=2, padding=1, output_padding=1, groups=2)
        conv_transpose(2, dt, 2, 3, (3, 2), (5, 4), stride=(2, 1), padding=(1, 0), bias=False)
        conv_transpose(2, dt, 3, 2, 3, (4, 4), dilation=2, padding=1, batch=None)
        conv_transpose(2, dt, 2, 2, 3, (4, 5), stride=2, output_size=[10, 11])
    conv_transpose(2, "f32", 24, 8, 4, (1, 1), bias=False)                        # DCGAN's first layer, small
    conv_transpose(2, "f64", 3, 3, 3, (4, 4), groups=3)                           # depthwise-like
    conv_transpose(2, "f32", 2, 4, 1, (3, 4), stride=(2, 3), output_padding=(1, 2))
    conv_transpose(2, "f64", 2, 2, (2, 3), (3, 5), stride=(3, 2), padding=(1, 2), dilation=(2, 1))
    conv_transpose(2, "f32", 2, 3, 3, (5, 4), stride=3, padding=2, output_padding=(2, 1), dilation=(1, 2))
    conv_transpose(2, "f64", 2, 2, 3, (3, 3), dilation=3, output_padding=(2, 1))  # output_padding < dilation
    conv_transpose(2, "f32", 6, 4, 2, (4, 4), stride=2, groups=2, bias=False)
    conv_transpose(2, "f64", 2, 2, 4, (3, 3), stride=2, padding=1, output_size=[7, 6], full_output_size=True)
    conv_transpose(2, "f32", 3, 2, 3, (3, 4), stride=2, padding=1, batch=None, output_size=[6, 8])
    conv_transpose(2, "f64", 2, 2, 5, (2, 2), padding=2)                          # output 2x2 from a cropped 5x5 kernel

    # ---------------- Conv3d ----------------
    for dt in BOTH:
        conv3d(dt, 2, 3, 3, (4, 5, 6))
        conv3d(dt, 2, 3, 3, (4, 5, 5), padding=1)
        conv3d(dt, 2, 4, (3, 2, 3), (5, 4, 6), padding=(1, 0, 2), stride=(2, 1, 2))
        conv3d(dt, 4, 4, 3, (4, 4, 4), padding=1, groups=2, bias=False)
        conv3d(dt, 3, 6, 3, (4, 5, 4), padding=1, groups=3)                       # depthwise, multiplier 2
        conv3d(dt, 2, 2, 3, (4, 4, 5), padding="same", mode="reflect")
        conv3d(dt, 2, 2, 3, (3, 4, 4), padding=(1, 2, 1), mode="replicate", batch=None)
        conv3d(dt, 2, 2, 3, (4, 3, 4), padding=(2, 1, 1), mode="circular")
    conv3d("f32", 3, 4, 1, (3, 4, 5))                                             # pointwise
    conv3d("f64", 3, 4, 1, (3, 4, 5), stride=2)                                   # strided kernel 1
    conv3d("f32", 2, 2, 2, (5, 5, 5), padding="same", dilation=(1, 2, 3))         # odd 'same' totals
    conv3d("f64", 2, 3, (2, 3, 2), (4, 6, 5), padding="valid", stride=(1, 2, 2))
    conv3d("f32", 2, 2, 3, (7, 7, 7), dilation=2, padding=2, stride=(2, 3, 1))
    conv3d("f64", 2, 2, (4, 2, 3), (5, 4, 4), padding="same", mode="circular")
    conv3d("f32", 2, 2, 3, (3, 3, 3), padding=(2, 2, 2), mode="reflect")          # reflect at its limit
    conv3d("f64", 2, 2, 3, (2, 3, 3), padding=(4, 1, 0), mode="replicate")        # replicate past the size
    conv3d("f32", 4, 4, 3, (4, 4, 4), padding="same", groups=4, mode="replicate", batch=None)
    conv3d("f64", 1, 2, 3, (1, 1, 1), padding=1, batch=None)                      # a 1x1x1 volume


def run(case):
    seed = seed_for(case.name)
    torch.manual_seed(seed)
    call = case.call()
    module = eval(call, {"torch": torch})  # noqa: S307 - our own string
    x = torch.randn(case.input_shape, dtype=case.dtype)
    with torch.no_grad():
        output = module(x) if case.output_size is None else module(x, output_size=case.output_size)
    lines = ["# produced by: " + call,
             "# torch %s; torch.manual_seed(%d); module constructed, then input = torch.randn(%r, dtype=torch.%s)"
             % (torch.__version__, seed, tuple(case.input_shape), DTYPE_NAMES[case.dtype]),
             "# output = module(input%s) under torch.no_grad()"
             % ("" if case.output_size is None else ", output_size=%r" % case.output_size)]
    layer = {"torch.nn.ConvTranspose1d": "conv_transpose1d", "torch.nn.ConvTranspose2d": "conv_transpose2d",
             "torch.nn.Conv3d": "conv3d"}[case.ctor]
    lines += ["layer " + layer, "dtype " + DTYPE_NAMES[case.dtype]]
    lines += ["%s %s" % (key, " ".join(str(v) for v in values)) for key, values in case.header]
    lines += fmt_tensor("input", x) + fmt_tensor("weight", module.weight)
    if module.bias is not None:
        lines += fmt_tensor("bias", module.bias)
    lines += fmt_tensor("output", output)
    return "\n".join(lines) + "\n"


def write(cases, outdir):
    os.makedirs(outdir, exist_ok=True)
    for f in os.listdir(outdir):
        if f.endswith(".txt"):
            os.remove(os.path.join(outdir, f))
    for case in cases:
        with open(os.path.join(outdir, case.name + ".txt"), "w") as f:
            f.write(run(case))
    with open(os.path.join(outdir, "INDEX.txt"), "w") as f:
        f.write("".join(case.name + ".txt\n" for case in cases))
    print("%s: %d cases" % (outdir, len(cases)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--outdir", default=HERE, help="parent of golden_conv_transpose/ and golden_conv3d/")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    warnings.filterwarnings("ignore", message="Using padding='same'")
    build_cases()
    write(TRANSPOSE_CASES, os.path.join(args.outdir, "golden_conv_transpose"))
    write(CONV3D_CASES, os.path.join(args.outdir, "golden_conv3d"))


if __name__ == "__main__":
    main()
