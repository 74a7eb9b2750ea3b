#!/usr/bin/env bash
# Cost of an explanation relative to inference, in lrpx itself, on the same
# machine in the same process: `lrpx bench MODEL INPUT --explain COMPOSITE`
# times N forward passes, then N explanations (each: a new input, the
# forward pass and the relevance pass), and this prints
#
#     explain / forward = median explain time / median forward time
#
# The target for the note is <= 4 for epsilon_plus_flat on VGG-16 at
# 224 x 224 (models/zoo/vgg16.onnx, made by scripts/export_zoo.py).
#
#   scripts/bench_explain.sh [--build DIR] [--threads T] [-n RUNS]
#                            [--composite NAME] [MODEL [INPUT]]
#
# --build DIR  a release build of lrpx (default build-bench, set up with
#              -Dbuildtype=release if absent)
# MODEL        default models/zoo/vgg16.onnx; INPUT default MODEL's
#              NAME.input.npy beside it
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
builddir=build-bench
threads=1
runs=5
composite=epsilon_plus_flat
model=""
input=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) builddir=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -n) runs=$2; shift 2 ;;
    --composite) composite=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "bench_explain.sh: unknown option $1" >&2; exit 2 ;;
    *) if [ -z "$model" ]; then model=$1; else input=$1; fi; shift ;;
  esac
done
model=${model:-models/zoo/vgg16.onnx}
input=${input:-${model%.onnx}.input.npy}
if [ ! -f "$model" ] || [ ! -f "$input" ]; then
  echo "bench_explain.sh: $model or $input is missing (run scripts/export_zoo.py)" >&2
  exit 1
fi
if [ ! -x "$builddir/src/cli/lrpx" ]; then
  [ -d "$builddir" ] || meson setup "$builddir" -Dbuildtype=release >/dev/null
  ninja -C "$builddir" src/cli/lrpx >/dev/null
fi
json=$("$builddir/src/cli/lrpx" bench "$model" "$input" -n "$runs" --warmup 1 \
       --threads "$threads" --explain "$composite")
echo "$json"
/usr/bin/python3 - "$json" "$model" "$composite" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
run, ex = r["run"]["median_ms"], r["explain"]["median_ms"]
print(f"{sys.argv[2]}  threads {r['threads']}  forward {run:.1f} ms  "
      f"explain ({sys.argv[3]}, forward + relevance) {ex:.1f} ms  "
      f"explain / forward = {ex / run:.2f}  (target <= 4)")
EOF
