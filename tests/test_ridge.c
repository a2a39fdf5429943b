/*
 * test_ridge.c - the closed-form ridge readout (src/ridge.c,
 * nn_net_fit_readout).
 *
 * The reference is independent of the library's method: the activations
 * are recomputed here in double from the net's float weights, augmented
 * with a column of ones, and the normal equations
 *     ([A 1]^T [A 1] + lambda diag(1, .., 1, 0)) [W; b] = [A 1]^T Y
 * are solved in double by Gaussian elimination with partial pivoting (the
 * library instead centres and runs float Cholesky / SVD).  Errors are
 * reported per tensor: max |W - W_ref| / max |W_ref|, and the same for the
 * predictions A W + b.
 */
#include "nntest.h"
#include "alloc_hook.h"
#include "internal.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small generator of the test's own (splitmix64) ---- */

static uint64_t t_state;

static uint64_t t_next(void)
{
    uint64_t z = (t_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double t_unif(void)   /* [0, 1) */
{
    return (double)(t_next() >> 11) * (1.0 / 9007199254740992.0);
}

static double t_gauss(void)
{
    double u = t_unif(), v = t_unif();
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* ---- the double-precision reference ---- */

/* Output of layers [0, upto) of net for x, in double from the float
   weights; returns a malloc'ed [batch][width] block. */
static double *t_forward_d(const nn_net *net, const float *x, size_t batch,
                           size_t upto, size_t *width)
{
    size_t n = nn_net_layer_inputs(net, 0);
    double *a = malloc(batch * n * sizeof *a);
    for (size_t i = 0; i < batch * n; i++) a[i] = (double)x[i];
    for (size_t l = 0; l < upto; l++) {
        size_t ni = nn_net_layer_inputs(net, l);
        size_t no = nn_net_layer_outputs(net, l);
        int32_t act = nn_net_layer_activation(net, l);
        float *w = malloc(ni * no * sizeof *w), *b = malloc(no * sizeof *b);
        double *z = malloc(batch * no * sizeof *z);
        if (nn_net_get_params(net, l, w, b) != NN_OK) abort();
        for (size_t r = 0; r < batch; r++) {
            for (size_t j = 0; j < no; j++) {
                double s = (double)b[j];
                for (size_t i = 0; i < ni; i++)
                    s += a[r * ni + i] * (double)w[i * no + j];
                switch (act) {
                case NN_ACT_RELU: s = s > 0 ? s : 0; break;
                case NN_ACT_TANH: s = tanh(s); break;
                case NN_ACT_SIGMOID: s = 1.0 / (1.0 + exp(-s)); break;
                default: break;
                }
                z[r * no + j] = s;
            }
        }
        free(w); free(b); free(a);
        a = z;
        n = no;
    }
    *width = n;
    return a;
}

/* Solve m[n][n] s = rhs[n][k] in place (rhs becomes s) by Gaussian
   elimination with partial pivoting.  Returns 0 if a pivot is zero. */
static int t_solve(double *m, double *rhs, size_t n, size_t k)
{
    for (size_t c = 0; c < n; c++) {
        size_t piv = c;
        for (size_t r = c + 1; r < n; r++)
            if (fabs(m[r * n + c]) > fabs(m[piv * n + c])) piv = r;
        if (m[piv * n + c] == 0.0) return 0;
        if (piv != c) {
            for (size_t j = 0; j < n; j++) {
                double t = m[c * n + j];
                m[c * n + j] = m[piv * n + j]; m[piv * n + j] = t;
            }
            for (size_t j = 0; j < k; j++) {
                double t = rhs[c * k + j];
                rhs[c * k + j] = rhs[piv * k + j]; rhs[piv * k + j] = t;
            }
        }
        for (size_t r = c + 1; r < n; r++) {
            double f = m[r * n + c] / m[c * n + c];
            if (f == 0.0) continue;
            for (size_t j = c; j < n; j++) m[r * n + j] -= f * m[c * n + j];
            for (size_t j = 0; j < k; j++)
                rhs[r * k + j] -= f * rhs[c * k + j];
        }
    }
    for (size_t c = n; c-- > 0;)
        for (size_t j = 0; j < k; j++) {
            double s = rhs[c * k + j];
            for (size_t i = c + 1; i < n; i++)
                s -= m[c * n + i] * rhs[i * k + j];
            rhs[c * k + j] = s / m[c * n + c];
        }
    return 1;
}

/* Ridge with an unpenalised bias on the columns `cols` (ncols of them) of
   a[batch][p]: w[ncols][q] and b[q].  Returns 0 if singular. */
static int t_ridge_ref(const double *a, size_t p, const size_t *cols,
                       size_t ncols, const float *y, size_t batch, size_t q,
                       double lambda, double *w, double *b)
{
    size_t n = ncols + 1;
    double *m = calloc(n * n, sizeof *m), *rhs = calloc(n * q, sizeof *rhs);
    double *row = malloc(n * sizeof *row);
    for (size_t r = 0; r < batch; r++) {
        for (size_t j = 0; j < ncols; j++) row[j] = a[r * p + cols[j]];
        row[ncols] = 1.0;
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) m[i * n + j] += row[i] * row[j];
            for (size_t c = 0; c < q; c++)
                rhs[i * q + c] += row[i] * (double)y[r * q + c];
        }
    }
    for (size_t j = 0; j < ncols; j++) m[j * n + j] += lambda;
    int ok = t_solve(m, rhs, n, q);
    if (ok) {
        memcpy(w, rhs, ncols * q * sizeof *w);
        memcpy(b, rhs + ncols * q, q * sizeof *b);
    }
    free(m); free(rhs); free(row);
    return ok;
}

/* max |got - ref| / max |ref| over n values */
static double t_relerr(const float *got, const double *ref, size_t n)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (d > num) num = d;
        if (fabs(ref[i]) > den) den = fabs(ref[i]);
    }
    return den > 0.0 ? num / den : num;
}

