/*
 * bench_train.c - the time of one training step (nn_forward +
 * nn_backward_labels + nn_sgd_step) on the workloads W1-W4, and in the
 * same run the GEMM floor: the same cblas_sgemm calls on the same shapes
 * (forward Z = X W per layer, dW = X^T dZ per layer, dX = dZ W^T for every
 * layer but the first) with nothing else.  One JSON line per workload and
 * thread count with min/median/p90 of both and ratio = median step /
 * median floor.  The element-wise share is 1 - floor/step.  The same
 * step with the update fused into the gradient product (nn_forward +
 * nn_backward_labels_sgd) is timed too: fused_step_*, fused_ratio.
 *
 * Two floors.  floor_* is the bare products, C = A B (beta = 0), as a
 * user would call them.  floor_acc_* is the same products accumulated
 * into C (beta = 1) with nothing else, the multiplications alone: libnnfs
 * clears C itself (memset) and calls beta = 1, because OpenBLAS's own
 * beta = 0 pass clears C one float at a time, so its step can be
 * cheaper than floor_*; ratio_acc = step / floor_acc counts that memset
 * as the library's own work, and is the stricter figure.
 *
 *   bench_train [--threads 1,2] [--reps N] [--workload W1|W2|W3|W4]
 *               [--smoke] [--modes [--adam]]
 *
 * --modes instead times, per workload, one training step (forward +
 * backward with the SGD update fused, as nn_trainer_fit makes it; with
 * --adam: forward + backward + nn_optimizer_step) under each way of using
 * 2 cores -- 1 thread, the BLAS's 2 threads (NN_PARALLEL_BLAS), 2
 * replicas (NN_PARALLEL_REPLICAS) and the default (NN_PARALLEL_AUTO) --
 * interleaved in rounds (the order rotated round by round), and in the
 * same rounds the machine's capacity:
 * two concurrent single-threaded cblas_sgemm loops against one (2.0 = two
 * full cores).  One JSON line per workload: medians and ratios to 1
 * thread.
 */
#include "bench_common.h"
#include "bench_modes.h"

#include <cblas.h>


#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error());          \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

/* One workload's buffers: the network and its batch, and the GEMM floor's
   own activations, gradients and weights per layer. */
struct train_bufs {
    const struct workload *w;
    size_t L, B;
    nn_net *net;
    float *x, *out;
    int32_t *labels;
    float *buf[MAXL + 1], *grad[MAXL + 1], *wt[MAXL], *dw[MAXL];
    /* floor_acc's outputs: the products accumulate (beta = 1) into blocks
       no later product reads, so values grow only linearly */
    float *acc[MAXL + 1], *gacc[MAXL + 1], *dwacc[MAXL];
};

/* The floor's buffers: activations and gradients per layer, weights and
   their gradients per layer pair; exits on out of memory. */
static void floor_bufs_alloc(struct train_bufs *b)
{
    const size_t *s = b->w->sizes;
    size_t l, B = b->B;

    for (l = 0; l <= b->L; l++) {
        b->buf[l] = malloc(sizeof(float) * B * s[l]);
        b->grad[l] = malloc(sizeof(float) * B * s[l]);
        b->acc[l] = calloc(B * s[l], sizeof(float));
        b->gacc[l] = calloc(B * s[l], sizeof(float));
        if (!b->buf[l] || !b->grad[l] || !b->acc[l] || !b->gacc[l]) exit(2);
        bench_fill(b->buf[l], B * s[l], 4 + (unsigned)l);
        bench_fill(b->grad[l], B * s[l], 9 + (unsigned)l);
    }
    for (l = 0; l < b->L; l++) {
        b->wt[l] = malloc(sizeof(float) * s[l] * s[l + 1]);
        b->dw[l] = malloc(sizeof(float) * s[l] * s[l + 1]);
        b->dwacc[l] = calloc(s[l] * s[l + 1], sizeof(float));
        if (!b->wt[l] || !b->dw[l] || !b->dwacc[l]) exit(2);
        bench_fill(b->wt[l], s[l] * s[l + 1], 20 + (unsigned)l);
    }
}

/* The network (ReLU layers, softmax last), its input batch and labels, and
   the floor's buffers for workload w; exits on any failure. */
static void train_bufs_alloc(struct train_bufs *b, const struct workload *w)
{
    b->w = w;
    b->L = w->n_layers;
    b->B = w->batch;
    modes_workload(w, &b->net, &b->x, &b->labels);
    b->out = malloc(sizeof(float) * b->B * w->sizes[b->L]);
    if (!b->out) exit(2);
    floor_bufs_alloc(b);
}

