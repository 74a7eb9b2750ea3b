#!/bin/sh
# A generated block of a page is what the CLI prints from the library's own
# tables: docs/lrp.md's rule tables (`lrpx explain --list-rules --markdown`,
# block "rules") and docs/evaluation.md's metric reference (`lrpx eval
# --list-metrics --markdown`, block "metrics"). scripts/gen_rule_docs.sh
# rewrites both.
#   check_rule_docs.sh LRPX_BINARY DOC BLOCK ARGS...
set -u
cli=$1
doc=$2
block=$3
shift 3
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
"$cli" "$@" > "$want" || { echo "lrpx $* failed"; exit 1; }
awk -v b="$block" '$0 == "<!-- " b ":end -->" { on = 0 } on { print }
                   $0 == "<!-- " b ":begin -->" { on = 1 }' "$doc" > "$have"
if ! [ -s "$have" ]; then
    echo "$doc: no <!-- $block:begin --> ... <!-- $block:end --> block"
    exit 1
fi
if ! diff -u "$have" "$want"; then
    echo "$doc is out of date: run scripts/gen_rule_docs.sh"
    exit 1
fi
echo "generated docs: $doc block '$block' matches lrpx $*"
