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
 * interleaved in rounds, and in the same rounds the machine's capacity:
 * two concurrent single-threaded cblas_sgemm loops against one (2.0 = two
 * full cores).  One JSON line per workload: medians and ratios to 1
 * thread.
 */
#include "bench_common.h"

#include <cblas.h>
#include <pthread.h>


#define CHECK(call)                                                       \
    do {                                                                  \
        if ((call) != NN_OK) {                                            \
            fprintf(stderr, "%s: %s\n", #call, nn_last_error());          \
            exit(2);                                                      \
        }                                                                 \
    } while (0)

/* inner repetitions so one sample lasts >= ~20 ms */
static int inner_for(double one)
{
    int n = 1;
    while (n * one < 0.02 && n < 100000) n *= 2;
    return n;
}

static void run(const struct workload *w, int threads, int reps)
{
    size_t L = w->n_layers, B = w->batch, i, l;
    size_t n_in = w->sizes[0], n_out = w->sizes[L];
    int32_t acts[MAXL];
    float *x, *out, *buf[MAXL + 1], *grad[MAXL + 1], *wt[MAXL], *dw[MAXL],
        *acc[MAXL + 1], *gacc[MAXL + 1], *dwacc[MAXL];
    int32_t *labels;
    nn_net *net;
    double ts[64], tf[64], tu[64], ta[64], smin, smed, sp90, fmin, fmed,
        fp90, t0, one, umin, umed, up90, amin, amed, ap90;
    int r, inner, j;

    for (l = 0; l < L; l++)
        acts[l] = l + 1 < L ? NN_ACT_RELU : NN_ACT_SOFTMAX;
    CHECK(nn_net_create(&net, L, w->sizes, acts, 1));
    x = malloc(sizeof(float) * B * n_in);
    out = malloc(sizeof(float) * B * n_out);
    labels = malloc(sizeof(int32_t) * B);
    if (!x || !out || !labels) exit(2);
    bench_fill(x, B * n_in, 3);
    for (i = 0; i < B; i++) labels[i] = (int32_t)(i % n_out);

    /* the floor's own buffers: activations and gradients per layer */
    for (l = 0; l <= L; l++) {
        buf[l] = malloc(sizeof(float) * B * w->sizes[l]);
        grad[l] = malloc(sizeof(float) * B * w->sizes[l]);
        /* floor_acc's outputs: the products accumulate (beta = 1) into
           blocks no later product reads, so values grow only linearly */
        acc[l] = calloc(B * w->sizes[l], sizeof(float));
        gacc[l] = calloc(B * w->sizes[l], sizeof(float));
        if (!buf[l] || !grad[l] || !acc[l] || !gacc[l]) exit(2);
        bench_fill(buf[l], B * w->sizes[l], 4 + (unsigned)l);
        bench_fill(grad[l], B * w->sizes[l], 9 + (unsigned)l);
    }
    for (l = 0; l < L; l++) {
        wt[l] = malloc(sizeof(float) * w->sizes[l] * w->sizes[l + 1]);
        dw[l] = malloc(sizeof(float) * w->sizes[l] * w->sizes[l + 1]);
        dwacc[l] = calloc(w->sizes[l] * w->sizes[l + 1], sizeof(float));
        if (!wt[l] || !dw[l] || !dwacc[l]) exit(2);
        bench_fill(wt[l], w->sizes[l] * w->sizes[l + 1], 20 + (unsigned)l);
    }

#define STEP()                                                            \
    do {                                                                  \
        CHECK(nn_forward(net, x, B, out));                                \
        CHECK(nn_backward_labels(net, labels, NULL));                     \
        CHECK(nn_sgd_step(net, 1e-4f));                                   \
    } while (0)

/* the same step through nn_backward_labels_sgd (update fused into the
   gradient product) */
#define STEP_FUSED()                                                      \
    do {                                                                  \
        CHECK(nn_forward(net, x, B, out));                                \
        CHECK(nn_backward_labels_sgd(net, labels, 1e-4f, NULL));          \
    } while (0)

#define FLOOR(beta_)                                                      \
    do {                                                                  \
        size_t q;                                                         \
        for (q = 0; q < L; q++) {                                         \
            int k_ = (int)w->sizes[q], n_ = (int)w->sizes[q + 1];         \
            /* Z <- X W: M = batch, N = n_out, K = n_in */                 \
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, \
                        n_, k_, 1.0f, buf[q], k_, wt[q], n_, (beta_),     \
                        (beta_) != 0.0f ? acc[q + 1] : buf[q + 1], n_);   \
        }                                                                 \
        for (q = L; q-- > 0;) {                                           \
            int k_ = (int)w->sizes[q], n_ = (int)w->sizes[q + 1];         \
            /* dW <- X^T dZ: M = n_in, N = n_out, K = batch */             \
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k_, n_,  \
                        (int)B, 1.0f, buf[q], k_, grad[q + 1], n_,        \
                        (beta_), (beta_) != 0.0f ? dwacc[q] : dw[q], n_); \
            if (q > 0)                                                    \
                /* dX <- dZ W^T: M = batch, N = n_in, K = n_out */         \
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,      \
                            (int)B, k_, n_, 1.0f, grad[q + 1], n_, wt[q], \
                            n_, (beta_),                                  \
                            (beta_) != 0.0f ? gacc[q] : grad[q], k_);     \
        }                                                                 \
    } while (0)

    /* warm-up (scratch grows, threads start), then size the inner loops */
    STEP(); STEP();
    STEP_FUSED(); STEP_FUSED();
    FLOOR(0.0f); FLOOR(0.0f);
    FLOOR(1.0f); FLOOR(1.0f);
    t0 = bench_now();
    STEP();
    one = bench_now() - t0;
    inner = inner_for(one);
    /* interleave step and floor samples so drift hits both alike */
    for (r = 0; r < reps && r < 64; r++) {
        t0 = bench_now();
        for (j = 0; j < inner; j++) STEP();
        ts[r] = (bench_now() - t0) / inner;
        t0 = bench_now();
        for (j = 0; j < inner; j++) FLOOR(0.0f);
        tf[r] = (bench_now() - t0) / inner;
        t0 = bench_now();
        for (j = 0; j < inner; j++) FLOOR(1.0f);
        ta[r] = (bench_now() - t0) / inner;
        t0 = bench_now();
        for (j = 0; j < inner; j++) STEP_FUSED();
        tu[r] = (bench_now() - t0) / inner;
    }
    bench_stats(ts, r, &smin, &smed, &sp90);
    bench_stats(tf, r, &fmin, &fmed, &fp90);
    bench_stats(tu, r, &umin, &umed, &up90);
    bench_stats(ta, r, &amin, &amed, &ap90);
    bench_json_head("train", threads);
    printf(",\"workload\":\"%s\",\"batch\":%zu,\"layers\":\"", w->name, B);
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
           ap90, smed / amed, umed / amed, 1.0 - amed / smed, r, inner);
    fflush(stdout);
    for (l = 0; l <= L; l++) {
        free(buf[l]);
        free(grad[l]);
        free(acc[l]);
        free(gacc[l]);
    }
    for (l = 0; l < L; l++) {
        free(wt[l]);
        free(dw[l]);
        free(dwacc[l]);
    }
    free(x);
    free(out);
    free(labels);
    nn_net_destroy(net);
}

