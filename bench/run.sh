#!/bin/sh
# Runs every benchmark and prints the peer table.
#   bench/run.sh [BUILD_DIR]      (default: build-bench, configured if absent)
# Environment: THREADS (default 1,2), REPS (bench_train repetitions),
# ROUNDS (peer rounds, each timed next to its own bench_train run; 3).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bd=${1:-$src/build-bench}
threads=${THREADS:-1,2}
if [ ! -f "$bd/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$bd" -DCMAKE_BUILD_TYPE=Release -DNNFS_BUILD_BENCH=ON
fi
cmake --build "$bd" -j2 --target bench_gemm bench_train bench_idx
cmake --build "$bd" -j2 --target bench_fann 2>/dev/null || true
cmake --build "$bd" -j2 --target bench_mpi 2>/dev/null || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "# bench_gemm"
"$bd/bench/bench_gemm" --threads "$threads" | tee "$out/gemm.jsonl"
echo "# bench_train"
"$bd/bench/bench_train" --threads "$threads" ${REPS:+--reps "$REPS"} \
  | tee "$out/train.jsonl"
echo "# bench_idx (Fashion-MNIST loading vs zcat, rounds interleaved)"
"$bd/bench/bench_idx" ${ROUNDS:+--rounds "$ROUNDS"}
if [ -x "$bd/bench/bench_mpi" ] && command -v mpirun >/dev/null; then
  mpi="mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2"
  # The headline: in one run per line, rounds interleaved, 1 thread, BLAS
  # 2, 2 replicas, the default with 2 threads (rank 0 alone, rank 1
  # asleep), 2 MPI ranks x 1 thread, and the capacity; SGD and Adam, with
  # Open MPI's default single-copy mechanism (CMA, slow on some VMs) and
  # without it (mpi_single_copy in each line says which).
  echo "# bench_mpi --modes (1 thread, BLAS 2, 2 replicas, default, 2 ranks; capacity)"
  for opt in "" --adam; do
    $mpi "$bd/bench/bench_mpi" --modes $opt ${REPS:+--reps "$REPS"}
    $mpi --mca btl_vader_single_copy_mechanism none \
      "$bd/bench/bench_mpi" --modes $opt ${REPS:+--reps "$REPS"}
  done
  echo "# bench_mpi (2 ranks x 1 thread: all-reduce, W1-W4)"
  $mpi "$bd/bench/bench_mpi" ${REPS:+--reps "$REPS"}
  /usr/bin/python3 "$src/bench/allreduce_model.py"
else
  echo "# bench_train --modes (1 thread, BLAS 2, 2 replicas, default; capacity)"
  "$bd/bench/bench_train" --modes ${REPS:+--reps "$REPS"}
fi
echo "# peers (ratios to the libnnfs GEMM floor, median step times)"
/usr/bin/python3 "$src/bench/peers.py" "$out/train.jsonl" --threads "$threads" \
  --bench-fann "$bd/bench/bench_fann" --bench-train "$bd/bench/bench_train" \
  ${ROUNDS:+--rounds "$ROUNDS"}
