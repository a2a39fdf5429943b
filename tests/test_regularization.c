/*
 * test_regularization.c - L1/L2 penalties and inverted dropout against
 * independent references:
 *   - gradients of (data loss + regularization loss) from nn_backward vs
 *     central finite differences of that total computed in double
 *     (mlp64.h forward, the penalty summed by the test);
 *   - nn_net_regularization_loss vs a double sum, and the data loss that
 *     nn_backward reports being the data loss alone;
 *   - dropout masks: binomial rate, 1 / (1 - rate) on kept units, 0 on
 *     dropped, the gradient through the same mask, nothing in nn_predict
 *     or at rate 0, same seed same masks.
 */
#include "nntest.h"
#include "mlp64.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* the test's own deterministic stream (splitmix64) */
static uint64_t rg_state;
static double rg_uniform(void)
{
    uint64_t z = (rg_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

struct pen { double l1w, l2w, l1b, l2b; };

static double penalty64(const struct m64 *m, const struct pen *p)
{
    double s = 0;
    size_t i, j;
    for (i = 0; i < m->n_layers; i++) {
        size_t nw = m->sizes[i] * m->sizes[i + 1], nb = m->sizes[i + 1];
        for (j = 0; j < nw; j++) {
            double w = m->w[i][j];
            s += p[i].l1w * fabs(w) + p[i].l2w * w * w;
        }
        for (j = 0; j < nb; j++) {
            double b = m->b[i][j];
            s += p[i].l1b * fabs(b) + p[i].l2b * b * b;
        }
    }
    return s;
}

static double total64(const struct m64 *m, const struct pen *p, int32_t loss,
                      const float *x, const float *t, const int32_t *labels,
                      size_t batch, double *data_out)
{
    double *out = malloc(batch * m->sizes[m->n_layers] * sizeof *out), d;
    if (out == NULL || m64_forward(m, x, batch, out) != 0) {
        free(out);
        return NAN;
    }
    d = m64_loss(loss, out, t, labels, batch, m->sizes[m->n_layers]);
    free(out);
    if (data_out) *data_out = d;
    return d + penalty64(m, p);
}

struct reg_case {
    const char *name;
    size_t n_layers, sizes[4];
    int32_t acts[3];
    int32_t loss;        /* -1: labels */
    struct pen pen[3];
};

/* Parameters drawn away from 0 (|v| >= 0.05) so |v| is smooth within the
   finite-difference step. */
static void set_params(nn_net *net, const struct reg_case *c)
{
    float w[64], b[8];
    size_t i, j;
    for (i = 0; i < c->n_layers; i++) {
        size_t nw = c->sizes[i] * c->sizes[i + 1], nb = c->sizes[i + 1];
        for (j = 0; j < nw + nb; j++) {
            double v = 0.05 + 0.6 * rg_uniform();
            float f = (float)(rg_uniform() < 0.5 ? -v : v);
            if (j < nw) w[j] = f;
            else b[j - nw] = f;
        }
        NNT_OK(nn_net_set_params(net, i, w, b));
    }
}

static const struct reg_case reg_cases[] = {
    {"tanh-softmax CCE labels, all four penalties", 2, {4, 6, 3, 0},
     {NN_ACT_TANH, NN_ACT_SOFTMAX, 0}, -1,
     {{0.01, 0.02, 0.03, 0.04}, {0.05, 0, 0, 0.1}, {0, 0, 0, 0}}},
    {"sigmoid-tanh-linear MSE, mixed", 3, {3, 5, 4, 2},
     {NN_ACT_SIGMOID, NN_ACT_TANH, NN_ACT_LINEAR}, NN_LOSS_MSE,
     {{0, 5e-4, 0, 5e-4}, {0.2, 0, 0.3, 0}, {0.01, 0.01, 0.01, 0.01}}},
    {"tanh-sigmoid BCE, L1 only", 2, {3, 7, 2, 0},
     {NN_ACT_TANH, NN_ACT_SIGMOID, 0}, NN_LOSS_BCE,
     {{0.1, 0, 0.1, 0}, {0.1, 0, 0.1, 0}, {0, 0, 0, 0}}},
};

NN_TEST(reg_gradients_vs_finite_differences)
{
    enum { B = 5 };
    size_t c;
    rg_state = 77;
    for (c = 0; c < sizeof reg_cases / sizeof reg_cases[0]; c++) {
        const struct reg_case *k = &reg_cases[c];
        size_t n_out = k->sizes[k->n_layers], n_in = k->sizes[0], i, j;
        float x[B * 4], t[B * 3], dw[64], db[8], reg_f, loss_f;
        int32_t labels[B];
        double reg_ref, data_ref, worst = 0, h = 1e-5;
        struct m64 m;
        nn_net *net = NULL;
        NNT_OK(nn_net_create(&net, k->n_layers, k->sizes, k->acts, 3 + c));
        set_params(net, k);
        for (i = 0; i < k->n_layers; i++) {
            NNT_OK(nn_net_set_layer_option(net, i, NN_LAYER_L1_WEIGHTS,
                                           k->pen[i].l1w));
            NNT_OK(nn_net_set_layer_option(net, i, NN_LAYER_L2_WEIGHTS,
                                           k->pen[i].l2w));
            NNT_OK(nn_net_set_layer_option(net, i, NN_LAYER_L1_BIASES,
                                           k->pen[i].l1b));
            NNT_OK(nn_net_set_layer_option(net, i, NN_LAYER_L2_BIASES,
                                           k->pen[i].l2b));
        }
        for (i = 0; i < B * n_in; i++) x[i] = (float)(2 * rg_uniform() - 1);
        for (i = 0; i < B; i++) labels[i] = (int32_t)(i % n_out);
        for (i = 0; i < B * n_out; i++)
            t[i] = k->loss == NN_LOSS_BCE ? (float)(i % 2)
                                          : (float)(2 * rg_uniform() - 1);
        NNT_TRUE(m64_from_net(&m, net) == 0);

        /* the values */
        NNT_OK(nn_forward(net, x, B, NULL));
        if (k->loss < 0) NNT_OK(nn_backward_labels(net, labels, &loss_f));
        else NNT_OK(nn_backward(net, k->loss, t, &loss_f));
        NNT_OK(nn_net_regularization_loss(net, &reg_f));
        (void)total64(&m, k->pen, k->loss < 0 ? NN_LOSS_CCE : k->loss, x,
                      k->loss < 0 ? NULL : t, labels, B, &data_ref);
        reg_ref = penalty64(&m, k->pen);
        NNT_NEAR(reg_f, reg_ref, 1e-6 * reg_ref);
        /* the reported loss is the data loss alone, and the penalty is
           big enough here that including it would show */
        NNT_NEAR(loss_f, data_ref, 2e-6 * data_ref + 1e-7);
        NNT_TRUE(reg_ref > 1e3 * 2e-6 * data_ref);
        printf("  %s: data loss %.6f (ref %.6f), reg loss %.6f (ref %.6f)\n",
               k->name, loss_f, data_ref, reg_f, reg_ref);

        /* every gradient entry vs central differences of the total */
        for (i = 0; i < k->n_layers; i++) {
            size_t nw = k->sizes[i] * k->sizes[i + 1], nb = k->sizes[i + 1];
            NNT_OK(nn_net_get_grads(net, i, dw, db));
            for (j = 0; j < nw + nb; j++) {
                double *p = j < nw ? &m.w[i][j] : &m.b[i][j - nw];
                double keep = *p, fp, fm, fd, g, err;
                int32_t lo = k->loss < 0 ? NN_LOSS_CCE : k->loss;
                const float *tt = k->loss < 0 ? NULL : t;
                *p = keep + h;
                fp = total64(&m, k->pen, lo, x, tt, labels, B, NULL);
                *p = keep - h;
                fm = total64(&m, k->pen, lo, x, tt, labels, B, NULL);
                *p = keep;
                fd = (fp - fm) / (2 * h);
                g = j < nw ? dw[j] : db[j - nw];
                err = fabs(g - fd);
                if (err > 2e-6 + 2e-5 * fabs(fd))
                    nnt_fail(__FILE__, __LINE__, "%s: layer %zu %s[%zu]: "
                             "library %.9g, finite difference %.9g",
                             k->name, i, j < nw ? "dW" : "db",
                             j < nw ? j : j - nw, g, fd);
                nnt_pass();
                if (err > worst) worst = err;
            }
        }
        printf("  %s: max |grad - central difference| %.3g\n", k->name,
               worst);
        m64_free(&m);
        nn_net_destroy(net);
    }
}

NN_TEST(reg_overflow_is_refused)
{
    /* issue 13: an L2 coefficient of 1e300 was accepted and the
       regularization loss came back as +infinity with NN_OK.  Coefficients
       above FLT_MAX are refused; a loss that overflows float is
       NN_ERR_NONFINITE and *loss_out is left alone.  The reference is the
       sum computed here in double. */
    size_t sizes[3] = {2, 4, 3}, i;
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    float w[8], b[4], loss = -1.0f;
    double v, ref = 0;
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 2, sizes, acts, 3));
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 1e300),
               NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("exceeds the float range");
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_L1_BIASES,
                                       (double)FLT_MAX * 1.0001),
               NN_ERR_INVALID_ARG);
    NNT_OK(nn_net_get_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, &v));
    NNT_EQ_U64(v == 0, 1);

    /* the largest coefficient is allowed; with weights of 10 the loss
       (8 * 100 * FLT_MAX) does not fit a float */
    for (i = 0; i < 8; i++) w[i] = (i % 2) ? 10.0f : -10.0f;
    for (i = 0; i < 4; i++) b[i] = 0.0f;
    NNT_OK(nn_net_set_params(net, 0, w, b));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS,
                                   (double)FLT_MAX));
    NNT_STATUS(nn_net_regularization_loss(net, &loss), NN_ERR_NONFINITE);
    NNT_MSG_HAS("overflows float");
    NNT_EQ_U64(loss == -1.0f, 1);

    /* a coefficient that keeps the loss finite gives the double sum */
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 1e30));
    for (i = 0; i < 8; i++) ref += 1e30 * (double)w[i] * (double)w[i];
    NNT_OK(nn_net_regularization_loss(net, &loss));
    NNT_NEAR((double)loss / ref, 1.0, 1e-6);
    nn_net_destroy(net);
}

