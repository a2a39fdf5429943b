/*
 * test_threads.c - distinct handles used from concurrent threads (T13b,
 * T13c of docs/RELIABILITY.md).
 *
 * Four configurations (one per optimizer kind, different seeds, dropout
 * so the net's own generator is used) are trained once sequentially on
 * the main thread, then from four threads at once, three rounds.  With 1
 * BLAS thread every product is computed the same way, so each thread's
 * final state (the checkpoint image: parameters, optimizer state,
 * iteration count, dropout generator) must be bit-identical to its
 * sequential run.  While training, each thread also makes failing calls
 * whose messages carry numbers unique to the thread and checks that
 * nn_last_error() shows its own text, exactly, every time.
 */
#include "nntest.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TH_N 4
#define TH_ROWS 150      /* 50 per class */
#define TH_IMG 65536

static float th_x[TH_ROWS * 2];
static int32_t th_y[TH_ROWS];

typedef struct {
    int id;
    int check_errors;
    unsigned char img[TH_IMG];
    size_t size;
    int status;          /* NN_OK, or the failing status */
    long error_checks;
    long error_mixups;
    char where[160];
} th_job;

/* A failing call whose message names a number only this thread uses, and
   the check that the message read back is exactly this thread's. */
static void th_error_probe(th_job *j, long i)
{
    char want[96];
    int n = -(j->id * 1000000 + (int)(i % 1000000) + 1);
    if (nn_set_num_threads(n) != NN_ERR_INVALID_ARG) j->error_mixups++;
    snprintf(want, sizeof want, "n = %d,", n);
    if (strstr(nn_last_error(), want) == NULL) j->error_mixups++;
    j->error_checks++;
}

static int th_fail(th_job *j, int st, const char *what)
{
    j->status = st;
    snprintf(j->where, sizeof j->where, "%s: %s", what, nn_last_error());
    return st;
}

/* Train configuration j->id from scratch; the result is j->img. */
static void th_train(th_job *j)
{
    size_t sizes[4] = {2, 32, 16, 3};
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_RELU, NN_ACT_SOFTMAX};
    int32_t kind = (int32_t)(j->id % 4);
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    int st, i;

    j->status = NN_OK;
    j->error_checks = j->error_mixups = 0;
    if ((st = nn_net_create(&net, 3, sizes, acts, 100u + (unsigned)j->id)))
        { th_fail(j, st, "nn_net_create"); goto out; }
    if ((st = nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, 0.1)))
        { th_fail(j, st, "set_layer_option"); goto out; }
    if ((st = nn_optimizer_create(&opt, net, kind)))
        { th_fail(j, st, "nn_optimizer_create"); goto out; }
    if ((st = nn_optimizer_set(opt, NN_OPT_LEARNING_RATE,
                               kind < 2 ? 0.5 : 0.01)))
        { th_fail(j, st, "nn_optimizer_set"); goto out; }
    /* explicit steps: forward (NN), backward (NT/TN products), update */
    for (i = 0; i < 40; i++) {
        if ((st = nn_forward(net, th_x, TH_ROWS, NULL)))
            { th_fail(j, st, "nn_forward"); goto out; }
        if (j->check_errors) th_error_probe(j, 3 * i);
        if ((st = nn_backward_labels(net, th_y, NULL)))
            { th_fail(j, st, "nn_backward_labels"); goto out; }
        if (j->check_errors) th_error_probe(j, 3 * i + 1);
        if ((st = nn_optimizer_step(opt)))
            { th_fail(j, st, "nn_optimizer_step"); goto out; }
        if (j->check_errors) th_error_probe(j, 3 * i + 2);
    }
    /* then the trainer: shuffled batches of 32, 5 epochs */
    if ((st = nn_trainer_create(&tr, net, opt)))
        { th_fail(j, st, "nn_trainer_create"); goto out; }
    nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 32);
    nn_trainer_set(tr, NN_TRAIN_EPOCHS, 5);
    nn_trainer_set(tr, NN_TRAIN_SEED, 7 + j->id);
    if ((st = nn_trainer_fit(tr, th_x, NULL, th_y, TH_ROWS, NULL, NULL, NULL,
                             0)))
        { th_fail(j, st, "nn_trainer_fit"); goto out; }
    /* then a burst of failing calls while the other threads still train */
    if (j->check_errors)
        for (i = 0; i < 25000; i++) th_error_probe(j, 1000 + i);
    if ((st = nn_checkpoint_save_buffer(net, opt, j->img, sizeof j->img,
                                        &j->size)))
        th_fail(j, st, "nn_checkpoint_save_buffer");
out:
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

static void *th_main(void *arg)
{
    th_train(arg);
    return NULL;
}

