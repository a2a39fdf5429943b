#!/bin/sh
# Every document a file of the repository cites by name (an upper-case
# name ending in .md, e.g. docs/FORMAT.md or tests/tiers/README.md) must be
# a file of the repository, so the sources stand on their own.  A
# reference resolves relative to the repository root or to the citing
# file's directory; one through the installed documentation directory
# (share/doc/nnfs/) resolves to what CMake installs there: README.md and
# docs/*.md.  Paths built from shell variables ($src/...) are not
# references and are skipped.
#   check_doc_refs.sh SOURCE_DIR
set -eu
src=$(cd "$1" && pwd)
cd "$src"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard >"$list"
else
    find . -type f ! -path './.git/*' ! -path './build*' | sed 's|^\./||' >"$list"
fi
checked=0 bad=0
refs=$(while IFS= read -r f; do
    [ -f "$f" ] || continue
    grep -IHoE '[$A-Za-z0-9_./{}-]*\b[A-Z_]+\.md\b' "$f" 2>/dev/null || true
done <"$list")
for hit in $refs; do
    f=${hit%%:*} ref=${hit#*:}
    d=$(dirname "$f")
    ref=${ref#./}
    case $ref in *'$'*) continue ;; esac
    checked=$((checked + 1))
    case $ref in
    */share/doc/nnfs/*|share/doc/nnfs/*)
        base=${ref##*/share/doc/nnfs/}
        base=${base#share/doc/nnfs/}
        if [ "$base" = README.md ] || [ -f "docs/$base" ]; then continue; fi ;;
    /*) ;;
    *)
        if [ -f "$ref" ] || [ -f "$d/$ref" ]; then continue; fi ;;
    esac
    echo "$f: '$ref' is not a file of the repository"
    bad=$((bad + 1))
done
if [ "$bad" -ne 0 ]; then
    echo "$bad of $checked document references do not resolve"
    exit 1
fi
echo "$checked of $checked document references resolve inside the repository"
