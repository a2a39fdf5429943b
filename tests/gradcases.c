/*
 * gradcases.c - the T9 networks and their kink-free fixtures (see
 * gradcases.h).
 */
#include "gradcases.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nntest.h"

static const int32_t gc_acts[5] = {NN_ACT_LINEAR, NN_ACT_RELU,
                                   NN_ACT_SIGMOID, NN_ACT_TANH,
                                   NN_ACT_SOFTMAX};
static const char *const gc_act_names[5] = {"linear", "relu", "sigmoid",
                                            "tanh", "softmax"};
static const char *const gc_loss_names[5] = {"cce", "bce", "mse", "mae",
                                             "labels"};

/* Larger cases beyond the 25 output x loss ones: widths 257 as the batch
   (M), the inputs (K) and the outputs (N) of the products, and width 1. */
static const struct gc_case gc_extra[] = {
    {"", 2, {7, 257, 5}, {NN_ACT_RELU, NN_ACT_SOFTMAX}, 64, NN_LOSS_CCE},
    {"", 2, {257, 257, 3}, {NN_ACT_TANH, NN_ACT_SIGMOID}, 3, NN_LOSS_BCE},
    {"", 3, {6, 257, 33, 4}, {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_LINEAR}, 64,
     NN_LOSS_MSE},
    {"", 2, {257, 1, 257}, {NN_ACT_SIGMOID, NN_ACT_SOFTMAX}, 64, GC_LABELS},
    {"", 2, {9, 17, 257}, {NN_ACT_TANH, NN_ACT_RELU}, 3, NN_LOSS_MAE},
    {"", 3, {1, 1, 1, 1}, {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SIGMOID}, 64,
     NN_LOSS_BCE},
};
#define GC_N_EXTRA (sizeof gc_extra / sizeof gc_extra[0])

size_t gc_num_cases(void) { return 25 + GC_N_EXTRA; }

static int act_index(int32_t act)
{
    int i;
    for (i = 0; i < 5; i++) if (gc_acts[i] == act) return i;
    return 0;
}

void gc_case_get(size_t i, struct gc_case *c)
{
    static const size_t batches[3] = {1, 3, 64};
    static const size_t n_ins[4] = {3, 1, 5, 2};
    static const size_t h1s[5] = {4, 7, 1, 6, 3};
    static const size_t h2s[3] = {5, 2, 8};
    static const size_t outs_sm[3] = {3, 4, 2};
    static const size_t outs[4] = {1, 3, 2, 5};
    size_t k, n;
    int used;
    memset(c, 0, sizeof *c);
    if (i < 25) {
        size_t out = i / 5, l = i % 5;
        c->loss = l == 4 ? GC_LABELS : (int32_t)l;
        c->batch = batches[i % 3];
        c->n_layers = i % 2 == 0 ? 3 : 2;
        c->sizes[0] = n_ins[i % 4];
        c->acts[0] = gc_acts[(i + 1) % 5];
        c->sizes[1] = h1s[(out + i) % 5];
        if (c->n_layers == 3) {
            c->acts[1] = gc_acts[(i + 3) % 5];
            c->sizes[2] = h2s[i % 3];
        }
        c->acts[c->n_layers - 1] = gc_acts[out];
        c->sizes[c->n_layers] = gc_acts[out] == NN_ACT_SOFTMAX
                                    ? outs_sm[i % 3] : outs[i % 4];
        /* a hidden softmax of width 1 is the constant 1: give it two */
        for (k = 0; k + 1 < c->n_layers; k++)
            if (c->acts[k] == NN_ACT_SOFTMAX && c->sizes[k + 1] < 2)
                c->sizes[k + 1] = 2;
    } else {
        *c = gc_extra[i - 25];
    }
    used = snprintf(c->name, sizeof c->name, "#%zu ", i);
    for (k = 0; k <= c->n_layers && used > 0 && (size_t)used < sizeof c->name;
         k++) {
        n = (size_t)used;
        used += snprintf(c->name + n, sizeof c->name - n, "%s%zu",
                         k ? "-" : "", c->sizes[k]);
    }
    for (k = 0; k < c->n_layers && used > 0 && (size_t)used < sizeof c->name;
         k++) {
        n = (size_t)used;
        used += snprintf(c->name + n, sizeof c->name - n, "%s%s",
                         k ? "," : " ", gc_act_names[act_index(c->acts[k])]);
    }
    if (used > 0 && (size_t)used < sizeof c->name) {
        n = (size_t)used;
        snprintf(c->name + n, sizeof c->name - n, " %s batch %zu",
                 gc_loss_names[c->loss == GC_LABELS ? 4 : c->loss], c->batch);
    }
}

