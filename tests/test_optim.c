/*
 * test_optim.c - the optimizers against a double-precision replay of the
 * NNFS course's Optimizer_SGD / _Adagrad / _RMSprop / _Adam classes:
 *
 *   pre_update_params   lr_t = lr * (1 / (1 + decay * iterations))
 *   SGD                 momentum: v = momentum v - lr_t g, w += v
 *                       else      w += -lr_t g
 *   Adagrad             c += g^2;  w += -lr_t g / (sqrt(c) + eps)
 *   RMSprop             c = rho c + (1 - rho) g^2;  same update
 *   Adam                m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *                       m^ = m / (1 - b1^(iterations + 1)), v^ likewise
 *                       w += -lr_t m^ / (sqrt(v^) + eps)
 *   post_update_params  iterations += 1
 *
 * Each step the library computes the gradients (nn_forward/nn_backward on
 * a small net), the test reads them through nn_net_get_grads and advances
 * its own double copy of the parameters and state with exactly those
 * gradients; after every step the library's parameters (nn_net_get_params)
 * must equal the double ones up to float rounding.  Settings, defaults,
 * CURRENT_LEARNING_RATE, reset, and rejected values (with no change) too.
 */
#include "nntest.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define OPT_LAYERS 3
static const size_t opt_sizes[OPT_LAYERS + 1] = {3, 5, 4, 2};
static const int32_t opt_acts[OPT_LAYERS] = {NN_ACT_RELU, NN_ACT_TANH,
                                             NN_ACT_LINEAR};
#define OPT_BATCH 6
#define OPT_MAXP 64   /* parameters of the net above: 20 + 24 + 10 = 54 */

/* the course's optimizer, in double */
struct ref_opt {
    int32_t kind;
    double lr, decay, momentum, eps, rho, b1, b2;
    double it;
    size_t n;
    double w[OPT_MAXP], s1[OPT_MAXP], s2[OPT_MAXP];
};

static double ref_current_lr(const struct ref_opt *o)
{
    return o->lr * (1.0 / (1.0 + o->decay * o->it));
}

static void ref_step(struct ref_opt *o, const double *g)
{
    double lr = ref_current_lr(o);
    size_t j;
    for (j = 0; j < o->n; j++) {
        switch (o->kind) {
        case NN_OPT_SGD:
            if (o->momentum != 0) {
                o->s1[j] = o->momentum * o->s1[j] - lr * g[j];
                o->w[j] += o->s1[j];
            } else {
                o->w[j] += -lr * g[j];
            }
            break;
        case NN_OPT_ADAGRAD:
            o->s1[j] += g[j] * g[j];
            o->w[j] += -lr * g[j] / (sqrt(o->s1[j]) + o->eps);
            break;
        case NN_OPT_RMSPROP:
            o->s1[j] = o->rho * o->s1[j] + (1 - o->rho) * g[j] * g[j];
            o->w[j] += -lr * g[j] / (sqrt(o->s1[j]) + o->eps);
            break;
        default: {
            double mh, vh;
            o->s1[j] = o->b1 * o->s1[j] + (1 - o->b1) * g[j];
            o->s2[j] = o->b2 * o->s2[j] + (1 - o->b2) * g[j] * g[j];
            mh = o->s1[j] / (1 - pow(o->b1, o->it + 1));
            vh = o->s2[j] / (1 - pow(o->b2, o->it + 1));
            o->w[j] += -lr * mh / (sqrt(vh) + o->eps);
            break;
        }
        }
    }
    o->it += 1;
}

/* Every parameter of the net, layer by layer (w then b), as doubles. */
static size_t read_params(const nn_net *net, double *p)
{
    float w[32], b[8];
    size_t i, j, n = 0;
    for (i = 0; i < OPT_LAYERS; i++) {
        size_t nw = opt_sizes[i] * opt_sizes[i + 1], nb = opt_sizes[i + 1];
        NNT_OK(nn_net_get_params(net, i, w, b));
        for (j = 0; j < nw; j++) p[n++] = w[j];
        for (j = 0; j < nb; j++) p[n++] = b[j];
    }
    return n;
}

