/*
 * bench_mpi.c - under mpirun: the MPI all-reduce's latency and bandwidth
 * (MPI_Allreduce of float sums, 1 float to 16 Mi floats, as
 * nn_mpi_allreduce_grads makes it), and the training step of W1-W4 on N
 * ranks x 1 thread: each rank its share of the batch (forward + backward
 * + nn_mpi_allreduce_grads + nn_sgd_step).  Between them, the parameter
 * blocks of W2-W4 reduced as one MPI_Allreduce and in NN_MPI_BUCKET
 * pieces (as nn_mpi_allreduce_grads does), interleaved round by round so
 * the ratio holds on a busy machine.  One JSON line per size, per block
 * and per workload, from rank 0; medians over rounds.
 *
 *   mpirun -np 2 bench_mpi [--reps N] [--workload W1|W2|W3|W4] [--smoke]
 */
#include "bench_common.h"

#include <nnfs_mpi.h>


static int rank, size;

#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s: %s %s\n", #call, nn_last_error(),        \
                    nn_mpi_last_error());                                 \
            MPI_Abort(MPI_COMM_WORLD, 2);                                 \
        }                                                                 \
    } while (0)

/* rank 0's median of the per-round maxima over ranks */
static double sync_time(double t)
{
    double m;
    MPI_Allreduce(&t, &m, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    return m;
}

static void allreduce_sizes(int reps)
{
    size_t n;
    float *buf = malloc(sizeof(float) * ((size_t)1 << 24));
    if (buf == NULL) MPI_Abort(MPI_COMM_WORLD, 2);
    bench_fill(buf, (size_t)1 << 24, 5);
    for (n = 1; n <= ((size_t)1 << 24); n *= 8) {
        double ts[64], mn, med, p90, t0;
        int r, j, inner = n < 4096 ? 1000 : n < 262144 ? 50 : 3;
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
        for (r = 0; r < reps && r < 64; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            t0 = bench_now();
            for (j = 0; j < inner; j++)
                MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM,
                              MPI_COMM_WORLD);
            ts[r] = sync_time((bench_now() - t0) / inner);
        }
        bench_stats(ts, r, &mn, &med, &p90);
        if (rank == 0)
            printf("{\"bench\":\"mpi_allreduce\",\"ranks\":%d,\"floats\":%zu,"
                   "\"bytes\":%zu,\"min_s\":%.6g,\"median_s\":%.6g,"
                   "\"p90_s\":%.6g,\"busbw_GBs\":%.3f}\n", size, n,
                   n * sizeof(float), mn, med, p90,
                   /* ring all-reduce moves 2 (N-1)/N of the data */
                   2.0 * (size - 1) / size * (double)(n * sizeof(float)) /
                       med * 1e-9);
        fflush(stdout);
    }
    free(buf);
}

/* the block of n floats as one MPI_Allreduce (pieces 0) or in pieces */
static double reduce_block(float *buf, size_t n, size_t piece)
{
    double t0 = bench_now();
    size_t off, step = piece ? piece : n;
    for (off = 0; off < n; off += step) {
        size_t m = n - off < step ? n - off : step;
        MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)m, MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
    }
    return bench_now() - t0;
}

static void allreduce_blocks(int reps)
{
    size_t wi;
    for (wi = 1; wi < sizeof wls / sizeof wls[0]; wi++) {
        const struct workload *w = &wls[wi];
        size_t n = 0, l, k;
        float *buf;
        double ts[2][64], mn[2], med[2], p90[2];
        int r, j, inner;
        for (l = 0; l < w->n_layers; l++)
            n += (w->sizes[l] + 1) * w->sizes[l + 1];
        buf = malloc(sizeof(float) * n);
        if (buf == NULL) MPI_Abort(MPI_COMM_WORLD, 2);
        bench_fill(buf, n, 7);
        inner = n < 262144 ? 50 : 1;
        reduce_block(buf, n, 0);
        reduce_block(buf, n, NN_MPI_BUCKET);
        for (r = 0; r < reps && r < 64; r++)
            for (k = 0; k < 2; k++) {   /* interleaved: one, then pieces */
                double t = 0;
                MPI_Barrier(MPI_COMM_WORLD);
                for (j = 0; j < inner; j++)
                    t += reduce_block(buf, n, k ? NN_MPI_BUCKET : 0);
                ts[k][r] = sync_time(t / inner);
            }
        for (k = 0; k < 2; k++) bench_stats(ts[k], r, &mn[k], &med[k],
                                            &p90[k]);
        if (rank == 0)
            printf("{\"bench\":\"mpi_allreduce_block\",\"ranks\":%d,"
                   "\"workload\":\"%s\",\"floats\":%zu,\"pieces\":%zu,"
                   "\"one_median_s\":%.6g,\"one_min_s\":%.6g,"
                   "\"bucketed_median_s\":%.6g,\"bucketed_min_s\":%.6g,"
                   "\"ratio\":%.2f}\n", size, w->name, n,
                   (n + NN_MPI_BUCKET - 1) / NN_MPI_BUCKET, med[0], mn[0],
                   med[1], mn[1], med[0] / med[1]);
        fflush(stdout);
        free(buf);
    }
}

