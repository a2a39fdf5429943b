#!/bin/sh
# check_vectorized.sh - every hot loop marked `/* nn-vec: NAME */` on the
# line before it must be reported vectorized by the compiler.
#
#   check_vectorized.sh CC SOURCE_DIR -- FLAG... -- SOURCE...
#
# Compiles each SOURCE (relative to SOURCE_DIR) with the given flags (CTest
# passes those CMake uses for the avx2 kernel variant) plus
# -fopt-info-vec-optimized, and for every marker at line L checks that the
# report has "loop vectorized" at line L + 1 of that file.  Loops that GCC
# vectorizes only in an inlined copy are reported at their own source line,
# so that counts too.  Exit 0 when every marked loop is vectorized, 1 with
# a line per loop that is not, 77 (skipped) when the compiler is not GCC
# (-fopt-info is GCC's).
set -u
cc=$1
src=$2
shift 2
[ "${1:-}" = "--" ] || { echo "usage: $0 CC SRCDIR -- FLAGS -- SOURCES" >&2; exit 2; }
shift
flags=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    flags="$flags $1"
    shift
done
[ "${1:-}" = "--" ] || { echo "usage: $0 CC SRCDIR -- FLAGS -- SOURCES" >&2; exit 2; }
shift

if ! "$cc" --version 2>/dev/null | grep -qi -e gcc -e "free software foundation"; then
    echo "check_vectorized: $cc is not GCC; -fopt-info-vec is GCC's: skipped"
    exit 77
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
status=0
total=0
bad=0
for f in "$@"; do
    path="$src/$f"
    base=$(basename "$f" .c)
    # shellcheck disable=SC2086
    if ! "$cc" $flags -I"$src/include" -I"$src/src" -fopt-info-vec-optimized="$tmp/$base.txt" \
            -c "$path" -o "$tmp/$base.o" 2>"$tmp/$base.err"; then
        echo "check_vectorized: FAILED to compile $f:"
        cat "$tmp/$base.err"
        exit 1
    fi
    # marker lines: "LINE:NAME"
    grep -n 'nn-vec:' "$path" | sed -n 's|^\([0-9]*\):.*/\* nn-vec: *\([A-Za-z0-9_]*\) *\*/.*|\1:\2|p' \
        > "$tmp/$base.markers"
    while IFS=: read -r line name; do
        total=$((total + 1))
        loop=$((line + 1))
        if grep -q "$(basename "$f"):$loop:[0-9]*: optimized: loop vectorized" "$tmp/$base.txt"; then
            how=$(grep "$(basename "$f"):$loop:[0-9]*: optimized: loop vectorized" "$tmp/$base.txt" \
                  | head -n 1 | sed 's/.*loop vectorized //')
            echo "ok   $f:$loop $name ($how)"
        else
            echo "FAIL $f:$loop loop '$name' (marked /* nn-vec: $name */ at line $line) is NOT vectorized"
            bad=$((bad + 1))
            status=1
        fi
    done < "$tmp/$base.markers"
done
echo "check_vectorized: $total marked loops, $bad not vectorized (flags:$flags)"
[ "$total" -gt 0 ] || { echo "check_vectorized: no nn-vec markers found"; exit 1; }
exit $status
