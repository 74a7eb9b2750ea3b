#!/usr/bin/python3
"""Reference numbers for lrpx eval (tests/test_eval.c, test eval_reference).

An independent float64 NumPy re-implementation of the metric definitions of
docs/evaluation.md (Quantus 0.6.0's, as ../shared/specs/quantus-metrics.md
states them; Quantus itself cannot be installed here), run on the bundled
Fashion-MNIST CNN with the float64 forward and backward passes of
scripts/check_fmnist_onnx.py. Nothing here calls lrpx.

Inputs: the first 4 images of testdata/images/fmnist_batch8.npy (one batch,
as Quantus's x_batch: normalise divides by the largest |a| of the batch).
Maps: scored maps are the float64 gradient x input (written as float32 to
testdata/expected/eval/relevance.npy and read by lrpx with --relevance);
metrics that explain again use the gradient (lrpx --method gradient). The
noise of local-lipschitz / max-sensitivity is a seeded bank written to
noise.npy. Ties in rankings go to the lower flat index (a stable sort), as
lrpx documents.

Writes testdata/expected/eval/{relevance,noise}.npy and cases.json:
[{"spec": ..., "method": "gradient" | null, "noise": bool, "mask": [x,y,w,h]
| null, "what": "curve" | "score" | EXTRA_NAME, "expected": [per input]}].

    /usr/bin/python3 scripts/eval_reference.py
"""

import json
import os
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_fmnist_onnx import grad_numpy, run_numpy  # noqa: E402

ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "testdata", "expected", "eval")
N = 4
MASK = [7, 7, 14, 14]                     # x, y, w, h


class Net:
    def __init__(self, path):
        self.model = onnx.load(path)

    def logits(self, x):
        return run_numpy(self.model, x.astype(np.float32).astype(np.float64))

    def f(self, x, y, softmax):
        """Scored output per sample: logit or softmax probability of y[i]."""
        z = self.logits(x)
        if softmax:
            z = np.exp(z - z.max(axis=1, keepdims=True))
            z = z / z.sum(axis=1, keepdims=True)
        return z[np.arange(len(x)), y]

    def grad(self, x, y):
        return np.stack([grad_numpy(self.model, x[i:i + 1].astype(np.float64), int(y[i]))[0]
                         for i in range(len(x))])


def post(a, normalise, absolute):
    """Quantus: a / max|a| over the whole array (batch included), then |a|."""
    a = a.astype(np.float64).copy()
    m = np.abs(a).max()
    if normalise and m > 0:
        a = a / m
    if absolute:
        a = np.abs(a)
    return a


def trapz(c):
    return float(sum((c[k] + c[k + 1]) / 2 for k in range(len(c) - 1)))


# ---- faithfulness ----

