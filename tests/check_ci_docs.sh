#!/bin/sh
# docs/ci.md documents every kind of check and every field of the spec:
# each kind of LRPX_CHECK_KIND_LIST (src/check/check_impl.h) has a heading
# "### `kind`", and each field of the table in src/check/spec.c a table row
# "| `field` |".
#   check_ci_docs.sh SRC_DIR DOCS/ci.md
set -u
src=$1
doc=$2
status=0
kinds=$(sed -n 's/^ *X([A-Z]*, *"\([a-z_]*\)".*/\1/p' "$src/check/check_impl.h")
fields=$(sed -n 's/^ *F("\([a-z_]*\)",.*/\1/p' "$src/check/spec.c" | sort -u)
[ -n "$kinds" ] && [ -n "$fields" ] || { echo "no kinds or fields found in $src/check"; exit 1; }
for k in $kinds; do
    grep -q "^### \`$k\`" "$doc" || { echo "$doc: no section \"### \`$k\`\""; status=1; }
done
for f in $fields; do
    grep -q "^| \`$f\` |" "$doc" || { echo "$doc: no table row for the field \"$f\""; status=1; }
done
[ $status = 0 ] && echo "ci docs: $(echo $kinds | wc -w) kinds and $(echo $fields | wc -w) fields documented"
exit $status
