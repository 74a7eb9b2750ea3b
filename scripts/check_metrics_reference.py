#!/usr/bin/python3
"""Reference numbers for the metrics of `lrpx check` (src/eval/), computed
in float64 by an independent re-implementation of their definitions
(../shared/specs/quantus-metrics.md; scipy's spearmanr and skimage's
structural_similarity where Quantus calls them), on the bundled
Fashion-MNIST model and maps that PyTorch made (never lrpx):

  maps       a_i = d logit[predicted] / d input of bundled image i
             (testdata/expected/fmnist_cnn_<i>_grad.npy) times the image
  model      testdata/models/fmnist_cnn.onnx, run by PyTorch (the
             FmnistCnn module with the file's weights), float32

Writes testdata/check/metrics_reference.json, read by tests/test_eval.c:

    /usr/bin/python3 scripts/check_metrics_reference.py
"""

import json
import os
import sys

import numpy as np
import scipy.stats
import skimage.metrics
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import train_fmnist as base  # noqa: E402

BOX = (4, 4, 20, 20)                   # x, y, width, height: the mask of the tests
REGION_CASES = [                       # (patch, order, regions, baseline)
    (4, "morf", 20, "black"),
    (3, "lerf", 30, "mean"),           # 28 is no multiple of 3: padding
    (8, "morf", 100, "white"),         # fewer patches (16) than regions
]


def load_model():
    import onnx
    from onnx import numpy_helper
    net = base.FmnistCnn()
    m = onnx.load(os.path.join(ROOT, "testdata", "models", "fmnist_cnn.onnx"))
    net.load_state_dict({i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                         for i in m.graph.initializer})
    return net.eval()


def relevance_mass(a, s):
    return float((a * s).sum() / a.sum())


def cosine(a, b):
    return float(a.dot(b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def ssim(a, b):
    rng = float(abs(max(a.max(), b.max()) - min(a.min(), b.min())))
    return float(skimage.metrics.structural_similarity(a, b, data_range=rng))


def region_perturbation(net, x, a, cls, patch, order, regions, baseline):
    """The curve f(x) - f(x after k patches), k = 1..K (softmax scores)."""
    c, h, w = x.shape

    def pads(d):
        t = (patch - d % patch) % patch
        return t // 2, t - t // 2
    (pt, pb), (pl, pr) = pads(h), pads(w)
    z = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr)), mode="edge")
    ap = np.pad(a.astype(np.float64), ((0, 0), (pt, pb), (pl, pr)), mode="constant")
    hp, wp = z.shape[1:]
    nby, nbx = hp // patch, wp // patch
    score = np.array([ap[:, by * patch:(by + 1) * patch, bx * patch:(bx + 1) * patch].sum()
                      for by in range(nby) for bx in range(nbx)])
    key = -score if order == "morf" else score
    ranking = np.argsort(key, kind="stable")          # ties: lower patch first

    def f(img):
        with torch.no_grad():
            logits = net(torch.from_numpy(img.astype(np.float32)[None]))
        return float(torch.softmax(logits.double(), 1)[0, cls])
    y0 = f(x)
    curve = []
    for j in ranking[:min(regions, len(ranking))]:
        fill = {"black": z.min(), "white": z.max(), "mean": z.mean()}[baseline]
        by, bx = divmod(int(j), nbx)
        z[:, by * patch:(by + 1) * patch, bx * patch:(bx + 1) * patch] = np.float32(fill)
        curve.append(y0 - f(z[:, pt:pt + h, pl:pl + w]))
    return curve


def main():
    net = load_model()
    x = np.load(os.path.join(ROOT, "testdata", "images", "fmnist_batch8.npy"))
    mask = np.zeros((1, 28, 28))
    bx, by, bw, bh = BOX
    mask[:, by:by + bh, bx:bx + bw] = 1
    out = {"box_xywh": list(BOX), "samples": []}
    maps = []
    for i in range(8):
        g = np.load(os.path.join(ROOT, "testdata", "expected", f"fmnist_cnn_{i}_grad.npy"))
        maps.append((g[0] * x[i]).astype(np.float32))            # 1 x 28 x 28
    for i in range(8):
        a, b = maps[i].astype(np.float64), maps[(i + 1) % 8].astype(np.float64)
        with torch.no_grad():
            cls = int(net(torch.from_numpy(x[i:i + 1])).argmax(1))
        rec = {"index": i, "class": cls,
               "relevance_mass": relevance_mass(a, mask),
               "relevance_mass_abs": relevance_mass(np.abs(a), mask),
               "cosine_next": cosine(a.ravel(), b.ravel()),
               "spearman_next_abs": float(scipy.stats.spearmanr(np.abs(a).ravel(),
                                                                np.abs(b).ravel())[0]),
               "ssim_next": ssim(a[0], b[0]),
               "region": []}
        for patch, order, regions, baseline in REGION_CASES:
            curve = region_perturbation(net, x[i], maps[i], cls, patch, order, regions,
                                        baseline)
            rec["region"].append({"patch_size": patch, "order": order, "regions": regions,
                                  "baseline": baseline, "curve": curve,
                                  "aopc": sum(curve) / (len(curve) + 1)})
        out["samples"].append(rec)
        print(f"sample {i}: class {cls}, mass {rec['relevance_mass']:.4f}, "
              f"ssim {rec['ssim_next']:.4f}, aopc {rec['region'][0]['aopc']:.4f}")
    path = os.path.join(ROOT, "testdata", "check", "metrics_reference.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
