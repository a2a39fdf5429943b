/*
 * test_replicas.c - in-process data-parallel replicas (issue 15, item 1
 * and 3): T workers x B/T rows against one thread with B rows.
 *
 * Gradient bound.  Every gradient element is a float sum; for a sum of N
 * rounded terms the error is at most gamma_N S with gamma_N = N u /
 * (1 - N u), u = 2^-24 and S the sum of the terms' magnitudes (Higham,
 * Accuracy and Stability, 3.1).  A weight gradient dW = X^T dZ sums B
 * rows; each dZ entry itself carries the error of the chain above it: the
 * products dA = dZ W^T of the later layers (dot products of their widths),
 * the activation derivatives and the loss gradient (a few roundings each,
 * plus one for the replicas' rescale of a block's mean to the batch's).
 * So with N = B + (sum of the layer widths) + 16 and S <= B max|X| max|dZ|
 * (bias: B max|dZ|), both one thread and any T are within gamma_N S of
 * the exact gradient, here computed in double by tests/refnet.c; hence
 * within 2 gamma_N S of each other.  That is what is asserted, per tensor,
 * against the double reference for T = 1, 2, 3 (uneven: 43 + 43 + 42
 * rows) and 4; the measured differences are printed (they are far
 * smaller: a few ulps).
 */
#include "nntest.h"
#include "alloc_hook.h"
#include "internal.h"
#include "refnet.h"

#include <float.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define R_B 128
#define R_IN 12
#define R_OUT 6
#define R_L 3

static const size_t r_sizes[R_L + 1] = {R_IN, 48, 24, R_OUT};
static const int32_t r_acts[R_L] = {NN_ACT_RELU, NN_ACT_TANH,
                                    NN_ACT_SOFTMAX};
static float r_x[R_B * R_IN];
static int32_t r_y[R_B];

static void r_data(void)
{
    uint64_t s = nnt_seed() ^ 0x5ca1ab1eull;
    size_t i;
    for (i = 0; i < R_B * R_IN; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        r_x[i] = (float)((double)(s >> 11) / 9007199254740992.0) * 2.0f -
                 1.0f;
    }
    for (i = 0; i < R_B; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        r_y[i] = (int32_t)((s >> 33) % R_OUT);
    }
}

/* Threads and mode for one run; T = 1 is the plain serial code. */
static void r_threads(int t)
{
    NNT_OK(nn_set_num_threads(t));
    NNT_OK(nn_set_parallel_mode(t == 1 ? NN_PARALLEL_BLAS
                                       : NN_PARALLEL_REPLICAS));
}

static void r_restore(void)
{
    NNT_OK(nn_set_parallel_mode(NN_PARALLEL_AUTO));
    NNT_OK(nn_set_num_threads(2));
}

