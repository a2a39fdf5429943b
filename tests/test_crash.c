/*
 * test_crash.c - a process SIGKILLed while saving never leaves a torn model
 * file (docs/RELIABILITY.md T4, as a black box: real kills at random moments,
 * not the fault table of test_io.c).
 *
 * Two different models A and B of about 650 KB each.  The kill delays are
 * random over three times the measured time of one save, so kills land
 * before, inside and after the writes, the fsync and the rename.  A child process
 * saves A and B alternately to the same path, forever; the parent kills it
 * with SIGKILL after a random delay, many times.  After every kill the
 * file at the path must be byte-identical to A's or B's image (taken with
 * nn_net_save_buffer, the same format) and must load.  Temporary files the
 * killed child could not remove are allowed (nothing can clean up after
 * SIGKILL) and are counted.
 */
#include "nntest.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CR_KILLS 30

static unsigned char *cr_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long sz;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    b = malloc((size_t)sz + 1);
    if (b != NULL && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static double cr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

NN_TEST(crash_sigkill_during_save_never_torn)
{
    size_t sizes[3] = {2, 400, 400};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *a = NULL, *b = NULL, *ld = NULL;
    unsigned char *ia, *ib, *got;
    size_t na = 0, nb = 0, ng = 0;
    char path[4200];
    int k, n_a = 0, n_b = 0, torn = 0, bad_load = 0, left = 0;
    unsigned seed = (unsigned)nnt_seed();
    DIR *d;
    struct dirent *e;
    double t0, t_save;
    unsigned span_us;

    NNT_OK(nn_net_create(&a, 2, sizes, acts, 1));
    NNT_OK(nn_net_create(&b, 2, sizes, acts, 2));
    NNT_OK(nn_net_save_buffer(a, NULL, 0, &na));
    NNT_OK(nn_net_save_buffer(b, NULL, 0, &nb));
    ia = malloc(na);
    ib = malloc(nb);
    NNT_TRUE(ia != NULL && ib != NULL);
    NNT_OK(nn_net_save_buffer(a, ia, na, &na));
    NNT_OK(nn_net_save_buffer(b, ib, nb, &nb));
    NNT_TRUE(na == nb && memcmp(ia, ib, na) != 0);
    snprintf(path, sizeof path, "%s/m.nnfs", nnt_tmpdir());
    t0 = cr_now();
    NNT_OK(nn_net_save(a, path));
    t_save = cr_now() - t0;
    span_us = (unsigned)(3e6 * t_save) + 100u;

    for (k = 0; k < CR_KILLS; k++) {
        pid_t pid;
        int wst = 0;
        struct timespec ts;
        unsigned us;
        fflush(NULL);
        pid = fork();
        NNT_TRUE(pid >= 0);
        if (pid == 0) {
            for (;;) {   /* the child: save A and B alternately */
                if (nn_net_save(b, path) != NN_OK) _exit(3);
                if (nn_net_save(a, path) != NN_OK) _exit(3);
            }
        }
        seed = seed * 1103515245u + 12345u;
        us = (seed >> 4) % span_us;
        ts.tv_sec = (time_t)(us / 1000000u);
        ts.tv_nsec = (long)(us % 1000000u) * 1000L;
        nanosleep(&ts, NULL);
        NNT_EQ_INT(kill(pid, SIGKILL), 0);
        NNT_EQ_INT((int)waitpid(pid, &wst, 0), (int)pid);
        NNT_TRUE(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
        got = cr_read(path, &ng);
        NNT_TRUE(got != NULL);
        if (got == NULL) break;
        if (ng == na && memcmp(got, ia, na) == 0) n_a++;
        else if (ng == nb && memcmp(got, ib, nb) == 0) n_b++;
        else torn++;
        free(got);
        if (nn_net_load(&ld, path) != NN_OK) bad_load++;
        nn_net_destroy(ld);
        ld = NULL;
    }
    NNT_EQ_INT(torn, 0);
    NNT_EQ_INT(bad_load, 0);
    NNT_EQ_INT(n_a + n_b, CR_KILLS);
    d = opendir(nnt_tmpdir());
    NNT_TRUE(d != NULL);
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strcmp(e->d_name, "m.nnfs") != 0) left++;
    if (d != NULL) closedir(d);
    printf("  %d SIGKILLs within 3 x %.1f ms (one save) of a %zu-byte model's "
           "saves: the file was A %d, B %d times, 0 torn, all loaded; %d "
           "temporary files left by killed saves\n", CR_KILLS, 1e3 * t_save,
           na, n_a, n_b, left);
    free(ia);
    free(ib);
    nn_net_destroy(a);
    nn_net_destroy(b);
}
