#!/usr/bin/python3
"""Generate the PyTorch golden data for strata's pooling, BatchNorm and fusion tests.

Usage (from the repository root):

    /usr/bin/python3 tests/reference/generate_pool_bn_golden.py [--outdir DIR]

Writes one text file per case into tests/reference/golden_pool_bn/ (or DIR)
plus INDEX.txt, in the golden format of tests/reference/README.md (read by
tests/golden_reader.hpp). Every case seeds torch from a CRC32 of its own name,
so the output is deterministic and a case's data does not depend on the
others. Torch runs on one thread.

Per layer (the `layer` line), the options and tensors are:
  max_pool1d, max_pool2d   options kernel_size, stride (the value used; option
                           stride_given 0 when stride was None), padding,
                           dilation (one int per spatial dim), ceil_mode 0|1;
                           output = F.max_pool{1,2}d(input, ...)
  avg_pool1d, avg_pool2d   kernel_size, stride, stride_given, padding,
                           ceil_mode, count_include_pad 0|1, divisor_override
                           (0: None); output = F.avg_pool{1,2}d(input, ...)
  adaptive_avg_pool1d/2d   output_size; output = F.adaptive_avg_pool{1,2}d(input, output_size)
  batch_norm1d, batch_norm2d
                           num_features, eps (%.17g), affine 0|1,
                           track_running_stats 0|1; tensors weight, bias (when
                           affine), running_mean, running_var (when tracking,
                           made non-trivial), input, output = module(input) in eval mode
  fuse_conv_bn1d, fuse_conv_bn2d
                           the conv's in_channels, out_channels, kernel_size,
                           stride, padding, dilation, groups, bias; the bn's
                           eps, affine; tensors conv_weight, conv_bias (when
                           bias), bn_weight, bn_bias (when affine),
                           running_mean, running_var, fused_weight,
                           fused_bias (torch.nn.utils.fusion.fuse_conv_bn_eval),
                           input, output = bn(conv(input)) in eval mode

Pooling inputs are random normals; cases named *_nan hold NaN and +-inf.
Inputs have an unbatched variant, sizes where ceil_mode's last-window rule
matters (a last window that would start in the right padding, kernels that
overhang the padded input by less than a stride) and adaptive output sizes
that divide the input, do not divide it, or exceed it.
"""

import argparse
import glob
import itertools
import math
import os
import struct
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.join(HERE, "golden_pool_bn")
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}
TAGS = {torch.float32: "f32", torch.float64: "f64"}


def fmt_value(v, dtype):
    if dtype == torch.float32:
        s = "%.9g" % v
        back = struct.unpack("<f", struct.pack("<f", float(s)))[0]
    else:
        s = "%.17g" % v
        back = float(s)
    same = back == v and math.copysign(1, back) == math.copysign(1, v)
    assert same or (v != v and back != back), (v, s)
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


def ints(v):
    return " ".join(str(x) for x in v)


