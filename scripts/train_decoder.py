#!/usr/bin/python3
"""Train the Fashion-MNIST decoder that `lrpx prototype --decoder` bundles.

Run with Debian's interpreter (PyTorch 1.13, onnx 1.12):

    /usr/bin/python3 scripts/train_decoder.py [--out-dir testdata] [--epochs 3]

A small variational autoencoder (Kingma & Welling 2014) on the real
Fashion-MNIST training images of Debian's `dataset-fashion-mnist`, trained
deterministically on 2 threads. Only its decoder g is exported: a code
z ~ N(0, I) of LATENT numbers becomes a 1x28x28 image with values in
[0, 1] (a Sigmoid at the end), the bundled CNN's input layout and value
range (pixel / 255, scripts/train_fmnist.py). Activation maximisation in
code space (docs/interpretation.md) maximises f(g(z)) - lambda |z|^2; the
VAE's standard normal prior is what makes |z|^2 a sensible penalty.

Outputs, under --out-dir (default: <repo>/testdata):
    models/fmnist_decoder.onnx        z [batch, 16] -> image [batch, 1, 28, 28]
    models/fmnist_decoder.json        what was trained and how well
    images/fmnist_train500.npy        float32 500x1x28x28: the first 50
                                      training images of each class (pixel/255),
                                      the real examples the density experts of
                                      `lrpx prototype --expert` are fitted on in
                                      tests and docs
    images/fmnist_train500_labels.npy int64 500, their classes
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_fmnist as tf  # noqa: E402  (the dataset reader and settings)

LATENT = 16
SEED = 20240602
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
OPSET = 13
N_PER_CLASS = 50


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU())
        self.mu = nn.Linear(256, LATENT)
        self.logvar = nn.Linear(256, LATENT)

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(),
                                  nn.Linear(256, 512), nn.ReLU(),
                                  nn.Linear(512, 784), nn.Sigmoid())

    def forward(self, z):
        return self.body(z).view(-1, 1, 28, 28)


def train(enc, dec, x, epochs, seed):
    gen = torch.Generator().manual_seed(seed)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=LEARNING_RATE)
    n = len(x)
    history = []
    for epoch in range(epochs):
        perm = torch.randperm(n, generator=gen)
        t0 = time.time()
        total = 0.0
        for i in range(0, n, BATCH_SIZE):
            xb = x[perm[i:i + BATCH_SIZE]]
            mu, logvar = enc(xb)
            eps = torch.randn(mu.shape, generator=gen)
            z = mu + torch.exp(0.5 * logvar) * eps
            rec = dec(z)
            bce = nn.functional.binary_cross_entropy(rec, xb, reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu * mu - logvar.exp())
            loss = (bce + kl) / len(xb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(xb)
        history.append(total / n)
        print(f"epoch {epoch + 1}/{epochs}: loss (negative ELBO per image) "
              f"{total / n:.2f} ({time.time() - t0:.1f} s)", flush=True)
    return history


def export_decoder(dec, path):
    import onnx
    dec.eval()
    dummy = torch.zeros(1, LATENT, dtype=torch.float32)
    torch.onnx.export(dec, dummy, path, opset_version=OPSET,
                      input_names=["z"], output_names=["image"],
                      dynamic_axes={"z": {0: "batch"}, "image": {0: "batch"}},
                      do_constant_folding=True, export_params=True)
    onnx.checker.check_model(onnx.load(path), full_check=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=os.path.join(tf.REPO_ROOT, "testdata"))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    tf.set_determinism(args.seed)

    train_u8, train_y = tf.load_split("train")
    test_u8, _ = tf.load_split("t10k")
    x_train = torch.from_numpy(tf.preprocess(train_u8))
    x_test = torch.from_numpy(tf.preprocess(test_u8))

    models_dir = os.path.join(args.out_dir, "models")
    images_dir = os.path.join(args.out_dir, "images")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(images_dir, exist_ok=True)

    # the expert data: the first N_PER_CLASS training images of each class
    idx = np.concatenate([np.flatnonzero(train_y == c)[:N_PER_CLASS]
                          for c in range(10)])
    np.save(os.path.join(images_dir, "fmnist_train500.npy"),
            tf.preprocess(train_u8[idx]))
    np.save(os.path.join(images_dir, "fmnist_train500_labels.npy"),
            train_y[idx].astype(np.int64))

    enc, dec = Encoder(), Decoder()
    t0 = time.time()
    history = train(enc, dec, x_train, args.epochs, args.seed)
    seconds = time.time() - t0
    enc.eval()
    dec.eval()
    with torch.no_grad():
        mu, _ = enc(x_test)
        rec = dec(mu)
        test_mse = float(((rec - x_test) ** 2).mean())
    onnx_path = os.path.join(models_dir, "fmnist_decoder.onnx")
    export_decoder(dec, onnx_path)
    meta = {
        "model": "fmnist_decoder.onnx",
        "description": "Decoder of a small VAE trained on Fashion-MNIST by "
                       "scripts/train_decoder.py, for lrpx prototype --decoder",
        "architecture": "Linear(16->256)+ReLU, Linear(256->512)+ReLU, "
                        "Linear(512->784)+Sigmoid, reshape 1x28x28",
        "encoder": "Flatten, Linear(784->256)+ReLU, Linear(256->16) mean and "
                   "log-variance (not exported)",
        "input": {"name": "z", "shape": ["batch", LATENT], "dtype": "float32",
                  "prior": "standard normal"},
        "output": {"name": "image", "shape": ["batch", 1, 28, 28],
                   "dtype": "float32", "range": [0.0, 1.0],
                   "layout": "the input of fmnist_cnn.onnx (pixel / 255)"},
        "loss": "binary cross-entropy (summed over pixels) + KL divergence",
        "train_loss_per_epoch": [round(v, 3) for v in history],
        "test_reconstruction_mse": round(test_mse, 6),
        "epochs": args.epochs,
        "batch_size": BATCH_SIZE,
        "optimizer": f"Adam(lr={LEARNING_RATE})",
        "seed": args.seed,
        "num_threads": tf.N_THREADS,
        "training_seconds": round(seconds, 1),
        "opset": OPSET,
        "torch_version": torch.__version__,
        "expert_data": {"images": "images/fmnist_train500.npy",
                        "labels": "images/fmnist_train500_labels.npy",
                        "what": f"the first {N_PER_CLASS} training images of "
                                "each class, in class order"},
        "onnx_sha256": tf.sha256_file(onnx_path),
    }
    with open(os.path.join(models_dir, "fmnist_decoder.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"test reconstruction MSE {test_mse:.5f}; wrote {onnx_path} "
          f"({os.path.getsize(onnx_path)} bytes)")


if __name__ == "__main__":
    main()