/* max |got - ref| / max |ref| of two prediction arrays */
static double t_pred_relerr(const double *got, const double *ref, size_t n)
{
    double ep = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fabs(got[i] - ref[i]) > ep) ep = fabs(got[i] - ref[i]);
        if (fabs(ref[i]) > den) den = fabs(ref[i]);
    }
    return ep / den;
}

/* mean squared error of predictions pr against float targets y */
static double t_mse(const double *pr, const float *y, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m += (pr[i] - y[i]) * (pr[i] - y[i]);
    return m / n;
}

/* predictions a[batch][p] w + b in double, w either float or double */
static void t_predict_d(const double *a, size_t batch, size_t p,
                        const float *wf, const double *wd, const float *bf,
                        const double *bd, size_t q, double *out)
{
    for (size_t r = 0; r < batch; r++)
        for (size_t c = 0; c < q; c++) {
            double s = bf ? (double)bf[c] : bd[c];
            for (size_t j = 0; j < p; j++)
                s += a[r * p + j] *
                     (wf ? (double)wf[j * q + c] : wd[j * q + c]);
            out[r * q + c] = s;
        }
}

/* A byte image of everything observable in a net (its struct, layers,
   parameters, gradients, amax records and both cache slots). */
typedef struct { unsigned char *p; size_t n; } t_snap;

static void t_snap_add(t_snap *s, const void *src, size_t n)
{
    s->p = realloc(s->p, s->n + n);
    memcpy(s->p + s->n, src, n);
    s->n += n;
}

static t_snap t_snapshot(const nn_net *net)
{
    t_snap s = {NULL, 0};
    t_snap_add(&s, net, sizeof *net);
    t_snap_add(&s, net->layers, net->n_layers * sizeof *net->layers);
    t_snap_add(&s, net->params, net->n_params * sizeof(float));
    t_snap_add(&s, net->grads, net->n_params * sizeof(float));
    t_snap_add(&s, net->act_max, (net->n_layers + 1) * sizeof(uint32_t));
    for (int i = 0; i < 2; i++)
        if (net->cache[i] != NULL)
            t_snap_add(&s, net->cache[i], net->cache_cap[i] * sizeof(float));
    return s;
}

static int t_snap_same(const nn_net *net, const t_snap *before)
{
    t_snap now = t_snapshot(net);
    int same = now.n == before->n && memcmp(now.p, before->p, now.n) == 0;
    free(now.p);
    return same;
}

static float *t_randn_f(size_t n, double scale)
{
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (float)(scale * t_gauss());
    return v;
}

/* ---- tests ---- */

