#!/bin/sh
# Regenerate the rule tables of docs/lrp.md (between the markers
# "<!-- rules:begin -->" and "<!-- rules:end -->") from the tables the rule
# parser uses, through `lrpx explain --list-rules --markdown`.
#   scripts/gen_rule_docs.sh [LRPX_BINARY]      (default build/src/cli/lrpx)
# tests/check_rule_docs.sh fails when the committed page differs.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$here/build/src/cli/lrpx}
doc=$here/docs/lrp.md
tmp=$(mktemp "$doc.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$cli" explain --list-rules --markdown > "$tmp.block"
awk -v block="$tmp.block" '
    /^<!-- rules:begin -->$/ { print; while ((getline l < block) > 0) print l; skip = 1; next }
    /^<!-- rules:end -->$/   { skip = 0 }
    !skip' "$doc" > "$tmp"
rm -f "$tmp.block"
grep -q '^<!-- rules:begin -->$' "$tmp" || { echo "gen_rule_docs: markers missing in $doc" >&2; exit 1; }
mv "$tmp" "$doc"
trap - EXIT
