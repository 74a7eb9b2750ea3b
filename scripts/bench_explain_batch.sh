#!/usr/bin/env bash
# `lrpx explain --batch B` over a folder: CPU time, images per CPU second
# and peak RSS of the whole process for each B, against the same folder in
# one pass (--batch N) in the same run; the sizes take turns for ROUNDS
# rounds. Also checks that every B wrote the map of the one-pass run
# (largest relative L2 error over the runs). A benchmark, not a test.
#
#   scripts/bench_explain_batch.sh [-r ROUNDS] [--images N] [--batches 1,4,8]
#                                  [--models resnet18,vgg16] [--threads T]
#                                  [--build DIR]
#
# Models: scripts/export_zoo.py's (random weights), re-saved with a free
# batch axis; inputs: N (default 16) copies of the photos export_zoo.py
# uses (scikit-image, scikit-learn) as JPEG, imagenet preprocessing, the
# default composite (epsilon_plus).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
rounds=3
n_images=16
batches=1,4,8
models=resnet18
threads=2
builddir=build
while [ $# -gt 0 ]; do
  case "$1" in
    -r) rounds=$2; shift 2 ;;
    --images) n_images=$2; shift 2 ;;
    --batches) batches=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build) builddir=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dbuildtype=release >/dev/null
ninja -C "$builddir" src/cli/lrpx >/dev/null
lrpx=$builddir/src/cli/lrpx
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$py - "$tmp" "$n_images" <<'EOF'
import os, sys
from PIL import Image
import skimage.data, sklearn.datasets
tmp, n = sys.argv[1], int(sys.argv[2])
photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(),
          skimage.data.rocket()] + list(sklearn.datasets.load_sample_images().images)
os.makedirs(os.path.join(tmp, "photos"))
for i in range(n):
    Image.fromarray(photos[i % len(photos)]).save(os.path.join(tmp, "photos", "%04d.jpg" % i),
                                                  quality=90)
EOF

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ext=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f)$' | tr '\n' ' ')
echo "CPU: $cpu ($ext), $(nproc) cores; $threads threads, $n_images images, $rounds interleaved rounds; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| model | --batch | CPU s (rounds) | images per CPU s | CPU / one pass | peak RSS MB | RSS / one pass | map vs one pass |"
echo "|---|---|---|---|---|---|---|---|"
IFS=, read -r -a blist <<<"$batches"
blist+=("$n_images")                      # the peer: one pass over all
IFS=, read -r -a mlist <<<"$models"
for name in "${mlist[@]}"; do
  [ -f "models/zoo/$name.onnx" ] || $py scripts/export_zoo.py --models "$name" >/dev/null
  $py - "models/zoo/$name.onnx" "$tmp/$name.onnx" <<'EOF'
import sys, onnx
m = onnx.load(sys.argv[1])
for v in list(m.graph.input) + list(m.graph.output):
    v.type.tensor_type.shape.dim[0].dim_param = "batch"
onnx.save(m, sys.argv[2])
EOF
  declare -A cpu_s=() rss=()
  for r in $(seq "$rounds"); do
    for b in "${blist[@]}"; do
      /usr/bin/time -f "%U %S %M" -o "$tmp/time" env LRPX_NUM_THREADS="$threads" \
        "$lrpx" explain "$tmp/$name.onnx" "$tmp/photos" --preprocess imagenet --batch "$b" -q \
        -o "$tmp/map_$b.npy" >/dev/null
      read -r u s m <"$tmp/time"
      cpu_s[$b]="${cpu_s[$b]:-} $($py -c "print($u + $s)")"
      rss[$b]="${rss[$b]:-} $m"
    done
  done
  med() { $py -c "import statistics,sys; print(statistics.median(float(v) for v in sys.argv[1:]))" "$@"; }
  # shellcheck disable=SC2086
  peer_cpu=$(med ${cpu_s[$n_images]}) peer_rss=$(med ${rss[$n_images]})
  for b in "${blist[@]}"; do
    # shellcheck disable=SC2086
    c=$(med ${cpu_s[$b]}) m=$(med ${rss[$b]})
    err=$($py -c "
import numpy as np, sys
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
print('%.1e' % (np.linalg.norm(a - b) / np.linalg.norm(a)))" "$tmp/map_$n_images.npy" "$tmp/map_$b.npy")
    label=$b
    [ "$b" = "$n_images" ] && label="$b (one pass)"
    # shellcheck disable=SC2086
    echo "| $name | $label | $($py -c "print('%.2f' % $c)") ($($py -c "import sys; print(', '.join('%.2f' % float(v) for v in sys.argv[1:]))" ${cpu_s[$b]})) | $($py -c "print('%.1f' % ($n_images / $c))") | $($py -c "print('%.2f' % ($c / $peer_cpu))") | $($py -c "print('%.0f' % ($m / 1024))") | $($py -c "print('%.2f' % ($m / $peer_rss))") | $err |"
  done
  unset cpu_s rss
done