static size_t read_grads(const nn_net *net, double *g)
{
    float w[32], b[8];
    size_t i, j, n = 0;
    for (i = 0; i < OPT_LAYERS; i++) {
        size_t nw = opt_sizes[i] * opt_sizes[i + 1], nb = opt_sizes[i + 1];
        NNT_OK(nn_net_get_grads(net, i, w, b));
        for (j = 0; j < nw; j++) g[n++] = w[j];
        for (j = 0; j < nb; j++) g[n++] = b[j];
    }
    return n;
}

static nn_net *opt_net(uint64_t seed)
{
    nn_net *net = NULL;
    float b[8];
    size_t i, j;
    NNT_OK(nn_net_create(&net, OPT_LAYERS, opt_sizes, opt_acts, seed));
    /* non-zero biases, so bias updates and their state are exercised */
    for (i = 0; i < OPT_LAYERS; i++) {
        for (j = 0; j < opt_sizes[i + 1]; j++)
            b[j] = 0.05f * (float)((int)((i * 7 + j * 3) % 5) - 2) + 0.01f;
        NNT_OK(nn_net_set_params(net, i, NULL, b));
    }
    return net;
}

/* fixed synthetic data: inputs and MSE targets */
static void opt_data(float *x, float *t)
{
    size_t i;
    for (i = 0; i < OPT_BATCH * 3; i++)
        x[i] = (float)sin(0.7 * (double)i + 0.3) * 1.5f;
    for (i = 0; i < OPT_BATCH * 2; i++)
        t[i] = (float)cos(1.3 * (double)i) * 0.8f;
}

struct opt_cfg {
    const char *name;
    int32_t kind;
    double lr, decay, momentum, eps, rho, b1, b2;   /* < 0: leave default */
    double start_it;                               /* < 0: leave at 0 */
};

static void set_if(nn_optimizer *o, int32_t s, double v)
{
    if (v >= 0) NNT_OK(nn_optimizer_set(o, s, v));
}

/* Read the settings that apply to opt's kind into ref. */
static void ref_from_opt(struct ref_opt *r, const nn_optimizer *o)
{
    r->kind = nn_optimizer_kind(o);
    NNT_OK(nn_optimizer_get(o, NN_OPT_LEARNING_RATE, &r->lr));
    NNT_OK(nn_optimizer_get(o, NN_OPT_DECAY, &r->decay));
    NNT_OK(nn_optimizer_get(o, NN_OPT_ITERATIONS, &r->it));
    r->momentum = 0;
    r->eps = r->rho = r->b1 = r->b2 = 0;
    if (r->kind == NN_OPT_SGD)
        NNT_OK(nn_optimizer_get(o, NN_OPT_MOMENTUM, &r->momentum));
    else
        NNT_OK(nn_optimizer_get(o, NN_OPT_EPSILON, &r->eps));
    if (r->kind == NN_OPT_RMSPROP)
        NNT_OK(nn_optimizer_get(o, NN_OPT_RHO, &r->rho));
    if (r->kind == NN_OPT_ADAM) {
        NNT_OK(nn_optimizer_get(o, NN_OPT_BETA1, &r->b1));
        NNT_OK(nn_optimizer_get(o, NN_OPT_BETA2, &r->b2));
    }
}

/* Run `steps` steps of opt on net and of ref in double, comparing after
   each; returns the worst error as a fraction of the tolerance. */
