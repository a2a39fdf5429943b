/*
 * refnet.c - the double-precision reference MLP (see refnet.h).  Kept
 * deliberately naive: every formula is the textbook one, one loop per
 * index, so that a reader can check it against include/nnfs.h by eye.
 *
 * Values are stored in double; the sums of the forward pass and of the
 * loss accumulate in long double (x87 extended on x86-64), because T9a
 * differences losses with h = 1e-6: a loss of 5 summed over 64 rows in
 * double carries ~1e-15 of rounding, which alone is 4e-6 of a 1e-9 loss
 * change (measured before this choice).
 */
#include "refnet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnfs.h"

/* The contract's clip of probabilities before a log: [1e-7, 1 - 1e-7]. */
#define REF_CLIP_LO 1e-7
#define REF_CLIP_HI (1.0 - 1e-7)

static double clip(double p)
{
    return p < REF_CLIP_LO ? REF_CLIP_LO : p > REF_CLIP_HI ? REF_CLIP_HI : p;
}

int ref_create(struct ref_net *r, size_t n_layers, const size_t *sizes,
               const int32_t *act)
{
    size_t k;
    memset(r, 0, sizeof *r);
    if (n_layers < 1 || n_layers > REF_MAX_LAYERS) return -1;
    r->n_layers = n_layers;
    for (k = 0; k <= n_layers; k++) r->sizes[k] = sizes[k];
    for (k = 0; k < n_layers; k++) {
        size_t n_in = sizes[k], n_out = sizes[k + 1];
        r->act[k] = act[k];
        r->w[k] = calloc(n_in * n_out, sizeof(double));
        r->dw[k] = calloc(n_in * n_out, sizeof(double));
        r->b[k] = calloc(n_out, sizeof(double));
        r->db[k] = calloc(n_out, sizeof(double));
        if (!r->w[k] || !r->dw[k] || !r->b[k] || !r->db[k]) {
            ref_destroy(r);
            return -1;
        }
    }
    return 0;
}

void ref_destroy(struct ref_net *r)
{
    size_t k;
    for (k = 0; k < REF_MAX_LAYERS; k++) {
        free(r->w[k]);
        free(r->b[k]);
        free(r->dw[k]);
        free(r->db[k]);
        free(r->z[k]);
    }
    for (k = 0; k <= REF_MAX_LAYERS; k++) free(r->a[k]);
    memset(r, 0, sizeof *r);
}

void ref_set_layer(struct ref_net *r, size_t layer, const float *w,
                   const float *b)
{
    size_t n_in = r->sizes[layer], n_out = r->sizes[layer + 1], i;
    if (w != NULL)
        for (i = 0; i < n_in * n_out; i++) r->w[layer][i] = (double)w[i];
    if (b != NULL)
        for (i = 0; i < n_out; i++) r->b[layer][i] = (double)b[i];
}

static int reserve(struct ref_net *r, size_t batch)
{
    size_t k;
    if (batch <= r->cap) return 0;
    for (k = 0; k <= r->n_layers; k++) {
        free(r->a[k]);
        r->a[k] = malloc(batch * r->sizes[k] * sizeof(double));
        if (r->a[k] == NULL) return -1;
    }
    for (k = 0; k < r->n_layers; k++) {
        free(r->z[k]);
        r->z[k] = malloc(batch * r->sizes[k + 1] * sizeof(double));
        if (r->z[k] == NULL) return -1;
    }
    r->cap = batch;
    return 0;
}

/* Logistic function, branch by sign so exp never overflows. */
static double sigmoid(double z)
{
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    return exp(z) / (1.0 + exp(z));
}

static void activate(int32_t act, const double *z, double *a, size_t n)
{
    size_t j;
    double m;
    long double s;
    switch (act) {
    case NN_ACT_RELU:
        for (j = 0; j < n; j++) a[j] = z[j] > 0 ? z[j] : 0.0;
        break;
    case NN_ACT_SIGMOID:
        for (j = 0; j < n; j++) a[j] = sigmoid(z[j]);
        break;
    case NN_ACT_TANH:
        for (j = 0; j < n; j++) a[j] = tanh(z[j]);
        break;
    case NN_ACT_SOFTMAX:
        /* exp(z_j - max z) / sum_k exp(z_k - max z) */
        m = z[0];
        for (j = 1; j < n; j++) if (z[j] > m) m = z[j];
        s = 0;
        for (j = 0; j < n; j++) { a[j] = exp(z[j] - m); s += a[j]; }
        for (j = 0; j < n; j++) a[j] = (double)(a[j] / s);
        break;
    default: /* NN_ACT_LINEAR */
        for (j = 0; j < n; j++) a[j] = z[j];
        break;
    }
}

