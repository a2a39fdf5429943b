/*
 * optimizers.c - the optimizer handle: SGD with decay and momentum,
 * Adagrad, RMSprop and Adam, as the NNFS course defines them.
 *
 * A step is all-or-nothing.  Before touching anything it proves from
 * magnitudes it already knows (max|W| kept exact, the gradient bound of
 * the backward, bounds on the state) that no new value can overflow;
 * when those bounds are too loose to decide it runs an exact read-only
 * check first.  The update itself is one pass per array in
 * train_kernels.c.
 */
#include "base/base.h"
#include "kernels/kernels.h"
#include "core/core.h"
#include "core/parallel.h"
#include "train.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct nn_optimizer {
    uint64_t tag;   /* NN__TAG_OPTIMIZER: first member (base/base.h) */
    nn_net *net;
    int32_t kind;
    double lr, decay, momentum, epsilon, rho, beta1, beta2;
    uint64_t iterations;
    /* state, same layout as net->params: SGD momentums or the Adagrad /
       RMSprop cache in s1; Adam's first moment in s1, second in s2 */
    float *s1, *s2;
    /* per layer: bounds on max|s1|, max|s2| (conservative, never below
       the true values) */
    double *b1, *b2;
};

static const char *const nn__opt_names[] = {"SGD", "Adagrad", "RMSprop",
                                            "Adam"};
static const char *const nn__setting_names[] = {
    "learning_rate", "decay", "momentum", "epsilon", "rho", "beta1", "beta2",
    "iterations", "current_learning_rate"};
_Static_assert(sizeof nn__opt_names / sizeof *nn__opt_names == NN__N_OPT,
               "nn__opt_names: one name per NN_OPT_* kind");
_Static_assert(sizeof nn__setting_names / sizeof *nn__setting_names ==
                   NN__N_OPT_SETTING,
               "nn__setting_names: one name per NN_OPT_* setting");

/* A fresh optimizer's settings, the NNFS course's defaults, and its tag
   (nn_optimizer_create, and the scratch copies a checkpoint load
   validates with). */
static void nn__opt_defaults(nn_optimizer *o, int32_t kind)
{
    memset(o, 0, sizeof *o);
    o->tag = NN__TAG_OPTIMIZER;   /* a scratch copy nn_optimizer_set takes */
    o->kind = kind;
    o->lr = kind == NN_OPT_SGD || kind == NN_OPT_ADAGRAD ? 1.0 : 0.001;
    o->epsilon = 1e-7;
    o->rho = 0.9;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
}

int nn_optimizer_create(nn_optimizer **out, nn_net *net, int32_t kind)
{
    static const char fn[] = "nn_optimizer_create";
    nn_optimizer *o;
    size_t n;
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(kind < 0 || kind >= NN__N_OPT, NN_ERR_INVALID_ARG,
              "%s: kind = %d is not an NN_OPT_* kind", fn, (int)kind);
    n = net->n_params;
    o = nn__calloc(1, sizeof *o);
    if (o == NULL) goto nomem;
    nn__opt_defaults(o, kind);
    o->net = net;
    o->s1 = nn__calloc(n, sizeof(float));
    o->b1 = nn__calloc(net->n_layers, sizeof(double));
    o->b2 = nn__calloc(net->n_layers, sizeof(double));
    if (o->s1 == NULL || o->b1 == NULL || o->b2 == NULL) goto nomem;
    if (kind == NN_OPT_ADAM) {
        o->s2 = nn__calloc(n, sizeof(float));
        if (o->s2 == NULL) goto nomem;
    }
    *out = o;
    return NN_OK;
nomem:
    nn_optimizer_destroy(o);
    return nn__fail(NN_ERR_NOMEM, "%s: out of memory for the state of %zu "
                    "parameters", fn, n);
}

void nn_optimizer_destroy(nn_optimizer *opt)
{
    NN__CHECK_HANDLE_OR(opt, NN__TAG_OPTIMIZER, "opt", "nn_optimizer_destroy",
                        );
    if (opt == NULL) return;
    NN__KILL_HANDLE(opt);
    nn__free(opt->s1);
    nn__free(opt->s2);
    nn__free(opt->b1);
    nn__free(opt->b2);
    nn__free(opt);
}

