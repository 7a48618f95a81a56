#!/usr/bin/python3
"""Generate the end-to-end fixtures of tests/models/torchvision_models_test.cpp.

Usage (from the repository root; /usr/bin/python3 is the interpreter that
Debian's python3-torch 1.13 and python3-torchvision 0.14 are installed for):

    /usr/bin/python3 tests/reference/generate_torchvision_models.py [--outdir DIR]
        writes the committed fixtures into tests/data/torchvision/ (or DIR)

    /usr/bin/python3 tests/reference/generate_torchvision_models.py --full-resnet18 DIR [--run BUILD_DIR]
        opt-in check of a real ResNet-18: writes a random torchvision
        resnet18() (1000 classes, 11.7 M parameters, BatchNorm statistics
        calibrated as below) into DIR as resnet18.safetensors (float32) and
        resnet18.pt (torch.save of the state_dict), with
        resnet18_io.safetensors (a [2, 3, 224, 224] input and PyTorch's
        logits), and prints PyTorch's top-5 classes. With --run it then runs
            STRATA_TORCHVISION_FULL_DIR=DIR BUILD_DIR/tests/strata_models_tests --gtest_filter='*FullResNet18*'
            BUILD_DIR/examples/resnet18 DIR/resnet18.pt DIR/resnet18_io.safetensors
        (the test compares both files' logits with PyTorch's, and the
        example's top-5 classes of image 0 should be the ones printed for
        PyTorch; without the variable the test is skipped, so the README's
        test command needs no PyTorch).

The committed fixtures (about 13 MB; see tests/data/torchvision/README.md):

- mobilenet_v2, mobilenet_v3_small, shufflenet_v2_x1_0 (torchvision's, 10
  classes): <name>.safetensors holds the state_dict with every floating tensor
  in F16 and num_batches_tracked as I64, as torch saves it;
  squeezenet1_1.pt is torch.save(model.state_dict()) in float32 (the file
  strata::io::load_pt reads); signal_cnn.safetensors (F32) is SignalCNN below,
  the 1-D twin of examples/models/signal_cnn.hpp.
- <name>_io.safetensors: "input" (F32), "logits_f32" (F32) and "logits_f64"
  (F64): PyTorch's logits from the very weights in the file (the model is
  rounded to F16 first, then run in float32 and, as model.double(), in float64).
- resnet18_formula_io.safetensors: the input and logits of torchvision's
  resnet18(num_classes=10) whose every tensor is set by formula_tensor()
  below, which the C++ test reproduces bit for bit (11.2 M parameters do not
  fit in a small fixture; the formula makes them without a file).
- architectures.txt: the state_dict keys and shapes of torchvision's
  resnet18, resnet34, mobilenet_v3_large, squeezenet1_0 and
  shufflenet_v2_x0_5 / x1_5 / x2_0 (10 classes), which the test compares with
  the strata models' (those variants have no logits fixture).

Every model: torch.manual_seed(crc32(name)), torchvision's own random init,
then BatchNorm made non-trivial: weight ~ U(0.5, 1.5), bias ~ N(0, 0.2), and
running statistics from 3 train-mode forwards of random batches with
momentum=None (the exact average of the batch statistics; num_batches_tracked
becomes 3), everything else in eval mode; then model.eval(). Single thread,
deterministic algorithms: running the script twice gives identical files.
"""

import argparse
import copy
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.join(HERE, "..", "data", "torchvision")

# ---- safetensors, written by hand (the safetensors package is not in Debian) ----

