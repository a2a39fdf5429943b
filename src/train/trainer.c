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

    size_t first_epoch;         /* NN_TRAIN_FIRST_EPOCH, >= 1 */

    /* data-parallel replica (nn_trainer_set_sync): sync NULL = plain */
    nn_sync_fn sync;
    void *sync_user;
    int32_t rank, size;

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
    t->first_epoch = 1;
    t->size = 1;
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
    "precision", "report_every", "x_cols", "val_x_cols", "first_epoch"};
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
    case NN_TRAIN_FIRST_EPOCH:
        NN__CHECK(value < 1, NN_ERR_INVALID_ARG, "%s: first_epoch is 0", fn);
        trainer->first_epoch = (size_t)value;
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
    case NN_TRAIN_FIRST_EPOCH:
        *value_out = (double)trainer->first_epoch;
        break;
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

int nn_trainer_set_sync(nn_trainer *trainer, int32_t rank, int32_t size,
                        nn_sync_fn fn_, void *user)
{
    static const char fn[] = "nn_trainer_set_sync";
    NN__CHECK(trainer == NULL, NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    NN__CHECK_HANDLE(trainer, NN__TAG_TRAINER, "trainer", fn);
    NN__CHECK(trainer->busy, NN_ERR_STATE, "%s: called during a fit", fn);
    NN__CHECK(size < 1 || rank < 0 || rank >= size, NN_ERR_INVALID_ARG,
              "%s: rank %d of size %d (size >= 1, 0 <= rank < size)", fn,
              (int)rank, (int)size);
    trainer->sync = fn_;
    trainer->sync_user = user;
    trainer->rank = fn_ != NULL ? rank : 0;
    trainer->size = fn_ != NULL ? size : 1;
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

/* Loss and accuracy sums of the net on a whole set, by blocks of
   inference: sums[0] the loss times rows, [1] the hits, [2] the units
   they are counted over, [3] the rows. */
static int nn__evaluate(nn_trainer *tr, const struct nn__fit *d, float *buf,
                        int32_t loss, double sums[4])
{
    const struct nn__kernels *k = nn__kernels();
    double lsum = 0;
    size_t r0, hits = 0, units = 0;
    for (r0 = 0; r0 < d->n; r0 += NN__VAL_ROWS) {
        size_t rows = d->n - r0 < NN__VAL_ROWS ? d->n - r0 : NN__VAL_ROWS, u;
        const float *t = d->t != NULL ? d->t + r0 * d->n_out : NULL;
        const int32_t *y = d->y != NULL ? d->y + r0 : NULL;
        NN__FORWARD(nn_predict(tr->net, d->x + r0 * d->n_in, rows, buf));
        lsum += (double)rows * (y != NULL
                    ? k->cce_labels(buf, y, NULL, rows, d->n_out)
                    : k->loss[loss](buf, t, NULL, rows, d->n_out));
        hits += nn__hits(d->acc, buf, t, y, rows, d->n_out, d->precision, &u);
        units += u;
    }
    sums[0] = lsum;
    sums[1] = (double)hits;
    sums[2] = (double)units;
    sums[3] = (double)d->n;
    return NN_OK;
}

/* The metrics' means from sums as nn__evaluate's: the loss per row and
   the accuracy (NaN when nothing was counted). */
static void nn__means(const double sums[4], double *loss, double *acc)
{
    *loss = sums[3] > 0 ? sums[0] / sums[3] : NAN;
    *acc = sums[2] > 0 ? sums[1] / sums[2] : NAN;
}

/* Restate the failure of a step with its position in the fit. */
static int nn__step_fail(int st, size_t epoch, size_t step)
{
    return nn__fail_wrap(st, NULL, "nn_trainer_fit: epoch %zu, step %zu: ",
                         epoch, step);
}

/* The metrics read from the optimizer and the net: the current learning
   rate and the regularization loss (+inf when it overflows float). */
static void nn__publish_rates(nn_trainer *tr)
{
    double lr = 0;
    float reg = 0;
    nn_optimizer_get(tr->opt, NN_OPT_CURRENT_LEARNING_RATE, &lr);
    if (nn_net_regularization_loss(tr->net, &reg) != NN_OK) reg = INFINITY;
    tr->m[NN_METRIC_LEARNING_RATE] = lr;
    tr->m[NN_METRIC_REG_LOSS] = (double)reg;
}

static int nn__callback(nn_trainer *tr, int32_t event, double t0)
{
    if (tr->fn == NULL) return 0;
    nn__publish_rates(tr);
    tr->m[NN_METRIC_SECONDS] = nn__seconds() - t0;
    return tr->fn(tr->user, tr, event) != 0;
}

/* One fit's state: the data sets, the batch scratch (allocated once)
   and the counters its epochs share. */
struct nn__fit_run {
    nn_trainer *tr;
    nn_net *net;
    struct nn__fit d, v;
    int32_t loss;
    int have_val, stopped;
    size_t bs, steps, step;
    size_t n_all;     /* training rows of all replicas (n without sync) */
    size_t *perm;
    float *tb, *ob, *vb;
    int32_t *yb;
    struct nn__rng rng;
    double t0;
    char msg[1024];   /* a replica's message through the sync */
};

/*---- data-parallel replicas (nn_trainer_set_sync) */

/* One collective call of the trainer's sync: this replica's status st
   (with its message) in, the agreed status out; a failure anywhere
   becomes this replica's message too. */
static int nn__sync(struct nn__fit_run *f, int32_t op, double *v, size_t n,
                    int st)
{
    nn_trainer *tr = f->tr;
    int r;
    snprintf(f->msg, sizeof f->msg, "%s", st != NN_OK ? nn_last_error() : "");
    r = tr->sync(tr->sync_user, op, f->net, v, n, st, f->msg, sizeof f->msg);
    if (r == NN_OK) return NN_OK;
    f->msg[sizeof f->msg - 1] = '\0';
    return nn__fail(r, "%s", f->msg[0] != '\0'
                                 ? f->msg
                                 : "nn_trainer_fit: a replica failed (the "
                                   "sync function gave no message)");
}

/* A 20-bit digest of what must be alike on every replica. */
static double nn__fit_digest(const struct nn__fit_run *f)
{
    const nn_trainer *tr = f->tr;
    uint64_t v[12], h = 0xcbf29ce484222325ull;
    size_t i;
    v[0] = (uint64_t)f->loss;
    v[1] = (uint64_t)f->d.acc;
    v[2] = f->d.n_in;
    v[3] = f->d.n_out;
    v[4] = f->d.y != NULL;
    v[5] = tr->batch_size;
    v[6] = tr->epochs;
    v[7] = (uint64_t)tr->shuffle;
    v[8] = tr->seed;
    v[9] = tr->first_epoch;
    v[10] = tr->report_every;
    v[11] = (uint64_t)(tr->precision * 1e9);
    for (i = 0; i < 12; i++) {
        h ^= v[i];
        h *= 0x100000001b3ull;
    }
    return (double)((h ^ (h >> 20) ^ (h >> 40)) & 0xfffff);
}

/* The replicas agree to start (st: this replica's validation), check
   that their fits are alike, and count all rows: n_all, and *val_all
   the validation rows.  Equal digests are the only way sum h = size h
   and sum h^2 = size h^2 hold on a replica (the variance is 0). */
static int nn__sync_start(struct nn__fit_run *f, int st, size_t *val_all)
{
    const nn_trainer *tr = f->tr;
    double h = st == NN_OK ? nn__fit_digest(f) : 0, sz = (double)tr->size;
    double v[4];
    v[0] = h;
    v[1] = h * h;
    v[2] = st == NN_OK ? (double)f->d.n : 0;
    v[3] = st == NN_OK && f->have_val ? (double)f->v.n : 0;
    NN__FORWARD(nn__sync(f, NN_SYNC_SUM, v, 4, st));
    NN__CHECK(v[0] != sz * h || v[1] != sz * h * h, NN_ERR_INVALID_ARG,
              "nn_trainer_fit: the replicas' fits differ (settings, loss, "
              "labels or targets, or the net's inputs and outputs): every "
              "replica must call it alike");
    f->n_all = (size_t)v[2];
    *val_all = (size_t)v[3];
    return NN_OK;
}

/* ---- validate: the handles, then which arguments are given */
static int nn__fit_check_args(nn_trainer *tr, const float *x,
                              const float *targets, const int32_t *labels,
                              size_t n, const float *val_targets,
                              const int32_t *val_labels, int have_val,
                              const char *fn)
{
    /* (the trainer itself and its busy flag: nn_trainer_fit, first) */
    NN__CHECK_HANDLE(tr->net, NN__TAG_NET, "trainer's net", fn);
    NN__CHECK_HANDLE(tr->opt, NN__TAG_OPTIMIZER, "trainer's optimizer", fn);
    NN__CHECK(x == NULL, NN_ERR_INVALID_ARG, "%s: x is NULL", fn);
    NN__CHECK((targets == NULL) == (labels == NULL), NN_ERR_INVALID_ARG,
              "%s: give exactly one of targets and labels", fn);
    NN__CHECK(n == 0, NN_ERR_INVALID_ARG, "%s: n is 0", fn);
    NN__CHECK(have_val && (val_targets == NULL) == (val_labels == NULL),
              NN_ERR_INVALID_ARG, "%s: give exactly one of val_targets and "
              "val_labels", fn);
    NN__CHECK(have_val && ((targets == NULL) != (val_targets == NULL)),
              NN_ERR_INVALID_ARG, "%s: validation data must be labelled like "
              "the training data (targets or labels)", fn);
    return NN_OK;
}

/* ---- validate: the data sets' widths, the loss and accuracy they call
   for, and their values (f->d and f->v filled) */
static int nn__fit_sets(struct nn__fit_run *f, const float *x,
                        const float *targets, const int32_t *labels,
                        size_t n, const float *val_x,
                        const float *val_targets, const int32_t *val_labels,
                        size_t n_val, const char *fn)
{
    const nn_trainer *tr = f->tr;
    struct nn__fit *d = &f->d, *v = &f->v;

    d->x = x; d->t = targets; d->y = labels; d->n = n;
    d->n_in = f->net->layers[0].n_in;
    /* A row width the caller declared must be the net's: rows of another
       width would be read past their end (the validation set's first). */
    NN__CHECK(tr->x_cols != 0 && tr->x_cols != d->n_in, NN_ERR_SHAPE,
              "%s: x rows are %zu wide (NN_TRAIN_X_COLS) but the net takes "
              "%zu inputs", fn, tr->x_cols, d->n_in);
    NN__CHECK(f->have_val && tr->val_x_cols != 0 &&
              tr->val_x_cols != d->n_in,
              NN_ERR_SHAPE, "%s: val_x rows are %zu wide "
              "(NN_TRAIN_VAL_X_COLS) but the net takes %zu inputs", fn,
              tr->val_x_cols, d->n_in);
    d->n_out = f->net->layers[f->net->n_layers - 1].n_out;
    f->loss = labels != NULL ? NN_LOSS_CCE : tr->loss;
    d->acc = tr->accuracy >= 0 ? tr->accuracy
             : (labels != NULL || f->loss == NN_LOSS_CCE
                    ? NN_ACCURACY_CATEGORICAL
                : f->loss == NN_LOSS_BCE ? NN_ACCURACY_BINARY
                                         : NN_ACCURACY_REGRESSION);
    NN__CHECK(labels != NULL && d->acc != NN_ACCURACY_CATEGORICAL &&
              d->acc != NN_ACCURACY_NONE, NN_ERR_INVALID_ARG,
              "%s: labels call for categorical accuracy", fn);
    NN__FORWARD(nn__check_set(fn, "training", d));
    *v = *d;
    v->x = val_x; v->t = val_targets; v->y = val_labels; v->n = n_val;
    if (f->have_val) {
        NN__FORWARD(nn__check_set(fn, "validation", v));
    }
    return NN_OK;
}

/* ---- the course's regression precision: std(targets) / 250 (of all
   replicas' targets) */
static int nn__fit_precision(struct nn__fit_run *f)
{
    const nn_trainer *tr = f->tr;
    struct nn__fit *d = &f->d;
    const float *targets = d->t;
    size_t i, total;

    d->precision = (float)tr->precision;
    if (d->acc == NN_ACCURACY_REGRESSION && tr->precision == 0) {
        /* two passes (the mean, then the squares about it), each summed
           over the replicas when there are several */
        double v[2] = {0, 0}, var = 0, mean;
        total = d->n * d->n_out;
        for (i = 0; i < total; i++) v[0] += targets[i];
        v[1] = (double)total;
        if (tr->sync != NULL)
            NN__FORWARD(nn__sync(f, NN_SYNC_SUM, v, 2, NN_OK));
        mean = v[0] / v[1];
        for (i = 0; i < total; i++)
            var += (targets[i] - mean) * (targets[i] - mean);
        if (tr->sync != NULL)
            NN__FORWARD(nn__sync(f, NN_SYNC_SUM, &var, 1, NN_OK));
        d->precision = (float)(sqrt(var / v[1]) / 250.0);
        if (!(d->precision > 0)) d->precision = 1e-7f;  /* constant targets */
    }
    f->v.precision = d->precision;
    return NN_OK;
}

/* ---- everything the fit needs, allocated once */
static int nn__fit_alloc(struct nn__fit_run *f, const char *fn)
{
    const nn_trainer *tr = f->tr;
    size_t n = f->d.n, bs = f->bs, n_out = f->d.n_out;
    int has_t = f->d.t != NULL, has_y = f->d.y != NULL;

    f->perm = tr->shuffle ? nn__malloc(n * sizeof *f->perm) : NULL;
    f->tb = tr->shuffle && has_t ? nn__malloc(bs * n_out * sizeof(float))
                                 : NULL;
    f->yb = tr->shuffle && has_y ? nn__malloc(bs * sizeof(int32_t)) : NULL;
    f->ob = nn__malloc(bs * n_out * sizeof(float));
    f->vb = f->have_val ? nn__malloc(NN__VAL_ROWS * n_out * sizeof(float))
                        : NULL;
    NN__CHECK((tr->shuffle && (f->perm == NULL ||
                               (has_t && f->tb == NULL) ||
                               (has_y && f->yb == NULL))) ||
              f->ob == NULL || (f->have_val && f->vb == NULL),
              NN_ERR_NOMEM, "%s: out of memory for a batch of %zu rows", fn,
              bs);
    /* the net's own scratch too, so no step of the fit allocates (and a
       fit cannot run out of memory after it has changed the net) */
    return nn__net_reserve(f->net, bs, fn);
}

static void nn__fit_free(struct nn__fit_run *f)
{
    nn__free(f->perm);
    nn__free(f->tb);
    nn__free(f->yb);
    nn__free(f->ob);
    nn__free(f->vb);
}

/* ---- the fit's first state: identity order, seeded rng, zeroed
   metrics; the trainer is busy from here on */
static void nn__fit_start(struct nn__fit_run *f)
{
    nn_trainer *tr = f->tr;
    size_t i;
    /* (f->perm is set from the identity by each epoch's shuffle) */
    for (i = 0; i <= NN_METRIC_STOPPED; i++) tr->m[i] = 0;
    tr->m[NN_METRIC_VAL_LOSS] = NAN;
    tr->m[NN_METRIC_VAL_ACCURACY] = NAN;
    tr->m[NN_METRIC_STEPS_PER_EPOCH] = (double)f->steps;
    tr->busy = 1;
}

/* Fisher-Yates over the row indices, from the identity, with a
   generator seeded by (seed, epoch, rank) alone: a resumed fit
   (NN_TRAIN_FIRST_EPOCH) draws an uninterrupted one's orders */
static void nn__fit_shuffle(struct nn__fit_run *f, size_t epoch)
{
    const nn_trainer *tr = f->tr;
    size_t i;
    nn__rng_seed(&f->rng,
                 tr->seed ^ (uint64_t)epoch * UINT64_C(0x9e3779b97f4a7c15) ^
                     (uint64_t)(uint32_t)tr->rank *
                         UINT64_C(0xd1b54a32d192ed03));
    for (i = 0; i < f->d.n; i++) f->perm[i] = i;
    for (i = f->d.n - 1; i > 0; i--) {
        size_t j = (size_t)nn__rng_below(&f->rng, (uint64_t)i + 1), t;
        t = f->perm[i]; f->perm[i] = f->perm[j]; f->perm[j] = t;
    }
}

/* ---- one step on rows r0 .. r0 + rows - 1 (in shuffled order when
   shuffling): forward, backward, update.  *bt_out / *by_out are the
   batch's targets or labels, *l its loss. */
static int nn__fit_step(struct nn__fit_run *f, size_t r0, size_t rows,
                        const float **bt_out, const int32_t **by_out,
                        float *l)
{
    const struct nn__fit *d = &f->d;
    nn_net *net = f->net;
    const float *bt = d->t != NULL ? d->t + r0 * d->n_out : NULL;
    const int32_t *by = d->y != NULL ? d->y + r0 : NULL;
    float lr;
    size_t i;
    int st;

    if (f->perm != NULL) {   /* gather the shuffled targets */
        for (i = 0; i < rows; i++) {
            size_t r = f->perm[r0 + i];
            if (f->tb != NULL)
                memcpy(f->tb + i * d->n_out, d->t + r * d->n_out,
                       d->n_out * sizeof(float));
            if (f->yb != NULL) f->yb[i] = d->y[r];
        }
        bt = f->tb;
        by = f->yb;
    }
    *bt_out = bt;
    *by_out = by;
    /* the shuffled rows of x are gathered by the forward's own copy of
       its input */
    NN__FORWARD(f->perm != NULL
                    ? nn__forward_rows(net, d->x, f->perm + r0, rows, f->ob,
                                       "nn_forward")
                    : nn_forward(net, d->x + r0 * d->n_in, rows, f->ob));
    if (f->tr->sync == NULL && nn__optimizer_plain_sgd(f->tr->opt, &lr)) {
        /* plain SGD: the update fused into the gradient product
           (nn_backward_sgd), then counted as the optimizer's */
        st = by != NULL ? nn_backward_labels_sgd(net, by, lr, l)
                        : nn_backward_sgd(net, f->loss, bt, lr, l);
        if (st == NN_OK) nn__optimizer_count_step(f->tr->opt);
        return st;
    }
    st = by != NULL ? nn_backward_labels(net, by, l)
                    : nn_backward(net, f->loss, bt, l);
    if (st == NN_OK && f->tr->sync == NULL)
        st = nn_optimizer_step(f->tr->opt);
    return st;
}

/* ---- a replica's step: its rows (none at an epoch's end when its share
   ran out), the gradients' global mean, the update all replicas make */
static int nn__fit_sync_step(struct nn__fit_run *f, size_t epoch, size_t s,
                             size_t r0, size_t rows, const float **bt,
                             const int32_t **by, float *l)
{
    double v = (double)rows;
    int st = NN_OK;
    if (rows > 0) st = nn__fit_step(f, r0, rows, bt, by, l);
    if (st != NN_OK) st = nn__step_fail(st, epoch, s + 1);
    NN__FORWARD(nn__sync(f, NN_SYNC_GRADS, &v, 1, st));
    if (!(v > 0)) return NN_OK;   /* no replica had rows: no update */
    /* the same gradients and state on every replica: the same outcome */
    st = nn_optimizer_step(f->tr->opt);
    if (st != NN_OK) return nn__step_fail(st, epoch, s + 1);
    return NN_OK;
}

/* ---- a callback's return, or-ed over the replicas */
static int nn__fit_stop(struct nn__fit_run *f, int stop, int *out)
{
    double v = stop != 0;
    if (f->tr->sync != NULL)
        NN__FORWARD(nn__sync(f, NN_SYNC_SUM, &v, 1, NN_OK));
    *out = v > 0;
    return NN_OK;
}

/* ---- one epoch: its steps, their metrics and callbacks, then the
   validation set and the epoch's callback (with sync, every metric over
   all replicas' rows) */
static int nn__fit_epoch(struct nn__fit_run *f, size_t epoch)
{
    nn_trainer *tr = f->tr;
    size_t n = f->d.n, bs = f->bs, s, j;
    /* the epoch's sums (as nn__evaluate's): training, then validation */
    double sums[8] = {0, 0, 0, 0, 0, 0, 0, 0}, *es = sums, *vs = sums + 4;
    int st, stop;

    tr->m[NN_METRIC_EPOCH] = (double)epoch;
    if (f->perm != NULL) nn__fit_shuffle(f, epoch);
    for (s = 0; s < f->steps && !f->stopped; s++) {
        size_t r0 = s * bs, u = 0, h = 0, rows = n - r0 < bs ? n - r0 : bs;
        const float *bt = NULL;
        const int32_t *by = NULL;
        float l = 0;
        if (tr->sync != NULL) {
            /* this replica's s-th share of its rows: n / steps, the
               first n % steps steps one more */
            size_t q = n / f->steps, rem = n % f->steps;
            r0 = s * q + (s < rem ? s : rem);
            rows = q + (s < rem);
            NN__FORWARD(nn__fit_sync_step(f, epoch, s, r0, rows, &bt, &by,
                                          &l));
        } else {
            st = nn__fit_step(f, r0, rows, &bt, &by, &l);
            if (st != NN_OK) {
                f->step++;
                return nn__step_fail(st, epoch, s + 1);
            }
        }
        f->step++;
        if (rows > 0)
            h = nn__hits(f->d.acc, f->ob, bt, by, rows, f->d.n_out,
                         f->d.precision, &u);
        double sv[4] = {(double)l * (double)rows, (double)h, (double)u,
                        (double)rows};
        for (j = 0; j < 4; j++) es[j] += sv[j];
        tr->m[NN_METRIC_STEP] = (double)f->step;
        if (tr->report_every != 0 && f->step % tr->report_every == 0) {
            if (tr->sync != NULL)
                NN__FORWARD(nn__sync(f, NN_SYNC_SUM, sv, 4, NN_OK));
            nn__means(sv, &tr->m[NN_METRIC_LOSS], &tr->m[NN_METRIC_ACCURACY]);
            NN__FORWARD(nn__fit_stop(f, nn__callback(tr, NN_EVENT_STEP,
                                                     f->t0), &f->stopped));
        }
    }
    st = NN_OK;
    if (f->have_val && f->v.n > 0) {
        st = nn__evaluate(tr, &f->v, f->vb, f->loss, vs);
        if (st != NN_OK) st = nn__step_fail(st, epoch, s);
    }
    if (tr->sync != NULL) {
        NN__FORWARD(nn__sync(f, NN_SYNC_SUM, sums, 8, st));
    } else if (st != NN_OK) {
        return st;
    }
    nn__means(es, &tr->m[NN_METRIC_LOSS], &tr->m[NN_METRIC_ACCURACY]);
    if (f->have_val)
        nn__means(vs, &tr->m[NN_METRIC_VAL_LOSS],
                  &tr->m[NN_METRIC_VAL_ACCURACY]);
    if (!f->stopped) {
        NN__FORWARD(nn__fit_stop(f, nn__callback(tr, NN_EVENT_EPOCH, f->t0),
                                 &stop));
        f->stopped = stop;
    }
    return NN_OK;
}

/* ---- publish the closing metrics: readable after the fit too, with or
   without a callback */
static void nn__fit_finish(struct nn__fit_run *f)
{
    nn_trainer *tr = f->tr;
    tr->m[NN_METRIC_STOPPED] = f->stopped;
    tr->m[NN_METRIC_SECONDS] = nn__seconds() - f->t0;
    nn__publish_rates(tr);
}

int nn_trainer_fit(nn_trainer *trainer, const float *x, const float *targets,
                   const int32_t *labels, size_t n, const float *val_x,
                   const float *val_targets, const int32_t *val_labels,
                   size_t n_val)
{
    static const char fn[] = "nn_trainer_fit";
    struct nn__fit_run f;
    size_t epoch, val_all = 0;
    int st;

    memset(&f, 0, sizeof f);
    f.t0 = nn__seconds();
    f.have_val = val_x != NULL && n_val > 0;
    /* the trainer itself first: without it no other replica can be told */
    NN__CHECK(trainer == NULL, NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    NN__CHECK_HANDLE(trainer, NN__TAG_TRAINER, "trainer", fn);
    NN__CHECK(trainer->busy, NN_ERR_STATE,
              "%s: called from its own progress callback", fn);
    f.tr = trainer;
    f.net = trainer->net;
    st = nn__fit_check_args(trainer, x, targets, labels, n, val_targets,
                            val_labels, f.have_val, fn);
    if (st == NN_OK)
        st = nn__fit_sets(&f, x, targets, labels, n, val_x, val_targets,
                          val_labels, n_val, fn);
    if (trainer->sync != NULL) {
        int local_val = f.have_val;
        NN__FORWARD(nn__sync_start(&f, st, &val_all));
        if (!local_val) f.v.n = 0;   /* this replica has none */
        f.have_val = val_all > 0;
    } else {
        NN__FORWARD(st);
        f.n_all = n;
    }
    NN__FORWARD(nn__fit_precision(&f));
    /* the global batch, the steps of an epoch, this replica's share */
    f.bs = trainer->batch_size == 0 || trainer->batch_size > f.n_all
               ? f.n_all : trainer->batch_size;
    f.steps = (f.n_all + f.bs - 1) / f.bs;
    if (trainer->sync != NULL) f.bs = (n + f.steps - 1) / f.steps;  /* most */

    st = nn__fit_alloc(&f, fn);
    if (trainer->sync != NULL) {
        double none = 0;
        st = nn__sync(&f, NN_SYNC_SUM, &none, 0, st);
    }
    if (st == NN_OK) {
        nn__fit_start(&f);
        for (epoch = 0; epoch < trainer->epochs && !f.stopped; epoch++) {
            st = nn__fit_epoch(&f, trainer->first_epoch + epoch);
            if (st != NN_OK) break;
        }
        if (st == NN_OK) nn__fit_finish(&f);
    }
    trainer->busy = 0;
    nn__fit_free(&f);
    return st;
}
