/*
 * replicas.c - the passes of a forward and a backward over one worker's
 * block of rows, and the backward's parameter phase over one worker's
 * block of each weight matrix's rows (parallel.h).
 *
 * The cache slots and the backward scratch keep their serial layout
 * (net.c: per layer, batch rows one after the other), so worker t's rows
 * [r0, r1) of any block start r0 rows in, and what the workers leave is
 * exactly what the serial code would have left: when a step cannot be
 * proved finite the serial code finishes it from there.
 */
#include "base/base.h"
#include "kernels/kernels.h"
#include "core.h"
#include "parallel.h"

#include <math.h>
#include <string.h>

void nn__par_forward_fn(void *vctx, unsigned t, unsigned n)
{
    struct nn__par_fwd *c = vctx;
    nn_net *net = c->net;
    const struct nn__kernels *k = nn__kernels();
    const struct nn__train_kernels *tk = nn__train_kernels();
    size_t batch = c->batch, n_in = net->layers[0].n_in, r0, r1, rb, i;
    float *base = net->cache[c->s];
    uint32_t xmax = 0;

    nn__par_split(batch, t, n, &r0, &r1);
    rb = r1 - r0;
    /* x: this block's rows, copied (gathered) and measured in one pass */
    if (c->rows == NULL) {
        xmax = k->copy_amax(base + r0 * n_in, c->x + r0 * n_in, rb * n_in);
    } else {
        for (i = r0; i < r1; i++)
            xmax = nn__umax(xmax, k->copy_amax(base + i * n_in,
                                                 c->x + c->rows[i] * n_in,
                                                 n_in));
    }
    c->xmax[t] = xmax;
    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        const float *in = base + batch * l->off_in + r0 * l->n_in;
        float *a = base + batch * l->off_a + r0 * l->n_out;
        uint32_t am;
        /* Z = X W on the block: M = rb (dims accepted by the caller) */
        (void)nn__gemm_fwd(in, l->w, a, rb, l->n_in, l->n_out);
        am = k->bias_act[l->act](a, l->b, rb, l->n_out);
        *nn__par_m(net, NN__PM_ACT, i, t, n) = am;
        if (l->dropout > 0.0f) {
            float *mask = base + batch * l->off_mask + r0 * l->n_out;
            float *d = base + batch * l->off_d + r0 * l->n_out;
            am = tk->dropout_apply(d, a, mask, rb * l->n_out);
        }
        *nn__par_m(net, NN__PM_DROP, i, t, n) = am;
    }
}

/* dL/dz of the output layer over rows [r0, r1), scaled from the block's
   mean to the batch's; returns the block's share of the batch's mean
   loss. */
static double nn__par_out_grad(struct nn__par_bwd *c, size_t r0, size_t r1,
                               float *db, uint32_t *dzmax)
{
    const nn_net *net = c->net;
    const struct nn__kernels *k = nn__kernels();
    const struct nn__layer *last = &net->layers[net->n_layers - 1];
    size_t n_out = last->n_out, rb = r1 - r0, j, cnt = rb * n_out;
    const float *p = net->cache[c->s] + c->batch * last->off_a + r0 * n_out;
    const float *tg = c->targets != NULL ? c->targets + r0 * n_out : NULL;
    const int32_t *lb = c->labels != NULL ? c->labels + r0 : NULL;
    float *dz = nn__par_dz(net, c->batch, net->n_layers - 1) + r0 * n_out;
    int fused = last->act == NN_ACT_SOFTMAX && c->loss == NN_LOSS_CCE;
    /* the kernels divide by their row count: rb / batch rescales the
       block's mean gradient to the batch's (one more rounding) */
    float f = (float)((double)rb / (double)c->batch);
    double value;
    if (fused)
        value = lb != NULL ? k->softmax_cce_labels(p, lb, dz, rb, n_out)
                           : k->softmax_cce(p, tg, dz, rb, n_out);
    else
        value = lb != NULL ? k->cce_labels(p, lb, dz, rb, n_out)
                           : k->loss[c->loss](p, tg, dz, rb, n_out);
    if (f != 1.0f)
        for (j = 0; j < cnt; j++) dz[j] *= f;
    *dzmax = k->act_bwd[fused ? NN_ACT_LINEAR : last->act](dz, p, db, rb,
                                                           n_out);
    return value * (double)rb / (double)c->batch;
}