DTYPE_NAMES = {torch.float16: "F16", torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def safetensors_bytes(tensors):
    """The safetensors container of (name, tensor) pairs, keys sorted, data little-endian."""
    header, blobs, offset = {}, [], 0
    for name, t in sorted(tensors):
        t = t.detach().contiguous()
        if t.dtype == torch.float16:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(path, tensors):
    with open(path, "wb") as f:
        f.write(safetensors_bytes(list(tensors)))


# ---- the 1-D signal CNN (examples/models/signal_cnn.hpp is its strata twin) ----

class ResBlock1d(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv1d(inp, out, 5, stride, 2, bias=False)
        self.bn1 = nn.BatchNorm1d(out)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv1d(out, out, 5, 1, 2, bias=False)
        self.bn2 = nn.BatchNorm1d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv1d(inp, out, 1, stride, bias=False), nn.BatchNorm1d(out))

    def forward(self, x):
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out += self.downsample(x) if self.downsample is not None else x
        return self.relu(out)


class SqueezeExcitation1d(nn.Module):
    def __init__(self, channels, squeeze_channels):
        super().__init__()
        self.fc1 = nn.Conv1d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv1d(squeeze_channels, channels, 1)
        self.activation = nn.ReLU()
        self.scale_activation = nn.Hardsigmoid()

    def forward(self, x):
        scale = x.mean(2, keepdim=True)
        return self.scale_activation(self.fc2(self.activation(self.fc1(scale)))) * x


class MultiScale1d(nn.Module):
    def __init__(self, inp, branch):
        super().__init__()
        self.local = nn.Sequential(nn.Conv1d(inp, branch, 3, 1, 1, bias=False), nn.BatchNorm1d(branch), nn.ReLU6())
        self.wide = nn.Sequential(nn.Conv1d(inp, branch, 3, 1, 2, dilation=2, bias=False), nn.BatchNorm1d(branch),
                                  nn.Hardswish())

    def forward(self, x):
        return torch.cat([self.local(x), self.wide(x)], 1)


class SignalCNN(nn.Module):
    def __init__(self, in_channels=2, num_classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(in_channels, 16, 7, 2, 3, bias=False), nn.BatchNorm1d(16), nn.ReLU())
        self.pool = nn.MaxPool1d(3, 2, 1)
        self.layer1 = ResBlock1d(16, 16, 1)
        self.layer2 = ResBlock1d(16, 32, 2)
        self.se = SqueezeExcitation1d(32, 8)
        self.mixed = MultiScale1d(32, 24)
        self.avgpool = nn.AvgPool1d(3, 2, 1, count_include_pad=False)
        self.head = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(48, num_classes))

    def forward(self, x):
        x = self.se(self.layer2(self.layer1(self.pool(self.stem(x)))))
        return self.head(self.avgpool(self.mixed(x)))


# ---- model preparation ----

