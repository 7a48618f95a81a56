#!/usr/bin/python3
"""Train a small 1-D CNN in PyTorch and export it for strata's end-to-end test.

Usage (from the repository root; /usr/bin/python3 is the interpreter that
Debian's python3-torch is installed for):

    /usr/bin/python3 tests/reference/train_cnn.py [--outdir DIR] [--steps N]

The task is made up here: classify a noisy 1-channel signal of length 32 as
one of four kinds (0: slow sine, 1: fast sine, 2: square wave, 3: a single
Gaussian bump), each with a random phase or position, amplitude and noise.

The network, which examples/run_pytorch_model.cpp and
tests/io/pytorch_model_test.cpp rebuild with strata:

    torch.nn.Sequential(
        torch.nn.Conv1d(1, 8, kernel_size=5),                        # [N, 1, 32] -> [N, 8, 28]
        torch.nn.ReLU(),
        torch.nn.Conv1d(8, 16, kernel_size=3, stride=2, padding=1),  # -> [N, 16, 14]
        torch.nn.ReLU(),
        torch.nn.Flatten(),                                          # -> [N, 224]
        torch.nn.Linear(16 * 14, 4),                                 # -> [N, 4]
    )

It trains with Adam for a few hundred steps, then writes into
tests/data/pytorch_cnn/ (or DIR):

- model.safetensors: model.state_dict() as float32 ("0.weight", "0.bias",
  "2.weight", ...). Written with the safetensors package when it is
  installed, otherwise by this script following the format's specification.
- inputs.npy: a held-out batch of 16 signals (4 of each kind), float32 [16, 1, 32]
- labels.npy: their true classes, float32 [16]
- logits.npy: model(inputs) in float32, as PyTorch computed them [16, 4]
- logits_f64.npy: the same float32 weights and inputs run in float64
  (model.double()), a reference whose own rounding error is negligible

Everything is seeded (torch.manual_seed(0), one thread, deterministic
algorithms): running the script twice gives identical files.
"""

import argparse
import json
import math
import os
import struct

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTDIR = os.path.normpath(os.path.join(HERE, "..", "data", "pytorch_cnn"))
LENGTH = 32
CLASSES = 4


def make_batch(n, gen, balanced=False):
    """n signals [n, 1, LENGTH] and their classes [n]."""
    if balanced:
        labels = torch.arange(n) % CLASSES
    else:
        labels = torch.randint(0, CLASSES, (n,), generator=gen)
    t = torch.arange(LENGTH, dtype=torch.float32)
    x = torch.empty(n, LENGTH)
    for i in range(n):
        amplitude = 0.5 + torch.rand((), generator=gen).item()
        phase = 2 * math.pi * torch.rand((), generator=gen).item()
        kind = int(labels[i])
        if kind == 0:    # slow sine: 1 to 2 cycles in the window
            cycles = 1 + torch.rand((), generator=gen).item()
            x[i] = amplitude * torch.sin(2 * math.pi * cycles * t / LENGTH + phase)
        elif kind == 1:  # fast sine: 5 to 7 cycles
            cycles = 5 + 2 * torch.rand((), generator=gen).item()
            x[i] = amplitude * torch.sin(2 * math.pi * cycles * t / LENGTH + phase)
        elif kind == 2:  # square wave: 2 to 4 cycles
            cycles = 2 + 2 * torch.rand((), generator=gen).item()
            x[i] = amplitude * torch.sign(torch.sin(2 * math.pi * cycles * t / LENGTH + phase))
        else:            # one Gaussian bump somewhere
            centre = 4 + (LENGTH - 8) * torch.rand((), generator=gen).item()
            width = 1.5 + 2 * torch.rand((), generator=gen).item()
            x[i] = 2 * amplitude * torch.exp(-0.5 * ((t - centre) / width) ** 2)
        x[i] += 0.3 * torch.randn(LENGTH, generator=gen)
    return x.unsqueeze(1), labels


def build_model():
    return torch.nn.Sequential(
        torch.nn.Conv1d(1, 8, kernel_size=5),
        torch.nn.ReLU(),
        torch.nn.Conv1d(8, 16, kernel_size=3, stride=2, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(16 * 14, CLASSES),
    )


def safetensors_bytes(state_dict, metadata):
    """The safetensors container for float32 tensors, as the reference writer lays it out."""
    header, blobs, offset = {}, [], 0
    for name in sorted(state_dict):
        raw = state_dict[name].detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(state_dict[name].shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def save_weights(model, path, metadata):
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        with open(path, "wb") as f:
            f.write(safetensors_bytes(state, metadata))
        return "written by train_cnn.py (safetensors package not installed)"
    save_file(state, path, metadata=metadata)
    return "written by safetensors.torch.save_file"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", default=DEFAULT_OUTDIR)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gen = torch.Generator().manual_seed(1234)

    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(args.steps):
        x, y = make_batch(64, gen)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        x_val, y_val = make_batch(1000, gen)
        accuracy = (model(x_val).argmax(1) == y_val).float().mean().item()
        inputs, labels = make_batch(16, gen, balanced=True)
        logits = model(inputs)
        logits_f64 = build_model().double()
        logits_f64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
        logits_f64 = logits_f64(inputs.double())
    print(f"held-out accuracy {accuracy:.3f}; fixture batch accuracy "
          f"{(logits.argmax(1) == labels).float().mean().item():.3f}")
    # The predicted class must not hinge on rounding: every top-2 margin is wide.
    top2 = logits.topk(2, dim=1).values
    margin = (top2[:, 0] - top2[:, 1]).min().item()
    print(f"smallest top-2 logit margin {margin:.4f}")
    assert margin > 1e-3, "a fixture input sits on a decision boundary; change the seed"

    os.makedirs(args.outdir, exist_ok=True)
    metadata = {"format": "pt", "producer": "tests/reference/train_cnn.py", "torch": torch.__version__,
                "architecture": "Conv1d(1,8,5) ReLU Conv1d(8,16,3,stride=2,padding=1) ReLU Flatten Linear(224,4)"}
    how = save_weights(model, os.path.join(args.outdir, "model.safetensors"), metadata)
    np.save(os.path.join(args.outdir, "inputs.npy"), inputs.numpy().astype("<f4"))
    np.save(os.path.join(args.outdir, "labels.npy"), labels.numpy().astype("<f4"))
    np.save(os.path.join(args.outdir, "logits.npy"), logits.numpy().astype("<f4"))
    np.save(os.path.join(args.outdir, "logits_f64.npy"), logits_f64.numpy().astype("<f8"))
    print(f"model.safetensors {how}; wrote {args.outdir}")


if __name__ == "__main__":
    main()
