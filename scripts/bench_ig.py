#!/usr/bin/python3
"""Benchmark (not a test): integrated gradients on resnet18, lrpx against a
PyTorch implementation, in the same run on the same machine.

  /usr/bin/python3 scripts/bench_ig.py [--lrpx build/src/cli/lrpx] [--steps 50]
        [--rounds 5] [--runs 3] [--threads 1] [--model models/zoo/resnet18.onnx]

Needs models/zoo/resnet18.onnx and .input.npy (scripts/export_zoo.py
--models resnet18; git-ignored). The PyTorch side rebuilds the same module
the exporter wrote (torchvision resnet18, random weights from the exporter's
seed) and checks its logits against the exported ones.

What is timed, batch 1, Gauss-Legendre, `--steps` points:
  lrpx     `lrpx bench MODEL INPUT --method integrated-gradients --steps N`:
           lrpx_session_attribute in one process (the forward pass of x, the
           N path points and the baseline through the second session, the
           float32 sums), median of `--runs` after one warm-up; wall and
           process CPU time.
  PyTorch  Captum 0.8.0's algorithm written out (Captum is not installed):
           the N path points as one float32 batch, one forward and backward,
           the weighted sum, and the two forward passes Captum adds for the
           convergence delta (F(x), F(baseline)); torch.set_num_threads(T);
           median of `--runs` after one warm-up.
The two take turns `--rounds` times (a burst of load hits both); the table
gives the median over the rounds of each side's medians and the ratio
lrpx / PyTorch (below 1: lrpx is faster). The CPU model, thread count and
the load average are printed with the result. Both maps are compared
(relative L2) so the timing is of the same computation.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def load_avg():
    return os.getloadavg()


def torch_model(name, x_np):
    import export_zoo  # the exporter's model builder and seeds
    net = export_zoo.build_big(name).float().eval()
    ref = np.load(os.path.join(ROOT, "models", "zoo", name + ".torch.npy"))
    with torch.no_grad():
        y = net(torch.from_numpy(x_np)).numpy()
    err = np.abs(y - ref).max() / np.abs(ref).max()
    if err > 1e-5:
        raise SystemExit("bench_ig: the rebuilt %s does not match the exported logits (%.3g)"
                         % (name, err))
    return net


def ig_torch(net, x, n):
    """Captum 0.8.0's IntegratedGradients (gausslegendre, zero baseline,
    return_convergence_delta=True) in float32."""
    xi, wi = np.polynomial.legendre.leggauss(n)
    alphas, steps = 0.5 * (1 + xi), 0.5 * wi
    base = torch.zeros_like(x)
    with torch.no_grad():
        out = net(x)
    t = int(out.argmax(1))
    d = x - base
    z = torch.cat([base + float(a) * d for a in alphas]).requires_grad_(True)
    (g,) = torch.autograd.grad(net(z)[:, t].sum(), z)
    w = torch.tensor(steps).float().reshape(-1, 1, 1, 1)
    attr = (g * w).sum(0, keepdim=True) * d
    with torch.no_grad():
        fx, fb = net(x)[0, t], net(base)[0, t]
    delta = attr.sum() - (fx - fb)
    return attr, float(delta)


def time_torch(net, x, n, runs):
    ig_torch(net, x, n)                       # warm-up
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        ig_torch(net, x, n)
        wall.append((time.perf_counter() - w0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return float(np.median(wall)), float(np.median(cpu))


def time_lrpx(lrpx, model, inp, n, runs, threads):
    cmd = [lrpx, "bench", model, inp, "--method", "integrated-gradients", "--steps", str(n),
           "-n", str(runs), "--warmup", "1", "--threads", str(threads)]
    for attempt in range(3):      # a shared machine: a killed run is tried again
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode == 0:
            r = json.loads(p.stdout)
            return r["attribute"]["median_ms"], r["attribute_cpu"]["median_ms"]
        print("  (lrpx bench exited with %d, again)" % p.returncode, file=sys.stderr)
    raise SystemExit("bench_ig: lrpx bench failed: %s" % p.stderr.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lrpx", default=os.path.join(ROOT, "build", "src", "cli", "lrpx"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "zoo", "resnet18.onnx"))
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    name = os.path.basename(args.model)[:-5]
    inp = args.model[:-5] + ".input.npy"
    x_np = np.load(inp).astype(np.float32)
    torch.set_num_threads(args.threads)
    net = torch_model(name, x_np)
    x = torch.from_numpy(x_np)

    # the same computation: compare the maps once
    out_npy = "/tmp/bench_ig_lrpx_%d.npy" % os.getpid()
    subprocess.run([args.lrpx, "explain", args.model, inp, "--method", "integrated-gradients",
                    "--steps", str(args.steps), "-o", out_npy, "--json"], check=True,
                   capture_output=True)
    a_lrpx = np.load(out_npy)
    os.unlink(out_npy)
    a_torch, delta = ig_torch(net, x, args.steps)
    a_torch = a_torch.detach().numpy()
    rel = float(np.linalg.norm(a_lrpx - a_torch) / np.linalg.norm(a_torch))

    print("cpu: %s, %d thread(s), torch %s, load average at start %.2f %.2f %.2f"
          % ((cpu_model(), args.threads, torch.__version__) + load_avg()))
    print("integrated gradients, %s, batch 1, %d Gauss-Legendre steps; maps differ by %.2g "
          "relative L2 (PyTorch's convergence delta %.3g)" % (name, args.steps, rel, delta))
    lw, lc, tw, tc = [], [], [], []
    for r in range(args.rounds):
        a, b = time_lrpx(args.lrpx, args.model, inp, args.steps, args.runs, args.threads)
        lw.append(a)
        lc.append(b)
        a, b = time_torch(net, x, args.steps, args.runs)
        tw.append(a)
        tc.append(b)
        print("  round %d: lrpx %.0f ms (cpu %.0f), pytorch %.0f ms (cpu %.0f)"
              % (r + 1, lw[-1], lc[-1], tw[-1], tc[-1]))
    mlw, mlc, mtw, mtc = (float(np.median(v)) for v in (lw, lc, tw, tc))
    print("| | lrpx ms | PyTorch ms | lrpx / PyTorch |")
    print("|---|---:|---:|---:|")
    print("| wall | %.0f | %.0f | %.2f |" % (mlw, mtw, mlw / mtw))
    print("| CPU | %.0f | %.0f | %.2f |" % (mlc, mtc, mlc / mtc))
    print("load average at the end %.2f %.2f %.2f" % load_avg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
