/*
 * test_trainer.c - nn_trainer against references the test computes
 * itself: the callback's event sequence and counts, early stop, the
 * metrics (loss, accuracy of every kind, validation) vs a double forward
 * pass (mlp64.h) and the course's accuracy definitions, and a fit equal
 * to the hand-written nn_forward / nn_backward / nn_optimizer_step loop.
 */
#include "internal.h"
#include "nntest.h"
#include "mlp64.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static uint64_t tr_state;
static double tr_uniform(void)
{
    uint64_t z = (tr_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static nn_net *mk_net(size_t n_layers, const size_t *sizes,
                      const int32_t *acts, uint64_t seed)
{
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, n_layers, sizes, acts, seed));
    return net;
}

static nn_optimizer *mk_opt(nn_net *net, int32_t kind, double lr,
                            double decay)
{
    nn_optimizer *opt = NULL;
    NNT_OK(nn_optimizer_create(&opt, net, kind));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, lr));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_DECAY, decay));
    return opt;
}

static nn_trainer *mk_trainer(nn_net *net, nn_optimizer *opt)
{
    nn_trainer *tr = NULL;
    NNT_OK(nn_trainer_create(&tr, net, opt));
    return tr;
}

/* 1 if every parameter of a and b is the same bit pattern */
static int same_params(const nn_net *a, const nn_net *b)
{
    float wa[512], ba[64], wb[512], bb[64];
    size_t i;
    for (i = 0; i < nn_net_num_layers(a); i++) {
        size_t nw = nn_net_layer_inputs(a, i) * nn_net_layer_outputs(a, i);
        size_t nb = nn_net_layer_outputs(a, i);
        if (nn_net_get_params(a, i, wa, ba) != NN_OK ||
            nn_net_get_params(b, i, wb, bb) != NN_OK)
            return 0;
        if (memcmp(wa, wb, nw * sizeof(float)) != 0 ||
            memcmp(ba, bb, nb * sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

static double max_param_diff(const nn_net *a, const nn_net *b)
{
    float wa[512], ba[64], wb[512], bb[64];
    double m = 0;
    size_t i, j;
    for (i = 0; i < nn_net_num_layers(a); i++) {
        size_t nw = nn_net_layer_inputs(a, i) * nn_net_layer_outputs(a, i);
        size_t nb = nn_net_layer_outputs(a, i);
        NNT_OK(nn_net_get_params(a, i, wa, ba));
        NNT_OK(nn_net_get_params(b, i, wb, bb));
        for (j = 0; j < nw; j++) m = fmax(m, fabs((double)wa[j] - wb[j]));
        for (j = 0; j < nb; j++) m = fmax(m, fabs((double)ba[j] - bb[j]));
    }
    return m;
}

/* classification data: n points in [-1, 1]^2, label = quadrant-ish */
static void class_data(float *x, int32_t *y, size_t n, size_t classes)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double a = 2 * tr_uniform() - 1, b = 2 * tr_uniform() - 1;
        x[2 * i] = (float)a;
        x[2 * i + 1] = (float)b;
        y[i] = (int32_t)((size_t)((atan2(b, a) + M_PI) / (2 * M_PI) *
                                  (double)classes) % classes);
    }
}

/*====== Events ======*/

struct ev { int32_t event; double epoch, step, spe, lr, reg, loss, it; };
struct evlog {
    struct ev e[64];
    size_t n;
    nn_optimizer *opt;
    nn_net *net;
    int stop_at;          /* stop when the n-th callback (1-based) runs */
    int reentry_status;   /* nn_trainer_fit from the callback */
    int set_status;       /* nn_trainer_set from the callback */
};

static int log_cb(void *user, const nn_trainer *tr, int32_t event)
{
    struct evlog *L = user;
    struct ev *e = &L->e[L->n < 64 ? L->n : 63];
    float reg = 0;
    L->n++;
    e->event = event;
    nn_trainer_metric(tr, NN_METRIC_EPOCH, &e->epoch);
    nn_trainer_metric(tr, NN_METRIC_STEP, &e->step);
    nn_trainer_metric(tr, NN_METRIC_STEPS_PER_EPOCH, &e->spe);
    nn_trainer_metric(tr, NN_METRIC_LEARNING_RATE, &e->lr);
    nn_trainer_metric(tr, NN_METRIC_REG_LOSS, &e->reg);
    nn_trainer_metric(tr, NN_METRIC_LOSS, &e->loss);
    nn_optimizer_get(L->opt, NN_OPT_ITERATIONS, &e->it);
    /* what the callback sees must be the optimizer's and the net's */
    nn_net_regularization_loss(L->net, &reg);
    if (e->reg != (double)reg) e->reg = -1;
    if (L->n == 1) {
        float x[2] = {0, 0};
        int32_t y = 0;
        L->reentry_status = nn_trainer_fit((nn_trainer *)(uintptr_t)tr, x,
                                           NULL, &y, 1, NULL, NULL, NULL, 0);
        L->set_status = nn_trainer_set((nn_trainer *)(uintptr_t)tr,
                                       NN_TRAIN_EPOCHS, 5);
    }
    return L->stop_at > 0 && (int)L->n == L->stop_at;
}

NN_TEST(trainer_events_and_counts)
{
    enum { N = 100 };
    static float x[N * 2];
    static int32_t y[N];
    size_t sizes[3] = {2, 8, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    /* (batch, report_every, epochs) -> steps per epoch */
    static const struct { double bs, every, epochs; size_t spe; } cases[] = {
        {32, 2, 3, 4}, {32, 3, 3, 4}, {33, 0, 2, 4}, {0, 1, 2, 1},
        {100, 0, 3, 1}, {1000, 2, 4, 1}, {1, 50, 1, 100}, {50, 1, 2, 2}};
    size_t c;
    tr_state = 1;
    class_data(x, y, N, 3);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        nn_net *net = mk_net(2, sizes, acts, 3);
        nn_optimizer *opt = mk_opt(net, NN_OPT_ADAM, 0.01, 0.1);
        nn_trainer *tr = mk_trainer(net, opt);
        struct evlog L;
        size_t spe = cases[c].spe, epochs = (size_t)cases[c].epochs;
        size_t every = (size_t)cases[c].every, k = 0, e, s;
        double v;
        memset(&L, 0, sizeof L);
        L.opt = opt;
        L.net = net;
        NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 1e-3));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, cases[c].bs));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_REPORT_EVERY, cases[c].every));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, cases[c].epochs));
        NNT_OK(nn_trainer_set_callback(tr, log_cb, &L));
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0));
        /* the expected sequence: a step event every `every` steps, an
           epoch event after each epoch's last step */
        for (e = 1; e <= epochs; e++) {
            for (s = 1; s <= spe; s++) {
                size_t step = (e - 1) * spe + s;
                if (every && step % every == 0) {
                    NNT_TRUE(k < L.n);
                    NNT_EQ_INT(L.e[k].event, NN_EVENT_STEP);
                    NNT_EQ_SIZE((size_t)L.e[k].epoch, e);
                    NNT_EQ_SIZE((size_t)L.e[k].step, step);
                    k++;
                }
            }
            NNT_TRUE(k < L.n);
            NNT_EQ_INT(L.e[k].event, NN_EVENT_EPOCH);
            NNT_EQ_SIZE((size_t)L.e[k].epoch, e);
            NNT_EQ_SIZE((size_t)L.e[k].step, e * spe);
            k++;
        }
        NNT_EQ_SIZE(L.n, k);
        for (k = 0; k < L.n && k < 64; k++) {
            const struct ev *q = &L.e[k];
            NNT_EQ_SIZE((size_t)q->spe, spe);
            /* the optimizer has taken exactly `step` steps, and the
               learning rate is the course's lr / (1 + decay * it) */
            NNT_EQ_U64(q->it == q->step, 1);
            NNT_NEAR(q->lr, 0.01 / (1 + 0.1 * q->step), 1e-15);
            NNT_TRUE(q->reg > 0);   /* -1 if it differed from the net's */
            NNT_TRUE(isfinite(q->loss) && q->loss > 0);
        }
        /* the callback could neither re-enter the fit nor change it */
        NNT_EQ_INT(L.reentry_status, NN_ERR_STATE);
        NNT_EQ_INT(L.set_status, NN_ERR_STATE);
        NNT_OK(nn_trainer_get(tr, NN_TRAIN_EPOCHS, &v));
        NNT_EQ_U64(v == cases[c].epochs, 1);
        /* after the fit */
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_STEP, &v));
        NNT_EQ_SIZE((size_t)v, epochs * spe);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_EPOCH, &v));
        NNT_EQ_SIZE((size_t)v, epochs);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_STOPPED, &v));
        NNT_EQ_U64(v == 0, 1);
        NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &v));
        NNT_EQ_SIZE((size_t)v, epochs * spe);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_SECONDS, &v));
        NNT_TRUE(v >= 0 && v < 60);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &v));
        NNT_TRUE(isnan(v));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &v));
        NNT_TRUE(isnan(v));
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