static double run_steps(nn_net *net, nn_optimizer *opt, struct ref_opt *ref,
                        int steps, double *worst_abs)
{
    float x[OPT_BATCH * 3], t[OPT_BATCH * 2];
    double g[OPT_MAXP], p[OPT_MAXP], moved[OPT_MAXP] = {0}, worst = 0;
    double before[OPT_MAXP];
    int s;
    size_t j, n;
    opt_data(x, t);
    for (s = 0; s < steps; s++) {
        double cur, it;
        NNT_OK(nn_forward(net, x, OPT_BATCH, NULL));
        NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
        n = read_grads(net, g);
        NNT_EQ_SIZE(n, ref->n);
        /* the learning rate of the coming step, as the course's
           pre_update_params computes it */
        NNT_OK(nn_optimizer_get(opt, NN_OPT_CURRENT_LEARNING_RATE, &cur));
        NNT_NEAR(cur, ref_current_lr(ref), 1e-15 * ref_current_lr(ref));
        NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it));
        NNT_EQ_U64((uint64_t)it, (uint64_t)ref->it);
        memcpy(before, ref->w, sizeof before);
        ref_step(ref, g);
        NNT_OK(nn_optimizer_step(opt));
        read_params(net, p);
        for (j = 0; j < n; j++) {
            /* float rounding: a few ulp of |w| per step, plus a float
               evaluation of the update (relative 2^-20 or so) */
            double tol, err = fabs(p[j] - ref->w[j]);
            moved[j] += fabs(ref->w[j] - before[j]);
            tol = 4.0 * (s + 1) * FLT_EPSILON * (fabs(ref->w[j]) + moved[j])
                  + 1e-12;
            if (err / tol > worst) worst = err / tol;
            if (err > *worst_abs) *worst_abs = err;
            if (err > tol)
                nnt_fail(__FILE__, __LINE__, "step %d parameter %zu: "
                         "library %.9g, course formula %.9g (|diff| %.3g > "
                         "tol %.3g)", s + 1, j, p[j], ref->w[j], err, tol);
        }
    }
    return worst;
}

static const struct opt_cfg cfgs[] = {
    /* name              kind            lr     decay  mom   eps    rho   b1    b2   it */
    {"sgd",              NN_OPT_SGD,     0.5,   -1,    -1,   -1,    -1,   -1,   -1,  -1},
    {"sgd decay",        NN_OPT_SGD,     0.5,   0.1,   -1,   -1,    -1,   -1,   -1,  -1},
    {"sgd momentum",     NN_OPT_SGD,     0.2,   0.05,  0.9,  -1,    -1,   -1,   -1,  -1},
    {"sgd defaults",     NN_OPT_SGD,     -1,    -1,    -1,   -1,    -1,   -1,   -1,  -1},
    {"adagrad",          NN_OPT_ADAGRAD, 0.3,   0.01,  -1,   1e-7,  -1,   -1,   -1,  -1},
    {"adagrad eps",      NN_OPT_ADAGRAD, 0.1,   -1,    -1,   0.05,  -1,   -1,   -1,  -1},
    {"adagrad defaults", NN_OPT_ADAGRAD, -1,    -1,    -1,   -1,    -1,   -1,   -1,  -1},
    {"rmsprop",          NN_OPT_RMSPROP, 0.01,  0.01,  -1,   1e-7,  0.95, -1,   -1,  -1},
    {"rmsprop rho 0",    NN_OPT_RMSPROP, 0.02,  -1,    -1,   1e-6,  0.0,  -1,   -1,  -1},
    {"rmsprop defaults", NN_OPT_RMSPROP, -1,    -1,    -1,   -1,    -1,   -1,   -1,  -1},
    {"adam",             NN_OPT_ADAM,    0.02,  0.01,  -1,   1e-7,  -1,   0.85, 0.99, -1},
    {"adam defaults",    NN_OPT_ADAM,    -1,    -1,    -1,   -1,    -1,   -1,   -1,  -1},
    {"adam course",      NN_OPT_ADAM,    0.05,  5e-7,  -1,   -1,    -1,   -1,   -1,  -1},
    {"adam resumed",     NN_OPT_ADAM,    0.01,  1e-3,  -1,   -1,    -1,   -1,   -1,  100},
    {"sgd resumed",      NN_OPT_SGD,     0.3,   0.5,   0.5,  -1,    -1,   -1,   -1,  7},
};