NN_TEST(replicas_gradients_within_float_bound_of_double)
{
    static const int ts[4] = {1, 2, 3, 4};
    struct ref_net ref;
    static double xd[R_B * R_IN];
    size_t i, l, nsum = R_B + 16;
    double gam;
    int k;

    r_data();
    for (l = 1; l <= R_L; l++) nsum += r_sizes[l];
    gam = (double)nsum * ldexp(1.0, -24) /
          (1.0 - (double)nsum * ldexp(1.0, -24));
    for (i = 0; i < R_B * R_IN; i++) xd[i] = (double)r_x[i];
    NNT_TRUE(ref_create(&ref, R_L, r_sizes, r_acts) == 0);

    for (k = 0; k < 4; k++) {
        nn_net *net = NULL;
        float loss = 0;
        double worst = 0;
        r_threads(ts[k]);
        NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 42));
        for (l = 0; l < R_L; l++) {
            size_t nw = r_sizes[l] * r_sizes[l + 1];
            float *w = malloc(nw * sizeof(float));
            float *b = malloc(r_sizes[l + 1] * sizeof(float));
            NNT_TRUE(w != NULL && b != NULL);
            NNT_OK(nn_net_get_params(net, l, w, b));
            if (k == 0) ref_set_layer(&ref, l, w, b);
            free(w);
            free(b);
        }
        if (k == 0) {
            NNT_TRUE(ref_forward(&ref, xd, R_B) == 0);
            NNT_TRUE(isfinite(ref_backward_labels(&ref, r_y)));
        }
        NNT_OK(nn_forward(net, r_x, R_B, NULL));
        NNT_OK(nn_backward_labels(net, r_y, &loss));
        NNT_NEAR(loss, ref_loss_labels(&ref, r_y), 1e-5);
        for (l = 0; l < R_L; l++) {
            size_t nw = r_sizes[l] * r_sizes[l + 1], no = r_sizes[l + 1], j;
            float *dw = malloc(nw * sizeof(float));
            float *db = malloc(no * sizeof(float));
            /* S <= B max|X| max|dZ| from the forward's and backward's own
               maxima (exact float maxima the library keeps) */
            double xm = (double)nn__amax_to_float(net->act_max[l]);
            double dm = (double)nn__amax_to_float(net->dz_max[l]);
            double bw = gam * R_B * (xm > 1 ? xm : 1) * dm;
            double bb = gam * R_B * dm;
            NNT_TRUE(dw != NULL && db != NULL);
            NNT_OK(nn_net_get_grads(net, l, dw, db));
            for (j = 0; j < nw; j++) {
                double e = fabs((double)dw[j] - ref.dw[l][j]);
                NNT_LE(e, bw);
                if (e / bw > worst) worst = e / bw;
            }
            for (j = 0; j < no; j++) {
                double e = fabs((double)db[j] - ref.db[l][j]);
                NNT_LE(e, bb);
                if (e / bb > worst) worst = e / bb;
            }
            free(dw);
            free(db);
        }
        printf("  T = %d: largest gradient error %.3g of the bound "
               "gamma_%zu B max|X| max|dZ| (gamma = %.3g)\n", ts[k], worst,
               nsum, gam);
        nn_net_destroy(net);
    }
    ref_destroy(&ref);
    r_restore();
}

/* 100 full-batch Adam steps (dropout 0.1 on the first layer, so the masks
   drawn for the whole batch matter) at Adam's default rate 0.001; the
   loss after each step, and the final parameters.  (At rate 0.01, 4 of
   36 seeds showed one late step jump to 1-5e-5 relative: a unit near a
   ReLU kink or a near-zero Adam moment turns an ulp of difference into a
   different step, as any change of float summation order can.  At 0.001,
   0 of 80 seeds exceeded 1e-5; the largest seen is printed.) */
static void r_adam(int t, float *losses, float *params, size_t np)
{
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    size_t l, off = 0;
    int i;
    r_threads(t);
    NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 7));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, 0.1));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.001));
    for (i = 0; i < 100; i++) {
        NNT_OK(nn_forward(net, r_x, R_B, NULL));
        NNT_OK(nn_backward_labels(net, r_y, &losses[i]));
        NNT_OK(nn_optimizer_step(opt));
    }
    for (l = 0; l < R_L; l++) {
        size_t nw = r_sizes[l] * r_sizes[l + 1];
        NNT_TRUE(off + nw + r_sizes[l + 1] <= np);
        NNT_OK(nn_net_get_params(net, l, params + off, params + off + nw));
        off += nw + r_sizes[l + 1];
    }
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

#define R_NP (12 * 48 + 48 + 48 * 24 + 24 + 24 * 6 + 6)

NN_TEST(replicas_adam_loss_curve_and_bits)
{
    static float l1[100], l2[100], l3[100], l3b[100];
    static float p1[R_NP], p2[R_NP], p3[R_NP], p3b[R_NP];
    double worst2 = 0, worst3 = 0;
    int i;
    r_data();
    r_adam(1, l1, p1, R_NP);
    r_adam(2, l2, p2, R_NP);
    r_adam(3, l3, p3, R_NP);
    r_adam(3, l3b, p3b, R_NP);
    for (i = 0; i < 100; i++) {
        double r2 = fabs((double)l2[i] - l1[i]) / fabs((double)l1[i]);
        double r3 = fabs((double)l3[i] - l1[i]) / fabs((double)l1[i]);
        NNT_LE(r2, 1e-5);
        NNT_LE(r3, 1e-5);
        if (r2 > worst2) worst2 = r2;
        if (r3 > worst3) worst3 = r3;
    }
    /* the loss went somewhere: the comparison is not of constants */
    NNT_TRUE(l1[99] < 0.8f * l1[0]);
    /* the same T twice: the same bits */
    NNT_TRUE(memcmp(l3, l3b, sizeof l3) == 0);
    NNT_TRUE(memcmp(p3, p3b, sizeof p3) == 0);
    printf("  100 Adam steps, batch %d: loss %.4f -> %.4f; largest "
           "relative loss difference to 1 thread: %.3g (T = 2), %.3g "
           "(T = 3, uneven); T = 3 twice bit-identical\n", R_B,
           (double)l1[0], (double)l1[99], worst2, worst3);
    r_restore();
}

