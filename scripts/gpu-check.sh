#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: build the CUDA plugin, run the CPU/CUDA parity tests (test/gpu), and with
# --bench the benchmarks on the CUDA backend. Logs and results go to $OUT (default bench/out/gpu-check).
# Works offline when a kit from `scripts/offline-kit.sh pack` is in .offline-kit/.
#
#   scripts/gpu-check.sh [--bench [--quick] [--only suites]]
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-bench/out/gpu-check}"
mkdir -p "$out"

if [ -d .offline-kit ]; then
  # shellcheck source=offline-kit.sh
  source scripts/offline-kit.sh unpack
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"

echo "== build (CUDA plugin)"
node scripts/build-native.js >"$out/build.log" 2>&1
status=$?
grep -E "ncod: CUDA|error|Error" "$out/build.log" | head -40
[ "$status" -eq 0 ] || { echo "build failed: see build.log"; exit "$status"; }
if ! grep -q "ncod: CUDA plugin" "$out/build.log"; then
  echo "CMake found no CUDA toolkit with cuBLAS; cuBLAS libraries on this machine:"
  find / -xdev -name 'libcublas.so*' 2>/dev/null | head
  exit 3
fi

echo "== backends"
node --import tsx -e "import { backends } from './lib/index.js'; console.log(JSON.stringify(backends(), null, 2));" |
  tee "$out/backends.json"

echo "== GPU parity tests"
node node_modules/vitest/vitest.mjs run test/gpu 2>&1 | tee "$out/gpu-tests.log" | tail -60
tests=${PIPESTATUS[0]}

if [ "${1:-}" = "--bench" ]; then
  shift
  echo "== benchmarks on the CUDA backend"
  node --import tsx bench/run.ts --backend cuda "$@" 2>&1 | tee "$out/bench.log" | tail -40
  find bench/results -maxdepth 1 -type f -newer "$out/device.txt" -exec cp {} "$out/" \;
fi
exit "$tests"
