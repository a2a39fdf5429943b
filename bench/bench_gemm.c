/*
 * bench_gemm.c - cblas_sgemm GFLOP/s (2 M N K / t) over square sizes up
 * to 2048^3 and the layer shapes of the training workloads, best-of-N and
 * median, one JSON line per shape and thread count.
 *
 *   bench_gemm [--threads 1,2] [--reps N] [--smoke]
 */
#include "bench_common.h"

#include <cblas.h>

struct shape { const char *what; int m, n, k; };

static const struct shape shapes[] = {
    {"square", 256, 256, 256},   {"square", 512, 512, 512},
    {"square", 1024, 1024, 1024}, {"square", 2048, 2048, 2048},
    {"W1 fwd 300x2x64", 300, 64, 2}, {"W1 fwd 300x64x3", 300, 3, 64},
    {"W2 fwd 128x784x128", 128, 128, 784}, {"W2 dW 784x128x128", 784, 128, 128},
    {"W3 fwd 256x1024x4096", 256, 4096, 1024},
    {"W3 fwd 256x4096x4096", 256, 4096, 4096},
    {"W3 dW 4096x4096x256", 4096, 4096, 256},
    {"W4 fwd 64x256x256", 64, 256, 256},
};

int main(int argc, char **argv)
{
    int threads[8] = {1, 2}, nt = 2, reps = 7, smoke = 0, i, ti;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) smoke = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *p = argv[++i];
            nt = 0;
            while (*p && nt < 8) {
                threads[nt++] = (int)strtol(p, &p, 10);
                if (*p == ',') p++;
            }
        } else {
            fprintf(stderr, "usage: %s [--threads 1,2] [--reps N] "
                    "[--smoke]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (smoke) reps = 2;
    for (ti = 0; ti < nt; ti++) {
        size_t si;
        if (nn_set_num_threads(threads[ti]) != NN_OK) {
            fprintf(stderr, "%s\n", nn_last_error());
            return 2;
        }
        for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            struct shape s = shapes[si];
            float *a, *b, *c;
            double t[64], mn, med, p90, flop;
            int r;
            if (smoke && (s.m > 512 || s.n > 512 || s.k > 1024)) continue;
            a = malloc(sizeof(float) * (size_t)s.m * (size_t)s.k);
            b = malloc(sizeof(float) * (size_t)s.k * (size_t)s.n);
            c = malloc(sizeof(float) * (size_t)s.m * (size_t)s.n);
            if (!a || !b || !c) return 2;
            bench_fill(a, (size_t)s.m * (size_t)s.k, 1);
            bench_fill(b, (size_t)s.k * (size_t)s.n, 2);
            /* C = A B, warm-up first */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.m, s.n,
                        s.k, 1.0f, a, s.k, b, s.n, 0.0f, c, s.n);
            for (r = 0; r < reps && r < 64; r++) {
                /* repeat small shapes to get above timer resolution */
                int inner = 1, j;
                double t0;
                flop = 2.0 * s.m * s.n * s.k;
                while (inner * flop < 2e8 && inner < 4096) inner *= 2;
                t0 = bench_now();
                for (j = 0; j < inner; j++)
                    /* C = A B */
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                                s.m, s.n, s.k, 1.0f, a, s.k, b, s.n, 0.0f,
                                c, s.n);
                t[r] = (bench_now() - t0) / inner;
            }
            bench_stats(t, r, &mn, &med, &p90);
            flop = 2.0 * s.m * s.n * s.k;
            bench_json_head("gemm", threads[ti]);
            printf(",\"shape\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,"
                   "\"gflops_best\":%.1f,\"gflops_median\":%.1f,"
                   "\"min_s\":%.6g,\"median_s\":%.6g,\"p90_s\":%.6g}\n",
                   s.what, s.m, s.n, s.k, flop / mn * 1e-9,
                   flop / med * 1e-9, mn, med, p90);
            fflush(stdout);
            free(a);
            free(b);
            free(c);
        }
    }
    return 0;
}