/* max_j sum_i |W[i][j]|: how much a change of at most d in every input of
   the layer can move one of its pre-activations (divided by d). */
static double col_abs_sum(const struct ref_net *r, size_t k)
{
    size_t n_in = r->sizes[k], n_out = r->sizes[k + 1], i, j;
    double best = 0;
    for (j = 0; j < n_out; j++) {
        double s = 0;
        for (i = 0; i < n_in; i++) s += fabs(r->w[k][i * n_out + j]);
        if (s > best) best = s;
    }
    return best;
}

/* A bound on how far a step of h in any one parameter of layers 0..k can
   move a pre-activation of layer k.  Every activation here is 1-Lipschitz
   per unit in the max norm (softmax: sum_k |da_j/dz_k| = 2 a_j (1 - a_j)
   <= 1/2), and parameters of layer p move layer p's pre-activations by at
   most h max(1, max |a_{p-1}|); the layers above multiply the change by at
   most their col_abs_sum. */
static double sens_bound(const struct ref_net *r, size_t k, double h)
{
    size_t p, m, i;
    double best = 0;
    for (p = 0; p <= k; p++) {
        double amax = 1.0, d;
        size_t n = r->batch * r->sizes[p];
        for (i = 0; i < n; i++)
            if (fabs(r->a[p][i]) > amax) amax = fabs(r->a[p][i]);
        d = h * amax;
        for (m = p + 1; m <= k; m++) d *= col_abs_sum(r, m);
        if (d > best) best = d;
    }
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A bias for ReLU unit j whose pre-activations without bias are v[0..n):
   0 goes into the widest gap of the sorted values that is at least
   2.5 margin wide (nearest the median), so the unit is on for some rows
   and off for others; without such a gap (or for every fifth unit, to
   have dead units too) all rows go to one side, margin + [0.1, 0.4)
   away. */
static double relu_bias(double *v, size_t n, double margin, size_t j,
                        uint64_t *rng)
{
    size_t i, best = n;
    double med, dist = HUGE_VAL, extra = 0.1 + 0.3 * gc_unif(rng);
    qsort(v, n, sizeof v[0], cmp_double);
    med = v[n / 2];
    for (i = 0; i + 1 < n; i++) {
        double mid = 0.5 * (v[i] + v[i + 1]);
        if (v[i + 1] - v[i] >= 2.5 * margin && fabs(mid - med) < dist) {
            dist = fabs(mid - med);
            best = i;
        }
    }
    if (j % 5 == 4) return -(v[n - 1] + margin + extra);   /* dead */
    if (best < n) return -0.5 * (v[best] + v[best + 1]);
    return -v[0] + margin + extra;                          /* always on */
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    NNT_TRUE(p != NULL);
    return p;
}

void gc_build(struct gc_fix *f, size_t ci, uint64_t seed)
{
    struct gc_case *c = &f->c;
    uint64_t rng = seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(ci + 1));
    size_t L, n_in, n_out, batch, k, i, j, s;
    int32_t out_act;
    int clip_loss, scaled_last;
    double *v;

    memset(f, 0, sizeof *f);
    gc_case_get(ci, c);
    L = c->n_layers;
    batch = c->batch;
    n_in = c->sizes[0];
    n_out = c->sizes[L];
    out_act = c->acts[L - 1];
    clip_loss = c->loss == NN_LOSS_CCE || c->loss == NN_LOSS_BCE ||
                c->loss == GC_LABELS;
    scaled_last = clip_loss && (out_act == NN_ACT_LINEAR ||
                                out_act == NN_ACT_RELU ||
                                out_act == NN_ACT_TANH);
    f->relu_min = HUGE_VAL;
    f->mae_min = HUGE_VAL;

    NNT_OK(nn_net_create(&f->net, L, c->sizes, c->acts, seed));
    NNT_EQ_INT(ref_create(&f->ref, L, c->sizes, c->acts), 0);
    f->x = xcalloc(batch * n_in, sizeof(float));
    f->xd = xcalloc(batch * n_in, sizeof(double));
    for (i = 0; i < batch * n_in; i++) {
        f->x[i] = (float)(2.0 * gc_unif(&rng) - 1.0);
        f->xd[i] = (double)f->x[i];
    }

    /* layer by layer: weights, then biases chosen from the reference's
       pre-activations of this layer */
    for (k = 0; k < L; k++) {
        size_t ni = c->sizes[k], no = c->sizes[k + 1];
        int32_t act = c->acts[k];
        double lim = act == NN_ACT_RELU ? sqrt(6.0 / (double)ni)
                                        : sqrt(6.0 / (double)(ni + no));
        float *w = xcalloc(ni * no, sizeof(float));
        float *b = xcalloc(no, sizeof(float));
        for (i = 0; i < ni * no; i++)
            w[i] = (float)((2.0 * gc_unif(&rng) - 1.0) * lim);
        ref_set_layer(&f->ref, k, w, b);
        NNT_EQ_INT(ref_forward(&f->ref, f->xd, batch), 0);
        if (k == L - 1 && scaled_last) {
            /* |a W| <= 0.2 then a bias at the middle: p in (0.2, 0.8) */
            double vmax = 0, center = act == NN_ACT_TANH ? atanh(0.5) : 0.5;
            for (i = 0; i < batch * no; i++)
                if (fabs(f->ref.z[k][i]) > vmax) vmax = fabs(f->ref.z[k][i]);
            if (vmax > 0.2)
                for (i = 0; i < ni * no; i++)
                    w[i] = (float)((double)w[i] * 0.2 / vmax);
            for (j = 0; j < no; j++) b[j] = (float)center;
        } else if (act == NN_ACT_RELU) {
            double need = fmax(2.0 * GC_H, 1.5 * sens_bound(&f->ref, k, GC_H));
            v = xcalloc(batch, sizeof(double));
            for (j = 0; j < no; j++) {
                for (s = 0; s < batch; s++) v[s] = f->ref.z[k][s * no + j];
                b[j] = (float)relu_bias(v, batch, need, j, &rng);
            }
            free(v);
            if (need > f->relu_need) f->relu_need = need;
        } else {
            for (j = 0; j < no; j++)
                b[j] = (float)(gc_unif(&rng) - 0.5);
        }
        NNT_OK(nn_net_set_params(f->net, k, w, b));
        /* the reference gets what the library holds, read back */
        f->w[k] = xcalloc(ni * no, sizeof(float));
        f->b[k] = xcalloc(no, sizeof(float));
        NNT_OK(nn_net_get_params(f->net, k, f->w[k], f->b[k]));
        NNT_TRUE(memcmp(w, f->w[k], ni * no * sizeof(float)) == 0);
        NNT_TRUE(memcmp(b, f->b[k], no * sizeof(float)) == 0);
        free(w);
        free(b);
        ref_set_layer(&f->ref, k, f->w[k], f->b[k]);
        NNT_EQ_INT(ref_forward(&f->ref, f->xd, batch), 0);
        if (act == NN_ACT_RELU) {
            double need = fmax(2.0 * GC_H, 1.5 * sens_bound(&f->ref, k, GC_H));
            double zmin = HUGE_VAL;
            for (i = 0; i < batch * no; i++)
                zmin = fmin(zmin, fabs(f->ref.z[k][i]));
            NNT_LE(need, zmin);                 /* T9d: away from the kink */
            f->relu_min = fmin(f->relu_min, zmin);
        }
    }

    /* targets */
    {
        const double *p = ref_output(&f->ref);
        double need = fmax(2.0 * GC_H, 1.5 * sens_bound(&f->ref, L - 1, GC_H));
        if (c->loss == GC_LABELS) {
            f->labels = xcalloc(batch, sizeof(int32_t));
            for (s = 0; s < batch; s++)
                f->labels[s] = (int32_t)(gc_next(&rng) % n_out);
        } else {
            f->t = xcalloc(batch * n_out, sizeof(float));
            f->td = xcalloc(batch * n_out, sizeof(double));
        }
        for (s = 0; f->t != NULL && s < batch; s++) {
            float *t = f->t + s * n_out;
            const double *pp = p + s * n_out;
            switch (c->loss) {
            case NN_LOSS_CCE:
                /* rows of sixteenths: exactly one in float and double, as
                   the combined softmax gradient (p - t) / batch needs */
                if (s % 2 == 0) {
                    t[gc_next(&rng) % n_out] = 1.0f;
                } else {
                    for (i = 0; i < 16; i++)
                        t[gc_next(&rng) % n_out] += 0.0625f;
                }
                break;
            case NN_LOSS_BCE:
                for (j = 0; j < n_out; j++)
                    t[j] = s % 2 == 0 ? (float)(gc_next(&rng) % 2)
                                      : (float)gc_unif(&rng);
                break;
            case NN_LOSS_MSE:
                for (j = 0; j < n_out; j++)
                    t[j] = (float)(2.0 * gc_unif(&rng) - 1.0);
                break;
            default: /* NN_LOSS_MAE: away from the output */
                for (j = 0; j < n_out; j++) {
                    double d = need + 0.05 + 0.35 * gc_unif(&rng);
                    t[j] = (float)(pp[j] + (gc_next(&rng) % 2 ? d : -d));
                }
                break;
            }
        }
        for (i = 0; f->t != NULL && i < batch * n_out; i++)
            f->td[i] = (double)f->t[i];
        if (c->loss == NN_LOSS_MAE) {
            for (i = 0; i < batch * n_out; i++)
                f->mae_min = fmin(f->mae_min, fabs(p[i] - f->td[i]));
            NNT_LE(need, f->mae_min);
        }
        if (clip_loss) {
            double lo = HUGE_VAL, hi = -HUGE_VAL;
            for (i = 0; i < batch * n_out; i++) {
                lo = fmin(lo, p[i]);
                hi = fmax(hi, p[i]);
            }
            if (scaled_last) {
                NNT_LE(0.2, lo);
                NNT_LE(hi, 0.8);
                NNT_LE(need, 0.19);   /* a step cannot leave (0.01, 0.99) */
            } else {
                /* sigmoid and softmax: a step moves a logit by at most
                   need <= 1, p by a factor within [1/e^2, e^2] */
                NNT_LE(1e-4, lo);
                NNT_LE(hi, 1.0 - 1e-4);
                NNT_LE(need, 1.0);
            }
        }
    }
}

