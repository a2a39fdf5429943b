#!/bin/sh
# Install the build into a fresh prefix, then build and run a consumer
# program against it twice: with pkg-config and with find_package(nnfs).
#   check_install.sh BUILD_DIR SOURCE_DIR C_COMPILER
set -eu
build=$1 src=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
libdir=$(find "$prefix" -name 'libnnfs.so' -printf '%h\n' | head -n 1)
[ -n "$libdir" ] || { echo "no libnnfs.so installed"; exit 1; }
test -f "$prefix/include/nnfs.h"
test -x "$prefix/bin/nnfs"

echo "== documents in share/doc/nnfs"
docdir=$prefix/share/doc/nnfs
for f in "$src/README.md" "$src"/docs/*.md; do
    cmp "$f" "$docdir/$(basename "$f")" || {
        echo "$(basename "$f") is not installed in $docdir"; exit 1; }
done
# the header names the installed copy of the format description
grep -q 'share/doc/nnfs/FORMAT.md' "$prefix/include/nnfs.h"

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --modversion nnfs
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/consumer_pc" \
    "$src/tests/install/consumer.c" $(pkg-config --cflags --libs nnfs)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"
# static link flags carry the BLAS (Libs.private)
pkg-config --static --libs nnfs | grep -q -- '-lopenblas\|-lblis\|blas' || {
    echo "nnfs.pc: the BLAS is missing from Libs.private"; exit 1; }

echo "== find_package(nnfs)"
cmake -S "$src/tests/install" -B "$work/cm" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" >"$work/cm.log"
cmake --build "$work/cm" >>"$work/cm.log"
LD_LIBRARY_PATH="$libdir" "$work/cm/consumer"

echo "== installed nnfs program"
LD_LIBRARY_PATH="$libdir" "$prefix/bin/nnfs" version
echo "install consumers: OK"