NN_TEST(reg_sign_zero_and_options)
{
    /* numpy.sign(0) = 0: a parameter at exactly 0 gets no L1 gradient.
       Compare the gradients with and without L1 on a net whose biases are
       all 0 and one weight is 0: those entries are unchanged, the others
       move by exactly l1 sign(w) (+ 2 l2 w). */
    size_t sizes[3] = {2, 3, 2}, j;
    int32_t acts[2] = {NN_ACT_TANH, NN_ACT_LINEAR};
    float x[4] = {0.5f, -1.0f, 0.25f, 0.75f}, t[4] = {0.1f, 0.2f, -0.3f, 0.4f};
    float w[6], b[3], dw0[6], db0[3], dw1[6], db1[3];
    double v;
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 2, sizes, acts, 9));
    NNT_OK(nn_net_get_params(net, 0, w, b));
    w[4] = 0.0f;
    NNT_OK(nn_net_set_params(net, 0, w, b));
    NNT_OK(nn_forward(net, x, 2, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_net_get_grads(net, 0, dw0, db0));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L1_WEIGHTS, 0.25));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L1_BIASES, 0.5));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 0.125));
    /* penalties do not make the forward stale */
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_net_get_grads(net, 0, dw1, db1));
    for (j = 0; j < 6; j++) {
        double s = w[j] > 0 ? 1 : w[j] < 0 ? -1 : 0;
        NNT_NEAR(dw1[j], (double)dw0[j] + 0.25 * s + 0.25 * w[j], 1e-6);
    }
    NNT_EQ_U64(dw1[4] == dw0[4], 1);
    for (j = 0; j < 3; j++) NNT_EQ_U64(db1[j] == db0[j], 1);

    /* options: read back, rejected values change nothing */
    NNT_OK(nn_net_get_layer_option(net, 0, NN_LAYER_L1_WEIGHTS, &v));
    NNT_EQ_U64(v == 0.25, 1);
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_L1_WEIGHTS, -0.1),
               NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_set_layer_option");
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_L2_BIASES, NAN),
               NN_ERR_NONFINITE);
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_L2_BIASES, INFINITY),
               NN_ERR_NONFINITE);
    NNT_STATUS(nn_net_set_layer_option(net, 0, 5, 0.1), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(net, 0, -1, 0.1), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(net, 2, NN_LAYER_L1_WEIGHTS, 0.1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(NULL, 0, NN_LAYER_L1_WEIGHTS, 0.1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, 1.0),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, -0.1),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT,
                                       0.99999999999), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_set_layer_option(net, 1, NN_LAYER_DROPOUT, 0.5),
               NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("output layer");
    NNT_OK(nn_net_set_layer_option(net, 1, NN_LAYER_DROPOUT, 0.0));
    NNT_OK(nn_net_get_layer_option(net, 0, NN_LAYER_L1_WEIGHTS, &v));
    NNT_EQ_U64(v == 0.25, 1);
    NNT_OK(nn_net_get_layer_option(net, 0, NN_LAYER_L2_BIASES, &v));
    NNT_EQ_U64(v == 0.0, 1);
    NNT_OK(nn_net_get_layer_option(net, 0, NN_LAYER_DROPOUT, &v));
    NNT_EQ_U64(v == 0.0, 1);
    NNT_STATUS(nn_net_get_layer_option(net, 0, 5, &v), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_get_layer_option(net, 0, NN_LAYER_L1_WEIGHTS, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_get_layer_option(net, 7, NN_LAYER_L1_WEIGHTS, &v),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_regularization_loss(net, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_regularization_loss(NULL, &(float){0}),
               NN_ERR_INVALID_ARG);
    /* no penalty: exactly 0 */
    {
        nn_net *plain = NULL;
        float r = -1;
        NNT_OK(nn_net_create(&plain, 2, sizes, acts, 9));
        NNT_OK(nn_net_regularization_loss(plain, &r));
        NNT_EQ_U64(r == 0.0f, 1);
        nn_net_destroy(plain);
    }
    nn_net_destroy(net);
}

/*====== Dropout ======*/

/* A probe net: layer 0 maps the scalar input x_b to N hidden units with
   weights 1 and biases 0 (linear), so every hidden value of row b is x_b;
   layer 1 is the N x N identity (linear).  The output is then exactly
   x_b * mask[b][j]. */
enum { DN = 64 };

static nn_net *probe_net(uint64_t seed, double rate)
{
    static float eye[DN * DN];
    float ones[DN], zeros[DN];
    size_t sizes[3] = {1, DN, DN}, j;
    int32_t acts[2] = {NN_ACT_LINEAR, NN_ACT_LINEAR};
    nn_net *net = NULL;
    memset(eye, 0, sizeof eye);
    for (j = 0; j < DN; j++) {
        eye[j * DN + j] = 1.0f;
        ones[j] = 1.0f;
        zeros[j] = 0.0f;
    }
    NNT_OK(nn_net_create(&net, 2, sizes, acts, seed));
    NNT_OK(nn_net_set_params(net, 0, ones, zeros));
    NNT_OK(nn_net_set_params(net, 1, eye, zeros));
    NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, rate));
    return net;
}