NN_TEST(optim_vs_course_formulas)
{
    size_t c;
    for (c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++) {
        const struct opt_cfg *k = &cfgs[c];
        nn_net *net = opt_net(11 + c);
        nn_optimizer *opt = NULL;
        struct ref_opt ref;
        double worst, worst_abs = 0;
        memset(&ref, 0, sizeof ref);
        NNT_OK(nn_optimizer_create(&opt, net, k->kind));
        NNT_EQ_INT(nn_optimizer_kind(opt), k->kind);
        set_if(opt, NN_OPT_LEARNING_RATE, k->lr);
        set_if(opt, NN_OPT_DECAY, k->decay);
        set_if(opt, NN_OPT_MOMENTUM, k->momentum);
        set_if(opt, NN_OPT_EPSILON, k->eps);
        set_if(opt, NN_OPT_RHO, k->rho);
        set_if(opt, NN_OPT_BETA1, k->b1);
        set_if(opt, NN_OPT_BETA2, k->b2);
        set_if(opt, NN_OPT_ITERATIONS, k->start_it);
        ref_from_opt(&ref, opt);
        /* what was set reads back exactly */
        if (k->lr >= 0) NNT_EQ_U64(ref.lr == k->lr, 1);
        if (k->decay >= 0) NNT_EQ_U64(ref.decay == k->decay, 1);
        if (k->start_it >= 0) NNT_EQ_U64(ref.it == k->start_it, 1);
        ref.n = read_params(net, ref.w);
        worst = run_steps(net, opt, &ref, 6, &worst_abs);
        printf("  %-17s 6 steps: max |w - w_ref| %.3g (%.2f of tolerance)\n",
               k->name, worst_abs, worst);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

NN_TEST(optim_known_first_steps)
{
    /* Closed forms of the first step from zero state, independent of the
       replay: Adam moves every parameter by lr * g / (|g| + eps) (bias
       correction makes m^ = g, v^ = g^2); RMSprop by lr g / (sqrt(1 - rho)
       |g| + eps); Adagrad by lr g / (|g| + eps); SGD by lr g. */
    static const int32_t kinds[4] = {NN_OPT_SGD, NN_OPT_ADAGRAD,
                                     NN_OPT_RMSPROP, NN_OPT_ADAM};
    float x[OPT_BATCH * 3], t[OPT_BATCH * 2];
    int k;
    opt_data(x, t);
    for (k = 0; k < 4; k++) {
        nn_net *net = opt_net(5);
        nn_optimizer *opt = NULL;
        double p0[OPT_MAXP], p1[OPT_MAXP], g[OPT_MAXP], lr = 0.01, worst = 0;
        size_t j, n;
        NNT_OK(nn_optimizer_create(&opt, net, kinds[k]));
        NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, lr));
        n = read_params(net, p0);
        NNT_OK(nn_forward(net, x, OPT_BATCH, NULL));
        NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
        read_grads(net, g);
        NNT_OK(nn_optimizer_step(opt));
        read_params(net, p1);
        for (j = 0; j < n; j++) {
            double want, a = fabs(g[j]);
            switch (kinds[k]) {
            case NN_OPT_SGD: want = lr * g[j]; break;
            case NN_OPT_ADAGRAD: want = lr * g[j] / (a + 1e-7); break;
            case NN_OPT_RMSPROP:
                want = lr * g[j] / (sqrt(0.1) * a + 1e-7);
                break;
            default: want = lr * g[j] / (a + 1e-7); break;
            }
            /* 2e-6 relative: float rounding of the update, and it pins
               1 - beta2 being formed in double (1.0f - 0.999f is 1.3e-5
               off, which moved Adam's first step by 6e-6 relative) */
            NNT_NEAR(p0[j] - p1[j], want, 2e-7 * (fabs(p0[j]) + 1.0) +
                     2e-6 * fabs(want));
            if (fabs(p0[j] - p1[j] - want) > worst)
                worst = fabs(p0[j] - p1[j] - want);
        }
        printf("  kind %d first step: max |dw - closed form| %.3g\n",
               (int)kinds[k], worst);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

static const double defaults[4][9] = {
    /* lr    decay mom eps   rho  b1   b2     it  cur_lr */
    {1.0,   0,    0,  -1,   -1,  -1,  -1,     0,  1.0},     /* SGD */
    {1.0,   0,   -1,  1e-7, -1,  -1,  -1,     0,  1.0},     /* Adagrad */
    {0.001, 0,   -1,  1e-7, 0.9, -1,  -1,     0,  0.001},   /* RMSprop */
    {0.001, 0,   -1,  1e-7, -1,  0.9, 0.999,  0,  0.001},   /* Adam */
};

NN_TEST(optim_defaults_and_applicability)
{
    /* The course's constructor defaults; settings that do not apply to a
       kind are refused for get and set alike. */
    int32_t k, s;
    for (k = 0; k < 4; k++) {
        nn_net *net = opt_net(1);
        nn_optimizer *opt = NULL;
        NNT_OK(nn_optimizer_create(&opt, net, k));
        for (s = 0; s <= NN_OPT_CURRENT_LEARNING_RATE; s++) {
            double v = -42;
            if (defaults[k][s] < 0) {
                NNT_STATUS(nn_optimizer_get(opt, s, &v), NN_ERR_INVALID_ARG);
                NNT_EQ_U64(v == -42, 1);
                NNT_STATUS(nn_optimizer_set(opt, s, 0.5), NN_ERR_INVALID_ARG);
                NNT_MSG_HAS("does not apply");
            } else {
                NNT_OK(nn_optimizer_get(opt, s, &v));
                NNT_EQ_U64(v == defaults[k][s], 1);
            }
        }
        NNT_STATUS(nn_optimizer_get(opt, -1, &(double){0}),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_optimizer_get(opt, 9, &(double){0}),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_optimizer_get(opt, NN_OPT_LEARNING_RATE, NULL),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_optimizer_get(NULL, NN_OPT_LEARNING_RATE,
                                    &(double){0}), NN_ERR_INVALID_ARG);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
}

/* every gettable setting of opt, in order (NaN for those that do not
   apply) */
static void snapshot(const nn_optimizer *opt, double *v)
{
    int32_t s;
    for (s = 0; s <= NN_OPT_CURRENT_LEARNING_RATE; s++)
        if (nn_optimizer_get(opt, s, &v[s]) != NN_OK) v[s] = NAN;
}

static int same_snapshot(const double *a, const double *b)
{
    int s;
    for (s = 0; s <= NN_OPT_CURRENT_LEARNING_RATE; s++)
        if (!(a[s] == b[s] || (isnan(a[s]) && isnan(b[s])))) return 0;
    return 1;
}

NN_TEST(optim_invalid_settings_change_nothing)
{
    struct bad { int32_t kind, setting; double value; int status;
                 const char *msg; };
    static const struct bad bads[] = {
        {NN_OPT_SGD, NN_OPT_LEARNING_RATE, -0.1, NN_ERR_INVALID_ARG, "negative"},
        {NN_OPT_SGD, NN_OPT_LEARNING_RATE, 1e39, NN_ERR_INVALID_ARG, "learning_rate"},
        {NN_OPT_SGD, NN_OPT_LEARNING_RATE, NAN, NN_ERR_NONFINITE, "learning_rate"},
        {NN_OPT_SGD, NN_OPT_LEARNING_RATE, INFINITY, NN_ERR_NONFINITE, "learning_rate"},
        {NN_OPT_SGD, NN_OPT_DECAY, -1e-9, NN_ERR_INVALID_ARG, "decay"},
        {NN_OPT_SGD, NN_OPT_DECAY, -INFINITY, NN_ERR_NONFINITE, "decay"},
        {NN_OPT_SGD, NN_OPT_MOMENTUM, 1.0, NN_ERR_INVALID_ARG, "momentum"},
        {NN_OPT_SGD, NN_OPT_MOMENTUM, -0.5, NN_ERR_INVALID_ARG, "momentum"},
        {NN_OPT_SGD, NN_OPT_MOMENTUM, 0.99999999999, NN_ERR_INVALID_ARG, "momentum"},
        {NN_OPT_SGD, NN_OPT_EPSILON, 1e-7, NN_ERR_INVALID_ARG, "does not apply"},
        {NN_OPT_SGD, NN_OPT_BETA1, 0.9, NN_ERR_INVALID_ARG, "does not apply"},
        {NN_OPT_SGD, NN_OPT_ITERATIONS, 1.5, NN_ERR_INVALID_ARG, "iterations"},
        {NN_OPT_SGD, NN_OPT_ITERATIONS, -1, NN_ERR_INVALID_ARG, "iterations"},
        {NN_OPT_SGD, NN_OPT_ITERATIONS, NAN, NN_ERR_NONFINITE, "iterations"},
        {NN_OPT_SGD, NN_OPT_CURRENT_LEARNING_RATE, 0.1, NN_ERR_INVALID_ARG, "read only"},
        {NN_OPT_SGD, 9, 0.1, NN_ERR_INVALID_ARG, "setting"},
        {NN_OPT_SGD, -1, 0.1, NN_ERR_INVALID_ARG, "setting"},
        {NN_OPT_ADAGRAD, NN_OPT_EPSILON, 0, NN_ERR_INVALID_ARG, "epsilon"},
        {NN_OPT_ADAGRAD, NN_OPT_EPSILON, -1e-7, NN_ERR_INVALID_ARG, "epsilon"},
        {NN_OPT_ADAGRAD, NN_OPT_EPSILON, 1e-60, NN_ERR_INVALID_ARG, "epsilon"},
        {NN_OPT_ADAGRAD, NN_OPT_MOMENTUM, 0.5, NN_ERR_INVALID_ARG, "does not apply"},
        {NN_OPT_ADAGRAD, NN_OPT_RHO, 0.5, NN_ERR_INVALID_ARG, "does not apply"},
        {NN_OPT_RMSPROP, NN_OPT_RHO, 1.0, NN_ERR_INVALID_ARG, "rho"},
        {NN_OPT_RMSPROP, NN_OPT_RHO, -0.1, NN_ERR_INVALID_ARG, "rho"},
        {NN_OPT_RMSPROP, NN_OPT_RHO, NAN, NN_ERR_NONFINITE, "rho"},
        {NN_OPT_RMSPROP, NN_OPT_BETA2, 0.9, NN_ERR_INVALID_ARG, "does not apply"},
        {NN_OPT_ADAM, NN_OPT_BETA1, 1.0, NN_ERR_INVALID_ARG, "beta1"},
        {NN_OPT_ADAM, NN_OPT_BETA2, 1.5, NN_ERR_INVALID_ARG, "beta2"},
        {NN_OPT_ADAM, NN_OPT_BETA2, -0.001, NN_ERR_INVALID_ARG, "beta2"},
        {NN_OPT_ADAM, NN_OPT_EPSILON, NAN, NN_ERR_NONFINITE, "epsilon"},
        {NN_OPT_ADAM, NN_OPT_MOMENTUM, 0.9, NN_ERR_INVALID_ARG, "does not apply"},
        {NN_OPT_ADAM, NN_OPT_RHO, 0.9, NN_ERR_INVALID_ARG, "does not apply"},
    };
    size_t i;
    for (i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        nn_net *net = opt_net(3);
        nn_optimizer *opt = NULL;
        struct ref_opt ref;
        double before[9], after[9], worst_abs = 0;
        memset(&ref, 0, sizeof ref);
        NNT_OK(nn_optimizer_create(&opt, net, b->kind));
        /* non-default settings, so "no change" is not "back to default" */
        NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.0125));
        NNT_OK(nn_optimizer_set(opt, NN_OPT_DECAY, 0.03));
        NNT_OK(nn_optimizer_set(opt, NN_OPT_ITERATIONS, 2));
        if (b->kind == NN_OPT_SGD)
            NNT_OK(nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.7));
        else
            NNT_OK(nn_optimizer_set(opt, NN_OPT_EPSILON, 1e-6));
        if (b->kind == NN_OPT_RMSPROP)
            NNT_OK(nn_optimizer_set(opt, NN_OPT_RHO, 0.8));
        if (b->kind == NN_OPT_ADAM) {
            NNT_OK(nn_optimizer_set(opt, NN_OPT_BETA1, 0.7));
            NNT_OK(nn_optimizer_set(opt, NN_OPT_BETA2, 0.95));
        }
        /* one real step first, so there is state to keep */
        ref_from_opt(&ref, opt);
        ref.n = read_params(net, ref.w);
        run_steps(net, opt, &ref, 1, &worst_abs);
        snapshot(opt, before);
        {
            int st = nn_optimizer_set(opt, b->setting, b->value);
            if (st != b->status)
                nnt_fail(__FILE__, __LINE__, "case %zu (kind %d setting %d "
                         "value %g): status %d, expected %d (%s)", i,
                         (int)b->kind, (int)b->setting, b->value, st,
                         b->status, nn_last_error());
            NNT_TRUE(nn_last_error()[0] != '\0');
            NNT_MSG_HAS("nn_optimizer_set");
            NNT_MSG_HAS(b->msg);
        }
        snapshot(opt, after);
        NNT_TRUE(same_snapshot(before, after));
        /* and the state is untouched: the next steps still follow the
           reference that never saw the bad call */
        run_steps(net, opt, &ref, 3, &worst_abs);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
    NNT_STATUS(nn_optimizer_set(NULL, NN_OPT_LEARNING_RATE, 1),
               NN_ERR_INVALID_ARG);
}

NN_TEST(optim_reset)
{
    /* reset zeroes state and iterations and keeps the settings: the steps
       after it follow a fresh course optimizer started from the current
       parameters */
    int32_t k;
    for (k = 0; k < 4; k++) {
        nn_net *net = opt_net(21);
        nn_optimizer *opt = NULL;
        struct ref_opt ref;
        double before[9], after[9], it, cur, worst_abs = 0;
        memset(&ref, 0, sizeof ref);
        NNT_OK(nn_optimizer_create(&opt, net, k));
        NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.02));
        NNT_OK(nn_optimizer_set(opt, NN_OPT_DECAY, 0.1));
        if (k == NN_OPT_SGD)
            NNT_OK(nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.8));
        ref_from_opt(&ref, opt);
        ref.n = read_params(net, ref.w);
        run_steps(net, opt, &ref, 5, &worst_abs);
        snapshot(opt, before);
        NNT_EQ_U64(before[NN_OPT_ITERATIONS] == 5, 1);
        NNT_OK(nn_optimizer_reset(opt));
        snapshot(opt, after);
        NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it));
        NNT_EQ_U64(it == 0, 1);
        NNT_OK(nn_optimizer_get(opt, NN_OPT_CURRENT_LEARNING_RATE, &cur));
        NNT_EQ_U64(cur == 0.02, 1);
        after[NN_OPT_ITERATIONS] = before[NN_OPT_ITERATIONS];
        after[NN_OPT_CURRENT_LEARNING_RATE] =
            before[NN_OPT_CURRENT_LEARNING_RATE];
        NNT_TRUE(same_snapshot(before, after));
        /* a fresh reference at the current parameters */
        ref.it = 0;
        memset(ref.s1, 0, sizeof ref.s1);
        memset(ref.s2, 0, sizeof ref.s2);
        read_params(net, ref.w);
        run_steps(net, opt, &ref, 4, &worst_abs);
        printf("  kind %d: 5 steps, reset, 4 steps: max |w - w_ref| %.3g\n",
               (int)k, worst_abs);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
    NNT_STATUS(nn_optimizer_reset(NULL), NN_ERR_INVALID_ARG);
}

