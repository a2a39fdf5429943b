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
 * One JSON line per measurement (wall seconds, and CPU seconds, user +
 * system: zcat's from wait4, the loaders' from getrusage), then one
 * summary line with the medians and the median over rounds of load / zcat
 * and info_read / zcat, wall and CPU (ratios taken within a round, so a
 * noisy machine affects both sides alike; on a shared machine the CPU
 * ratio is the steadier one).
 * Exit status 0; 1 when a file cannot be read.  Files missing: a "skip"
 * line and status 0 (install the Debian package dataset-fashion-mnist).
 */
#define _DEFAULT_SOURCE 1   /* wait4 */
#include "bench_common.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define NFILES 4
static const char *const names[NFILES] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

static char paths[NFILES][4096];
static double cpu_last;   /* CPU seconds of the last measurement */

static double tv_sec(struct timeval tv)
{
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return tv_sec(ru.ru_utime) + tv_sec(ru.ru_stime);
}

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
    {
        struct rusage ru;
        while (wait4(pid, &status, 0, &ru) < 0) {}
        t0 = bench_now() - t0;
        cpu_last = tv_sec(ru.ru_utime) + tv_sec(ru.ru_stime);
    }
    posix_spawn_file_actions_destroy(&fa);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t0 : -1;
}

/* nn_idx_load of the four files; the checksum keeps the work observable */
static double time_load(double *sum)
{
    double c0 = self_cpu(), t0 = bench_now();
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
    t0 = bench_now() - t0;
    cpu_last = self_cpu() - c0;
    return t0;
}

/* the two-call way of libnnfs 0.1 (and of the CLI before nn_idx_load) */
static double time_info_read(double *sum)
{
    double c0 = self_cpu(), t0 = bench_now();
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
    t0 = bench_now() - t0;
    cpu_last = self_cpu() - c0;
    return t0;
}

static void line(const char *what, int round, double sec, double cpu)
{
    bench_json_head("idx", 1);
    printf(",\"what\":\"%s\",\"round\":%d,\"seconds\":%.6f,"
           "\"cpu_seconds\":%.6f}\n", what, round, sec, cpu);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *dir = "/usr/share/datasets/fashion-mnist", *zcat = "zcat";
    int rounds = 7, r, i;
    static const char *const whats[3] = {"zcat", "load", "info_read"};
    double *t, mn, p90, med[10], sum_l = 0, sum_i = 0;

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
    (void)bench_fill;   /* shared helper this driver does not use */
    for (i = 0; i < NFILES; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
        if (access(paths[i], R_OK) != 0) {
            printf("{\"bench\":\"idx\",\"skip\":\"%s not readable (install "
                   "dataset-fashion-mnist)\"}\n", paths[i]);
            return 0;
        }
    }
    /* per round: wall and CPU of zcat, load, info_read; then ratios */
    t = calloc((size_t)rounds * 10, sizeof *t);
    if (t == NULL) return 1;
    /* one unmeasured pass brings the files into the page cache */
    if (time_zcat(zcat) < 0) {
        fprintf(stderr, "bench_idx: %s failed\n", zcat);
        return 1;
    }
    for (r = 0; r < rounds; r++) {
        double *w = t, *c = t + 3 * rounds;
        w[r] = time_zcat(zcat);
        c[r] = cpu_last;
        w[rounds + r] = time_load(&sum_l);
        c[rounds + r] = cpu_last;
        w[2 * rounds + r] = time_info_read(&sum_i);
        c[2 * rounds + r] = cpu_last;
        if (w[r] < 0 || w[rounds + r] < 0 || w[2 * rounds + r] < 0) return 1;
        if (sum_l != sum_i) {
            fprintf(stderr, "bench_idx: the two ways disagree\n");
            return 1;
        }
        for (i = 0; i < 3; i++) {
            line(whats[i], r, w[i * rounds + r], c[i * rounds + r]);
            if (i > 0) {   /* ratios to zcat: wall, then CPU */
                t[(6 + 2 * (i - 1)) * rounds + r] = w[i * rounds + r] / w[r];
                t[(7 + 2 * (i - 1)) * rounds + r] = c[i * rounds + r] /
                                                    (c[r] > 0 ? c[r] : 1e-9);
            }
        }
    }
    for (i = 0; i < 10; i++)
        bench_stats(t + i * rounds, rounds, &mn, &med[i], &p90);
    bench_json_head("idx", 1);
    printf(",\"what\":\"summary\",\"rounds\":%d,\"zcat_median\":%.6f,"
           "\"load_median\":%.6f,\"info_read_median\":%.6f,"
           "\"zcat_cpu_median\":%.6f,\"load_cpu_median\":%.6f,"
           "\"info_read_cpu_median\":%.6f,\"load_over_zcat\":%.3f,"
           "\"load_over_zcat_cpu\":%.3f,\"info_read_over_zcat\":%.3f,"
           "\"info_read_over_zcat_cpu\":%.3f}\n", rounds, med[0], med[1],
           med[2], med[3], med[4], med[5], med[6], med[7], med[8], med[9]);
    free(t);
    return 0;
}
