#!/usr/bin/env python3
"""Writes the conv fuzzer's seed corpus: tests/fuzz/corpus/seed-*.

Each seed is one hand-picked case in the byte layout that
tests/fuzz/conv_fuzz_case.hpp and conv_transpose_fuzz_case.hpp decode (kept in step
with them), for Conv1d, Conv2d, Conv3d, ConvTranspose1d / 2d, Linear and Bilinear: the padding
modes, 'same' and 'valid', groups, depthwise, dilation, stride, unbatched and
empty inputs, non-contiguous layouts, both dtypes, NaN/Inf data, and one case
for each way an input can be invalid (zero, negative and huge sizes, wrong
ranks and channel counts, padding the mode cannot apply, an unknown padding
mode). The fuzzer mutates these; the replay test runs them on every build.

    python3 tests/fuzz/make_seeds.py            # rewrites tests/fuzz/corpus/seed-*

Deterministic: the data bytes come from a fixed-seed generator.
"""
import os
import random
import sys

SPECIALS = [0, -1, -2, 1 << 20, 1 << 31, 1 << 40, 1 << 62, 2**63 - 1, -(2**63), 7, 8, 13, 16, 0, -1, 3]
INT64_MAX = 2**63 - 1

DOUBLE, NONCONTIG, GAUSSIAN, SPECIAL_VALUES, FUNCTIONAL, NO_BIAS = 1, 2, 4, 8, 16, 32
ZEROS, REFLECT, REPLICATE, CIRCULAR, BAD_MODE = 0, 1, 2, 3, 4


def param(value, lo, span):
    """The byte the decoder's param(lo, span) turns into `value`."""
    if lo <= value < lo + span:
        return value - lo
    return 240 + SPECIALS.index(value)


def conv(d, groups=1, in_pg=1, out_pg=1, kernel=3, stride=1, dilation=1, padding=0, pad_kind="explicit",
         mode=ZEROS, rank="batched", batch=2, spatial=None, flags=0, tweak=0, channel_tweak=0):
    as_list = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * d
    kernel, stride, dilation, padding = map(as_list, (kernel, stride, dilation, padding))
    spatial = as_list(spatial if spatial is not None else 8)
    out = [d - 1, flags, param(groups, 1, 4), param(in_pg, 1, 3), param(out_pg, 1, 3), tweak]
    for i in range(d):
        out += [param(kernel[i], 1, 5), param(stride[i], 1, 3), param(dilation[i], 1, 3)]
    out.append({"explicit": 0, "same": 4, "valid": 5}[pad_kind])
    out += [param(p, 0, 5) for p in padding]
    out.append(mode)
    out.append({"unbatched": 0, "too_few_dims": 1, "too_many_dims": 2, "batched": 3}[rank])
    out.append(batch)
    out.append(channel_tweak)
    out += [s for s in spatial]
    return out


def conv3d(**kwargs):
    """A Conv3d case: the conv layout with three spatial dimensions, kind byte 242."""
    out = conv(3, **kwargs)
    out[0] = 242
    return out


def conv_transpose(d, groups=1, in_pg=1, out_pg=1, kernel=3, stride=1, dilation=1, padding=0, output_padding=0,
                   mode=ZEROS, rank="batched", batch=2, spatial=None, size_kind=None, offsets=None, flags=0, tweak=0,
                   channel_tweak=0):
    """A ConvTranspose1d / 2d case (kind bytes 240 / 241, tests/fuzz/conv_transpose_fuzz_case.hpp).
    mode: ZEROS, REFLECT, REPLICATE, CIRCULAR or BAD_MODE (all but zeros are refused);
    size_kind: None, "spatial", "full" or "wrong_count"; offsets: per dimension, -1 .. 2 from the smallest size."""
    as_list = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * d
    kernel, stride, dilation, padding, output_padding = map(as_list, (kernel, stride, dilation, padding,
                                                                      output_padding))
    spatial = as_list(spatial if spatial is not None else 5)
    out = [240 + d - 1, flags, param(groups, 1, 4), param(in_pg, 1, 3), param(out_pg, 1, 3), tweak]
    for i in range(d):
        out += [param(kernel[i], 1, 5), param(stride[i], 1, 3), param(dilation[i], 1, 3), param(padding[i], 0, 4),
                param(output_padding[i], 0, 3)]
    out.append(0 if mode == ZEROS else {REFLECT: 4, REPLICATE: 5, CIRCULAR: 6, BAD_MODE: 7}[mode])
    out.append({"unbatched": 0, "too_few_dims": 1, "too_many_dims": 2, "batched": 3}[rank])
    out.append(batch)
    out.append(channel_tweak)
    out += [s for s in spatial]
    out.append({None: 0, "spatial": 4, "full": 5, "wrong_count": 6}[size_kind])
    out += [o + 1 for o in as_list(offsets if offsets is not None else 0)]
    return out


