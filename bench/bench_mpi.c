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
 *                          [--modes [--adam] [--spin-wait]]
 *
 * --modes instead puts every way of using 2 cores into one run, per
 * workload and round (the order rotated round by round): bench_train
 * --modes' in-process modes on rank 0 alone (1 thread, the BLAS's 2
 * threads, 2 replicas, the default policy with 2 threads) while the other
 * rank sleeps in a polled MPI_Ibarrier; the step on 2 ranks x 1 thread
 * (each rank its nn_mpi_shard of the batch: forward, backward,
 * nn_mpi_allreduce_grads and the same update, SGD or with --adam Adam;
 * the slowest rank's time); and the capacity probe (two concurrent
 * single-threaded cblas_sgemm loops against one).  One JSON line per
 * workload (train_modes_mpi): medians, ratios to 1 thread, the fastest
 * 2-core way, and Open MPI's single-copy mechanism (mpirun --mca
 * btl_vader_single_copy_mechanism none|cma picks it).  --spin-wait makes
 * the waiting rank busy-poll instead (MPI_Wait), to show its cost.
 */
#include "bench_common.h"
#include "bench_modes.h"

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

/*====== --modes: every way of using 2 cores, interleaved in one run ======*/

/* The items of a round: the in-process modes (rank 0 alone), then the
   MPI step (every rank) and the capacity probe (rank 0 alone). */
enum { X_MPI = M_N, X_CAP, X_N };

/* The end of rank 0's solo work: an MPI_Ibarrier that rank 0 joins when
   done.  The others poll it every 1 ms (MPI_Test, nanosleep), taking no
   CPU from rank 0's 2 threads; with spin they wait in MPI_Wait, Open
   MPI's busy poll (for the experiment that shows why not). */
static void solo_end(int spin)
{
    struct timespec ms = {0, 1000000};
    MPI_Request req;
    int done = 0;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    if (rank == 0 || spin) {
        MPI_Wait(&req, MPI_STATUS_IGNORE);
        return;
    }
    for (;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done) break;
        nanosleep(&ms, NULL);
    }
}

/* This rank's rows of the batch and the MPI step's inner repetitions. */
struct mpi_part {
    size_t begin, rows;
    int inner;
};

/* The step on 2 ranks x 1 thread: forward and backward of this rank's
   rows, the all-reduce, then the in-process modes' update (SGD or Adam,
   unfused: the gradients must be reduced first). */
static void mpi_step(const struct modes_net *s, const struct mpi_part *p)
{
    modes_fwd_bwd(s, p->begin, p->rows, 0);
    CHECK(nn_mpi_allreduce_grads(s->net, p->rows, MPI_COMM_WORLD));
    modes_update(s);
}

/* Warm-up on 1 thread per rank, and the inner repetitions (the same on
   every rank) so one sample lasts >= ~20 ms on the slowest. */
static void mpi_warm(const struct modes_net *s, struct mpi_part *p)
{
    double t0;
    mode_set(M_ONE);
    mpi_step(s, p);
    mpi_step(s, p);
    t0 = bench_now();
    mpi_step(s, p);
    p->inner = modes_inner_for(sync_time(bench_now() - t0));
    MPI_Bcast(&p->inner, 1, MPI_INT, 0, MPI_COMM_WORLD);
}

/* One sample of the MPI step: the slowest rank's seconds per step. */
static double mpi_sample(const struct modes_net *s, const struct mpi_part *p)
{
    double t0;
    int j;
    mode_set(M_ONE);
    mpi_step(s, p);
    modes_settle();   /* rank 0's BLAS threads park (bench_modes.c) */
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = bench_now();
    for (j = 0; j < p->inner; j++) mpi_step(s, p);
    return sync_time((bench_now() - t0) / p->inner);
}

/* Open MPI's shared-memory single-copy mechanism (cma, none, ...), the
   setting that decides the all-reduce's speed on one host: read through
   MPI_T, else the OMPI_MCA_ environment variable, else "unknown". */
static void single_copy(char *buf, int len)
{
    const char *cvar = "btl_vader_single_copy_mechanism", *env;
    char name[128], desc[256], item[64];
    int prov, idx, count, v, n, i, val, nl, dl, il, verb, bind, scope;
    MPI_Datatype dt;
    MPI_T_enum en;
    MPI_T_cvar_handle h;

    snprintf(buf, (size_t)len, "unknown");
    env = getenv("OMPI_MCA_btl_vader_single_copy_mechanism");
    if (env != NULL) snprintf(buf, (size_t)len, "%s", env);
    if (MPI_T_init_thread(MPI_THREAD_SINGLE, &prov) != MPI_SUCCESS) return;
    nl = sizeof name;
    dl = sizeof desc;
    if (MPI_T_cvar_get_index(cvar, &idx) == MPI_SUCCESS &&
        MPI_T_cvar_get_info(idx, name, &nl, &verb, &dt, &en, desc, &dl,
                            &bind, &scope) == MPI_SUCCESS &&
        dt == MPI_INT &&
        MPI_T_cvar_handle_alloc(idx, NULL, &h, &count) == MPI_SUCCESS) {
        if (MPI_T_cvar_read(h, &v) == MPI_SUCCESS &&
            en != MPI_T_ENUM_NULL &&
            MPI_T_enum_get_info(en, &n, name, &nl) == MPI_SUCCESS)
            for (i = 0; i < n; i++) {
                il = sizeof item;
                if (MPI_T_enum_get_item(en, i, &val, item, &il) ==
                        MPI_SUCCESS && val == v)
                    snprintf(buf, (size_t)len, "%s", item);
            }
        MPI_T_cvar_handle_free(&h);
    }
    MPI_T_finalize();
}

