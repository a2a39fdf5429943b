/*
 * test_pca.c - PCA and whitening (src/pca.c).
 *
 * References, all computed here independently of the library:
 *  - data with a known covariance: x = mu + g diag(sqrt(lambda)) Q, with
 *    g standard Gaussian and Q an orthogonal matrix (Gram-Schmidt of a
 *    Gaussian matrix, in double), so the population eigenvalues are
 *    lambda and the eigenvectors the rows of Q;
 *  - the sample covariance of the very float data the library sees,
 *    computed in double, and its eigen-decomposition by a cyclic Jacobi
 *    solver written below (double precision);
 *  - projections and reconstructions computed in double from those
 *    eigenvectors.
 * Files: save/load round trips bit for bit; every truncation, every
 * single-bit flip and CRC-valid but inconsistent images are rejected.
 * Allocation failures: every allocation of fit/transform/save/load made
 * to fail in turn through nn_set_allocator.
 */
#include "nntest.h"
#include "alloc_hook.h"

#include <lapacke.h>
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- double-precision references ---- */

/* Eigen-decomposition of the symmetric n x n matrix a (destroyed) by
   cyclic Jacobi rotations: val[n] descending, vec[n][n] with row j the
   unit eigenvector of val[j]. */
static void t_jacobi_eig(double *a, size_t n, double *val, double *vec)
{
    double *v = malloc(n * n * sizeof *v);
    size_t i, j, p, q, r;
    for (i = 0; i < n * n; i++) v[i] = 0.0;
    for (i = 0; i < n; i++) v[i * n + i] = 1.0;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, nrm = 0.0;
        for (i = 0; i < n; i++)
            for (j = 0; j < n; j++) {
                nrm += a[i * n + j] * a[i * n + j];
                if (i != j) off += a[i * n + j] * a[i * n + j];
            }
        if (off <= 1e-30 * nrm) break;
        for (p = 0; p + 1 < n; p++)
            for (q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (apq == 0.0) continue;
                /* A' = J^T A J zeroes a_pq: cot 2phi = theta, t = tan phi */
                double theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) /
                           (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                for (r = 0; r < n; r++) {           /* columns p, q */
                    double x = a[r * n + p], y = a[r * n + q];
                    a[r * n + p] = c * x - s * y;
                    a[r * n + q] = s * x + c * y;
                }
                for (r = 0; r < n; r++) {           /* rows p, q */
                    double x = a[p * n + r], y = a[q * n + r];
                    a[p * n + r] = c * x - s * y;
                    a[q * n + r] = s * x + c * y;
                }
                for (r = 0; r < n; r++) {           /* V <- V J */
                    double x = v[r * n + p], y = v[r * n + q];
                    v[r * n + p] = c * x - s * y;
                    v[r * n + q] = s * x + c * y;
                }
            }
    }
    /* selection sort by descending eigenvalue; column j of v -> row */
    size_t *ord = malloc(n * sizeof *ord);
    for (i = 0; i < n; i++) ord[i] = i;
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++)
            if (a[ord[j] * n + ord[j]] > a[ord[i] * n + ord[i]]) {
                size_t t = ord[i]; ord[i] = ord[j]; ord[j] = t;
            }
    for (i = 0; i < n; i++) {
        val[i] = a[ord[i] * n + ord[i]];
        for (r = 0; r < n; r++) vec[i * n + r] = v[r * n + ord[i]];
    }
    free(ord);
    free(v);
}

/* Double mean and unbiased covariance of float data x[rows][cols]. */
static void t_cov(const float *x, size_t rows, size_t cols, double *mean,
                  double *cov)
{
    size_t i, j, c;
    for (j = 0; j < cols; j++) mean[j] = 0.0;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) mean[j] += (double)x[i * cols + j];
    for (j = 0; j < cols; j++) mean[j] /= (double)rows;
    for (i = 0; i < cols * cols; i++) cov[i] = 0.0;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) {
            double dj = (double)x[i * cols + j] - mean[j];
            for (c = 0; c < cols; c++)
                cov[j * cols + c] += dj * ((double)x[i * cols + c] - mean[c]);
        }
    for (i = 0; i < cols * cols; i++) cov[i] /= (double)(rows - 1);
}

/* A random n x n orthogonal matrix (rows orthonormal): modified
   Gram-Schmidt, twice, on a Gaussian matrix. */
static void t_orthogonal(double *q, size_t n, struct nn__rng *r)
{
    size_t i, j, c;
    for (i = 0; i < n * n; i++) q[i] = nn__rng_gauss(r);
    for (int pass = 0; pass < 2; pass++)
        for (i = 0; i < n; i++) {
            for (j = 0; j < i; j++) {
                double d = 0.0;
                for (c = 0; c < n; c++) d += q[i * n + c] * q[j * n + c];
                for (c = 0; c < n; c++) q[i * n + c] -= d * q[j * n + c];
            }
            double nr = 0.0;
            for (c = 0; c < n; c++) nr += q[i * n + c] * q[i * n + c];
            nr = sqrt(nr);
            for (c = 0; c < n; c++) q[i * n + c] /= nr;
        }
}

/* x[rows][cols] = mu + g diag(sqrt(lambda)) Q, mu_c = offset + c. */
static void t_data(float *x, size_t rows, size_t cols, const double *lambda,
                   const double *q, double offset, struct nn__rng *r)
{
    double *g = malloc(cols * sizeof *g);
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++)
            g[j] = nn__rng_gauss(r) * sqrt(lambda[j]);
        for (size_t c = 0; c < cols; c++) {
            double v = offset + (double)c;
            for (size_t j = 0; j < cols; j++) v += g[j] * q[j * cols + c];
            x[i * cols + c] = (float)v;
        }
    }
    free(g);
}

/* The sign convention applied to a double vector: largest |entry| (first
   on ties) positive.  Returns the sign applied. */
static double t_sign_fix(double *v, size_t n)
{
    size_t at = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(v[i]) > fabs(v[at])) at = i;
    double s = v[at] < 0 ? -1.0 : 1.0;
    for (size_t i = 0; i < n; i++) v[i] *= s;
    return s;
}