NN_TEST(trainer_early_stop)
{
    enum { N = 100 };
    static float x[N * 2];
    static int32_t y[N];
    size_t sizes[3] = {2, 8, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    int pass;
    tr_state = 2;
    class_data(x, y, N, 3);
    for (pass = 0; pass < 2; pass++) {
        nn_net *net = mk_net(2, sizes, acts, 3);
        nn_optimizer *opt = mk_opt(net, NN_OPT_SGD, 0.1, 0);
        nn_trainer *tr = mk_trainer(net, opt);
        struct evlog L;
        double v;
        memset(&L, 0, sizeof L);
        L.opt = opt;
        L.net = net;
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 25));   /* 4 steps */
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 10));
        if (pass == 0) {
            L.stop_at = 2;   /* the second epoch event */
        } else {
            NNT_OK(nn_trainer_set(tr, NN_TRAIN_REPORT_EVERY, 1));
            L.stop_at = 6;   /* steps 1-4, epoch 1, step 5 */
        }
        NNT_OK(nn_trainer_set_callback(tr, log_cb, &L));
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0));
        NNT_EQ_SIZE(L.n, (size_t)L.stop_at);   /* no callback after it */
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_STOPPED, &v));
        NNT_EQ_U64(v == 1, 1);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_EPOCH, &v));
        NNT_EQ_U64(v == 2, 1);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_STEP, &v));
        NNT_EQ_U64(v == (pass == 0 ? 8 : 5), 1);
        NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &v));
        NNT_EQ_U64(v == (pass == 0 ? 8 : 5), 1);
        /* a new fit starts over: metrics reset, STOPPED back to 0 */
        NNT_OK(nn_trainer_set_callback(tr, NULL, NULL));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 1));
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_STOPPED, &v));
        NNT_EQ_U64(v == 0, 1);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_STEP, &v));
        NNT_EQ_U64(v == 4, 1);
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

/*====== Metrics vs references ======*/

/* One full-batch epoch without shuffling: the epoch's loss and accuracy
   are those of the forward before the single update, i.e. of the initial
   parameters, which the test evaluates in double. */
struct acc_case {
    const char *name;
    size_t sizes[3];
    int32_t acts[2];
    int32_t loss;        /* -1: labels */
    int32_t accuracy;    /* -2: leave the default */
    double precision;    /* 0: default; < 0: -precision * P0 */
};

