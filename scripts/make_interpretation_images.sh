#!/usr/bin/env bash
# Make the figure of docs/interpretation.md: prototypes of the ten classes
# of the bundled Fashion-MNIST CNN by activation maximisation, three ways
# (plain, with a Gaussian expert fitted on testdata/images/fmnist_train500.npy,
# in the code space of the bundled decoder), each labelled with the
# model's probability of its class and its logit.
#   scripts/make_interpretation_images.sh [BUILD_DIR]   (default build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
lrpx=${1:-build}/src/cli/lrpx
model=testdata/models/fmnist_cnn.onnx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
declare -A flags=(
  [plain]="--start 0 --lambda 0.05 --blur 0.5 --init-sigma 0.02"
  [expert]="--expert gaussian:testdata/images/fmnist_train500.npy --lambda 0 --step 0.01 --expert-weight 0.1 --iters 300 --start 0 --init-sigma 0.02"
  [decoder]="--decoder testdata/models/fmnist_decoder.onnx --lambda 0.05 --step 0.1 --no-box"
)
for way in plain expert decoder; do
  for k in 0 1 2 3 4 5 6 7 8 9; do
    # shellcheck disable=SC2086
    "$lrpx" prototype "$model" --class "$k" -o "$work/$way$k.npy" --image "$work/$way$k.png" \
        --zoom 4 --json --quiet ${flags[$way]} > "$work/$way$k.json"
  done
done
/usr/bin/python3 - "$work" docs/img/prototypes.png <<'PY'
import json, math, sys
from PIL import Image, ImageDraw
work, out = sys.argv[1], sys.argv[2]
ways = ["plain", "expert", "decoder"]
cell, pad, left, top = 112, 6, 70, 22
img = Image.new("L", (left + 10 * (cell + pad), top + 3 * (cell + 24 + pad)), 255)
d = ImageDraw.Draw(img)
names = None
for r, way in enumerate(ways):
    y = top + r * (cell + 24 + pad)
    d.text((4, y + cell // 2), way, fill=0)
    for k in range(10):
        j = json.load(open(f"{work}/{way}{k}.json"))
        x = left + k * (cell + pad)
        if r == 0:
            d.text((x, 4), j["class_name"][:16], fill=0)
        img.paste(Image.open(f"{work}/{way}{k}.png"), (x, y))
        f = j["final"]
        d.text((x, y + cell + 2), f"p {math.exp(f['log_prob']):.2f} z {f['logit']:.1f}", fill=0)
        if f["predicted"] != k:
            d.text((x, y + cell + 12), f"as {j['predicted_name'][:12]}", fill=0)
img.save(out, optimize=True)
PY
du -h docs/img/prototypes.png
