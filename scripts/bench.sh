#!/usr/bin/env bash
# Speed of lrpx against ONNX Runtime (onnxruntime-node, CPU), measured in
# the same run on the same machine, as ratios. Both use the same number of
# threads (OpenBLAS for lrpx, intra-op threads for ORT).
#
#   scripts/bench.sh [--threads N] [-n RUNS] [-r ROUNDS] [--build DIR]
#                    [--explain COMPOSITE] [MODEL...]
#
# MODEL is a name in models/zoo (made by scripts/export_zoo.py) or a path to
# an .onnx file with NAME.input.npy beside it. Default: the zoo models that
# exist, and the bundled Fashion-MNIST model. Prints a Markdown table:
# median ms per forward pass for each, and lrpx/ORT (below 1: lrpx faster).
# With -r ROUNDS the two runtimes take turns ROUNDS times per model (RUNS
# passes each turn) and the table shows the median of the turns' medians.
# --build DIR: the lrpx build to time (default build-bench, made if absent).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
threads=1
runs=10
rounds=1
builddir=build-bench
explain=""
models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    -n) runs=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    --build) builddir=$2; shift 2 ;;
    --explain) explain=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
if [ -f "$builddir/build.ninja" ] || [ ! -x "$builddir/src/cli/lrpx" ]; then
  [ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dbuildtype=release -Dtests=false >/dev/null
  ninja -C "$builddir" >/dev/null
fi
lrpx=$builddir/src/cli/lrpx
ort="node scripts/node/ort_run.js"
[ -d scripts/node/node_modules/onnxruntime-node ] || { echo "onnxruntime-node missing: run scripts/setup.sh --full" >&2; exit 1; }

if [ ${#models[@]} -eq 0 ]; then
  for m in resnet18 resnet50 vgg16 alexnet squeezenet1_1 mobilenet_v2 densenet121 efficientnet_b0 googlenet; do
    [ -f models/zoo/$m.onnx ] && models+=("$m")
  done
  models+=(testdata/models/fmnist_cnn.onnx)
fi

json_field() { /usr/bin/python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d$1)"; }
median() { /usr/bin/python3 -c "import statistics,sys; print(f'{statistics.median(float(v) for v in sys.argv[1:]):.3f}')" "$@"; }

echo "threads: $threads, runs: $runs x $rounds rounds, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
if [ -n "$explain" ]; then
  echo "| model | lrpx forward ms | lrpx explain ($explain) ms | explain / forward | ORT forward ms | lrpx / ORT forward |"
  echo "|---|---|---|---|---|---|"
else
  echo "| model | lrpx ms | ORT ms | lrpx / ORT |"
  echo "|---|---|---|---|"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in "${models[@]}"; do
  if [ -f "$m" ]; then model=$m; else model=models/zoo/$m.onnx; fi
  base=${model%.onnx}
  input=$base.input.npy
  if [ ! -f "$input" ]; then
    # the bundled model keeps its images in testdata/images (as a 4-D
    # batch: ONNX Runtime does not add a missing batch dimension)
    input=testdata/images/fmnist_batch8.npy
  fi
  name=$(basename "$base")
  # interleave the two runtimes so machine load affects both alike
  ls_=() os_=() es_=()
  for ((r = 0; r < rounds; r++)); do
    lj=$(LRPX_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$lrpx" bench "$model" "$input" -n "$runs" ${explain:+--explain "$explain"})
    oj=$($ort "$model" "$tmp" "$input" --threads "$threads" --bench "$runs")
    ls_+=("$(echo "$lj" | json_field "['run']['median_ms']")")
    os_+=("$(echo "$oj" | json_field "['median_ms']")")
    [ -z "$explain" ] || es_+=("$(echo "$lj" | json_field "['explain']['median_ms']")")
  done
  l_ms=$(median "${ls_[@]}")
  o_ms=$(median "${os_[@]}")
  ratio=$(/usr/bin/python3 -c "print(f'{$l_ms / $o_ms:.2f}')")
  if [ -n "$explain" ]; then
    e_ms=$(median "${es_[@]}")
    er=$(/usr/bin/python3 -c "print(f'{$e_ms / $l_ms:.2f}')")
    echo "| $name | $l_ms | $e_ms | $er | $o_ms | $ratio |"
  else
    echo "| $name | $l_ms | $o_ms | $ratio |"
  fi
done
