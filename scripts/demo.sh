#!/usr/bin/env bash
# The main job on the bundled model and a bundled real image: build lrpx,
# describe the model, classify the image, explain the prediction with LRP
# and render the relevance as a heatmap (out/heatmap.png).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
lrpx=build/src/cli/lrpx
model=testdata/models/fmnist_cnn.onnx
image=testdata/images/fmnist_0_ankle_boot.png
mkdir -p out
set -x
"$lrpx" info "$model"
"$lrpx" run "$model" "$image" --top 3
"$lrpx" explain "$model" "$image" --composite epsilon_plus_flat \
    -o out/relevance.npy --heatmap out/heatmap.png --panel --zoom 8