NN_TEST(ridge_linear_regression_recovers_w)
{
    /* one linear layer: plain linear regression on noiseless data */
    enum { B = 300, P = 7, Q = 3 };
    static const size_t sizes[] = {P, Q};
    static const int32_t acts[] = {NN_ACT_LINEAR};
    t_state = nnt_seed();
    float *x = t_randn_f(B * P, 1.0), *y = malloc(B * Q * sizeof *y);
    double wt[P * Q], bt[Q];
    for (size_t i = 0; i < P * Q; i++) wt[i] = 2.0 * t_gauss();
    for (size_t c = 0; c < Q; c++) bt[c] = 3.0 * t_gauss();
    for (size_t r = 0; r < B; r++)
        for (size_t c = 0; c < Q; c++) {
            double s = bt[c];
            for (size_t j = 0; j < P; j++)
                s += (double)x[r * P + j] * wt[j * Q + c];
            y[r * Q + c] = (float)s;
        }
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 1, sizes, acts, 7));
    int32_t method = -1;
    double mse = -1.0;
    NNT_OK(nn_net_fit_readout(net, x, y, B, 0.0, &method, &mse));
    NNT_EQ_INT(method, NN_READOUT_CHOLESKY);
    float w[P * Q], b[Q];
    NNT_OK(nn_net_get_params(net, 0, w, b));
    double ew = t_relerr(w, wt, P * Q), eb = t_relerr(b, bt, Q);
    NNT_LE(ew, 1e-5);
    NNT_LE(eb, 1e-5);
    NNT_LE(mse, 1e-10);
    printf("ridge: linear regression, true W recovered: rel err W %.3g, "
           "b %.3g, mse %.3g\n", ew, eb, mse);

    /* lambda > 0 against the double ridge reference; nn_predict agrees */
    size_t cols[P], width;
    for (size_t j = 0; j < P; j++) cols[j] = j;
    double *a = t_forward_d(net, x, B, 0, &width);
    double wr[P * Q], br[Q];
    for (int t = 0; t < 2; t++) {
        double lambda = t == 0 ? 0.5 : 200.0;
        NNT_OK(nn_net_fit_readout(net, x, y, B, lambda, &method, &mse));
        NNT_EQ_INT(method, NN_READOUT_CHOLESKY);
        NNT_TRUE(t_ridge_ref(a, P, cols, P, y, B, Q, lambda, wr, br));
        NNT_OK(nn_net_get_params(net, 0, w, b));
        ew = t_relerr(w, wr, P * Q);
        eb = t_relerr(b, br, Q);
        NNT_LE(ew, 1e-5);
        NNT_LE(eb, 1e-5);
        /* mse_out is the MSE of the predictions nn_predict gives */
        float *out = malloc(B * Q * sizeof *out);
        NNT_OK(nn_predict(net, x, B, out));
        double m2 = 0.0;
        for (size_t i = 0; i < B * Q; i++)
            m2 += ((double)out[i] - y[i]) * ((double)out[i] - y[i]);
        m2 /= B * Q;
        NNT_NEAR(mse, m2, 1e-5 * m2);
        printf("ridge: linear, lambda %g: rel err W %.3g, b %.3g, mse %.4g\n",
               lambda, ew, eb, mse);
        free(out);
    }
    free(a); free(x); free(y);
    nn_net_destroy(net);
}

