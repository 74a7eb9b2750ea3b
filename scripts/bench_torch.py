#!/usr/bin/python3
"""PyTorch peers for scripts/bench.py, float32, on the CPU.

    /usr/bin/python3 scripts/bench_torch.py MODEL.onnx INPUT.npy [--threads T] [-n N]
        [--composite C] [--torchvision NAME]

Prints one JSON line:
  lrp_ms   median time of one explanation with composite C by
           scripts/lrp_reference.py's interpreter run in float32: a
           Zennit-style modified gradient (each linear layer re-run on
           modified weights inside a custom autograd function, relevance
           mapped by autograd). It is our re-implementation of Zennit's
           scheme, not Zennit (which cannot be installed here).
  grad_ms  median time of forward + backward of the torchvision model NAME
           (random weights; the time does not depend on them): the cost of
           any hook-based explainer's autograd pass.
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def timed(fn, n, warmup=1):
    for _ in range(warmup):
        fn()
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--composite", default="epsilon_plus_flat")
    ap.add_argument("--torchvision", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = np.load(a.input).astype(np.float32)
    res = {"threads": a.threads}

    import lrp_reference as ref
    ref.NP_FLOAT = np.float32
    low, high, _ = ref.bounds("imagenet", None)
    built = ref.build(a.model, a.composite, low.float(), high.float())
    res["lrp_ms"] = timed(lambda: ref.run_built(built, x), a.n)

    if a.torchvision:
        import torchvision
        kw = {"aux_logits": False, "init_weights": True} if a.torchvision == "googlenet" else {}
        try:
            net = getattr(torchvision.models, a.torchvision)(weights=None, **kw).eval()
        except AttributeError:
            net = None
        if net is not None:
            xt = torch.from_numpy(x)

            def grad():
                xi = xt.clone().requires_grad_(True)
                y = net(xi)
                y[:, int(y[0].argmax())].sum().backward()

            res["grad_ms"] = timed(grad, a.n)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