/*====== --modes: the ways of using 2 cores, interleaved in rounds ======*/

/* Two concurrent single-threaded sgemm loops against one: the machine's
   parallel capacity at that moment (2.0 = two full cores).  Threads are
   made per sample; the loop lasts ~20 ms so that cost is noise. */
#define CAP_N 192
static float cap_a[2][CAP_N * CAP_N], cap_b[2][CAP_N * CAP_N],
    cap_c[2][CAP_N * CAP_N];
static int cap_iters = 1;

static void *cap_loop(void *arg)
{
    int k = (int)(intptr_t)arg, i;
    for (i = 0; i < cap_iters; i++)
        /* C <- A B: M = N = K = CAP_N */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, CAP_N, CAP_N,
                    CAP_N, 1.0f, cap_a[k], CAP_N, cap_b[k], CAP_N, 0.0f,
                    cap_c[k], CAP_N);
    return NULL;
}

static double cap_sample(void)
{
    pthread_t th;
    double t0, t1, t2;
    t0 = bench_now();
    cap_loop((void *)(intptr_t)0);
    t1 = bench_now();
    if (pthread_create(&th, NULL, cap_loop, (void *)(intptr_t)1) != 0)
        return 0;
    cap_loop((void *)(intptr_t)0);
    pthread_join(th, NULL);
    t2 = bench_now();
    return 2.0 * (t1 - t0) / (t2 - t1);
}

enum { M_ONE, M_BLAS2, M_REP2, M_AUTO2, M_N };
static const char *const mode_names[M_N] = {"one_thread", "blas_2",
                                            "replicas_2", "default_2"};

static void mode_set(int m)
{

    CHECK(nn_set_num_threads(m == M_ONE ? 1 : 2));
    CHECK(nn_set_parallel_mode(m == M_BLAS2   ? NN_PARALLEL_BLAS
                               : m == M_REP2 ? NN_PARALLEL_REPLICAS
                                             : NN_PARALLEL_AUTO));
}