/* Gap between the two largest |entries| relative to the largest: when
   tiny the sign convention may legitimately differ with rounding. */
static double t_top_gap(const double *v, size_t n)
{
    double a = 0.0, b = 0.0;
    for (size_t i = 0; i < n; i++) {
        double m = fabs(v[i]);
        if (m > a) { b = a; a = m; } else if (m > b) b = m;
    }
    return (a - b) / a;
}

#define T_COLS 12
static const double t_lambda[T_COLS] = {20, 12, 8, 5, 3, 2, 1.2, 0.8, 0.5,
                                        0.3, 0.2, 0.1};

struct t_set {
    size_t rows, cols;
    float *x;
    double q[T_COLS * T_COLS];
    double mean[T_COLS], cov[T_COLS * T_COLS];
    double val[T_COLS], vec[T_COLS * T_COLS];   /* Jacobi, sign-fixed */
};

static void t_set_make(struct t_set *s, size_t rows, double offset,
                       uint64_t seed)
{
    struct nn__rng r;
    double a[T_COLS * T_COLS];
    nn__rng_seed(&r, seed);
    s->rows = rows;
    s->cols = T_COLS;
    s->x = malloc(rows * T_COLS * sizeof *s->x);
    t_orthogonal(s->q, T_COLS, &r);
    t_data(s->x, rows, T_COLS, t_lambda, s->q, offset, &r);
    t_cov(s->x, rows, T_COLS, s->mean, s->cov);
    memcpy(a, s->cov, sizeof a);
    t_jacobi_eig(a, T_COLS, s->val, s->vec);
    for (size_t j = 0; j < T_COLS; j++) t_sign_fix(s->vec + j * T_COLS, T_COLS);
}

/* ||y - y_ref||_F / ||y_ref||_F with y_ref[i][j] = (x_i - mean) . v_j /
   scale_j in double. */
static double t_proj_err(const struct t_set *s, const float *y, size_t k,
                         const double *scale)
{
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < s->rows; i++)
        for (size_t j = 0; j < k; j++) {
            double ref = 0.0;
            for (size_t c = 0; c < s->cols; c++)
                ref += ((double)s->x[i * s->cols + c] - s->mean[c]) *
                       s->vec[j * s->cols + c];
            ref /= scale[j];
            double d = (double)y[i * k + j] - ref;
            num += d * d;
            den += ref * ref;
        }
    return sqrt(num / den);
}

/* ---- fit against the references ---- */

NN_TEST(pca_fit_vs_jacobi_known_covariance)
{
    struct t_set s;
    const size_t rows = 20000, cols = T_COLS;
    double worst_val = 0, worst_dot = 0, worst_known = 0, worst_mean = 0;
    double worst_q = 0, ones[T_COLS];
    t_set_make(&s, rows, 3.0, nnt_seed());
    for (size_t j = 0; j < cols; j++) ones[j] = 1.0;

    static const size_t ks[] = {1, 5, T_COLS};
    for (size_t t = 0; t < 3; t++) {
        size_t k = ks[t];
        nn_pca *pca = NULL;
        double mean[T_COLS];
        float comp[T_COLS * T_COLS];
        double var[T_COLS], ratio[T_COLS], rsum = 0.0, total = 0.0;
        int32_t flags = -1;
        double eps = -1;
        NNT_OK(nn_pca_fit(&pca, s.x, rows, cols, k, 0, 0.0));
        NNT_EQ_SIZE(nn_pca_num_features(pca), cols);
        NNT_EQ_SIZE(nn_pca_num_components(pca), k);
        NNT_OK(nn_pca_get_settings(pca, &flags, &eps));
        NNT_EQ_INT(flags, 0);
        NNT_TRUE(eps == 0.0);
        NNT_OK(nn_pca_get_params(pca, mean, comp));
        NNT_OK(nn_pca_get_variance(pca, var, ratio));
        for (size_t c = 0; c < cols; c++) {
            double e = fabs(mean[c] - s.mean[c]);
            if (e > worst_mean) worst_mean = e;
            NNT_LE(e, 1e-12 * (fabs(s.mean[c]) + 1.0));
            total += s.cov[c * cols + c];
        }
        for (size_t j = 0; j < k; j++) {
            /* against the double Jacobi eigenvalues of the same data */
            double e = fabs(var[j] - s.val[j]) / s.val[0];
            if (e > worst_val) worst_val = e;
            NNT_LE(e, 1e-5);
            /* against the known population eigenvalues: sampling error
               sqrt(2 / rows) = 1% relative; allow 6 sigma */
            double ek = fabs(var[j] / t_lambda[j] - 1.0);
            if (ek > worst_known) worst_known = ek;
            NNT_LE(ek, 6.0 * sqrt(2.0 / (double)rows));
            NNT_NEAR(ratio[j], s.val[j] / total, 1e-5);
            rsum += ratio[j];
            /* components: same sign as the independently signed Jacobi
               vector (unless its two largest entries nearly tie), and
               |dot| with the population eigenvector (row j of Q) */
            double dot = 0.0, dq = 0.0, nrm = 0.0;
            for (size_t c = 0; c < cols; c++) {
                dot += (double)comp[j * cols + c] * s.vec[j * cols + c];
                dq += (double)comp[j * cols + c] * s.q[j * cols + c];
                nrm += (double)comp[j * cols + c] * comp[j * cols + c];
            }
            NNT_NEAR(nrm, 1.0, 1e-6);
            if (t_top_gap(s.vec + j * cols, cols) > 1e-3) {
                NNT_TRUE(dot > 0.0);
            }
            if (1.0 - fabs(dot) > worst_dot) worst_dot = 1.0 - fabs(dot);
            NNT_LE(1.0 - fabs(dot), 1e-6);
            if (1.0 - fabs(dq) > worst_q) worst_q = 1.0 - fabs(dq);
            NNT_LE(1.0 - fabs(dq), 1e-2);
            if (j > 0) NNT_LE(var[j], var[j - 1]);
        }
        if (k == cols) NNT_NEAR(rsum, 1.0, 1e-9);

        /* transform against the double projection */
        float *y = malloc(rows * k * sizeof *y);
        NNT_OK(nn_pca_transform(pca, s.x, rows, y));
        double et = t_proj_err(&s, y, k, ones);
        printf("  k = %zu: transform relative error %.3g\n", k, et);
        NNT_LE(et, 1e-5);

        /* inverse: k = cols gives x back; k < cols the double projection
           onto the span of the reference vectors */
        float *xr = malloc(rows * cols * sizeof *xr);
        NNT_OK(nn_pca_inverse_transform(pca, y, rows, xr));
        double num = 0, den = 0;
        for (size_t i = 0; i < rows; i++)
            for (size_t c = 0; c < cols; c++) {
                double ref = s.mean[c];
                for (size_t j = 0; j < k; j++) {
                    double pj = 0;
                    for (size_t d = 0; d < cols; d++)
                        pj += ((double)s.x[i * cols + d] - s.mean[d]) *
                              s.vec[j * cols + d];
                    ref += pj * s.vec[j * cols + c];
                }
                double d = (double)xr[i * cols + c] - ref;
                num += d * d;
                den += (ref - s.mean[c]) * (ref - s.mean[c]);
            }
        printf("  k = %zu: reconstruction error %.3g (relative to the "
               "centred reference)\n", k, sqrt(num / den));
        NNT_LE(sqrt(num / den), 1e-5);
        free(xr);
        free(y);
        nn_pca_destroy(pca);
    }
    printf("  eigenvalues vs Jacobi (double): max |err| / lambda_max = "
           "%.3g\n  components: max 1 - |dot| = %.3g (vs Jacobi), %.3g (vs "
           "the population Q)\n  eigenvalues vs known lambda: max relative "
           "%.3g (sampling, %zu rows)\n  mean: max |err| %.3g\n", worst_val,
           worst_dot, worst_q, worst_known, rows, worst_mean);
    free(s.x);
}