NN_TEST(threads_distinct_handles_bit_identical)
{
    static th_job seq[TH_N], par[TH_N];
    pthread_t th[TH_N];
    int blas0 = nn_get_num_threads(), t, round;
    long checks = 0;

    NNT_OK(nn_data_spiral(th_x, th_y, TH_ROWS / 3, 3, 42));
    if (nn_set_num_threads(1) != NN_OK) {
        printf("  note: the BLAS thread count cannot be set (%s); "
               "skipped\n", nn_last_error());
        return;
    }
    for (t = 0; t < TH_N; t++) {
        seq[t].id = t;
        th_train(&seq[t]);
        if (seq[t].status != NN_OK)
            nnt_fail(__FILE__, __LINE__, "sequential %d: %s", t,
                     seq[t].where);
    }
    for (round = 0; round < 3; round++) {
        for (t = 0; t < TH_N; t++) {
            par[t].id = t;
            par[t].check_errors = 1;
            NNT_EQ_INT(pthread_create(&th[t], NULL, th_main, &par[t]), 0);
        }
        for (t = 0; t < TH_N; t++) NNT_EQ_INT(pthread_join(th[t], NULL), 0);
        for (t = 0; t < TH_N; t++) {
            if (par[t].status != NN_OK)
                nnt_fail(__FILE__, __LINE__, "round %d thread %d: %s",
                         round, t, par[t].where);
            NNT_EQ_SIZE(par[t].size, seq[t].size);
            if (memcmp(par[t].img, seq[t].img, seq[t].size) != 0)
                nnt_fail(__FILE__, __LINE__, "round %d thread %d (optimizer "
                         "kind %d): state differs from the sequential run",
                         round, t, t % 4);
            nnt_pass();
            NNT_EQ_INT(par[t].error_mixups, 0);
            checks += par[t].error_checks;
        }
    }
    /* the four configurations really differ */
    for (t = 1; t < TH_N; t++)
        NNT_TRUE(seq[t].size != seq[0].size ||
                 memcmp(seq[t].img, seq[0].img, seq[0].size) != 0);
    if (blas0 > 0) nn_set_num_threads(blas0);
    printf("  %d rounds x %d threads bit-identical to sequential runs "
           "(%zu-byte checkpoint images); %ld error-message checks, 0 "
           "mixed\n", 3, TH_N, seq[0].size, checks);
}

static double bt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Train a 2-256-256-3 net for 10 full-batch steps (batch 384: products big
   enough that OpenBLAS splits them) with the BLAS at nthreads; the
   parameters of layer 1 (256 x 256) and 2 go to w. */
static int bt_train(int nthreads, float *w, size_t nw, double *secs)
{
    static float x[512 * 2];
    static int32_t y[512];
    size_t sizes[4] = {2, 256, 256, 3}, off = 0, l;
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    int st, i;
    double t0;

    if ((st = nn_set_num_threads(nthreads))) return st;
    if ((st = nn_data_spiral(x, y, 128, 3, 5))) return st;   /* 384 rows */
    if ((st = nn_net_create(&net, 3, sizes, acts, 77))) return st;
    if ((st = nn_optimizer_create(&opt, net, NN_OPT_ADAM))) goto out;
    t0 = bt_now();
    for (i = 0; i < 10 && st == NN_OK; i++) {
        if ((st = nn_forward(net, x, 384, NULL))) break;
        if ((st = nn_backward_labels(net, y, NULL))) break;
        st = nn_optimizer_step(opt);
    }
    *secs = bt_now() - t0;
    for (l = 0; l < 3 && st == NN_OK; l++) {
        size_t n = sizes[l] * sizes[l + 1];
        if (off + n + sizes[l + 1] > nw) { st = NN_ERR_SHAPE; break; }
        st = nn_net_get_params(net, l, w + off, w + off + n);
        off += n + sizes[l + 1];
    }
out:
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return st;
}

/* T19: the BLAS at 1 and at 2 threads give the same training result within
   float tolerance (a different split of the sums may round differently). */
NN_TEST(threads_blas_1_vs_2_agree)
{
    enum { NW = 2 * 256 + 256 + 256 * 256 + 256 + 256 * 3 + 3 };
    static float w1[NW], w2[NW];
    int blas0 = nn_get_num_threads();
    double s1 = 0, s2 = 0, worst = 0;
    size_t i, bad = 0, diff = 0;

    if (nn_set_num_threads(2) != NN_OK) {
        printf("  note: the BLAS thread count cannot be set; skipped\n");
        return;
    }
    NNT_OK(bt_train(1, w1, NW, &s1));
    NNT_OK(bt_train(2, w2, NW, &s2));
    for (i = 0; i < NW; i++) {
        double d = fabs((double)w1[i] - (double)w2[i]);
        double r = d / (1.0 + fabs((double)w1[i]));
        if (w1[i] != w2[i]) diff++;
        if (!(r <= 1e-5)) bad++;
        if (r > worst) worst = r;
    }
    NNT_TRUE(bad == 0);
    if (blas0 > 0) nn_set_num_threads(blas0);
    printf("  %d parameters after 10 Adam steps (batch 384, 2-256-256-3): "
           "%zu differ bitwise, max |dw|/(1+|w|) %.3g (limit 1e-5); "
           "%.3f s at 1 thread, %.3f s at 2\n", (int)NW, diff, worst, s1,
           s2);
}
