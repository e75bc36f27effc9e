#!/usr/bin/env bash
# Builds the CUDA plugin against a CPU emulation of the CUDA runtime and cuBLAS, for developing the CUDA code on a
# machine without a GPU:
#   test/cuda-emulator/build.sh && NCOD_CUDA_PLUGIN=build/cuda-emulator/libncod_cuda.so npx vitest run test/gpu
# Each CUDA thread of a block runs as a fiber on the launching thread (__syncthreads and warp operations are
# cooperative barriers), device memory is host memory with bounds checks on every copy and BLAS call, and BLAS is a
# plain triple loop. It checks indexing, reductions, the ABI and the error paths; it cannot show races, memory-model
# or timing effects, or cuBLAS's own behaviour, so it does not replace a run on a GPU. Slow: test/gpu takes minutes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
src="$repo/native/cuda"
out="$repo/build/cuda-emulator"
mkdir -p "$out"
# Up to date when the plugin is newer than every input (the plugin's sources and this emulator).
if [ -f "$out/libncod_cuda.so" ] && [ -z "$(find "$src" "$here/inc" "$here/fake_rt.cpp" "$here/convert.py" "$0" -newer "$out/libncod_cuda.so" -type f | head -n 1)" ]; then
  echo "up to date: $out/libncod_cuda.so"
  exit 0
fi
# Every .cu in native/cuda (as CMakeLists.txt globs them), converted to C++ for the emulation.
rm -f "$out"/gen_*.cpp
kernel_units=()
for cu in "$src"/*.cu; do
  name="$(basename "$cu" .cu)"
  python3 "$here/convert.py" "$cu" "$out/gen_$name.cpp"
  kernel_units+=("$out/gen_$name")
done
flags=(-std=c++20 -O2 -fPIC -pthread -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 -I"$here/inc" -I"$src"
  -Wno-unused-parameter -DNCOD_POISON=1)
objects=()
pids=()
for f in "${kernel_units[@]}"; do
  g++ "${flags[@]}" -include "$here/inc/cuda_runtime.h" -c "$f.cpp" -o "$f.o" &
  pids+=($!)
  objects+=("$f.o")
done
g++ "${flags[@]}" -include "$here/inc/cuda_runtime.h" -c "$here/fake_rt.cpp" -o "$out/fake_rt.o" &
pids+=($!)
# The plugin's host sources: every .cpp in native/cuda except blas_cublas.cpp (fake_rt.cpp stands in for cuBLAS).
for f in "$src"/*.cpp; do
  name="$(basename "$f" .cpp)"
  [ "$name" = blas_cublas ] && continue
  g++ "${flags[@]}" -c "$f" -o "$out/host_$name.o" &
  pids+=($!)
  objects+=("$out/host_$name.o")
done
for p in "${pids[@]}"; do wait "$p"; done  # set -e: a failed compile stops here
g++ -shared -pthread -o "$out/libncod_cuda.so" "${objects[@]}" "$out/fake_rt.o" \
  -Wl,--version-script="$src/exports.map"
echo "built $out/libncod_cuda.so"