/* nn_trainer_fit with plain SGD (the fused backward + update), shuffled
   batches of 50 (the last 28 rows): T = 3 against T = 1. */
static void r_fit(int t, float *params, size_t np)
{
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    size_t l, off = 0;
    r_threads(t);
    NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 9));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_SGD));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.5));
    NNT_OK(nn_trainer_create(&tr, net, opt));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 50));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 5));
    NNT_OK(nn_trainer_fit(tr, r_x, NULL, r_y, R_B, NULL, NULL, NULL, 0));
    for (l = 0; l < R_L; l++) {
        size_t nw = r_sizes[l] * r_sizes[l + 1];
        NNT_TRUE(off + nw + r_sizes[l + 1] <= np);
        NNT_OK(nn_net_get_params(net, l, params + off, params + off + nw));
        off += nw + r_sizes[l + 1];
    }
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

NN_TEST(replicas_trainer_fused_sgd_matches_one_thread)
{
    static float p1[R_NP], p3[R_NP];
    double worst = 0;
    size_t i;
    r_data();
    r_fit(1, p1, R_NP);
    r_fit(3, p3, R_NP);
    for (i = 0; i < R_NP; i++) {
        double r = fabs((double)p3[i] - p1[i]) / (1.0 + fabs((double)p1[i]));
        NNT_LE(r, 1e-5);
        if (r > worst) worst = r;
    }
    printf("  fit, SGD, 15 shuffled steps: max |w3 - w1| / (1 + |w1|) "
           "%.3g\n", worst);
    r_restore();
}

NN_TEST(replicas_steady_state_steps_allocate_nothing)
{
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    int i;
    r_data();
    r_threads(2);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 3));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    /* warm-up: the first forward and backward take their scratch */
    NNT_OK(nn_forward(net, r_x, R_B, NULL));
    NNT_OK(nn_backward_labels(net, r_y, NULL));
    NNT_OK(nn_optimizer_step(opt));
    h_arm(0, 0);
    for (i = 0; i < 10; i++) {
        NNT_OK(nn_forward(net, r_x, R_B, NULL));
        NNT_OK(nn_backward_labels(net, r_y, NULL));
        NNT_OK(nn_optimizer_step(opt));
        NNT_OK(nn_forward(net, r_x, R_B, NULL));
        NNT_OK(nn_backward_labels_sgd(net, r_y, 0.01f, NULL));
    }
    NNT_EQ_INT(h_calls, 0);
    NNT_OK(nn_trainer_create(&tr, net, opt));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 64));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 2));
    NNT_OK(nn_trainer_fit(tr, r_x, NULL, r_y, R_B, NULL, NULL, NULL, 0));
    h_arm(0, 0);
    NNT_OK(nn_trainer_fit(tr, r_x, NULL, r_y, R_B, NULL, NULL, NULL, 0));
    /* a second fit allocates only its own batch buffers, not per step */
    NNT_LE(h_calls, 4);
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    NNT_EQ_INT(h_live, 0);
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    r_restore();
}

NN_TEST(replicas_bad_input_same_status_and_message)
{
    static float xbad[R_B * R_IN];
    static float out1[R_B * R_OUT], out2[R_B * R_OUT];
    char msg1[256], msg3[256];
    nn_net *net = NULL;
    int t;
    r_data();
    memcpy(xbad, r_x, sizeof xbad);
    xbad[100 * R_IN + 5] = NAN;   /* row 100: the third worker's block */
    for (t = 1; t <= 3; t += 2) {
        r_threads(t);
        NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 5));
        NNT_OK(nn_forward(net, r_x, R_B, t == 1 ? out1 : out2));
        NNT_STATUS(nn_forward(net, xbad, R_B, NULL), NN_ERR_NONFINITE);
        snprintf(t == 1 ? msg1 : msg3, sizeof msg1, "%s", nn_last_error());
        /* the previous forward is still the one a backward uses */
        NNT_OK(nn_backward_labels(net, r_y, NULL));
        nn_net_destroy(net);
    }
    NNT_EQ_STR(msg1, msg3);
    NNT_TRUE(strstr(msg1, "row 100, column 5") != NULL);
    for (t = 0; t < R_B * R_OUT; t++)
        NNT_NEAR(out2[t], out1[t], 1e-6);
    NNT_STATUS(nn_set_parallel_mode(3), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_set_parallel_mode: mode = 3");
    NNT_STATUS(nn_set_parallel_mode(-1), NN_ERR_INVALID_ARG);
    NNT_EQ_INT(nn_get_parallel_mode(), NN_PARALLEL_REPLICAS);
    r_restore();
    NNT_EQ_INT(nn_get_parallel_mode(), NN_PARALLEL_AUTO);
}