NN_TEST(optim_step_errors_change_nothing)
{
    float x[OPT_BATCH * 3], t[OPT_BATCH * 2];
    double p0[OPT_MAXP], p1[OPT_MAXP], it;
    nn_net *net = opt_net(8);
    nn_optimizer *opt = NULL, *other = NULL;
    size_t n, i;
    opt_data(x, t);
    NNT_STATUS(nn_optimizer_create(&opt, net, 4), NN_ERR_INVALID_ARG);
    NNT_TRUE(opt == NULL);
    NNT_STATUS(nn_optimizer_create(&opt, net, -1), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_optimizer_create(&opt, NULL, NN_OPT_SGD),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_optimizer_create(NULL, net, NN_OPT_SGD),
               NN_ERR_INVALID_ARG);
    NNT_EQ_INT(nn_optimizer_kind(NULL), -1);
    nn_optimizer_destroy(NULL);
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_SGD));
    /* no backward yet */
    NNT_STATUS(nn_optimizer_step(opt), NN_ERR_STATE);
    NNT_STATUS(nn_optimizer_step(NULL), NN_ERR_INVALID_ARG);
    /* a step that would overflow: lr = FLT_MAX with large gradients */
    for (i = 0; i < OPT_BATCH * 2; i++) t[i] = 1000.0f;
    NNT_OK(nn_forward(net, x, OPT_BATCH, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, (double)FLT_MAX));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.5));
    n = read_params(net, p0);
    NNT_STATUS(nn_optimizer_step(opt), NN_ERR_NONFINITE);
    NNT_MSG_HAS("nn_optimizer_step");
    read_params(net, p1);
    NNT_TRUE(memcmp(p0, p1, n * sizeof(double)) == 0);
    NNT_OK(nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it));
    NNT_EQ_U64(it == 0, 1);
    /* the same optimizer then steps normally, as if the failure had not
       happened: compare with a second optimizer that never failed */
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 1e-3));
    NNT_OK(nn_optimizer_create(&other, net, NN_OPT_SGD));
    NNT_OK(nn_optimizer_set(other, NN_OPT_LEARNING_RATE, 1e-3));
    NNT_OK(nn_optimizer_set(other, NN_OPT_MOMENTUM, 0.5));
    {
        struct ref_opt ref;
        double worst_abs = 0;
        memset(&ref, 0, sizeof ref);
        ref_from_opt(&ref, other);
        ref.n = read_params(net, ref.w);
        run_steps(net, opt, &ref, 3, &worst_abs);
    }
    nn_optimizer_destroy(other);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