int32_t nn_optimizer_kind(const nn_optimizer *opt)
{
    NN__CHECK_HANDLE_OR(opt, NN__TAG_OPTIMIZER, "opt", "nn_optimizer_kind",
                        -1);
    return opt == NULL ? -1 : opt->kind;
}

/* Does setting apply to kind? */
static int nn__applies(int32_t kind, int32_t setting)
{
    switch (setting) {
    case NN_OPT_MOMENTUM: return kind == NN_OPT_SGD;
    case NN_OPT_EPSILON: return kind != NN_OPT_SGD;
    case NN_OPT_RHO: return kind == NN_OPT_RMSPROP;
    case NN_OPT_BETA1:
    case NN_OPT_BETA2: return kind == NN_OPT_ADAM;
    default: return 1;
    }
}

static int nn__check_setting(const nn_optimizer *opt, int32_t setting,
                             const char *fn)
{
    NN__CHECK(opt == NULL, NN_ERR_INVALID_ARG, "%s: opt is NULL", fn);
    NN__CHECK_HANDLE(opt, NN__TAG_OPTIMIZER, "opt", fn);
    NN__CHECK(setting < 0 || setting >= NN__N_OPT_SETTING, NN_ERR_INVALID_ARG,
              "%s: setting = %d is not an NN_OPT_* setting", fn,
              (int)setting);
    NN__CHECK(!nn__applies(opt->kind, setting), NN_ERR_INVALID_ARG,
              "%s: %s does not apply to %s", fn, nn__setting_names[setting],
              nn__opt_names[opt->kind]);
    return NN_OK;
}

static double nn__current_lr(const nn_optimizer *o)
{
    return o->lr / (1.0 + o->decay * (double)o->iterations);
}

int nn_optimizer_set(nn_optimizer *opt, int32_t setting, double value)
{
    static const char fn[] = "nn_optimizer_set";
    const char *name;
    NN__FORWARD(nn__check_setting(opt, setting, fn));
    name = nn__setting_names[setting];
    NN__CHECK(setting == NN_OPT_CURRENT_LEARNING_RATE, NN_ERR_INVALID_ARG,
              "%s: %s is read only (set learning_rate, decay or "
              "iterations)", fn, name);
    NN__CHECK(!isfinite(value), NN_ERR_NONFINITE, "%s: %s is %s", fn, name,
              isnan(value) ? "NaN" : "infinite");
    switch (setting) {
    case NN_OPT_LEARNING_RATE:
    case NN_OPT_DECAY:
        NN__CHECK(value < 0, NN_ERR_INVALID_ARG, "%s: %s = %g is negative",
                  fn, name, value);
        NN__CHECK(value > (double)FLT_MAX, NN_ERR_INVALID_ARG,
                  "%s: %s = %g exceeds the float range", fn, name, value);
        if (setting == NN_OPT_LEARNING_RATE) opt->lr = value;
        else opt->decay = value;
        break;
    case NN_OPT_EPSILON:
        NN__CHECK(!(value > 0) || value > 1.0, NN_ERR_INVALID_ARG,
                  "%s: epsilon = %g is outside (0, 1]", fn, value);
        NN__CHECK((float)value == 0.0f, NN_ERR_INVALID_ARG,
                  "%s: epsilon = %g is 0 in float", fn, value);
        opt->epsilon = value;
        break;
    case NN_OPT_ITERATIONS:
        NN__CHECK(value < 0 || value != floor(value) || value > 9.0e15,
                  NN_ERR_INVALID_ARG, "%s: iterations = %g is not an "
                  "integer in [0, 9e15]", fn, value);
        opt->iterations = (uint64_t)value;
        break;
    default:   /* momentum, rho, beta1, beta2: [0, 1) */
        NN__CHECK(value < 0 || value >= 1.0 || (float)value >= 1.0f,
                  NN_ERR_INVALID_ARG, "%s: %s = %g is outside [0, 1)", fn,
                  name, value);
        if (setting == NN_OPT_MOMENTUM) opt->momentum = value;
        else if (setting == NN_OPT_RHO) opt->rho = value;
        else if (setting == NN_OPT_BETA1) opt->beta1 = value;
        else opt->beta2 = value;
        break;
    }
    return NN_OK;
}

