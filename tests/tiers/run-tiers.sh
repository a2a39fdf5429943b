#!/bin/sh
# run-tiers.sh - the test tiers beyond the default ctest run (see
# tests/tiers/README.md).
#
#   tests/tiers/run-tiers.sh [MAIN_BUILD_DIR] [TIER ...]
#
# Tiers come from the arguments, else from NNFS_TIERS (space-separated),
# else, with CI=true, from the CI set (asan-ubsan valgrind tsan fuzz); with none of
# these nothing runs.  "all" means every tier.
#   asan-ubsan  a separate build with -DNNFS_SANITIZE=address,undefined
#               (NNFS_ASAN_BUILD_DIR, default build-asan) and its ctest,
#               LeakSanitizer on
#   valgrind    the nnfs_tests runner of MAIN_BUILD_DIR under memcheck, on
#               the tests matching NNFS_VALGRIND_TESTS (an ERE)
#   tsan        a build with -DNNFS_SANITIZE=thread (NNFS_TSAN_BUILD_DIR,
#               default build-tsan) running the thread tests, 1 BLAS thread
#   fuzz        a clang-14 -DNNFS_FUZZ=ON build (NNFS_FUZZ_BUILD_DIR, default
#               build-fuzz); each libFuzzer target (fuzz_model_load,
#               fuzz_idx, fuzz_alloc, and fuzz_onnx_import with protobuf-c)
#               NNFS_FUZZ_SECONDS (60)
#   long        ctest -C long -R example_fashion_mnist_full in MAIN_BUILD_DIR
# Each tier runs under timeout(1) (NNFS_TIER_TIMEOUT_<TIER> seconds,
# defaults below); a tier that times out fails.  Exit status: 0 if every
# selected tier passed, 1 otherwise, 2 for a usage error.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN_ONE=
if [ "${1:-}" = --run-one ]; then RUN_ONE=$3; set -- "$2"; fi
BUILD=${1:-build}
[ $# -gt 0 ] && shift
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

say() { printf '\n==> tier %s\n' "$*"; }

tier_asan_ubsan() {
    dir=${NNFS_ASAN_BUILD_DIR:-build-asan}
    case $dir in /*) ;; *) dir=$ROOT/$dir ;; esac
    cmake -S "$ROOT" -B "$dir" -DNNFS_WERROR=ON \
        -DNNFS_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build "$dir" -j "$JOBS"
    st=0
    # install_consumers and readme_example compile programs without
    # -fsanitize against the instrumented libnnfs.so, which the ASan
    # runtime refuses to start ("ASan runtime does not come first"); the
    # plain build runs them.  The Node.js tests load the instrumented
    # library into an uninstrumented node the same way: the plain build
    # runs them.
    # halt_on_error: the first report fails the test; detect_leaks: LSan
    # checks every test process at exit.  UBSan is already fatal
    # (-fno-sanitize-recover=all).
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$dir" --output-on-failure -j "$JOBS" \
              -E "${NNFS_ASAN_EXCLUDE:-^(install_consumers|readme_example|python_.*|node_.*|mpi_.*|bench_smoke_mpi.*)$}" \
        || st=1
    # The MPI tests under mpirun: Open MPI keeps (and LeakSanitizer reports)
    # ~120 KB of its own allocations at exit (hwloc, MCA components loaded
    # with dlopen, outside any libnnfs frame), so they run with leak
    # detection off; every other ASan and UBSan check stays on.
    if [ -z "${NNFS_ASAN_EXCLUDE:-}" ] &&
       ctest --test-dir "$dir" -N -R '^(mpi_|bench_smoke_mpi)' | grep -q 'Test *#'; then
        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            ctest --test-dir "$dir" --output-on-failure -j "$JOBS" \
                  -R '^(mpi_.*|bench_smoke_mpi.*)$' || st=1
    fi
    # The Python tests load the instrumented .so with ctypes into an
    # uninstrumented python3: the ASan runtime must be preloaded, and LSan
    # is off because CPython itself keeps memory at exit (T16b).
    # python_test_onnx_torch is left to the plain build: torch.onnx.export
    # throws C++ exceptions inside libtorch, and the preloaded runtime's
    # __cxa_throw interceptor finds no real __cxa_throw there (an ASan
    # CHECK failure in libtorch_python, not in libnnfs).
    if [ -z "${NNFS_ASAN_EXCLUDE:-}" ] &&
       ctest --test-dir "$dir" -N -R '^python_' | grep -q 'Test *#'; then
        libasan=$(${CC:-cc} -print-file-name=libasan.so)
        LD_PRELOAD=$libasan \
        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            ctest --test-dir "$dir" --output-on-failure -j "$JOBS" \
                  -R '^python_' -E '^python_test_onnx_torch$' || st=1
    fi
    return $st
}

tier_valgrind() {
    runner=$BUILD/tests/nnfs_tests
    [ -x "$runner" ] || { echo "no $runner: build $BUILD first" >&2; return 1; }
    command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; return 1; }
    re=${NNFS_VALGRIND_TESTS:-^(api_|io_|checkpoint_|oom_|rng_|abi_|optim_|threads_|onnx_)}
    names=$("$runner" --list | grep -E "$re" || true)
    [ -n "$names" ] || { echo "no test matches $re" >&2; return 1; }
    n=0 bad=0
    for t in $names; do
        n=$((n + 1))
        # one process per test, like ctest; 2 BLAS threads (as CI has 2
        # cores) so the thread pool is checked too.  Exit 99 = a memcheck
        # error or leak.
        if ! OPENBLAS_NUM_THREADS=${NNFS_VALGRIND_BLAS_THREADS:-2} \
            valgrind -q --tool=memcheck \
            --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect \
            --suppressions="$ROOT/tests/tiers/valgrind.supp" \
            "$runner" "$t" >"$BUILD/valgrind-$t.log" 2>&1; then
            bad=$((bad + 1))
            echo "valgrind: $t FAILED (log below)" >&2
            cat "$BUILD/valgrind-$t.log" >&2
        fi
    done
    echo "valgrind: $((n - bad)) of $n tests clean"
    [ $bad -eq 0 ]
}

tier_tsan() {
    dir=${NNFS_TSAN_BUILD_DIR:-build-tsan}
    case $dir in /*) ;; *) dir=$ROOT/$dir ;; esac
    cmake -S "$ROOT" -B "$dir" -DNNFS_WERROR=ON -DNNFS_SANITIZE=thread \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNNFS_BUILD_BENCH=OFF \
        -DNNFS_BUILD_EXAMPLES=OFF -DNNFS_BUILD_CLI=OFF
    cmake --build "$dir" -j "$JOBS" --target nnfs_tests
    # TSan cannot see inside the uninstrumented OpenBLAS: its own pool is
    # kept at one thread, so only libnnfs's concurrency is checked: distinct
    # handles on distinct threads, the replicas' worker pool (dispatch,
    # tasks claimed by the caller or a worker, the backward's two phases,
    # parked workers, concurrent callers), and data-parallel fits whose
    # replicas are threads (trainer_sync_*).
    OPENBLAS_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        "$dir/tests/nnfs_tests" threads_distinct_handles_bit_identical \
        api_last_error_is_thread_local \
        replicas_gradients_within_float_bound_of_double \
        replicas_adam_loss_curve_and_bits \
        replicas_trainer_fused_sgd_matches_one_thread \
        replicas_bad_input_same_status_and_message \
        replicas_predict_matches_one_thread \
        trainer_sync_full_batch_uneven_equals_one_fit \
        trainer_sync_minibatches_equal_one_fit \
        trainer_sync_failure_and_stop_reach_every_replica \
        trainer_sync_steps_without_rows_make_no_update \
        replicas_concurrent_callers_share_the_pool
}

tier_fuzz() {
    dir=${NNFS_FUZZ_BUILD_DIR:-build-fuzz}
    case $dir in /*) ;; *) dir=$ROOT/$dir ;; esac
    secs=${NNFS_FUZZ_SECONDS:-60}
    CC=${NNFS_FUZZ_CC:-clang-14} cmake -S "$ROOT" -B "$dir" -DNNFS_FUZZ=ON \
        -DNNFS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DNNFS_BUILD_TESTS=OFF -DNNFS_BUILD_BENCH=OFF \
        -DNNFS_BUILD_EXAMPLES=OFF -DNNFS_BUILD_CLI=OFF
    # 4 targets x secs plus the build must stay under the tier's limit;
    # fuzz_onnx_import exists when protobuf-c is installed (NNFS_ONNX)
    targets="fuzz_model_load fuzz_idx fuzz_alloc"
    if grep -q '^NNFS_ONNX_BUILT:INTERNAL=TRUE' "$dir/CMakeCache.txt"; then
        targets="$targets fuzz_onnx_import"
    fi
    cmake --build "$dir" -j "$JOBS" --target $targets
    for t in $targets; do
        mkdir -p "$dir/corpus-$t" "$dir/artifacts-$t"
        # the committed seeds, then the corpus grown so far; allocation
        # bombs (-malloc_limit_mb) and hangs (-timeout) are failures
        "$dir/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=512 \
            -malloc_limit_mb=64 -timeout=2 -print_final_stats=1 \
            -artifact_prefix="$dir/artifacts-$t/" \
            "$dir/corpus-$t" "$ROOT/fuzz/corpus/$t" 2>"$dir/fuzz-$t.log" || {
            echo "fuzz: $t FAILED" >&2; tail -n 60 "$dir/fuzz-$t.log" >&2
            return 1; }
        grep -E '^(Done|stat::number_of_executed_units)' "$dir/fuzz-$t.log"
    done
}

tier_long() {
    ctest --test-dir "$BUILD" -C long -R example_fashion_mnist_full \
          --output-on-failure
}

if [ -n "$RUN_ONE" ]; then
    case $RUN_ONE in
    asan-ubsan) tier_asan_ubsan ;;
    valgrind) tier_valgrind ;;
    tsan) tier_tsan ;;
    fuzz) tier_fuzz ;;
    long) tier_long ;;
    esac
    exit $?
fi

CI_SET="asan-ubsan valgrind tsan fuzz"
ALL_SET="asan-ubsan valgrind tsan fuzz long"
if [ $# -gt 0 ]; then TIERS=$*
elif [ -n "${NNFS_TIERS:-}" ]; then TIERS=$NNFS_TIERS
elif [ "${CI:-}" = true ]; then TIERS=$CI_SET
else exit 0
fi
[ "$TIERS" = all ] && TIERS=$ALL_SET

rc=0
for t in $TIERS; do
    case $t in
    asan-ubsan) def=1500 ;;
    valgrind) def=900 ;;
    tsan) def=600 ;;
    fuzz) def=600 ;;
    long) def=1800 ;;
    *) echo "run-tiers.sh: unknown tier '$t' (asan-ubsan valgrind tsan fuzz long all)" >&2
       exit 2 ;;
    esac
    var=NNFS_TIER_TIMEOUT_$(echo "$t" | tr 'a-z-' 'A-Z_')
    eval "limit=\${$var:-$def}"
    say "$t (limit ${limit}s)"
    start=$(date +%s)
    # timeout runs this script again with the tier as the only job
    if timeout --kill-after=30 "$limit" "$0" --run-one "$BUILD" "$t"; then
        echo "tier $t passed in $(( $(date +%s) - start ))s"
    else
        s=$?
        [ $s -eq 124 ] && echo "tier $t TIMED OUT after ${limit}s" >&2
        echo "tier $t FAILED (status $s)" >&2
        rc=1
    fi
done
exit $rc
