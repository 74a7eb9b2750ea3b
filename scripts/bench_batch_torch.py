#!/usr/bin/python3
"""The PyTorch side of scripts/bench_batch.sh: the work `lrpx batch` does,
as a plain PyTorch loop of ours.

For every image below DIR (png/jpg/jpeg, sorted by relative path): decode
with PIL, preprocess (zero-one: gray / 255 with numpy; imagenet: torchvision's
Resize(256), CenterCrop(224), ToTensor, Normalize), stack
--batch images, explain them with LRP (the composite's rules as Zennit
defines them, scripts/lrp_reference.py's hooks, run in float32 on the ONNX
graph's weights), and write each map as OUT/relevance/KEY.npy with
np.save. Prints one JSON line: images, seconds (from after the imports:
model building, decoding, explaining, writing) and images per second.

    /usr/bin/python3 scripts/bench_batch_torch.py MODEL DIR OUT \\
        [--preprocess zero-one|imagenet] [--batch 16] [--threads 1] \\
        [--composite epsilon_plus]
    /usr/bin/python3 scripts/bench_batch_torch.py --compare OUT LRPX_OUT
        (largest difference between its maps and lrpx's, relative to the
        largest |R| of each map, over the inputs both explained for the same
        class: the two sides compute the same thing)
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lrp_reference as ref  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


def list_images(root):
    keys = []
    for d, subdirs, files in os.walk(root):
        subdirs[:] = sorted(s for s in subdirs if not s.startswith("."))
        for f in files:
            if not f.startswith(".") and f.lower().endswith((".png", ".jpg", ".jpeg")):
                keys.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(keys)


IMAGENET = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                      T.Normalize(mean=MEAN.ravel().tolist(), std=STD.ravel().tolist())])


def preprocess(path, how):
    img = Image.open(path)
    if how == "zero-one":
        return (np.asarray(img.convert("L"), dtype=np.float32) / 255.0)[None]
    return IMAGENET(img.convert("RGB")).numpy()


def bench(a):
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    low, high = (0.0, 1.0) if a.preprocess == "zero-one" else (None, None)
    ref.NP_FLOAT = np.float32          # the same hooks, timed in float32
    built = ref.build(a.model, a.composite, low, high)
    keys = list_images(a.dir)
    classes = {}
    for i in range(0, len(keys), a.batch):
        chunk = keys[i:i + a.batch]
        x = np.stack([preprocess(os.path.join(a.dir, k), a.preprocess) for k in chunk])
        rel, cls, _ = ref.run_built(built, x)
        for k, key in enumerate(chunk):
            p = os.path.join(a.out, "relevance", key + ".npy")
            os.makedirs(os.path.dirname(p), exist_ok=True)
            np.save(p, rel[k:k + 1])
            classes[key] = cls[k]
    t = time.perf_counter() - t0
    with open(os.path.join(a.out, "classes.json"), "w") as f:
        json.dump(classes, f)
    print(json.dumps({"images": len(keys), "seconds": round(t, 3),
                      "images_per_s": round(len(keys) / t, 2)}))


def compare(ours, lrpx):
    """Maps of the inputs both sides explained for the same class (a model
    with random weights has near ties between logits that float32 noise
    may break either way)."""
    with open(os.path.join(ours, "classes.json")) as f:
        classes = json.load(f)
    errs, other = [], 0
    with open(os.path.join(lrpx, "results.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if classes[r["input"]] != r["explained"]:
                other += 1
                continue
            a = np.load(os.path.join(ours, "relevance", r["input"] + ".npy")).astype(np.float64)
            b = np.load(os.path.join(lrpx, r["relevance"])).astype(np.float64)
            errs.append(float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)))
    print(json.dumps({"maps": len(errs), "other_class": other,
                      "median_rel_diff": float(np.median(errs)) if errs else 0.0,
                      "max_rel_diff": max(errs) if errs else 0.0}))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--preprocess", default="zero-one", choices=["zero-one", "imagenet"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--composite", default="epsilon_plus")
    bench(ap.parse_args())
    return 0


if __name__ == "__main__":
    sys.exit(main())