int nn_optimizer_get(const nn_optimizer *opt, int32_t setting,
                     double *value_out)
{
    static const char fn[] = "nn_optimizer_get";
    NN__FORWARD(nn__check_setting(opt, setting, fn));
    NN__CHECK(value_out == NULL, NN_ERR_INVALID_ARG, "%s: value_out is NULL",
              fn);
    switch (setting) {
    case NN_OPT_LEARNING_RATE: *value_out = opt->lr; break;
    case NN_OPT_DECAY: *value_out = opt->decay; break;
    case NN_OPT_MOMENTUM: *value_out = opt->momentum; break;
    case NN_OPT_EPSILON: *value_out = opt->epsilon; break;
    case NN_OPT_RHO: *value_out = opt->rho; break;
    case NN_OPT_BETA1: *value_out = opt->beta1; break;
    case NN_OPT_BETA2: *value_out = opt->beta2; break;
    case NN_OPT_ITERATIONS: *value_out = (double)opt->iterations; break;
    default: *value_out = nn__current_lr(opt); break;
    }
    return NN_OK;
}

int nn_optimizer_reset(nn_optimizer *opt)
{
    size_t n;
    NN__CHECK(opt == NULL, NN_ERR_INVALID_ARG,
              "nn_optimizer_reset: opt is NULL");
    NN__CHECK_HANDLE(opt, NN__TAG_OPTIMIZER, "opt", "nn_optimizer_reset");
    NN__CHECK_HANDLE(opt->net, NN__TAG_NET, "opt's net", "nn_optimizer_reset");
    n = opt->net->n_params;
    memset(opt->s1, 0, n * sizeof(float));
    if (opt->s2 != NULL) memset(opt->s2, 0, n * sizeof(float));
    memset(opt->b1, 0, opt->net->n_layers * sizeof(double));
    memset(opt->b2, 0, opt->net->n_layers * sizeof(double));
    opt->iterations = 0;
    return NN_OK;
}

/* The parameters, gradients and state of layer i as one contiguous run:
   net->params lays each layer's w then b out back to back. */
struct nn__run {
    float *w, *s1, *s2;
    const float *g;
    size_t n;
};

static struct nn__run nn__layer_run(const nn_optimizer *o, size_t i)
{
    const nn_net *net = o->net;
    const struct nn__layer *l = &net->layers[i];
    size_t off = (size_t)(l->w - net->params);
    struct nn__run r;
    r.w = l->w;
    r.g = l->dw;
    r.n = l->n_in * l->n_out + l->n_out;
    r.s1 = o->s1 + off;
    r.s2 = o->s2 != NULL ? o->s2 + off : NULL;
    return r;
}

/* Bounds after this step on |w|, |s1|, |s2| of layer i, from magnitudes
   already known.  Returns 1 if they prove every new value finite. */
static int nn__step_safe(const nn_optimizer *o, size_t i, float lr,
                         double c1, double *nb1, double *nb2)
{
    const struct nn__layer *l = &o->net->layers[i];
    double g = l->gbound, w = (double)nn__amax_to_float(l->pmax);
    double step;
    *nb1 = o->b1[i];
    *nb2 = o->b2[i];
    switch (o->kind) {
    case NN_OPT_SGD:
        /* without momentum the step leaves the momentums (s1) as they
           are (possibly from earlier steps with momentum): so must their
           bound be */
        if (o->momentum > 0) {
            *nb1 = o->momentum * o->b1[i] + (double)lr * g;
            step = *nb1;
        } else {
            step = (double)lr * g;
        }
        break;
    case NN_OPT_ADAGRAD:
        /* c >= g^2 after the update, so |g| / sqrt(c) <= 1 */
        *nb1 = o->b1[i] + g * g;
        step = (double)lr * 1.01;
        break;
    case NN_OPT_RMSPROP:
        /* c >= (1 - rho) g^2, so |g| / sqrt(c) <= 1 / sqrt(1 - rho) */
        *nb1 = o->rho * o->b1[i] + (1.0 - o->rho) * g * g;
        step = (double)lr * 1.01 / sqrt(1.0 - o->rho);
        break;
    default:
        *nb1 = o->beta1 * o->b1[i] + (1.0 - o->beta1) * g;
        *nb2 = o->beta2 * o->b2[i] + (1.0 - o->beta2) * g * g;
        /* the denominator is at least epsilon */
        step = (double)lr * c1 * *nb1 / o->epsilon;
        break;
    }
    return w + step <= NN__SAFE_BOUND && *nb1 <= NN__SAFE_BOUND &&
           *nb2 <= NN__SAFE_BOUND;
}