static const struct acc_case acc_cases[] = {
    {"labels, categorical", {2, 12, 4}, {NN_ACT_TANH, NN_ACT_SOFTMAX}, -1, -2, 0},
    {"one-hot CCE, categorical", {2, 12, 4}, {NN_ACT_TANH, NN_ACT_SOFTMAX}, NN_LOSS_CCE, -2, 0},
    {"soft CCE, categorical", {2, 12, 4}, {NN_ACT_TANH, NN_ACT_SOFTMAX}, NN_LOSS_CCE, NN_ACCURACY_CATEGORICAL, 0},
    {"BCE, binary", {2, 12, 3}, {NN_ACT_TANH, NN_ACT_SIGMOID}, NN_LOSS_BCE, -2, 0},
    {"MSE, binary chosen", {2, 12, 3}, {NN_ACT_TANH, NN_ACT_SIGMOID}, NN_LOSS_MSE, NN_ACCURACY_BINARY, 0},
    {"MSE, regression std/250", {2, 12, 2}, {NN_ACT_TANH, NN_ACT_LINEAR}, NN_LOSS_MSE, -2, 0},
    {"MAE, regression std/250", {2, 12, 2}, {NN_ACT_TANH, NN_ACT_LINEAR}, NN_LOSS_MAE, -2, 0},
    {"MSE, regression 3 P0", {2, 12, 2}, {NN_ACT_TANH, NN_ACT_LINEAR}, NN_LOSS_MSE, NN_ACCURACY_REGRESSION, -3},
    {"MSE, accuracy none", {2, 12, 2}, {NN_ACT_TANH, NN_ACT_LINEAR}, NN_LOSS_MSE, NN_ACCURACY_NONE, 0},
};

NN_TEST(trainer_accuracy_modes_vs_reference)
{
    enum { N = 300 };
    static float x[N * 2], t[N * 4];
    static int32_t y[N];
    static double o[N * 4];
    size_t c, i, j;
    for (c = 0; c < sizeof acc_cases / sizeof acc_cases[0]; c++) {
        const struct acc_case *k = &acc_cases[c];
        size_t no = k->sizes[2], hits = 0, units = 0;
        nn_net *net = mk_net(2, k->sizes, k->acts, 40 + c);
        nn_optimizer *opt = mk_opt(net, NN_OPT_SGD, 0.1, 0);
        nn_trainer *tr = mk_trainer(net, opt);
        struct m64 m;
        double loss_ref, acc_ref, v, prec = 0, p0 = 0, mean = 0, var = 0;
        double ambiguous = 0;
        int32_t lossk = k->loss < 0 ? NN_LOSS_CCE : k->loss;
        tr_state = 100 + c;
        class_data(x, y, N, no);
        NNT_TRUE(m64_from_net(&m, net) == 0);
        NNT_TRUE(m64_forward(&m, x, N, o) == 0);
        /* targets */
        for (i = 0; i < N; i++)
            for (j = 0; j < no; j++) {
                float *tt = &t[i * no + j];
                if (k->loss == NN_LOSS_CCE && k->accuracy == -2)
                    *tt = (int32_t)j == y[i] ? 1.0f : 0.0f;
                else if (k->loss == NN_LOSS_CCE)   /* soft, argmax = y */
                    *tt = (int32_t)j == y[i] ? 0.55f : 0.45f / (float)(no - 1);
                else if (k->acts[1] == NN_ACT_SIGMOID)
                    *tt = (float)((i + j) % 2);
            }
        if (k->acts[1] == NN_ACT_LINEAR) {
            /* targets near the outputs: a third within 0.1 P0, the rest
               2 P0 away, P0 = std(outputs) / 250 */
            double om = 0, ov = 0;
            for (i = 0; i < N * no; i++) om += o[i];
            om /= (double)(N * no);
            for (i = 0; i < N * no; i++) ov += (o[i] - om) * (o[i] - om);
            p0 = sqrt(ov / (double)(N * no)) / 250;
            for (i = 0; i < N * no; i++)
                t[i] = (float)(o[i] + (i % 3 == 0 ? 0.1 : 2.0) * p0 *
                               (i % 2 ? 1 : -1));
            for (i = 0; i < N * no; i++) mean += t[i];
            mean /= (double)(N * no);
            for (i = 0; i < N * no; i++) var += (t[i] - mean) * (t[i] - mean);
            prec = k->precision < 0 ? -k->precision * p0
                                    : sqrt(var / (double)(N * no)) / 250;
        }
        loss_ref = m64_loss(lossk, o, k->loss < 0 ? NULL : t, y, N, no);
        /* the course's accuracies */
        {
            int32_t kind = k->accuracy != -2 ? k->accuracy
                           : k->loss < 0 || k->loss == NN_LOSS_CCE
                                 ? NN_ACCURACY_CATEGORICAL
                           : k->loss == NN_LOSS_BCE ? NN_ACCURACY_BINARY
                                                    : NN_ACCURACY_REGRESSION;
            for (i = 0; i < N; i++) {
                const double *oi = o + i * no;
                if (kind == NN_ACCURACY_CATEGORICAL) {
                    size_t a = m64_argmax(oi, no), want = (size_t)y[i];
                    double second = -1;
                    for (j = 0; j < no; j++)
                        if (j != a && oi[j] > second) second = oi[j];
                    ambiguous += oi[a] - second < 1e-5;
                    hits += a == want;
                    units++;
                } else if (kind == NN_ACCURACY_BINARY) {
                    for (j = 0; j < no; j++) {
                        ambiguous += fabs(oi[j] - 0.5) < 1e-5;
                        hits += (oi[j] > 0.5) == (t[i * no + j] > 0.5);
                        units++;
                    }
                } else if (kind == NN_ACCURACY_REGRESSION) {
                    for (j = 0; j < no; j++) {
                        double d = fabs(oi[j] - t[i * no + j]);
                        ambiguous += fabs(d - prec) < 1e-3 * prec;
                        hits += d < prec;
                        units++;
                    }
                }
            }
            acc_ref = units ? (double)hits / (double)units : NAN;
        }
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_SHUFFLE, 0));
        if (k->loss >= 0) NNT_OK(nn_trainer_set(tr, NN_TRAIN_LOSS, k->loss));
        NNT_OK(nn_trainer_get(tr, NN_TRAIN_ACCURACY, &v));
        NNT_EQ_U64(v == -1, 1);   /* chosen from the data */
        if (k->accuracy != -2)
            NNT_OK(nn_trainer_set(tr, NN_TRAIN_ACCURACY, k->accuracy));
        if (k->precision < 0)
            NNT_OK(nn_trainer_set(tr, NN_TRAIN_PRECISION, prec));
        NNT_OK(nn_trainer_fit(tr, x, k->loss < 0 ? NULL : t,
                              k->loss < 0 ? y : NULL, N, NULL, NULL, NULL,
                              0));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_LOSS, &v));
        NNT_NEAR(v, loss_ref, 1e-5 * loss_ref + 1e-7);
        printf("  %-26s loss %.6f (ref %.6f)", k->name, v, loss_ref);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_ACCURACY, &v));
        printf(", accuracy %.4f (ref %.4f, %g ambiguous)\n", v, acc_ref,
               ambiguous);
        NNT_EQ_U64(ambiguous == 0, 1);
        if (isnan(acc_ref)) NNT_TRUE(isnan(v));
        else NNT_NEAR(v, acc_ref, 1e-12);
        if (k->acts[1] == NN_ACT_LINEAR && k->accuracy != NN_ACCURACY_NONE)
            NNT_NEAR(acc_ref, k->precision < 0 ? 1.0 : 1.0 / 3.0, 0.01);
        m64_free(&m);
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

