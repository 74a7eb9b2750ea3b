#!/bin/sh
# Regenerate the blocks of the docs that come from the library's tables:
# the rule tables of docs/lrp.md (between "<!-- rules:begin -->" and
# "<!-- rules:end -->", `lrpx explain --list-rules --markdown`) and the
# metric reference of docs/evaluation.md ("<!-- metrics:begin/end -->",
# `lrpx eval --list-metrics --markdown`).
#   scripts/gen_rule_docs.sh [LRPX_BINARY]      (default build/src/cli/lrpx)
# tests/check_rule_docs.sh fails when a committed page differs.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$here/build/src/cli/lrpx}

# gen DOC BLOCK ARGS...: replace the block of DOC by `lrpx ARGS...`
gen() {
    doc=$1
    name=$2
    shift 2
    tmp=$(mktemp "$doc.XXXXXX")
    trap 'rm -f "$tmp" "$tmp.block"' EXIT
    "$cli" "$@" > "$tmp.block"
    awk -v block="$tmp.block" -v b="$name" '
        $0 == "<!-- " b ":begin -->" { print; while ((getline l < block) > 0) print l; skip = 1; next }
        $0 == "<!-- " b ":end -->"   { skip = 0 }
        !skip' "$doc" > "$tmp"
    rm -f "$tmp.block"
    grep -q "^<!-- $name:begin -->\$" "$tmp" || { echo "gen_rule_docs: markers missing in $doc" >&2; exit 1; }
    mv "$tmp" "$doc"
    trap - EXIT
}
gen "$here/docs/lrp.md" rules explain --list-rules --markdown
gen "$here/docs/evaluation.md" metrics eval --list-metrics --markdown