int ref_forward(struct ref_net *r, const double *x, size_t batch)
{
    size_t k, s, i, j;
    if (reserve(r, batch) != 0) return -1;
    r->batch = batch;
    memcpy(r->a[0], x, batch * r->sizes[0] * sizeof(double));
    for (k = 0; k < r->n_layers; k++) {
        size_t n_in = r->sizes[k], n_out = r->sizes[k + 1];
        for (s = 0; s < batch; s++) {
            const double *in = r->a[k] + s * n_in;
            double *z = r->z[k] + s * n_out;
            for (j = 0; j < n_out; j++) {
                long double acc = r->b[k][j];
                for (i = 0; i < n_in; i++)
                    acc += (long double)in[i] * r->w[k][i * n_out + j];
                z[j] = (double)acc;
            }
            activate(r->act[k], z, r->a[k + 1] + s * n_out, n_out);
        }
    }
    return 0;
}

const double *ref_output(const struct ref_net *r)
{
    return r->a[r->n_layers];
}

/* Per-sample loss of one row p against one row t (n outputs). */
static long double sample_loss(int32_t loss, const double *p,
                               const double *t, size_t n)
{
    long double acc = 0;
    size_t j;
    for (j = 0; j < n; j++) {
        double pc = clip(p[j]), d = p[j] - t[j];
        switch (loss) {
        case NN_LOSS_CCE: acc -= t[j] * log(pc); break;
        case NN_LOSS_BCE:
            acc -= t[j] * log(pc) + (1.0 - t[j]) * log(1.0 - pc);
            break;
        case NN_LOSS_MSE: acc += (long double)d * d; break;
        default: acc += fabs(d); break;     /* NN_LOSS_MAE */
        }
    }
    return loss == NN_LOSS_CCE ? acc : acc / (long double)n;
}

double ref_loss(const struct ref_net *r, int32_t loss, const double *t)
{
    size_t n = r->sizes[r->n_layers], s;
    const double *p = ref_output(r);
    long double sum = 0;
    for (s = 0; s < r->batch; s++)
        sum += sample_loss(loss, p + s * n, t + s * n, n);
    return (double)(sum / (long double)r->batch);
}

double ref_loss_labels(const struct ref_net *r, const int32_t *labels)
{
    size_t n = r->sizes[r->n_layers], s;
    const double *p = ref_output(r);
    long double sum = 0;
    for (s = 0; s < r->batch; s++)
        sum -= log(clip(p[s * n + (size_t)labels[s]]));
    return (double)(sum / (long double)r->batch);
}

/* dL/dp of the mean loss, element by element. */
static double loss_grad(int32_t loss, double p, double t, size_t n,
                        size_t batch)
{
    double pc = clip(p), m = (double)batch;
    switch (loss) {
    case NN_LOSS_CCE: return -t / pc / m;
    case NN_LOSS_BCE:
        return -(t / pc - (1.0 - t) / (1.0 - pc)) / (double)n / m;
    case NN_LOSS_MSE: return 2.0 * (p - t) / (double)n / m;
    default:                                    /* NN_LOSS_MAE */
        return (p > t ? 1.0 : p < t ? -1.0 : 0.0) / (double)n / m;
    }
}