NN_TEST(trainer_validation_metrics)
{
    /* After a fit with dropout and L2, VAL_LOSS and VAL_ACCURACY are the
       inference loss and accuracy of the final parameters: the test runs
       them in double over 1500 rows (more than one evaluation block). */
    enum { N = 200, NV = 1500 };
    static float x[N * 2], xv[NV * 2], tv[NV * 2], t[N * 2];
    static int32_t y[N], yv[NV];
    static double o[NV * 4];
    size_t sizes[3] = {2, 16, 4}, i, j;
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = mk_net(2, sizes, acts, 8);
    nn_optimizer *opt = mk_opt(net, NN_OPT_ADAM, 0.02, 0);
    nn_trainer *tr = mk_trainer(net, opt);
    struct m64 m;
    double v, loss_ref, hits = 0, p = 0, mean = 0, var = 0;
    tr_state = 9;
    class_data(x, y, N, 4);
    class_data(xv, yv, NV, 4);
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, 0.3));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 1e-3));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 32));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 5));
    NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, xv, NULL, yv, NV));
    NNT_TRUE(m64_from_net(&m, net) == 0);
    NNT_TRUE(m64_forward(&m, xv, NV, o) == 0);
    loss_ref = m64_loss(NN_LOSS_CCE, o, NULL, yv, NV, 4);
    for (i = 0; i < NV; i++) hits += m64_argmax(o + 4 * i, 4) == (size_t)yv[i];
    NNT_OK(nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &v));
    NNT_NEAR(v, loss_ref, 1e-5 * loss_ref);
    printf("  labels: val loss %.6f (ref %.6f)", v, loss_ref);
    NNT_OK(nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &v));
    NNT_NEAR(v, hits / NV, 1.0 / NV);   /* one float/double argmax tie */
    printf(", val accuracy %.4f (ref %.4f)\n", v, hits / NV);
    /* and after the fit, the optimizer's next learning rate and the net's
       penalty, as during a callback */
    {
        float reg;
        double lr;
        NNT_OK(nn_net_regularization_loss(net, &reg));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_REG_LOSS, &v));
        NNT_EQ_U64(v == (double)reg, 1);
        NNT_OK(nn_optimizer_get(opt, NN_OPT_CURRENT_LEARNING_RATE, &lr));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_LEARNING_RATE, &v));
        NNT_EQ_U64(v == lr, 1);
    }
    m64_free(&m);
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);

    /* regression: validation accuracy uses the training precision,
       std(training targets) / 250 */
    {
        size_t rs[3] = {2, 16, 2};
        int32_t ra[2] = {NN_ACT_TANH, NN_ACT_LINEAR};
        double vh = 0;
        net = mk_net(2, rs, ra, 12);
        opt = mk_opt(net, NN_OPT_ADAM, 0.01, 0);
        tr = mk_trainer(net, opt);
        for (i = 0; i < N; i++)
            for (j = 0; j < 2; j++)
                t[2 * i + j] = (float)(sin(3 * x[2 * i] + (double)j) *
                                       (1 + (double)j));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_LOSS, NN_LOSS_MSE));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 3));
        /* validation targets: the net's own final outputs are unknown
           before the fit, so fit first, then validate a second 1-epoch
           fit with learning rate 0 (parameters stay put) */
        NNT_OK(nn_trainer_fit(tr, x, t, NULL, N, NULL, NULL, NULL, 0));
        NNT_TRUE(m64_from_net(&m, net) == 0);
        NNT_TRUE(m64_forward(&m, xv, NV, o) == 0);
        for (i = 0; i < N * 2; i++) mean += t[i];
        mean /= N * 2;
        for (i = 0; i < N * 2; i++) var += (t[i] - mean) * (t[i] - mean);
        p = sqrt(var / (N * 2)) / 250;
        for (i = 0; i < NV * 2; i++)
            tv[i] = (float)(o[i] + (i % 4 == 0 ? 0.5 : 3.0) * p);
        for (i = 0; i < NV * 2; i++) vh += fabs(o[i] - tv[i]) < p;
        NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 1));
        NNT_OK(nn_trainer_fit(tr, x, t, NULL, N, xv, tv, NULL, NV));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &v));
        NNT_NEAR(v, vh / (NV * 2), 1e-12);
        NNT_NEAR(v, 0.25, 1e-12);
        printf("  regression: val accuracy %.4f (ref %.4f)", v, vh / (NV * 2));
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &v));
        loss_ref = m64_loss(NN_LOSS_MSE, o, tv, NULL, NV, 2);
        NNT_NEAR(v, loss_ref, 1e-4 * loss_ref);
        printf(", val loss %.4g (ref %.4g)\n", v, loss_ref);
        m64_free(&m);
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