/* Phase 1: dL/dz of every layer over worker t's rows. */
static void nn__par_rows_bwd(struct nn__par_bwd *c, unsigned t, unsigned n)
{
    nn_net *net = c->net;
    const struct nn__kernels *k = nn__kernels();
    const struct nn__train_kernels *tk = nn__train_kernels();
    size_t batch = c->batch, L = net->n_layers, r0, r1, rb, i;
    float *base = net->cache[c->s];
    float *db = net->par->db + (size_t)t * net->width_sum;

    nn__par_split(batch, t, n, &r0, &r1);
    rb = r1 - r0;
    c->value[t] = nn__par_out_grad(c, r0, r1, db + nn__par_db_off(net, L - 1),
                                   nn__par_m(net, NN__PM_DZ, L - 1, t, n));
    for (i = L - 1; i-- > 0;) {
        const struct nn__layer *l = &net->layers[i];
        const struct nn__layer *nx = &net->layers[i + 1];
        float *dzi = nn__par_dz(net, batch, i) + r0 * l->n_out;
        /* dA_i = dZ_{i+1} W_{i+1}^T on the block: M = rb */
        (void)nn__gemm_dx(nn__par_dz(net, batch, i + 1) + r0 * nx->n_out,
                          nx->w, dzi, rb, nx->n_in, nx->n_out);
        if (l->dropout > 0.0f)
            tk->dropout_back(dzi, base + batch * l->off_mask + r0 * l->n_out,
                             rb * l->n_out);
        *nn__par_m(net, NN__PM_DZ, i, t, n) = k->act_bwd[l->act](
            dzi, base + batch * l->off_a + r0 * l->n_out,
            db + nn__par_db_off(net, i), rb, l->n_out);
    }
}

void nn__par_backward_rows_fn(void *vctx, unsigned t, unsigned n)
{
    nn__par_rows_bwd(vctx, t, n);
}

/* Phase 2, bias part: columns [c0, c1) of the bias gradients (all layers
   back to back) summed over the workers' partials in worker order. */
static void nn__par_db_sum(nn_net *net, size_t c0, size_t c1, unsigned n)
{
    size_t w = net->width_sum, j;
    unsigned p;
    for (j = c0; j < c1; j++) {
        float acc = net->par->db[j];
        for (p = 1; p < n; p++) acc += net->par->db[(size_t)p * w + j];
        net->db_scratch[j] = acc;
    }
}

