/* bench_common.h - timing helpers shared by the bench/ drivers. */
#ifndef NNFS_BENCH_COMMON_H
#define NNFS_BENCH_COMMON_H

#include <nnfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* sorts t; min, median and 90th percentile */
static void bench_stats(double *t, int n, double *mn, double *med, double *p90)
{
    qsort(t, (size_t)n, sizeof *t, bench_cmp);
    *mn = t[0];
    *med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    *p90 = t[(int)(0.9 * (n - 1) + 0.5)];
}

static void bench_fill(float *x, size_t n, unsigned seed)
{
    size_t i;
    unsigned s = seed * 2654435761u + 1;
    for (i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)((double)(s >> 8) / 16777216.0 - 0.5);
    }
}

/* the common part of every JSON line */
static void bench_json_head(const char *bench, int threads)
{
    printf("{\"bench\":\"%s\",\"blas\":\"%s\",\"core\":\"%s\","
           "\"core_choice\":\"%s\",\"kernels\":\"%s\",\"threads\":%d",
           bench, nn_info(NN_INFO_BLAS), nn_info(NN_INFO_BLAS_CORE),
           nn_info(NN_INFO_BLAS_CORE_CHOICE), nn_info(NN_INFO_KERNELS),
           threads);
}

/* The four workloads of the README's table (W1-W4), shared by bench_train
   and bench_mpi: name, batch, layers and widths. */
#define MAXL 8

struct workload {
    const char *name;
    size_t batch, n_layers;
    size_t sizes[MAXL + 1];
};

static const struct workload wls[] = {
    {"W1", 300, 2, {2, 64, 3}},
    {"W2", 128, 2, {784, 128, 10}},
    {"W3", 256, 3, {1024, 4096, 4096, 1024}},
    {"W4", 64, 5, {64, 256, 256, 256, 256, 10}},
};

#endif
