#!/bin/sh
# update-baseline.sh - regenerate abi/libnnfs.abi, the ABI baseline that the
# abi_abidiff test compares libnnfs.so against.
#
#   abi/update-baseline.sh [BUILD_DIR]      (default: build)
#
# Run it on purpose only: when a release is cut, or when the API grew and
# the lead has reviewed the change (additions pass the test without a new
# baseline; anything else that abidiff reports must be a deliberate,
# versioned break).  The build must carry debug information (the default
# RelWithDebInfo, -g): abidw reads the types from DWARF.  Commit the new
# abi/libnnfs.abi together with the change it records.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
so=$BUILD/libnnfs.so
cmake --build "$BUILD" --target nnfs
readelf -S "$so" | grep -q '\.debug_info' || {
    echo "$so has no .debug_info: configure with -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
    exit 1; }
abidw --no-corpus-path --headers-dir "$ROOT/include" \
      --out-file "$ROOT/abi/libnnfs.abi" "$so"
echo "wrote $ROOT/abi/libnnfs.abi ($(grep -c '<elf-symbol ' "$ROOT/abi/libnnfs.abi") ELF symbols, $(grep -c '<function-decl ' "$ROOT/abi/libnnfs.abi") functions)"