static float probe_x(size_t b) { return 1.0f + 0.25f * (float)(b % 7); }

NN_TEST(dropout_mask_rate_and_scaling)
{
    enum { B = 1000 };
    static const double rates[4] = {0.1, 0.3, 0.5, 0.8};
    static float x[B], out[B * DN];
    size_t b, j, r;
    for (b = 0; b < B; b++) x[b] = probe_x(b);
    for (r = 0; r < 4; r++) {
        double rate = rates[r], scale = 1.0 / (1.0 - rate);
        double n = (double)B * DN, sigma = sqrt(rate * (1 - rate) / n);
        double pairs = 0, both = 0, col_worst = 0;
        size_t dropped = 0, col[DN] = {0};
        nn_net *net = probe_net(1234 + r, rate);
        NNT_OK(nn_forward(net, x, B, out));
        for (b = 0; b < B; b++) {
            for (j = 0; j < DN; j++) {
                float o = out[b * DN + j];
                if (o == 0.0f) {
                    dropped++;
                    col[j]++;
                } else {
                    /* kept: x_b / (1 - rate), to float rounding */
                    NNT_NEAR(o, x[b] * scale, 4e-7 * x[b] * scale);
                }
                if (j > 0) {   /* neighbours independent: P(both kept) */
                    pairs++;
                    both += o != 0.0f && out[b * DN + j - 1] != 0.0f;
                }
            }
        }
        /* the dropped fraction within 5 binomial standard deviations */
        NNT_NEAR((double)dropped / n, rate, 5 * sigma);
        /* every unit, not just the total */
        for (j = 0; j < DN; j++) {
            double f = (double)col[j] / B;
            double d = fabs(f - rate) / sqrt(rate * (1 - rate) / B);
            if (d > col_worst) col_worst = d;
        }
        NNT_LE(col_worst, 5.0);
        NNT_NEAR(both / pairs, (1 - rate) * (1 - rate),
                 5 * sqrt((1 - rate) * (1 - rate) * (1 - (1 - rate) *
                          (1 - rate)) / pairs) * 1.5);
        printf("  rate %.1f: dropped %.4f of %.0f (sigma %.4f), worst unit "
               "%.2f sigma, P(adjacent both kept) %.4f vs %.4f\n", rate,
               (double)dropped / n, n, sigma, col_worst, both / pairs,
               (1 - rate) * (1 - rate));
        nn_net_destroy(net);
    }
}

