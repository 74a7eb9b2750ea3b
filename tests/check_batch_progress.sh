#!/usr/bin/env bash
# lrpx batch's progress bar (src/cli/progress.c) where a user sees it: on a
# terminal (a pseudo-terminal made by script(1)) a bar with the count and
# the time left, in colour unless NO_COLOR is set; nothing on stderr in a
# pipe or with --quiet; --verbose adds the timings.
#   check_batch_progress.sh LRPX TESTDATA
set -u
lrpx=$1 testdata=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "batch_progress: $*" >&2; exit 1; }
command -v script >/dev/null || { echo "batch_progress: script(1) missing: skipped"; exit 77; }
# 100 images, one per call, smoothgrad with 4 copies: long enough that
# the bar is redrawn with a time left (0.1 s between redraws)
run=("$lrpx" batch "$testdata/models/fmnist_hans.onnx" --manifest "$testdata/spray_hans/manifest.csv"
     --batch 1 --threads 1 --method smoothgrad --samples 4)
q() { printf '%q ' "$@"; }

script -qec "$(q "${run[@]}" --out "$tmp/tty")" /dev/null >"$tmp/tty.txt" ||
    fail "the run on a terminal failed"
grep -q 'batch: inputs 0/100 ' "$tmp/tty.txt" || fail "no bar at the start on a terminal"
grep -q 'batch: inputs 100/100 ' "$tmp/tty.txt" || fail "the bar does not reach 100/100"
grep -Eq 'inputs [0-9]+/100 .* [0-9]+:[0-9][0-9] left' "$tmp/tty.txt" || fail "no time left shown"
grep -q $'\033\[32m' "$tmp/tty.txt" || fail "no colour on a terminal"
grep -q '100 inputs explained, 0 already done, 0 failed' "$tmp/tty.txt" || fail "no summary line"

script -qec "NO_COLOR=1 $(q "${run[@]}" --out "$tmp/nocolor")" /dev/null >"$tmp/nocolor.txt" ||
    fail "the NO_COLOR run failed"
grep -q 'batch: inputs 100/100 ' "$tmp/nocolor.txt" || fail "NO_COLOR: no bar"
if grep -q $'\033\[3[0-9]m' "$tmp/nocolor.txt"; then fail "NO_COLOR: colour escapes"; fi

script -qec "$(q "${run[@]}" --out "$tmp/quiet" --quiet)" /dev/null >"$tmp/quiet.txt" ||
    fail "the --quiet run failed"
[ ! -s "$tmp/quiet.txt" ] || fail "--quiet on a terminal printed: $(head -c 200 "$tmp/quiet.txt")"

"${run[@]}" --out "$tmp/pipe" 2>"$tmp/pipe.err" | cat >"$tmp/pipe.out" || fail "the piped run failed"
[ ! -s "$tmp/pipe.err" ] || fail "stderr in a pipe: $(head -c 200 "$tmp/pipe.err")"
grep -q '100 inputs explained' "$tmp/pipe.out" || fail "no summary line in a pipe"

"${run[@]}" --out "$tmp/verbose" --verbose 2>"$tmp/verbose.err" >/dev/null ||
    fail "the --verbose run failed"
grep -Eq '^lrpx batch: 100 inputs \(decode [0-9]+ ms, explain [0-9]+ ms, write [0-9]+ ms' \
    "$tmp/verbose.err" || fail "--verbose: no timings: $(cat "$tmp/verbose.err")"
if grep -q $'\r' "$tmp/verbose.err"; then fail "--verbose in a file: a bar was drawn"; fi

# what is shown changes nothing in the results (timings aside)
strip() { sed 's/, "time_ms".*//' "$1"; }
for d in nocolor quiet pipe verbose; do
    [ "$(strip "$tmp/tty/results.jsonl")" = "$(strip "$tmp/$d/results.jsonl")" ] ||
        fail "$d: other results than on the terminal"
done
echo "batch_progress: bar on a terminal (colour, NO_COLOR), nothing in a pipe or with --quiet, --verbose timings"
