#!/usr/bin/env bash
# Regenerate the SpRAy figure of docs/scale-out.md (docs/img/spray_hans/),
# drawn by lrpx itself: the "Clever Hans" Fashion-MNIST model of
# scripts/train_spray_hans.py explained on its 100 test sandals (40 with the
# corner mark), then `lrpx spray` on class Sandal.
#
#   scripts/make_spray_figure.sh [BUILD_DIR]     (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${1:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
lrpx=$build/src/cli/lrpx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=docs/img/spray_hans
set -x
"$lrpx" batch testdata/models/fmnist_hans.onnx --manifest testdata/spray_hans/manifest.csv \
    --target 5 --composite epsilon_alpha2_beta1 --out "$tmp/run" -q
"$lrpx" spray "$tmp/run" --class Sandal -o "$tmp/report"
set +x
rm -rf "$out"
mkdir -p "$out"
cp "$tmp/report"/*.png "$tmp/report"/*.svg "$tmp/report/spray.md" "$out/"
sed -i "s|$tmp/run|testdata/spray_hans (fmnist_hans.onnx, epsilon_alpha2_beta1)|" "$out/spray.md"