NN_TEST(dropout_gradient_through_mask)
{
    /* MSE on the probe: dOut = 2 (p - t) / (B N); layer 1 is the identity
       so dA_dropped = dOut; through the mask dA = dOut * m; layer 0 is
       linear with input x_b: dW0[j] = sum_b x_b dA[b][j],
       db0[j] = sum_b dA[b][j]; and layer 1 sees the dropped activations:
       dW1[i][j] = sum_b p[b][i] dOut[b][j].  m[b][j] = p[b][j] / x_b is
       read off the output. */
    enum { B = 200 };
    static float x[B], out[B * DN], t[B * DN], pred[B * DN];
    static float dw1[DN * DN], db1[DN];
    float dw0[DN], db0[DN];
    double worst = 0;
    size_t b, i, j;
    nn_net *net = probe_net(99, 0.4);
    rg_state = 5;
    for (b = 0; b < B; b++) x[b] = probe_x(b);
    for (i = 0; i < B * DN; i++) t[i] = (float)(3 * rg_uniform() - 1);
    NNT_OK(nn_forward(net, x, B, out));
    /* inference in between: it neither drops nor disturbs the forward
       that nn_backward uses */
    NNT_OK(nn_predict(net, x, B, pred));
    for (b = 0; b < B; b++)
        for (j = 0; j < DN; j++) NNT_EQ_U64(pred[b * DN + j] == x[b], 1);
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_net_get_grads(net, 0, dw0, db0));
    NNT_OK(nn_net_get_grads(net, 1, dw1, db1));
    for (j = 0; j < DN; j++) {
        double gw = 0, gb = 0, sw = 0;
        for (b = 0; b < B; b++) {
            double p = out[b * DN + j], m = p / x[b];
            double dout = 2.0 * (p - t[b * DN + j]) / ((double)B * DN);
            gw += x[b] * dout * m;
            gb += dout * m;
            sw += fabs(x[b] * dout * m);
        }
        NNT_NEAR(dw0[j], gw, 1e-5 * sw + 1e-9);
        NNT_NEAR(db0[j], gb, 1e-5 * sw + 1e-9);
        if (fabs(dw0[j] - gw) > worst) worst = fabs(dw0[j] - gw);
    }
    for (i = 0; i < DN; i++)
        for (j = 0; j < DN; j++) {
            double g = 0, s = 0;
            for (b = 0; b < B; b++) {
                double dout = 2.0 * ((double)out[b * DN + j] -
                                     t[b * DN + j]) / ((double)B * DN);
                g += out[b * DN + i] * dout;
                s += fabs(out[b * DN + i] * dout);
            }
            NNT_NEAR(dw1[i * DN + j], g, 1e-5 * s + 1e-9);
        }
    printf("  rate 0.4, batch %d: max |dW0 - reference through the mask| "
           "%.3g\n", B, worst);

    /* one row: a dropped unit's gradient is exactly 0, a kept one's is
       x dOut / (1 - rate) */
    NNT_OK(nn_forward(net, x + 3, 1, out));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, t, NULL));
    NNT_OK(nn_net_get_grads(net, 0, dw0, db0));
    for (j = 0; j < DN; j++) {
        double dout = 2.0 * ((double)out[j] - t[j]) / DN;
        if (out[j] == 0.0f) {
            NNT_EQ_U64(dw0[j] == 0.0f && db0[j] == 0.0f, 1);
        } else {
            NNT_NEAR(db0[j], dout / 0.6, 1e-6 * fabs(dout / 0.6));
            NNT_NEAR(dw0[j], x[3] * dout / 0.6,
                     1e-6 * fabs(x[3] * dout / 0.6));
        }
    }
    nn_net_destroy(net);
}