class Writer:
    def __init__(self, outdir):
        self.outdir = outdir
        self.names = []

    def write(self, name, dtype, call, options, tensors):
        assert name + ".txt" not in self.names, name
        lines = ["# produced by: " + call,
                 "# torch %s; torch.manual_seed(%d) before drawing the tensors, one thread"
                 % (torch.__version__, seed_for(name)),
                 "layer " + options[0][1],
                 "dtype " + DTYPE_NAMES[dtype]]
        lines += ["%s %s" % (k, v) for k, v in options[1:]]
        for tname, t in tensors:
            lines += fmt_tensor(tname, t)
        with open(os.path.join(self.outdir, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.names.append(name + ".txt")


def pool_input(name, dtype, shape, nan):
    torch.manual_seed(seed_for(name))
    x = torch.randn(shape, dtype=dtype)
    if nan:
        flat = x.view(-1)
        n = flat.numel()
        flat[n // 7] = float("nan")
        flat[(3 * n) // 5] = float("inf")
        flat[(4 * n) // 9] = -float("inf")
        flat[n - 2] = float("nan")
    return x


def expand(v, d):
    return tuple(v) if isinstance(v, tuple) else (v,) * d


def pool_cases(w, dtype):
    tag = TAGS[dtype]
    # (dims, input shape, kernel, stride or None, padding, dilation, ceil_mode)
    grid2 = []
    for kernel, stride, padding, dilation, ceil in itertools.product(
            [1, 2, 3, (3, 2)], [None, 1, 2, (2, 1), 3], [0, 1, (1, 0)], [1, 2], [False, True]):
        k = expand(kernel, 2)
        p = expand(padding, 2)
        if any(pi > ki // 2 for pi, ki in zip(p, k)):
            continue
        grid2.append((kernel, stride, padding, dilation, ceil))
    grid1 = []
    for kernel, stride, padding, dilation, ceil in itertools.product(
            [1, 2, 3, 4], [None, 1, 2, 3], [0, 1, 2], [1, 2], [False, True]):
        if padding > kernel // 2:
            continue
        grid1.append((kernel, stride, padding, dilation, ceil))
    # Every second case of the grid in float64, every sixth in float32 (the
    # naive reference implementations of the tests cover the whole grid).
    step = 2 if dtype == torch.float64 else 6
    grid2, grid1 = grid2[::step], grid1[::step]

    def pool_name(kind, kernel, stride, padding, dilation, ceil, extra=""):
        part = lambda v: "x".join(str(x) for x in expand(v, 1)) if isinstance(v, tuple) else str(v)
        s = "%s_%s_k%s_s%s_p%s" % (kind, tag, part(kernel), "N" if stride is None else part(stride), part(padding))
        if dilation is not None:
            s += "_d%s" % part(dilation)
        return s + ("_ceil" if ceil else "") + extra

    def emit_max(dims, shape, kernel, stride, padding, dilation, ceil, extra="", nan=False):
        kind = "max_pool%dd" % dims
        name = pool_name(kind, kernel, stride, padding, dilation, ceil, extra)
        x = pool_input(name, dtype, shape, nan)
        fn = F.max_pool1d if dims == 1 else F.max_pool2d
        y = fn(x, kernel, stride, padding, dilation, ceil_mode=ceil)
        k = expand(kernel, dims)
        w.write(name, dtype, "F.%s(input, %r, %r, %r, %r, ceil_mode=%r)" % (kind, kernel, stride, padding, dilation, ceil),
                [("layer", kind), ("kernel_size", ints(k)), ("stride", ints(expand(stride, dims) if stride else k)),
                 ("stride_given", "1" if stride else "0"), ("padding", ints(expand(padding, dims))),
                 ("dilation", ints(expand(dilation, dims))), ("ceil_mode", "1" if ceil else "0")],
                [("input", x), ("output", y)])

    def emit_avg(dims, shape, kernel, stride, padding, ceil, include_pad, divisor, extra="", nan=False):
        kind = "avg_pool%dd" % dims
        name = pool_name(kind, kernel, stride, padding, None, ceil,
                         ("" if include_pad else "_nopad") + ("_div%d" % divisor if divisor else "") + extra)
        x = pool_input(name, dtype, shape, nan)
        if dims == 1:
            y = F.avg_pool1d(x, kernel, stride, padding, ceil, include_pad)
        else:
            y = F.avg_pool2d(x, kernel, stride, padding, ceil, include_pad, divisor)
        k = expand(kernel, dims)
        w.write(name, dtype, "F.%s(input, %r, %r, %r, %r, %r%s)" % (kind, kernel, stride, padding, ceil, include_pad,
                                                                  ", %r" % divisor if dims == 2 else ""),
                [("layer", kind), ("kernel_size", ints(k)), ("stride", ints(expand(stride, dims) if stride else k)),
                 ("stride_given", "1" if stride else "0"), ("padding", ints(expand(padding, dims))),
                 ("ceil_mode", "1" if ceil else "0"), ("count_include_pad", "1" if include_pad else "0"),
                 ("divisor_override", str(divisor or 0))],
                [("input", x), ("output", y)])

    for kernel, stride, padding, dilation, ceil in grid2:
        emit_max(2, (1, 2, 7, 6), kernel, stride, padding, dilation, ceil)
        if dilation == 1:
            for include_pad in [True, False] if padding != 0 else [True]:
                emit_avg(2, (1, 2, 7, 6), kernel, stride, padding, ceil, include_pad, None)
    for kernel, stride, padding, dilation, ceil in grid1:
        emit_max(1, (2, 2, 9), kernel, stride, padding, dilation, ceil)
        if dilation == 1:
            for include_pad in [True, False] if padding != 0 else [True]:
                emit_avg(1, (2, 2, 9), kernel, stride, padding, ceil, include_pad, None)
    # divisor_override, unbatched inputs, NaN and infinities, the ResNet stem.
    for divisor in [1, 5, -3]:
        emit_avg(2, (1, 2, 7, 6), 3, 2, 1, True, False, divisor)
    emit_max(2, (3, 7, 6), 3, 2, 1, 1, True, "_unbatched")
    emit_max(1, (3, 9), 3, 2, 1, 1, True, "_unbatched")
    emit_avg(2, (3, 7, 6), 3, 2, 1, True, False, None, "_unbatched")
    emit_avg(1, (3, 9), 3, 2, 1, True, False, None, "_unbatched")
    emit_max(2, (2, 3, 8, 9), 3, 2, 1, 1, False, "_nan", nan=True)
    emit_max(1, (2, 3, 17), 3, 1, 1, 1, False, "_nan", nan=True)
    emit_avg(2, (2, 3, 8, 9), 2, None, 0, False, True, None, "_nan", nan=True)
    emit_max(2, (1, 4, 20, 22), 3, 2, 1, 1, False, "_stem")
    # a kernel overhanging the input by less than a stride (ceil_mode only)
    emit_max(2, (1, 2, 2, 2), 3, 2, 0, 1, True, "_overhang")
    emit_avg(2, (1, 2, 2, 2), 3, 2, 0, True, True, None, "_overhang")
    emit_avg(1, (1, 2, 2), 3, 2, 0, True, False, None, "_overhang")
    # dilated windows some of whose outputs see the padding only (-inf)
    emit_max(2, (1, 2, 3, 3), 2, 1, 1, 3, False, "_padonly")

    for out in [1, 2, 3, 4, 5, 7, 9, 13]:
        name = "adaptive_avg_pool1d_%s_out%d" % (tag, out)
        x = pool_input(name, dtype, (2, 3, 9), False)
        w.write(name, dtype, "F.adaptive_avg_pool1d(input, %d)" % out,
                [("layer", "adaptive_avg_pool1d"), ("output_size", str(out))],
                [("input", x), ("output", F.adaptive_avg_pool1d(x, out))])
    for out in [(1, 1), (2, 3), (3, 3), (4, 2), (7, 6), (5, 4), (9, 11), (1, 4)]:
        name = "adaptive_avg_pool2d_%s_out%dx%d" % (tag, out[0], out[1])
        x = pool_input(name, dtype, (2, 2, 7, 6), False)
        w.write(name, dtype, "F.adaptive_avg_pool2d(input, %r)" % (out,),
                [("layer", "adaptive_avg_pool2d"), ("output_size", ints(out))],
                [("input", x), ("output", F.adaptive_avg_pool2d(x, out))])
    for dims, shape, out in [(1, (3, 9), 4), (2, (3, 7, 6), (3, 4))]:
        name = "adaptive_avg_pool%dd_%s_unbatched" % (dims, tag)
        x = pool_input(name, dtype, shape, False)
        fn = F.adaptive_avg_pool1d if dims == 1 else F.adaptive_avg_pool2d
        w.write(name, dtype, "F.adaptive_avg_pool%dd(input, %r)" % (dims, out),
                [("layer", "adaptive_avg_pool%dd" % dims), ("output_size", ints(expand(out, dims)))],
                [("input", x), ("output", fn(x, out))])
    name = "adaptive_avg_pool2d_%s_global_7x7" % tag
    x = pool_input(name, dtype, (2, 16, 7, 7), False)
    w.write(name, dtype, "F.adaptive_avg_pool2d(input, 1)", [("layer", "adaptive_avg_pool2d"), ("output_size", "1 1")],
            [("input", x), ("output", F.adaptive_avg_pool2d(x, 1))])


def make_bn(dims, c, eps, affine, track, dtype):
    bn = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(c, eps=eps, affine=affine, track_running_stats=track,
                                                           dtype=dtype)
    with torch.no_grad():
        if affine:
            bn.weight.copy_(torch.randn(c, dtype=dtype) * 0.5 + 1)
            bn.bias.copy_(torch.randn(c, dtype=dtype) * 0.5)
        if track:
            bn.running_mean.copy_(torch.randn(c, dtype=dtype))
            bn.running_var.copy_(torch.rand(c, dtype=dtype) * 2 + 0.1)
            bn.num_batches_tracked.fill_(7)
    return bn.eval()


def bn_tensors(bn, prefix=""):
    out = []
    if bn.affine:
        out += [(prefix + "weight", bn.weight), (prefix + "bias", bn.bias)]
    if bn.track_running_stats:
        out += [("running_mean", bn.running_mean), ("running_var", bn.running_var)]
    return out


def bn_cases(w, dtype):
    tag = TAGS[dtype]
    for dims, shape, eps, affine, track in [
            (2, (2, 3, 4, 5), 1e-5, True, True), (2, (2, 3, 4, 5), 1e-5, False, True),
            (2, (2, 3, 4, 5), 1e-5, True, False), (2, (2, 3, 4, 5), 1e-5, False, False),
            (2, (3, 5, 2, 3), 1e-3, True, True), (2, (1, 4, 1, 2), 0.1, True, False),
            (2, (2, 20, 3, 7), 1e-5, True, True),
            (1, (4, 3), 1e-5, True, True), (1, (4, 3), 1e-5, False, False), (1, (4, 3), 1e-5, True, False),
            (1, (2, 3, 6), 1e-5, True, True), (1, (2, 3, 6), 1e-5, False, True), (1, (2, 3, 6), 1e-5, True, False),
            (1, (5, 17), 1e-2, True, True), (1, (2, 3, 1), 1e-5, False, False)]:
        name = "batch_norm%dd_%s_%s_eps%g%s%s" % (dims, tag, "x".join(map(str, shape)), eps,
                                                   "" if affine else "_noaffine", "" if track else "_nostats")
        torch.manual_seed(seed_for(name))
        bn = make_bn(dims, shape[1], eps, affine, track, dtype)
        x = torch.randn(shape, dtype=dtype) * 2 + 0.5
        with torch.no_grad():
            y = bn(x)
        w.write(name, dtype, "torch.nn.BatchNorm%dd(%d, eps=%r, affine=%r, track_running_stats=%r).eval()(input)"
                % (dims, shape[1], eps, affine, track),
                [("layer", "batch_norm%dd" % dims), ("num_features", str(shape[1])), ("eps", "%.17g" % eps),
                 ("affine", "1" if affine else "0"), ("track_running_stats", "1" if track else "0")],
                bn_tensors(bn) + [("input", x), ("output", y)])


def fusion_cases(w, dtype):
    tag = TAGS[dtype]
    for dims, cin, cout, k, stride, padding, dilation, groups, bias, affine, eps, shape in [
            (2, 3, 4, 3, 1, 1, 1, 1, False, True, 1e-5, (2, 3, 6, 5)),
            (2, 3, 4, 3, 2, 0, 1, 1, True, True, 1e-5, (2, 3, 7, 6)),
            (2, 4, 6, (3, 1), (2, 1), (1, 0), (1, 2), 2, True, False, 1e-3, (1, 4, 6, 5)),
            (2, 4, 4, 3, 1, 1, 1, 4, False, True, 1e-5, (2, 4, 5, 5)),
            (1, 3, 5, 3, 1, 1, 1, 1, False, True, 1e-5, (2, 3, 8)),
            (1, 4, 6, 2, 2, 0, 2, 2, True, False, 0.1, (3, 4, 9))]:
        name = "fuse_conv_bn%dd_%s_c%dto%d_k%s_g%d%s%s" % (dims, tag, cin, cout, "x".join(map(str, expand(k, 1))),
                                                         groups, "_bias" if bias else "", "" if affine else "_noaffine")
        torch.manual_seed(seed_for(name))
        conv = (nn.Conv1d if dims == 1 else nn.Conv2d)(cin, cout, k, stride, padding, dilation, groups, bias,
                                                       dtype=dtype).eval()
        bn = make_bn(dims, cout, eps, affine, True, dtype)
        fused = fuse_conv_bn_eval(conv, bn)
        x = torch.randn(shape, dtype=dtype)
        with torch.no_grad():
            y = bn(conv(x))
        tensors = [("conv_weight", conv.weight)] + ([("conv_bias", conv.bias)] if bias else [])
        tensors += bn_tensors(bn, "bn_") + [("fused_weight", fused.weight), ("fused_bias", fused.bias),
                                            ("input", x), ("output", y)]
        w.write(name, dtype, "torch.nn.utils.fusion.fuse_conv_bn_eval(torch.nn.Conv%dd(%d, %d, %r, %r, %r, %r, %d, %r), "
                "torch.nn.BatchNorm%dd(%d, eps=%r, affine=%r))" % (dims, cin, cout, k, stride, padding, dilation, groups,
                                                                  bias, dims, cout, eps, affine),
                [("layer", "fuse_conv_bn%dd" % dims), ("in_channels", str(cin)), ("out_channels", str(cout)),
                 ("kernel_size", ints(expand(k, dims))), ("stride", ints(expand(stride, dims))),
                 ("padding", ints(expand(padding, dims))), ("dilation", ints(expand(dilation, dims))),
                 ("groups", str(groups)), ("bias", "1" if bias else "0"), ("eps", "%.17g" % eps),
                 ("affine", "1" if affine else "0")],
                tensors)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR)
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for old in glob.glob(os.path.join(args.outdir, "*.txt")):
        os.remove(old)
    torch.set_num_threads(1)
    w = Writer(args.outdir)
    for dtype in [torch.float64, torch.float32]:
        pool_cases(w, dtype)
        bn_cases(w, dtype)
        fusion_cases(w, dtype)
    with open(os.path.join(args.outdir, "INDEX.txt"), "w") as f:
        f.write("\n".join(w.names) + "\n")
    print("wrote %d cases to %s" % (len(w.names), args.outdir))


if __name__ == "__main__":
    main()
