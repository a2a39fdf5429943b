#!/bin/sh
# `mpirun -np 2 nnfs train` as a user meets it (issue 15): the default
# spiral run is one 2-process fit that reaches the course's accuracy
# and prints once; bad input (a missing file, images of another width
# for validation, a bad option) stops both processes with one clear
# error and a non-zero exit, never a hang.
#   cli_mpi.sh MPIRUN NNFS
set -u
mpirun=$1 nnfs=$2
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
run() {  # run WANT(0|nonzero) DESC ARGS...
  want=$1 desc=$2
  shift 2
  timeout 120 "$mpirun" --allow-run-as-root --oversubscribe --bind-to none \
    -np 2 "$nnfs" "$@" >"$t/out" 2>"$t/err"
  rc=$?
  if [ "$rc" -eq 124 ]; then echo "FAIL: $desc: hung"; fail=1; return; fi
  if { [ "$want" = 0 ] && [ "$rc" -ne 0 ]; } ||
     { [ "$want" != 0 ] && [ "$rc" -eq 0 ]; }; then
    echo "FAIL: $desc: exit $rc"; sed 's/^/  | /' "$t/out" "$t/err" | tail -n 8
    fail=1
  else echo "ok   $desc (exit $rc)"; fi
}
has() {
  if grep -q -- "$2" "$3"; then echo "ok   $1"; else
    echo "FAIL: $1: no '$2' in:"; sed 's/^/  | /' "$3" | tail -n 5; fail=1; fi
}
run 0 "spiral on 2 processes" train --epochs 3000 --progress lines --every 1000
has "one 2-process fit" "Data-parallel on 2 processes" "$t/out"
[ "$(grep -c '^Done:' "$t/out")" -eq 1 ] && echo "ok   printed once" ||
  { echo "FAIL: 'Done:' printed $(grep -c '^Done:' "$t/out") times"; fail=1; }
acc=$(sed -n 's/^Done:.*accuracy \([0-9.]*\)%.*/\1/p' "$t/out")
if awk -v a="$acc" 'BEGIN { exit !(a + 0 >= 80) }'; then
  echo "ok   spiral accuracy $acc% after 3000 epochs"
else echo "FAIL: spiral accuracy '$acc'"; fail=1; fi

run 1 "missing training images" train --train-images "$t/none.idx" \
  --train-labels "$t/none.idx"
has "message names the file" "none.idx" "$t/err"

# 4-wide training images, 6-wide validation images (plain IDX)
mk() {  # mk FILE COUNT WIDTH: an IDX3 of COUNT x 1 x WIDTH bytes
  /usr/bin/python3 -c "
import struct, sys
n, w = int(sys.argv[2]), int(sys.argv[3])
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, n, 1, w) + bytes((i * 7) % 256 for i in range(n * w)))
" "$1" "$2" "$3"
}
mkl() {  # mkl FILE COUNT: labels 0..2
  /usr/bin/python3 -c "
import struct, sys
n = int(sys.argv[2])
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('>II', 0x801, n) + bytes(i % 3 for i in range(n)))
" "$1" "$2"
}
mk "$t/tr.idx" 40 4; mkl "$t/trl.idx" 40
mk "$t/va.idx" 20 6; mkl "$t/val.idx" 20
run 0 "IDX pair on 2 processes" train --train-images "$t/tr.idx" \
  --train-labels "$t/trl.idx" --epochs 2 -q
run 1 "validation images of another width" train --train-images "$t/tr.idx" \
  --train-labels "$t/trl.idx" --test-images "$t/va.idx" \
  --test-labels "$t/val.idx" --epochs 2 -q
has "message gives both widths" "samples of 6 values" "$t/err"
run 2 "a bad option" train --epochs 0x
[ "$(grep -c "nnfs: " "$t/err")" -eq 1 ] &&
  echo "ok   the usage error printed once" ||
  { echo "FAIL: usage error printed $(grep -c "nnfs: " "$t/err") times"; fail=1; }
exit $fail
