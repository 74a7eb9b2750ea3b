#!/usr/bin/python3
"""Benchmark (not a test): `lrpx eval --metric region-perturbation` on
resnet18 for one image against the same metric computed in PyTorch by
region_perturbation_torch below (Quantus 0.6.0's algorithm: a fixed grid of
8x8 patches, most relevant first, black = the minimum of the current
array, 100 steps, one forward pass of the perturbed image per step, as
Quantus does for a batch of one image), in the same run, rounds
interleaved. Both score the same map (gradient x input from lrpx, given
with --relevance), so only the metric is timed. Wall time and CPU time
(user + system of the lrpx process; of this process for PyTorch) are both
recorded: on a shared machine the CPU-time ratio is the steadier one. The
ratios go into docs/performance.md.

export_zoo.py writes resnet18 with its batch dimension fixed at 1, so lrpx
must run every perturbed copy as its own pass. --dynamic-batch also times a
copy of the same file whose batch dimension is symbolic (the weights
unchanged), which lets lrpx send --batch copies per pass.

    /usr/bin/python3 scripts/export_zoo.py --set big --models resnet18
    /usr/bin/python3 scripts/bench_eval.py [--rounds 5] [--dynamic-batch] [--lrpx build/src/cli/lrpx]
"""

import argparse
import os
import platform
import resource
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


def vector_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return " ".join(x for x in ("sse4_2", "avx", "avx2", "fma", "avx512f")
                                    if x in have)
    except OSError:
        pass
    return "unknown"


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
    ap.add_argument("--dynamic-batch", action="store_true",
                    help="also time lrpx on a copy whose batch dimension is symbolic")
    ap.add_argument("--batch", type=int, default=16, help="lrpx eval --batch (dynamic copy)")
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
        variants = [("lrpx", cmd)]
        if args.dynamic_batch:
            import onnx
            m = onnx.load(args.model)
            for v in list(m.graph.input) + list(m.graph.output):
                d = v.type.tensor_type.shape.dim[0]
                d.ClearField("dim_value")
                d.dim_param = "N"
            dyn = os.path.join(tmp, "resnet18_dyn.onnx")
            onnx.save(m, dyn)
            variants.append((f"lrpx batch {args.batch}",
                             [args.lrpx, "eval", dyn, xin, "--relevance", rel, "--target", str(y),
                              "--metric", "region-perturbation", "--json",
                              "--batch", str(args.batch)]))

        def child_cpu():
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime

        wall = {name: [] for name, _ in variants + [("PyTorch", None)]}
        cpu = {name: [] for name in wall}
        outs = {}
        for r in range(args.rounds):
            for name, c in variants:
                t0, c0 = time.perf_counter(), child_cpu()
                outs[name] = subprocess.run(c, check=True, env=env, capture_output=True,
                                            text=True).stdout
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(child_cpu() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            curve = region_perturbation_torch(model, xt, at, y)
            wall["PyTorch"].append(time.perf_counter() - t0)
            cpu["PyTorch"].append(time.process_time() - c0)
            print(f"round {r + 1}: " + ", ".join(f"{n} {wall[n][-1]:.2f} s wall / {cpu[n][-1]:.2f} s CPU"
                                                  for n in wall), flush=True)
    print(f"CPU: {cpu_model()}, flags: {vector_flags()}, {args.threads} threads, "
          f"torch {torch.__version__}")
    print("region-perturbation (patch 8, 100 steps), resnet18, 1 image, medians:")
    mt_w, mt_c = float(np.median(wall["PyTorch"])), float(np.median(cpu["PyTorch"]))
    for name, _ in variants:
        mw, mc = float(np.median(wall[name])), float(np.median(cpu[name]))
        print(f"  {name}: {mw:.2f} s wall, {mc:.2f} s CPU; PyTorch {mt_w:.2f} s wall, "
              f"{mt_c:.2f} s CPU; PyTorch / lrpx = {mt_w / mw:.1f}x wall, {mt_c / mc:.1f}x CPU")
    out = outs["lrpx"]
    lrpx_curve = [float(v) for v in __import__("json").loads(out.splitlines()[0])["curve"]]
    print(f"curves: {len(lrpx_curve)} points each; largest |difference| "
          f"{max(abs(p - q) for p, q in zip(lrpx_curve, curve)):.2e} "
          f"(different weights only if the ONNX file was calibrated)")


if __name__ == "__main__":
    main()
