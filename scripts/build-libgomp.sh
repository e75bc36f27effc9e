#!/usr/bin/env bash
# Builds a position-independent libgomp.a for the prebuilt addon (NCOD_STATIC_DEPS=ON), from Debian's own GCC
# sources (the gcc-N-source package, fetched with `apt-get download`; no root needed), for the GCC that builds
# the addon.
#
#   scripts/build-libgomp.sh [OUT_DIR]      # default build/static-deps; writes OUT_DIR/libgomp.a
#
# Why not Debian's libgomp.a: Debian's GCC builds it as position-independent *executable* code, whose
# thread-local variables use the local-exec model; ld refuses those in a shared object ("relocation
# R_X86_64_TPOFF32 ... can not be used when making a shared object"). Built here as PIC (libtool --with-pic)
# and with the general-dynamic TLS model. Not libgomp's usual initial-exec: one initial-exec object marks the
# whole addon STATIC_TLS, and then its entire TLS segment (8 KiB, mostly OpenBLAS's) must fit glibc's small
# static-TLS surplus, which it does not ("cannot allocate memory in static TLS block" at dlopen). Without
# USING_INITIAL_EXEC_TLS libgomp stores each thread's pthread_t instead of deriving it from the TLS address:
# the configuration it already uses on musl. About 30 s: 80 MB download, 8 s unpack, 8 s configure, 5 s compile.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/build/static-deps}" && cd "${1:-$root/build/static-deps}" && pwd)"
if [ -f "$out/libgomp.a" ]; then
  echo "build-libgomp: $out/libgomp.a exists"
  exit 0
fi

cc="${CC:-gcc}"
major="$("$cc" -dumpversion | cut -d. -f1)"
work="$(mktemp -d)" && chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"

# The source tarball: an installed gcc-N-source package, else its .deb from the apt archive.
src_dir="/usr/src/gcc-$major"
if ! ls "$src_dir"/gcc-*-dfsg.tar.xz >/dev/null 2>&1; then
  echo "build-libgomp: apt-get download gcc-$major-source"
  # As root, apt downloads as the _apt user: give it a folder it may write to.
  mkdir -m 777 deb
  (cd deb && apt-get download -q "gcc-$major-source" >/dev/null)
  dpkg-deb --fsys-tarfile deb/gcc-"$major"-source_*.deb |
    tar -x --wildcards "./usr/src/gcc-$major/gcc-*-dfsg.tar.xz" "./usr/src/gcc-$major/debian/patches/git-updates.diff"
  rm -r deb
  src_dir="$work/usr/src/gcc-$major"
fi
tarball="$(ls "$src_dir"/gcc-*-dfsg.tar.xz | head -n 1)"
top="$(basename "$tarball" -dfsg.tar.xz)"
# libgomp plus the top-level build-system files its configure script reads.
tar -xJf "$tarball" --wildcards "$top/libgomp/*" "$top/include/*" "$top/config/*" \
  "$top/config.guess" "$top/config.sub" "$top/install-sh" "$top/ltmain.sh" "$top/missing" "$top/mkinstalldirs" \
  "$top/depcomp" "$top/compile" "$top/config-ml.in" "$top/multilib.am" "$top/libtool-ldflags" "$top/ar-lib"

# Debian's libgomp is the release plus the GCC branch fixes in debian/patches/git-updates.diff: apply the
# libgomp source hunks of it (not ChangeLogs or tests) so this libgomp is the code Debian ships.
updates="$src_dir/debian/patches/git-updates.diff"
if [ -f "$updates" ]; then
  awk '/^--- /{keep = ($2 ~ /^a\/src\/libgomp\/[^\/]+\.[ch]$/)} keep' "$updates" >libgomp-updates.diff
  if [ -s libgomp-updates.diff ]; then
    (cd "$top" && patch -s -p2 <../libgomp-updates.diff)
    echo "build-libgomp: applied Debian's branch updates to $(grep -c '^+++ ' libgomp-updates.diff) libgomp files"
  fi
fi

mkdir build && cd build
"../$top/libgomp/configure" --disable-multilib --disable-shared --enable-static --with-pic --disable-werror \
  CC="$cc" CFLAGS="-O2 -g0 -ftls-model=global-dynamic -UUSING_INITIAL_EXEC_TLS" FC=no >configure.log 2>&1 || { tail -30 configure.log; exit 1; }
make -j"$(nproc)" libgomp.la >make.log 2>&1 || { tail -30 make.log; exit 1; }

# The whole point: no local-exec or initial-exec TLS access may remain (see above).
if readelf -rW .libs/libgomp.a | grep -q -E 'R_X86_64_(TPOFF32|GOTTPOFF)'; then
  echo "build-libgomp: the built libgomp.a still has static-TLS relocations" >&2
  exit 1
fi
cp .libs/libgomp.a "$out/libgomp.a.tmp" && mv "$out/libgomp.a.tmp" "$out/libgomp.a"
echo "build-libgomp: $out/libgomp.a (from $(basename "$tarball"), $(du -k "$out/libgomp.a" | cut -f1) KiB)"
