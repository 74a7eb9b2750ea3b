#!/usr/bin/env bash
# Benchmark (not a test): an AttnLRP explanation of torchvision's vit_b_16
# (random weights, scripts/export_vit_b_16.py) with lrpx, as a multiple of
# one inference of the same model with ONNX Runtime (onnxruntime-node,
# CPU), measured in interleaved rounds on the same machine with the same
# thread count. The target of issue 11 is <= 4.
#
#   scripts/bench_transformer.sh [--threads T] [-n RUNS] [-r ROUNDS]
#                                [--build DIR] [--composite C]
#                                [--ort-dir DIR] [--baseline DIR] [MODEL]
#
# MODEL        default models/zoo/vit_b_16.onnx (made if missing), with
#              MODEL's NAME.input.npy beside it
# --ort-dir    a folder where `npm install --ignore-scripts onnxruntime-node`
#              was run; linked as scripts/node/node_modules when that is
#              missing (scripts/node/ort_run.js loads it from there)
# --build DIR  a release build of lrpx (default build-bench, made if absent)
# --baseline DIR  another release build of lrpx (an older commit) timed in
#              the same rounds, after this one: two more columns, its
#              explanation / ORT and its forward / ORT
#
# Prints the CPU model and vector extensions, the load average, and one
# Markdown table row per round plus the medians, in process CPU time per
# pass (the steadier figure on a shared machine; wall times in the last
# column): lrpx forward, lrpx explanation (forward + relevance pass), ORT
# forward, explanation / ORT, lrpx forward / ORT, and the wall-time
# explanation / ORT. Each round runs RUNS passes of each after a warm-up.
# The ratios of the last row are the medians of the rounds' ratios (each
# round times both runtimes close together, so a machine whose load drifts
# between rounds disturbs a ratio less than the medians of the times).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
threads=1
runs=3
rounds=3
builddir=build-bench
composite=attn_lrp
ortdir=""
baseline=""
model=""
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    -n) runs=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    --build) builddir=$2; shift 2 ;;
    --composite) composite=$2; shift 2 ;;
    --ort-dir) ortdir=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    -*) echo "bench_transformer.sh: unknown option $1" >&2; exit 2 ;;
    *) model=$1; shift ;;
  esac
done
model=${model:-models/zoo/vit_b_16.onnx}
input=${model%.onnx}.input.npy
if [ ! -f "$model" ] && [ "$model" = models/zoo/vit_b_16.onnx ]; then
  /usr/bin/python3 scripts/export_vit_b_16.py
fi
[ -f "$model" ] && [ -f "$input" ] || { echo "bench_transformer.sh: $model or $input is missing" >&2; exit 1; }
if [ ! -d scripts/node/node_modules/onnxruntime-node ]; then
  [ -n "$ortdir" ] && [ -d "$ortdir/node_modules/onnxruntime-node" ] ||
    { echo "bench_transformer.sh: onnxruntime-node missing (npm install --ignore-scripts onnxruntime-node in a folder, then --ort-dir FOLDER)" >&2; exit 1; }
  ln -s "$(cd "$ortdir" && pwd)/node_modules" scripts/node/node_modules
fi
if [ ! -x "$builddir/src/cli/lrpx" ]; then
  [ -d "$builddir" ] || meson setup "$builddir" -Dbuildtype=release -Dtests=false >/dev/null
  ninja -C "$builddir" src/cli/lrpx >/dev/null
fi
lrpx=$builddir/src/cli/lrpx
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { /usr/bin/python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d$1)"; }
median() { /usr/bin/python3 -c "import statistics,sys; print(f'{statistics.median(float(v) for v in sys.argv[1:]):.2f}')" "$@"; }
ratio() { /usr/bin/python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "model $model, composite $composite, threads $threads, $runs runs x $rounds rounds"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores;" \
     "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|avx512f|avx512bw|avx512vl)$' | tr '\n' ' ')"
echo "date $(date -u +%Y-%m-%dT%H:%MZ), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
bh="" bl=""
if [ -n "$baseline" ]; then
  [ -x "$baseline/src/cli/lrpx" ] || { echo "bench_transformer.sh: no $baseline/src/cli/lrpx" >&2; exit 1; }
  bh=" baseline explain / ORT | baseline forward / ORT |"; bl="---|---|"
fi
echo "| round | lrpx forward CPU ms | lrpx explain CPU ms | ORT forward CPU ms | explain / ORT | lrpx forward / ORT | explain / ORT (wall) |$bh"
echo "|---|---|---|---|---|---|---|$bl"
fs=() es=() os=() eo=() fo=() wo=() beo=() bfo=()
for ((r = 1; r <= rounds; r++)); do
  oj=$(node scripts/node/ort_run.js "$model" "$tmp" "$input" --threads "$threads" --bench "$runs")
  lj=$(LRPX_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$lrpx" bench "$model" "$input" \
       -n "$runs" --warmup 1 --threads "$threads" --explain "$composite")
  f=$(echo "$lj" | field "['run_cpu']['median_ms']")
  e=$(echo "$lj" | field "['explain_${composite}_cpu']['median_ms']")
  o=$(echo "$oj" | field "['median_cpu_ms']")
  ew=$(echo "$lj" | field "['explain']['median_ms']")
  ow=$(echo "$oj" | field "['median_ms']")
  fs+=("$f"); es+=("$e"); os+=("$o")
  eo+=("$(ratio "$e" "$o")"); fo+=("$(ratio "$f" "$o")"); wo+=("$(ratio "$ew" "$ow")")
  extra=""
  if [ -n "$baseline" ]; then
    bj=$(LRPX_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$baseline/src/cli/lrpx" bench \
         "$model" "$input" -n "$runs" --warmup 1 --threads "$threads" --explain "$composite")
    bf=$(echo "$bj" | field "['run_cpu']['median_ms']")
    be=$(echo "$bj" | field "['explain_${composite}_cpu']['median_ms']")
    beo+=("$(ratio "$be" "$o")"); bfo+=("$(ratio "$bf" "$o")")
    extra=" ${beo[-1]} | ${bfo[-1]} |"
  fi
  printf '| %d | %.1f | %.1f | %.1f | %s | %s | %s |%s\n' "$r" "$f" "$e" "$o" "${eo[-1]}" "${fo[-1]}" "${wo[-1]}" "$extra"
done
F=$(median "${fs[@]}"); E=$(median "${es[@]}"); O=$(median "${os[@]}")
extra=""
[ -n "$baseline" ] && extra=" $(median "${beo[@]}") | $(median "${bfo[@]}") |"
echo "| median | $F | $E | $O | **$(median "${eo[@]}")** | $(median "${fo[@]}") | $(median "${wo[@]}") |$extra"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