NN_TEST(dropout_inactive_and_reproducible)
{
    enum { B = 100 };
    static float x[B], o1[B * DN], o2[B * DN], o3[B * DN], o4[B * DN];
    float t[DN] = {0};
    size_t b, j, diff;
    nn_net *a = probe_net(42, 0.5), *c = probe_net(42, 0.5);
    nn_net *d = probe_net(43, 0.5);
    for (b = 0; b < B; b++) x[b] = probe_x(b);

    /* same seed, same masks, forward after forward */
    NNT_OK(nn_forward(a, x, B, o1));
    NNT_OK(nn_forward(c, x, B, o2));
    NNT_TRUE(memcmp(o1, o2, sizeof o1) == 0);
    /* nn_predict draws nothing: c's next mask equals a's after it */
    NNT_OK(nn_predict(c, x, B, o3));
    NNT_OK(nn_forward(a, x, B, o1));
    NNT_OK(nn_forward(c, x, B, o2));
    NNT_TRUE(memcmp(o1, o2, sizeof o1) == 0);
    /* a new mask each forward, and another seed another mask */
    NNT_OK(nn_forward(a, x, B, o3));
    NNT_TRUE(memcmp(o1, o3, sizeof o1) != 0);
    NNT_OK(nn_forward(d, x, B, o4));
    for (diff = 0, j = 0; j < B * DN; j++)
        diff += (o4[j] == 0.0f) != (o3[j] == 0.0f);
    printf("  seeds 42 and 43: %zu of %d mask entries differ\n", diff,
           B * DN);
    NNT_TRUE(diff > B * DN / 4);

    /* inference: nothing dropped, nothing scaled */
    NNT_OK(nn_predict(a, x, B, o3));
    for (b = 0; b < B; b++)
        for (j = 0; j < DN; j++) NNT_EQ_U64(o3[b * DN + j] == x[b], 1);
    /* setting the rate makes the last forward stale */
    NNT_OK(nn_net_set_layer_option(a, 0, NN_LAYER_DROPOUT, 0.0));
    NNT_STATUS(nn_backward(a, NN_LOSS_MSE, t, NULL), NN_ERR_STATE);
    /* rate 0 (dropout off): the training forward is the plain one */
    NNT_OK(nn_forward(a, x, B, o1));
    for (b = 0; b < B; b++)
        for (j = 0; j < DN; j++) NNT_EQ_U64(o1[b * DN + j] == x[b], 1);
    nn_net_destroy(a);
    nn_net_destroy(c);
    nn_net_destroy(d);
}
