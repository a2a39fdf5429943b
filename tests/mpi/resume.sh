#!/bin/sh
# nnfs-mpi on 2 ranks (issue 15, item 4): a rank SIGKILLed in epoch 2
# ends the job non-zero within 60 s; the checkpoint rank 0 wrote after
# epoch 1 stays loadable; a restart from it ends with exactly the bytes
# of the uninterrupted run's final checkpoint.  Fashion-MNIST's 10000 test
# images as training data (77 = skipped when the data set is absent).
#   resume.sh MPIRUN NNFS_MPI
set -u
mpirun=$1 prog=$2
D=/usr/share/datasets/fashion-mnist
[ -f "$D/t10k-images-idx3-ubyte.gz" ] || { echo "no $D: skipped"; exit 77; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
run() {
  timeout 120 "$mpirun" --allow-run-as-root --oversubscribe --bind-to none \
    -np 2 "$prog" --train-images "$D/t10k-images-idx3-ubyte.gz" \
    --train-labels "$D/t10k-labels-idx1-ubyte.gz" --hidden 32 --batch 100 \
    --epochs 2 "$@"
}
run --checkpoint "$t/full.ckpt" || { echo "FAIL: uninterrupted run"; exit 1; }
run --checkpoint "$t/part.ckpt" --kill-at 1:150 >"$t/killed.txt" 2>&1
rc=$?
cat "$t/killed.txt"
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
  echo "FAIL: killed run ended with status $rc (0: success, 124: hang)"
  exit 1
fi
[ -f "$t/part.ckpt" ] || { echo "FAIL: no checkpoint from epoch 1"; exit 1; }
run --resume "$t/part.ckpt" --checkpoint "$t/resumed.ckpt" ||
  { echo "FAIL: the resumed run failed"; exit 1; }
if ! cmp "$t/full.ckpt" "$t/resumed.ckpt"; then
  echo "FAIL: the resumed run's final checkpoint differs"; exit 1
fi
echo "ok: killed run status $rc; resumed from epoch 1's checkpoint, final" \
     "checkpoint byte-identical to the uninterrupted run's"
