#!/bin/sh
# The ABI of libnnfs.so compared with the committed baseline abi/libnnfs.abi
# (libabigail's abidiff, T15a of docs/RELIABILITY.md).  Added functions pass
# (--no-added-syms); any other change fails: abidiff's exit status is a bit
# set, 1 = error, 2 = usage, 4 = ABI change (e.g. a size_t parameter made
# int), 8 = incompatible change (a removed function).  To accept a change
# on purpose, regenerate the baseline with abi/update-baseline.sh and commit
# it with the change.
#   check_abidiff.sh path/to/libnnfs.so SOURCE_DIR
# Exit 77 (skipped) when abidiff is not installed or the library has no
# debug information (a stripped or Release build: abidiff would then pass
# silently, so it is not run).
set -u
so=$1 src=$2
base=$src/abi/libnnfs.abi
command -v abidiff >/dev/null || { echo "abidiff not installed (apt-get install abigail-tools): skipped"; exit 77; }
[ -f "$base" ] || { echo "no baseline $base: run abi/update-baseline.sh"; exit 1; }
readelf -S "$so" | grep -q '\.debug_info' || {
    echo "$so has no .debug_info (build with -g, RelWithDebInfo): skipped"; exit 77; }
abidiff --no-added-syms --headers-dir2 "$src/include" "$base" "$so"
rc=$?
if [ $rc -ne 0 ]; then
    echo "abidiff exit $rc (bits: 1 error, 2 usage, 4 ABI change, 8 incompatible)"
    echo "If this change is deliberate, run abi/update-baseline.sh and commit abi/libnnfs.abi."
    exit 1
fi
echo "ABI of $so matches $base (additions allowed)"