void gc_free(struct gc_fix *f)
{
    size_t k;
    nn_net_destroy(f->net);
    ref_destroy(&f->ref);
    for (k = 0; k < GC_MAX_LAYERS; k++) {
        free(f->w[k]);
        free(f->b[k]);
    }
    free(f->x);
    free(f->xd);
    free(f->t);
    free(f->td);
    free(f->labels);
    memset(f, 0, sizeof *f);
}

int gc_lib_step(struct gc_fix *f, float *out, float *loss)
{
    int st = nn_forward(f->net, f->x, f->c.batch, out);
    if (st != NN_OK) return st;
    if (f->labels != NULL) return nn_backward_labels(f->net, f->labels, loss);
    return nn_backward(f->net, f->c.loss, f->t, loss);
}

double gc_ref_loss(struct gc_fix *f)
{
    if (ref_forward(&f->ref, f->xd, f->c.batch) != 0) return NAN;
    if (f->labels != NULL) return ref_loss_labels(&f->ref, f->labels);
    return ref_loss(&f->ref, f->c.loss, f->td);
}

double gc_ref_step(struct gc_fix *f)
{
    if (ref_forward(&f->ref, f->xd, f->c.batch) != 0) return NAN;
    if (f->labels != NULL) return ref_backward_labels(&f->ref, f->labels);
    return ref_backward(&f->ref, f->c.loss, f->td);
}

size_t gc_pick(const double *g, size_t n, size_t max, uint64_t *rng,
               size_t *idx)
{
    unsigned char *taken;
    size_t i, m = 0, top = max / 3;
    if (n <= max) {
        for (i = 0; i < n; i++) idx[i] = i;
        return n;
    }
    taken = xcalloc(n, 1);
    /* the largest |g| first (they carry the norm), by repeated scans */
    while (m < top) {
        size_t best = n;
        for (i = 0; i < n; i++)
            if (!taken[i] && (best == n || fabs(g[i]) > fabs(g[best])))
                best = i;
        taken[best] = 1;
        idx[m++] = best;
    }
    while (m < max) {
        i = (size_t)(gc_next(rng) % n);
        if (taken[i]) continue;
        taken[i] = 1;
        idx[m++] = i;
    }
    free(taken);
    return m;
}