def seed_for(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def calibrate_batchnorm(model, input_shape, batches=3, batch_size=8):
    """Random affine BatchNorm parameters, running statistics from train-mode forwards."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in norms:
            m.weight.uniform_(0.5, 1.5)
            m.bias.normal_(0.0, 0.2)
            m.reset_running_stats()
            m.momentum = None  # cumulative average: running stats = mean of the batches' statistics
        model.eval()
        for m in norms:
            m.train()
        for _ in range(batches):
            model(torch.randn((batch_size,) + tuple(input_shape[1:])))
    model.eval()


def round_to_f16(model):
    """Rounds every floating parameter and buffer to float16 (kept as float32)."""
    with torch.no_grad():
        for t in list(model.parameters()) + list(model.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())


def logits_pair(model, x):
    """PyTorch's logits in float32 and, from the same weights widened, in float64."""
    with torch.no_grad():
        y32 = model(x)
        y64 = copy.deepcopy(model).double()(x.double())
    return y32, y64


def describe(name, y32, y64):
    top2 = torch.topk(y64, 2, dim=1).values
    gap = (top2[:, 0] - top2[:, 1]).min().item()
    print(f"{name}: logits {tuple(y32.shape)}, max |logit| {y64.abs().max().item():.3g}, "
          f"smallest top-2 gap {gap:.3g}, |f32 - f64| {(y32.double() - y64).abs().max().item():.3g}, "
          f"classes {y64.argmax(1).tolist()}")


def write_io(outdir, name, x, y32, y64):
    write_safetensors(os.path.join(outdir, f"{name}_io.safetensors"),
                      [("input", x), ("logits_f32", y32), ("logits_f64", y64)])


def state_dict_tensors(model, half):
    out = []
    for key, t in model.state_dict().items():
        out.append((key, t.half() if half and t.is_floating_point() else t))
    return out


# ---- the ResNet-18 formula (tests/models/torchvision_models_test.cpp reproduces it) ----

MASK64 = (1 << 64) - 1


def splitmix64(seed, n):
    """splitmix64's outputs for counters 1..n from `seed`, as uint64 (numpy wraps modulo 2^64)."""
    z = np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def formula_values(key, shape):
    """The values of tensor `key`, exact in float32: c = (top 16 bits of splitmix64) - 32768 in
    [-32768, 32767], seeded by crc32(key), then
      num_batches_tracked: 7
      running_var: 1 + c * 2^-16            running_mean, bias: c * 2^-17
      weight of 1 dim (BatchNorm): 1 + c * 2^-17
      weight of 2+ dims (conv, fc): c * 2^(-15 - k), k the least integer with fan_in <= 12 * 4^k
                                    (fan_in = prod(shape[1:])): U[-b, b) with b^2 in (3, 12] / fan_in
      input: c * 2^-14"""
    n = int(np.prod(shape)) if len(shape) else 1
    if key.endswith("num_batches_tracked"):
        return np.full(n, 7, dtype=np.int64).reshape(shape)
    c = (splitmix64(zlib.crc32(key.encode()), n) >> np.uint64(48)).astype(np.int64) - 32768
    c = c.astype(np.float64)
    if key.endswith("running_var"):
        v = 1 + c * 2.0 ** -16
    elif key.endswith("running_mean") or key.endswith("bias"):
        v = c * 2.0 ** -17
    elif key == "input":
        v = c * 2.0 ** -14
    elif len(shape) == 1:
        v = 1 + c * 2.0 ** -17
    else:
        fan_in = int(np.prod(shape[1:]))
        k = 0
        while fan_in > 12 * 4 ** k:
            k += 1
        v = c * 2.0 ** (-15 - k)
    return v.reshape(shape)


def formula_tensor(key, shape, dtype):
    v = formula_values(key, tuple(shape))
    return torch.from_numpy(v) if v.dtype == np.int64 else torch.from_numpy(v).to(dtype)


def write_resnet18_formula(outdir):
    torch.manual_seed(seed_for("resnet18_formula"))
    model = torchvision.models.resnet18(num_classes=10).eval()
    with torch.no_grad():
        for key, t in model.state_dict().items():
            t.copy_(formula_tensor(key, t.shape, t.dtype))
    x = formula_tensor("input", (2, 3, 40, 48), torch.float32)
    y32, y64 = logits_pair(model, x)
    describe("resnet18_formula", y32, y64)
    write_io(outdir, "resnet18_formula", x, y32, y64)


# ---- the committed fixtures ----

CASES = [
    # name, constructor, input shape, file format
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(num_classes=10), (2, 3, 64, 48), "f16"),
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(num_classes=10), (2, 3, 64, 48), "f16"),
    ("shufflenet_v2_x1_0", lambda: torchvision.models.shufflenet_v2_x1_0(num_classes=10), (2, 3, 64, 48), "f16"),
    # 65 x 57: every ceil_mode max pool keeps a last window that floor mode would drop
    ("squeezenet1_1", lambda: torchvision.models.squeezenet1_1(num_classes=10), (2, 3, 65, 57), "pt"),
    ("signal_cnn", lambda: SignalCNN(2, 5), (3, 2, 250), "f32"),
]

