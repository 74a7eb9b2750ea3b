#!/usr/bin/env bash
# `meson install` into a temporary DESTDIR, then what a packager and a user
# of the installed lrpx rely on:
#   - the files: library with its versioned soname, header, lrpx.pc, the
#     CLI, lrpx(1) and one man page per command;
#   - a tiny C program (tests/install/hello_lrpx.c) built with
#     `pkg-config --cflags --libs lrpx` runs against the installed library
#     and explains the bundled model like `lrpx explain` does;
#   - `man lrpx-explain` finds and renders the installed page;
#   - `pip install ./python` (no network) with --target and into a venv
#     (--system-site-packages) loads the installed library found through
#     pkg-config; a venv install without it records the build tree's
#     library; LRPX_LIBRARY overrides at run time; a copy with nothing
#     recorded finds the library through the dynamic loader.
#   check_install.sh BUILDDIR SOURCEDIR
set -uo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
fail=0
model=$src/testdata/models/fmnist_cnn.onnx
x=$src/testdata/images/fmnist_batch8.npy
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

# -- Python: pip install ./python, the ways python/README.md documents
# Each check runs a fresh interpreter outside the source tree and asserts
# which liblrpx it loaded; $1 is the expected path prefix.
py_check() {
  local want=$1 py=$2; shift 2
  (cd "$tmp" && env -u LRPX_LIBRARY PYTHONDONTWRITEBYTECODE=1 "$@" "$py" -c "
import numpy as np, lrpx
lib = lrpx.build_info()['library']
assert lib.startswith('$want'), 'loaded %s, expected $want...' % lib
assert not lrpx.__file__.startswith('$src'), lrpx.__file__
m = lrpx.Model('$model')
R = m.explain(np.load('$x'))
r = m.eval(np.load('$x')[:2], 'sparseness')
print('python: %s, relevance sum %.4f, sparseness %s' % (lib, R.sum(), r.scores))
")
}
pipq=(--quiet --no-deps --no-cache-dir --disable-pip-version-check)
if /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
  # 1. --target (or --break-system-packages) against the install, found via pkg-config
  (cd "$tmp" && /usr/bin/python3 -m pip install "${pipq[@]}" --target "$tmp/py" "$src/python" \
      >"$tmp/pip.log" 2>&1) || { cat "$tmp/pip.log"; bad "pip install --target ./python"; }
  py_check "$root" /usr/bin/python3 PYTHONPATH="$tmp/py" ||
    bad "the pip --target package does not use the installed library"
  # 2. a venv (Debian's numpy through --system-site-packages) against the install
  if /usr/bin/python3 -m venv --system-site-packages "$tmp/venv" >"$tmp/venv.log" 2>&1; then
    (cd "$tmp" && "$tmp/venv/bin/python" -m pip install "${pipq[@]}" "$src/python" \
        >"$tmp/pip.log" 2>&1) || { cat "$tmp/pip.log"; bad "pip install ./python in a venv"; }
    py_check "$root" "$tmp/venv/bin/python" ||
      bad "the venv package does not use the installed library"
    # 3. a venv against the build tree: without pkg-config's lrpx the wheel
    #    records the library beside python/ (build/) or LRPX_LIBRARY's
    /usr/bin/python3 -m venv --system-site-packages "$tmp/venv-build" >/dev/null 2>&1
    (cd "$tmp" && env -u PKG_CONFIG_PATH -u PKG_CONFIG_SYSROOT_DIR \
        LRPX_LIBRARY="$build/src/liblrpx.so" \
        "$tmp/venv-build/bin/python" -m pip install "${pipq[@]}" "$src/python" \
        >"$tmp/pip.log" 2>&1) || { cat "$tmp/pip.log"; bad "pip install ./python (build tree)"; }
    py_check "$build/src/liblrpx.so" "$tmp/venv-build/bin/python" \
        env -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH ||
      bad "the venv package does not use the build tree's library"
    # 4. LRPX_LIBRARY at run time wins over what the wheel recorded
    (cd "$tmp" && LRPX_LIBRARY="$libdir/liblrpx.so" "$tmp/venv-build/bin/python" -c "
import lrpx; assert lrpx.build_info()['library'] == '$libdir/liblrpx.so'") ||
      bad "LRPX_LIBRARY does not choose the library"
  else
    cat "$tmp/venv.log"; bad "python3 -m venv (scripts/setup.sh installs python3-venv)"
  fi
  # 5. nothing recorded, no pkg-config: the dynamic loader's search
  #    (LD_LIBRARY_PATH here; ld.so.conf after `ldconfig` for /usr/local)
  mkdir -p "$tmp/bare" && cp "$src"/python/lrpx/*.py "$tmp/bare/" 2>/dev/null &&
    mkdir -p "$tmp/bare/lrpx" && mv "$tmp"/bare/*.py "$tmp/bare/lrpx/" &&
    rm -f "$tmp/bare/lrpx/_install_hint.py"
  py_check "$libdir/liblrpx.so" /usr/bin/python3 env -u PKG_CONFIG_PATH PYTHONPATH="$tmp/bare" \
      LD_LIBRARY_PATH="$libdir" || bad "the package does not find the library through ld.so"
else
  bad "no pip for /usr/bin/python3 (scripts/setup.sh installs python3-pip)"
fi
[ "$fail" = 0 ] && echo "install: $version, $soname, $n_pages command man pages, pkg-config program, pip --target/venv/build-tree/ld.so packages OK"
exit $fail