NN_TEST(pca_whitened_output_has_identity_covariance)
{
    struct t_set s;
    const size_t rows = 5000, cols = T_COLS;
    /* a large offset tests the centring (x W - mu W would cancel) */
    t_set_make(&s, rows, 1000.0, nnt_seed() + 1);
    static const size_t ks[] = {4, T_COLS};
    for (size_t t = 0; t < 2; t++) {
        size_t k = ks[t];
        nn_pca *pca = NULL;
        double var[T_COLS], scale[T_COLS];
        float *y = malloc(rows * k * sizeof *y);
        double m[T_COLS], cy[T_COLS * T_COLS], worst = 0.0;
        NNT_OK(nn_pca_fit(&pca, s.x, rows, cols, k, NN_PCA_WHITEN, 0.0));
        NNT_OK(nn_pca_transform(pca, s.x, rows, y));
        t_cov(y, rows, k, m, cy);
        for (size_t i = 0; i < k; i++) {
            NNT_LE(fabs(m[i]), 1e-4);
            for (size_t j = 0; j < k; j++) {
                double e = fabs(cy[i * k + j] - (i == j ? 1.0 : 0.0));
                if (e > worst) worst = e;
            }
        }
        printf("  k = %zu: max |cov(whitened) - I| = %.3g\n", k, worst);
        NNT_LE(worst, 1e-4);
        /* and against the double projection scaled by sqrt(lambda_ref) */
        NNT_OK(nn_pca_get_variance(pca, var, NULL));
        for (size_t j = 0; j < k; j++) scale[j] = sqrt(s.val[j]);
        double et = t_proj_err(&s, y, k, scale);
        printf("  k = %zu: whitened transform relative error %.3g\n", k, et);
        NNT_LE(et, 2e-5);
        /* the inverse undoes the whitening */
        float *xr = malloc(rows * cols * sizeof *xr);
        NNT_OK(nn_pca_inverse_transform(pca, y, rows, xr));
        if (k == cols) {
            double worst_x = 0.0;
            for (size_t i = 0; i < rows * cols; i++) {
                double e = fabs((double)xr[i] - (double)s.x[i]);
                if (e > worst_x) worst_x = e;
            }
            printf("  k = %zu: max |inverse(transform(x)) - x| = %.3g "
                   "(|x| ~ 1000)\n", k, worst_x);
            NNT_LE(worst_x, 2e-3);
        }
        free(xr);
        free(y);
        nn_pca_destroy(pca);
    }
    free(s.x);
}

NN_TEST(pca_sign_convention_is_independent_of_row_order)
{
    struct t_set s;
    const size_t rows = 3000, cols = T_COLS, k = 6;
    nn_pca *a = NULL, *b = NULL;
    float ca[T_COLS * T_COLS], cb[T_COLS * T_COLS];
    t_set_make(&s, rows, -2.0, nnt_seed() + 2);
    float *rev = malloc(rows * cols * sizeof *rev);
    for (size_t i = 0; i < rows; i++)
        memcpy(rev + i * cols, s.x + (rows - 1 - i) * cols,
               cols * sizeof *rev);
    NNT_OK(nn_pca_fit(&a, s.x, rows, cols, k, 0, 0.0));
    NNT_OK(nn_pca_fit(&b, rev, rows, cols, k, 0, 0.0));
    NNT_OK(nn_pca_get_params(a, NULL, ca));
    NNT_OK(nn_pca_get_params(b, NULL, cb));
    for (size_t j = 0; j < k; j++) {
        double dot = 0.0;
        size_t at = 0;
        for (size_t c = 0; c < cols; c++) {
            dot += (double)ca[j * cols + c] * cb[j * cols + c];
            if (fabsf(ca[j * cols + c]) > fabsf(ca[j * cols + at])) at = c;
        }
        NNT_TRUE(ca[j * cols + at] > 0.0f);   /* the documented rule */
        NNT_LE(1.0 - dot, 1e-6);              /* same sign both times */
    }
    /* the same data twice: the same bits */
    nn_pca *c2 = NULL;
    unsigned char b1[4096], b2[4096];
    size_t n1 = 0, n2 = 0;
    NNT_OK(nn_pca_fit(&c2, s.x, rows, cols, k, 0, 0.0));
    NNT_OK(nn_pca_save_buffer(a, b1, sizeof b1, &n1));
    NNT_OK(nn_pca_save_buffer(c2, b2, sizeof b2, &n2));
    NNT_EQ_SIZE(n1, n2);
    NNT_TRUE(memcmp(b1, b2, n1) == 0);
    nn_pca_destroy(a);
    nn_pca_destroy(b);
    nn_pca_destroy(c2);
    free(rev);
    free(s.x);
}

