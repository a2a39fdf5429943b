/*
 * trainer.c - the training loop for users who do not write their own:
 * epochs of shuffled mini-batches, accuracy, validation and a progress
 * callback, on top of nn_forward / nn_backward / nn_optimizer_step (with
 * plain SGD, the fused nn_backward_sgd).
 *
 * All buffers a fit needs (the permutation, gathered targets, outputs)
 * are allocated once when the fit starts; the steps themselves allocate
 * nothing (the net's own scratch reaches its size on the first step).
 */
#include "base/base.h"
#include "kernels/kernels.h"
#include "core/core.h"
#include "train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* rows per block when evaluating the validation set */
#define NN__VAL_ROWS 1024

struct nn_trainer {
    uint64_t tag;   /* NN__TAG_TRAINER: first member (base/base.h) */
    nn_net *net;
    nn_optimizer *opt;
    nn_progress_fn fn;
    void *user;
    int busy;   /* inside nn_trainer_fit (callbacks may not re-enter) */

    /* settings */
    int32_t loss, accuracy;   /* accuracy -1: chosen from the data */
    size_t batch_size, epochs, report_every;
    int shuffle;
    uint64_t seed;
    double precision;
    size_t x_cols, val_x_cols;  /* declared row widths, 0 = not declared */

    /* metrics */
    double m[NN_METRIC_STOPPED + 1];
};

