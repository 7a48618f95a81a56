#!/usr/bin/python3
"""Export the whole-model benchmark networks for strata_bench's libtorch rows.

Usage: /usr/bin/python3 benchmarks/export_torchscript_models.py OUTDIR

Run by benchmarks/CMakeLists.txt at build time when STRATA_WITH_LIBTORCH=ON
(Debian's python3-torch 1.13 and python3-torchvision 0.14). For each of
torchvision's resnet18 and mobilenet_v2 (1000 classes, random init from
torch.manual_seed(0), eval mode) it writes into OUTDIR:

  <name>.safetensors      the state_dict in float32, which strata's row loads
  <name>.torchscript.pt   the same model traced on a [1, 3, 224, 224] input
                          and frozen (torch.jit.freeze: weights inlined,
                          BatchNorms folded into the convolutions).
                          benchmarks/torch_bridge.cpp loads it with
                          torch::jit::load and runs torch::jit::optimize_for_inference
                          on it (oneDNN layouts where they pay): a module
                          passed through optimize_for_inference cannot be
                          saved and loaded again (torch says serialization
                          is not supported after it; pytorch/pytorch#81085),
                          so that last step is done where the module runs

The output is deterministic.
"""

import json
import os
import struct
import sys

import torch
import torchvision


def write_safetensors(path, state_dict):
    """A float32 safetensors file (written by hand: the safetensors package is not in Debian)."""
    names = {torch.float32: "F32", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in sorted(state_dict.items()):
        t = t.detach().contiguous()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    for name in ("resnet18", "mobilenet_v2"):
        torch.manual_seed(0)
        model = getattr(torchvision.models, name)().eval()
        write_safetensors(os.path.join(outdir, f"{name}.safetensors"), model.state_dict())
        with torch.no_grad():
            example = torch.randn(1, 3, 224, 224)
            traced = torch.jit.trace(model, example)
            frozen = torch.jit.freeze(traced)
            torch.jit.save(frozen, os.path.join(outdir, f"{name}.torchscript.pt"))
            # The file loads, optimises and gives the eager model's logits.
            loaded = torch.jit.optimize_for_inference(torch.jit.load(os.path.join(outdir, f"{name}.torchscript.pt")))
            diff = (loaded(example) - model(example)).abs().max().item()
            if diff > 1e-3:
                sys.exit(f"export_torchscript_models: {name}: the optimised TorchScript module differs by {diff}")
        print(f"export_torchscript_models: wrote {outdir}/{name}.safetensors and {name}.torchscript.pt")


if __name__ == "__main__":
    main()
