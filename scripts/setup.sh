#!/usr/bin/env bash
# Installs every Debian package lrpx needs on a fresh Debian 12 machine.
#   scripts/setup.sh          build + tests (what CI needs): the C toolchain and
#                             libraries, Check, and for the Python package's
#                             tests python3 with NumPy, pytest, pip and
#                             PyTorch, torchvision and scikit-image (the
#                             walkthrough in examples/); man-db for `man lrpx`
#   scripts/setup.sh --full   also the Python/PyTorch reference tools and the
#                             ONNX Runtime peer used by scripts/ (model export,
#                             reference generation, benchmarks, libFuzzer)
set -euo pipefail
full=0
[ "${1:-}" = "--full" ] && full=1

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

build_pkgs=(
  build-essential pkg-config meson ninja-build
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev
  libopenblas-dev liblapacke-dev libjpeg62-turbo-dev libpng-dev libcjson-dev
  check valgrind libxml2-dev
  libonnx-testdata
  dataset-fashion-mnist zlib1g-dev
  python3 python3-numpy python3-pytest python3-pip python3-venv python3-torch
  python3-torchvision python3-skimage python3-pil man-db
)
full_pkgs=(
  python3-onnx python3-sklearn
  hyperfine clang libclang-rt-14-dev
)

pkgs=("${build_pkgs[@]}")
[ "$full" = 1 ] && pkgs+=("${full_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "$full" = 1 ]; then
  # Node.js with npm: Debian's nodejs+npm unless a node is already on PATH
  # (Debian's npm conflicts with NodeSource builds that bundle their own).
  if ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y -q --no-install-recommends nodejs npm
  fi
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -d "$here/scripts/node/node_modules/onnxruntime-node" ]; then
    (cd "$here/scripts/node" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
  fi
fi