/* The exact check, read only: would the update of run r be finite? */
static int nn__step_finite(const nn_optimizer *o, const struct nn__run *r,
                           float lr, float c1, float c2)
{
    /* as the kernels: 1 - beta and 1 - rho rounded from double */
    float one_b1 = (float)(1.0 - o->beta1), one_b2 = (float)(1.0 - o->beta2);
    float one_rho = (float)(1.0 - o->rho), eps = (float)o->epsilon;
    float b1 = 1.0f - one_b1, b2 = 1.0f - one_b2, rho = 1.0f - one_rho;
    float mu = (float)o->momentum;
    size_t j;
    for (j = 0; j < r->n; j++) {
        float g = r->g[j], w = r->w[j], s, t = 0, nw;
        switch (o->kind) {
        case NN_OPT_SGD:
            s = mu * r->s1[j] - lr * g;
            nw = w + s;
            break;
        case NN_OPT_ADAGRAD:
            s = r->s1[j] + g * g;
            nw = w - lr * g / (sqrtf(s) + eps);
            break;
        case NN_OPT_RMSPROP:
            s = rho * r->s1[j] + one_rho * g * g;
            nw = w - lr * g / (sqrtf(s) + eps);
            break;
        default:
            s = b1 * r->s1[j] + one_b1 * g;
            t = b2 * r->s2[j] + one_b2 * g * g;
            nw = w - lr * (s * c1) / (sqrtf(t * c2) + eps);
            break;
        }
        if (!isfinite(s) || !isfinite(t) || !isfinite(nw)) return 0;
    }
    return 1;
}

/* The update of run r (one pass of the kind's kernel); returns the amax
   of the new weights. */
static uint32_t nn__update(const nn_optimizer *opt, const struct nn__run *r,
                           float lr, double c1, double c2)
{
    const struct nn__kernels *k = nn__kernels();
    const struct nn__train_kernels *tk = nn__train_kernels();
    switch (opt->kind) {
    case NN_OPT_SGD:
        return opt->momentum > 0
                   ? tk->momentum(r->w, r->s1, r->g, r->n, lr,
                                  (float)opt->momentum)
                   : k->sgd(r->w, r->g, r->n, lr);
    case NN_OPT_ADAGRAD:
        return tk->adagrad(r->w, r->s1, r->g, r->n, lr,
                           (float)opt->epsilon);
    case NN_OPT_RMSPROP:
        return tk->rmsprop(r->w, r->s1, r->g, r->n, lr,
                           (float)(1.0 - opt->rho), (float)opt->epsilon);
    default:
        return tk->adam(r->w, r->s1, r->s2, r->g, r->n, lr,
                        (float)(1.0 - opt->beta1), (float)(1.0 - opt->beta2),
                        (float)c1, (float)c2, (float)opt->epsilon);
    }
}

/* The update split over replicas (parallel.h): worker t takes its share
   of every layer's run; the amax of each share goes to the net's
   NN__PM_AUX table.  Element-wise, so the bits are the serial ones. */
struct nn__opt_par {
    const nn_optimizer *opt;
    float lr;
    double c1, c2;
};