/*====== Determinism and the hand-written loop ======*/

NN_TEST(trainer_same_seed_same_result)
{
    enum { N = 150 };
    static float x[N * 2];
    static int32_t y[N];
    size_t sizes[3] = {2, 16, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *n[3];
    nn_optimizer *o[3];
    nn_trainer *t[3];
    double l[3];
    int i;
    tr_state = 4;
    class_data(x, y, N, 3);
    for (i = 0; i < 3; i++) {
        n[i] = mk_net(2, sizes, acts, 77);
        NNT_OK(nn_net_set_layer_option(n[i], 0, NN_LAYER_DROPOUT, 0.2));
        o[i] = mk_opt(n[i], NN_OPT_ADAM, 0.01, 1e-3);
        t[i] = mk_trainer(n[i], o[i]);
        NNT_OK(nn_trainer_set(t[i], NN_TRAIN_BATCH_SIZE, 16));
        NNT_OK(nn_trainer_set(t[i], NN_TRAIN_EPOCHS, 4));
        NNT_OK(nn_trainer_set(t[i], NN_TRAIN_SEED, i == 2 ? 6 : 5));
        NNT_OK(nn_trainer_fit(t[i], x, NULL, y, N, NULL, NULL, NULL, 0));
        NNT_OK(nn_trainer_metric(t[i], NN_METRIC_LOSS, &l[i]));
    }
    NNT_TRUE(same_params(n[0], n[1]));
    NNT_EQ_U64(l[0] == l[1], 1);
    NNT_TRUE(!same_params(n[0], n[2]));
    printf("  seed 5 twice: identical; seed 6: max |dw| %.3g, loss %.6f vs "
           "%.6f\n", max_param_diff(n[0], n[2]), l[0], l[2]);
    for (i = 0; i < 3; i++) {
        nn_trainer_destroy(t[i]);
        nn_optimizer_destroy(o[i]);
        nn_net_destroy(n[i]);
    }
}

NN_TEST(trainer_fit_equals_manual_loop)
{
    /* nn_trainer_fit without shuffling is the loop a user writes, bit for
       bit: full batch and mini-batches (the last one short), with Adam,
       decay, L2 and dropout (the masks come from the same generator in
       the same order).  The epoch loss is the row-weighted mean of the
       step losses.  With shuffling, a full batch is the same step up to
       the order of the sums. */
    enum { N = 100 };
    static float x[N * 2];
    static int32_t y[N];
    size_t sizes[4] = {2, 16, 8, 3};
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    static const double batches[3] = {0, 32, 100};
    int b;
    tr_state = 5;
    class_data(x, y, N, 3);
    for (b = 0; b < 4; b++) {
        double bs = b < 3 ? batches[b] : 0, v, lsum = 0, last = 0;
        size_t rows_per = bs == 0 ? N : (size_t)bs, e, r0;
        int shuffle = b == 3;
        nn_net *na = mk_net(3, sizes, acts, 21);
        nn_net *nb = mk_net(3, sizes, acts, 21);
        nn_optimizer *oa = mk_opt(na, NN_OPT_ADAM, 0.02, 1e-2);
        nn_optimizer *ob = mk_opt(nb, NN_OPT_ADAM, 0.02, 1e-2);
        nn_trainer *tr = mk_trainer(na, oa);
        /* (with shuffling the masks fall on other rows: no dropout) */
        NNT_OK(nn_net_set_layer_option(na, 0, NN_LAYER_DROPOUT,
                                       shuffle ? 0.0 : 0.25));
        NNT_OK(nn_net_set_layer_option(nb, 0, NN_LAYER_DROPOUT,
                                       shuffle ? 0.0 : 0.25));
        NNT_OK(nn_net_set_layer_option(na, 1, NN_LAYER_L2_WEIGHTS, 1e-3));
        NNT_OK(nn_net_set_layer_option(nb, 1, NN_LAYER_L2_WEIGHTS, 1e-3));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_SHUFFLE, shuffle));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, bs));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 3));
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0));
        for (e = 0; e < 3; e++) {
            lsum = 0;
            for (r0 = 0; r0 < N; r0 += rows_per) {
                size_t rows = N - r0 < rows_per ? N - r0 : rows_per;
                float l;
                NNT_OK(nn_forward(nb, x + 2 * r0, rows, NULL));
                NNT_OK(nn_backward_labels(nb, y + r0, &l));
                NNT_OK(nn_optimizer_step(ob));
                lsum += (double)l * (double)rows;
                last = l;
            }
        }
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_LOSS, &v));
        if (!shuffle) {
            NNT_TRUE(same_params(na, nb));
            NNT_NEAR(v, lsum / N, 1e-12 * lsum / N);
            if (bs == 0 || bs == N) NNT_EQ_U64(v == last, 1);
            printf("  batch %3.0f, 3 epochs: bit-identical to the loop, "
                   "epoch loss %.6f\n", bs, v);
        } else {
            double d = max_param_diff(na, nb);
            NNT_LE(d, 1e-5);
            NNT_NEAR(v, last, 1e-5 * last);
            printf("  full batch shuffled, 3 epochs: max |w - w_loop| "
                   "%.3g, loss %.6f vs %.6f\n", d, v, last);
        }
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(oa);
        nn_optimizer_destroy(ob);
        nn_net_destroy(na);
        nn_net_destroy(nb);
    }
}

