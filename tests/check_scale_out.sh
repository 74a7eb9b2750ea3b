#!/bin/sh
# Runs the three blocks of docs/scale-out.md as they are written — the Slurm
# job array script, the merge command and the Kubernetes Indexed Job's
# container script — under a fake scheduler: the variables Slurm and
# Kubernetes set, one process per task, all at once. Both merges must equal
# a single lrpx batch run of the same inputs, line for line (timings and
# paths aside) and map for map, byte for byte.
#   check_scale_out.sh LRPX docs/scale-out.md TESTDATA
set -eu
lrpx_bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
doc=$2
testdata=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "scale_out: $*" >&2; exit 1; }

mkdir "$tmp/bin"
ln -s "$lrpx_bin" "$tmp/bin/lrpx"
PATH="$tmp/bin:$PATH"
export PATH

# the fenced block after the line "<!-- scale-out: NAME -->"
block() {
    awk -v m="<!-- scale-out: $1 -->" '
        $0 == m { on = 1; next }
        on && /^```/ { if (inside) exit; inside = 1; next }
        on && inside { print }' "$doc"
}
block slurm > "$tmp/array.sbatch"
block merge > "$tmp/merge.sh"
block kubernetes > "$tmp/job.yaml"
for f in array.sbatch merge.sh job.yaml; do
    [ -s "$tmp/$f" ] || fail "no '$f' block in $doc"
done

# 24 inputs: the 8 bundled images in three folders
model="$testdata/models/fmnist_cnn.onnx"
for d in a b c; do
    mkdir -p "$tmp/data/$d"
    cp "$testdata"/images/*.png "$tmp/data/$d/"
done
lrpx batch "$model" --inputs "$tmp/data" --out "$tmp/ref" --heatmaps -q ||
    fail "the single-process run failed"

# same lines (cut before the paths) and the same bytes behind the paths
compare() {
    sed 's/, "relevance": .*//' "$1/results.jsonl" > "$tmp/want"
    sed 's/, "relevance": .*//' "$2/results.jsonl" > "$tmp/got"
    cmp -s "$tmp/want" "$tmp/got" || { diff "$tmp/want" "$tmp/got" | head >&2; fail "$2: other results"; }
    [ "$(wc -l < "$1/results.jsonl")" = 24 ] || fail "$1: not 24 results"
    while IFS= read -r la <&3 && IFS= read -r lb <&4; do
        for k in relevance heatmap; do
            pa=$(printf '%s\n' "$la" | sed "s/.*\"$k\": \"\([^\"]*\)\".*/\1/")
            pb=$(printf '%s\n' "$lb" | sed "s/.*\"$k\": \"\([^\"]*\)\".*/\1/")
            cmp -s "$1/$pa" "$2/$pb" || fail "$1/$pa and $2/$pb differ"
        done
    done 3< "$1/results.jsonl" 4< "$2/results.jsonl"
}

# Slurm: sbatch --array=0-3 starts four tasks
pids=""
for i in 0 1 2 3; do
    env SLURM_JOB_ID=$((1000 + i)) SLURM_ARRAY_JOB_ID=1000 SLURM_ARRAY_TASK_ID=$i \
        SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=3 \
        SLURM_ARRAY_TASK_STEP=1 SLURM_CPUS_PER_TASK=1 \
        MODEL="$model" DATA="$tmp/data" OUT="$tmp/slurm" \
        bash "$tmp/array.sbatch" > "$tmp/slurm-$i.log" 2>&1 &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || { cat "$tmp"/slurm-*.log >&2; fail "a Slurm task failed"; }
done
OUT="$tmp/slurm" bash "$tmp/merge.sh" > "$tmp/merge.log" 2>&1 ||
    { cat "$tmp/merge.log" >&2; fail "the merge block failed"; }
compare "$tmp/ref" "$tmp/slurm/all"

# Kubernetes: completions pods with JOB_COMPLETION_INDEX, running the
# container's command (["/bin/sh", "-c"]) with the manifest's script
grep -q 'command: \["/bin/sh", "-c"\]' "$tmp/job.yaml" || fail "the container's command changed"
completions=$(awk '$1 == "completions:" { print $2 }' "$tmp/job.yaml")
shards=$(awk '$2 == "name:" && $3 == "SHARDS" { getline; gsub(/"/, "", $2); print $2 }' \
             "$tmp/job.yaml")
[ -n "$completions" ] && [ "$completions" = "$shards" ] ||
    fail "completions ($completions) and SHARDS ($shards) must agree"
awk '
    /^ *args:/ { a = 1; next }
    a && !s && /^ *- \|$/ { s = 1; next }
    s && /^ *$/ { print ""; next }
    s { match($0, /^ */); if (!ind) ind = RLENGTH; if (RLENGTH < ind) exit; print substr($0, ind + 1) }
' "$tmp/job.yaml" > "$tmp/pod.sh"
[ -s "$tmp/pod.sh" ] || fail "no container script in the manifest"
pids=""
i=0
while [ "$i" -lt "$completions" ]; do
    env JOB_COMPLETION_INDEX=$i SHARDS="$shards" MODEL="$model" DATA="$tmp/data" \
        OUT="$tmp/k8s" /bin/sh -c "$(cat "$tmp/pod.sh")" > "$tmp/pod-$i.log" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
for p in $pids; do
    wait "$p" || { cat "$tmp"/pod-*.log >&2; fail "a pod failed"; }
done
lrpx merge "$tmp"/k8s/shard-* -o "$tmp/k8s/all" -q || fail "merging the pods' folders failed"
compare "$tmp/ref" "$tmp/k8s/all"
echo "scale_out: the Slurm array ($(ls -d "$tmp"/slurm/shard-* | wc -l) tasks) and the Indexed Job ($completions pods) equal one process"