static void train_bufs_free(struct train_bufs *b)
{
    size_t l;
    for (l = 0; l <= b->L; l++) {
        free(b->buf[l]);
        free(b->grad[l]);
        free(b->acc[l]);
        free(b->gacc[l]);
    }
    for (l = 0; l < b->L; l++) {
        free(b->wt[l]);
        free(b->dw[l]);
        free(b->dwacc[l]);
    }
    free(b->x);
    free(b->out);
    free(b->labels);
    nn_net_destroy(b->net);
}

/* One training step: forward, backward, SGD update. */
static inline void step(const struct train_bufs *b)
{
    CHECK(nn_forward(b->net, b->x, b->B, b->out));
    CHECK(nn_backward_labels(b->net, b->labels, NULL));
    CHECK(nn_sgd_step(b->net, 1e-4f));
}

/* The same step through nn_backward_labels_sgd (update fused into the
   gradient product). */
static inline void step_fused(const struct train_bufs *b)
{
    CHECK(nn_forward(b->net, b->x, b->B, b->out));
    CHECK(nn_backward_labels_sgd(b->net, b->labels, 1e-4f, NULL));
}

/* The GEMM floor: the step's products alone, into the floor's own buffers
   (beta = 0) or accumulated into the acc blocks (beta = 1). */
static inline void gemm_floor(const struct train_bufs *b, float beta)
{
    const size_t *s = b->w->sizes;
    int B = (int)b->B;
    size_t q;
    for (q = 0; q < b->L; q++) {
        int k_ = (int)s[q], n_ = (int)s[q + 1];
        /* Z <- X W: M = batch, N = n_out, K = n_in */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_, k_,
                    1.0f, b->buf[q], k_, b->wt[q], n_, beta,
                    beta != 0.0f ? b->acc[q + 1] : b->buf[q + 1], n_);
    }
    for (q = b->L; q-- > 0;) {
        int k_ = (int)s[q], n_ = (int)s[q + 1];
        /* dW <- X^T dZ: M = n_in, N = n_out, K = batch */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k_, n_, B, 1.0f,
                    b->buf[q], k_, b->grad[q + 1], n_, beta,
                    beta != 0.0f ? b->dwacc[q] : b->dw[q], n_);
        if (q > 0)
            /* dX <- dZ W^T: M = batch, N = n_in, K = n_out */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, k_, n_,
                        1.0f, b->grad[q + 1], n_, b->wt[q], n_, beta,
                        beta != 0.0f ? b->gacc[q] : b->grad[q], k_);
    }
}

/* Per-sample seconds of each timed phase over the rounds. */
struct train_times {
    double ts[64], tf[64], ta[64], tu[64];   /* step, floor, acc, fused */
    int r, inner;
};

/* Warm up (scratch grows, threads start), size the inner loops from one
   step, then time step, floor, floor_acc and fused step interleaved in
   rounds so drift hits all alike. */
static void measure(const struct train_bufs *b, int reps,
                    struct train_times *t)
{
    double t0;
    int r, j, inner;

    step(b); step(b);
    step_fused(b); step_fused(b);
    gemm_floor(b, 0.0f); gemm_floor(b, 0.0f);
    gemm_floor(b, 1.0f); gemm_floor(b, 1.0f);
    t0 = bench_now();
    step(b);
    inner = modes_inner_for(bench_now() - t0);
    for (r = 0; r < reps && r < 64; r++) {
        t0 = bench_now();
        for (j = 0; j < inner; j++) step(b);
        t->ts[r] = (bench_now() - t0) / inner;
        t0 = bench_now();
        for (j = 0; j < inner; j++) gemm_floor(b, 0.0f);
        t->tf[r] = (bench_now() - t0) / inner;
        t0 = bench_now();
        for (j = 0; j < inner; j++) gemm_floor(b, 1.0f);
        t->ta[r] = (bench_now() - t0) / inner;
        t0 = bench_now();
        for (j = 0; j < inner; j++) step_fused(b);
        t->tu[r] = (bench_now() - t0) / inner;
    }
    t->r = r;
    t->inner = inner;
}

/* run's JSON line: min/median/p90 of each phase (bench_stats sorts the
   samples in place) and their ratios. */
static void print_train(const struct workload *w, int threads,
                        struct train_times *t)
{
    size_t L = w->n_layers, l;
    double smin, smed, sp90, fmin, fmed, fp90, umin, umed, up90, amin, amed,
        ap90;