NN_TEST(optim_momentum_bound_survives_a_step_without_momentum)
{
    /* SGD steps without momentum leave the momentums as they are, so
       their bound must stay too.  It used to become lr |g|: here 0, with
       a momentum near FLT_MAX left from an earlier step, so after
       momentum was set back the next step "proved" itself safe and wrote
       w = 4e37 + 0.9 * 3.39e38 = inf.  It must be refused instead. */
    size_t sizes[2] = {1, 1};
    int32_t acts[1] = {NN_ACT_LINEAR};
    float x[1] = {1.0f}, t[1], w, b = 0.0f, w_after, b_after;
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    NNT_OK(nn_net_create(&net, 1, sizes, acts, 1));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_SGD));
    /* 1: with momentum, a step to momentum -lr g = 3.39e38 (finite) */
    w = 0.0f;
    NNT_OK(nn_net_set_params(net, 0, &w, &b));
    t[0] = 1.695f;   /* MSE: dL/dw = 2 (0 - 1.695) = -3.39 */
    NNT_OK(nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.9));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 1e38));
    NNT_OK(nn_forward(net, x, 1, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_optimizer_step(opt));
    /* 2: w = 4e37 with a zero gradient (target = output), no momentum */
    w = 4e37f;
    NNT_OK(nn_net_set_params(net, 0, &w, &b));
    t[0] = w;
    NNT_OK(nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.0));
    NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 1e-3));
    NNT_OK(nn_forward(net, x, 1, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_optimizer_step(opt));
    /* 3: momentum back: 0.9 * 3.39e38 added to 4e37 overflows */
    NNT_OK(nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.9));
    NNT_OK(nn_forward(net, x, 1, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_STATUS(nn_optimizer_step(opt), NN_ERR_NONFINITE);
    NNT_OK(nn_net_get_params(net, 0, &w_after, &b_after));
    NNT_TRUE(w_after == w && b_after == b);
    printf("  momentum kept at ~3.4e38 through a momentum-free step; the "
           "step that would reach %g is refused, w stays %g\n",
           (double)w + 0.9 * 3.39e38, (double)w_after);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}