def linear(in_features, out_features, rank=2, lead=(3, 2), flags=0, mismatch=False):
    return [2, flags, param(in_features, 1, 8), param(out_features, 1, 8), rank - 1, lead[0], lead[1],
            5 if mismatch else 0]


def bilinear(in1, in2, out, rank=2, lead=(3, 2), flags=0, mismatch=7):
    return [3, flags, param(in1, 1, 5), param(in2, 1, 5), param(out, 1, 5), rank - 1, lead[0], lead[1], mismatch]


SEEDS = {
    # Conv1d: every padding mode and padding kind, groups, layouts, dtypes
    "conv1d-zeros-p1": conv(1, in_pg=2, out_pg=3, padding=1, spatial=10),
    "conv1d-reflect-p2": conv(1, in_pg=2, out_pg=2, padding=2, mode=REFLECT),
    "conv1d-replicate-p3-s2-k2": conv(1, kernel=2, stride=2, padding=3, mode=REPLICATE),
    "conv1d-circular-p-equals-input": conv(1, in_pg=2, kernel=2, padding=4, mode=CIRCULAR, spatial=4),
    "conv1d-same-k4-d2-reflect": conv(1, in_pg=3, out_pg=2, kernel=4, dilation=2, pad_kind="same", mode=REFLECT,
                                      spatial=12),
    "conv1d-valid-s3-d2": conv(1, kernel=3, stride=3, dilation=2, pad_kind="valid", spatial=20),
    "conv1d-groups2-double-noncontig": conv(1, groups=2, in_pg=2, out_pg=3, padding=1, flags=DOUBLE | NONCONTIG),
    "conv1d-depthwise": conv(1, groups=3, in_pg=1, out_pg=2, kernel=5, padding=2),
    "conv1d-unbatched-circular": conv(1, in_pg=2, padding=2, mode=CIRCULAR, rank="unbatched"),
    "conv1d-empty-batch": conv(1, in_pg=2, out_pg=3, padding=1, batch=0),
    "conv1d-empty-batch-empty-length": conv(1, kernel=1, padding=1, batch=0, spatial=0),
    "conv1d-gaussian-nan-inf": conv(1, in_pg=2, out_pg=2, padding=1, flags=GAUSSIAN | SPECIAL_VALUES, spatial=16),
    "conv1d-functional-same": conv(1, in_pg=2, out_pg=2, kernel=3, pad_kind="same", flags=FUNCTIONAL | NO_BIAS),
    # Conv1d: refused
    "conv1d-bad-kernel-0": conv(1, kernel=0),
    "conv1d-bad-stride-0": conv(1, stride=0),
    "conv1d-bad-dilation-negative": conv(1, dilation=-1),
    "conv1d-bad-padding-negative": conv(1, padding=-1),
    "conv1d-bad-same-strided": conv(1, stride=2, pad_kind="same"),
    "conv1d-bad-groups-divide": conv(1, groups=2, in_pg=2, tweak=1),
    "conv1d-bad-input-channels": conv(1, in_pg=2, channel_tweak=3),
    "conv1d-bad-rank": conv(1, rank="too_many_dims"),
    "conv1d-bad-reflect-padding": conv(1, kernel=2, padding=4, mode=REFLECT, spatial=4),
    "conv1d-bad-circular-padding": conv(1, kernel=2, padding=3, mode=CIRCULAR, spatial=2),
    "conv1d-bad-huge-padding": conv(1, padding=1 << 40),
    "conv1d-bad-huge-kernel": conv(1, kernel=INT64_MAX),
    "conv1d-bad-huge-dilation": conv(1, kernel=2, dilation=INT64_MAX),
    "conv1d-bad-padding-mode": conv(1, padding=1, mode=BAD_MODE),
    "conv1d-bad-kernel-larger-than-input": conv(1, kernel=5, spatial=3),
    "conv1d-bad-empty-length-padded": conv(1, kernel=1, padding=1, spatial=0),
    "conv1d-bad-empty-length-replicate": conv(1, kernel=1, padding=2, mode=REPLICATE, spatial=0),
    # Conv2d
    "conv2d-3x3-p1": conv(2, in_pg=3, out_pg=2, padding=1),
    "conv2d-torch-docs": conv(2, in_pg=2, out_pg=3, kernel=(3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1),
                              spatial=(12, 10)),
    "conv2d-same-reflect-groups2-double": conv(2, groups=2, in_pg=2, out_pg=3, kernel=(3, 2), pad_kind="same",
                                               mode=REFLECT, flags=DOUBLE, spatial=(7, 7)),
    "conv2d-circular-unbatched": conv(2, in_pg=2, padding=(1, 2), mode=CIRCULAR, rank="unbatched",
                                      spatial=(5, 6)),
    "conv2d-replicate-s2-noncontig-specials": conv(2, in_pg=2, out_pg=2, stride=2, padding=2, mode=REPLICATE,
                                                   flags=NONCONTIG | GAUSSIAN | SPECIAL_VALUES, spatial=(9, 8)),
    "conv2d-pointwise-groups": conv(2, groups=2, in_pg=3, out_pg=2, kernel=1, spatial=(6, 5)),
    "conv2d-valid-dilated": conv(2, kernel=2, dilation=(2, 3), pad_kind="valid", spatial=(9, 11)),
    "conv2d-empty-batch": conv(2, in_pg=2, padding=1, batch=0),
    "conv2d-huge-stride": conv(2, kernel=2, stride=(1 << 40, 1), spatial=(6, 6)),
    "conv2d-functional-double": conv(2, in_pg=2, out_pg=2, padding=(0, 1), flags=FUNCTIONAL | DOUBLE),
    "conv2d-bad-huge-padding": conv(2, padding=(1 << 20, 1 << 20)),
    "conv2d-bad-empty-height-padded": conv(2, kernel=1, padding=1, spatial=(0, 4)),
    "conv2d-bad-too-few-dims": conv(2, rank="too_few_dims"),
    "conv2d-bad-groups-0": conv(2, groups=0),
    # Linear
    "linear-3-4": linear(3, 4),
    "linear-1d-input": linear(5, 2, rank=1),
    "linear-3d-zero-lead": linear(3, 4, rank=3, lead=(0, 2)),
    "linear-empty-batch": linear(4, 3, lead=(0, 0)),
    "linear-double-noncontig-functional-specials": linear(6, 5, rank=3, lead=(3, 3),
                                                          flags=DOUBLE | NONCONTIG | FUNCTIONAL | SPECIAL_VALUES),
    "linear-no-bias-gaussian": linear(8, 7, flags=NO_BIAS | GAUSSIAN),
    "linear-bad-mismatch": linear(3, 4, mismatch=True),
    "linear-bad-in-0": linear(0, 4),
    "linear-bad-huge-in": linear(1 << 40, 4),
    # Bilinear
    "bilinear-3-2-4": bilinear(3, 2, 4),
    "bilinear-1d": bilinear(2, 3, 2, rank=1),
    "bilinear-empty-batch": bilinear(3, 2, 2, lead=(0, 1)),
    "bilinear-double-noncontig-specials": bilinear(4, 3, 2, rank=3, flags=DOUBLE | NONCONTIG | SPECIAL_VALUES),
    "bilinear-bad-in1": bilinear(3, 2, 4, mismatch=0),
    "bilinear-bad-in2": bilinear(3, 2, 4, mismatch=1),
    "bilinear-bad-lead": bilinear(3, 2, 4, mismatch=2),
    "bilinear-bad-rank": bilinear(3, 2, 4, mismatch=3),
    "bilinear-bad-out-negative": bilinear(3, 2, -1),
}

