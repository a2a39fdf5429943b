/*
 * test_trainer_sync.c - data-parallel fits (nn_trainer_set_sync) without
 * MPI: R replicas in R threads of this process, joined by a sync function
 * over shared memory (a barrier, sums in rank order), against one plain
 * fit of all the rows.  The MPI layer (libnnfs_mpi) is tested under
 * mpirun in tests/mpi; this checks the trainer's side of the contract:
 * the step plan (ceil(N / B) steps, ceil(n / steps) rows a replica), the
 * weighted mean gradient, the metrics over all rows, agreed failures and
 * stops, and the check that the replicas' fits are alike.
 */
#include "internal.h"
#include "nntest.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RMAX 4
#define NPMAX 4096

/* The replicas' meeting place: each writes its slot, then all read. */
struct meet {
    pthread_barrier_t bar;
    int size;
    double vals[RMAX][16];
    int status[RMAX];
    char msg[RMAX][1024];
    float grads[RMAX][NPMAX];
    double rows[RMAX];
};

struct replica {
    struct meet *m;
    int rank;
    nn_net *net;
    nn_optimizer *opt;
    nn_trainer *tr;
    const float *x, *vx;
    const int32_t *y, *vy;
    size_t n, vn;
    int st, stop_at;          /* stop_at: the callback says stop there */
    char err[1024];
    double losses[64], vloss, vacc;
    size_t n_losses;
};

/* lowest failing rank's status and message into st / msg; 0 if none */
static int meet_agree(struct meet *m, int32_t *st, char *msg, size_t cap)
{
    int r;
    for (r = 0; r < m->size; r++)
        if (m->status[r] != NN_OK) {
            *st = m->status[r];
            snprintf(msg, cap, "rank %d: %s", r, m->msg[r]);
            return 1;
        }
    return 0;
}

static int sync_fn(void *user, int32_t op, nn_net *net, double *values,
                   size_t n, int32_t status, char *msg, size_t msg_size)
{
    struct replica *me = user;
    struct meet *m = me->m;
    int r = me->rank, q, failed;
    size_t np = nn_net_num_params(net), j;
    int32_t st = NN_OK;
    m->status[r] = status;
    snprintf(m->msg[r], sizeof m->msg[r], "%s", status ? msg : "");
    if (op == NN_SYNC_SUM) {
        memcpy(m->vals[r], values, n * sizeof(double));
    } else {
        m->rows[r] = values[0];
        if (values[0] > 0 && status == NN_OK)
            m->status[r] = nn_net_get_grad_block(net, m->grads[r], np);
    }
    pthread_barrier_wait(&m->bar);
    failed = meet_agree(m, &st, msg, msg_size);
    if (!failed && op == NN_SYNC_SUM) {
        for (j = 0; j < n; j++) {
            double s = 0;
            for (q = 0; q < m->size; q++) s += m->vals[q][j];
            values[j] = s;
        }
    }
    if (!failed && op == NN_SYNC_GRADS) {
        static float mean[RMAX][NPMAX];
        double total = 0;
        for (q = 0; q < m->size; q++) total += m->rows[q];
        values[0] = total;
        if (total == 0) {
            pthread_barrier_wait(&m->bar);
            return NN_OK;
        }
        for (j = 0; j < np; j++) {
            double s = 0;
            for (q = 0; q < m->size; q++)
                if (m->rows[q] > 0) s += m->rows[q] * m->grads[q][j];
            mean[r][j] = (float)(s / total);
        }
        pthread_barrier_wait(&m->bar);   /* all have read the grads */
        st = nn_net_set_grad_block(net, mean[r], np);
    } else {
        pthread_barrier_wait(&m->bar);
    }
    return st;
}

static int on_epoch(void *user, const nn_trainer *tr, int32_t event)
{
    struct replica *me = user;
    double l, e;
    if (event != NN_EVENT_EPOCH) return 0;
    nn_trainer_metric(tr, NN_METRIC_LOSS, &l);
    nn_trainer_metric(tr, NN_METRIC_EPOCH, &e);
    if (me->n_losses < 64) me->losses[me->n_losses++] = l;
    return me->stop_at != 0 && (int)e == me->stop_at;
}