/* nn_predict on 3 replicas: 700 rows (233 + 233 + 234, each worker in
   blocks of up to 256 through its own scratch) against one thread, and
   a non-finite row reported as one thread reports it. */
NN_TEST(replicas_predict_matches_one_thread)
{
    enum { PB = 700 };
    static float xp[PB * R_IN], o1[PB * R_OUT], o3[PB * R_OUT];
    char msg1[256];
    nn_net *net = NULL;
    double worst = 0;
    size_t i;
    r_data();
    for (i = 0; i < PB * R_IN; i++)
        xp[i] = r_x[i % (R_B * R_IN)] * (1.0f + (float)(i % 7) / 7.0f);
    NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 11));
    r_threads(1);
    NNT_OK(nn_predict(net, xp, PB, o1));
    r_threads(3);
    memset(o3, 0xff, sizeof o3);   /* NaN: every row must be written */
    NNT_OK(nn_predict(net, xp, PB, o3));
    for (i = 0; i < PB * R_OUT; i++) {
        double d = fabs((double)o3[i] - o1[i]);
        NNT_LE(d, 1e-6);
        if (d > worst) worst = d;
    }
    xp[650 * R_IN + 2] = INFINITY;
    r_threads(1);
    NNT_STATUS(nn_predict(net, xp, PB, o1), NN_ERR_NONFINITE);
    snprintf(msg1, sizeof msg1, "%s", nn_last_error());
    r_threads(3);
    NNT_STATUS(nn_predict(net, xp, PB, o3), NN_ERR_NONFINITE);
    NNT_EQ_STR(nn_last_error(), msg1);
    printf("  predict, 700 rows on 3 replicas: max |difference| %.3g\n",
           worst);
    nn_net_destroy(net);
    r_restore();
}

/* The gradient block: get after a backward equals the per-layer gets;
   set checks first (shape, NaN: nothing changes), then the step uses the
   new block: an SGD step with a block of ones moves every parameter by
   exactly -lr. */
NN_TEST(grad_block_get_set)
{
    static float g[R_NP], w0[R_NP], w1[R_NP], one[R_NP];
    nn_net *net = NULL;
    size_t l, off = 0, i;
    r_data();
    r_threads(1);
    NNT_OK(nn_net_create(&net, R_L, r_sizes, r_acts, 21));
    NNT_EQ_SIZE(nn_net_num_params(net), R_NP);
    NNT_STATUS(nn_net_get_grad_block(net, g, R_NP), NN_ERR_STATE);
    NNT_OK(nn_forward(net, r_x, R_B, NULL));
    NNT_OK(nn_backward_labels(net, r_y, NULL));
    NNT_STATUS(nn_net_get_grad_block(net, g, R_NP - 1), NN_ERR_SHAPE);
    NNT_OK(nn_net_get_grad_block(net, g, R_NP));
    for (l = 0; l < R_L; l++) {
        size_t nw = r_sizes[l] * r_sizes[l + 1];
        float *dw = malloc((nw + r_sizes[l + 1]) * sizeof(float));
        NNT_TRUE(dw != NULL);
        NNT_OK(nn_net_get_grads(net, l, dw, dw + nw));
        NNT_TRUE(memcmp(dw, g + off, (nw + r_sizes[l + 1]) *
                                         sizeof(float)) == 0);
        NNT_OK(nn_net_get_params(net, l, w0 + off, w0 + off + nw));
        off += nw + r_sizes[l + 1];
        free(dw);
    }
    for (i = 0; i < R_NP; i++) one[i] = 1.0f;
    one[77] = NAN;
    NNT_STATUS(nn_net_set_grad_block(net, one, R_NP), NN_ERR_NONFINITE);
    NNT_MSG_HAS("src[77] is NaN");
    NNT_OK(nn_net_get_grad_block(net, w1, R_NP));
    NNT_TRUE(memcmp(w1, g, sizeof g) == 0);   /* unchanged */
    one[77] = 1.0f;
    NNT_OK(nn_net_set_grad_block(net, one, R_NP));
    NNT_OK(nn_sgd_step(net, 0.25f));
    for (l = 0, off = 0; l < R_L; l++) {
        size_t nw = r_sizes[l] * r_sizes[l + 1];
        NNT_OK(nn_net_get_params(net, l, w1 + off, w1 + off + nw));
        off += nw + r_sizes[l + 1];
    }
    for (i = 0; i < R_NP; i++)
        NNT_EQ_INT(nn__f32_bits(w1[i]), nn__f32_bits(w0[i] - 0.25f));
    nn_net_destroy(net);
    r_restore();
}

