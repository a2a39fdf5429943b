#!/bin/sh
# A rank killed with SIGKILL mid-training (rank 1 at step 20 of 100):
# mpirun must end the job with a non-zero status and a message naming the
# signal, within 60 s (the others wait in MPI_Allreduce; Open MPI's
# runtime notices the death and aborts them), never hang.
#   killed_rank.sh MPIRUN MPI_REPLICAS
set -u
mpirun=$1 prog=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
start=$(date +%s)
timeout 60 "$mpirun" --allow-run-as-root --oversubscribe --bind-to none \
  -np 3 "$prog" kill 20 >"$out" 2>&1
rc=$?
took=$(( $(date +%s) - start ))
cat "$out"
echo "mpirun exit status $rc after ${took}s"
if [ "$rc" -eq 0 ]; then echo "FAIL: the job succeeded"; exit 1; fi
if [ "$rc" -eq 124 ]; then echo "FAIL: the job hung (timeout)"; exit 1; fi
if ! grep -qi "signal 9\|killed" "$out"; then
  echo "FAIL: no message naming the killed rank"; exit 1
fi
echo "ok: the job ended with status $rc and a message in ${took}s"
