#!/usr/bin/python3
"""Train and export the small transformer models of lrpx's transformer LRP
tests (scripts/transformer_models.py says what they are).

    /usr/bin/python3 scripts/train_transformers.py [--epochs 6] [--only NAME]

- vit_cls is trained on the real Fashion-MNIST (Debian's
  dataset-fashion-mnist, as scripts/train_fmnist.py reads it);
- bert is trained on a toy sentiment task: 12-token sentences of the
  vocabulary in transformer_models.py, positive when more positive than
  negative words occur (its input is the embedded sequence: the embedding
  table is applied outside the ONNX graph and saved in bert.npz);
- vit_mean, vit_nobias, vit_nobias_relu keep their seeded random weights
  (they exercise the mean pooling and the bias-free graphs).

Writes, under testdata/models/transformers/:
    NAME_op14.onnx, NAME_op17.onnx   every model at opsets 14 and 17
    NAME.npz                          its float32 weights (state_dict) for
                                      transformer_reference.py
    bert_text_<i>.npy                 embedded sentences [1, 12, 32]
    bert_text_<i>.tokens.txt          their tokens, one per line
    bert.json, vit_cls.json           class names, accuracy, ...
"""

import argparse
import gzip
import json
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import transformer_models as tm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "models", "transformers")
DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 20240611
FMNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SENTENCES = [
    "the film was great and the acting superb",
    "boring plot and awful music",
    "i enjoyed this movie but the ending was weak",
]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, _, ndim = struct.unpack(">HBB", data[:4])
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fmnist(kind):
    x = read_idx(os.path.join(DATA_DIR, f"{kind}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA_DIR, f"{kind}-labels-idx1-ubyte.gz"))
    return (torch.from_numpy(x.astype(np.float32) / np.float32(255.0))[:, None],
            torch.from_numpy(y.astype(np.int64)))


def train(model, x, y, epochs, lr, batch, forward):
    """Adam on (x, y); forward(model, xb) gives the logits of a batch."""
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * ((len(x) + batch - 1) // batch))
    loss_fn = nn.CrossEntropyLoss()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        t0, total = time.time(), 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(forward(model, x[idx]), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        print(f"  epoch {ep + 1}/{epochs}: loss {total / len(x):.4f} ({time.time() - t0:.0f} s)",
              flush=True)


@torch.no_grad()
def accuracy(model, x, y, forward, batch=500):
    model.eval()
    hit = 0
    for i in range(0, len(x), batch):
        hit += int((forward(model, x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return hit / len(x)


def vit_batched(model, xb):
    """The exported ViT takes batch 1 (the CLS Concat uses the [1, 1, 32]
    initializer as it is); training runs it on a batch by expanding it."""
    if model.cls is None:
        return model(xb)
    x = model.patch(xb).flatten(2).transpose(1, 2)
    x = torch.cat([model.cls.expand(len(xb), -1, -1), x], 1) + model.pos
    for b in model.blocks:
        x = b(x)
    return model.head(model.norm(x)[:, 0])


def sentences(n, gen):
    """n random sentences (token ids, labels) of the toy sentiment task."""
    pos = [tm.VOCAB.index(w) for w in tm.POSITIVE]
    neg = [tm.VOCAB.index(w) for w in tm.NEGATIVE]
    fil = [tm.VOCAB.index(w) for w in tm.FILLER]
    ids = np.zeros((n, 12), np.int64)
    lab = np.zeros(n, np.int64)
    for s in range(n):
        while True:
            k_pos, k_neg = gen.integers(0, 4), gen.integers(0, 4)
            if k_pos != k_neg:
                break
        words = list(gen.choice(pos, k_pos)) + list(gen.choice(neg, k_neg))
        words += list(gen.choice(fil, 11 - len(words)))
        gen.shuffle(words)
        ids[s] = [0] + words
        lab[s] = int(k_pos > k_neg)
    return torch.from_numpy(ids), torch.from_numpy(lab)


def encode(text):
    words = ["[CLS]"] + text.split()
    words += ["the"] * (12 - len(words))
    return words[:12], torch.tensor([[tm.VOCAB.index(w) for w in words[:12]]])


def export(model, name, example):
    import onnx
    model.eval()
    for opset in tm.OPSETS:
        path = os.path.join(OUT, f"{name}_op{opset}.onnx")
        torch.onnx.export(model, example, path, opset_version=opset,
                          input_names=["input"], output_names=["logits"],
                          do_constant_folding=True)
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print(f"  wrote {path} ({os.path.getsize(path)} bytes)")


def save_weights(model, name, extra=None):
    arrays = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    arrays.update(extra or {})
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-size", type=int, default=30000,
                    help="training images of Fashion-MNIST used (the first N)")
    ap.add_argument("--only", help="just this model")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for name, (make, family) in tm.MODELS.items():
        if args.only and name != args.only:
            continue
        random.seed(SEED)
        np.random.seed(SEED)
        torch.manual_seed(SEED)
        model = make()
        print(name, flush=True)
        meta = {"model": name, "family": family, "opsets": list(tm.OPSETS),
                "torch_version": torch.__version__, "seed": SEED}
        extra = None
        if name == "vit_cls":
            x, y = fmnist("train")
            x, y = x[:args.train_size], y[:args.train_size]
            xt, yt = fmnist("t10k")
            train(model, x, y, args.epochs, 3e-3, 128, vit_batched)
            acc = accuracy(model, xt, yt, vit_batched)
            print(f"  test accuracy {acc * 100:.2f} %", flush=True)
            meta.update({"class_names": FMNIST_CLASSES, "test_accuracy": round(acc, 4),
                         "epochs": args.epochs, "train_images": args.train_size,
                         "dataset": "Fashion-MNIST (Debian "
                         "dataset-fashion-mnist)", "input": [1, 1, 28, 28],
                         "preprocessing": "pixels / 255, as fmnist_cnn"})
        if name == "bert":
            emb = nn.Embedding(len(tm.VOCAB), 32)
            gen = np.random.default_rng(SEED)
            ids, lab = sentences(6000, gen)
            ids_t, lab_t = sentences(2000, gen)
            params = list(model.parameters()) + list(emb.parameters())
            holder = nn.Module()
            holder.p = nn.ParameterList(params)
            fwd = lambda _m, xb: model(emb(xb))
            train(holder, ids, lab, args.epochs, 3e-3, 64, fwd)
            acc = accuracy(holder, ids_t, lab_t, fwd)
            print(f"  toy test accuracy {acc * 100:.2f} %", flush=True)
            extra = {"embedding": emb.weight.detach().numpy().astype(np.float32)}
            meta.update({"class_names": ["negative", "positive"], "test_accuracy": round(acc, 4),
                         "task": "toy sentiment: more positive than negative words",
                         "vocabulary": tm.VOCAB, "input": [1, 12, 32],
                         "sentences": []})
            for i, text in enumerate(SENTENCES):
                words, t = encode(text)
                with torch.no_grad():
                    e = emb(t)
                np.save(os.path.join(OUT, f"bert_text_{i}.npy"), e.numpy().astype(np.float32))
                with open(os.path.join(OUT, f"bert_text_{i}.tokens.txt"), "w") as f:
                    f.write("\n".join(words) + "\n")
                with torch.no_grad():
                    pred = int(model(e).argmax(1))
                meta["sentences"].append({"text": text, "predicted": pred})
                print(f"  '{text}': predicted {meta['class_names'][pred]}")
        model.eval()
        example = (torch.zeros(1, 1, 28, 28) if family == "vit" else torch.zeros(1, 12, 32))
        export(model, name, example)
        save_weights(model, name, extra)
        if name in ("vit_cls", "bert"):
            with open(os.path.join(OUT, f"{name}_op14.json"), "w") as f:
                json.dump(meta, f, indent=2)
                f.write("\n")
            with open(os.path.join(OUT, f"{name}_op17.json"), "w") as f:
                json.dump(meta, f, indent=2)
                f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