def pixel_flipping(net, x, y, a, step, softmax=True):
    out = []
    for i in range(len(x)):
        order = np.argsort(-a[i].ravel(), kind="stable")
        z = x[i].astype(np.float64).ravel().copy()
        curve = []
        for k in range(z.size // step):
            z[order[k * step:(k + 1) * step]] = z.min()
            curve.append(float(net.f(z.reshape(1, *x.shape[1:]), y[i:i + 1], softmax)[0]))
        out.append(curve)
    return out


def patch_curves(net, x, y, a, p, order, k_max, diff, softmax=True):
    out = []
    c, h, w = x.shape[1:]
    th, tw = (p - h % p) % p, (p - w % p) % p
    top, left = th // 2, tw // 2
    for i in range(len(x)):
        xp = np.pad(x[i].astype(np.float64), ((0, 0), (top, th - top), (left, tw - left)),
                    mode="edge")
        ap = np.pad(a[i], ((0, 0), (top, th - top), (left, tw - left)))
        nby, nbx = xp.shape[1] // p, xp.shape[2] // p
        sums = np.array([ap[:, by * p:(by + 1) * p, bx * p:(bx + 1) * p].sum()
                         for by in range(nby) for bx in range(nbx)])
        idx = np.argsort(-sums if order == "morf" else sums, kind="stable")
        y0 = net.f(x[i:i + 1], y[i:i + 1], softmax)[0]
        curve = []
        for k in range(min(k_max, len(idx))):
            by, bx = divmod(int(idx[k]), nbx)
            xp[:, by * p:(by + 1) * p, bx * p:(bx + 1) * p] = xp.min()
            crop = xp[:, top:top + h, left:left + w]
            fk = net.f(crop[None], y[i:i + 1], softmax)[0]
            curve.append(float(y0 - fk) if diff else float(fk))
        out.append(curve)
    return out


# ---- robustness ----

def continuity(net, x, y, nr_steps=28):
    w = x.shape[-1]
    dx = (2 * w + 1) // nr_steps
    a0 = post(net.grad(x, y) , True, True)        # one chunk: all N inputs
    best = [-np.inf] * len(x)
    for k in range(1, nr_steps + 1):
        t = -w + k * dx
        xt = np.empty_like(x)
        for i in range(len(x)):
            b = x[i].min()
            xt[i] = b
            if t >= 0:
                xt[i][..., t:] = x[i][..., :w - t]
            else:
                xt[i][..., :w + t] = x[i][..., -t:]
        at = post(net.grad(xt, y), True, True)
        for i in range(len(x)):
            num = np.abs(a0[i] - at[i]).sum()
            den = np.sqrt(((x[i].astype(np.float64) - xt[i]) ** 2).sum()) + 1e-9
            best[i] = max(best[i], 0.0 if t == 0 else num / den)
    return best


def noisy(net, x, y, a, noise, kind, normalise):
    best = [-np.inf] * len(x)
    for k in range(noise.shape[0]):
        xk = (x + noise[k][None]).astype(np.float32)
        ak = post(net.grad(xk, y), normalise, False)
        for i in range(len(x)):
            d = np.sqrt(((a[i] - ak[i]) ** 2).sum())
            if kind == "lipschitz":
                r = d / (np.sqrt(((x[i].astype(np.float64) - xk[i]) ** 2).sum()) + 1e-10)
            else:
                r = d / np.sqrt((a[i] ** 2).sum())
            best[i] = max(best[i], r)
    return best


# ---- localisation, complexity, axioms ----

def mask_array(h, w):
    s = np.zeros((h, w), bool)
    x0, y0, mw, mh = MASK
    s[y0:y0 + mh, x0:x0 + mw] = True
    return s


def localisation(a, kind):
    s = mask_array(*a.shape[-2:]).ravel()
    out = []
    for i in range(len(a)):
        ai = a[i].sum(axis=0).ravel()
        if kind == "mass":
            out.append(float(ai[s].sum() / ai.sum()))
        elif kind == "rank":
            k = int(s.sum())
            top = np.argsort(-ai, kind="stable")[:k]
            out.append(float(s[top].sum() / k))
        else:
            out.append(bool(np.any(s & (ai == ai.max()))))
    return out


def gini(a):
    out = []
    for i in range(len(a)):
        v = np.sort(a[i].ravel() + 1e-7)
        n = v.size
        out.append(float(((2 * np.arange(1, n + 1) - n - 1) * v).sum() / (n * v.sum())))
    return out


def entropy(a):
    out = []
    for i in range(len(a)):
        p = a[i].ravel() / np.abs(a[i]).sum()
        out.append(float(-(p * np.log(p + 1e-12)).sum()))
    return out


# ---- randomisation: similarity to the map of another class ----

def ssim_1d(a, b, win=7):
    rng = max(a.max(), b.max()) - min(a.min(), b.min())
    c1, c2 = (0.01 * rng) ** 2, (0.03 * rng) ** 2
    cov = win / (win - 1)
    vals = []
    for i in range(win // 2, a.size - win // 2):
        wa, wb = a[i - win // 2:i + win // 2 + 1], b[i - win // 2:i + win // 2 + 1]
        ux, uy = wa.mean(), wb.mean()
        vx = cov * ((wa * wa).mean() - ux * ux)
        vy = cov * ((wb * wb).mean() - uy * uy)
        vxy = cov * ((wa * wb).mean() - ux * uy)
        vals.append((2 * ux * uy + c1) * (2 * vxy + c2) / ((ux * ux + uy * uy + c1) * (vx + vy + c2)))
    return float(np.mean(vals))


def spearman(a, b):
    def ranks(v):
        order = np.argsort(v, kind="stable")
        r = np.empty(v.size)
        sv = v[order]
        i = 0
        while i < v.size:
            j = i
            while j + 1 < v.size and sv[j + 1] == sv[i]:
                j += 1
            r[order[i:j + 1]] = (i + j) / 2 + 1
            i = j + 1
        return r
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def random_logit(net, x, y, a, sim, n_classes=10, seed=42):
    out = []
    for i in range(len(x)):
        np.random.seed(seed)
        off = np.random.choice([k for k in range(n_classes) if k != y[i]])
        ap = post(net.grad(x[i:i + 1], np.array([off])), True, False)[0]
        fa, fb = a[i].ravel(), ap.ravel()
        out.append(ssim_1d(fa, fb) if sim == "ssim" else spearman(fa, fb))
    return out


def main():
    net = Net(os.path.join(ROOT, "testdata", "models", "fmnist_cnn.onnx"))
    x = np.load(os.path.join(ROOT, "testdata", "images", "fmnist_batch8.npy"))[:N]
    x = x.astype(np.float32)
    y = net.logits(x).argmax(axis=1)
    rel = (net.grad(x, y) * x).astype(np.float32)          # gradient x input, scored maps
    rs = np.random.RandomState(7)
    noise = rs.normal(0, 0.1, size=(10,) + x.shape[1:]).astype(np.float32)
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "relevance.npy"), rel)
    np.save(os.path.join(OUT, "noise.npy"), noise)

    a = post(rel, True, False)                              # normalise=True, abs=False
    a_abs = post(rel, True, True)
    cases = []

    def case(spec, what, expected, method=None, use_noise=False, mask=None):
        cases.append({"spec": spec, "method": method, "noise": use_noise, "mask": mask,
                      "what": what, "expected": expected})

    pf = pixel_flipping(net, x, y, a, 28)
    case("pixel-flipping:features-in-step=28", "curve", pf)
    case("pixel-flipping:features-in-step=28,return-auc-per-sample=true", "score",
         [trapz(c) for c in pf])
    case("region-perturbation:patch-size=4,regions-evaluation=20", "curve",
         patch_curves(net, x, y, a, 4, "morf", 20, True))
    lerf = patch_curves(net, x, y, a, 4, "lerf", 20, True)
    case("region-perturbation:patch-size=4,regions-evaluation=20,order=lerf", "curve", lerf)
    case("region-perturbation:patch-size=5,regions-evaluation=10,softmax=false", "curve",
         patch_curves(net, x, y, a, 5, "morf", 10, True, softmax=False))
    case("selectivity:patch-size=7", "curve", patch_curves(net, x, y, a, 7, "morf", 1000, False))
    morf = patch_curves(net, x, y, a, 4, "morf", 20, True)
    case("lerf-morf-area:patch-size=4,regions-evaluation=20", "score",
         [float(np.mean(np.array(m) - np.array(l))) for m, l in zip(morf, lerf)])
    case("continuity", "score", continuity(net, x, y), method="gradient")
    case("local-lipschitz:nr-samples=10", "score",
         noisy(net, x, y, post(net.grad(x, y), True, False), noise, "lipschitz", True),
         method="gradient", use_noise=True)
    case("max-sensitivity:nr-samples=10", "score",
         noisy(net, x, y, post(net.grad(x, y), False, False), noise, "sensitivity", False),
         method="gradient", use_noise=True)
    case("relevance-mass", "score", localisation(post(rel.sum(axis=1, keepdims=True), True, False),
                                                 "mass"), mask=MASK)
    case("relevance-rank", "score", localisation(post(rel.sum(axis=1, keepdims=True), True, True),
                                                 "rank"), mask=MASK)
    case("pointing-game", "score", localisation(post(rel.sum(axis=1, keepdims=True), True, False),
                                                "pointing"), mask=MASK)
    case("sparseness", "score", gini(a_abs))
    case("complexity", "score", entropy(a_abs))
    fx = net.f(x, y, False)
    fb = np.array([net.f(np.full_like(x[i:i + 1], x[i].min()), y[i:i + 1], False)[0]
                   for i in range(N)])
    case("completeness:normalise=false", "attribution_sum",
         [float(rel[i].astype(np.float64).sum()) for i in range(N)])
    case("completeness:normalise=false", "output_delta", [float(v) for v in fx - fb])
    ga = post(net.grad(x, y), True, False)
    case("random-logit:num-classes=10", "score", random_logit(net, x, y, ga, "ssim"),
         method="gradient")
    case("random-logit:num-classes=10,similarity-func=spearman,seed=3", "score",
         random_logit(net, x, y, ga, "spearman", seed=3), method="gradient")
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"inputs": "images/fmnist_batch8.npy", "n": N, "targets": [int(v) for v in y],
                   "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