/* OpenBLAS's worker threads spin ~0.1 s (THREAD_TIMEOUT) after a 2-thread
   call or a change of its thread count, on the core the next mode's
   replicas need: let them park before timing */
static void settle(void)
{
    struct timespec ts = {0, 250000000};
    nanosleep(&ts, NULL);
}

/* The inner repetitions of cap_loop so one capacity sample lasts ~20 ms. */
static void cap_size(void)
{
    double c0;
    cap_iters = 1;
    c0 = bench_now();
    cap_loop((void *)(intptr_t)0);
    cap_iters = inner_for(bench_now() - c0);
}

/* run_modes' JSON line: each mode's median step, its ratio to one thread,
   and the machine's parallel capacity over the r rounds. */
static void print_modes(const struct workload *w, int adam,
                        double t[M_N][64], double *cap, int r)
{
    size_t L = w->n_layers, B = w->batch, l;
    double mn, med[M_N], p90, cmed;
    int m;

    bench_json_head("train_modes", 2);
    printf(",\"workload\":\"%s\",\"batch\":%zu,\"optimizer\":\"%s\","
           "\"layers\":\"", w->name, B, adam ? "adam" : "sgd_fused");
    for (l = 0; l <= L; l++) printf("%zu%s", w->sizes[l], l < L ? "-" : "");
    printf("\"");
    for (m = 0; m < M_N; m++) {
        bench_stats(t[m], r, &mn, &med[m], &p90);
        printf(",\"%s_median_s\":%.6g", mode_names[m], med[m]);
    }
    for (m = 1; m < M_N; m++)
        printf(",\"%s_ratio\":%.3f", mode_names[m], med[m] / med[M_ONE]);
    bench_stats(cap, r, &mn, &cmed, &p90);
    printf(",\"capacity_2_sgemm\":%.3f,\"capacity_min\":%.3f,"
           "\"capacity_p90\":%.3f,\"reps\":%d}\n", cmed, mn, p90, r);
    fflush(stdout);
}

/* One training step as nn_trainer_fit makes it with plain SGD: forward,
   then the backward with the update fused (every part split under
   replicas); and with Adam: forward, backward, nn_optimizer_step. */
static void run_modes(const struct workload *w, int reps, int adam)
{
    size_t L = w->n_layers, B = w->batch, i, l;
    int32_t acts[MAXL], *labels;
    nn_net *net;
    nn_optimizer *opt = NULL;
    float *x;
    double t[M_N][64], cap[64], t0, one;
    int r, m, j, inner[M_N];

    for (l = 0; l < L; l++)
        acts[l] = l + 1 < L ? NN_ACT_RELU : NN_ACT_SOFTMAX;
    CHECK(nn_net_create(&net, L, w->sizes, acts, 1));
    if (adam) CHECK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    x = malloc(sizeof(float) * B * w->sizes[0]);
    labels = malloc(sizeof(int32_t) * B);
    if (!x || !labels) exit(2);
    bench_fill(x, B * w->sizes[0], 3);
    for (i = 0; i < B; i++) labels[i] = (int32_t)(i % w->sizes[L]);
    bench_fill(cap_a[0], CAP_N * CAP_N, 1);
    bench_fill(cap_a[1], CAP_N * CAP_N, 2);
    bench_fill(cap_b[0], CAP_N * CAP_N, 3);
    bench_fill(cap_b[1], CAP_N * CAP_N, 4);

#define MSTEP()                                                           \
    do {                                                                  \
        CHECK(nn_forward(net, x, B, NULL));                               \
        if (adam) {                                                       \
            CHECK(nn_backward_labels(net, labels, NULL));                 \
            CHECK(nn_optimizer_step(opt));                                \
        } else {                                                          \
            CHECK(nn_backward_labels_sgd(net, labels, 1e-4f, NULL));      \
        }                                                                 \
    } while (0)

    for (m = 0; m < M_N; m++) {   /* warm-up and inner loop sizes */
        mode_set(m);
        MSTEP(); MSTEP();
        t0 = bench_now();
        MSTEP();
        one = bench_now() - t0;
        inner[m] = inner_for(one);
    }
    cap_size();
    for (r = 0; r < reps && r < 64; r++) {
        for (m = 0; m < M_N; m++) {
            mode_set(m);
            MSTEP();   /* the switch's own cost stays out of the sample */
            settle();
            t0 = bench_now();
            for (j = 0; j < inner[m]; j++) MSTEP();
            t[m][r] = (bench_now() - t0) / inner[m];
        }
        mode_set(M_ONE);
        settle();
        cap[r] = cap_sample();
    }
    print_modes(w, adam, t, cap, r);
    mode_set(M_AUTO2);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    free(x);
    free(labels);
#undef MSTEP
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