static void step(const struct workload *w, int reps)
{
    size_t L = w->n_layers, i, begin, rows, l;
    int32_t acts[MAXL], *labels;
    nn_net *net;
    float *x;
    double ts[64], mn, med, p90, t0;
    int r, j, inner;
    for (l = 0; l < L; l++)
        acts[l] = l + 1 < L ? NN_ACT_RELU : NN_ACT_SOFTMAX;
    nn_mpi_shard(w->batch, rank, size, &begin, &rows);
    CHECK(nn_net_create(&net, L, w->sizes, acts, 1));
    x = malloc(sizeof(float) * rows * w->sizes[0]);
    labels = malloc(sizeof(int32_t) * rows);
    if (!x || !labels) MPI_Abort(MPI_COMM_WORLD, 2);
    bench_fill(x, rows * w->sizes[0], 3 + (unsigned)rank);
    for (i = 0; i < rows; i++)
        labels[i] = (int32_t)((begin + i) % w->sizes[L]);
#define MSTEP()                                                           \
    do {                                                                  \
        CHECK(nn_forward(net, x, rows, NULL));                            \
        CHECK(nn_backward_labels(net, labels, NULL));                     \
        CHECK(nn_mpi_allreduce_grads(net, rows, MPI_COMM_WORLD));         \
        CHECK(nn_sgd_step(net, 1e-4f));                                   \
    } while (0)
    MSTEP(); MSTEP();
    t0 = bench_now();
    MSTEP();
    inner = (int)(0.02 / sync_time(bench_now() - t0)) + 1;
    if (inner > 10000) inner = 10000;
    MPI_Bcast(&inner, 1, MPI_INT, 0, MPI_COMM_WORLD);
    for (r = 0; r < reps && r < 64; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        t0 = bench_now();
        for (j = 0; j < inner; j++) MSTEP();
        ts[r] = sync_time((bench_now() - t0) / inner);
    }
    bench_stats(ts, r, &mn, &med, &p90);
    if (rank == 0) {
        bench_json_head("train_mpi", 1);
        printf(",\"ranks\":%d,\"workload\":\"%s\",\"batch\":%zu,"
               "\"step_min_s\":%.6g,\"step_median_s\":%.6g,"
               "\"step_p90_s\":%.6g,\"params\":%zu,\"reps\":%d}\n", size,
               w->name, w->batch, mn, med, p90, nn_net_num_params(net), r);
    }
    fflush(stdout);
    nn_net_destroy(net);
    free(x);
    free(labels);
#undef MSTEP
}

int main(int argc, char **argv)
{
    int reps = 9, smoke = 0, i;
    const char *only = NULL;
    size_t wi;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) smoke = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc)
            only = argv[++i];
    }
    if (reps < 1) reps = 1;
    nn_set_num_threads(1);
    if (only == NULL) {
        allreduce_sizes(smoke ? 1 : reps);
        allreduce_blocks(smoke ? 1 : reps);
    }
    for (wi = 0; wi < sizeof wls / sizeof wls[0]; wi++) {
        if (only != NULL && strcmp(only, wls[wi].name) != 0) continue;
        if (smoke && strcmp(wls[wi].name, "W3") == 0) continue;
        step(&wls[wi], smoke ? 1 : reps);
    }
    MPI_Finalize();
    return 0;
}