NN_TEST(pca_rank_deficient_and_constant_data)
{
    /* 4 samples in 6 dimensions: rank 3 after centring */
    float x[4 * 6];
    struct nn__rng r;
    nn__rng_seed(&r, nnt_seed());
    for (size_t i = 0; i < 24; i++) x[i] = (float)nn__rng_gauss(&r);
    nn_pca *pca = NULL;
    double var[6], ratio[6], sum = 0.0;
    NNT_OK(nn_pca_fit(&pca, x, 4, 6, 6, 0, 0.0));
    NNT_OK(nn_pca_get_variance(pca, var, ratio));
    for (size_t j = 0; j < 6; j++) {
        NNT_TRUE(var[j] >= 0.0);
        sum += ratio[j];
    }
    NNT_NEAR(sum, 1.0, 1e-6);
    for (size_t j = 3; j < 6; j++) NNT_LE(var[j], 1e-6 * var[0]);
    nn_pca_destroy(pca);

    /* constant data: every variance is 0 */
    float c[5 * 3];
    for (size_t i = 0; i < 15; i++) c[i] = (float)(i % 3) - 7.5f;
    pca = (nn_pca *)(void *)c;
    NNT_STATUS(nn_pca_fit(&pca, c, 5, 3, 2, NN_PCA_WHITEN, 0.0),
               NN_ERR_NONFINITE);
    NNT_TRUE(pca == NULL);
    NNT_MSG_HAS("epsilon");
    NNT_OK(nn_pca_fit(&pca, c, 5, 3, 2, NN_PCA_WHITEN, 1e-3));
    NNT_OK(nn_pca_get_variance(pca, var, ratio));
    NNT_TRUE(var[0] == 0.0 && var[1] == 0.0 && ratio[0] == 0.0);
    float y[5 * 2];
    NNT_OK(nn_pca_transform(pca, c, 5, y));
    for (size_t i = 0; i < 10; i++) NNT_TRUE(y[i] == 0.0f);
    nn_pca_destroy(pca);
    NNT_OK(nn_pca_fit(&pca, c, 5, 3, 3, 0, 0.0));  /* no whitening: fine */
    nn_pca_destroy(pca);
}

/* ---- files ---- */

static nn_pca *t_small_pca(int32_t flags, float *x, size_t rows)
{
    struct nn__rng r;
    nn_pca *pca = NULL;
    nn__rng_seed(&r, nnt_seed() + 7);
    for (size_t i = 0; i < rows * 6; i++)
        x[i] = (float)(nn__rng_gauss(&r) * (double)(1 + i % 6) + 0.5);
    if (nn_pca_fit(&pca, x, rows, 6, 3, flags, 1e-4) != NN_OK) return NULL;
    return pca;
}

static unsigned char *t_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long sz;
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

NN_TEST(pca_save_load_roundtrip_bit_exact)
{
    float x[40 * 6], y1[40 * 3], y2[40 * 3], z1[40 * 6], z2[40 * 6];
    char path[600];
    for (int32_t flags = 0; flags <= NN_PCA_WHITEN; flags++) {
        nn_pca *a = t_small_pca(flags, x, 40), *b = NULL, *c = NULL;
        unsigned char buf[1024], buf2[1024], small[16];
        size_t n = 0, n2 = 0, nf = 0;
        NNT_TRUE(a != NULL);
        NNT_OK(nn_pca_save_buffer(a, NULL, 0, &n));
        NNT_EQ_SIZE(n, 56 + 3 * 8 + 6 * 8 + 3 * 6 * 4 + 4);
        memset(small, 0xA5, sizeof small);
        n2 = 0;
        NNT_STATUS(nn_pca_save_buffer(a, small, sizeof small, &n2),
                   NN_ERR_SHAPE);
        NNT_EQ_SIZE(n2, n);
        for (size_t i = 0; i < sizeof small; i++) NNT_EQ_INT(small[i], 0xA5);
        NNT_OK(nn_pca_save_buffer(a, buf, sizeof buf, &n));
        NNT_OK(nn_pca_load_buffer(&b, buf, n));
        NNT_OK(nn_pca_save_buffer(b, buf2, sizeof buf2, &n2));
        NNT_EQ_SIZE(n2, n);
        NNT_TRUE(memcmp(buf, buf2, n) == 0);
        /* the file holds the same bytes */
        snprintf(path, sizeof path, "%s/p%d.pca", nnt_tmpdir(), (int)flags);
        NNT_OK(nn_pca_save(a, path));
        unsigned char *f = t_slurp(path, &nf);
        NNT_TRUE(f != NULL);
        NNT_EQ_SIZE(nf, n);
        NNT_TRUE(memcmp(f, buf, n) == 0);
        free(f);
        NNT_OK(nn_pca_load(&c, path));
        /* identical transforms, inverses and accessors */
        NNT_OK(nn_pca_transform(a, x, 40, y1));
        NNT_OK(nn_pca_transform(c, x, 40, y2));
        NNT_TRUE(memcmp(y1, y2, sizeof y1) == 0);
        NNT_OK(nn_pca_inverse_transform(a, y1, 40, z1));
        NNT_OK(nn_pca_inverse_transform(b, y1, 40, z2));
        NNT_TRUE(memcmp(z1, z2, sizeof z1) == 0);
        {
            double m1[6], m2[6];
            float c1[18], c2[18];
            double v1[3], v2[3], r1[3], r2[3], e1, e2;
            int32_t f1, f2;
            NNT_OK(nn_pca_get_params(a, m1, c1));
            NNT_OK(nn_pca_get_params(c, m2, c2));
            NNT_OK(nn_pca_get_variance(a, v1, r1));
            NNT_OK(nn_pca_get_variance(c, v2, r2));
            NNT_OK(nn_pca_get_settings(a, &f1, &e1));
            NNT_OK(nn_pca_get_settings(c, &f2, &e2));
            NNT_TRUE(memcmp(m1, m2, sizeof m1) == 0);
            NNT_TRUE(memcmp(c1, c2, sizeof c1) == 0);
            NNT_TRUE(memcmp(v1, v2, sizeof v1) == 0);
            NNT_TRUE(memcmp(r1, r2, sizeof r1) == 0);
            NNT_EQ_INT(f1, flags);
            NNT_EQ_INT(f2, flags);
            NNT_TRUE(e1 == 1e-4 && e2 == 1e-4);
        }
        /* saving over an existing file replaces it */
        NNT_OK(nn_pca_save(b, path));
        nn_pca_destroy(a);
        nn_pca_destroy(b);
        nn_pca_destroy(c);
    }
}

