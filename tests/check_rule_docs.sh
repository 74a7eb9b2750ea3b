#!/bin/sh
# docs/lrp.md's rule tables are what `lrpx explain --list-rules --markdown`
# prints (the parser's own tables); scripts/gen_rule_docs.sh rewrites them.
#   check_rule_docs.sh LRPX_BINARY DOCS/lrp.md
set -u
cli=$1
doc=$2
want=$(mktemp)
have=$(mktemp)
trap 'rm -f "$want" "$have"' EXIT
"$cli" explain --list-rules --markdown > "$want" || { echo "lrpx explain --list-rules failed"; exit 1; }
awk '/^<!-- rules:end -->$/ { on = 0 } on { print } /^<!-- rules:begin -->$/ { on = 1 }' "$doc" > "$have"
if ! [ -s "$have" ]; then
    echo "$doc: no <!-- rules:begin --> ... <!-- rules:end --> block"
    exit 1
fi
if ! diff -u "$have" "$want"; then
    echo "$doc is out of date: run scripts/gen_rule_docs.sh"
    exit 1
fi
echo "rule docs: docs/lrp.md matches the rule tables"
