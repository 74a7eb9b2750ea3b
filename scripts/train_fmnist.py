#!/usr/bin/python3
"""Train the small Fashion-MNIST CNN that lrpx bundles as its real test model.

Run with Debian's interpreter (PyTorch 1.13, onnx 1.12):

    /usr/bin/python3 scripts/train_fmnist.py [--out-dir testdata] [--epochs 5]

Reads the real Fashion-MNIST IDX files installed by Debian's
`dataset-fashion-mnist` package, trains deterministically on 2 threads,
exports ONNX (opset 13, dynamic batch axis) and writes the reference data
that lrpx tests compare against.  Every reference output is computed by
PyTorch, never by lrpx.

Outputs, under --out-dir (default: <repo>/testdata):
    models/fmnist_cnn.onnx            the exported model
    models/fmnist_cnn.json            class names, preprocessing, accuracy, ...
    images/fmnist_<i>_<class>.npy     float32 1x28x28 (no batch dim), pixels/255
    images/fmnist_<i>_<class>.png     8-bit grayscale, the original pixels
    images/fmnist_batch8.npy          float32 8x1x28x28, the same 8 images
    expected/fmnist_cnn_<i>.npy       PyTorch logits, float32 1x10
    expected/fmnist_cnn_<i>_grad.npy  d logit[predicted] / d input, 1x1x28x28
    expected/fmnist_cnn_batch8.npy    PyTorch logits, float32 8x10
"""

import argparse
import gzip
import hashlib
import json
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 20240601
N_THREADS = 2
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
OPSET = 13
N_BUNDLED = 8

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# File-name-safe spelling of each class (no '/', no spaces).
CLASS_SLUGS = ["tshirt_top", "trouser", "pullover", "dress", "coat",
               "sandal", "shirt", "sneaker", "bag", "ankle_boot"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_idx(path):
    """Read a gzipped IDX file (the MNIST container format) into a uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise ValueError(f"{path}: size {arr.size} does not match dims {dims}")
    return arr.reshape(dims)


def load_split(kind):
    images = read_idx(os.path.join(DATA_DIR, f"{kind}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{kind}-labels-idx1-ubyte.gz"))
    return images, labels.astype(np.int64)


def preprocess(images_u8):
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28 in [0, 1]."""
    return (images_u8.astype(np.float32) / np.float32(255.0))[:, None, :, :]


class FmnistCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 64), nn.ReLU(),
            nn.Linear(64, 10),          # logits, no softmax
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def set_determinism(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(N_THREADS)
    torch.use_deterministic_algorithms(True)


@torch.no_grad()
def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), batch):
        logits = model(x[i:i + batch])
        correct += int((logits.argmax(1) == y[i:i + batch]).sum())
    return correct / len(x)


def train(model, x, y, epochs, seed):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    n = len(x)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        t0 = time.time()
        total = 0.0
        for i in range(0, n, BATCH_SIZE):
            idx = perm[i:i + BATCH_SIZE]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: train loss {total / n:.4f} "
              f"({time.time() - t0:.1f} s)", flush=True)


def pick_bundled(labels, count):
    """Indices of the first test image of each of `count` distinct classes,
    in test-set order."""
    picked, seen = [], set()
    for i, lab in enumerate(labels):
        if int(lab) not in seen:
            seen.add(int(lab))
            picked.append(i)
            if len(picked) == count:
                break
    return picked


