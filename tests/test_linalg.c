/*
 * test_linalg.c - LAPACKE-backed linear algebra (src/linalg.c).
 *
 * Singular values are checked against a one-sided Jacobi SVD written
 * here in double precision (Hestenes' method: rotate column pairs until
 * all are orthogonal; the column norms are the singular values) and
 * against a matrix with singular values known by construction.
 */
#include "nntest.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* Singular values of the m x n row-major matrix a (double), descending,
   into s[min(m, n)].  Works on the side with fewer columns. */
static void t_jacobi_sv(const float *w, size_t m, size_t n, double *s)
{
    /* columns of g are those of W if m >= n, else those of W^T */
    size_t r = m >= n ? m : n, c = m >= n ? n : m;
    double *g = malloc(r * c * sizeof *g);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double v = (double)w[i * n + j];
            if (m >= n) g[i * c + j] = v; else g[j * c + i] = v;
        }
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0.0;
        for (size_t p = 0; p + 1 < c; p++)
            for (size_t q = p + 1; q < c; q++) {
                double al = 0, be = 0, ga = 0;
                for (size_t i = 0; i < r; i++) {
                    al += g[i * c + p] * g[i * c + p];
                    be += g[i * c + q] * g[i * c + q];
                    ga += g[i * c + p] * g[i * c + q];
                }
                if (ga == 0.0) continue;
                double rel = fabs(ga) / sqrt(al * be);
                if (rel > off) off = rel;
                double zeta = (be - al) / (2.0 * ga);
                double t = (zeta >= 0 ? 1.0 : -1.0) /
                           (fabs(zeta) + sqrt(1.0 + zeta * zeta));
                double cs = 1.0 / sqrt(1.0 + t * t), sn = cs * t;
                for (size_t i = 0; i < r; i++) {
                    double x = g[i * c + p], y = g[i * c + q];
                    g[i * c + p] = cs * x - sn * y;
                    g[i * c + q] = sn * x + cs * y;
                }
            }
        if (off < 1e-15) break;
    }
    for (size_t j = 0; j < c; j++) {
        double nrm = 0;
        for (size_t i = 0; i < r; i++) nrm += g[i * c + j] * g[i * c + j];
        s[j] = sqrt(nrm);
    }
    for (size_t i = 0; i < c; i++)          /* descending */
        for (size_t j = i + 1; j < c; j++)
            if (s[j] > s[i]) { double t = s[i]; s[i] = s[j]; s[j] = t; }
    free(g);
}

NN_TEST(linalg_singular_values_vs_jacobi)
{
    static const size_t sizes[] = {37, 64, 64, 10};
    static const int32_t acts[] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_LINEAR};
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 3, sizes, acts, nnt_seed()));
    double worst = 0.0;
    for (size_t layer = 0; layer < 3; layer++) {
        size_t m = sizes[layer], n = sizes[layer + 1];
        size_t k = m < n ? m : n;
        float *w = malloc(m * n * sizeof *w);
        float *s = malloc(k * sizeof *s);
        double *ref = malloc(k * sizeof *ref);
        NNT_OK(nn_net_get_params(net, layer, w, NULL));
        size_t count = 0;
        NNT_OK(nn_net_layer_singular_values(net, layer, s, k, &count));
        NNT_EQ_SIZE(count, k);
        t_jacobi_sv(w, m, n, ref);
        for (size_t i = 0; i < k; i++) {
            double err = fabs((double)s[i] - ref[i]) / ref[0];
            if (err > worst) worst = err;
            NNT_LE(err, 1e-5);
        }
        double norm = 0.0;
        NNT_OK(nn_net_layer_spectral_norm(net, layer, &norm));
        NNT_NEAR(norm, ref[0], 1e-5 * ref[0]);
        /* W is not changed */
        float *w2 = malloc(m * n * sizeof *w2);
        NNT_OK(nn_net_get_params(net, layer, w2, NULL));
        for (size_t i = 0; i < m * n; i++) NNT_TRUE(w2[i] == w[i]);
        free(w2); free(w); free(s); free(ref);
    }
    printf("linalg: worst singular value error / s_max = %.3g\n", worst);
    nn_net_destroy(net);
}

