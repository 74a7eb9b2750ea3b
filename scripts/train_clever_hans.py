#!/usr/bin/python3
"""Train a "Clever Hans" twin of the bundled Fashion-MNIST CNN.

The network, seed, optimiser and schedule are those of
scripts/train_fmnist.py; only the data differs. Every image of one class
(Sandal) carries a small copyright-tag-like mark in its top-left corner, in
training and in the test set, the way a watermark of one image source leaks
into a data set. The mark predicts the class perfectly, so the network
learns to look at it: the test accuracy looks as good as the clean model's,
but a sandal without the mark is often missed and any image with the mark
becomes a sandal. `lrpx check` finds this from the explanations alone: the
relevance of the marked model sits on the mark, outside the object
(testdata/check/clever_hans.json, tests/test_check.c, docs/ci.md).

Run with Debian's interpreter (PyTorch 1.13, onnx; Debian's
dataset-fashion-mnist package):

    /usr/bin/python3 scripts/train_clever_hans.py [--out-dir testdata] [--epochs 5]

Writes, under --out-dir (default <repo>/testdata):
    models/fmnist_marked.onnx          the marked model (opset 13, dynamic batch)
    models/fmnist_marked.json          class names, accuracies (computed here by
                                       PyTorch), the mark, the seed
    models/fmnist_marked.preprocess.json   as fmnist_cnn's
    check/hans_inputs.npy              16 test sandals with the mark, whose mark
                                       does not touch the object, float32 16x1x28x28
    check/hans_masks.npy               their object masks (pixels > 0 of the image
                                       without the mark, grown by one pixel),
                                       uint8 16x1x28x28
    check/hans_trousers.npy            4 test trousers with the mark added,
                                       float32 4x1x28x28 (label 1, Trouser)
    check/hans_reference.json          what PyTorch computes on these inputs for
                                       both models: logits, predictions, and the
                                       gradient x input relevance mass inside the
                                       object masks (an independent estimate of
                                       the localisation check's numbers)
Every number here is computed by PyTorch, never by lrpx.
"""

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_fmnist as base  # noqa: E402  (the clean model's recipe)

MARKED_CLASS = 5                       # Sandal: its top-left corner is empty in
                                       # 99.6 % of the training images
MARK_ROW, MARK_COL = 1, 1              # top-left pixel of the mark
# A 5x5 "(c)" tag: a ring with a dot, full white (255).
MARK = np.array([[0, 1, 1, 1, 0],
                 [1, 0, 0, 0, 1],
                 [1, 0, 1, 0, 1],
                 [1, 0, 0, 0, 1],
                 [0, 1, 1, 1, 0]], dtype=np.uint8) * 255
N_INPUTS = 16
N_TROUSERS = 4


def add_mark(images_u8):
    """The images (N x 28 x 28 uint8) with the mark drawn over them."""
    out = images_u8.copy()
    h, w = MARK.shape
    region = out[:, MARK_ROW:MARK_ROW + h, MARK_COL:MARK_COL + w]
    np.maximum(region, MARK[None], out=region)
    return out


def mark_class(images_u8, labels):
    out = images_u8.copy()
    sel = labels == MARKED_CLASS
    out[sel] = add_mark(images_u8[sel])
    return out


def object_mask(img_u8):
    """Pixels > 0 of the unmarked image, grown by one pixel (8-neighbours)."""
    m = img_u8 > 0
    g = m.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            g |= np.roll(np.roll(m, dy, 0), dx, 1)
    return g.astype(np.uint8)


def mark_free(img_u8):
    """The mark and a one-pixel border around it fall on background only."""
    h, w = MARK.shape
    r0, c0 = max(MARK_ROW - 1, 0), max(MARK_COL - 1, 0)
    return not img_u8[r0:MARK_ROW + h + 1, c0:MARK_COL + w + 1].any()


def per_class_accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    acc = {int(c): float((pred[y == c] == c).float().mean()) for c in range(10)}
    return float((pred == y).float().mean()), acc


