/*
 * bench_idx.c - loading Fashion-MNIST (both splits, images and labels)
 * against zcat of the same four files, in interleaved rounds.
 *
 *   bench_idx [--dir DIR] [--rounds N] [--zcat PROGRAM]
 *
 * Each round times, one after the other:
 *   zcat       the external zcat decompressing the four files to /dev/null
 *              (a process start included);
 *   load       nn_idx_load of the four files (images NN_SCALE_SYMMETRIC,
 *              labels NN_SCALE_NONE) and nn_idx_free: what `nnfs train`
 *              does, floats first written included;
 *   info_read  the 0.1 way: nn_idx_info of each file, malloc, nn_idx_read
 *              and nn_idx_read_labels (each file decompressed twice).
 * One JSON line per measurement, then one summary line with the medians
 * and the median over rounds of load / zcat and info_read / zcat (ratios
 * taken within a round, so a noisy machine affects both sides alike).
 * Exit status 0; 1 when a file cannot be read.  Files missing: a "skip"
 * line and status 0 (install the Debian package dataset-fashion-mnist).
 */
#include "bench_common.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define NFILES 4
static const char *const names[NFILES] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

static char paths[NFILES][4096];

static double time_zcat(const char *zcat)
{
    posix_spawn_file_actions_t fa;
    char *argv[NFILES + 2];
    double t0;
    pid_t pid;
    int i, status = 0;
    argv[0] = (char *)(uintptr_t)zcat;
    for (i = 0; i < NFILES; i++) argv[i + 1] = paths[i];
    argv[NFILES + 1] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    t0 = bench_now();
    if (posix_spawnp(&pid, zcat, &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    while (waitpid(pid, &status, 0) < 0) {}
    t0 = bench_now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t0 : -1;
}

/* nn_idx_load of the four files; the checksum keeps the work observable */
static double time_load(double *sum)
{
    double t0 = bench_now();
    int i;
    *sum = 0;
    for (i = 0; i < NFILES; i++) {
        float *x = NULL;
        size_t c, s;
        int st = nn_idx_load(paths[i], i % 2 ? NN_SCALE_NONE
                                              : NN_SCALE_SYMMETRIC,
                             &x, &c, &s);
        if (st != NN_OK) {
            fprintf(stderr, "bench_idx: %s\n", nn_last_error());
            return -1;
        }
        *sum += (double)x[c * s - 1] + (double)c;
        nn_idx_free(x);
    }
    return bench_now() - t0;
}

/* the two-call way of libnnfs 0.1 (and of the CLI before nn_idx_load) */
static double time_info_read(double *sum)
{
    double t0 = bench_now();
    int i;
    *sum = 0;
    for (i = 0; i < NFILES; i += 2) {
        size_t c, s, lc, ls;
        float *x;
        int32_t *y;
        if (nn_idx_info(paths[i], &c, &s) != NN_OK ||
            nn_idx_info(paths[i + 1], &lc, &ls) != NN_OK) {
            fprintf(stderr, "bench_idx: %s\n", nn_last_error());
            return -1;
        }
        x = malloc(c * s * sizeof *x);
        y = malloc(lc * sizeof *y);
        if (x == NULL || y == NULL ||
            nn_idx_read(paths[i], x, c, s, NN_SCALE_SYMMETRIC) != NN_OK ||
            nn_idx_read_labels(paths[i + 1], y, lc) != NN_OK) {
            fprintf(stderr, "bench_idx: %s\n", nn_last_error());
            free(x);
            free(y);
            return -1;
        }
        *sum += (double)x[c * s - 1] + (double)c + (double)y[lc - 1] +
                (double)lc;
        free(x);
        free(y);
    }
    return bench_now() - t0;
}

static void line(const char *what, int round, double sec)
{
    bench_json_head("idx", 1);
    printf(",\"what\":\"%s\",\"round\":%d,\"seconds\":%.6f}\n", what, round,
           sec);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *dir = "/usr/share/datasets/fashion-mnist", *zcat = "zcat";
    int rounds = 7, r, i;
    double *tz, *tl, *ti, *rl, *ri, mn, mz, ml, mi, p90, ratio_l, ratio_i;
    double sum_l = 0, sum_i = 0;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--zcat") == 0 && i + 1 < argc)
            zcat = argv[++i];
        else {
            fprintf(stderr, "usage: bench_idx [--dir DIR] [--rounds N] "
                    "[--zcat PROGRAM]\n");
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    for (i = 0; i < NFILES; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
        if (access(paths[i], R_OK) != 0) {
            printf("{\"bench\":\"idx\",\"skip\":\"%s not readable (install "
                   "dataset-fashion-mnist)\"}\n", paths[i]);
            return 0;
        }
    }
    tz = calloc((size_t)rounds * 5, sizeof *tz);
    if (tz == NULL) return 1;
    tl = tz + rounds;
    ti = tl + rounds;
    rl = ti + rounds;
    ri = rl + rounds;
    /* one unmeasured pass brings the files into the page cache */
    if (time_zcat(zcat) < 0) {
        fprintf(stderr, "bench_idx: %s failed\n", zcat);
        return 1;
    }
    for (r = 0; r < rounds; r++) {
        tz[r] = time_zcat(zcat);
        tl[r] = time_load(&sum_l);
        ti[r] = time_info_read(&sum_i);
        if (tz[r] < 0 || tl[r] < 0 || ti[r] < 0) return 1;
        if (sum_l != sum_i) {
            fprintf(stderr, "bench_idx: the two ways disagree\n");
            return 1;
        }
        line("zcat", r, tz[r]);
        line("load", r, tl[r]);
        line("info_read", r, ti[r]);
        rl[r] = tl[r] / tz[r];
        ri[r] = ti[r] / tz[r];
    }
    bench_stats(tz, rounds, &mn, &mz, &p90);
    bench_stats(tl, rounds, &mn, &ml, &p90);
    bench_stats(ti, rounds, &mn, &mi, &p90);
    bench_stats(rl, rounds, &mn, &ratio_l, &p90);
    bench_stats(ri, rounds, &mn, &ratio_i, &p90);
    bench_json_head("idx", 1);
    printf(",\"what\":\"summary\",\"rounds\":%d,\"zcat_median\":%.6f,"
           "\"load_median\":%.6f,\"info_read_median\":%.6f,"
           "\"load_over_zcat\":%.3f,\"info_read_over_zcat\":%.3f}\n", rounds,
           mz, ml, mi, ratio_l, ratio_i);
    free(tz);
    return 0;
}