NN_TEST(linalg_singular_values_known)
{
    /* W = P diag(d) Q with permutations and sign flips: singular values
       are |d| exactly. */
    static const size_t sizes[] = {5, 3};
    static const int32_t acts[] = {NN_ACT_LINEAR};
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, 1, sizes, acts, 1));
    float w[15] = {0};
    w[4 * 3 + 0] = -2.5f;   /* row 4, col 0 */
    w[1 * 3 + 2] = 7.0f;
    w[0 * 3 + 1] = 0.25f;
    NNT_OK(nn_net_set_params(net, 0, w, NULL));
    float s[3];
    size_t count = 0;
    NNT_OK(nn_net_layer_singular_values(net, 0, s, 3, &count));
    NNT_EQ_SIZE(count, 3);
    NNT_NEAR(s[0], 7.0, 1e-6);
    NNT_NEAR(s[1], 2.5, 1e-6);
    NNT_NEAR(s[2], 0.25, 1e-6);

    /* failures: status codes and messages, nothing written */
    float keep[3] = {-1, -1, -1};
    size_t kc = 99;
    NNT_STATUS(nn_net_layer_singular_values(net, 0, keep, 2, &kc),
               NN_ERR_SHAPE);
    NNT_MSG_HAS("capacity = 2");
    NNT_EQ_SIZE(kc, 99);
    NNT_TRUE(keep[0] == -1.0f);
    NNT_STATUS(nn_net_layer_singular_values(net, 1, keep, 3, &kc),
               NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("layer = 1");
    NNT_STATUS(nn_net_layer_singular_values(net, 0, NULL, 3, &kc),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_layer_singular_values(NULL, 0, keep, 3, &kc),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_layer_spectral_norm(net, 0, NULL),
               NN_ERR_INVALID_ARG);
    /* NaN in W (only reachable from inside): reported, not a crash */
    net->layers[0].w[7] = NAN;
    NNT_STATUS(nn_net_layer_singular_values(net, 0, keep, 3, &kc),
               NN_ERR_NONFINITE);
    NNT_MSG_HAS("W[7]");
    NNT_EQ_SIZE(kc, 99);
    double nrm = -1;
    NNT_STATUS(nn_net_layer_spectral_norm(net, 0, &nrm), NN_ERR_NONFINITE);
    NNT_TRUE(nrm == -1.0);
    nn_net_destroy(net);
}

/* max |G - gain^2 I| where G = W^T W (n_in >= n_out) or W W^T, in double */
static double t_orth_err(const float *w, size_t n_in, size_t n_out,
                         double gain)
{
    size_t q = n_in >= n_out ? n_out : n_in;
    size_t p = n_in >= n_out ? n_in : n_out;
    double worst = 0.0;
    for (size_t a = 0; a < q; a++)
        for (size_t b = 0; b < q; b++) {
            double g = 0.0;
            for (size_t k = 0; k < p; k++) {
                double x = n_in >= n_out ? w[k * n_out + a] : w[a * n_out + k];
                double y = n_in >= n_out ? w[k * n_out + b] : w[b * n_out + k];
                g += x * y;
            }
            double e = fabs(g - (a == b ? gain * gain : 0.0));
            if (e > worst) worst = e;
        }
    return worst;
}

NN_TEST(linalg_orthogonal_init)
{
    static const size_t sizes[] = {20, 64, 64, 7};   /* wide, square, tall */
    static const int32_t acts[] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_LINEAR};
    const double gain = 1.5;
    uint64_t seed = nnt_seed();
    nn_net *net = NULL, *net2 = NULL;
    NNT_OK(nn_net_create(&net, 3, sizes, acts, 1));
    NNT_OK(nn_net_create(&net2, 3, sizes, acts, 2));
    NNT_OK(nn_net_init(net, NN_ALL_LAYERS, NN_INIT_ORTHOGONAL, gain, seed));
    NNT_OK(nn_net_init(net2, NN_ALL_LAYERS, NN_INIT_ORTHOGONAL, gain, seed));
    double worst = 0.0;
    float *w[3];
    for (size_t l = 0; l < 3; l++) {
        size_t m = sizes[l], n = sizes[l + 1];
        w[l] = malloc(m * n * sizeof(float));
        float *w2 = malloc(m * n * sizeof(float));
        float *b = malloc(n * sizeof(float));
        NNT_OK(nn_net_get_params(net, l, w[l], b));
        NNT_OK(nn_net_get_params(net2, l, w2, NULL));
        double e = t_orth_err(w[l], m, n, gain) / (gain * gain);
        if (e > worst) worst = e;
        NNT_LE(e, 2e-6 * (double)(m > n ? m : n));
        for (size_t i = 0; i < m * n; i++) NNT_TRUE(w2[i] == w[l][i]);
        for (size_t i = 0; i < n; i++) NNT_TRUE(b[i] == 0.0f);
        free(w2); free(b);
    }
    /* layers 1 (64x64) and a re-draw of it alone differ: the stream
       moves on between layers */
    float *w1b = malloc(64 * 64 * sizeof(float));
    NNT_OK(nn_net_init(net2, 0, NN_INIT_ORTHOGONAL, gain, seed + 1));
    NNT_OK(nn_net_init(net2, 1, NN_INIT_ORTHOGONAL, gain, seed));
    NNT_OK(nn_net_get_params(net2, 1, w1b, NULL));
    size_t same = 0;
    for (size_t i = 0; i < 64 * 64; i++) same += w1b[i] == w[1][i];
    NNT_LE((double)same, 64.0);
    /* the 64x64 matrix is not the 20x64 one's rows */
    same = 0;
    for (size_t i = 0; i < 20 * 64; i++) same += w[0][i] == w[1][i];
    NNT_LE((double)same, 20.0);
    printf("linalg: orthogonal init worst |W^T W - g^2 I| / g^2 = %.3g\n",
           worst);
    NNT_STATUS(nn_net_init(net, 0, 4, gain, seed), NN_ERR_INVALID_ARG);
    for (size_t l = 0; l < 3; l++) free(w[l]);
    free(w1b);
    nn_net_destroy(net);
    nn_net_destroy(net2);
}