static void t_patch_crc(unsigned char *b, size_t n)
{
    uint32_t crc = nn__crc32(0, b, n - 4);
    b[n - 4] = (unsigned char)crc;
    b[n - 3] = (unsigned char)(crc >> 8);
    b[n - 2] = (unsigned char)(crc >> 16);
    b[n - 1] = (unsigned char)(crc >> 24);
}

static void t_put64f(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(u >> (8 * i));
}

NN_TEST(pca_corrupt_files_rejected)
{
    float x[40 * 6];
    nn_pca *a = t_small_pca(NN_PCA_WHITEN, x, 40), *b;
    unsigned char img[1024], bad[1100];
    size_t n = 0, rejected = 0;
    char path[600];
    NNT_TRUE(a != NULL);
    NNT_OK(nn_pca_save_buffer(a, img, sizeof img, &n));

    /* every truncation */
    for (size_t len = 0; len < n; len++) {
        b = (nn_pca *)(void *)img;
        NNT_STATUS(nn_pca_load_buffer(&b, img, len), NN_ERR_FORMAT);
        NNT_TRUE(b == NULL);
        rejected++;
    }
    /* one byte more (declared size wrong) */
    memcpy(bad, img, n);
    bad[n] = 0;
    NNT_STATUS(nn_pca_load_buffer(&b, bad, n + 1), NN_ERR_FORMAT);
    /* every single-bit flip */
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, img, n);
            bad[i] ^= (unsigned char)(1u << bit);
            b = (nn_pca *)(void *)img;
            NNT_STATUS(nn_pca_load_buffer(&b, bad, n), NN_ERR_FORMAT);
            NNT_TRUE(b == NULL);
            rejected++;
        }
    printf("  %zu truncations and bit flips of a %zu-byte image rejected\n",
           rejected, n);

    /* CRC-valid but inconsistent images */
    struct { size_t off; int kind; double v; const char *msg; } cases[] = {
        {8, 4, 2, "version"},           /* version 2 */
        {24, 4, 0, "cols"},             /* cols 0 */
        {28, 4, 0, "k at"},             /* k 0 */
        {28, 4, 7, "k at"},             /* k > cols */
        {28, 4, 2, "need"},             /* k 2: sizes disagree */
        {32, 4, 2, "flags"},            /* unknown flag */
        {36, 4, 1, "reserved"},
        {40, 8, -1.0, "epsilon"},
        {40, 8, NAN, "epsilon"},
        {48, 8, INFINITY, "total"},
        {56, 8, -0.5, "variance 0"},
        {64, 8, 1e30, "variance 1"},    /* not descending */
        {56 + 24, 8, NAN, "mean[0]"},
        {56 + 24 + 48, 4, NAN, "component 0"},
        {56 + 24 + 48, 4, 3.0, "norm"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(bad, img, n);
        unsigned char *p = bad + cases[c].off;
        if (cases[c].kind == 8) {
            t_put64f(p, cases[c].v);
        } else if (cases[c].off >= 56) {
            float f = (float)cases[c].v;
            uint32_t u;
            memcpy(&u, &f, 4);
            for (int i = 0; i < 4; i++) p[i] = (unsigned char)(u >> (8 * i));
        } else {
            uint32_t u = (uint32_t)cases[c].v;
            for (int i = 0; i < 4; i++) p[i] = (unsigned char)(u >> (8 * i));
        }
        t_patch_crc(bad, n);
        NNT_STATUS(nn_pca_load_buffer(&b, bad, n), NN_ERR_FORMAT);
        NNT_MSG_HAS(cases[c].msg);
    }
    /* a whitened PCA whose variance + epsilon is 0 */
    memcpy(bad, img, n);
    t_put64f(bad + 40, 0.0);
    t_put64f(bad + 56 + 16, 0.0);
    t_patch_crc(bad, n);
    NNT_STATUS(nn_pca_load_buffer(&b, bad, n), NN_ERR_FORMAT);
    NNT_MSG_HAS("whitening component 2");

    /* files: a damaged one, an empty one, a model file, a missing one */
    snprintf(path, sizeof path, "%s/bad.pca", nnt_tmpdir());
    FILE *f = fopen(path, "wb");
    fwrite(img, 1, n - 1, f);
    fclose(f);
    NNT_STATUS(nn_pca_load(&b, path), NN_ERR_FORMAT);
    f = fopen(path, "wb");
    fclose(f);
    NNT_STATUS(nn_pca_load(&b, path), NN_ERR_FORMAT);
    {
        static const size_t sz[] = {6, 3};
        static const int32_t ac[] = {NN_ACT_LINEAR};
        nn_net *net = NULL;
        NNT_OK(nn_net_create(&net, 1, sz, ac, 1));
        NNT_OK(nn_net_save(net, path));
        NNT_STATUS(nn_pca_load(&b, path), NN_ERR_FORMAT);
        NNT_MSG_HAS("not a libnnfs PCA file");
        nn_net_destroy(net);
    }
    snprintf(path, sizeof path, "%s/missing/none.pca", nnt_tmpdir());
    NNT_STATUS(nn_pca_load(&b, path), NN_ERR_IO);
    NNT_TRUE(b == NULL);
    nn_pca_destroy(a);
}

/* ---- arguments ---- */

