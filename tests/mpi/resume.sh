#!/bin/sh
# `mpirun -np 2 nnfs train` (issue 15, item 4): one rank SIGKILLed from
# outside after the first per-epoch checkpoint ends the job non-zero
# within 60 s (no hang); the checkpoint rank 0 wrote stays loadable; a
# restart from it (--resume, the epochs numbered on: the same row
# orders) for the remaining epochs ends with exactly the bytes of an
# uninterrupted run's final checkpoint.  Fashion-MNIST's 10000 test
# images as training data (77 = skipped when the data set is absent).
# Also checks that `nnfs` (not nnfs-mpi) under mpirun runs one 2-process
# fit: its header says so.
#   resume.sh MPIRUN NNFS
set -u
mpirun=$1 nnfs=$2
D=/usr/share/datasets/fashion-mnist
[ -f "$D/t10k-images-idx3-ubyte.gz" ] || { echo "no $D: skipped"; exit 77; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
E=60   # epochs of 100 steps (batch 100); about 3 s in all on 2 cores
run() {
  timeout 120 "$mpirun" --allow-run-as-root --oversubscribe --bind-to none \
    -np 2 "$nnfs" train --train-images "$D/t10k-images-idx3-ubyte.gz" \
    --train-labels "$D/t10k-labels-idx1-ubyte.gz" --batch 100 \
    --progress lines --every 10 "$@"
}
run --hidden 32 --epochs $E --checkpoint "$t/full.ckpt" >"$t/full.txt" 2>&1 ||
  { cat "$t/full.txt"; echo "FAIL: uninterrupted run"; exit 1; }
grep -q "Data-parallel on 2 processes" "$t/full.txt" ||
  { cat "$t/full.txt"; echo "FAIL: not one 2-process fit"; exit 1; }

# the same run, killed from outside once a checkpoint exists
run --hidden 32 --epochs $E --checkpoint "$t/part.ckpt" --checkpoint-every 1 \
  >"$t/killed.txt" 2>&1 &
job=$!
i=0
while [ ! -f "$t/part.ckpt" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.3
victim=$(pgrep -f "train .*$t/part.ckpt" | grep -v "^$job\$" | tail -n 1)
[ -n "$victim" ] || { echo "FAIL: no rank process to kill"; exit 1; }
start=$(date +%s)
kill -9 "$victim"
wait $job
rc=$?
took=$(( $(date +%s) - start ))
cat "$t/killed.txt"
echo "killed pid $victim; the job ended with status $rc after ${took}s"
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
  echo "FAIL: killed run ended with status $rc (0: success, 124: hang)"
  exit 1
fi
[ "$took" -le 60 ] || { echo "FAIL: took ${took}s to end"; exit 1; }

# the last checkpoint loads; its step count says how far it got
"$nnfs" info "$t/part.ckpt" >"$t/info.txt" ||
  { cat "$t/info.txt"; echo "FAIL: the checkpoint does not load"; exit 1; }
steps=$(sed -n 's/.*state after \([0-9]*\) steps.*/\1/p' "$t/info.txt")
[ -n "$steps" ] || { cat "$t/info.txt"; echo "FAIL: no optimizer state"; exit 1; }
done_epochs=$((steps / 100))
[ "$done_epochs" -lt "$E" ] ||
  { echo "FAIL: the run ended before the kill ($steps steps)"; exit 1; }
run --resume "$t/part.ckpt" --epochs $((E - done_epochs)) \
  --checkpoint "$t/resumed.ckpt" >"$t/resumed.txt" 2>&1 ||
  { cat "$t/resumed.txt"; echo "FAIL: the resumed run failed"; exit 1; }
grep "Resuming at epoch $((done_epochs + 1))" "$t/resumed.txt" ||
  { cat "$t/resumed.txt"; echo "FAIL: not resumed at epoch $((done_epochs + 1))"; exit 1; }
if ! cmp "$t/full.ckpt" "$t/resumed.ckpt"; then
  echo "FAIL: the resumed run's final checkpoint differs"; exit 1
fi
echo "ok: killed after epoch $done_epochs (status $rc, ${took}s); resumed" \
     "at epoch $((done_epochs + 1)); final checkpoint byte-identical to" \
     "the uninterrupted run's"
