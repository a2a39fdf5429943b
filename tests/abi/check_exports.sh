#!/bin/sh
# The exported dynamic symbols of libnnfs.so must equal the checked-in list
# abi/libnnfs.symbols exactly (curl's check), and the SONAME must be
# libnnfs.so.MAJOR.
#   check_exports.sh path/to/libnnfs.so SOURCE_DIR
set -eu
so=$1 src=$2
list="$src/abi/libnnfs.symbols"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
nm -D --defined-only "$so" | awk '{print $NF}' | sed 's/@.*//' \
    | grep -v '^NNFS_[0-9]*$' | LC_ALL=C sort -u >"$tmp"
if ! diff -u "$list" "$tmp"; then
    echo "exported symbols differ from $list (- listed, + exported)"
    echo "If the API grew on purpose, add the new names to $list."
    exit 1
fi
if grep -q '^nn__' "$tmp"; then echo "internal nn__ symbols exported"; exit 1; fi
major=$(sed -n 's/^#define NN_VERSION_MAJOR \([0-9]*\).*/\1/p' "$src/include/nnfs.h")
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libnnfs.so.$major" ] || {
    echo "SONAME is '$soname', expected libnnfs.so.$major"; exit 1; }
echo "$(wc -l <"$tmp") exported symbols match $list; SONAME $soname"
