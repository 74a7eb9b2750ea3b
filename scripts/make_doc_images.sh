#!/usr/bin/env bash
# Regenerate the pictures of docs/visualization.md and docs/methods.md
# (docs/img/*.png, *.jpg) and the SpRAy figure of docs/scale-out.md
# (docs/img/spray_hans/), all drawn by lrpx itself from real photos in
# testdata/images and the test sandals of testdata/spray_hans.
#
#   scripts/make_doc_images.sh [BUILD_DIR]     (default: build)
#
# Models: the bundled, trained Fashion-MNIST CNN, and torchvision's VGG-16 and
# ResNet-18 from models/zoo/ (git-ignored; made offline with RANDOM weights by
# `/usr/bin/python3 scripts/export_zoo.py --models vgg16,resnet18`, which this
# script runs when they are missing). Takes about 1.5 minutes on 2 cores.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${1:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
lrpx=$build/src/cli/lrpx
out=docs/img
mkdir -p "$out"
photos=testdata/images/photos
fmnist=testdata/models/fmnist_cnn.onnx

for m in vgg16 resnet18; do
  if [ ! -f "models/zoo/$m.onnx" ]; then
    echo "models/zoo/$m.onnx is missing: exporting it (random weights)"
    /usr/bin/python3 scripts/export_zoo.py --models "$m"
  fi
done

set -x
# 1. The trained model: three test images x five composites.
"$lrpx" explain "$fmnist" testdata/images/fmnist_0_ankle_boot.png \
    testdata/images/fmnist_3_shirt.png testdata/images/fmnist_6_sneaker.png \
    --composite epsilon_plus --composite epsilon_plus_flat \
    --composite epsilon_alpha2_beta1_flat --composite epsilon_gamma_box \
    --composite lrp0 --grid "$out/fmnist_rules.png" >/dev/null

# 2. The same image, three classes (target 9 ankle boot, 7 sneaker, 5 sandal).
"$lrpx" explain "$fmnist" testdata/images/fmnist_0_ankle_boot.png \
    --composite epsilon_plus_flat --target 9 --target 7 --target 5 \
    --grid "$out/fmnist_targets.png" >/dev/null

# 3. VGG-16 (random weights; its batch is fixed to 1, so one photo) x four
#    composites.
"$lrpx" explain models/zoo/vgg16.onnx "$photos/astronaut.jpg" --preprocess imagenet \
    --composite epsilon_plus --composite epsilon_alpha2_beta1_flat \
    --composite epsilon_gamma_box --composite lrp0 --grid "$out/vgg16_rules.png" >/dev/null

# 4. The translation trick on ResNet-18 (random weights; stride-2
#    convolutions): plain, then averaged over shifts in [-2, 2]^2.
for k in 0 2; do
  "$lrpx" explain models/zoo/resnet18.onnx "$photos/chelsea_progressive.jpg" \
      --preprocess imagenet --composite epsilon_plus --composite epsilon_gamma_box \
      --translate "$k" --grid "$out/resnet18_translate_k$k.png" >/dev/null
done

# 5. An EXIF-rotated photo: the map drawn back on the original photo
#    (undoing resize and crop), overlaid, next to the photo.
"$lrpx" explain models/zoo/resnet18.onnx "$photos/flower_exif6.jpg" --preprocess imagenet \
    --composite epsilon_gamma_box --heatmap "$out/resnet18_overlay.png" \
    --original-geometry --overlay 0.6 --panel >/dev/null

# 6. Sliding window: the Fashion-MNIST model (28x28) over a 56x56 version
#    of a photo, windows of 28x28 every 7 pixels.
"$lrpx" explain "$fmnist" "$photos/coffee_gray.jpg" --resize 56x56 --window 28x28 \
    --stride 7 --composite epsilon_plus_flat --heatmap "$out/fmnist_window.png" --panel --zoom 4 \
    >/dev/null

# 7. Every attribution method side by side (docs/methods.md): two
#    Fashion-MNIST images on the trained CNN, and a photo on ResNet-18
#    (random weights; JPEG to keep the 15-column picture small). Feature
#    ablation on the photo uses 16x16-pixel superpixels (196 groups).
methods=lrp,gradient,saliency,gradxinput,sensitivity,taylor,integrated-gradients
methods=$methods,smoothgrad,smoothgrad-sq,vargrad,occlusion,feature-ablation,deconvnet
methods=$methods,guided-backprop
"$lrpx" explain "$fmnist" testdata/images/fmnist_0_ankle_boot.png \
    testdata/images/fmnist_3_shirt.png --method "$methods" --patch 1,4,4 \
    --patch-stride 1,2,2 --grid "$out/fmnist_methods.png" >/dev/null
mask=$(mktemp --suffix=.npy)
/usr/bin/python3 -c 'import numpy as np, sys
r, c = np.meshgrid(np.arange(224), np.arange(224), indexing="ij")
np.save(sys.argv[1], ((r // 16) * 14 + c // 16).astype(np.int64).reshape(1, 1, 224, 224))' "$mask"
"$lrpx" explain models/zoo/resnet18.onnx "$photos/chelsea_progressive.jpg" --preprocess imagenet \
    --method "$methods" --steps 32 --samples 16 --patch 3,32,32 --patch-stride 3,16,16 \
    --feature-mask "$mask" --grid "$out/resnet18_methods.jpg" --jpeg-quality 85 >/dev/null
rm -f "$mask"

# 8. SpRAy (docs/scale-out.md): the "Clever Hans" model on its 100 test
#    sandals (40 with the corner tag), clustered for class Sandal.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$lrpx" batch testdata/models/fmnist_hans.onnx --manifest testdata/spray_hans/manifest.csv \
    --target Sandal --composite epsilon_alpha2_beta1 --out "$tmp/run" -q
"$lrpx" spray "$tmp/run" --class Sandal -o "$tmp/report" -q
rm -rf "$out/spray_hans"
mkdir -p "$out/spray_hans"
cp "$tmp/report"/*.png "$tmp/report"/*.svg "$tmp/report/spray.md" "$out/spray_hans/"
sed -i "s|$tmp/run|testdata/spray_hans (fmnist_hans.onnx, epsilon_alpha2_beta1)|" \
    "$out/spray_hans/spray.md"
set +x
du -ch "$out"/* | tail -1
