#!/usr/bin/env bash
# Regenerate the pictures of docs/transformers.md (docs/img/transformers_*.png)
# and print the reports the page quotes. Every heatmap and token strip is
# drawn by lrpx itself; Python (PIL) only stacks lrpx's pictures.
#
#   scripts/make_transformer_docs.sh [BUILD_DIR]     (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
build=${1:-build}
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" >/dev/null
lrpx=$build/src/cli/lrpx
out=docs/img
tm=testdata/models/transformers
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# 1. Real Fashion-MNIST test images: the ViT (attn_lrp, cp_lrp) next to the
#    bundled CNN (epsilon_plus_flat, epsilon_gamma_box on [0, 1] pixels).
rows=()
for img in fmnist_0_ankle_boot fmnist_1_pullover fmnist_3_shirt fmnist_6_sneaker fmnist_7_dress; do
  "$lrpx" explain $tm/vit_cls_op17.onnx testdata/images/$img.png --composite attn_lrp \
      --composite cp_lrp --grid "$tmp/vit_$img.png" >/dev/null
  "$lrpx" explain testdata/models/fmnist_cnn.onnx testdata/images/$img.png \
      --composite epsilon_plus_flat --composite epsilon_gamma_box --low 0 --high 1 \
      --grid "$tmp/cnn_$img.png" >/dev/null
  rows+=("$tmp/vit_$img.png" "$tmp/cnn_$img.png")
done
/usr/bin/python3 - "$out/transformers_fmnist.png" "${rows[@]}" <<'PY'
import sys
from PIL import Image, ImageDraw
out, files = sys.argv[1], sys.argv[2:]
pairs = [(Image.open(files[i]).convert("RGB"), Image.open(files[i + 1]).convert("RGB"))
         for i in range(0, len(files), 2)]
gap = 24
w = max(a.width for a, _ in pairs) + gap + max(b.width for _, b in pairs)
head = 22
h = head + sum(max(a.height, b.height) for a, b in pairs)
canvas = Image.new("RGB", (w, h), "white")
d = ImageDraw.Draw(canvas)
d.text((4, 4), "ViT (vit_cls_op17): image | attn_lrp | cp_lrp", fill="black")
d.text((pairs[0][0].width + gap + 4, 4), "CNN (fmnist_cnn): image | epsilon_plus_flat | "
       "epsilon_gamma_box", fill="black")
y = head
for a, b in pairs:
    canvas.paste(a, (0, y))
    canvas.paste(b, (a.width + gap, y))
    y += max(a.height, b.height)
canvas.save(out)
print("wrote", out)
PY

# 2. Token strips of the text model: three sentences, AttnLRP and CP-LRP.
strips=()
for c in attn_lrp cp_lrp; do
  for i in 0 1 2; do
    "$lrpx" explain $tm/bert_op17.onnx $tm/bert_text_$i.npy --composite $c \
        --tokens $tm/bert_text_$i.tokens.txt --token-strip "$tmp/strip_${c}_$i.png" >/dev/null
    strips+=("$tmp/strip_${c}_$i.png")
  done
done
/usr/bin/python3 - "$out/transformers_tokens.png" "${strips[@]}" <<'PY'
import sys
from PIL import Image, ImageDraw
out, files = sys.argv[1], sys.argv[2:]
ims = [Image.open(f).convert("RGB") for f in files]
half = len(ims) // 2
w = 90 + max(i.width for i in ims)
h = sum(i.height for i in ims) + 12
canvas = Image.new("RGB", (w, h), "white")
d = ImageDraw.Draw(canvas)
y = 0
for k, im in enumerate(ims):
    if k == half:
        y += 12
    d.text((4, y + im.height // 2 - 5), "attn_lrp" if k < half else "cp_lrp", fill="black")
    canvas.paste(im, (90, y))
    y += im.height
canvas.save(out)
print("wrote", out)
PY

# 3. The reports the page quotes.
echo "== ViT, attn_lrp, ankle boot (opset 14: written-out LayerNorm and GELU)"
"$lrpx" explain $tm/vit_cls_op14.onnx testdata/images/fmnist_0_ankle_boot.png --composite attn_lrp
echo "== bias-free ViT, attn_lrp with epsilon = stabiliser = 0"
"$lrpx" explain $tm/vit_nobias_op17.onnx testdata/images/fmnist_2_trouser.png --composite attn_lrp \
    --rule linear=zero --stabilizer 0
echo "== bias-free ReLU ViT, cp_lrp"
"$lrpx" explain $tm/vit_nobias_relu_op17.onnx testdata/images/fmnist_2_trouser.png --composite cp_lrp
echo "== text model, attn_lrp, per token"
"$lrpx" explain $tm/bert_op14.onnx $tm/bert_text_0.npy --composite attn_lrp \
    --tokens $tm/bert_text_0.tokens.txt