    bench_stats(t->ts, t->r, &smin, &smed, &sp90);
    bench_stats(t->tf, t->r, &fmin, &fmed, &fp90);
    bench_stats(t->tu, t->r, &umin, &umed, &up90);
    bench_stats(t->ta, t->r, &amin, &amed, &ap90);
    bench_json_head("train", threads);
    printf(",\"workload\":\"%s\",\"batch\":%zu,\"layers\":\"", w->name,
           w->batch);
    for (l = 0; l <= L; l++) printf("%zu%s", w->sizes[l], l < L ? "-" : "");
    printf("\",\"step_min_s\":%.6g,\"step_median_s\":%.6g,"
           "\"step_p90_s\":%.6g,\"floor_min_s\":%.6g,\"floor_median_s\":"
           "%.6g,\"floor_p90_s\":%.6g,\"ratio\":%.3f,\"ratio_min\":%.3f,"
           "\"elementwise_share\":%.3f,\"fused_step_min_s\":%.6g,"
           "\"fused_step_median_s\":%.6g,\"fused_step_p90_s\":%.6g,"
           "\"fused_ratio\":%.3f,\"floor_acc_min_s\":%.6g,"
           "\"floor_acc_median_s\":%.6g,\"floor_acc_p90_s\":%.6g,"
           "\"ratio_acc\":%.3f,\"fused_ratio_acc\":%.3f,"
           "\"elementwise_share_acc\":%.3f,\"reps\":%d,\"inner\":%d}\n",
           smin, smed, sp90, fmin, fmed, fp90, smed / fmed, smin / fmin,
           1.0 - fmed / smed, umin, umed, up90, umed / fmed, amin, amed,
           ap90, smed / amed, umed / amed, 1.0 - amed / smed, t->r,
           t->inner);
    fflush(stdout);
}

static void run(const struct workload *w, int threads, int reps)
{
    struct train_bufs b;
    struct train_times t;

    train_bufs_alloc(&b, w);
    measure(&b, reps, &t);
    print_train(w, threads, &t);
    train_bufs_free(&b);
}

/*====== --modes: the ways of using 2 cores, interleaved in rounds ======*/

/* Per round every mode and the capacity probe once, the order rotated
   round by round so a drift in the machine's load hits all alike. */
static void run_modes(const struct workload *w, int reps, int adam)
{
    struct modes_net s;
    double t[M_N][MODES_MAXR], cap[MODES_MAXR];
    int r, k;

    modes_net_init(&s, w, adam);
    modes_warm(&s);
    cap_init();
    for (r = 0; r < reps && r < MODES_MAXR; r++)
        for (k = 0; k <= M_N; k++) {
            int m = (k + r) % (M_N + 1);
            if (m < M_N) t[m][r] = modes_sample(&s, m);
            else cap[r] = cap_sample();
        }
    modes_print("train_modes", &s, t, cap, r, "");
    mode_set(M_AUTO2);
    modes_net_free(&s);
}

int main(int argc, char **argv)
{
    int threads[8] = {1, 2}, nt = 2, reps = 9, smoke = 0, modes = 0, adam = 0,
        i, ti;
    const char *only = NULL;
    size_t wi;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) smoke = 1;
        else if (strcmp(argv[i], "--modes") == 0) modes = 1;
        else if (strcmp(argv[i], "--adam") == 0) adam = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *p = argv[++i];
            nt = 0;
            while (*p && nt < 8) {
                threads[nt++] = (int)strtol(p, &p, 10);
                if (*p == ',') p++;
            }
        } else {
            fprintf(stderr, "usage: %s [--threads 1,2] [--reps N] "
                    "[--workload W1|W2|W3|W4] [--smoke] [--modes [--adam]]"
                    "\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (modes) {
        for (wi = 0; wi < sizeof wls / sizeof wls[0]; wi++) {
            if (only != NULL && strcmp(only, wls[wi].name) != 0) continue;
            if (smoke && strcmp(wls[wi].name, "W3") == 0) continue;
            run_modes(&wls[wi], smoke ? 1 : reps, adam);
        }
        return 0;
    }
    for (ti = 0; ti < nt; ti++) {
        CHECK(nn_set_num_threads(threads[ti]));
        for (wi = 0; wi < sizeof wls / sizeof wls[0]; wi++) {
            if (only != NULL && strcmp(only, wls[wi].name) != 0) continue;
            if (smoke && strcmp(wls[wi].name, "W3") == 0) continue;
            run(&wls[wi], threads[ti], smoke ? 1 : reps);
        }
    }
    return 0;
}