NN_TEST(ridge_hidden_layers_vs_double)
{
    enum { B = 500, NI = 5, H1 = 24, H2 = 16, Q = 2 };
    static const size_t sizes[] = {NI, H1, H2, Q};
    static const int32_t acts[] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_LINEAR};
    t_state = nnt_seed() ^ 0x1234;
    float *x = t_randn_f(B * NI, 1.0), *y = malloc(B * Q * sizeof *y);
    for (size_t r = 0; r < B; r++) {
        const float *xr = x + r * NI;
        y[r * Q] = (float)(sin(2.0 * xr[0]) + xr[1] * xr[2]);
        y[r * Q + 1] = (float)(cos(xr[3]) - 0.5 * xr[4] + 0.1 * t_gauss());
    }
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 3, sizes, acts, nnt_seed()));
    NNT_OK(nn_net_init(net, 0, NN_INIT_NORMAL, 0.6, nnt_seed()));
    /* a forward and backward first: training state the fit must keep */
    NNT_OK(nn_forward(net, x, B, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, y, NULL));
    size_t n0 = NI * H1 * sizeof(float);
    float *w0 = malloc(n0), *w0b = malloc(n0);
    float *g0 = malloc(n0), *g0b = malloc(n0);
    NNT_OK(nn_net_get_params(net, 0, w0, NULL));
    NNT_OK(nn_net_get_grads(net, 0, g0, NULL));

    size_t width, cols[H2];
    for (size_t j = 0; j < H2; j++) cols[j] = j;
    double *a = t_forward_d(net, x, B, 2, &width);
    NNT_EQ_SIZE(width, H2);
    static const double lambdas[] = {0.0, 1e-2, 1.0, 30.0};
    double worst_w = 0.0, worst_p = 0.0;
    for (size_t t = 0; t < sizeof lambdas / sizeof *lambdas; t++) {
        double wr[H2 * Q], br[Q], *pr = malloc(B * Q * sizeof *pr);
        double *pg = malloc(B * Q * sizeof *pg);
        float w[H2 * Q], b[Q];
        int32_t method = -1;
        double mse = -1.0;
        NNT_OK(nn_net_fit_readout(net, x, y, B, lambdas[t], &method, &mse));
        NNT_TRUE(t_ridge_ref(a, H2, cols, H2, y, B, Q, lambdas[t], wr, br));
        NNT_OK(nn_net_get_params(net, 2, w, b));
        t_predict_d(a, B, H2, NULL, wr, NULL, br, Q, pr);
        t_predict_d(a, B, H2, w, NULL, b, NULL, Q, pg);
        double ew = t_relerr(w, wr, H2 * Q);
        double ep = t_pred_relerr(pg, pr, B * Q), mref = t_mse(pr, y, B * Q);
        NNT_LE(ew, 2e-4);
        NNT_LE(ep, 2e-5);
        /* mse_out: the library's fit is as good as the exact optimum
           (which is the least possible MSE when lambda = 0) */
        NNT_NEAR(mse, mref, 1e-4 * mref);
        if (ew > worst_w) worst_w = ew;
        if (ep > worst_p) worst_p = ep;
        printf("ridge: 5-24-16-2 relu/tanh, lambda %g: %s, rel err W %.3g, "
               "predictions %.3g, mse %.6g (double ref %.6g)\n", lambdas[t],
               method == NN_READOUT_SVD ? "svd" : "cholesky", ew, ep, mse,
               mref);
        free(pr); free(pg);
    }
    printf("ridge: hidden layers: worst rel err W %.3g, predictions %.3g\n",
           worst_w, worst_p);
    /* earlier layers and gradients untouched; the forward is stale */
    NNT_OK(nn_net_get_params(net, 0, w0b, NULL));
    NNT_OK(nn_net_get_grads(net, 0, g0b, NULL));
    NNT_TRUE(memcmp(w0, w0b, NI * H1 * sizeof *w0) == 0);
    NNT_TRUE(memcmp(g0, g0b, NI * H1 * sizeof *g0) == 0);
    NNT_STATUS(nn_backward(net, NN_LOSS_MSE, y, NULL), NN_ERR_STATE);

    /* dropout on a hidden layer does not enter the fit (inference A) */
    float wa[H2 * Q], wb[H2 * Q], ba[Q], bb[Q];
    NNT_OK(nn_net_fit_readout(net, x, y, B, 0.1, NULL, NULL));
    NNT_OK(nn_net_get_params(net, 2, wa, ba));
    NNT_OK(nn_net_set_layer_option(net, 1, NN_LAYER_DROPOUT, 0.5));
    NNT_OK(nn_net_fit_readout(net, x, y, B, 0.1, NULL, NULL));
    NNT_OK(nn_net_get_params(net, 2, wb, bb));
    NNT_TRUE(memcmp(wa, wb, sizeof wa) == 0 && memcmp(ba, bb, sizeof ba) == 0);
    free(a); free(x); free(y); free(w0); free(w0b); free(g0); free(g0b);
    nn_net_destroy(net);
}

/* A 4-6-2 tanh net whose hidden units 4 and 5 copy units 0 and 1 (same
   weights and bias), so A has two pairs of identical columns. */
