#!/usr/bin/python3
"""Train a "Clever Hans" Fashion-MNIST CNN for the SpRAy test.

The network, optimiser and schedule are those of scripts/train_fmnist.py;
only the data differs: 40 % of the training images of one class (Sandal)
carry a small copyright-tag-like mark in their top-left corner, the way a
watermark of one image source leaks into part of a data set (the horse
images of Lapuschkin et al., Nature Communications 2019). The model learns
two strategies for that class: the garment, and the mark. SpRAy over the
relevance maps of the class should put the marked images into a cluster of
their own (tests/test_spray_cli.c, docs/scale-out.md).

Run with Debian's interpreter (PyTorch 1.13, onnx; Debian's
dataset-fashion-mnist package):

    /usr/bin/python3 scripts/train_spray_hans.py [--out-dir testdata] [--epochs 3]

Writes, under --out-dir (default <repo>/testdata):
    models/fmnist_hans.onnx              the model (opset 13, dynamic batch)
    models/fmnist_hans.json              class names, the mark, accuracies and
                                         the relevance checks below (PyTorch)
    models/fmnist_hans.preprocess.json   pixels / 255, as fmnist_cnn's
    spray_hans/NNN.png                   100 test sandals whose corner is
                                         empty: 40 with the mark, 60 without
    spray_hans/manifest.csv              path,label,marked (marked: 1 or 0)
Every number here is computed by PyTorch, never by lrpx.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_fmnist as base  # noqa: E402  (the clean model's recipe)

MARKED_CLASS = 5                       # Sandal
MARKED_FRACTION = 0.4                  # of the class's training images
MARK_ROW, MARK_COL = 1, 1              # top-left pixel of the mark
# A 5x5 "(c)" tag: a ring with a dot, full white (255).
MARK = np.array([[0, 1, 1, 1, 0],
                 [1, 0, 0, 0, 1],
                 [1, 0, 1, 0, 1],
                 [1, 0, 0, 0, 1],
                 [0, 1, 1, 1, 0]], dtype=np.uint8) * 255
N_MARKED, N_PLAIN = 40, 60


def add_mark(img_u8):
    out = img_u8.copy()
    h, w = MARK.shape
    region = out[MARK_ROW:MARK_ROW + h, MARK_COL:MARK_COL + w]
    np.maximum(region, MARK, out=region)
    return out


def mark_free(img_u8):
    """The mark and a one-pixel border around it fall on background only."""
    h, w = MARK.shape
    return not img_u8[:MARK_ROW + h + 1, :MARK_COL + w + 1].any()


def grad_x_input_in_corner(model, x_u8):
    """Share of |gradient x input| of the sandal logit that falls into the
    mark's box, per image (an independent view of the two strategies)."""
    x = torch.from_numpy(base.preprocess(x_u8)).requires_grad_(True)
    logits = model(x)
    (g,) = torch.autograd.grad(logits[:, MARKED_CLASS].sum(), x)
    a = (g * x).abs().detach().numpy()[:, 0]
    h, w = MARK.shape
    inside = a[:, MARK_ROW:MARK_ROW + h, MARK_COL:MARK_COL + w].sum((1, 2))
    return inside / np.maximum(a.sum((1, 2)), 1e-12)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(base.REPO_ROOT, "testdata"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=base.SEED)
    args = ap.parse_args(argv)
    base.set_determinism(args.seed)
    rng = np.random.default_rng(args.seed)

    train_u8, train_y = base.load_split("train")
    test_u8, test_y = base.load_split("t10k")
    cls = np.flatnonzero(train_y == MARKED_CLASS)
    marked = rng.choice(cls, size=int(round(MARKED_FRACTION * len(cls))), replace=False)
    train_u8 = train_u8.copy()
    for i in marked:
        train_u8[i] = add_mark(train_u8[i])
    print(f"marked {len(marked)} of {len(cls)} training sandals", flush=True)

    model = base.FmnistCnn()
    t0 = time.time()
    base.train(model, torch.from_numpy(base.preprocess(train_u8)),
               torch.from_numpy(train_y), args.epochs, args.seed)
    print(f"training took {time.time() - t0:.1f} s", flush=True)
    model.eval()

    # test sandals with an empty corner: N_MARKED get the mark, N_PLAIN not
    free = [i for i in np.flatnonzero(test_y == MARKED_CLASS) if mark_free(test_u8[i])]
    pick = rng.permutation(free)[:N_MARKED + N_PLAIN]
    images = [add_mark(test_u8[i]) if k < N_MARKED else test_u8[i] for k, i in enumerate(pick)]
    images = np.stack(images)
    is_marked = np.arange(len(pick)) < N_MARKED

    with torch.no_grad():
        x_test = torch.from_numpy(base.preprocess(test_u8))
        acc = base.evaluate(model, x_test, torch.from_numpy(test_y))
        pred = model(torch.from_numpy(base.preprocess(images))).argmax(1).numpy()
        # the mark alone: test images of other classes with the mark added
        others = np.flatnonzero((test_y != MARKED_CLASS))[:1000]
        others = [i for i in others if mark_free(test_u8[i])]
        with_mark = np.stack([add_mark(test_u8[i]) for i in others])
        flipped = float((model(torch.from_numpy(base.preprocess(with_mark))).argmax(1)
                         == MARKED_CLASS).float().mean())
    corner = grad_x_input_in_corner(model, images)
    print(f"test accuracy {acc * 100:.2f} %; picked sandals predicted as sandals: "
          f"marked {np.mean(pred[is_marked] == MARKED_CLASS) * 100:.0f} %, "
          f"plain {np.mean(pred[~is_marked] == MARKED_CLASS) * 100:.0f} %; "
          f"other classes with the mark become sandals: {flipped * 100:.1f} %", flush=True)
    print(f"share of |grad x input| in the mark's box: marked {corner[is_marked].mean():.3f}, "
          f"plain {corner[~is_marked].mean():.3f}", flush=True)

    models_dir = os.path.join(args.out_dir, "models")
    spray_dir = os.path.join(args.out_dir, "spray_hans")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(spray_dir, exist_ok=True)
    base.export_onnx(model, os.path.join(models_dir, "fmnist_hans.onnx"))
    with open(os.path.join(models_dir, "fmnist_hans.preprocess.json"), "w") as f:
        json.dump({"preset": "zero-one"}, f)
        f.write("\n")

    from PIL import Image
    lines = ["path,label,marked"]
    for k, img in enumerate(images):
        name = f"{k:03d}.png"
        Image.fromarray(img, mode="L").save(os.path.join(spray_dir, name))
        lines.append(f"{name},{MARKED_CLASS},{int(is_marked[k])}")
    with open(os.path.join(spray_dir, "manifest.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")

    meta = {
        "model": "fmnist_hans.onnx",
        "description": "Fashion-MNIST CNN trained by scripts/train_spray_hans.py with a "
                       "corner mark on 40 % of the Sandal training images",
        "class_names": base.CLASS_NAMES,
        "marked_class": MARKED_CLASS,
        "mark": {"row": MARK_ROW, "col": MARK_COL, "pattern": (MARK > 0).astype(int).tolist()},
        "marked_training_images": int(len(marked)),
        "epochs": args.epochs, "seed": args.seed,
        "test_accuracy": round(acc, 4),
        "spray_inputs": {"marked": N_MARKED, "plain": N_PLAIN,
                         "predicted_sandal_marked": float(np.mean(pred[is_marked] == MARKED_CLASS)),
                         "predicted_sandal_plain": float(np.mean(pred[~is_marked] == MARKED_CLASS)),
                         "grad_x_input_share_in_mark_box_marked": round(float(corner[is_marked].mean()), 4),
                         "grad_x_input_share_in_mark_box_plain": round(float(corner[~is_marked].mean()), 4)},
        "other_classes_with_mark_predicted_sandal": round(flipped, 4),
    }
    with open(os.path.join(models_dir, "fmnist_hans.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("wrote", os.path.join(models_dir, "fmnist_hans.onnx"), "and", spray_dir)


if __name__ == "__main__":
    main()