/* Two threads of the program train two nets at once under 2 replicas:
   their dispatches queue for the one pool, and each result has the bits
   of the same training run alone. */
struct r_job {
    uint64_t seed;
    float params[R_NP];
    int st;
};

static void *r_train_job(void *arg)
{
    struct r_job *j = arg;
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    size_t l, off = 0;
    int i;
    j->st = nn_net_create(&net, R_L, r_sizes, r_acts, j->seed);
    if (j->st == NN_OK) j->st = nn_optimizer_create(&opt, net, NN_OPT_ADAM);
    for (i = 0; i < 30 && j->st == NN_OK; i++) {
        j->st = nn_forward(net, r_x, R_B, NULL);
        if (j->st == NN_OK) j->st = nn_backward_labels(net, r_y, NULL);
        if (j->st == NN_OK) j->st = nn_optimizer_step(opt);
    }
    for (l = 0; l < R_L && j->st == NN_OK; l++) {
        size_t nw = r_sizes[l] * r_sizes[l + 1];
        j->st = nn_net_get_params(net, l, j->params + off,
                                  j->params + off + nw);
        off += nw + r_sizes[l + 1];
    }
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    return NULL;
}

NN_TEST(replicas_concurrent_callers_share_the_pool)
{
    static struct r_job alone[2], together[2];
    pthread_t th[2];
    int k;
    r_data();
    r_threads(2);
    for (k = 0; k < 2; k++) {
        alone[k].seed = together[k].seed = 60u + (uint64_t)k;
        r_train_job(&alone[k]);
        NNT_OK(alone[k].st);
    }
    for (k = 0; k < 2; k++)
        NNT_TRUE(pthread_create(&th[k], NULL, r_train_job, &together[k]) ==
                 0);
    for (k = 0; k < 2; k++) {
        pthread_join(th[k], NULL);
        NNT_OK(together[k].st);
        NNT_TRUE(memcmp(alone[k].params, together[k].params,
                        sizeof alone[k].params) == 0);
    }
    r_restore();
}

/* nn_idx_read_rows: a shard of an IDX file equals those rows of the whole
   read; rows outside the file are NN_ERR_SHAPE and write nothing. */
NN_TEST(idx_read_rows_is_a_shard_of_the_whole)
{
    static const unsigned char hdr[] = {0, 0, 8, 3, 0, 0, 0, 10,
                                        0, 0, 0, 2, 0, 0, 0, 3};
    unsigned char img[sizeof hdr + 60];
    float all[60], part[18], keep[18];
    char path[512];
    FILE *f;
    size_t i;
    memcpy(img, hdr, sizeof hdr);
    for (i = 0; i < 60; i++) img[sizeof hdr + i] = (unsigned char)(i * 4);
    snprintf(path, sizeof path, "%s/rows.idx", nnt_tmpdir());
    f = fopen(path, "wb");
    NNT_TRUE(f != NULL);
    NNT_EQ_SIZE(fwrite(img, 1, sizeof img, f), sizeof img);
    fclose(f);
    NNT_OK(nn_idx_read(path, all, 10, 6, NN_SCALE_UNIT));
    NNT_OK(nn_idx_read_rows(path, part, 4, 3, 10, 6, NN_SCALE_UNIT));
    NNT_TRUE(memcmp(part, all + 4 * 6, sizeof part) == 0);
    NNT_NEAR(part[0], 96.0 / 255.0, 1e-7);   /* byte 24 * 4 */
    memcpy(keep, part, sizeof part);
    NNT_STATUS(nn_idx_read_rows(path, part, 8, 3, 10, 6, NN_SCALE_UNIT),
               NN_ERR_SHAPE);
    NNT_MSG_HAS("rows [8, 8 + 3)");
    NNT_STATUS(nn_idx_read_rows(path, part, 0, 3, 11, 6, NN_SCALE_UNIT),
               NN_ERR_SHAPE);
    NNT_TRUE(memcmp(part, keep, sizeof part) == 0);
    NNT_OK(nn_idx_read_rows(path, NULL, 10, 0, 10, 6, NN_SCALE_NONE));
}

