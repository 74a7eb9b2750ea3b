#!/usr/bin/env bash
# Throughput of `lrpx batch` against a PyTorch loop of ours doing the same
# explanation (scripts/bench_batch_torch.py: decode, preprocess, LRP with
# the composite's rules in float32, one .npy per image), in the same run on
# the same machine, with the same threads and batch size; the two take
# turns for ROUNDS rounds per model. A benchmark, not a test.
#
#   scripts/bench_batch.sh [-r ROUNDS] [--threads T] [--batch B]
#                          [--fmnist N] [--photos N] [--build DIR]
#
# Models: the bundled Fashion-MNIST CNN on the first N (default 1000)
# Fashion-MNIST test images as PNG files; resnet18 (scripts/export_zoo.py,
# re-saved with a free batch axis) on N (default 64) copies of the real
# photos export_zoo.py uses (scikit-image, scikit-learn), as JPEG. Prints a
# Markdown table: images per second (median over the rounds, each round in
# brackets) of each side and lrpx / PyTorch, the CPU, the load, and how far
# the maps of the two sides are apart (median and largest over the maps of
# the last round, relative to each map's largest |R|).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
rounds=3
threads=1
batch=16
n_fmnist=1000
n_photos=64
builddir=build-bench
while [ $# -gt 0 ]; do
  case "$1" in
    -r) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --fmnist) n_fmnist=$2; shift 2 ;;
    --photos) n_photos=$2; shift 2 ;;
    --build) builddir=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dbuildtype=release -Dtests=false >/dev/null
ninja -C "$builddir" >/dev/null
lrpx=$builddir/src/cli/lrpx
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the data
$py - "$tmp" "$n_fmnist" "$n_photos" <<'EOF'
import gzip, os, sys
import numpy as np
from PIL import Image
tmp, n_f, n_p = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raw = gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz").read()[16:]
lab = gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").read()[8:]
x = np.frombuffer(raw, np.uint8).reshape(-1, 28, 28)
for i in range(n_f):
    d = os.path.join(tmp, "fmnist", "c%d" % lab[i])
    os.makedirs(d, exist_ok=True)
    Image.fromarray(x[i]).save(os.path.join(d, "%05d.png" % i))
import skimage.data, sklearn.datasets
photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(),
          skimage.data.rocket()] + list(sklearn.datasets.load_sample_images().images)
os.makedirs(os.path.join(tmp, "photos"), exist_ok=True)
for i in range(n_p):
    Image.fromarray(photos[i % len(photos)]).save(os.path.join(tmp, "photos", "%04d.jpg" % i),
                                                  quality=90)
EOF

# resnet18 with a free batch axis (export_zoo.py fixes it at 1)
[ -f models/zoo/resnet18.onnx ] || $py scripts/export_zoo.py --models resnet18 >/dev/null
$py - models/zoo/resnet18.onnx "$tmp/resnet18.onnx" <<'EOF'
import sys, onnx
m = onnx.load(sys.argv[1])
for v in list(m.graph.input) + list(m.graph.output):
    v.type.tensor_type.shape.dim[0].dim_param = "batch"
onnx.save(m, sys.argv[2])
EOF

median() { $py -c "import statistics,sys; print(f'{statistics.median(float(v) for v in sys.argv[1:]):.1f}')" "$@"; }
rounds_list() { $py -c "import sys; print(', '.join(f'{float(v):.1f}' for v in sys.argv[1:]))" "$@"; }
now() { date +%s.%N; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "CPU: $cpu, $(nproc) cores; threads $threads, batch $batch, $rounds rounds (lrpx and PyTorch take turns); torch $($py -c 'import torch; print(torch.__version__)'); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| model | images | lrpx batch img/s | PyTorch loop img/s | lrpx / PyTorch | load before | maps apart (median / max) |"
echo "|---|---|---|---|---|---|---|"
for spec in "fmnist_cnn:testdata/models/fmnist_cnn.onnx:fmnist:zero-one" \
            "resnet18:$tmp/resnet18.onnx:photos:imagenet"; do
  IFS=: read -r name model data prep <<<"$spec"
  n=$(find "$tmp/$data" -type f | wc -l)
  ours=() theirs=()
  load=$(cut -d' ' -f1 /proc/loadavg)
  for r in $(seq "$rounds"); do
    rm -rf "$tmp/out-lrpx" "$tmp/out-torch"
    t0=$(now)
    "$lrpx" batch "$model" --inputs "$tmp/$data" --out "$tmp/out-lrpx" --preprocess "$prep" \
      --threads "$threads" --batch "$batch" -q
    t1=$(now)
    ours+=("$($py -c "print($n / ($t1 - $t0))")")
    theirs+=("$($py scripts/bench_batch_torch.py "$model" "$tmp/$data" "$tmp/out-torch" \
      --preprocess "$prep" --threads "$threads" --batch "$batch" |
      $py -c 'import json,sys; print(json.load(sys.stdin)["images_per_s"])')")
  done
  apart=$($py scripts/bench_batch_torch.py --compare "$tmp/out-torch" "$tmp/out-lrpx" |
          $py -c 'import json,sys; d = json.load(sys.stdin); print("%.0e / %.0e%s" % (d["median_rel_diff"], d["max_rel_diff"], " (%d explained another class)" % d["other_class"] if d["other_class"] else ""))')
  a=$(median "${ours[@]}")
  b=$(median "${theirs[@]}")
  echo "| $name | $n | $a ($(rounds_list "${ours[@]}")) | $b ($(rounds_list "${theirs[@]}")) | $($py -c "print(f'{$a / $b:.2f}')") | $load | $apart |"
done