int nn_trainer_create(nn_trainer **out, nn_net *net, nn_optimizer *opt)
{
    static const char fn[] = "nn_trainer_create";
    nn_trainer *t;
    size_t i;
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK(opt == NULL, NN_ERR_INVALID_ARG, "%s: opt is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK_HANDLE(opt, NN__TAG_OPTIMIZER, "opt", fn);
    NN__CHECK(nn__optimizer_net(opt) != net, NN_ERR_INVALID_ARG,
              "%s: opt was created for another net", fn);
    t = nn__calloc(1, sizeof *t);
    NN__CHECK(t == NULL, NN_ERR_NOMEM, "%s: out of memory", fn);
    t->tag = NN__TAG_TRAINER;
    t->net = net;
    t->opt = opt;
    t->loss = NN_LOSS_CCE;
    t->accuracy = -1;
    t->epochs = 1;
    t->shuffle = 1;
    for (i = 0; i <= NN_METRIC_STOPPED; i++) t->m[i] = 0;
    t->m[NN_METRIC_ACCURACY] = NAN;
    t->m[NN_METRIC_VAL_LOSS] = NAN;
    t->m[NN_METRIC_VAL_ACCURACY] = NAN;
    *out = t;
    return NN_OK;
}

void nn_trainer_destroy(nn_trainer *trainer)
{
    NN__CHECK_HANDLE_OR(trainer, NN__TAG_TRAINER, "trainer",
                        "nn_trainer_destroy", );
    if (trainer != NULL) NN__KILL_HANDLE(trainer);
    nn__free(trainer);
}

static const char *const nn__train_names[] = {
    "loss", "batch_size", "epochs", "shuffle", "seed", "accuracy",
    "precision", "report_every", "x_cols", "val_x_cols"};
_Static_assert(sizeof nn__train_names / sizeof *nn__train_names ==
                   NN__N_TRAIN_SETTING,
               "nn__train_names: one name per NN_TRAIN_* setting");

int nn_trainer_set(nn_trainer *trainer, int32_t setting, double value)
{
    static const char fn[] = "nn_trainer_set";
    const char *name;
    NN__CHECK(trainer == NULL, NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    NN__CHECK_HANDLE(trainer, NN__TAG_TRAINER, "trainer", fn);
    NN__CHECK(setting < 0 || setting >= NN__N_TRAIN_SETTING,
              NN_ERR_INVALID_ARG, "%s: setting = %d is not an NN_TRAIN_* "
              "setting", fn, (int)setting);
    NN__CHECK(trainer->busy, NN_ERR_STATE,
              "%s: cannot change settings during a fit", fn);
    name = nn__train_names[setting];
    NN__CHECK(!isfinite(value), NN_ERR_NONFINITE, "%s: %s is %s", fn, name,
              isnan(value) ? "NaN" : "infinite");
    if (setting == NN_TRAIN_PRECISION) {
        NN__CHECK(value < 0 || value > 3.4e38, NN_ERR_INVALID_ARG,
                  "%s: precision = %g is outside [0, FLT_MAX]", fn, value);
        trainer->precision = value;
        return NN_OK;
    }
    /* every other setting is an integer */
    NN__CHECK(value != floor(value) || value < 0 || value > 9.0e15,
              NN_ERR_INVALID_ARG, "%s: %s = %g is not a non-negative "
              "integer", fn, name, value);
    switch (setting) {
    case NN_TRAIN_LOSS:
        NN__CHECK(value >= NN__N_LOSS, NN_ERR_INVALID_ARG,
                  "%s: loss = %g is not an NN_LOSS_* value", fn, value);
        trainer->loss = (int32_t)value;
        break;
    case NN_TRAIN_BATCH_SIZE:
        NN__CHECK(value > 2147483647.0, NN_ERR_INVALID_ARG,
                  "%s: batch_size = %g exceeds INT_MAX", fn, value);
        trainer->batch_size = (size_t)value;
        break;
    case NN_TRAIN_EPOCHS:
        NN__CHECK(value < 1, NN_ERR_INVALID_ARG, "%s: epochs is 0", fn);
        trainer->epochs = (size_t)value;
        break;
    case NN_TRAIN_SHUFFLE:
        NN__CHECK(value > 1, NN_ERR_INVALID_ARG,
                  "%s: shuffle = %g is not 0 or 1", fn, value);
        trainer->shuffle = value != 0;
        break;
    case NN_TRAIN_SEED:
        trainer->seed = (uint64_t)value;
        break;
    case NN_TRAIN_ACCURACY:
        NN__CHECK(value > NN_ACCURACY_REGRESSION, NN_ERR_INVALID_ARG,
                  "%s: accuracy = %g is not an NN_ACCURACY_* kind", fn, value);
        trainer->accuracy = (int32_t)value;
        break;
    case NN_TRAIN_X_COLS:
    case NN_TRAIN_VAL_X_COLS:
        NN__CHECK(value > (double)NN_MAX_WIDTH, NN_ERR_INVALID_ARG,
                  "%s: %s = %g exceeds NN_MAX_WIDTH (%u)", fn, name, value,
                  NN_MAX_WIDTH);
        if (setting == NN_TRAIN_X_COLS) trainer->x_cols = (size_t)value;
        else trainer->val_x_cols = (size_t)value;
        break;
    default:
        trainer->report_every = (size_t)value;
        break;
    }
    return NN_OK;
}

int nn_trainer_get(const nn_trainer *trainer, int32_t setting,
                   double *value_out)
{
    static const char fn[] = "nn_trainer_get";
    NN__CHECK(trainer == NULL, NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    NN__CHECK_HANDLE(trainer, NN__TAG_TRAINER, "trainer", fn);
    NN__CHECK(value_out == NULL, NN_ERR_INVALID_ARG, "%s: value_out is NULL",
              fn);
    switch (setting) {
    case NN_TRAIN_LOSS: *value_out = trainer->loss; break;
    case NN_TRAIN_BATCH_SIZE: *value_out = (double)trainer->batch_size; break;
    case NN_TRAIN_EPOCHS: *value_out = (double)trainer->epochs; break;
    case NN_TRAIN_SHUFFLE: *value_out = trainer->shuffle; break;
    case NN_TRAIN_SEED: *value_out = (double)trainer->seed; break;
    case NN_TRAIN_ACCURACY:
        *value_out = trainer->accuracy < 0 ? -1 : trainer->accuracy;
        break;
    case NN_TRAIN_PRECISION: *value_out = trainer->precision; break;
    case NN_TRAIN_REPORT_EVERY:
        *value_out = (double)trainer->report_every;
        break;
    case NN_TRAIN_X_COLS: *value_out = (double)trainer->x_cols; break;
    case NN_TRAIN_VAL_X_COLS: *value_out = (double)trainer->val_x_cols; break;
    default:
        return nn__fail(NN_ERR_INVALID_ARG, "%s: setting = %d is not an "
                        "NN_TRAIN_* setting", fn, (int)setting);
    }
    return NN_OK;
}

int nn_trainer_set_callback(nn_trainer *trainer, nn_progress_fn fn_,
                            void *user)
{
    NN__CHECK(trainer == NULL, NN_ERR_INVALID_ARG,
              "nn_trainer_set_callback: trainer is NULL");
    NN__CHECK_HANDLE(trainer, NN__TAG_TRAINER, "trainer",
                     "nn_trainer_set_callback");
    trainer->fn = fn_;
    trainer->user = user;
    return NN_OK;
}

int nn_trainer_metric(const nn_trainer *trainer, int32_t metric,
                      double *value_out)
{
    static const char fn[] = "nn_trainer_metric";
    NN__CHECK(trainer == NULL, NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    NN__CHECK_HANDLE(trainer, NN__TAG_TRAINER, "trainer", fn);
    NN__CHECK(value_out == NULL, NN_ERR_INVALID_ARG, "%s: value_out is NULL",
              fn);
    NN__CHECK(metric < NN_METRIC_EPOCH || metric > NN_METRIC_STOPPED,
              NN_ERR_INVALID_ARG, "%s: metric = %d is not an NN_METRIC_* "
              "value", fn, (int)metric);
    *value_out = trainer->m[metric];
    return NN_OK;
}

/*====== The fit ======*/

struct nn__fit {
    const float *x, *t;
    const int32_t *y;
    size_t n, n_in, n_out;
    int32_t acc;
    float precision;
};

static double nn__seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Hits of one block of outputs (rows x n_out) for the accuracy kind;
   returns the number of units the hits are counted over in *units. */
static size_t nn__hits(int32_t kind, const float *out, const float *t,
                       const int32_t *y, size_t rows, size_t n_out,
                       float precision, size_t *units)
{
    size_t i, j, hits = 0;
    switch (kind) {
    case NN_ACCURACY_CATEGORICAL:
        for (i = 0; i < rows; i++) {
            const float *o = out + i * n_out;
            size_t best = 0, want = 0;
            for (j = 1; j < n_out; j++)
                if (o[j] > o[best]) best = j;
            if (y != NULL) {
                want = (size_t)y[i];
            } else {
                const float *tr = t + i * n_out;
                for (j = 1; j < n_out; j++)
                    if (tr[j] > tr[want]) want = j;
            }
            hits += best == want;
        }
        *units = rows;
        return hits;
    case NN_ACCURACY_BINARY:
        for (i = 0; i < rows * n_out; i++)
            hits += (out[i] > 0.5f) == (t[i] > 0.5f);
        *units = rows * n_out;
        return hits;
    case NN_ACCURACY_REGRESSION:
        for (i = 0; i < rows * n_out; i++)
            hits += fabsf(out[i] - t[i]) < precision;
        *units = rows * n_out;
        return hits;
    default:
        *units = 0;
        return 0;
    }
}

/* Validate one data set: x finite, targets finite or labels in range. */
static int nn__check_set(const char *fn, const char *what,
                         const struct nn__fit *d)
{
    const struct nn__kernels *k = nn__kernels();
    size_t i, cells;
    NN__CHECK(!nn__mul_ok(d->n, d->n_in, &cells) ||
              !nn__mul_ok(d->n, d->n_out, &cells) ||
              cells > SIZE_MAX / sizeof(float),
              NN_ERR_SHAPE, "%s: %s: %zu samples overflow memory sizes", fn,
              what, d->n);
    if (k->amax(d->x, d->n * d->n_in) >= NN__NONFINITE_BITS) {
        for (i = 0; isfinite(d->x[i]); i++) continue;
        return nn__fail(NN_ERR_NONFINITE, "%s: %s x[%zu] (row %zu) is not "
                        "finite", fn, what, i, i / d->n_in);
    }
    if (d->y != NULL) {
        for (i = 0; i < d->n; i++)
            NN__CHECK(d->y[i] < 0 || (size_t)d->y[i] >= d->n_out,
                      NN_ERR_SHAPE, "%s: %s labels[%zu] = %d is outside "
                      "[0, %zu)", fn, what, i, (int)d->y[i], d->n_out);
    } else if (k->amax(d->t, d->n * d->n_out) >= NN__NONFINITE_BITS) {
        for (i = 0; isfinite(d->t[i]); i++) continue;
        return nn__fail(NN_ERR_NONFINITE, "%s: %s targets[%zu] (row %zu) is "
                        "not finite", fn, what, i, i / d->n_out);
    }
    return NN_OK;
}

/* Loss and accuracy of the net on a whole set, by blocks of inference. */
static int nn__evaluate(nn_trainer *tr, const struct nn__fit *d, float *buf,
                        int32_t loss, double *loss_out, double *acc_out)
{
    const struct nn__kernels *k = nn__kernels();
    double lsum = 0;
    size_t r0, hits = 0, units = 0;
    for (r0 = 0; r0 < d->n; r0 += NN__VAL_ROWS) {
        size_t rows = d->n - r0 < NN__VAL_ROWS ? d->n - r0 : NN__VAL_ROWS, u;
        const float *t = d->t != NULL ? d->t + r0 * d->n_out : NULL;
        const int32_t *y = d->y != NULL ? d->y + r0 : NULL;
        int st = nn_predict(tr->net, d->x + r0 * d->n_in, rows, buf);
        if (st != NN_OK) return st;
        lsum += (double)rows * (y != NULL
                    ? k->cce_labels(buf, y, NULL, rows, d->n_out)
                    : k->loss[loss](buf, t, NULL, rows, d->n_out));
        hits += nn__hits(d->acc, buf, t, y, rows, d->n_out, d->precision, &u);
        units += u;
    }
    *loss_out = lsum / (double)d->n;
    *acc_out = units ? (double)hits / (double)units : NAN;
    return NN_OK;
}

/* Restate the failure of a step with its position in the fit. */
static int nn__step_fail(int st, size_t epoch, size_t step)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nn_last_error());
    return nn__fail(st, "nn_trainer_fit: epoch %zu, step %zu: %s", epoch,
                    step, msg);
}

static int nn__callback(nn_trainer *tr, int32_t event, double t0)
{
    double lr = 0;
    float reg = 0;
    if (tr->fn == NULL) return 0;
    nn_optimizer_get(tr->opt, NN_OPT_CURRENT_LEARNING_RATE, &lr);
    if (nn_net_regularization_loss(tr->net, &reg) != NN_OK) reg = INFINITY;
    tr->m[NN_METRIC_LEARNING_RATE] = lr;
    tr->m[NN_METRIC_REG_LOSS] = (double)reg;
    tr->m[NN_METRIC_SECONDS] = nn__seconds() - t0;
    return tr->fn(tr->user, tr, event) != 0;
}

int nn_trainer_fit(nn_trainer *trainer, const float *x, const float *targets,
                   const int32_t *labels, size_t n, const float *val_x,
                   const float *val_targets, const int32_t *val_labels,
                   size_t n_val)
{
    static const char fn[] = "nn_trainer_fit";
    struct nn__fit d, v;
    nn_trainer *tr = trainer;
    nn_net *net;
    size_t bs, steps, epoch, step = 0, i, total;
    size_t *perm = NULL;
    float *tb = NULL, *ob = NULL, *vb = NULL;
    int32_t *yb = NULL;
    int32_t loss;
    struct nn__rng rng;
    double t0 = nn__seconds();
    int st = NN_OK, stopped = 0, have_val;

    NN__CHECK(tr == NULL, NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    NN__CHECK_HANDLE(tr, NN__TAG_TRAINER, "trainer", fn);
    NN__CHECK_HANDLE(tr->net, NN__TAG_NET, "trainer's net", fn);
    NN__CHECK_HANDLE(tr->opt, NN__TAG_OPTIMIZER, "trainer's optimizer", fn);
    NN__CHECK(tr->busy, NN_ERR_STATE,
              "%s: called from its own progress callback", fn);
    NN__CHECK(x == NULL, NN_ERR_INVALID_ARG, "%s: x is NULL", fn);
    NN__CHECK((targets == NULL) == (labels == NULL), NN_ERR_INVALID_ARG,
              "%s: give exactly one of targets and labels", fn);
    NN__CHECK(n == 0, NN_ERR_INVALID_ARG, "%s: n is 0", fn);
    net = tr->net;
    have_val = val_x != NULL && n_val > 0;
    NN__CHECK(have_val && (val_targets == NULL) == (val_labels == NULL),
              NN_ERR_INVALID_ARG, "%s: give exactly one of val_targets and "
              "val_labels", fn);
    NN__CHECK(have_val && ((targets == NULL) != (val_targets == NULL)),
              NN_ERR_INVALID_ARG, "%s: validation data must be labelled like "
              "the training data (targets or labels)", fn);

    d.x = x; d.t = targets; d.y = labels; d.n = n;
    d.n_in = net->layers[0].n_in;
    /* A row width the caller declared must be the net's: rows of another
       width would be read past their end (the validation set's first). */
    NN__CHECK(tr->x_cols != 0 && tr->x_cols != d.n_in, NN_ERR_SHAPE,
              "%s: x rows are %zu wide (NN_TRAIN_X_COLS) but the net takes "
              "%zu inputs", fn, tr->x_cols, d.n_in);
    NN__CHECK(have_val && tr->val_x_cols != 0 && tr->val_x_cols != d.n_in,
              NN_ERR_SHAPE, "%s: val_x rows are %zu wide "
              "(NN_TRAIN_VAL_X_COLS) but the net takes %zu inputs", fn,
              tr->val_x_cols, d.n_in);
    d.n_out = net->layers[net->n_layers - 1].n_out;
    loss = labels != NULL ? NN_LOSS_CCE : tr->loss;
    d.acc = tr->accuracy >= 0 ? tr->accuracy
            : (labels != NULL || loss == NN_LOSS_CCE ? NN_ACCURACY_CATEGORICAL
               : loss == NN_LOSS_BCE ? NN_ACCURACY_BINARY
                                     : NN_ACCURACY_REGRESSION);
    NN__CHECK(labels != NULL && d.acc != NN_ACCURACY_CATEGORICAL &&
              d.acc != NN_ACCURACY_NONE, NN_ERR_INVALID_ARG,
              "%s: labels call for categorical accuracy", fn);
    st = nn__check_set(fn, "training", &d);
    if (st != NN_OK) return st;
    v = d;
    v.x = val_x; v.t = val_targets; v.y = val_labels; v.n = n_val;
    if (have_val) {
        st = nn__check_set(fn, "validation", &v);
        if (st != NN_OK) return st;
    }

    /* the course's regression precision: std(targets) / 250 */
    d.precision = (float)tr->precision;
    if (d.acc == NN_ACCURACY_REGRESSION && tr->precision == 0) {
        double mean = 0, var = 0;
        total = n * d.n_out;
        for (i = 0; i < total; i++) mean += targets[i];
        mean /= (double)total;
        for (i = 0; i < total; i++)
            var += (targets[i] - mean) * (targets[i] - mean);
        d.precision = (float)(sqrt(var / (double)total) / 250.0);
        if (!(d.precision > 0)) d.precision = 1e-7f;  /* constant targets */
    }
    v.precision = d.precision;

    bs = tr->batch_size == 0 || tr->batch_size > n ? n : tr->batch_size;
    steps = (n + bs - 1) / bs;

    /* everything the fit needs, allocated once */
    perm = tr->shuffle ? nn__malloc(n * sizeof *perm) : NULL;
    tb = tr->shuffle && targets != NULL
             ? nn__malloc(bs * d.n_out * sizeof(float)) : NULL;
    yb = tr->shuffle && labels != NULL ? nn__malloc(bs * sizeof(int32_t))
                                       : NULL;
    ob = nn__malloc(bs * d.n_out * sizeof(float));
    vb = have_val ? nn__malloc(NN__VAL_ROWS * d.n_out * sizeof(float)) : NULL;
    if ((tr->shuffle && (perm == NULL ||
                         (targets != NULL && tb == NULL) ||
                         (labels != NULL && yb == NULL))) ||
        ob == NULL || (have_val && vb == NULL)) {
        st = nn__fail(NN_ERR_NOMEM, "%s: out of memory for a batch of %zu "
                      "rows", fn, bs);
        goto done;
    }
    /* the net's own scratch too, so no step of the fit allocates (and a
       fit cannot run out of memory after it has changed the net) */
    st = nn__net_reserve(net, bs, fn);
    if (st != NN_OK) goto done;
    if (perm != NULL)
        for (i = 0; i < n; i++) perm[i] = i;
    nn__rng_seed(&rng, tr->seed);

    for (i = 0; i <= NN_METRIC_STOPPED; i++) tr->m[i] = 0;
    tr->m[NN_METRIC_VAL_LOSS] = NAN;
    tr->m[NN_METRIC_VAL_ACCURACY] = NAN;
    tr->m[NN_METRIC_STEPS_PER_EPOCH] = (double)steps;
    tr->busy = 1;

    for (epoch = 1; epoch <= tr->epochs && !stopped; epoch++) {
        double lsum = 0;
        size_t hits = 0, units = 0, s;
        tr->m[NN_METRIC_EPOCH] = (double)epoch;
        if (perm != NULL)   /* Fisher-Yates over the row indices */
            for (i = n - 1; i > 0; i--) {
                size_t j = (size_t)nn__rng_below(&rng, (uint64_t)i + 1), t;
                t = perm[i]; perm[i] = perm[j]; perm[j] = t;
            }
        for (s = 0; s < steps && !stopped; s++) {
            size_t r0 = s * bs, rows = n - r0 < bs ? n - r0 : bs, u, h;
            const float *bx = x + r0 * d.n_in;
            const float *bt = targets != NULL ? targets + r0 * d.n_out : NULL;
            const int32_t *by = labels != NULL ? labels + r0 : NULL;
            float l = 0, lr;
            if (perm != NULL) {   /* gather the shuffled targets */
                for (i = 0; i < rows; i++) {
                    size_t r = perm[r0 + i];
                    if (tb != NULL)
                        memcpy(tb + i * d.n_out, targets + r * d.n_out,
                               d.n_out * sizeof(float));
                    if (yb != NULL) yb[i] = labels[r];
                }
                bt = tb;
                by = yb;
            }
            /* the shuffled rows of x are gathered by the forward's own
               copy of its input */
            st = perm != NULL
                     ? nn__forward_rows(net, x, perm + r0, rows, ob,
                                        "nn_forward")
                     : nn_forward(net, bx, rows, ob);
            if (st == NN_OK && nn__optimizer_plain_sgd(tr->opt, &lr)) {
                /* plain SGD: the update fused into the gradient product
                   (nn_backward_sgd), then counted as the optimizer's */
                st = by != NULL ? nn_backward_labels_sgd(net, by, lr, &l)
                                : nn_backward_sgd(net, loss, bt, lr, &l);
                if (st == NN_OK) nn__optimizer_count_step(tr->opt);
            } else if (st == NN_OK) {
                st = by != NULL ? nn_backward_labels(net, by, &l)
                                : nn_backward(net, loss, bt, &l);
                if (st == NN_OK) st = nn_optimizer_step(tr->opt);
            }
            step++;
            if (st != NN_OK) {
                st = nn__step_fail(st, epoch, s + 1);
                goto done;
            }
            h = nn__hits(d.acc, ob, bt, by, rows, d.n_out, d.precision, &u);
            lsum += (double)l * (double)rows;
            hits += h;
            units += u;
            tr->m[NN_METRIC_STEP] = (double)step;
            if (tr->report_every != 0 && step % tr->report_every == 0) {
                tr->m[NN_METRIC_LOSS] = (double)l;
                tr->m[NN_METRIC_ACCURACY] = u ? (double)h / (double)u : NAN;
                stopped = nn__callback(tr, NN_EVENT_STEP, t0);
            }
        }
        tr->m[NN_METRIC_LOSS] = lsum / (double)(s * bs < n ? s * bs : n);
        tr->m[NN_METRIC_ACCURACY] = units ? (double)hits / (double)units
                                          : NAN;
        if (have_val) {
            st = nn__evaluate(tr, &v, vb, loss, &tr->m[NN_METRIC_VAL_LOSS],
                              &tr->m[NN_METRIC_VAL_ACCURACY]);
            if (st != NN_OK) {
                st = nn__step_fail(st, epoch, s);
                goto done;
            }
        }
        if (!stopped) stopped = nn__callback(tr, NN_EVENT_EPOCH, t0);
    }
    tr->m[NN_METRIC_STOPPED] = stopped;
    tr->m[NN_METRIC_SECONDS] = nn__seconds() - t0;
    {   /* readable after the fit too, with or without a callback */
        double lr = 0;
        float reg = 0;
        nn_optimizer_get(tr->opt, NN_OPT_CURRENT_LEARNING_RATE, &lr);
        if (nn_net_regularization_loss(net, &reg) != NN_OK) reg = INFINITY;
        tr->m[NN_METRIC_LEARNING_RATE] = lr;
        tr->m[NN_METRIC_REG_LOSS] = (double)reg;
    }
    st = NN_OK;
done:
    tr->busy = 0;
    nn__free(perm);
    nn__free(tb);
    nn__free(yb);
    nn__free(ob);
    nn__free(vb);
    return st;
}