/* nn_idx_load_part: parts 0..P-1 of a file are the rows nn_mpi_shard's
   split gives, each equal to those rows of nn_idx_load's whole array and
   of a plain byte-to-float conversion; together they cover the file
   once.  10 rows in 1..4 and 12 parts (so some parts are empty), a plain
   file and, when present, Fashion-MNIST's gzip test images. */
NN_TEST(idx_load_part_is_the_shard_of_the_whole)
{
    static const unsigned char hdr[] = {0, 0, 8, 3, 0, 0, 0, 10,
                                        0, 0, 0, 2, 0, 0, 0, 3};
    static const char *const fashion =
        "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    unsigned char img[sizeof hdr + 60];
    const char *paths[2];
    char path[512];
    FILE *f;
    size_t i, parts, p, k;
    memcpy(img, hdr, sizeof hdr);
    for (i = 0; i < 60; i++) img[sizeof hdr + i] = (unsigned char)(i * 4);
    snprintf(path, sizeof path, "%s/part.idx", nnt_tmpdir());
    f = fopen(path, "wb");
    NNT_TRUE(f != NULL);
    NNT_EQ_SIZE(fwrite(img, 1, sizeof img, f), sizeof img);
    fclose(f);
    paths[0] = path;
    paths[1] = access(fashion, R_OK) == 0 ? fashion : NULL;
    for (k = 0; k < 2 && paths[k] != NULL; k++) {
        float *all = NULL;
        size_t n, s;
        NNT_OK(nn_idx_load(paths[k], NN_SCALE_SYMMETRIC, &all, &n, &s));
        for (parts = 1; parts <= 12; parts += parts < 4 ? 1 : 8) {
            size_t next = 0;
            for (p = 0; p < parts; p++) {
                float *x = NULL;
                size_t first, rows, c, w;
                NNT_OK(nn_idx_load_part(paths[k], NN_SCALE_SYMMETRIC, p,
                                        parts, &x, &first, &rows, &c, &w));
                NNT_TRUE(c == n && w == s && first == next);
                NNT_TRUE(rows == n / parts + (p < n % parts));
                NNT_TRUE(memcmp(x, all + first * s,
                                rows * s * sizeof(float)) == 0);
                if (k == 0 && rows > 0)   /* byte v -> (v - 127.5) / 127.5 */
                    NNT_NEAR(x[0], ((double)(first * 6 * 4) - 127.5) / 127.5,
                             1e-6);
                next = first + rows;
                nn_idx_free(x);
            }
            NNT_TRUE(next == n);
        }
        nn_idx_free(all);
    }
    if (paths[1] == NULL) printf("  (no Fashion-MNIST: plain file only)\n");
    {
        float *x = (float *)1;
        size_t a, b, c, d;
        NNT_STATUS(nn_idx_load_part(path, NN_SCALE_UNIT, 3, 3, &x, &a, &b,
                                    &c, &d), NN_ERR_INVALID_ARG);
        NNT_TRUE(x == NULL);
        NNT_MSG_HAS("part 3 of 3");
        NNT_STATUS(nn_idx_load_part(path, NN_SCALE_UNIT, 0, 0, &x, &a, &b,
                                    &c, &d), NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_idx_load_part(path, 7, 0, 1, &x, &a, &b, &c, &d),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_idx_load_part("/nonexistent/x.idx", NN_SCALE_UNIT, 0,
                                    1, &x, &a, &b, &c, &d), NN_ERR_IO);
    }
}