/* dL/dz of one row from dL/da (g), the pre-activation z and output a. */
static void act_grad(int32_t act, const double *g, const double *z,
                     const double *a, double *dz, size_t n)
{
    size_t j, k;
    switch (act) {
    case NN_ACT_RELU:
        for (j = 0; j < n; j++) dz[j] = z[j] > 0 ? g[j] : 0.0;
        break;
    case NN_ACT_SIGMOID:
        for (j = 0; j < n; j++) dz[j] = g[j] * a[j] * (1.0 - a[j]);
        break;
    case NN_ACT_TANH:
        for (j = 0; j < n; j++) dz[j] = g[j] * (1.0 - a[j] * a[j]);
        break;
    case NN_ACT_SOFTMAX:
        /* the full Jacobian: da_k/dz_j = a_k (delta_kj - a_j) */
        for (j = 0; j < n; j++) {
            double acc = 0;
            for (k = 0; k < n; k++)
                acc += g[k] * a[k] * ((k == j ? 1.0 : 0.0) - a[j]);
            dz[j] = acc;
        }
        break;
    default: /* NN_ACT_LINEAR */
        for (j = 0; j < n; j++) dz[j] = g[j];
        break;
    }
}

/* Backward from the targets t (batch x n_out); the loss is computed by
   the caller. */
static int backward(struct ref_net *r, int32_t loss, const double *t)
{
    size_t L = r->n_layers, batch = r->batch, n_out = r->sizes[L];
    size_t k, s, i, j, widest = 0;
    double *g, *dz, *dzp;
    int32_t out_act = r->act[L - 1];
    for (k = 0; k <= L; k++) if (r->sizes[k] > widest) widest = r->sizes[k];
    g = malloc(batch * widest * sizeof(double));
    dz = malloc(batch * widest * sizeof(double));
    dzp = malloc(batch * widest * sizeof(double));
    if (!g || !dz || !dzp) { free(g); free(dz); free(dzp); return -1; }

    /* dL/dz of the last layer */
    for (s = 0; s < batch; s++) {
        const double *p = ref_output(r) + s * n_out, *tt = t + s * n_out;
        const double *z = r->z[L - 1] + s * n_out;
        double *d = dz + s * n_out, *gg = g + s * n_out;
        if (out_act == NN_ACT_SOFTMAX && loss == NN_LOSS_CCE) {
            /* the contract's combined gradient (p - t) / batch */
            for (j = 0; j < n_out; j++) d[j] = (p[j] - tt[j]) / (double)batch;
        } else {
            for (j = 0; j < n_out; j++)
                gg[j] = loss_grad(loss, p[j], tt[j], n_out, batch);
            act_grad(out_act, gg, z, p, d, n_out);
        }
    }

    for (k = L; k-- > 0;) {
        size_t n_in = r->sizes[k], no = r->sizes[k + 1];
        /* dW = A_{k-1}^T dZ, db = sum over rows of dZ */
        for (i = 0; i < n_in; i++)
            for (j = 0; j < no; j++) {
                double acc = 0;
                for (s = 0; s < batch; s++)
                    acc += r->a[k][s * n_in + i] * dz[s * no + j];
                r->dw[k][i * no + j] = acc;
            }
        for (j = 0; j < no; j++) {
            double acc = 0;
            for (s = 0; s < batch; s++) acc += dz[s * no + j];
            r->db[k][j] = acc;
        }
        if (k == 0) break;
        /* dA_{k-1} = dZ W^T, then through layer k-1's activation */
        for (s = 0; s < batch; s++) {
            for (i = 0; i < n_in; i++) {
                double acc = 0;
                for (j = 0; j < no; j++)
                    acc += dz[s * no + j] * r->w[k][i * no + j];
                g[s * n_in + i] = acc;
            }
            act_grad(r->act[k - 1], g + s * n_in, r->z[k - 1] + s * n_in,
                     r->a[k] + s * n_in, dzp + s * n_in, n_in);
        }
        memcpy(dz, dzp, batch * n_in * sizeof(double));
    }
    free(g);
    free(dz);
    free(dzp);
    return 0;
}

double ref_backward(struct ref_net *r, int32_t loss, const double *t)
{
    if (backward(r, loss, t) != 0) return NAN;
    return ref_loss(r, loss, t);
}

double ref_backward_labels(struct ref_net *r, const int32_t *labels)
{
    size_t n = r->sizes[r->n_layers], s;
    double *t = calloc(r->batch * n, sizeof(double)), value;
    if (t == NULL) return NAN;
    for (s = 0; s < r->batch; s++) t[s * n + (size_t)labels[s]] = 1.0;
    value = backward(r, NN_LOSS_CCE, t) == 0 ? ref_loss_labels(r, labels)
                                             : NAN;
    free(t);
    return value;
}