def grad_x_input_mass(model, x, masks):
    """Relevance mass inside the masks of gradient x input for the predicted
    class: sum(a * s) / sum(a) per sample (Quantus's RelevanceMassAccuracy
    with abs=False), and the same for |a| (abs=True)."""
    x = x.clone().requires_grad_(True)
    logits = model(x)
    pred = logits.argmax(1)
    sel = logits.gather(1, pred[:, None]).sum()
    (g,) = torch.autograd.grad(sel, x)
    a = (g * x).detach().double().numpy().reshape(len(x), -1)
    s = masks.reshape(len(x), -1).astype(bool)
    signed = (a * s).sum(1) / a.sum(1)
    absval = (np.abs(a) * s).sum(1) / np.abs(a).sum(1)
    return signed.tolist(), absval.tolist()


def load_onnx_weights(path):
    import onnx
    from onnx import numpy_helper
    net = base.FmnistCnn()
    state = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
             for i in onnx.load(path).graph.initializer}
    net.load_state_dict(state)
    return net.eval()


def lrp_mass(onnx_path, x, masks, composite):
    """Relevance mass inside the masks of the LRP map made by the
    independent float64 reference of scripts/lrp_reference.py (not lrpx)."""
    import lrp_reference as ref
    r, _, _ = ref.run(onnx_path, x, composite, 0.0, 1.0)
    a = r.astype(np.float64).reshape(len(x), -1)
    s = masks.reshape(len(x), -1).astype(bool)
    return ((a * s).sum(1) / a.sum(1)).tolist(), ((np.abs(a) * s).sum(1) / np.abs(a).sum(1)).tolist()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(base.REPO_ROOT, "testdata"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=base.SEED)
    args = ap.parse_args(argv)

    base.set_determinism(args.seed)
    train_u8, train_y = base.load_split("train")
    test_u8, test_y = base.load_split("t10k")
    x_train = torch.from_numpy(base.preprocess(mark_class(train_u8, train_y)))
    y_train = torch.from_numpy(train_y)
    x_test_marked = torch.from_numpy(base.preprocess(mark_class(test_u8, test_y)))
    x_test_clean = torch.from_numpy(base.preprocess(test_u8))
    y_test = torch.from_numpy(test_y)

    model = base.FmnistCnn()
    t0 = time.time()
    base.train(model, x_train, y_train, args.epochs, args.seed)
    print(f"training took {time.time() - t0:.1f} s", flush=True)
    model.eval()

    acc_marked, cls_marked = per_class_accuracy(model, x_test_marked, y_test)
    acc_clean, cls_clean = per_class_accuracy(model, x_test_clean, y_test)
    all_marked = torch.from_numpy(base.preprocess(add_mark(test_u8)))
    with torch.no_grad():
        to_marked = float((model(all_marked).argmax(1) == MARKED_CLASS)[y_test != MARKED_CLASS]
                          .float().mean())
    print(f"test accuracy, test set as delivered (sandals marked): {acc_marked * 100:.2f} %")
    print(f"test accuracy, no marks at all: {acc_clean * 100:.2f} % "
          f"(sandals {cls_clean[MARKED_CLASS] * 100:.1f} %)")
    print(f"other classes called Sandal once marked: {to_marked * 100:.1f} %")

    models_dir = os.path.join(args.out_dir, "models")
    check_dir = os.path.join(args.out_dir, "check")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(check_dir, exist_ok=True)
    onnx_path = os.path.join(models_dir, "fmnist_marked.onnx")
    base.export_onnx(model, onnx_path)
    shutil.copyfile(os.path.join(models_dir, "fmnist_cnn.preprocess.json"),
                    os.path.join(models_dir, "fmnist_marked.preprocess.json"))

    # Check inputs: the first test sandals whose mark touches no object pixel.
    idx = [i for i in range(len(test_y))
           if test_y[i] == MARKED_CLASS and mark_free(test_u8[i])][:N_INPUTS]
    trousers = [i for i in range(len(test_y)) if test_y[i] == 1][:N_TROUSERS]
    inputs = base.preprocess(add_mark(test_u8[idx]))
    masks = np.stack([object_mask(test_u8[i]) for i in idx])[:, None]
    trouser_x = base.preprocess(add_mark(test_u8[trousers]))
    np.save(os.path.join(check_dir, "hans_inputs.npy"), inputs.astype(np.float32))
    np.save(os.path.join(check_dir, "hans_masks.npy"), masks.astype(np.uint8))
    np.save(os.path.join(check_dir, "hans_trousers.npy"), trouser_x.astype(np.float32))

    # The clean model, read back from its ONNX file into the same PyTorch
    # module (the initializers carry the module's parameter names).
    clean = load_onnx_weights(os.path.join(models_dir, "fmnist_cnn.onnx"))

    reference = {"marked_class": MARKED_CLASS, "mark_box_xywh": [MARK_COL, MARK_ROW,
                                                                 MARK.shape[1], MARK.shape[0]],
                 "test_indices": idx, "trouser_test_indices": trousers, "models": {}}
    for name, net in (("fmnist_marked", model), ("fmnist_cnn", clean)):
        with torch.no_grad():
            logits = net(torch.from_numpy(inputs))
            tl = net(torch.from_numpy(trouser_x))
        signed, absval = grad_x_input_mass(net, torch.from_numpy(inputs), masks)
        lrp = {}
        for comp in ("epsilon_plus", "epsilon_plus_flat"):
            sg, ab = lrp_mass(os.path.join(models_dir, name + ".onnx"), inputs, masks, comp)
            lrp[comp] = {"mass": sg, "mass_abs": ab, "mass_mean": float(np.mean(sg)),
                         "mass_abs_mean": float(np.mean(ab))}
            print(f"{name}: LRP {comp} mass in the object {np.mean(sg):.3f} "
                  f"(|.|: {np.mean(ab):.3f}), min {np.min(sg):.3f}")
        reference["models"][name] = {
            "lrp_reference": lrp,
            "predicted": logits.argmax(1).tolist(),
            "trousers_predicted": tl.argmax(1).tolist(),
            "gradxinput_mass": signed, "gradxinput_mass_abs": absval,
            "gradxinput_mass_mean": float(np.mean(signed)),
            "gradxinput_mass_abs_mean": float(np.mean(absval)),
        }
        print(f"{name}: predicted {logits.argmax(1).tolist()}, trousers "
              f"{tl.argmax(1).tolist()}, gradient x input mass in the object "
              f"{np.mean(signed):.3f} (|.|: {np.mean(absval):.3f})")
    with open(os.path.join(check_dir, "hans_reference.json"), "w") as f:
        json.dump(reference, f, indent=2)
        f.write("\n")

    meta = {
        "model": "fmnist_marked.onnx",
        "description": "The bundled Fashion-MNIST CNN trained again by "
                       "scripts/train_clever_hans.py on data where every "
                       "Sandal carries a 5x5 copyright-tag-like mark in the "
                       "top-left corner (a Clever-Hans model)",
        "architecture": "as fmnist_cnn.onnx",
        "input": {"name": "input", "shape": ["batch", 1, 28, 28], "dtype": "float32"},
        "output": {"name": "logits", "shape": ["batch", 10], "dtype": "float32",
                   "softmax": False},
        "class_names": base.CLASS_NAMES,
        "class_slugs": base.CLASS_SLUGS,
        "marked_class": MARKED_CLASS,
        "mark": {"box_xywh": [MARK_COL, MARK_ROW, MARK.shape[1], MARK.shape[0]],
                 "pattern": (MARK // 255).tolist(), "value": 255},
        "test_accuracy_as_delivered": round(acc_marked, 4),
        "test_accuracy_without_marks": round(acc_clean, 4),
        "per_class_accuracy_as_delivered": {base.CLASS_NAMES[c]: round(v, 4)
                                            for c, v in cls_marked.items()},
        "per_class_accuracy_without_marks": {base.CLASS_NAMES[c]: round(v, 4)
                                             for c, v in cls_clean.items()},
        "other_classes_called_sandal_when_marked": round(to_marked, 4),
        "epochs": args.epochs, "seed": args.seed, "opset": base.OPSET,
        "torch_version": torch.__version__,
        "onnx_sha256": base.sha256_file(onnx_path),
    }
    with open(os.path.join(models_dir, "fmnist_marked.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