/* rank 0's JSON line: bench_train --modes' fields, then the MPI step's
   median and ratio to one thread, the fastest 2-core way, the transport
   and how rank 1 waited */
static void print_modes_mpi(struct modes_net *s, double t[M_N][MODES_MAXR],
                            double *tm, double *cap, int r, int spin,
                            const char *copy)
{
    char extra[512];
    double mn, p90, med[X_MPI + 1];
    int m, best = M_BLAS2;
    for (m = 0; m < M_N; m++) bench_stats(t[m], r, &mn, &med[m], &p90);
    bench_stats(tm, r, &mn, &med[X_MPI], &p90);
    for (m = M_BLAS2; m <= X_MPI; m++)
        if (med[m] < med[best]) best = m;
    snprintf(extra, sizeof extra,
             ",\"ranks\":%d,\"mpi_2x1_median_s\":%.6g,"
             "\"mpi_2x1_ratio\":%.3f,\"best_2core\":\"%s\","
             "\"best_2core_ratio\":%.3f,\"mpi_single_copy\":\"%s\","
             "\"rank1_wait\":\"%s\"", size, med[X_MPI],
             med[X_MPI] / med[M_ONE],
             best == X_MPI ? "mpi_2x1" : mode_names[best],
             med[best] / med[M_ONE], copy, spin ? "spin" : "sleep");
    modes_print("train_modes_mpi", s, t, cap, r, extra);
}

/* Per round, in an order rotated round by round: rank 0 times each
   in-process mode on the whole batch while the other ranks sleep
   (solo_end), every rank times the MPI step on its shard, rank 0 takes
   a capacity sample. */
static void modes_mpi(const struct workload *w, int reps, int adam,
                      int spin, const char *copy)
{
    struct modes_net s;
    struct mpi_part p;
    double t[M_N][MODES_MAXR], tm[MODES_MAXR], cap[MODES_MAXR];
    int r, k;

    CHECK(nn_mpi_shard(w->batch, rank, size, &p.begin, &p.rows));
    modes_net_init(&s, w, adam);
    if (rank == 0) {
        modes_warm(&s);
        cap_init();
    }
    solo_end(spin);
    mpi_warm(&s, &p);
    for (r = 0; r < reps && r < MODES_MAXR; r++)
        for (k = 0; k < X_N; k++) {
            int m = (k + r) % X_N;
            if (m == X_MPI) {
                tm[r] = mpi_sample(&s, &p);
                continue;
            }
            if (rank == 0 && m == X_CAP) cap[r] = cap_sample();
            else if (rank == 0) t[m][r] = modes_sample(&s, m);
            solo_end(spin);
        }
    if (rank == 0) print_modes_mpi(&s, t, tm, cap, r, spin, copy);
    mode_set(M_ONE);
    modes_net_free(&s);
}

/* The train_mpi line: the MPI step alone (SGD), reps samples. */
static void step(const struct workload *w, int reps)
{
    struct modes_net s;
    struct mpi_part p;
    double ts[MODES_MAXR], mn, med, p90;
    int r;
    CHECK(nn_mpi_shard(w->batch, rank, size, &p.begin, &p.rows));
    modes_net_init(&s, w, 0);
    mpi_warm(&s, &p);
    for (r = 0; r < reps && r < MODES_MAXR; r++) ts[r] = mpi_sample(&s, &p);
    bench_stats(ts, r, &mn, &med, &p90);
    if (rank == 0) {
        bench_json_head("train_mpi", 1);
        printf(",\"ranks\":%d,\"workload\":\"%s\",\"batch\":%zu,"
               "\"step_min_s\":%.6g,\"step_median_s\":%.6g,"
               "\"step_p90_s\":%.6g,\"params\":%zu,\"reps\":%d}\n", size,
               w->name, w->batch, mn, med, p90, nn_net_num_params(s.net), r);
    }
    fflush(stdout);
    modes_net_free(&s);
}

int main(int argc, char **argv)
{
    int reps = 9, smoke = 0, modes = 0, adam = 0, spin = 0, i;
    char copy[64];
    const char *only = NULL;
    size_t wi;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) smoke = 1;
        else if (strcmp(argv[i], "--modes") == 0) modes = 1;
        else if (strcmp(argv[i], "--adam") == 0) adam = 1;
        else if (strcmp(argv[i], "--spin-wait") == 0) spin = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc)
            only = argv[++i];
        else {
            if (rank == 0)
                fprintf(stderr, "usage: mpirun -np 2 %s [--reps N] "
                        "[--workload W1|W2|W3|W4] [--smoke] "
                        "[--modes [--adam] [--spin-wait]]\n", argv[0]);
            MPI_Finalize();
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (modes) {
        single_copy(copy, (int)sizeof copy);
        for (wi = 0; wi < sizeof wls / sizeof wls[0]; wi++) {
            if (only != NULL && strcmp(only, wls[wi].name) != 0) continue;
            if (smoke && strcmp(wls[wi].name, "W3") == 0) continue;
            modes_mpi(&wls[wi], smoke ? 1 : reps, adam, spin, copy);
        }
        MPI_Finalize();
        return 0;
    }
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