ARCHITECTURES = [
    ("resnet18", torchvision.models.resnet18),
    ("resnet34", torchvision.models.resnet34),
    ("mobilenet_v3_large", torchvision.models.mobilenet_v3_large),
    ("squeezenet1_0", torchvision.models.squeezenet1_0),
    ("shufflenet_v2_x0_5", torchvision.models.shufflenet_v2_x0_5),
    ("shufflenet_v2_x1_5", torchvision.models.shufflenet_v2_x1_5),
    ("shufflenet_v2_x2_0", torchvision.models.shufflenet_v2_x2_0),
]


def write_case(outdir, name, make, input_shape, fmt):
    torch.manual_seed(seed_for(name))
    model = make()
    calibrate_batchnorm(model, input_shape)
    if fmt == "f16":
        round_to_f16(model)
    x = torch.randn(input_shape)
    y32, y64 = logits_pair(model, x)
    describe(name, y32, y64)
    if fmt == "pt":
        torch.save(model.state_dict(), os.path.join(outdir, f"{name}.pt"))
    else:
        write_safetensors(os.path.join(outdir, f"{name}.safetensors"), state_dict_tensors(model, fmt == "f16"))
    write_io(outdir, name, x, y32, y64)


def write_architectures(outdir):
    lines = ["# torchvision 0.14 state_dict keys and shapes, num_classes=10: 'model <name>' then '<key> <dims...>'"]
    for name, make in ARCHITECTURES:
        lines.append(f"model {name}")
        for key, t in make(num_classes=10).state_dict().items():
            lines.append(" ".join([key] + [str(d) for d in t.shape]))
    with open(os.path.join(outdir, "architectures.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_full_resnet18(outdir):
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(seed_for("resnet18_full"))
    model = torchvision.models.resnet18()
    calibrate_batchnorm(model, (2, 3, 224, 224))
    x = torch.randn(2, 3, 224, 224)
    y32, y64 = logits_pair(model, x)
    describe("resnet18 (full)", y32, y64)
    write_safetensors(os.path.join(outdir, "resnet18.safetensors"), state_dict_tensors(model, False))
    torch.save(model.state_dict(), os.path.join(outdir, "resnet18.pt"))
    write_io(outdir, "resnet18", x, y32, y64)
    probs = torch.softmax(y64[:1], dim=1)[0]
    top = torch.topk(probs, 5)
    print("PyTorch top-5 of image 0: " + ", ".join(f"{i} ({p:.4f})" for p, i in zip(top.values.tolist(),
                                                                                  top.indices.tolist())))
    print(f"wrote {outdir}/resnet18.safetensors, resnet18.pt, resnet18_io.safetensors")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR, help="where the committed fixtures go")
    parser.add_argument("--full-resnet18", metavar="DIR", help="write a real random ResNet-18 into DIR instead")
    parser.add_argument("--run", metavar="BUILD_DIR", help="with --full-resnet18: run the C++ check and the example")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}")

    if args.full_resnet18:
        write_full_resnet18(args.full_resnet18)
        if args.run:
            env = dict(os.environ, STRATA_TORCHVISION_FULL_DIR=os.path.abspath(args.full_resnet18))
            tests = os.path.join(args.run, "tests", "strata_models_tests")
            code = subprocess.call([tests, "--gtest_filter=*FullResNet18*"], env=env)
            example = os.path.join(args.run, "examples", "resnet18")
            if os.path.exists(example):
                code |= subprocess.call([example, os.path.join(args.full_resnet18, "resnet18.pt"),
                                         os.path.join(args.full_resnet18, "resnet18_io.safetensors")])
            sys.exit(code)
        return

    os.makedirs(args.outdir, exist_ok=True)
    for name in os.listdir(args.outdir):
        if name.endswith((".safetensors", ".pt")):
            os.remove(os.path.join(args.outdir, name))
    for case in CASES:
        write_case(args.outdir, *case)
    write_resnet18_formula(args.outdir)
    write_architectures(args.outdir)


if __name__ == "__main__":
    main()
