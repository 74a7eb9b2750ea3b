#!/usr/bin/env python3
"""From a PyTorch model to a heatmap with lrpx: the walkthrough of
README.md in one script, which also runs as a test (meson test example).

  1. take a torchvision model in PyTorch and export it to ONNX;
  2. take a real photo (scikit-image's cat, "chelsea") and save it as PNG;
  3. explain it with the lrpx command-line tool;
  4. explain it from Python, in three lines, and check it is the same map;
  5. compare lrpx's input gradient with PyTorch's own (autograd);
  6. score the LRP map and the gradient map by region perturbation, from
     Python and with `lrpx eval`, and check they agree.

Run from the repository after building lrpx (meson setup build && ninja -C build):

  /usr/bin/python3 examples/pytorch-to-heatmap/walkthrough.py

Everything is written to --out (default examples/pytorch-to-heatmap/out/).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from skimage import data as skdata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

try:
    import lrpx
except ImportError:                      # not pip-installed: the package of this checkout
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import lrpx


def find_cli(given):
    for path in [given, os.path.join(ROOT, "build", "src", "cli", "lrpx"), shutil.which("lrpx")]:
        if path and os.path.exists(path):
            return path
    sys.exit("lrpx not found: build it (meson setup build && ninja -C build) or pass --lrpx")


def step(title):
    print("\n== " + title)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--lrpx", help="the lrpx program (default: build/src/cli/lrpx, then PATH)")
    ap.add_argument("--model", default="squeezenet1_1",
                    help="a torchvision model name (default squeezenet1_1)")
    ap.add_argument("--pretrained", action="store_true",
                    help="torchvision's trained weights (downloaded once by torchvision into "
                         "~/.cache/torch); default: random weights, seed 0")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    cli = find_cli(args.lrpx)
    t_start = time.perf_counter()

    step("1. a torchvision model in PyTorch, exported to ONNX")
    torch.manual_seed(0)
    net = getattr(torchvision.models, args.model)(weights="DEFAULT" if args.pretrained else None)
    net.eval()
    onnx_path = os.path.join(args.out, args.model + ".onnx")
    torch.onnx.export(net, torch.zeros(1, 3, 224, 224), onnx_path, input_names=["image"],
                      output_names=["logits"], opset_version=13,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print("wrote %s (%.1f MB)" % (onnx_path, os.path.getsize(onnx_path) / 1e6))

    step("2. a real photo")
    photo = os.path.join(args.out, "chelsea.png")
    Image.fromarray(skdata.chelsea()).save(photo)
    print("wrote %s (%dx%d)" % (photo, *Image.open(photo).size))

    step("3. explain it with the lrpx command")
    rel_cli = os.path.join(args.out, "relevance_cli.npy")
    cmd = [cli, "explain", onnx_path, photo, "--preprocess", "imagenet",
           "--composite", "epsilon_plus_flat", "-o", rel_cli,
           "--heatmap", os.path.join(args.out, "heatmap_cli.png"), "--panel"]
    print("$ " + " ".join(os.path.relpath(c) if os.path.exists(c) else c for c in cmd))
    report = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    print("\n".join(report.splitlines()[:3]))

    step("4. the same from Python")
    x = lrpx.preprocess(photo, preset="imagenet")            # (1, 3, 224, 224) float32
    m = lrpx.Model(onnx_path)
    R = m.explain(x, composite="epsilon_plus_flat")
    same = np.array_equal(R, np.load(rel_cli))
    print("relevance %s, sum %.4f; identical to the CLI's: %s" % (R.shape, R.sum(), same))
    Image.fromarray(lrpx.heatmap(R, cmap="bwr")).save(os.path.join(args.out, "heatmap_py.png"))

    # lrpx's preprocessing against torchvision's transforms on the same photo
    tf = torchvision.transforms
    xt = tf.Compose([tf.Resize(256), tf.CenterCrop(224), tf.ToTensor(),
                     tf.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])(
        Image.open(photo).convert("RGB"))[None]
    prep_diff = float(np.abs(xt.numpy() - x).max())
    print("lrpx.preprocess vs torchvision transforms: max |diff| %.2e" % prep_diff)

    step("5. the input gradient: lrpx against PyTorch's autograd")
    xg = torch.from_numpy(x).requires_grad_(True)
    logits = net(xg)
    cls = int(logits.argmax(1))
    logits[0, cls].backward()
    g_torch = xg.grad.numpy()
    g_lrpx = m.gradient(x)
    rel_err = float(np.abs(g_lrpx - g_torch).max() / np.abs(g_torch).max())
    logit_err = float(np.abs(m.run(x)["logits"] - logits.detach().numpy()).max() /
                      np.abs(logits.detach().numpy()).max())
    print("class %d: logits max rel. diff %.2e, gradient max rel. diff %.2e" %
          (cls, logit_err, rel_err))
    corr = float(np.corrcoef(R.sum(1).ravel(), (g_torch * x).sum(1).ravel())[0, 1])
    print("LRP vs PyTorch gradient x input, per pixel: correlation %.3f" % corr)

    heat = lrpx.heatmap(g_torch, cmap="bwr")
    Image.fromarray(np.concatenate([lrpx.heatmap(R), heat], axis=1)).save(
        os.path.join(args.out, "lrp_vs_torch_gradient.png"))

    step("6. score the maps: region perturbation (AOPC), from Python and with lrpx eval")
    # 64 patches of 28x28, the 16 most relevant blacked out one after the other; the
    # drop of the logit (softmax=False: the raw output, as the random network's
    # probabilities barely move)
    spec = dict(patch_size=28, regions_evaluation=16, softmax=False)
    evals_differ = []
    np.save(os.path.join(args.out, "x.npy"), x)
    for method in ("epsilon_plus_flat", "gradient"):
        r = m.eval(x, "region-perturbation", method=method, **spec)
        cmd = [cli, "eval", onnx_path, os.path.join(args.out, "x.npy"), "--metric",
               "region-perturbation:patch-size=28,regions-evaluation=16,softmax=false", "--method", method,
               "--json"]
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                        text=True).stdout.splitlines()[0])
        if abs(row["extra"]["aopc"] - r.extra["aopc"][0]) > 1e-6 * abs(row["extra"]["aopc"]):
            evals_differ.append(method)
        print("%-18s AOPC %.4g (lrpx eval: %.4g); the first drops %s" % (
            method, r.extra["aopc"][0], row["extra"]["aopc"],
            np.array2string(r.curves[0, :4], precision=3)))
    print("\nwrote %s/{heatmap_cli.png, heatmap_py.png, lrp_vs_torch_gradient.png} in %.1f s" % (
        args.out, time.perf_counter() - t_start))

    problems = []
    if not same:
        problems.append("the Python map differs from the CLI's")
    if logit_err > 1e-4 or rel_err > 1e-3:
        problems.append("lrpx and PyTorch disagree (logits %.1e, gradient %.1e)"
                        % (logit_err, rel_err))
    if evals_differ:
        problems.append("m.eval differs from lrpx eval for " + ", ".join(evals_differ))
    if prep_diff > 1e-5:
        problems.append("preprocessing differs from torchvision's by %.1e" % prep_diff)
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
