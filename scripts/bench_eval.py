#!/usr/bin/python3
"""Benchmark (not a test): `lrpx eval --metric region-perturbation` on
resnet18 for one image against the same metric computed in PyTorch by
region_perturbation_torch below (Quantus 0.6.0's algorithm: a fixed grid of
8x8 patches, most relevant first, black = the minimum of the current
array, 100 steps, one forward pass of the perturbed image per step, as
Quantus does for a batch of one image), in the same run, rounds
interleaved. Both score the same map (gradient x input from lrpx, given
with --relevance), so only the metric is timed. The ratio goes into
docs/performance.md.

    /usr/bin/python3 scripts/export_zoo.py --set big --models resnet18
    /usr/bin/python3 scripts/bench_eval.py [--rounds 5] [--lrpx build/src/cli/lrpx]
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def region_perturbation_torch(model, x, a, y, patch=8, steps=100):
    """Quantus 0.6.0 RegionPerturbation (morf, black, softmax=True) for one
    image x (1,C,H,W) and map a (same shape)."""
    with torch.no_grad():
        y0 = torch.softmax(model(x), dim=-1)[0, y]
        c, h, w = x.shape[1:]
        nby, nbx = h // patch, w // patch
        sums = a[0].reshape(c, nby, patch, nbx, patch).sum(dim=(0, 2, 4)).reshape(-1)
        order = torch.argsort(-sums, stable=True)
        z = x.clone()
        curve = []
        for k in range(min(steps, order.numel())):
            by, bx = divmod(int(order[k]), nbx)
            z[..., by * patch:(by + 1) * patch, bx * patch:(bx + 1) * patch] = z.min()
            curve.append(float(y0 - torch.softmax(model(z), dim=-1)[0, y]))
    return curve


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lrpx", default=os.path.join(ROOT, "build", "src", "cli", "lrpx"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "zoo", "resnet18.onnx"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    from export_zoo import build_big               # the same architecture and seeded weights
    model = build_big("resnet18").eval()
    torch.set_num_threads(args.threads)
    xin = os.path.splitext(args.model)[0] + ".input.npy"
    x = np.load(xin).astype(np.float32)
    env = dict(os.environ, LRPX_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        rel = os.path.join(tmp, "rel.npy")
        subprocess.run([args.lrpx, "gradient", args.model, xin, "--times-input", "-o", rel],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        a = np.load(rel)
        xt, at = torch.from_numpy(x), torch.from_numpy(a)
        with torch.no_grad():
            y = int(model(xt).argmax())
        cmd = [args.lrpx, "eval", args.model, xin, "--relevance", rel, "--target", str(y),
               "--metric", "region-perturbation", "--json"]
        t_lrpx, t_torch = [], []
        for r in range(args.rounds):
            t0 = time.perf_counter()
            out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True).stdout
            t_lrpx.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            curve = region_perturbation_torch(model, xt, at, y)
            t_torch.append(time.perf_counter() - t0)
            print(f"round {r + 1}: lrpx {t_lrpx[-1]:.2f} s, PyTorch {t_torch[-1]:.2f} s", flush=True)
    ml, mt = float(np.median(t_lrpx)), float(np.median(t_torch))
    print(f"CPU: {cpu_model()}, {args.threads} threads, torch {torch.__version__}")
    print(f"region-perturbation (patch 8, 100 steps), resnet18, 1 image: "
          f"lrpx median {ml:.2f} s (min {min(t_lrpx):.2f}), PyTorch median {mt:.2f} s "
          f"(min {min(t_torch):.2f}); PyTorch / lrpx = {mt / ml:.1f}x")
    lrpx_curve = [float(v) for v in __import__("json").loads(out.splitlines()[0])["curve"]]
    print(f"curves: {len(lrpx_curve)} points each; largest |difference| "
          f"{max(abs(p - q) for p, q in zip(lrpx_curve, curve)):.2e} "
          f"(different weights only if the ONNX file was calibrated)")


if __name__ == "__main__":
    main()