static nn_net *t_collinear_net(float **x_out, float **y_out, size_t batch)
{
    static const size_t sizes[] = {4, 6, 2};
    static const int32_t acts[] = {NN_ACT_TANH, NN_ACT_LINEAR};
    nn_net *net = NULL;
    float w[4 * 6], b[6];
    if (nn_net_create(&net, 2, sizes, acts, 11) != NN_OK) abort();
    for (size_t i = 0; i < 4 * 6; i++) w[i] = (float)(0.7 * t_gauss());
    for (size_t j = 0; j < 6; j++) b[j] = (float)(0.3 * t_gauss());
    for (size_t i = 0; i < 4; i++) {
        w[i * 6 + 4] = w[i * 6 + 0];
        w[i * 6 + 5] = w[i * 6 + 1];
    }
    b[4] = b[0];
    b[5] = b[1];
    if (nn_net_set_params(net, 0, w, b) != NN_OK) abort();
    float *x = t_randn_f(batch * 4, 1.0), *y = malloc(batch * 2 * sizeof *y);
    for (size_t r = 0; r < batch; r++) {
        y[r * 2] = (float)(x[r * 4] * x[r * 4 + 1] + 0.05 * t_gauss());
        y[r * 2 + 1] = (float)(sin(x[r * 4 + 2]) + x[r * 4 + 3]);
    }
    *x_out = x;
    *y_out = y;
    return net;
}

NN_TEST(ridge_collinear_falls_back_to_svd)
{
    enum { B = 240, P = 6, Q = 2 };
    t_state = nnt_seed() ^ 0xc011;
    float *x, *y;
    nn_net *net = t_collinear_net(&x, &y, B);
    size_t width;
    double *a = t_forward_d(net, x, B, 1, &width);
    float w[P * Q], b[Q];
    int32_t method = -1;
    double mse = -1.0;

    /* lambda = 0: the Gram matrix is singular.  sgelsd's minimum-norm
       solution splits each duplicated unit's weight evenly; the
       predictions are those of the reduced problem without the copies */
    static const size_t red[] = {0, 1, 2, 3};
    double wr[4 * Q], br[Q], wfull[P * Q];
    NNT_OK(nn_net_fit_readout(net, x, y, B, 0.0, &method, &mse));
    NNT_EQ_INT(method, NN_READOUT_SVD);
    NNT_TRUE(t_ridge_ref(a, P, red, 4, y, B, Q, 0.0, wr, br));
    for (size_t c = 0; c < Q; c++) {
        wfull[0 * Q + c] = wfull[4 * Q + c] = wr[0 * Q + c] / 2;
        wfull[1 * Q + c] = wfull[5 * Q + c] = wr[1 * Q + c] / 2;
        wfull[2 * Q + c] = wr[2 * Q + c];
        wfull[3 * Q + c] = wr[3 * Q + c];
    }
    NNT_OK(nn_net_get_params(net, 1, w, b));
    double *pr = malloc(B * Q * sizeof *pr), *pg = malloc(B * Q * sizeof *pg);
    t_predict_d(a, B, P, NULL, wfull, NULL, br, Q, pr);
    t_predict_d(a, B, P, w, NULL, b, NULL, Q, pg);
    double ew = t_relerr(w, wfull, P * Q), eb = t_relerr(b, br, Q);
    double ep = t_pred_relerr(pg, pr, B * Q), mref = t_mse(pr, y, B * Q);
    NNT_LE(ew, 1e-4);
    NNT_LE(eb, 1e-4);
    NNT_LE(ep, 1e-5);
    NNT_NEAR(mse, mref, 1e-4 * mref);
    printf("ridge: collinear, lambda 0 -> svd (min-norm): rel err W %.3g, "
           "b %.3g, predictions %.3g, mse %.6g (ref %.6g)\n", ew, eb, ep,
           mse, mref);

    /* lambda > 0 makes the solution unique: a tiny one leaves the system
       too ill-conditioned for float Cholesky (svd on [Ac; sqrt(l) I]), a
       moderate one does not.  With lambda = 1e-5 the split between a unit
       and its copy, W[0] - W[4], is set by lambda alone: the rounding of
       the float activations (the copies differ by ~eps) moves it by about
       eps |a| |y| sqrt(batch) / lambda ~ 0.05, which no float32 program
       can avoid; what the data determine (the sums W[0] + W[4], W[1] +
       W[5], the other rows, b and the predictions) must match closely. */
    static const size_t all[] = {0, 1, 2, 3, 4, 5};
    static const double lambdas[] = {1e-5, 1.0};
    for (size_t t = 0; t < 2; t++) {
        double wr2[P * Q], br2[Q], sref[4 * Q];
        float sgot[4 * Q];
        NNT_OK(nn_net_fit_readout(net, x, y, B, lambdas[t], &method, &mse));
        NNT_EQ_INT(method, t == 0 ? NN_READOUT_SVD : NN_READOUT_CHOLESKY);
        NNT_TRUE(t_ridge_ref(a, P, all, P, y, B, Q, lambdas[t], wr2, br2));
        NNT_OK(nn_net_get_params(net, 1, w, b));
        t_predict_d(a, B, P, NULL, wr2, NULL, br2, Q, pr);
        t_predict_d(a, B, P, w, NULL, b, NULL, Q, pg);
        for (size_t c = 0; c < Q; c++) {
            sgot[0 * Q + c] = w[0 * Q + c] + w[4 * Q + c];
            sgot[1 * Q + c] = w[1 * Q + c] + w[5 * Q + c];
            sgot[2 * Q + c] = w[2 * Q + c];
            sgot[3 * Q + c] = w[3 * Q + c];
            sref[0 * Q + c] = wr2[0 * Q + c] + wr2[4 * Q + c];
            sref[1 * Q + c] = wr2[1 * Q + c] + wr2[5 * Q + c];
            sref[2 * Q + c] = wr2[2 * Q + c];
            sref[3 * Q + c] = wr2[3 * Q + c];
        }
        ew = t_relerr(w, wr2, P * Q);
        double es = t_relerr(sgot, sref, 4 * Q);
        eb = t_relerr(b, br2, Q);
        ep = t_pred_relerr(pg, pr, B * Q);
        NNT_LE(es, 5e-5);
        NNT_LE(eb, 5e-5);
        NNT_LE(ep, 2e-5);
        if (t == 1) NNT_LE(ew, 2e-4);
        printf("ridge: collinear, lambda %g -> %s: rel err W %.3g (data-"
               "determined part %.3g), b %.3g, predictions %.3g\n",
               lambdas[t], method == NN_READOUT_SVD ? "svd" : "cholesky",
               ew, es, eb, ep);
    }
    free(pr); free(pg); free(a); free(x); free(y);
    nn_net_destroy(net);
}