static void *run_replica(void *arg)
{
    struct replica *me = arg;
    me->st = nn_trainer_fit(me->tr, me->x, NULL, me->y, me->n, me->vx, NULL,
                            me->vy, me->vn);
    snprintf(me->err, sizeof me->err, "%s", nn_last_error());
    nn_trainer_metric(me->tr, NN_METRIC_VAL_LOSS, &me->vloss);
    nn_trainer_metric(me->tr, NN_METRIC_VAL_ACCURACY, &me->vacc);
    return NULL;
}

/* three Gaussian blobs in 4 dimensions, deterministic */
static void blobs(float *x, int32_t *y, size_t n, uint64_t seed)
{
    struct nn__rng g;
    size_t i, j;
    nn__rng_seed(&g, seed);
    for (i = 0; i < n; i++) {
        y[i] = (int32_t)(i % 3);
        for (j = 0; j < 4; j++)
            x[i * 4 + j] = (float)(nn__rng_gauss(&g) +
                                   (j == (size_t)y[i] ? 2.0 : 0.0));
    }
}

struct setup {
    size_t batch, epochs;
    int shuffle;
};

static void make(nn_net **net, nn_optimizer **opt, nn_trainer **tr,
                 const struct setup *s)
{
    size_t sizes[3] = {4, 16, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    NNT_OK(nn_net_create(net, 2, sizes, acts, 42));
    NNT_OK(nn_optimizer_create(opt, *net, NN_OPT_ADAM));
    NNT_OK(nn_optimizer_set(*opt, NN_OPT_LEARNING_RATE, 0.01));
    NNT_OK(nn_trainer_create(tr, *net, *opt));
    NNT_OK(nn_trainer_set(*tr, NN_TRAIN_BATCH_SIZE, (double)s->batch));
    NNT_OK(nn_trainer_set(*tr, NN_TRAIN_EPOCHS, (double)s->epochs));
    NNT_OK(nn_trainer_set(*tr, NN_TRAIN_SHUFFLE, s->shuffle));
}

/* R replicas on the row blocks x[off[r] .. off[r + 1]) */
static void run_replicas(struct replica *rep, int R, const struct setup *s,
                         const float *x, const int32_t *y, const size_t *off,
                         const float *vx, const int32_t *vy,
                         const size_t *voff)
{
    static struct meet m;
    static int inited;
    int r;
    if (inited) pthread_barrier_destroy(&m.bar);
    inited = 1;
    memset(&m, 0, sizeof m);
    m.size = R;
    pthread_barrier_init(&m.bar, NULL, (unsigned)R);
    for (r = 0; r < R; r++) {
        memset(&rep[r], 0, sizeof rep[r]);
        rep[r].m = &m;
        rep[r].rank = r;
        make(&rep[r].net, &rep[r].opt, &rep[r].tr, s);
        NNT_OK(nn_trainer_set_sync(rep[r].tr, r, R, sync_fn, &rep[r]));
        NNT_OK(nn_trainer_set_callback(rep[r].tr, on_epoch, &rep[r]));
        rep[r].x = x + off[r] * 4;
        rep[r].y = y + off[r];
        rep[r].n = off[r + 1] - off[r];
        if (vx != NULL) {
            rep[r].vx = vx + voff[r] * 4;
            rep[r].vy = vy + voff[r];
            rep[r].vn = voff[r + 1] - voff[r];
        }
    }
}

static void start_join(struct replica *rep, int R)
{
    pthread_t th[RMAX];
    int r;
    for (r = 0; r < R; r++)
        pthread_create(&th[r], NULL, run_replica, &rep[r]);
    for (r = 0; r < R; r++) pthread_join(th[r], NULL);
}

static void free_replicas(struct replica *rep, int R)
{
    int r;
    for (r = 0; r < R; r++) {
        nn_trainer_destroy(rep[r].tr);
        nn_optimizer_destroy(rep[r].opt);
        nn_net_destroy(rep[r].net);
    }
}

/* largest |a - b| / max(1, |b|) over all parameters */
static double param_diff(const nn_net *a, const nn_net *b)
{
    static float ga[NPMAX], gb[NPMAX];
    double d = 0;
    size_t l, off = 0, j;
    for (l = 0; l < nn_net_num_layers(a); l++) {
        size_t nw = nn_net_layer_inputs(a, l) * nn_net_layer_outputs(a, l);
        nn_net_get_params(a, l, ga + off, ga + off + nw);
        nn_net_get_params(b, l, gb + off, gb + off + nw);
        off += nw + nn_net_layer_outputs(a, l);
    }
    for (j = 0; j < off; j++) {
        double e = fabs((double)ga[j] - gb[j]) / fmax(1.0, fabs(gb[j]));
        if (e > d) d = e;
    }
    return d;
}

/* One plain fit of x (n rows), its epoch losses in *ref. */
static void plain_fit(const struct setup *s, const float *x,
                      const int32_t *y, size_t n, const float *vx,
                      const int32_t *vy, size_t vn, struct replica *ref)
{
    memset(ref, 0, sizeof *ref);
    make(&ref->net, &ref->opt, &ref->tr, s);
    NNT_OK(nn_trainer_set_callback(ref->tr, on_epoch, ref));
    ref->x = x; ref->y = y; ref->n = n;
    ref->vx = vx; ref->vy = vy; ref->vn = vn;
    run_replica(ref);
    NNT_OK(ref->st);
}

/* The loss curves within 1e-5 relative and the parameters within 1e-4
   (relative, at least 1): the replicas' mean gradient differs from the
   single fit's by float rounding only (each block's mean is rescaled by
   its rows, then summed: a few ulps of the gradient), which Adam's
   normalised steps carry into the parameters at about lr x 1e-6 per step
   and the loss at about the same relative size. */
static void compare(struct replica *rep, int R, const struct replica *ref,
                    const char *what)
{
    double worst = 0, pd = 0;
    size_t e;
    int r;
    for (r = 0; r < R; r++) {
        NNT_OK(rep[r].st);
        NNT_EQ_SIZE(rep[r].n_losses, ref->n_losses);
        for (e = 0; e < ref->n_losses; e++) {
            double d = fabs(rep[r].losses[e] - ref->losses[e]) /
                       fabs(ref->losses[e]);
            if (d > worst) worst = d;
            /* every replica sees the same metrics, bit for bit */
            NNT_TRUE(rep[r].losses[e] == rep[0].losses[e]);
        }
        pd = fmax(pd, param_diff(rep[r].net, ref->net));
        NNT_TRUE(param_diff(rep[r].net, rep[0].net) == 0);
    }
    printf("  %s: %d replicas vs one fit: loss curve max rel diff %.2e, "
           "parameters %.2e\n", what, R, worst, pd);
    NNT_LE(worst, 1e-5);
    NNT_LE(pd, 1e-4);
}

NN_TEST(trainer_sync_full_batch_uneven_equals_one_fit)
{
    /* 128 rows on 3 replicas (43, 43, 42), full batch, 60 Adam epochs,
       validation 90 rows split 30/30/30 */
    enum { N = 128, V = 90 };
    static float x[N * 4], vx[V * 4];
    static int32_t y[N], vy[V];
    size_t off[4], voff[4];
    struct replica rep[3], ref;
    struct setup s = {0, 60, 0};
    int r;
    blobs(x, y, N, 1);
    blobs(vx, vy, V, 2);
    for (r = 0; r <= 3; r++) {
        off[r] = (size_t)r * N / 3 + (r > 0);   /* 0, 43, 86, 128 */
        voff[r] = (size_t)r * 30;
    }
    off[3] = N;
    plain_fit(&s, x, y, N, vx, vy, V, &ref);
    run_replicas(rep, 3, &s, x, y, off, vx, vy, voff);
    start_join(rep, 3);
    compare(rep, 3, &ref, "full batch, 43/43/42 rows");
    for (r = 0; r < 3; r++) {
        NNT_NEAR(rep[r].vloss, ref.vloss, 1e-5 * fabs(ref.vloss));
        NNT_NEAR(rep[r].vacc, ref.vacc, 1e-12);
    }
    free_replicas(rep, 3);
    nn_trainer_destroy(ref.tr);
    nn_optimizer_destroy(ref.opt);
    nn_net_destroy(ref.net);
}

NN_TEST(trainer_sync_minibatches_equal_one_fit)
{
    /* 192 rows on 3 replicas of 64, global batch 48: 4 steps an epoch,
       16 rows a replica a step.  The single fit's x is arranged so that
       its batch s is replica 0's block s, then replica 1's, then 2's. */
    enum { N = 192, R = 3, B = 48, P = 16 };
    static float x[N * 4], xs[N * 4];
    static int32_t y[N], ys[N];
    size_t off[4] = {0, 64, 128, 192}, s, i;
    struct replica rep[R], ref;
    struct setup st = {B, 25, 0};
    int r;
    blobs(x, y, N, 3);
    for (s = 0; s < 4; s++)
        for (r = 0; r < R; r++)
            for (i = 0; i < P; i++) {
                size_t from = off[r] + s * P + i,
                       to = s * B + (size_t)r * P + i;
                memcpy(xs + to * 4, x + from * 4, 4 * sizeof(float));
                ys[to] = y[from];
            }
    plain_fit(&st, xs, ys, N, NULL, NULL, 0, &ref);
    run_replicas(rep, R, &st, x, y, off, NULL, NULL, NULL);
    start_join(rep, R);
    compare(rep, R, &ref, "batches of 48 as 3 x 16");
    free_replicas(rep, R);
    nn_trainer_destroy(ref.tr);
    nn_optimizer_destroy(ref.opt);
    nn_net_destroy(ref.net);
}

NN_TEST(trainer_sync_failure_and_stop_reach_every_replica)
{
    enum { N = 90 };
    static float x[N * 4], x0[N * 4];
    static int32_t y[N];
    size_t off[4] = {0, 30, 60, 90};
    struct replica rep[3];
    struct setup s = {10, 5, 1};
    float w[64], b[16], w0[64], b0[16];
    int r;
    blobs(x, y, N, 4);
    memcpy(x0, x, sizeof x);

    /* a NaN in replica 1's rows: every replica fails with its message,
       before any step (the nets keep their parameters) */
    x[35 * 4 + 2] = NAN;
    run_replicas(rep, 3, &s, x, y, off, NULL, NULL, NULL);
    NNT_OK(nn_net_get_params(rep[0].net, 0, w0, b0));
    start_join(rep, 3);
    for (r = 0; r < 3; r++) {
        NNT_EQ_INT(rep[r].st, NN_ERR_NONFINITE);
        NNT_TRUE(strncmp(rep[r].err, "rank 1: ", 8) == 0);
        NNT_TRUE(strstr(rep[r].err, "not finite") != NULL);
        NNT_OK(nn_net_get_params(rep[r].net, 0, w, b));
        NNT_TRUE(memcmp(w, w0, sizeof(float) * 64) == 0);
    }
    printf("  NaN on replica 1: every replica: %s\n", rep[2].err);
    free_replicas(rep, 3);

    /* fits that differ (replica 2 runs 6 epochs): refused on all */
    run_replicas(rep, 3, &s, x0, y, off, NULL, NULL, NULL);
    NNT_OK(nn_trainer_set(rep[2].tr, NN_TRAIN_EPOCHS, 6));
    start_join(rep, 3);
    for (r = 0; r < 3; r++) {
        NNT_EQ_INT(rep[r].st, NN_ERR_INVALID_ARG);
        NNT_TRUE(strstr(rep[r].err, "replicas' fits differ") != NULL);
    }
    free_replicas(rep, 3);

    /* replica 2's callback stops after epoch 2: all stop there */
    run_replicas(rep, 3, &s, x0, y, off, NULL, NULL, NULL);
    rep[2].stop_at = 2;
    start_join(rep, 3);
    for (r = 0; r < 3; r++) {
        double stopped = 0, e = 0;
        if (rep[r].st != NN_OK) printf("  replica %d: %s\n", r, rep[r].err);
        NNT_OK(rep[r].st);
        NNT_OK(nn_trainer_metric(rep[r].tr, NN_METRIC_STOPPED, &stopped));
        NNT_OK(nn_trainer_metric(rep[r].tr, NN_METRIC_EPOCH, &e));
        NNT_TRUE(stopped == 1 && e == 2);
        NNT_TRUE(param_diff(rep[r].net, rep[0].net) == 0);
    }
    free_replicas(rep, 3);
}

NN_TEST(trainer_first_epoch_resumes_an_uninterrupted_fit)
{
    /* 5 shuffled epochs in one fit = 2 epochs, then 3 more numbered from
       3 (NN_TRAIN_FIRST_EPOCH) on the same net and optimizer: the same
       row orders, so the same parameters bit for bit */
    enum { N = 100 };
    static float x[N * 4];
    static int32_t y[N];
    struct setup five = {16, 5, 1}, two = {16, 2, 1};
    nn_net *a, *b;
    nn_optimizer *oa, *ob;
    nn_trainer *ta, *tb;
    double e;
    blobs(x, y, N, 5);
    make(&a, &oa, &ta, &five);
    make(&b, &ob, &tb, &two);
    NNT_OK(nn_trainer_fit(ta, x, NULL, y, N, NULL, NULL, NULL, 0));
    NNT_OK(nn_trainer_fit(tb, x, NULL, y, N, NULL, NULL, NULL, 0));
    NNT_TRUE(param_diff(a, b) > 0);
    NNT_OK(nn_trainer_set(tb, NN_TRAIN_EPOCHS, 3));
    NNT_OK(nn_trainer_set(tb, NN_TRAIN_FIRST_EPOCH, 3));
    NNT_OK(nn_trainer_fit(tb, x, NULL, y, N, NULL, NULL, NULL, 0));
    NNT_TRUE(param_diff(a, b) == 0);
    NNT_OK(nn_trainer_metric(tb, NN_METRIC_EPOCH, &e));
    NNT_TRUE(e == 5);
    NNT_STATUS(nn_trainer_set_sync(tb, 0, 0, NULL, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_set_sync(tb, 2, 2, sync_fn, NULL),
               NN_ERR_INVALID_ARG);
    nn_trainer_destroy(ta);
    nn_optimizer_destroy(oa);
    nn_net_destroy(a);
    nn_trainer_destroy(tb);
    nn_optimizer_destroy(ob);
    nn_net_destroy(b);
}

NN_TEST(trainer_sync_steps_without_rows_make_no_update)
{
    /* 4 rows on 2 replicas, global batch 1: 4 steps an epoch, but each
       replica's 2 rows are used up in the first 2; the last 2 steps have
       no rows anywhere and make no update (2 optimizer steps an epoch) */
    static float x[4 * 4];
    static int32_t y[4];
    size_t off[3] = {0, 2, 4};
    struct replica rep[2];
    struct setup s = {1, 3, 0};
    double it, spe;
    int r;
    blobs(x, y, 4, 6);
    run_replicas(rep, 2, &s, x, y, off, NULL, NULL, NULL);
    start_join(rep, 2);
    for (r = 0; r < 2; r++) {
        NNT_OK(rep[r].st);
        NNT_OK(nn_optimizer_get(rep[r].opt, NN_OPT_ITERATIONS, &it));
        NNT_OK(nn_trainer_metric(rep[r].tr, NN_METRIC_STEPS_PER_EPOCH, &spe));
        NNT_TRUE(it == 6 && spe == 4);
        NNT_TRUE(isfinite(rep[r].losses[2]));
    }
    free_replicas(rep, 2);
}
