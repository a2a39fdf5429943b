/*
 * runner.c - runs the NN_TEST functions linked into nnfs_tests.
 *
 *   nnfs_tests [--seed N] [--list] [name ...]
 *
 * With no names it runs every test.  Each test gets a fresh temporary
 * directory.  The exit status is 0 only if every test passed; the last
 * line says "N of N tests passed".
 */
#define _POSIX_C_SOURCE 200809L
#include "nntest.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NNT_MAX 1024

static struct { const char *name; nnt_fn fn; const char *file; } nnt_tests[NNT_MAX];
static size_t nnt_count;
static jmp_buf nnt_jmp;
static unsigned long nnt_checks;
static uint64_t nnt_the_seed;
static char nnt_dir[4096];

void nnt_register(const char *name, nnt_fn fn, const char *file)
{
    if (nnt_count < NNT_MAX) {
        nnt_tests[nnt_count].name = name;
        nnt_tests[nnt_count].fn = fn;
        nnt_tests[nnt_count].file = file;
        nnt_count++;
    }
}

void nnt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    longjmp(nnt_jmp, 1);
}

void nnt_pass(void) { nnt_checks++; }
uint64_t nnt_seed(void) { return nnt_the_seed; }

const char *nnt_tmpdir(void)
{
    return nnt_dir;
}

const char *nnt_datadir(void)
{
    return NNT_SOURCE_DIR "/tests/data";
}

static void rm_tree(const char *dir)
{
    char cmd[4200];
    /* the directory is our own mkdtemp result: no shell metacharacters */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Run one test; 1 if it passed.  setjmp lives here so no local of main
   is live across the longjmp. */
static int run_one(size_t i)
{
    if (setjmp(nnt_jmp) != 0) return 0;
    nnt_tests[i].fn();
    return 1;
}

static int cmp_name(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

int main(int argc, char **argv)
{
    const char *only[NNT_MAX];
    size_t n_only = 0, ran = 0, passed = 0, i, j;
    int list = 0;
    const char *tmp = getenv("TMPDIR");

    nnt_the_seed = (uint64_t)time(NULL);
    if (getenv("NNT_SEED")) nnt_the_seed = strtoull(getenv("NNT_SEED"), NULL, 0);
    for (i = 1; i < (size_t)argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < (size_t)argc)
            nnt_the_seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--list") == 0)
            list = 1;
        else if (n_only < NNT_MAX)
            only[n_only++] = argv[i];
    }
    if (list) {
        const char *names[NNT_MAX];
        for (i = 0; i < nnt_count; i++) names[i] = nnt_tests[i].name;
        qsort(names, nnt_count, sizeof names[0], cmp_name);
        for (i = 0; i < nnt_count; i++) printf("%s\n", names[i]);
        return 0;
    }
    for (j = 0; j < n_only; j++) {
        for (i = 0; i < nnt_count; i++)
            if (strcmp(only[j], nnt_tests[i].name) == 0) break;
        if (i == nnt_count) {
            fprintf(stderr, "nnfs_tests: no test named '%s'\n", only[j]);
            return 2;
        }
    }
    printf("seed %" PRIu64 " (rerun with --seed %" PRIu64 ")\n",
           nnt_the_seed, nnt_the_seed);
    for (i = 0; i < nnt_count; i++) {
        int ok;
        if (n_only) {
            for (j = 0; j < n_only; j++)
                if (strcmp(only[j], nnt_tests[i].name) == 0) break;
            if (j == n_only) continue;
        }
        snprintf(nnt_dir, sizeof nnt_dir, "%s/nnfs-test-XXXXXX",
                 tmp ? tmp : "/tmp");
        if (mkdtemp(nnt_dir) == NULL) {
            fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
            return 2;
        }
        nnt_checks = 0;
        ran++;
        fflush(stdout);
        ok = run_one(i);
        rm_tree(nnt_dir);
        if (ok) {
            passed++;
            printf("ok   %s (%lu checks)\n", nnt_tests[i].name, nnt_checks);
        } else {
            printf("FAIL %s (%s), after %lu checks\n", nnt_tests[i].name,
                   nnt_tests[i].file, nnt_checks);
        }
        fflush(stdout);
    }
    printf("%zu of %zu tests passed\n", passed, ran);
    return passed == ran && ran > 0 ? 0 : 1;
}