static void nn__update_fn(void *vctx, unsigned t, unsigned n)
{
    const struct nn__opt_par *c = vctx;
    size_t i, a, b;
    for (i = 0; i < c->opt->net->n_layers; i++) {
        struct nn__run r = nn__layer_run(c->opt, i);
        nn__par_split(r.n, t, n, &a, &b);
        r.w += a;
        r.g += a;
        r.s1 += a;
        if (r.s2 != NULL) r.s2 += a;
        r.n = b - a;
        *nn__par_m(c->opt->net, NN__PM_AUX, i, t, n) =
            r.n > 0 ? nn__update(c->opt, &r, c->lr, c->c1, c->c2) : 0;
    }
}

int nn_optimizer_step(nn_optimizer *opt)
{
    static const char fn[] = "nn_optimizer_step";
    const struct nn__kernels *k = nn__kernels();
    nn_net *net;
    double lr_d, c1 = 1.0, c2 = 1.0, nb1, nb2;
    float lr;
    size_t i;
    unsigned nw;

    NN__CHECK(opt == NULL, NN_ERR_INVALID_ARG, "%s: opt is NULL", fn);
    NN__CHECK_HANDLE(opt, NN__TAG_OPTIMIZER, "opt", fn);
    NN__CHECK_HANDLE(opt->net, NN__TAG_NET, "opt's net", fn);
    net = opt->net;
    NN__CHECK(!net->has_grads, NN_ERR_STATE,
              "%s: no nn_backward has succeeded on the optimizer's net yet",
              fn);
    lr_d = nn__current_lr(opt);
    lr = (float)lr_d;
    if (opt->kind == NN_OPT_ADAM) {
        /* bias corrections for t = iterations + 1 */
        double t = (double)opt->iterations + 1.0;
        c1 = 1.0 / (1.0 - pow(opt->beta1, t));
        c2 = 1.0 / (1.0 - pow(opt->beta2, t));
    }

    /* prove, or check exactly, before any write */
    for (i = 0; i < net->n_layers; i++) {
        struct nn__run r;
        if (nn__step_safe(opt, i, lr, c1, &nb1, &nb2)) continue;
        r = nn__layer_run(opt, i);
        NN__CHECK(!nn__step_finite(opt, &r, lr, (float)c1, (float)c2),
                  NN_ERR_NONFINITE, "%s: the %s step would make layer %zu's "
                  "parameters or state overflow (learning rate %g)", fn,
                  nn__opt_names[opt->kind], i, lr_d);
    }

    nw = nn__par_elems(net->n_params);
    if (nw > 1 && nn__par_net_reserve(net, nw, fn) == NN_OK) {
        struct nn__opt_par c;
        c.opt = opt;
        c.lr = lr;
        c.c1 = c1;
        c.c2 = c2;
        nn__par_run(nw, nn__update_fn, &c);
    } else {
        nw = 1;
    }
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        struct nn__run r = nn__layer_run(opt, i);
        uint32_t m = 0;
        unsigned t;
        nn__step_safe(opt, i, lr, c1, &nb1, &nb2);
        if (nw > 1)
            for (t = 0; t < nw; t++) {
                uint32_t mt = *nn__par_m(net, NN__PM_AUX, i, t, nw);
                m = mt > m ? mt : m;
            }
        else
            m = nn__update(opt, &r, lr, c1, c2);
        l->pmax = m;
        /* a bound that failed the proof was checked exactly: the state is
           finite, so keep the larger of the bound and the float limit's
           share out of the way by recomputing it exactly */
        if (nb1 > NN__SAFE_BOUND || nb2 > NN__SAFE_BOUND) {
            nb1 = (double)nn__amax_to_float(k->amax(r.s1, r.n));
            if (r.s2 != NULL)
                nb2 = (double)nn__amax_to_float(k->amax(r.s2, r.n));
        }
        opt->b1[i] = nb1;
        opt->b2[i] = nb2;
    }
    opt->iterations++;
    net->batch = 0;   /* the cached forward used the old parameters */
    return NN_OK;
}

nn_net *nn__optimizer_net(const nn_optimizer *opt)
{
    return opt->net;
}

