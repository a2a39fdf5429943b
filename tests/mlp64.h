/*
 * mlp64.h - a tiny double-precision forward pass and loss, written from
 * the definitions in include/nnfs.h, for the regularization, trainer and
 * examples tests (header only, static functions).  The parameters are
 * read out of a library net once (floats widened exactly) and may then be
 * changed in double (finite differences).
 */
#ifndef NNFS_TESTS_MLP64_H
#define NNFS_TESTS_MLP64_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnfs.h"

#define M64_MAX_LAYERS 6

struct m64 {
    size_t n_layers;
    size_t sizes[M64_MAX_LAYERS + 1];
    int32_t act[M64_MAX_LAYERS];
    double *w[M64_MAX_LAYERS], *b[M64_MAX_LAYERS];
};

static inline void m64_free(struct m64 *m)
{
    size_t i;
    for (i = 0; i < m->n_layers; i++) {
        free(m->w[i]);
        free(m->b[i]);
    }
    memset(m, 0, sizeof *m);
}

/* Copy a library net's shape and parameters; 0 on success. */
static inline int m64_from_net(struct m64 *m, const nn_net *net)
{
    size_t i, j;
    memset(m, 0, sizeof *m);
    m->n_layers = nn_net_num_layers(net);
    if (m->n_layers == 0 || m->n_layers > M64_MAX_LAYERS) return -1;
    m->sizes[0] = nn_net_layer_inputs(net, 0);
    for (i = 0; i < m->n_layers; i++) {
        size_t nin = nn_net_layer_inputs(net, i);
        size_t nout = nn_net_layer_outputs(net, i);
        float *fw = malloc(nin * nout * sizeof *fw);
        float *fb = malloc(nout * sizeof *fb);
        m->sizes[i + 1] = nout;
        m->act[i] = nn_net_layer_activation(net, i);
        m->w[i] = malloc(nin * nout * sizeof(double));
        m->b[i] = malloc(nout * sizeof(double));
        if (!fw || !fb || !m->w[i] || !m->b[i] ||
            nn_net_get_params(net, i, fw, fb) != NN_OK) {
            free(fw);
            free(fb);
            m->n_layers = i + 1;
            m64_free(m);
            return -1;
        }
        for (j = 0; j < nin * nout; j++) m->w[i][j] = fw[j];
        for (j = 0; j < nout; j++) m->b[i][j] = fb[j];
        free(fw);
        free(fb);
    }
    return 0;
}

/* Forward pass of batch rows of x into out (batch * last width).  Returns
   0, -1 on allocation failure. */
static inline int m64_forward(const struct m64 *m, const float *x,
                              size_t batch, double *out)
{
    size_t i, r, j, k, widest = 0;
    double *a, *z;
    for (i = 0; i <= m->n_layers; i++)
        if (m->sizes[i] > widest) widest = m->sizes[i];
    a = malloc(batch * widest * sizeof *a);
    z = malloc(batch * widest * sizeof *z);
    if (!a || !z) {
        free(a);
        free(z);
        return -1;
    }
    for (j = 0; j < batch * m->sizes[0]; j++) a[j] = x[j];
    for (i = 0; i < m->n_layers; i++) {
        size_t nin = m->sizes[i], nout = m->sizes[i + 1];
        for (r = 0; r < batch; r++) {
            for (j = 0; j < nout; j++) {
                double s = m->b[i][j];
                for (k = 0; k < nin; k++)
                    s += a[r * nin + k] * m->w[i][k * nout + j];
                z[r * nout + j] = s;
            }
        }
        for (r = 0; r < batch; r++) {
            double *zr = z + r * nout, *ar = a + r * nout, mx = zr[0], sum = 0;
            for (j = 0; j < nout; j++) {
                switch (m->act[i]) {
                case NN_ACT_RELU: ar[j] = zr[j] > 0 ? zr[j] : 0; break;
                case NN_ACT_SIGMOID: ar[j] = 1.0 / (1.0 + exp(-zr[j])); break;
                case NN_ACT_TANH: ar[j] = tanh(zr[j]); break;
                case NN_ACT_SOFTMAX:
                    if (zr[j] > mx) mx = zr[j];
                    break;
                default: ar[j] = zr[j]; break;
                }
            }
            if (m->act[i] == NN_ACT_SOFTMAX) {
                for (j = 0; j < nout; j++) sum += exp(zr[j] - mx);
                for (j = 0; j < nout; j++) ar[j] = exp(zr[j] - mx) / sum;
            }
        }
    }
    memcpy(out, a, batch * m->sizes[m->n_layers] * sizeof *out);
    free(a);
    free(z);
    return 0;
}

static inline double m64_clip(double p)
{
    return p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
}

/* Mean loss (NN_LOSS_*) of out against targets t, or CCE against labels
   when t is NULL. */
static inline double m64_loss(int32_t loss, const double *out,
                              const float *t, const int32_t *labels,
                              size_t batch, size_t n_out)
{
    double sum = 0;
    size_t r, j;
    for (r = 0; r < batch; r++) {
        const double *o = out + r * n_out;
        double s = 0;
        if (t == NULL) {
            sum += -log(m64_clip(o[labels[r]]));
            continue;
        }
        for (j = 0; j < n_out; j++) {
            double p = o[j], y = t[r * n_out + j];
            switch (loss) {
            case NN_LOSS_CCE: s += -y * log(m64_clip(p)); break;
            case NN_LOSS_BCE:
                s += -(y * log(m64_clip(p)) + (1 - y) * log(1 - m64_clip(p)));
                break;
            case NN_LOSS_MSE: s += (p - y) * (p - y); break;
            default: s += fabs(p - y); break;
            }
        }
        sum += loss == NN_LOSS_CCE ? s : s / (double)n_out;
    }
    return sum / (double)batch;
}

/* argmax, first maximum as NumPy */
static inline size_t m64_argmax(const double *v, size_t n)
{
    size_t j, best = 0;
    for (j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

#endif /* NNFS_TESTS_MLP64_H */
