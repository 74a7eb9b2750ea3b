#!/usr/bin/env bash
# `meson install` into a temporary DESTDIR, then what a packager and a user
# of the installed lrpx rely on:
#   - the files: library with its versioned soname, header, lrpx.pc, the
#     CLI, lrpx(1) and one man page per command;
#   - a tiny C program (tests/install/hello_lrpx.c) built with
#     `pkg-config --cflags --libs lrpx` runs against the installed library
#     and explains the bundled model like `lrpx explain` does;
#   - `man lrpx-explain` finds and renders the installed page;
#   - `pip install ./python` (no network, --target) loads the installed
#     library found through pkg-config.
#   check_install.sh BUILDDIR SOURCEDIR
set -uo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
fail=0
bad() { echo "FAIL: $*"; fail=1; }

meson install -C "$build" --no-rebuild --destdir "$root" --quiet >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; echo "FAIL: meson install"; exit 1; }

pc=$(find "$root" -name lrpx.pc)
[ -n "$pc" ] || { echo "FAIL: no lrpx.pc installed"; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
prefix=$(sed -n 's/^prefix=//p' "$pc")
version=$(sed -n 's/^Version: //p' "$pc")
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
soname=liblrpx.so.$([ "$major" = 0 ] && echo "0.$minor" || echo "$major")

# -- files
for f in "$libdir/liblrpx.so.$version" "$libdir/$soname" "$libdir/liblrpx.so" \
         "$root$prefix/include/lrpx/lrpx.h" "$root$prefix/bin/lrpx" \
         "$root$prefix/share/man/man1/lrpx.1"; do
  [ -e "$f" ] || bad "not installed: ${f#"$root"}"
done
got=$(readelf -d "$libdir/liblrpx.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$got" = "$soname" ] || bad "soname is '$got', expected $soname"
export LD_LIBRARY_PATH=$libdir
n_pages=0
for c in $("$root$prefix/bin/lrpx" --help 2>/dev/null | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1}'); do
  [ -f "$root$prefix/share/man/man1/lrpx-$c.1" ] || bad "no man page lrpx-$c.1"
  n_pages=$((n_pages + 1))
done
[ "$n_pages" -gt 0 ] || bad "the installed lrpx lists no commands"
"$root$prefix/bin/lrpx" --version | head -1 | grep -qx "lrpx $version" || bad "installed lrpx --version"

# -- a C program through pkg-config
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
[ "$(pkg-config --modversion lrpx)" = "$version" ] || bad "pkg-config --modversion"
cflags=$(pkg-config --cflags lrpx) && libs=$(pkg-config --libs lrpx) || bad "pkg-config lrpx"
case "$cflags" in *"$root"*) ;; *) bad "pkg-config --cflags does not point into the install: $cflags" ;; esac
# shellcheck disable=SC2086
cc -std=c11 -Wall -Werror "$src/tests/install/hello_lrpx.c" $cflags $libs -o "$tmp/hello_lrpx" ||
  bad "hello_lrpx.c does not build against the install"
if [ -x "$tmp/hello_lrpx" ]; then
  ldd "$tmp/hello_lrpx" | grep -q "liblrpx.*$libdir" || bad "hello_lrpx does not load the installed library"
  model=$src/testdata/models/fmnist_cnn.onnx
  x=$src/testdata/images/fmnist_batch8.npy
  out=$("$tmp/hello_lrpx" "$model" "$x") || bad "hello_lrpx failed: $out"
  want=$("$root$prefix/bin/lrpx" explain "$model" "$x" | sed -n 's/^sample 0: class \([0-9]*\).*/\1/p')
  case "$out" in
    "lrpx $version: class $want logit"*) ;;
    *) bad "hello_lrpx printed '$out', lrpx explain says class '$want'" ;;
  esac
fi

# -- man
MANPATH=$root$prefix/share/man man -w lrpx-explain >/dev/null 2>&1 || bad "man does not find lrpx-explain"
MANPATH=$root$prefix/share/man MANWIDTH=100 man lrpx-explain 2>/dev/null | grep -q -- "--composite NAME" ||
  bad "man lrpx-explain does not show --composite"

# -- Python: pip install ./python against the installed library
if /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
  (cd "$tmp" && /usr/bin/python3 -m pip install --quiet --no-deps --no-cache-dir \
      --disable-pip-version-check --target "$tmp/py" "$src/python" >"$tmp/pip.log" 2>&1) ||
    { cat "$tmp/pip.log"; bad "pip install ./python"; }
  (cd "$tmp" && env -u LRPX_LIBRARY PYTHONPATH="$tmp/py" PYTHONDONTWRITEBYTECODE=1 \
      /usr/bin/python3 -c "
import sys, numpy as np, lrpx
lib = lrpx.build_info()['library']
assert lib.startswith('$root'), 'loaded ' + lib
assert lrpx.__file__.startswith('$tmp/py'), lrpx.__file__
m = lrpx.Model('$model')
R = m.explain(np.load('$x'))
print('python: %s, relevance sum %.4f' % (lib, R.sum()))
") || bad "the pip-installed package does not use the installed library"
else
  bad "no pip for /usr/bin/python3 (scripts/setup.sh installs python3-pip)"
fi
[ "$fail" = 0 ] && echo "install: $version, $soname, $n_pages command man pages, pkg-config program and pip package OK"
exit $fail