int nn__optimizer_plain_sgd(const nn_optimizer *opt, float *lr)
{
    if (opt->kind != NN_OPT_SGD || opt->momentum > 0) return 0;
    *lr = (float)nn__current_lr(opt);   /* as nn_optimizer_step */
    return 1;
}

void nn__optimizer_count_step(nn_optimizer *opt)
{
    opt->iterations++;
}

/*====== Checkpoint support (io.c) ======*/


static double *nn__opt_field(nn_optimizer *o, int setting)
{
    switch (setting) {
    case NN_OPT_LEARNING_RATE: return &o->lr;
    case NN_OPT_DECAY: return &o->decay;
    case NN_OPT_MOMENTUM: return &o->momentum;
    case NN_OPT_EPSILON: return &o->epsilon;
    case NN_OPT_RHO: return &o->rho;
    case NN_OPT_BETA1: return &o->beta1;
    default: return &o->beta2;
    }
}

void nn__optimizer_export(const nn_optimizer *opt, struct nn__opt_state *st)
{
    int i;
    st->kind = opt->kind;
    for (i = 0; i < NN__OPT_N_SETTINGS; i++)
        st->set[i] = *nn__opt_field((nn_optimizer *)(uintptr_t)opt, i);
    st->iterations = opt->iterations;
    st->s1 = opt->s1;
    st->s2 = opt->s2;
}

int nn__optimizer_check(const struct nn__opt_state *st, const char *fn)
{
    nn_optimizer tmp, def;
    int i;

    NN__CHECK(st->kind < 0 || st->kind >= NN__N_OPT, NN_ERR_FORMAT,
              "%s: optimizer kind %d is not an NN_OPT_* kind", fn,
              (int)st->kind);
    nn__opt_defaults(&tmp, st->kind);
    nn__opt_defaults(&def, st->kind);
    for (i = 0; i < NN__OPT_N_SETTINGS; i++) {
        double v = st->set[i];
        if (!nn__applies(st->kind, i)) {
            double d = *nn__opt_field(&def, i);
            /* compare bit patterns: -0 or a NaN is not the default */
            NN__CHECK(memcmp(&v, &d, sizeof v) != 0, NN_ERR_FORMAT,
                      "%s: optimizer setting %s = %g does not apply to %s "
                      "and must hold its default %g", fn,
                      nn__setting_names[i], v, nn__opt_names[st->kind], d);
            continue;
        }
        if (nn_optimizer_set(&tmp, i, v) != NN_OK)
            return nn__fail_wrap(NN_ERR_FORMAT, NULL,
                                 "%s: invalid optimizer state: ", fn);
    }
    NN__CHECK(st->iterations > 9000000000000000ull, NN_ERR_FORMAT,
              "%s: optimizer iterations %llu is over 9e15", fn,
              (unsigned long long)st->iterations);
    return NN_OK;
}

int nn__optimizer_import(nn_optimizer **out, nn_net *net,
                         const struct nn__opt_state *st, const char *fn)
{
    nn_optimizer *o;
    int j, s = nn_optimizer_create(&o, net, st->kind);
    *out = NULL;
    if (s != NN_OK)
        return nn__fail(s, "%s: out of memory for the optimizer state of "
                        "%zu parameters", fn, net->n_params);
    for (j = 0; j < NN__OPT_N_SETTINGS; j++)
        *nn__opt_field(o, j) = st->set[j];
    o->iterations = st->iterations;
    *out = o;
    return NN_OK;
}

void nn__optimizer_arrays(nn_optimizer *opt, float **s1, float **s2)
{
    *s1 = opt->s1;
    *s2 = opt->s2;
}

void nn__optimizer_refresh_bounds(nn_optimizer *opt)
{
    const struct nn__kernels *k = nn__kernels();
    size_t i;
    for (i = 0; i < opt->net->n_layers; i++) {
        struct nn__run r = nn__layer_run(opt, i);
        opt->b1[i] = (double)nn__amax_to_float(k->amax(r.s1, r.n));
        opt->b2[i] = r.s2 != NULL
                         ? (double)nn__amax_to_float(k->amax(r.s2, r.n))
                         : 0.0;
    }
}
