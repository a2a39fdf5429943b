#!/bin/sh
# The C program in README.md must compile warning-free against the built
# library and train the spiral network (accuracy printed > 0.9).
#   check_readme_example.sh SOURCE_DIR LIB_DIR C_COMPILER
set -eu
src=$1 lib=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk '/^```c$/ {on=1; next} /^```$/ {if (on) exit} on' "$src/README.md" \
    >"$work/readme.c"
[ -s "$work/readme.c" ] || { echo "no \`\`\`c block in README.md"; exit 1; }
"$cc" -std=c11 -Wall -Wextra -Werror -I"$src/include" "$work/readme.c" \
    -L"$lib" -lnnfs -o "$work/readme"
cd "$work"
out=$(LD_LIBRARY_PATH="$lib" ./readme)
echo "$out"
echo "$out" | awk '{ if ($4 + 0 > 0.9) ok = 1 } END { exit ok ? 0 : 1 }' || {
    echo "README example: accuracy not above 0.9"; exit 1; }
test -s spiral.nnfs
