#!/usr/bin/python3
"""Write the first N Fashion-MNIST test images as 28x28 gray PNGs.

The images come from Debian's dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist); the files are named
NNN_<label>.png (NNN the test-set index), so a folder of them is a ready
input for lrpx eval / lrpx compare (the bundled model's preprocessing,
testdata/models/fmnist_cnn.preprocess.json, divides by 255).

Usage: /usr/bin/python3 scripts/fmnist_images.py OUT_DIR [N]   (N default 32)
"""

import gzip
import os
import sys

import numpy as np
from PIL import Image

DATA = "/usr/share/datasets/fashion-mnist"
NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat",
         "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 32
    with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        Image.fromarray(images[i], "L").save(os.path.join(out, f"{i:03d}_{NAMES[labels[i]]}.png"))
    print(f"wrote {n} images to {out}")


if __name__ == "__main__":
    main()