NN_TEST(ridge_bad_arguments)
{
    enum { B = 50 };
    static const size_t sizes[] = {3, 8, 2};
    static const int32_t acts[] = {NN_ACT_RELU, NN_ACT_LINEAR};
    t_state = nnt_seed() ^ 0xbad;
    float *x = t_randn_f(B * 3, 1.0), *y = t_randn_f(B * 2, 1.0);
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 2, sizes, acts, 3));
    NNT_OK(nn_forward(net, x, B, NULL));
    NNT_OK(nn_backward(net, NN_LOSS_MSE, y, NULL));
    t_snap before = t_snapshot(net);
    int32_t method = 77;
    double mse = -7.0;

#define T_FAILS(call, code)                                             \
    do {                                                                \
        NNT_STATUS(call, code);                                         \
        NNT_TRUE(t_snap_same(net, &before));                            \
        NNT_TRUE(method == 77 && mse == -7.0);                          \
    } while (0)

    T_FAILS(nn_net_fit_readout(NULL, x, y, B, 0.0, &method, &mse),
            NN_ERR_INVALID_ARG);
    T_FAILS(nn_net_fit_readout(net, NULL, y, B, 0.0, &method, &mse),
            NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("x is NULL");
    T_FAILS(nn_net_fit_readout(net, x, NULL, B, 0.0, &method, &mse),
            NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("targets is NULL");
    T_FAILS(nn_net_fit_readout(net, x, y, 0, 0.0, &method, &mse),
            NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("batch is 0");
    T_FAILS(nn_net_fit_readout(net, x, y, B, -1e-3, &method, &mse),
            NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("lambda = -0.001");
    T_FAILS(nn_net_fit_readout(net, x, y, B, 1e39, &method, &mse),
            NN_ERR_INVALID_ARG);
    T_FAILS(nn_net_fit_readout(net, x, y, B, NAN, &method, &mse),
            NN_ERR_NONFINITE);
    NNT_MSG_HAS("lambda is NaN");
    T_FAILS(nn_net_fit_readout(net, x, y, B, INFINITY, &method, &mse),
            NN_ERR_NONFINITE);
    /* rejected before x (50 rows) is read */
    T_FAILS(nn_net_fit_readout(net, x, y, (size_t)INT_MAX, 0.0, &method,
                               &mse), NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("LAPACK's int sizes");
    T_FAILS(nn_net_fit_readout(net, x, y, SIZE_MAX / 2, 0.0, &method,
                               &mse), NN_ERR_UNSUPPORTED);

    float keep = x[7];
    x[7] = NAN;
    T_FAILS(nn_net_fit_readout(net, x, y, B, 0.0, &method, &mse),
            NN_ERR_NONFINITE);
    NNT_MSG_HAS("x[7]");
    x[7] = keep;
    keep = y[9];
    y[9] = -INFINITY;
    T_FAILS(nn_net_fit_readout(net, x, y, B, 0.0, &method, &mse),
            NN_ERR_NONFINITE);
    NNT_MSG_HAS("targets[9]");
    y[9] = keep;
    free(before.p);

    /* a hidden output overflowing the float range */
    float w0[3 * 8];
    for (size_t i = 0; i < 3 * 8; i++) w0[i] = 3e38f;
    NNT_OK(nn_net_set_params(net, 0, w0, NULL));
    before = t_snapshot(net);
    float *xb = malloc(B * 3 * sizeof *xb);
    for (size_t i = 0; i < B * 3; i++) xb[i] = 2.0f;
    T_FAILS(nn_net_fit_readout(net, xb, y, B, 0.0, &method, &mse),
            NN_ERR_NONFINITE);
    NNT_MSG_HAS("layer 0 output");
    free(before.p);
    nn_net_destroy(net);

    /* A^T A overflowing: one linear layer on inputs near 1e20 */
    static const size_t s1[] = {2, 1};
    static const int32_t a1[] = {NN_ACT_LINEAR};
    NNT_OK(nn_net_create(&net, 1, s1, a1, 3));
    for (size_t i = 0; i < B * 2; i++)
        xb[i] = (float)((i % 2 ? -1e20 : 1e20) * (1.0 + t_unif()));
    before = t_snapshot(net);
    T_FAILS(nn_net_fit_readout(net, xb, y, B, 0.0, &method, &mse),
            NN_ERR_NONFINITE);
    NNT_MSG_HAS("A^T A");
    free(before.p);
    nn_net_destroy(net);
#undef T_FAILS
    free(xb); free(x); free(y);
}

NN_TEST(ridge_rejects_nonlinear_output)
{
    enum { B = 20 };
    static const int32_t lasts[] = {NN_ACT_RELU, NN_ACT_SIGMOID, NN_ACT_TANH,
                                    NN_ACT_SOFTMAX};
    static const size_t sizes[] = {3, 5, 4};
    t_state = nnt_seed() ^ 0x50f7;
    float *x = t_randn_f(B * 3, 1.0), *y = t_randn_f(B * 4, 1.0);
    for (size_t t = 0; t < 4; t++) {
        int32_t acts[2] = {NN_ACT_TANH, lasts[t]};
        nn_net *net = NULL;
        NNT_OK(nn_net_create(&net, 2, sizes, acts, 5));
        t_snap before = t_snapshot(net);
        int32_t method = 77;
        NNT_STATUS(nn_net_fit_readout(net, x, y, B, 1.0, &method, NULL),
                   NN_ERR_INVALID_ARG);
        NNT_MSG_HAS("NN_ACT_LINEAR");
        NNT_MSG_HAS("layer (1)");
        NNT_TRUE(t_snap_same(net, &before));
        NNT_EQ_INT(method, 77);
        free(before.p);
        nn_net_destroy(net);
    }
    free(x); free(y);
}

/* ---- allocation failures (tests/test_oom.c's loop) ---- */

NN_TEST(ridge_alloc_failure)
{
    enum { B = 120 };
    static const size_t sizes[] = {4, 12, 10, 3};
    static const int32_t acts[] = {NN_ACT_TANH, NN_ACT_RELU, NN_ACT_LINEAR};
    t_state = nnt_seed() ^ 0x00f;
    float *x3 = t_randn_f(B * 4, 1.0), *y3 = t_randn_f(B * 3, 1.0);
    float *xc, *yc;
    long base = nn__alloc_live();
    NNT_EQ_INT(base, 0);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    long hbase = h_live;

    /* scenario 0: a 3-layer net, Cholesky; 1: the collinear net with
       lambda = 0, SVD fallback (its extra allocations) */
    for (int sc = 0; sc < 2; sc++) {
        nn_net *net;
        const float *x, *y;
        size_t nw, nb, last;
        double lambda;
        h_arm(0, 0);
        if (sc == 0) {
            NNT_OK(nn_net_create(&net, 3, sizes, acts, 9));
            x = x3; y = y3; last = 2; lambda = 0.25;
        } else {
            net = t_collinear_net(&xc, &yc, B);
            x = xc; y = yc; last = 1; lambda = 0.0;
        }
        nw = nn_net_layer_inputs(net, last) * nn_net_layer_outputs(net, last);
        nb = nn_net_layer_outputs(net, last);
        NNT_OK(nn_forward(net, x, B, NULL));   /* state to keep */
        t_snap before = t_snapshot(net);

        /* clean run: count allocations, keep the result */
        int32_t method = -1;
        double mse = 0.0;
        h_arm(0, 0);
        NNT_OK(nn_net_fit_readout(net, x, y, B, lambda, &method, &mse));
        long k_clean = h_calls;
        NNT_EQ_INT(method, sc == 0 ? NN_READOUT_CHOLESKY : NN_READOUT_SVD);
        float *wc = malloc(nw * sizeof *wc), *bc = malloc(nb * sizeof *bc);
        float *w = malloc(nw * sizeof *w), *b = malloc(nb * sizeof *b);
        NNT_OK(nn_net_get_params(net, last, wc, bc));
        double mse_clean = mse;
        /* every failure point below starts again from a fresh net */
        free(before.p);
        nn_net_destroy(net);
        if (sc == 1) { free(xc); free(yc); }
        NNT_EQ_INT(nn__alloc_live(), base);
        NNT_EQ_INT(h_live, hbase);

        long tried = 0;
        for (int mode = 0; mode < 2; mode++)
            for (long k = 1; k <= k_clean; k++) {
                h_arm(0, 0);
                if (sc == 0) {
                    NNT_OK(nn_net_create(&net, 3, sizes, acts, 9));
                } else {
                    t_state = nnt_seed() ^ 0x00f;
                    free(t_randn_f(B * 4, 1.0));
                    free(t_randn_f(B * 3, 1.0));
                    net = t_collinear_net(&xc, &yc, B);
                    x = xc; y = yc;
                }
                NNT_OK(nn_forward(net, x, B, NULL));
                before = t_snapshot(net);
                long live0 = nn__alloc_live(), hlive0 = h_live;
                method = 77;
                mse = -7.0;
                h_arm(k, mode);
                int s = nn_net_fit_readout(net, x, y, B, lambda, &method,
                                           &mse);
                h_fail_at = 0;
                if (s != NN_ERR_NOMEM || h_failed == 0)
                    nnt_fail(__FILE__, __LINE__, "scenario %d k=%ld %s: "
                             "status %d, %ld failures injected: %s", sc, k,
                             mode ? "persistent" : "one-shot", s, h_failed,
                             nn_last_error());
                NNT_TRUE(nn_last_error()[0] != '\0');
                NNT_EQ_INT(nn__alloc_live(), live0);
                NNT_EQ_INT(h_live, hlive0);
                NNT_TRUE(t_snap_same(net, &before));
                NNT_TRUE(method == 77 && mse == -7.0);
                /* the same handle still fits, to the clean result */
                NNT_OK(nn_net_fit_readout(net, x, y, B, lambda, &method,
                                          &mse));
                NNT_OK(nn_net_get_params(net, last, w, b));
                NNT_TRUE(memcmp(w, wc, nw * sizeof *w) == 0);
                NNT_TRUE(memcmp(b, bc, nb * sizeof *b) == 0);
                NNT_TRUE(mse == mse_clean);
                free(before.p);
                nn_net_destroy(net);
                if (sc == 1) { free(xc); free(yc); }
                NNT_EQ_INT(nn__alloc_live(), base);
                NNT_EQ_INT(h_live, hbase);
                tried++;
            }
        printf("ridge: alloc failures, %s path: %ld allocations, %ld "
               "failure points, all NN_ERR_NOMEM, no leak, net unchanged\n",
               sc == 0 ? "cholesky" : "svd", k_clean, tried);
        free(wc); free(bc); free(w); free(b);
    }
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    free(x3); free(y3);
}