# The later layers, written after the seeds above with a generator of their own, so that adding them left
# every earlier seed byte for byte as it was.
LATER_SEEDS = {
    # ConvTranspose1d / ConvTranspose2d
    "convt1d-k3": conv_transpose(1, in_pg=2, out_pg=3, spatial=6),
    "convt1d-upsample-s2-p1-k4": conv_transpose(1, in_pg=2, out_pg=2, kernel=4, stride=2, padding=1),
    "convt1d-op1-groups2-double": conv_transpose(1, groups=2, in_pg=2, out_pg=1, stride=2, padding=1,
                                                 output_padding=1, flags=DOUBLE | FUNCTIONAL),
    "convt1d-unbatched-dilated": conv_transpose(1, in_pg=2, dilation=2, padding=2, rank="unbatched", spatial=4),
    "convt1d-output-size-top": conv_transpose(1, stride=3, size_kind="spatial", offsets=2),
    "convt1d-empty-batch": conv_transpose(1, in_pg=2, stride=2, batch=0),
    "convt2d-dcgan-s2-p1-k4": conv_transpose(2, in_pg=3, out_pg=2, kernel=4, stride=2, padding=1,
                                             flags=GAUSSIAN | SPECIAL_VALUES),
    "convt2d-mixed-noncontig": conv_transpose(2, groups=2, in_pg=2, out_pg=2, kernel=(3, 2), stride=(2, 1),
                                              padding=(1, 0), output_padding=(1, 0), dilation=(1, 2),
                                              flags=NONCONTIG | NO_BIAS, spatial=(4, 5)),
    "convt2d-output-size-full-double": conv_transpose(2, in_pg=2, stride=2, padding=1, size_kind="full",
                                                      offsets=(1, 0), flags=DOUBLE | FUNCTIONAL),
    "convt2d-depthwise-unbatched": conv_transpose(2, groups=3, kernel=3, padding=1, rank="unbatched"),
    "convt2d-bad-output-padding": conv_transpose(2, stride=2, output_padding=2),
    "convt2d-bad-output-size-below": conv_transpose(2, stride=2, size_kind="spatial", offsets=(-1, 0)),
    "convt2d-bad-output-size-count": conv_transpose(2, stride=2, size_kind="wrong_count"),
    "convt2d-bad-mode-reflect": conv_transpose(2, padding=1, mode=REFLECT),
    "convt2d-bad-mode-enum": conv_transpose(2, mode=BAD_MODE),
    "convt2d-bad-too-small": conv_transpose(2, kernel=1, padding=3, spatial=(2, 2)),
    "convt2d-bad-channels": conv_transpose(2, in_pg=2, channel_tweak=3),
    "convt2d-bad-huge-kernel": conv_transpose(2, kernel=(1 << 40, 3)),
    "convt1d-bad-huge-stride": conv_transpose(1, stride=2**63 - 1, spatial=3),
    # Conv3d
    "conv3d-3x3x3-p1": conv3d(in_pg=2, out_pg=2, padding=1, spatial=(4, 5, 5)),
    "conv3d-reflect-same-double": conv3d(in_pg=2, kernel=(3, 2, 3), pad_kind="same", mode=REFLECT, flags=DOUBLE,
                                         spatial=(4, 4, 5)),
    "conv3d-circular-s2-groups2": conv3d(groups=2, in_pg=1, out_pg=2, stride=(2, 1, 2), padding=(1, 2, 1),
                                         mode=CIRCULAR, spatial=(5, 4, 6)),
    "conv3d-replicate-unbatched-noncontig": conv3d(in_pg=2, padding=(2, 1, 0), mode=REPLICATE, rank="unbatched",
                                                   flags=NONCONTIG | FUNCTIONAL, spatial=(3, 4, 4)),
    "conv3d-depthwise-dilated": conv3d(groups=3, out_pg=2, dilation=(1, 2, 1), padding=1, spatial=(4, 6, 4)),
    "conv3d-pointwise-specials": conv3d(in_pg=3, out_pg=2, kernel=1, flags=GAUSSIAN | SPECIAL_VALUES,
                                        spatial=(3, 3, 4)),
    "conv3d-bad-kernel-larger": conv3d(kernel=(3, 3, 5), spatial=(4, 4, 3)),
    "conv3d-bad-reflect-padding": conv3d(padding=(1, 1, 4), mode=REFLECT, spatial=(4, 4, 4)),
    "conv3d-bad-huge-padding": conv3d(padding=(1 << 40, 1, 1)),
}


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        if name.startswith("seed-"):
            os.remove(os.path.join(out_dir, name))
    rng = random.Random(20240611)
    for name, header in sorted(SEEDS.items()):
        # 8 bytes of generator seed, then data: enough for every input and weight above.
        data = bytes(header) + bytes(rng.randrange(256) for _ in range(8 + 1200))
        with open(os.path.join(out_dir, "seed-" + name), "wb") as f:
            f.write(data)
    later = random.Random(20261202)
    for name, header in sorted(LATER_SEEDS.items()):
        data = bytes(header) + bytes(later.randrange(256) for _ in range(8 + 1200))
        with open(os.path.join(out_dir, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS) + len(LATER_SEEDS)} seeds to {out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
