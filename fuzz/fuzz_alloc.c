/*
 * fuzz_alloc.c - libFuzzer target for T8, allocation-failure fuzzing (the
 * libpng nalloc.h idea): the input is a failure schedule (seed, density,
 * one chosen allocation) and a program of API calls (create, init,
 * options, forward, backward, steps, optimizers, trainer fits, predict,
 * model and checkpoint buffers, IDX parsing, singular values).  Every call
 * runs against a reference without failures; a failed allocation may only
 * ever give NN_ERR_NOMEM with nothing observable changed, nothing kept
 * and the handles still usable.  The checks are in fuzz_alloc_harness.h
 * (shared with the unit test oom_random_schedules); any violation prints
 * what went wrong and traps.
 */
#include "fuzz_alloc_harness.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* FUZZ_ALLOC_TRACE=1 prints every operation (to replay a crash) */
    fa_trace = getenv("FUZZ_ALLOC_TRACE") != NULL;
    /* one BLAS thread: the products are tiny, and idle OpenBLAS threads
       spinning in sched_yield cost more than the library's own work */
    (void)nn_set_num_threads(1);
    if (fa_install() != 0) {
        fprintf(stderr, "fuzz_alloc: %s\n", fa_err);
        __builtin_trap();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fa_run(data, size) != 0) {
        fprintf(stderr, "fuzz_alloc: %s\n", fa_err);
        __builtin_trap();
    }
    return 0;
}
