#!/usr/bin/env bash
# The man pages made at build time (src/cli/meson.build) against the CLI:
# every command of `lrpx --help` has its page, every page renders without
# a groff warning, and every flag that `lrpx COMMAND --help` lists appears
# in its page with the same help text.
#   check_man.sh LRPX MANDIR
set -uo pipefail
lrpx=$1
mandir=$2
fail=0
bad() { echo "FAIL: $*"; fail=1; }

cmds=$("$lrpx" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || bad "no commands in lrpx --help"
for page in lrpx $(for c in $cmds; do echo "lrpx-$c"; done); do
  f="$mandir/$page.1"
  [ -f "$f" ] || { bad "$page.1 missing: add its command to lrpx_man_commands in src/cli/meson.build"; continue; }
  # groff: no warnings; the page has the sections a man page needs
  warn=$(groff -man -ww -z "$f" 2>&1)
  [ -z "$warn" ] || bad "$page.1: groff warns: $warn"
  for sec in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" "SEE ALSO"; do
    grep -q "^\.SH $sec" "$f" || bad "$page.1 has no $sec section"
  done
done
for c in $cmds; do
  f="$mandir/lrpx-$c.1"
  [ -f "$f" ] || continue
  # the rendered page as plain text, hyphens as typed, whitespace squeezed
  text=$(MANWIDTH=200 man -l "$f" 2>/dev/null | sed 's/‐/-/g' | tr -s ' \n' ' ')
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    flag=${line%%  *}
    help=$(echo "${line#"$flag"}" | tr -s ' ' ' ' | sed 's/^ //')
    case "$text" in
      *"$flag"*) ;;
      *) bad "lrpx-$c.1 lacks $flag" ;;
    esac
    if [ -n "$help" ]; then
      case "$text" in
        *"$help"*) ;;
        *) bad "lrpx-$c.1: the help of $flag differs from --help: '$help'" ;;
      esac
    fi
  done < <("$lrpx" "$c" --help | grep -E '^  --?[a-z]' | sed 's/^  //')
  [ "$n" -gt 0 ] || bad "lrpx $c --help lists no flags"
done
[ "$fail" = 0 ] && echo "man pages: $(echo $cmds | wc -w) commands checked"
exit $fail