/* The trainer's shuffle (trainer.c), replayed: each epoch (numbered from
   1) a Fisher-Yates over the identity, from a generator seeded by the
   seed and the epoch alone (rank 0). */
static void tr_shuffle(struct nn__rng *rng, size_t *perm, size_t n,
                       uint64_t seed, size_t epoch)
{
    size_t i;
    nn__rng_seed(rng, seed ^ ((uint64_t)epoch * UINT64_C(0x9e3779b97f4a7c15)));
    for (i = 0; i < n; i++) perm[i] = i;
    for (i = n - 1; i > 0; i--) {
        size_t j = (size_t)nn__rng_below(rng, (uint64_t)i + 1), q = perm[i];
        perm[i] = perm[j];
        perm[j] = q;
    }
}

/* rows r of the 2-column x picked by idx[0..rows) */
static void tr_gather2(float *xg, const float *x, const size_t *idx,
                       size_t rows)
{
    size_t i;
    for (i = 0; i < rows; i++) {
        xg[2 * i] = x[2 * idx[i]];
        xg[2 * i + 1] = x[2 * idx[i] + 1];
    }
}

NN_TEST(trainer_plain_sgd_fit_is_the_fused_loop)
{
    /* With plain SGD (momentum 0) a fit steps with nn_backward_sgd at the
       optimizer's decayed rate and gathers the shuffled rows in the
       forward's own copy: the same as this loop, bit for bit, which
       shuffles with the trainer's generator (nn__rng, Fisher-Yates as
       trainer.c), gathers the rows itself and calls the public fused
       step.  Mini-batches of 32 over 100 rows (the last one short), 3
       epochs, dropout and decay; and the optimizer counts every step. */
    enum { N = 100, BS = 32 };
    static float x[N * 2], xg[BS * 2];
    static int32_t y[N], yg[BS];
    size_t sizes[4] = {2, 16, 8, 3}, perm[N], i, e, r0;
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    struct nn__rng rng;
    double it, v;
    uint64_t t = 0;
    int shuffle;
    tr_state = 7;
    class_data(x, y, N, 3);
    for (shuffle = 0; shuffle < 2; shuffle++) {
        nn_net *na = mk_net(3, sizes, acts, 23);
        nn_net *nb = mk_net(3, sizes, acts, 23);
        nn_optimizer *oa = mk_opt(na, NN_OPT_SGD, 0.5, 1e-2);
        nn_trainer *tr = mk_trainer(na, oa);
        float lsum = 0;
        NNT_OK(nn_net_set_layer_option(na, 0, NN_LAYER_DROPOUT, 0.25));
        NNT_OK(nn_net_set_layer_option(nb, 0, NN_LAYER_DROPOUT, 0.25));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_SHUFFLE, shuffle));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_SEED, 99));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, BS));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 3));
        NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0));
        for (i = 0; i < N; i++) perm[i] = i;
        nn__rng_seed(&rng, 99);
        t = 0;
        for (e = 0; e < 3; e++) {
            if (shuffle) tr_shuffle(&rng, perm, N, 99, e + 1);
            for (r0 = 0; r0 < N; r0 += BS) {
                size_t rows = N - r0 < BS ? N - r0 : BS;
                float lr = (float)(0.5 / (1.0 + 1e-2 * (double)t)), l;
                tr_gather2(xg, x, perm + r0, rows);
                for (i = 0; i < rows; i++) yg[i] = y[perm[r0 + i]];
                NNT_OK(nn_forward(nb, xg, rows, NULL));
                NNT_OK(nn_backward_labels_sgd(nb, yg, lr, &l));
                lsum = l;
                t++;
            }
        }
        NNT_TRUE(same_params(na, nb));
        NNT_OK(nn_optimizer_get(oa, NN_OPT_ITERATIONS, &it));
        NNT_EQ_U64((uint64_t)it, t);
        /* the fused step keeps no gradients, in the fit as in the loop */
        NNT_STATUS(nn_optimizer_step(oa), NN_ERR_STATE);
        NNT_OK(nn_trainer_metric(tr, NN_METRIC_LOSS, &v));
        printf("  plain SGD, %s, batch %d, 3 epochs: bit-identical to the "
               "fused loop, %llu optimizer steps, last step loss %.6f\n",
               shuffle ? "shuffled" : "in order", BS,
               (unsigned long long)t, (double)lsum);
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(oa);
        nn_net_destroy(na);
        nn_net_destroy(nb);
    }
}