NN_TEST(pca_refuses_overlapping_out)
{
    /* issue 13: blocks of rows are written while later rows are still to
       be read, so an out overlapping the input gave wrong values with
       NN_OK.  Refused now, both directions, buffers unchanged; touching
       buffers still give the unaliased result. */
    float x[40 * 6], buf[40 * 6 + 40 * 3], keep[40 * 6 + 40 * 3];
    float y[40 * 3], xr[40 * 6];
    size_t i;
    nn_pca *pca = t_small_pca(0, x, 40);
    NNT_TRUE(pca != NULL);
    memcpy(buf, x, sizeof x);
    for (i = 40 * 6; i < 40 * 9; i++) buf[i] = 0.0f;
    memcpy(keep, buf, sizeof buf);
    NNT_STATUS(nn_pca_transform(pca, buf, 40, buf), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("out overlaps x");
    NNT_STATUS(nn_pca_transform(pca, buf, 40, buf + 40 * 6 - 1),
               NN_ERR_INVALID_ARG);
    NNT_TRUE(memcmp(buf, keep, sizeof buf) == 0);
    NNT_OK(nn_pca_transform(pca, x, 40, y));
    NNT_OK(nn_pca_transform(pca, buf, 40, buf + 40 * 6));
    NNT_TRUE(memcmp(buf + 40 * 6, y, sizeof y) == 0);

    /* inverse: y (k = 3 wide) in the front, out (6 wide) over it */
    memcpy(buf, y, sizeof y);
    memcpy(keep, buf, sizeof buf);
    NNT_STATUS(nn_pca_inverse_transform(pca, buf, 40, buf),
               NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("out overlaps y");
    NNT_TRUE(memcmp(buf, keep, sizeof buf) == 0);
    NNT_OK(nn_pca_inverse_transform(pca, y, 40, xr));
    NNT_OK(nn_pca_inverse_transform(pca, buf, 40, buf + 40 * 3));
    NNT_TRUE(memcmp(buf + 40 * 3, xr, sizeof xr) == 0);
    nn_pca_destroy(pca);
}

NN_TEST(pca_bad_arguments)
{
    float x[40 * 6], y[40 * 3], z[40 * 6], sentinel[40 * 6];
    nn_pca *pca = t_small_pca(0, x, 40), *p;
    NNT_TRUE(pca != NULL);
    void *dummy = x;
    size_t big = (size_t)INT_MAX + 1;

#define T_FIT(call, code)                                                   \
    do { p = dummy; NNT_STATUS(call, code); NNT_TRUE(p == NULL); } while (0)
    NNT_STATUS(nn_pca_fit(NULL, x, 40, 6, 3, 0, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, NULL, 40, 6, 3, 0, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 0, 6, 3, 0, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 1, 6, 3, 0, 0.0), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("rows = 1");
    T_FIT(nn_pca_fit(&p, x, 40, 0, 0, 0, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 40, 6, 0, 0, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 40, 6, 7, 0, 0.0), NN_ERR_SHAPE);
    NNT_MSG_HAS("k = 7");
    T_FIT(nn_pca_fit(&p, x, 40, 6, 3, 2, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 40, 6, 3, -1, 0.0), NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 40, 6, 3, NN_PCA_WHITEN, -1e-3),
          NN_ERR_INVALID_ARG);
    T_FIT(nn_pca_fit(&p, x, 40, 6, 3, NN_PCA_WHITEN, NAN), NN_ERR_NONFINITE);
    T_FIT(nn_pca_fit(&p, x, 40, 6, 3, 0, INFINITY), NN_ERR_NONFINITE);
    T_FIT(nn_pca_fit(&p, x, 2, big, 1, 0, 0.0), NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("INT_MAX");
    NNT_MSG_HAS("2147483648");
    T_FIT(nn_pca_fit(&p, x, 2, (size_t)NN_MAX_WIDTH + 1, 1, 0, 0.0),
          NN_ERR_SHAPE);
    /* a width whose dsyevd workspace (2 cols^2 + 6 cols + 1) a 32-bit
       lapack_int cannot count: refused before x is read or memory taken */
    if (sizeof(lapack_int) == 4) {
        long live = nn__alloc_live();
        T_FIT(nn_pca_fit(&p, x, 2, 40000, 1, 0, 0.0), NN_ERR_UNSUPPORTED);
        NNT_MSG_HAS("LAPACKE_dsyevd");
        NNT_TRUE(nn__alloc_live() == live);
    }
    T_FIT(nn_pca_fit(&p, x, SIZE_MAX / 2, 6, 1, 0, 0.0), NN_ERR_SHAPE);
    /* non-finite data, named by row and column */
    {
        float xb[40 * 6];
        memcpy(xb, x, sizeof xb);
        xb[17 * 6 + 4] = NAN;
        T_FIT(nn_pca_fit(&p, xb, 40, 6, 3, 0, 0.0), NN_ERR_NONFINITE);
        NNT_MSG_HAS("row 17, column 4");
        xb[17 * 6 + 4] = x[17 * 6 + 4];
        xb[39 * 6 + 5] = -INFINITY;
        T_FIT(nn_pca_fit(&p, xb, 40, 6, 3, 0, 0.0), NN_ERR_NONFINITE);
        /* finite, but squares overflow float */
        for (size_t i = 0; i < 40 * 6; i++)
            xb[i] = (i / 6) % 2 ? 3e38f : -3e38f;
        T_FIT(nn_pca_fit(&p, xb, 40, 6, 3, 0, 0.0), NN_ERR_NONFINITE);
        NNT_MSG_HAS("overflows float");
    }
#undef T_FIT

    /* transform / inverse: out unchanged on every failure */
    for (size_t i = 0; i < 40 * 6; i++) sentinel[i] = 12345.0f;
    memcpy(y, sentinel, sizeof y);
    memcpy(z, sentinel, sizeof z);
    NNT_STATUS(nn_pca_transform(NULL, x, 40, y), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_transform(pca, NULL, 40, y), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_transform(pca, x, 40, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_transform(pca, x, 0, y), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_transform(pca, x, SIZE_MAX / 4, y), NN_ERR_SHAPE);
    {
        float xb[40 * 6];
        memcpy(xb, x, sizeof xb);
        xb[39 * 6 + 2] = NAN;
        NNT_STATUS(nn_pca_transform(pca, xb, 40, y), NN_ERR_NONFINITE);
        NNT_MSG_HAS("row 39, column 2");
        xb[39 * 6 + 2] = 3e38f;
        xb[39 * 6 + 3] = -3e38f;
        NNT_STATUS(nn_pca_transform(pca, xb, 40, y), NN_ERR_NONFINITE);
        NNT_MSG_HAS("overflow");
    }
    NNT_TRUE(memcmp(y, sentinel, sizeof y) == 0);
    NNT_STATUS(nn_pca_inverse_transform(NULL, y, 40, z), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_inverse_transform(pca, NULL, 40, z),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_inverse_transform(pca, y, 40, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_inverse_transform(pca, y, 0, z), NN_ERR_INVALID_ARG);
    {
        float yb[40 * 3];
        for (size_t i = 0; i < 120; i++) yb[i] = 1.0f;
        yb[7] = INFINITY;
        NNT_STATUS(nn_pca_inverse_transform(pca, yb, 40, z),
                   NN_ERR_NONFINITE);
        yb[6] = yb[7] = yb[8] = 3e38f;   /* |row 2| = 5.2e38; the
            largest row norm of V is >= sqrt(k / cols) = 0.71 */
        NNT_STATUS(nn_pca_inverse_transform(pca, yb, 40, z),
                   NN_ERR_NONFINITE);
    }
    NNT_TRUE(memcmp(z, sentinel, sizeof z) == 0);

    /* accessors */
    NNT_EQ_SIZE(nn_pca_num_features(NULL), 0);
    NNT_EQ_SIZE(nn_pca_num_components(NULL), 0);
    NNT_STATUS(nn_pca_get_params(NULL, NULL, z), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_get_variance(NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_get_settings(NULL, NULL, NULL), NN_ERR_INVALID_ARG);
    NNT_OK(nn_pca_get_params(pca, NULL, NULL));
    NNT_OK(nn_pca_get_variance(pca, NULL, NULL));
    NNT_OK(nn_pca_get_settings(pca, NULL, NULL));
    nn_pca_destroy(NULL);

    /* files and buffers */
    {
        char path[600];
        size_t n = 0;
        unsigned char buf[8];
        snprintf(path, sizeof path, "%s/no/such/dir/p.pca", nnt_tmpdir());
        NNT_STATUS(nn_pca_save(NULL, path), NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_pca_save(pca, NULL), NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_pca_save(pca, ""), NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_pca_save(pca, path), NN_ERR_IO);
        NNT_MSG_HAS(path);
        NNT_STATUS(nn_pca_save_buffer(NULL, buf, 8, &n), NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_pca_save_buffer(pca, buf, 8, NULL),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_pca_load(NULL, path), NN_ERR_INVALID_ARG);
        p = dummy;
        NNT_STATUS(nn_pca_load(&p, NULL), NN_ERR_INVALID_ARG);
        NNT_TRUE(p == NULL);
        p = dummy;
        NNT_STATUS(nn_pca_load(&p, ""), NN_ERR_INVALID_ARG);
        NNT_TRUE(p == NULL);
        NNT_STATUS(nn_pca_load_buffer(NULL, buf, 8), NN_ERR_INVALID_ARG);
        p = dummy;
        NNT_STATUS(nn_pca_load_buffer(&p, NULL, 8), NN_ERR_INVALID_ARG);
        NNT_TRUE(p == NULL);
    }
    nn_pca_destroy(pca);
}

/* ---- allocation failures (test_oom.c's method) ---- */

enum { P_FIT, P_FIT_WHITEN, P_TRANSFORM, P_INVERSE, P_SAVE, P_LOAD,
       P_SAVE_BUFFER, P_LOAD_BUFFER, P_COUNT };
static const char *const p_names[P_COUNT] = {
    "nn_pca_fit", "nn_pca_fit(whiten)", "nn_pca_transform",
    "nn_pca_inverse_transform", "nn_pca_save", "nn_pca_load",
    "nn_pca_save_buffer", "nn_pca_load_buffer"};

struct p_ctx {
    const float *x;
    size_t rows;
    const nn_pca *pca;      /* fitted beforehand */
    const unsigned char *img;
    size_t img_n;
    char path[600];         /* for save: holds "old" content beforehand */
    char src[600];          /* for load: a saved PCA */
    nn_pca *made;
    float out[700 * 20];
    unsigned char buf[4096];
    size_t n;
};

/* One call; the observable result goes into fp (bytes). */
static int p_call(int s, struct p_ctx *c)
{
    c->made = NULL;
    switch (s) {
    case P_FIT: return nn_pca_fit(&c->made, c->x, c->rows, 20, 8, 0, 0.0);
    case P_FIT_WHITEN:
        return nn_pca_fit(&c->made, c->x, c->rows, 20, 20, NN_PCA_WHITEN,
                          1e-6);
    case P_TRANSFORM: return nn_pca_transform(c->pca, c->x, c->rows, c->out);
    case P_INVERSE:
        return nn_pca_inverse_transform(c->pca, c->x, c->rows / 4, c->out);
    case P_SAVE: return nn_pca_save(c->pca, c->path);
    case P_LOAD: return nn_pca_load(&c->made, c->src);
    case P_SAVE_BUFFER:
        return nn_pca_save_buffer(c->pca, c->buf, sizeof c->buf, &c->n);
    default: return nn_pca_load_buffer(&c->made, c->img, c->img_n);
    }
}

static size_t p_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    if (d == NULL) return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Everything observable after a call: outputs, the file, the new
   handle's image. */
static size_t p_fingerprint(int s, struct p_ctx *c, unsigned char *fp,
                            size_t cap)
{
    size_t n = 0, m = 0;
    memcpy(fp, c->out, sizeof c->out);
    n = sizeof c->out;
    memcpy(fp + n, c->buf, sizeof c->buf);
    n += sizeof c->buf;
    if (s == P_SAVE) {
        unsigned char *f = t_slurp(c->path, &m);
        if (f != NULL && n + m <= cap) memcpy(fp + n, f, m);
        free(f);
        n += m;
    }
    if (c->made != NULL) {
        /* the new handle's own image, written with the hook disarmed
           (save_buffer allocates nothing) */
        if (nn_pca_save_buffer(c->made, fp + n, cap - n, &m) == NN_OK)
            n += m;
    }
    return n;
}

NN_TEST(pca_oom_every_failure_point)
{
    static struct p_ctx c;
    static unsigned char ref[65536], got[65536];
    const size_t rows = 700;   /* two transform blocks */
    float *x = malloc(rows * 20 * sizeof *x);
    struct nn__rng r;
    long total = 0;
    nn_pca *pca = NULL;
    unsigned char img[4096];
    size_t img_n = 0;
    FILE *f;

    nn__rng_seed(&r, nnt_seed());
    for (size_t i = 0; i < rows * 20; i++)
        x[i] = (float)(nn__rng_gauss(&r) * (double)(1 + i % 20));
    NNT_EQ_INT(nn__alloc_live(), 0);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    h_fail_at = 0;
    NNT_OK(nn_pca_fit(&pca, x, rows, 20, 8, NN_PCA_WHITEN, 1e-6));
    NNT_OK(nn_pca_save_buffer(pca, img, sizeof img, &img_n));
    c.x = x;
    c.rows = rows;
    c.pca = pca;
    c.img = img;
    c.img_n = img_n;
    snprintf(c.path, sizeof c.path, "%s/target.pca", nnt_tmpdir());
    snprintf(c.src, sizeof c.src, "%s/source.pca", nnt_tmpdir());
    NNT_OK(nn_pca_save(pca, c.src));

    for (int s = 0; s < P_COUNT; s++) {
        size_t nref, ngot;
        long calls, k;
        int persistent;
        /* the clean run */
        memset(c.out, 0, sizeof c.out);
        memset(c.buf, 0, sizeof c.buf);
        f = fopen(c.path, "wb");
        fputs("old", f);
        fclose(f);
        h_fail_at = 0;
        h_calls = 0;
        NNT_OK(p_call(s, &c));
        calls = h_calls;
        nref = p_fingerprint(s, &c, ref, sizeof ref);
        nn_pca_destroy(c.made);
        c.made = NULL;
        for (k = 1; k <= calls; k++)
            for (persistent = 0; persistent < 2; persistent++) {
                long live = h_live, nlive = nn__alloc_live();
                memset(c.out, 0, sizeof c.out);
                memset(c.buf, 0, sizeof c.buf);
                f = fopen(c.path, "wb");
                fputs("old", f);
                fclose(f);
                unsigned char before[65536];
                size_t nbefore = p_fingerprint(s, &c, before, sizeof before);
                size_t dir_n = p_dir_entries(nnt_tmpdir());
                h_calls = 0;
                h_fail_at = k;
                h_persistent = persistent;
                c.made = (nn_pca *)(void *)x;
                int st = p_call(s, &c);
                h_fail_at = 0;
                if (st != NN_ERR_NOMEM)
                    nnt_fail(__FILE__, __LINE__, "%s: allocation %ld of %ld "
                             "failing gave status %d (%s)", p_names[s], k,
                             calls, st, nn_last_error());
                NNT_TRUE(c.made == NULL);
                NNT_EQ_INT(h_live, live);
                NNT_EQ_INT(nn__alloc_live(), nlive);
                ngot = p_fingerprint(s, &c, got, sizeof got);
                NNT_EQ_SIZE(ngot, nbefore);
                NNT_TRUE(memcmp(got, before, ngot) == 0);
                NNT_EQ_SIZE(p_dir_entries(nnt_tmpdir()), dir_n);
                total++;
                /* the same call again, without failures: the clean result */
                NNT_OK(p_call(s, &c));
                ngot = p_fingerprint(s, &c, got, sizeof got);
                NNT_EQ_SIZE(ngot, nref);
                NNT_TRUE(memcmp(got, ref, nref) == 0);
                nn_pca_destroy(c.made);
                c.made = NULL;
            }
        printf("  %-26s %ld allocation(s)\n", p_names[s], calls);
        if (s == P_FIT || s == P_TRANSFORM || s == P_SAVE || s == P_LOAD ||
            s == P_LOAD_BUFFER)
            NNT_TRUE(calls > 0);
    }
    nn_pca_destroy(pca);
    NNT_EQ_INT(h_live, 0);
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    printf("  %ld failure points, each NN_ERR_NOMEM with no leak and no "
           "observable change\n", total);
    NNT_TRUE(total > 0);
    free(x);
}

/* ---- atomic save (io.c's nn__save_image, shared with nn_net_save) ---- */

static long t_fail_write(int fd, const void *buf, size_t n)
{
    (void)fd; (void)buf; (void)n;
    errno = ENOSPC;
    return -1;
}

static int t_fail_rename(int dirfd, const char *from, const char *to)
{
    (void)dirfd; (void)from; (void)to;
    errno = EXDEV;
    return -1;
}

NN_TEST(pca_save_is_atomic_on_io_failure)
{
    float x[40 * 6];
    nn_pca *a = t_small_pca(0, x, 40), *b = NULL;
    char path[600];
    size_t n = 0, before;
    NNT_TRUE(a != NULL);
    snprintf(path, sizeof path, "%s/keep.pca", nnt_tmpdir());
    FILE *f = fopen(path, "wb");
    fputs("old contents", f);
    fclose(f);
    before = p_dir_entries(nnt_tmpdir());
    for (int which = 0; which < 2; which++) {
        if (which == 0) nn__io.write = t_fail_write;
        else nn__io.rename = t_fail_rename;
        int st = nn_pca_save(a, path);
        nn__io = nn__io_default;
        NNT_EQ_INT(st, NN_ERR_IO);
        NNT_MSG_HAS(which == 0 ? "write" : "rename");
        NNT_MSG_HAS("the old file is unchanged");
        unsigned char *c = t_slurp(path, &n);
        NNT_TRUE(c != NULL && n == 12 && memcmp(c, "old contents", 12) == 0);
        free(c);
        NNT_EQ_SIZE(p_dir_entries(nnt_tmpdir()), before);   /* no temp */
    }
    NNT_OK(nn_pca_save(a, path));
    NNT_OK(nn_pca_load(&b, path));
    nn_pca_destroy(b);
    nn_pca_destroy(a);
}
