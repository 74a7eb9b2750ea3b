#!/usr/bin/python3
"""torchvision's vit_b_16 with random weights as ONNX, for the transformer
LRP benchmark (scripts/bench_transformer.sh). Not committed: 330 MB.

    /usr/bin/python3 scripts/export_vit_b_16.py [--opset 14] [--out models/zoo]

Writes OUT/vit_b_16.onnx and OUT/vit_b_16.input.npy (a seeded random
1x3x224x224 image in ImageNet normalisation). torchvision exports its
encoder blocks with nn.MultiheadAttention (a fused in_proj, the q/k/v
split, batched MatMuls and Softmax), LayerNorm (decomposed at opset 14,
LayerNormalization at 17) and the exact GELU.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--opset", type=int, default=14)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "zoo"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(20240611)
    model = torchvision.models.vit_b_16(weights=None).eval()
    # torchvision zeroes the head: random weights, so the logits (and the
    # relevance) are not all 0
    torch.nn.init.normal_(model.heads.head.weight, std=0.02)
    x = torch.randn(1, 3, 224, 224)
    path = os.path.join(args.out, "vit_b_16.onnx")
    torch.onnx.export(model, x, path, opset_version=args.opset, input_names=["input"],
                      output_names=["logits"], do_constant_folding=True)
    np.save(os.path.join(args.out, "vit_b_16.input.npy"), x.numpy().astype(np.float32))
    print(f"wrote {path} ({os.path.getsize(path) >> 20} MB), opset {args.opset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