NN_TEST(trainer_plain_sgd_fit_targets_and_failure)
{
    /* The same with targets (MSE, linear output, shuffled mini-batches):
       bit-identical to nn_forward + nn_backward_sgd on the rows the
       trainer's generator picks.  Then a fit whose first update would
       overflow: NN_ERR_NONFINITE naming epoch 1 step 1, no optimizer step
       counted, the weights as before. */
    enum { N = 90, BS = 16 };
    static float x[N * 2], t[N], xg[BS * 2], tg[BS];
    float w0[16], b0[8], w1[16], b1[8];
    size_t sizes[3] = {2, 8, 1}, perm[N], i, e, r0;
    int32_t acts[2] = {NN_ACT_TANH, NN_ACT_LINEAR};
    struct nn__rng rng;
    double it;
    uint64_t steps = 0;
    nn_net *na, *nb;
    nn_optimizer *oa;
    nn_trainer *tr;
    tr_state = 11;
    for (i = 0; i < N; i++) {
        x[2 * i] = (float)(2 * tr_uniform() - 1);
        x[2 * i + 1] = (float)(2 * tr_uniform() - 1);
        t[i] = (float)sin(3.0 * x[2 * i]) + 0.5f * x[2 * i + 1];
    }
    na = mk_net(2, sizes, acts, 31);
    nb = mk_net(2, sizes, acts, 31);
    oa = mk_opt(na, NN_OPT_SGD, 0.1, 1e-3);
    tr = mk_trainer(na, oa);
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_LOSS, NN_LOSS_MSE));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_SEED, 5));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, BS));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 4));
    NNT_OK(nn_trainer_fit(tr, x, t, NULL, N, NULL, NULL, NULL, 0));
    for (i = 0; i < N; i++) perm[i] = i;
    nn__rng_seed(&rng, 5);
    for (e = 0; e < 4; e++) {
        tr_shuffle(&rng, perm, N, 5, e + 1);
        for (r0 = 0; r0 < N; r0 += BS) {
            size_t rows = N - r0 < BS ? N - r0 : BS;
            float lr = (float)(0.1 / (1.0 + 1e-3 * (double)steps));
            tr_gather2(xg, x, perm + r0, rows);
            for (i = 0; i < rows; i++) tg[i] = t[perm[r0 + i]];
            NNT_OK(nn_forward(nb, xg, rows, NULL));
            NNT_OK(nn_backward_sgd(nb, NN_LOSS_MSE, tg, lr, NULL));
            steps++;
        }
    }
    NNT_TRUE(same_params(na, nb));
    NNT_OK(nn_optimizer_get(oa, NN_OPT_ITERATIONS, &it));
    NNT_EQ_U64((uint64_t)it, steps);
    /* a failing fused step changes nothing and counts nothing: targets
       x1000 make |dW| ~ 100, so lr 3e38 overflows at the first update */
    for (i = 0; i < N; i++) t[i] *= 1000.0f;
    NNT_OK(nn_optimizer_reset(oa));
    NNT_OK(nn_optimizer_set(oa, NN_OPT_LEARNING_RATE, 3e38));
    NNT_OK(nn_net_get_params(na, 0, w0, b0));
    NNT_STATUS(nn_trainer_fit(tr, x, t, NULL, N, NULL, NULL, NULL, 0),
               NN_ERR_NONFINITE);
    NNT_MSG_HAS("epoch 1, step 1");
    NNT_OK(nn_optimizer_get(oa, NN_OPT_ITERATIONS, &it));
    NNT_EQ_U64((uint64_t)it, 0);
    NNT_OK(nn_net_get_params(na, 0, w1, b1));
    NNT_TRUE(memcmp(w0, w1, sizeof w0) == 0 &&
             memcmp(b0, b1, sizeof b0) == 0);
    printf("  MSE, shuffled, batch %d, 4 epochs: bit-identical to the fused "
           "loop (%llu steps); lr 3e38: refused at the first step, "
           "nothing changed: %s\n", BS, (unsigned long long)steps,
           nn_last_error());
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(oa);
    nn_net_destroy(na);
    nn_net_destroy(nb);
}

/*====== Rejections ======*/