def export_onnx(model, path):
    import onnx
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28, dtype=torch.float32)
    torch.onnx.export(model, dummy, path, opset_version=OPSET,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"},
                                    "logits": {0: "batch"}},
                      do_constant_folding=True, export_params=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "testdata"),
                    help="root of the test data tree (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=5,
                    help="training epochs (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=SEED,
                    help="seed for torch/numpy/random (default: %(default)s)")
    args = ap.parse_args(argv)

    set_determinism(args.seed)

    train_u8, train_y = load_split("train")
    test_u8, test_y = load_split("t10k")
    x_train = torch.from_numpy(preprocess(train_u8))
    y_train = torch.from_numpy(train_y)
    x_test = torch.from_numpy(preprocess(test_u8))
    y_test = torch.from_numpy(test_y)
    print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}",
          flush=True)

    model = FmnistCnn()
    t0 = time.time()
    train(model, x_train, y_train, args.epochs, args.seed)
    print(f"training took {time.time() - t0:.1f} s", flush=True)
    model.eval()
    test_acc = evaluate(model, x_test, y_test)
    print(f"test accuracy on {len(x_test)} images: {test_acc * 100:.2f} %",
          flush=True)

    models_dir = os.path.join(args.out_dir, "models")
    images_dir = os.path.join(args.out_dir, "images")
    expected_dir = os.path.join(args.out_dir, "expected")
    for d in (models_dir, images_dir, expected_dir):
        os.makedirs(d, exist_ok=True)

    onnx_path = os.path.join(models_dir, "fmnist_cnn.onnx")
    export_onnx(model, onnx_path)

    # Bundled images and PyTorch reference outputs.
    from PIL import Image
    picked = pick_bundled(test_y, N_BUNDLED)
    bundled = []
    batch = []
    for i, ti in enumerate(picked):
        label = int(test_y[ti])
        slug = CLASS_SLUGS[label]
        stem = f"fmnist_{i}_{slug}"
        img = preprocess(test_u8[ti:ti + 1])[0]            # 1 x 28 x 28
        np.save(os.path.join(images_dir, stem + ".npy"), img)
        Image.fromarray(test_u8[ti], mode="L").save(
            os.path.join(images_dir, stem + ".png"))
        batch.append(img)

        x = torch.from_numpy(img[None]).clone().requires_grad_(True)
        logits = model(x)                                  # 1 x 10
        pred = int(logits.argmax(1))
        (grad,) = torch.autograd.grad(logits[0, pred], x)
        np.save(os.path.join(expected_dir, f"fmnist_cnn_{i}.npy"),
                logits.detach().numpy().astype(np.float32))
        np.save(os.path.join(expected_dir, f"fmnist_cnn_{i}_grad.npy"),
                grad.numpy().astype(np.float32))
        probs = torch.softmax(logits.detach(), 1)[0]
        bundled.append({
            "index": i, "test_index": ti, "label": label,
            "label_name": CLASS_NAMES[label], "predicted": pred,
            "predicted_name": CLASS_NAMES[pred],
            "predicted_prob": round(float(probs[pred]), 4),
            "image_npy": f"images/{stem}.npy",
            "image_png": f"images/{stem}.png",
            "logits": f"expected/fmnist_cnn_{i}.npy",
            "grad": f"expected/fmnist_cnn_{i}_grad.npy",
        })
        print(f"image {i}: test[{ti}] label {CLASS_NAMES[label]!r}, "
              f"predicted {CLASS_NAMES[pred]!r} (p={float(probs[pred]):.3f})")

    batch = np.stack(batch).astype(np.float32)            # 8 x 1 x 28 x 28
    np.save(os.path.join(images_dir, "fmnist_batch8.npy"), batch)
    with torch.no_grad():
        batch_logits = model(torch.from_numpy(batch)).numpy().astype(np.float32)
    np.save(os.path.join(expected_dir, "fmnist_cnn_batch8.npy"), batch_logits)

    meta = {
        "model": "fmnist_cnn.onnx",
        "description": "Small CNN trained on Fashion-MNIST by "
                       "scripts/train_fmnist.py",
        "architecture": "Conv(1->16,3x3,pad1)+ReLU+MaxPool(2), "
                        "Conv(16->32,3x3,pad1)+ReLU+MaxPool(2), Flatten, "
                        "Linear(1568->64)+ReLU, Linear(64->10) logits",
        "input": {"name": "input", "shape": ["batch", 1, 28, 28],
                  "dtype": "float32"},
        "output": {"name": "logits", "shape": ["batch", 10],
                   "dtype": "float32", "softmax": False},
        "preprocessing": "scale to [0,1], grayscale, 28x28, NCHW",
        "preprocessing_detail": "float32(pixel_uint8) / 255; no mean/std "
                                "normalisation; white object on black "
                                "background as in the dataset",
        "class_names": CLASS_NAMES,
        "class_slugs": CLASS_SLUGS,
        "test_accuracy": round(test_acc, 4),
        "test_set_size": int(len(x_test)),
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "optimizer": f"Adam(lr={LEARNING_RATE})",
        "seed": args.seed,
        "num_threads": N_THREADS,
        "opset": OPSET,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "dataset": "Fashion-MNIST (Zalando, MIT/Expat), Debian package "
                   "dataset-fashion-mnist",
        "dataset_files_sha256": {
            name: sha256_file(os.path.join(DATA_DIR, name))
            for name in sorted(os.listdir(DATA_DIR))},
        "onnx_sha256": sha256_file(onnx_path),
        "bundled_images": bundled,
        "batch8": {"images": "images/fmnist_batch8.npy",
                   "logits": "expected/fmnist_cnn_batch8.npy"},
    }
    with open(os.path.join(models_dir, "fmnist_cnn.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