void nn__par_backward_fn(void *vctx, unsigned t, unsigned n)
{
    struct nn__par_bwd *c = vctx;
    nn_net *net = c->net;
    const struct nn__kernels *k = nn__kernels();
    size_t batch = c->batch, L = net->n_layers, c0, c1, i, off = 0;
    uint32_t dzm[NN_MAX_LAYERS];
    double wb[NN_MAX_LAYERS], value = 0;
    float *base = net->cache[c->s];
    unsigned p;
    int ok = 1;

    nn__par_split(net->width_sum, t, n, &c0, &c1);
    nn__par_db_sum(net, c0, c1, n);
    /* every worker reaches the same verdict from the same numbers */
    for (p = 0; p < n; p++) value += c->value[p];
    for (i = 0; i < L; i++) {
        dzm[i] = 0;
        for (p = 0; p < n; p++)
            dzm[i] = nn__umax(dzm[i], *nn__par_m(net, NN__PM_DZ, i, p, n));
        if (dzm[i] >= NN__NONFINITE_BITS) ok = 0;
    }
    if (!isfinite(value) ||!ok ||
        !nn__grads_provable(net, batch, dzm, c->fused_lr, wb)) {
        if (t == 0) c->done = 0;
        return;
    }
    if (t == 0) {
        c->done = c->fused_lr != NULL ? 2 : 1;
        memcpy(c->wbound, wb, L * sizeof(double));
    }

    for (i = 0; i < L; i++) {
        struct nn__layer *l = &net->layers[i];
        const float *x = base + batch * l->off_in;
        const float *dz = nn__par_dz(net, batch, i);
        size_t a, b, j0, j1;
        uint32_t bm = 0;
        nn__par_split(l->n_in, t, n, &a, &b);
        if (b > a) {
            if (c->fused_lr != NULL)
                /* W[a:b] <- -lr X[:, a:b]^T dZ + W[a:b] */
                (void)nn__gemm_dw_ld(x + a, l->n_in, dz, l->w + a * l->n_out,
                                     batch, b - a, l->n_out, -*c->fused_lr,
                                     1.0f);
            else
                /* dW[a:b] <- X[:, a:b]^T dZ */
                (void)nn__gemm_dw_ld(x + a, l->n_in, dz,
                                     l->dw + a * l->n_out, batch, b - a,
                                     l->n_out, 1.0f, 0.0f);
        }
        /* this worker's bias columns of layer i: those it summed */
        j0 = c0 > off ? c0 - off : 0;
        j1 = c1 < off + l->n_out ? (c1 > off ? c1 - off : 0) : l->n_out;
        if (j1 > j0) {
            const float *g = net->db_scratch + off + j0;
            if (c->fused_lr != NULL)
                bm = k->sgd(l->b + j0, g, j1 - j0, *c->fused_lr);
            else
                memcpy(l->db + j0, g, (j1 - j0) * sizeof(float));
        }
        *nn__par_m(net, NN__PM_AUX, i, t, n) = bm;
        off += l->n_out;
    }
}

/*====== Inference ======*/

struct nn__par_pred {
    nn_net *net;
    const float *x;
    float *out;
    size_t batch;
    int bad[NN__PAR_MAX];
};

/* nn_predict's loop (net.c) over worker t's rows, in blocks of
   NN__PREDICT_ROWS through its own scratch. */
static void nn__par_predict_fn(void *vctx, unsigned t, unsigned n)
{
    struct nn__par_pred *c = vctx;
    const nn_net *net = c->net;
    const struct nn__kernels *k = nn__kernels();
    size_t n_in = net->layers[0].n_in, L = net->n_layers;
    size_t n_out = net->layers[L - 1].n_out, a, b, r0, i;
    float *scr = t == 0 ? net->pred
                        : net->par->pred + (size_t)(t - 1) * 2 *
                                               NN__PREDICT_ROWS *
                                               net->width_max;
    nn__par_split(c->batch, t, n, &a, &b);
    c->bad[t] = 0;
    for (r0 = a; r0 < b; r0 += NN__PREDICT_ROWS) {
        size_t rows = b - r0 < NN__PREDICT_ROWS ? b - r0 : NN__PREDICT_ROWS;
        const float *in = c->x + r0 * n_in;
        if (k->amax(in, rows * n_in) >= NN__NONFINITE_BITS) {
            c->bad[t] = 1;
            return;
        }
        for (i = 0; i < L; i++) {
            const struct nn__layer *l = &net->layers[i];
            float *dst = i + 1 == L ? c->out + r0 * n_out
                                    : scr + (i % 2) * NN__PREDICT_ROWS *
                                                net->width_max;
            (void)nn__gemm_fwd(in, l->w, dst, rows, l->n_in, l->n_out);
            if (k->bias_act[l->act](dst, l->b, rows, l->n_out) >=
                NN__NONFINITE_BITS) {
                c->bad[t] = 1;
                return;
            }
            in = dst;
        }
    }
}

int nn__par_predict(nn_net *net, const float *x, size_t batch, float *out,
                    unsigned n)
{
    struct nn__par_pred c;
    unsigned t;
    if (nn__par_net_reserve(net, n, "nn_predict") != NN_OK) return 1;
    c.net = net;
    c.x = x;
    c.out = out;
    c.batch = batch;
    nn__par_run(n, nn__par_predict_fn, &c);
    for (t = 0; t < n; t++)
        if (c.bad[t]) return 1;
    return NN_OK;
}