NN_TEST(trainer_rejects_and_changes_nothing)
{
    enum { N = 20 };
    static float x[N * 2], t[N * 3], x0[N * 2];
    static int32_t y[N];
    size_t sizes[3] = {2, 4, 3}, sz2[3] = {2, 4, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net = mk_net(2, sizes, acts, 1), *copy = mk_net(2, sizes, acts, 1);
    nn_net *other = mk_net(2, sz2, acts, 2);
    nn_optimizer *opt = mk_opt(net, NN_OPT_SGD, 0.5, 0);
    nn_optimizer *oopt = mk_opt(other, NN_OPT_SGD, 0.5, 0);
    nn_trainer *tr = mk_trainer(net, opt), *bad = (nn_trainer *)&bad;
    struct { int32_t s; double v; int st; } sets[] = {
        {NN_TRAIN_LOSS, 4, NN_ERR_INVALID_ARG},
        {NN_TRAIN_LOSS, -1, NN_ERR_INVALID_ARG},
        {NN_TRAIN_BATCH_SIZE, 1.5, NN_ERR_INVALID_ARG},
        {NN_TRAIN_BATCH_SIZE, -1, NN_ERR_INVALID_ARG},
        {NN_TRAIN_BATCH_SIZE, 3e9, NN_ERR_INVALID_ARG},
        {NN_TRAIN_EPOCHS, 0, NN_ERR_INVALID_ARG},
        {NN_TRAIN_EPOCHS, NAN, NN_ERR_NONFINITE},
        {NN_TRAIN_SHUFFLE, 2, NN_ERR_INVALID_ARG},
        {NN_TRAIN_SEED, -1, NN_ERR_INVALID_ARG},
        {NN_TRAIN_ACCURACY, 4, NN_ERR_INVALID_ARG},
        {NN_TRAIN_PRECISION, -1e-3, NN_ERR_INVALID_ARG},
        {NN_TRAIN_PRECISION, INFINITY, NN_ERR_NONFINITE},
        {NN_TRAIN_REPORT_EVERY, 0.5, NN_ERR_INVALID_ARG},
        {NN_TRAIN_X_COLS, 0.5, NN_ERR_INVALID_ARG},
        {NN_TRAIN_VAL_X_COLS, (double)NN_MAX_WIDTH + 1, NN_ERR_INVALID_ARG},
        {NN_TRAIN_FIRST_EPOCH, 0, NN_ERR_INVALID_ARG},
        {NN_TRAIN_FIRST_EPOCH + 1, 1, NN_ERR_INVALID_ARG},
        {-1, 1, NN_ERR_INVALID_ARG},
    };
    double before[NN_TRAIN_FIRST_EPOCH + 1], after[NN_TRAIN_FIRST_EPOCH + 1], v;
    size_t i;
    int32_t s;

    tr_state = 3;
    class_data(x, y, N, 3);
    memcpy(x0, x, sizeof x);
    for (i = 0; i < N * 3; i++) t[i] = (int32_t)(i % 3) == y[i / 3];
    NNT_STATUS(nn_trainer_create(&bad, net, oopt), NN_ERR_INVALID_ARG);
    NNT_TRUE(bad == NULL);
    NNT_MSG_HAS("another net");
    NNT_STATUS(nn_trainer_create(&bad, NULL, opt), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_create(NULL, net, opt), NN_ERR_INVALID_ARG);

    /* non-default settings first */
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 7));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 2));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_SEED, 12345));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_PRECISION, 0.25));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_REPORT_EVERY, 3));
    for (s = 0; s <= NN_TRAIN_FIRST_EPOCH; s++)
        NNT_OK(nn_trainer_get(tr, s, &before[s]));
    for (i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        int st = nn_trainer_set(tr, sets[i].s, sets[i].v);
        if (st != sets[i].st)
            nnt_fail(__FILE__, __LINE__, "set %d = %g: status %d, expected "
                     "%d", (int)sets[i].s, sets[i].v, st, sets[i].st);
        NNT_MSG_HAS("nn_trainer_set");
    }
    for (s = 0; s <= NN_TRAIN_FIRST_EPOCH; s++) {
        NNT_OK(nn_trainer_get(tr, s, &after[s]));
        NNT_EQ_U64(before[s] == after[s], 1);
    }
    NNT_EQ_U64(before[NN_TRAIN_SEED] == 12345, 1);
    NNT_STATUS(nn_trainer_get(tr, NN_TRAIN_FIRST_EPOCH + 1, &v),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_get(tr, 0, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_metric(tr, 11, &v), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_metric(tr, -1, &v), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_metric(NULL, 0, &v), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_set_callback(NULL, NULL, NULL), NN_ERR_INVALID_ARG);

    /* fits refused before any step: the net and the optimizer unchanged */
    NNT_STATUS(nn_trainer_fit(tr, x, t, y, N, NULL, NULL, NULL, 0),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, NULL, N, NULL, NULL, NULL, 0),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, 0, NULL, NULL, NULL, 0),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_fit(tr, NULL, NULL, y, N, NULL, NULL, NULL, 0),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_fit(NULL, x, NULL, y, N, NULL, NULL, NULL, 0),
               NN_ERR_INVALID_ARG);
    /* validation labelled differently from training */
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, x, t, NULL, N),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, x, t, y, N),
               NN_ERR_INVALID_ARG);
    /* labels with a non-categorical accuracy */
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_ACCURACY, NN_ACCURACY_BINARY));
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0),
               NN_ERR_INVALID_ARG);
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_ACCURACY, NN_ACCURACY_CATEGORICAL));
    y[N - 1] = 3;
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0),
               NN_ERR_SHAPE);
    NNT_MSG_HAS("labels[19] = 3");
    y[N - 1] = 0;
    x[7] = NAN;
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0),
               NN_ERR_NONFINITE);
    NNT_MSG_HAS("x[7]");
    x[7] = x0[7];
    t[5] = INFINITY;
    NNT_STATUS(nn_trainer_fit(tr, x, t, NULL, N, NULL, NULL, NULL, 0),
               NN_ERR_NONFINITE);
    t[5] = 0;
    /* a bad validation label is caught before the first step too */
    {
        int32_t yv[N];
        memcpy(yv, y, sizeof yv);
        yv[2] = -1;
        NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, x, NULL, yv, N),
                   NN_ERR_SHAPE);
        NNT_MSG_HAS("validation labels[2] = -1");
    }
    /* issue 13: validation rows of another width than the net's were read
       past their end (nnfs train with 6-wide test images for a 4-input
       net).  Declared widths are checked before anything is read. */
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_VAL_X_COLS, 3));
    NNT_OK(nn_trainer_get(tr, NN_TRAIN_VAL_X_COLS, &v));
    NNT_EQ_U64(v == 3, 1);
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, x, NULL, y, N / 2),
               NN_ERR_SHAPE);
    NNT_MSG_HAS("val_x rows are 3 wide");
    NNT_MSG_HAS("takes 2 inputs");
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_VAL_X_COLS, 0));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_X_COLS, 1));
    NNT_STATUS(nn_trainer_fit(tr, x, NULL, y, N, NULL, NULL, NULL, 0),
               NN_ERR_SHAPE);
    NNT_MSG_HAS("x rows are 1 wide");
    NNT_TRUE(same_params(net, copy));
    NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &v));
    NNT_EQ_U64(v == 0, 1);
    /* the net's own width passes */
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_X_COLS, 2));
    NNT_OK(nn_trainer_set(tr, NN_TRAIN_VAL_X_COLS, 2));
    NNT_OK(nn_trainer_fit(tr, x, NULL, y, N, x, NULL, y, N / 2));
    NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &v));
    NNT_EQ_U64(v > 0, 1);

    nn_trainer_destroy(tr);
    nn_trainer_destroy(NULL);
    nn_optimizer_destroy(opt);
    nn_optimizer_destroy(oopt);
    nn_net_destroy(net);
    nn_net_destroy(copy);
    nn_net_destroy(other);
}
