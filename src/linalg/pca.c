/*
 * pca.c - principal component analysis and whitening of input data:
 * fit (mean, covariance, eigen-decomposition by LAPACKE_dsyevd),
 * transform and inverse transform (GEMMs through dense.c), and the PCA
 * file format (docs/FORMAT.md, "PCA files").  One of the three files
 * that include lapacke.h.
 *
 * Numerics:
 *  - The mean is summed and kept in double.  The covariance is built from
 *    mean-centred blocks of NN__PCA_BLOCK rows (so x is never copied
 *    whole): each block's X_c^T X_c is one float32 ssyrk (dense.c), and
 *    the blocks are added up in double, so the float error is that of
 *    one block, not of a sum over every row.
 *  - The eigen-decomposition is LAPACKE_dsyevd on that double matrix,
 *    not ssyevd on a float copy: rounding the covariance to float would
 *    put an absolute error of about 6e-8 * lambda_max on every
 *    eigenvalue, which ruins the small ones, and whitening divides by
 *    their square roots.  For the widths PCA is used at (hundreds to a
 *    few thousand features) the double solve costs less than the
 *    covariance product.
 *  - Components are sorted by descending eigenvalue and signed so that
 *    the entry of largest magnitude (the first such on ties) is
 *    positive: the same data gives the same components on every BLAS.
 *  - The transform works with the float components as stored, so a
 *    saved and reloaded PCA transforms bit for bit like the original.
 */
#include "base/base.h"
#include "core/core.h"
#include "io/io.h"

#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* Rows per centred block in fit and transform: 512 x 784 floats is
   1.6 MB, large enough for an efficient ssyrk/sgemm. */
#define NN__PCA_BLOCK 512u

struct nn_pca {
    uint64_t tag;        /* NN__TAG_PCA: first member (base/base.h) */
    size_t cols, k;
    int32_t flags;       /* NN_PCA_WHITEN or 0 */
    double epsilon;      /* whitening: divide by sqrt(variance + epsilon) */
    double total;        /* trace of the covariance (total variance) */
    double *var;         /* [k] eigenvalues, descending, >= 0 */
    double *mean;        /* [cols], kept in double: see transform */
    float *comp;         /* [k][cols] components, unit rows */
    float *proj;         /* [cols][k] comp^T / s: transform's matrix */
    float *back;         /* [cols][k] comp^T * s: inverse transform's */
    double proj_norm;    /* largest 2-norm of a column of proj */
    double back_norm;    /* largest 2-norm of a row of back */
};

/* The handle and its arrays in one block (one allocation, one free). */
static size_t nn__round64(size_t n) { return (n + 63u) & ~(size_t)63u; }

static nn_pca *nn__pca_alloc(size_t cols, size_t k)
{
    size_t kc, head = nn__round64(sizeof(struct nn_pca)), a, b, c, d, tot;
    unsigned char *p;
    nn_pca *pca;
    if (!nn__mul_ok(k, cols, &kc) || !nn__mul_ok(kc, 3 * sizeof(float), &d))
        return NULL;
    a = nn__round64(k * sizeof(double));
    b = nn__round64(cols * sizeof(double));
    c = nn__round64(kc * sizeof(float));
    if (!nn__add_ok(head, a, &tot) || !nn__add_ok(tot, b, &tot) ||
        !nn__add_ok(tot, c, &tot) || !nn__add_ok(tot, 2 * c, &tot))
        return NULL;
    p = nn__malloc(tot);
    if (p == NULL) return NULL;
    pca = (nn_pca *)(void *)p;
    memset(pca, 0, sizeof *pca);
    pca->tag = NN__TAG_PCA;
    pca->cols = cols;
    pca->k = k;
    pca->var = (double *)(void *)(p + head);
    pca->mean = (double *)(void *)(p + head + a);
    pca->comp = (float *)(void *)(p + head + a + b);
    pca->proj = (float *)(void *)(p + head + a + b + c);
    pca->back = (float *)(void *)(p + head + a + b + 2 * c);
    return pca;
}

/* proj and back from comp, var, flags and epsilon.  Returns k if every
   value is finite, else the first component whose scale is not. */
static size_t nn__pca_derive(nn_pca *pca)
{
    size_t cols = pca->cols, k = pca->k, i, j;
    int whiten = (pca->flags & NN_PCA_WHITEN) != 0;
    double pmax = 0.0, bmax = 0.0;
    for (j = 0; j < k; j++) {
        double s = whiten ? sqrt(pca->var[j] + pca->epsilon) : 1.0;
        double pn = 0.0;
        for (i = 0; i < cols; i++) {
            double v = (double)pca->comp[j * cols + i];
            float pv = (float)(v / s), bv = (float)(v * s);
            if (!isfinite(pv) || !isfinite(bv)) return j;
            pca->proj[i * k + j] = pv;
            pca->back[i * k + j] = bv;
            pn += (double)pv * (double)pv;
        }
        if (pn > pmax) pmax = pn;
    }
    for (i = 0; i < cols; i++) {
        double bn = 0.0;
        for (j = 0; j < k; j++)
            bn += (double)pca->back[i * k + j] * (double)pca->back[i * k + j];
        if (bn > bmax) bmax = bn;
    }
    pca->proj_norm = sqrt(pmax);
    pca->back_norm = sqrt(bmax);
    return k;
}

static int nn__pca_whiten_fail(const nn_pca *pca, size_t j, int status,
                               const char *fn)
{
    return nn__fail(status, "%s: whitening component %zu (variance %.9g) "
                    "divides by sqrt(variance + epsilon) with epsilon = "
                    "%.9g, which does not give a finite float scale: use "
                    "a larger epsilon or fewer components", fn, j,
                    pca->var[j], pca->epsilon);
}

/* The first non-finite value of x[n], or n. */
static size_t nn__first_nonfinite(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

/*====== Fit ======*/

/* ---- validate every argument but out (x is read once, for
   non-finite values) */
static int nn__pca_fit_check(const float *x, size_t rows, size_t cols,
                             size_t k, int32_t flags, double epsilon,
                             const char *fn)
{
    size_t n, bad;

    NN__CHECK_PTR(x, fn);
    NN__CHECK(rows < 2, NN_ERR_INVALID_ARG, "%s: rows = %zu; a covariance "
              "needs at least 2 samples", fn, rows);
    NN__CHECK(cols == 0, NN_ERR_INVALID_ARG, "%s: cols is 0", fn);
    NN__CHECK(k == 0, NN_ERR_INVALID_ARG, "%s: k is 0", fn);
    NN__CHECK(k > cols, NN_ERR_SHAPE, "%s: k = %zu is more than cols = %zu",
              fn, k, cols);
    NN__CHECK((flags & ~(int32_t)NN_PCA_WHITEN) != 0, NN_ERR_INVALID_ARG,
              "%s: flags = 0x%lx holds bits other than NN_PCA_WHITEN", fn,
              (unsigned long)(uint32_t)flags);
    NN__CHECK(!isfinite(epsilon), NN_ERR_NONFINITE,
              "%s: epsilon is not finite", fn);
    NN__CHECK(epsilon < 0.0, NN_ERR_INVALID_ARG,
              "%s: epsilon = %.9g is negative", fn, epsilon);
    NN__CHECK(cols > (size_t)INT_MAX, NN_ERR_UNSUPPORTED,
              "%s: cols = %zu is beyond LAPACK's and the BLAS's int sizes "
              "(INT_MAX = %d)", fn, cols, INT_MAX);
    NN__CHECK(cols > NN_MAX_WIDTH, NN_ERR_SHAPE,
              "%s: cols = %zu is over NN_MAX_WIDTH = %u", fn, cols,
              NN_MAX_WIDTH);
    /* dsyevd with eigenvectors needs a workspace of 1 + 6 cols + 2 cols^2
       doubles, counted in a lapack_int: refuse before any allocation a
       size whose count it cannot hold (cols >= 32766 with 32-bit ints) */
    NN__CHECK((double)cols * (double)cols * 2.0 + 6.0 * (double)cols + 1.0 >
                  (double)(sizeof(lapack_int) >= 8 ? INT64_MAX : INT_MAX),
              NN_ERR_UNSUPPORTED, "%s: cols = %zu needs a LAPACKE_dsyevd "
              "workspace beyond its lapack_int size", fn, cols);
    NN__CHECK(!nn__mul_ok(rows, cols, &n), NN_ERR_SHAPE,
              "%s: rows * cols = %zu * %zu overflows", fn, rows, cols);
    bad = nn__first_nonfinite(x, n);
    NN__CHECK(bad < n, NN_ERR_NONFINITE, "%s: x[%zu] (row %zu, column %zu) "
              "is not finite", fn, bad, bad / cols, bad % cols);
    return NN_OK;
}

/* A fit's scratch, one block: the double covariance [cols][cols]
   (dsyevd overwrites it with the eigenvectors), the mean and the
   eigenvalues in double, then one block's float X_c^T X_c and its
   centred rows. */
struct nn__pca_scratch {
    unsigned char *base;
    double *cov, *mean_d, *w;
    float *cb, *blk;
    size_t blk_rows, cc;
};

/* ---- allocate the handle and the scratch (both or neither) */
static int nn__pca_fit_alloc(nn_pca **pca_out, struct nn__pca_scratch *sc,
                             size_t rows, size_t cols, size_t k,
                             const char *fn)
{
    size_t total_bytes, off_f;
    nn_pca *pca;

    sc->blk_rows = rows < NN__PCA_BLOCK ? rows : NN__PCA_BLOCK;
    sc->cc = cols * cols;   /* cols <= NN_MAX_WIDTH = 2^20: no overflow */
    off_f = (sc->cc + 2 * cols) * sizeof(double);
    total_bytes = 0;
    if (sc->cc <= (SIZE_MAX - off_f) / sizeof(float) - sc->blk_rows * cols)
        total_bytes = off_f + (sc->cc + sc->blk_rows * cols) * sizeof(float);
    pca = nn__pca_alloc(cols, k);
    sc->base = total_bytes != 0 ? nn__malloc(total_bytes) : NULL;
    if (pca == NULL || sc->base == NULL) {
        nn__free(pca);
        nn__free(sc->base);
        return nn__fail(NN_ERR_NOMEM, "%s: out of memory for the %zu x %zu "
                        "covariance and %zu components", fn, cols, cols, k);
    }
    sc->cov = (double *)(void *)sc->base;
    sc->mean_d = sc->cov + sc->cc;
    sc->w = sc->mean_d + cols;
    sc->cb = (float *)(void *)(sc->base + off_f);
    sc->blk = sc->cb + sc->cc;
    *pca_out = pca;
    return NN_OK;
}

/* ---- mean, summed in double row by row (sequential reads of x) */
static void nn__pca_fit_mean(nn_pca *pca, double *mean_d, const float *x,
                             size_t rows, size_t cols)
{
    size_t i, j;
    for (j = 0; j < cols; j++) mean_d[j] = 0.0;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) mean_d[j] += (double)x[i * cols + j];
    for (j = 0; j < cols; j++) pca->mean[j] = mean_d[j] / (double)rows;
}

/* ---- covariance: the upper triangle of sum over blocks of X_c^T X_c,
   each block in float by ssyrk, the sum in double; then the unbiased
   sample covariance, as numpy.cov and scikit-learn */
static int nn__pca_fit_cov(nn_pca *pca, const struct nn__pca_scratch *sc,
                           const float *x, size_t rows, size_t cols,
                           const char *fn)
{
    double *cov = sc->cov, total;
    float *cb = sc->cb, *blk = sc->blk;
    size_t i, j, r0, nb;

    for (i = 0; i < sc->cc; i++) cov[i] = 0.0;
    for (r0 = 0; r0 < rows; r0 += nb) {
        nb = rows - r0 < sc->blk_rows ? rows - r0 : sc->blk_rows;
        for (i = 0; i < nb; i++)
            for (j = 0; j < cols; j++)
                blk[i * cols + j] =
                    (float)((double)x[(r0 + i) * cols + j] - pca->mean[j]);
        /* not reached: every size is <= INT_MAX */
        NN__FORWARD(nn__syrk_xtx(blk, cb, nb, cols));
        /* the diagonal holds the largest sums (|C_ij| <= sqrt(C_ii C_jj)
           for every partial sum too), so a finite diagonal means the
           block did not overflow */
        for (j = 0; j < cols; j++)
            NN__CHECK(!isfinite(cb[j * cols + j]), NN_ERR_NONFINITE,
                      "%s: the sum of squares of column %zu over rows "
                      "%zu..%zu overflows float (values too far from the "
                      "mean)", fn, j, r0, r0 + nb - 1);
        for (i = 0; i < cols; i++)
            for (j = i; j < cols; j++)
                cov[i * cols + j] += (double)cb[i * cols + j];
    }
    total = 0.0;
    for (i = 0; i < cols; i++) {
        for (j = i; j < cols; j++) cov[i * cols + j] /= (double)(rows - 1);
        total += cov[i * cols + i];
    }
    pca->total = total;
    return NN_OK;
}

/* ---- the k leading eigenvectors (sign fixed: largest entry positive)
   and their variances.  The row-major upper triangle is the
   column-major lower triangle of the same array, so LAPACK reads it in
   place (no transposed copy by LAPACKE) and returns eigenvector c as the
   contiguous column cov[c * cols .. c * cols + cols - 1]; eigenvalues
   ascending in w. */
static int nn__pca_fit_eigen(nn_pca *pca, const struct nn__pca_scratch *sc,
                             size_t cols, size_t k, const char *fn)
{
    const double *cov = sc->cov, *w = sc->w;
    size_t i, j;
    lapack_int info;

    info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', (lapack_int)cols,
                          sc->cov, (lapack_int)cols, sc->w);
    if (info != 0) {
        int st = info == LAPACK_WORK_MEMORY_ERROR ? NN_ERR_NOMEM
                 : info < 0 ? NN_ERR_INVALID_ARG : NN_ERR_NONFINITE;
        return nn__fail(st, "%s: LAPACKE_dsyevd on the %zu x %zu covariance "
                        "returned info = %d%s", fn, cols, cols, (int)info,
                        info > 0 ? " (did not converge)" : "");
    }
    for (j = 0; j < k; j++) {
        const double *v = cov + (cols - 1 - j) * cols;
        double lambda = w[cols - 1 - j], big = -1.0, sgn;
        size_t at = 0;
        for (i = 0; i < cols; i++)
            if (fabs(v[i]) > big) { big = fabs(v[i]); at = i; }
        sgn = v[at] < 0.0 ? -1.0 : 1.0;
        for (i = 0; i < cols; i++)
            pca->comp[j * cols + i] = (float)(sgn * v[i]);
        /* a covariance is positive semi-definite: a negative eigenvalue
           is rounding (rank-deficient data) */
        pca->var[j] = lambda > 0.0 ? lambda : 0.0;
    }
    return NN_OK;
}

int nn_pca_fit(nn_pca **out, const float *x, size_t rows, size_t cols,
               size_t k, int32_t flags, double epsilon)
{
    static const char fn[] = "nn_pca_fit";
    struct nn__pca_scratch sc;
    nn_pca *pca = NULL;
    size_t j;
    int st;

    NN__CHECK_PTR(out, fn);
    *out = NULL;
    NN__FORWARD(nn__pca_fit_check(x, rows, cols, k, flags, epsilon, fn));
    NN__FORWARD(nn__pca_fit_alloc(&pca, &sc, rows, cols, k, fn));
    pca->flags = flags;
    pca->epsilon = epsilon;
    nn__pca_fit_mean(pca, sc.mean_d, x, rows, cols);
    st = nn__pca_fit_cov(pca, &sc, x, rows, cols, fn);
    if (st == NN_OK) st = nn__pca_fit_eigen(pca, &sc, cols, k, fn);
    if (st != NN_OK) {
        nn__free(pca);
        nn__free(sc.base);
        return st;
    }
    nn__free(sc.base);
    j = nn__pca_derive(pca);
    if (j < k) {
        st = nn__pca_whiten_fail(pca, j, NN_ERR_NONFINITE, fn);
        nn__free(pca);
        return st;
    }
    *out = pca;
    return NN_OK;
}

void nn_pca_destroy(nn_pca *pca)
{
    NN__CHECK_HANDLE_OR(pca, NN__TAG_PCA, "pca", "nn_pca_destroy", );
    if (pca != NULL) NN__KILL_HANDLE(pca);
    nn__free(pca);
}

/*====== Transform ======*/

/* The arguments shared by transform and inverse_transform: pointers,
   rows, and rows times either width fitting size_t.  in names the input
   argument (x or y) in messages. */
static int nn__pca_rows_check(const nn_pca *pca, const void *in,
                              const char *in_name, size_t rows,
                              const float *out, const char *fn)
{
    size_t n;
    NN__CHECK(pca == NULL, NN_ERR_INVALID_ARG, "%s: pca is NULL", fn);
    NN__CHECK_HANDLE(pca, NN__TAG_PCA, "pca", fn);
    NN__CHECK(in == NULL, NN_ERR_INVALID_ARG, "%s: %s is NULL", fn,
              in_name);
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    NN__CHECK(rows == 0, NN_ERR_INVALID_ARG, "%s: rows is 0", fn);
    NN__CHECK(!nn__mul_ok(rows, pca->cols, &n) ||
              !nn__mul_ok(rows, pca->k, &n),
              NN_ERR_SHAPE, "%s: rows = %zu times the width overflows", fn,
              rows);
    return NN_OK;
}

int nn_pca_transform(const nn_pca *pca, const float *x, size_t rows,
                     float *out)
{
    static const char fn[] = "nn_pca_transform";
    size_t cols, k, i, j, r0, nb, blk_rows;
    double worst = 0.0;
    size_t worst_row = 0;
    float *blk;
    int st;

    NN__FORWARD(nn__pca_rows_check(pca, x, "x", rows, out, fn));
    cols = pca->cols;
    k = pca->k;
    /* blocks of rows are written while later ones are still to be read */
    NN__CHECK(nn__overlap(x, rows * cols * sizeof(float), out,
                          rows * k * sizeof(float)),
              NN_ERR_INVALID_ARG, "%s: out overlaps x (out must not share "
              "memory with the input)", fn);
    /* Validate every value and bound the output before writing any:
       |y_j| <= ||x - mean|| * ||proj column j|| (Cauchy-Schwarz, which
       bounds the GEMM's partial sums too). */
    for (i = 0; i < rows; i++) {
        double s = 0.0;
        for (j = 0; j < cols; j++) {
            float v = x[i * cols + j];
            double d;
            NN__CHECK(!isfinite(v), NN_ERR_NONFINITE, "%s: x[%zu] (row %zu, "
                      "column %zu) is not finite", fn, i * cols + j, i, j);
            d = (double)v - pca->mean[j];
            s += d * d;
        }
        if (s > worst) { worst = s; worst_row = i; }
    }
    worst = sqrt(worst);
    NN__CHECK(worst > 0.5 * (double)FLT_MAX ||
              worst * pca->proj_norm > 0.5 * (double)FLT_MAX,
              NN_ERR_NONFINITE, "%s: row %zu lies %.3g from the mean; its "
              "projection could overflow float", fn, worst_row, worst);

    blk_rows = rows < NN__PCA_BLOCK ? rows : NN__PCA_BLOCK;
    blk = nn__malloc(blk_rows * cols * sizeof *blk);
    NN__CHECK(blk == NULL, NN_ERR_NOMEM, "%s: out of memory for a %zu x %zu "
              "block", fn, blk_rows, cols);
    for (r0 = 0; r0 < rows; r0 += nb) {
        nb = rows - r0 < blk_rows ? rows - r0 : blk_rows;
        /* x - mean in double, rounded once: with the mean kept in float,
           data far from the origin (pixels 0..255, offsets of 1000)
           would be centred with an error of half an ulp of the mean,
           which whitening then divides by sqrt(lambda) */
        for (i = 0; i < nb; i++)
            for (j = 0; j < cols; j++)
                blk[i * cols + j] =
                    (float)((double)x[(r0 + i) * cols + j] - pca->mean[j]);
        /* Y[nb][k] = X_c[nb][cols] * proj[cols][k] */
        st = nn__gemm_fwd(blk, pca->proj, out + r0 * k, nb, cols, k);
        if (st != NN_OK) {   /* not reached: cols, k, nb <= INT_MAX */
            nn__free(blk);
            return st;
        }
    }
    nn__free(blk);
    return NN_OK;
}

int nn_pca_inverse_transform(const nn_pca *pca, const float *y, size_t rows,
                             float *out)
{
    static const char fn[] = "nn_pca_inverse_transform";
    size_t cols, k, i, j, r0, nb;
    double worst = 0.0, mmax = 0.0;
    size_t worst_row = 0;

    NN__FORWARD(nn__pca_rows_check(pca, y, "y", rows, out, fn));
    cols = pca->cols;
    k = pca->k;
    NN__CHECK(nn__overlap(y, rows * k * sizeof(float), out,
                          rows * cols * sizeof(float)),
              NN_ERR_INVALID_ARG, "%s: out overlaps y (out must not share "
              "memory with the input)", fn);
    for (i = 0; i < rows; i++) {
        double s = 0.0;
        for (j = 0; j < k; j++) {
            float v = y[i * k + j];
            NN__CHECK(!isfinite(v), NN_ERR_NONFINITE, "%s: y[%zu] (row %zu, "
                      "column %zu) is not finite", fn, i * k + j, i, j);
            s += (double)v * (double)v;
        }
        if (s > worst) { worst = s; worst_row = i; }
    }
    for (j = 0; j < cols; j++)
        if (fabs(pca->mean[j]) > mmax) mmax = fabs(pca->mean[j]);
    worst = sqrt(worst);
    NN__CHECK(worst * pca->back_norm + mmax > 0.5 * (double)FLT_MAX,
              NN_ERR_NONFINITE, "%s: row %zu has norm %.3g; its "
              "reconstruction could overflow float", fn, worst_row, worst);
    for (r0 = 0; r0 < rows; r0 += nb) {
        float *o = out + r0 * cols;
        nb = rows - r0 < NN__PCA_BLOCK ? rows - r0 : NN__PCA_BLOCK;
        /* X[nb][cols] = Y[nb][k] * back^T, back stored [cols][k]
           (a failure is not reached: sizes <= INT_MAX) */
        NN__FORWARD(nn__gemm_dx(y + r0 * k, pca->back, o, nb, cols, k));
        for (i = 0; i < nb; i++)
            for (j = 0; j < cols; j++)
                o[i * cols + j] = (float)((double)o[i * cols + j] +
                                          pca->mean[j]);
    }
    return NN_OK;
}

/*====== Accessors ======*/

size_t nn_pca_num_features(const nn_pca *pca)
{
    NN__CHECK_HANDLE_OR(pca, NN__TAG_PCA, "pca", "nn_pca_num_features", 0);
    return pca == NULL ? 0 : pca->cols;
}

size_t nn_pca_num_components(const nn_pca *pca)
{
    NN__CHECK_HANDLE_OR(pca, NN__TAG_PCA, "pca", "nn_pca_num_components", 0);
    return pca == NULL ? 0 : pca->k;
}

int nn_pca_get_params(const nn_pca *pca, double *mean, float *components)
{
    NN__CHECK_PTR(pca, "nn_pca_get_params");
    NN__CHECK_HANDLE(pca, NN__TAG_PCA, "pca", "nn_pca_get_params");
    if (mean != NULL) memcpy(mean, pca->mean, pca->cols * sizeof *mean);
    if (components != NULL)
        memcpy(components, pca->comp, pca->k * pca->cols * sizeof(float));
    return NN_OK;
}

int nn_pca_get_variance(const nn_pca *pca, double *variance, double *ratio)
{
    size_t j;
    NN__CHECK_PTR(pca, "nn_pca_get_variance");
    NN__CHECK_HANDLE(pca, NN__TAG_PCA, "pca", "nn_pca_get_variance");
    for (j = 0; j < pca->k; j++) {
        if (variance != NULL) variance[j] = pca->var[j];
        if (ratio != NULL)
            ratio[j] = pca->total > 0.0 ? pca->var[j] / pca->total : 0.0;
    }
    return NN_OK;
}

int nn_pca_get_settings(const nn_pca *pca, int32_t *flags, double *epsilon)
{
    NN__CHECK_PTR(pca, "nn_pca_get_settings");
    NN__CHECK_HANDLE(pca, NN__TAG_PCA, "pca", "nn_pca_get_settings");
    if (flags != NULL) *flags = pca->flags;
    if (epsilon != NULL) *epsilon = pca->epsilon;
    return NN_OK;
}

/*====== Files (docs/FORMAT.md, "PCA files") ======*/

static const unsigned char nn__pca_magic[8] = {0x89, 'N', 'P', 'C',
                                               0x0D, 0x0A, 0x1A, 0x0A};
#define NN__PCA_VERSION 1u
#define NN__PCA_BOM 0x01020304u
#define NN__PCA_HEAD 56u     /* through the total variance */
#define NN__PCA_CRC 4u

/* Size of the image for cols and k (each <= NN_MAX_WIDTH, so no
   overflow with a 64-bit size_t; 0 if it would not fit size_t). */
static size_t nn__pca_image_size(size_t cols, size_t k)
{
    size_t kc, s;
    if (!nn__mul_ok(k, cols, &kc) || !nn__mul_ok(kc, 4, &s) ||
        !nn__add_ok(s, NN__PCA_HEAD + NN__PCA_CRC, &s) ||
        !nn__add_ok(k, cols, &kc) || kc > (SIZE_MAX - s) / 8)
        return 0;
    return s + 8 * kc;
}

static void nn__pca_image_fill(const void *ctx, unsigned char *buf)
{
    const nn_pca *pca = ctx;
    size_t cols = pca->cols, k = pca->k, i, size;
    unsigned char *p;
    size = nn__pca_image_size(cols, k);
    memcpy(buf, nn__pca_magic, 8);
    nn__wr32(buf + 8, NN__PCA_VERSION);
    nn__wr32(buf + 12, NN__PCA_BOM);
    nn__wr64(buf + 16, (uint64_t)size);
    nn__wr32(buf + 24, (uint32_t)cols);
    nn__wr32(buf + 28, (uint32_t)k);
    nn__wr32(buf + 32, (uint32_t)pca->flags);
    nn__wr32(buf + 36, 0);
    nn__wr64(buf + 40, nn__f64_bits(pca->epsilon));
    nn__wr64(buf + 48, nn__f64_bits(pca->total));
    p = buf + NN__PCA_HEAD;
    for (i = 0; i < k; i++, p += 8)
        nn__wr64(p, nn__f64_bits(pca->var[i]));
    for (i = 0; i < cols; i++, p += 8)
        nn__wr64(p, nn__f64_bits(pca->mean[i]));
    for (i = 0; i < k * cols; i++, p += 4)
        nn__wr32(p, nn__f32_bits(pca->comp[i]));
    nn__wr32(p, nn__crc32(0, buf, size - NN__PCA_CRC));
}

int nn_pca_save_buffer(const nn_pca *pca, void *buf, size_t capacity,
                       size_t *size_out)
{
    static const char fn[] = "nn_pca_save_buffer";
    size_t size;
    NN__CHECK_PTR(pca, fn);
    NN__CHECK_HANDLE(pca, NN__TAG_PCA, "pca", fn);
    NN__CHECK_PTR(size_out, fn);
    size = nn__pca_image_size(pca->cols, pca->k);
    *size_out = size;
    if (buf == NULL) return NN_OK;
    NN__CHECK(capacity < size, NN_ERR_SHAPE, "%s: capacity = %zu is less "
              "than the %zu bytes of the image", fn, capacity, size);
    nn__pca_image_fill(pca, buf);
    return NN_OK;
}

int nn_pca_save(const nn_pca *pca, const char *path)
{
    static const char fn[] = "nn_pca_save";
    NN__CHECK_PTR(pca, fn);
    NN__CHECK_HANDLE(pca, NN__TAG_PCA, "pca", fn);
    return nn__save_image(nn__pca_image_size(pca->cols, pca->k),
                          nn__pca_image_fill, pca, path, fn);
}

/* ---- the frame: length, magic, version, byte order, declared size and
   the CRC */
static int nn__pca_check_frame(const unsigned char *buf, size_t size,
                               const char *fn)
{
    uint32_t version, bom;
    uint64_t declared;

    NN__CHECK(size < NN__PCA_HEAD + NN__PCA_CRC, NN_ERR_FORMAT,
              "%s: truncated: %zu bytes is shorter than the %u-byte header "
              "and the CRC of a PCA file", fn, size,
              NN__PCA_HEAD + NN__PCA_CRC);
    NN__CHECK(memcmp(buf, nn__pca_magic, 8) != 0, NN_ERR_FORMAT,
              "%s: not a libnnfs PCA file: magic at offset 0 is %02X %02X "
              "%02X %02X %02X %02X %02X %02X, expected 89 4E 50 43 0D 0A "
              "1A 0A", fn, buf[0], buf[1], buf[2], buf[3], buf[4], buf[5],
              buf[6], buf[7]);
    version = nn__rd32(buf + 8);
    NN__CHECK(version != NN__PCA_VERSION, NN_ERR_FORMAT,
              "%s: PCA format version at offset 8 is %lu; this library "
              "reads version %u", fn, (unsigned long)version,
              NN__PCA_VERSION);
    bom = nn__rd32(buf + 12);
    NN__CHECK(bom != NN__PCA_BOM, NN_ERR_FORMAT, "%s: byte-order mark at "
              "offset 12 is 0x%08lX, expected 0x%08X", fn,
              (unsigned long)bom, NN__PCA_BOM);
    declared = nn__rd64(buf + 16);
    NN__CHECK(declared != (uint64_t)size, NN_ERR_FORMAT,
              "%s: declared size at offset 16 is %llu but the input has "
              "%zu bytes (%s)", fn, (unsigned long long)declared, size,
              declared > (uint64_t)size ? "truncated" : "trailing data");
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    {
        uint32_t stored = nn__rd32(buf + size - NN__PCA_CRC);
        uint32_t crc = nn__crc32(0, buf, size - NN__PCA_CRC);
        NN__CHECK(stored != crc, NN_ERR_FORMAT, "%s: CRC-32 mismatch: "
                  "stored 0x%08lX, computed 0x%08lX (corrupt file)", fn,
                  (unsigned long)stored, (unsigned long)crc);
    }
#endif
    return NN_OK;
}

/* ---- the header's fields: shape (which must give the input's size),
   flags, the reserved word, epsilon and the total variance */
static int nn__pca_check_head(const unsigned char *buf, size_t size,
                              size_t *cols_out, size_t *k_out,
                              const char *fn)
{
    uint32_t cols32 = nn__rd32(buf + 24), k32 = nn__rd32(buf + 28);
    uint32_t flags = nn__rd32(buf + 32), reserved = nn__rd32(buf + 36);
    size_t cols, k, want;
    double epsilon, total;

    NN__CHECK(cols32 == 0 || cols32 > NN_MAX_WIDTH, NN_ERR_FORMAT,
              "%s: cols at offset 24 is %lu, outside [1, %u]", fn,
              (unsigned long)cols32, NN_MAX_WIDTH);
    NN__CHECK(k32 == 0 || k32 > cols32, NN_ERR_FORMAT,
              "%s: k at offset 28 is %lu, outside [1, cols = %lu]", fn,
              (unsigned long)k32, (unsigned long)cols32);
    NN__CHECK((flags & ~(uint32_t)NN_PCA_WHITEN) != 0, NN_ERR_FORMAT,
              "%s: flags at offset 32 are 0x%08lX: unknown bits", fn,
              (unsigned long)flags);
    NN__CHECK(reserved != 0, NN_ERR_FORMAT, "%s: reserved field at offset "
              "36 is 0x%08lX, must be 0", fn, (unsigned long)reserved);
    cols = cols32;
    k = k32;
    want = nn__pca_image_size(cols, k);
    NN__CHECK(want != size, NN_ERR_FORMAT, "%s: %zu columns and %zu "
              "components need %zu bytes, the input has %zu", fn, cols, k,
              want, size);
    epsilon = nn__bits_f64(nn__rd64(buf + 40));
    total = nn__bits_f64(nn__rd64(buf + 48));
    NN__CHECK(!isfinite(epsilon) || epsilon < 0.0, NN_ERR_FORMAT,
              "%s: epsilon at offset 40 is %.9g, not finite and >= 0", fn,
              epsilon);
    NN__CHECK(!isfinite(total) || total < 0.0, NN_ERR_FORMAT,
              "%s: total variance at offset 48 is %.9g, not finite and "
              ">= 0", fn, total);
    *cols_out = cols;
    *k_out = k;
    return NN_OK;
}

/* ---- the arrays: variances finite, >= 0 and descending, means finite,
   components finite unit vectors */
static int nn__pca_check_arrays(const unsigned char *buf, size_t cols,
                                size_t k, const char *fn)
{
    const unsigned char *p = buf + NN__PCA_HEAD;
    double prev = INFINITY;
    size_t i, j;

    for (j = 0; j < k; j++, p += 8) {
        double v = nn__bits_f64(nn__rd64(p));
        NN__CHECK(!(v >= 0.0 && v <= prev) || isinf(v), NN_ERR_FORMAT,
                  "%s: variance %zu at offset %zu is %.9g: not finite, "
                  "negative or above the one before", fn, j,
                  (size_t)(p - buf), v);
        prev = v;
    }
    for (i = 0; i < cols; i++, p += 8)
        NN__CHECK(!isfinite(nn__bits_f64(nn__rd64(p))),
                  NN_ERR_FORMAT, "%s: mean[%zu] at offset %zu is not "
                  "finite", fn, i, (size_t)(p - buf));
    for (j = 0; j < k; j++) {
        double nrm = 0.0;
        for (i = 0; i < cols; i++, p += 4) {
            float v = nn__bits_f32(nn__rd32(p));
            NN__CHECK(!isfinite(v), NN_ERR_FORMAT, "%s: component %zu "
                      "entry %zu at offset %zu is not finite", fn, j, i,
                      (size_t)(p - buf));
            nrm += (double)v * (double)v;
        }
        /* fit stores unit vectors rounded to float */
        NN__CHECK(fabs(nrm - 1.0) > 1e-3, NN_ERR_FORMAT, "%s: component "
                  "%zu has squared norm %.9g, not 1", fn, j, nrm);
    }
    return NN_OK;
}

/* ---- allocate the handle and read a checked image into it */
static int nn__pca_build(nn_pca **out, const unsigned char *buf,
                         size_t cols, size_t k, const char *fn)
{
    const unsigned char *p = buf + NN__PCA_HEAD;
    size_t i, j;
    nn_pca *pca = nn__pca_alloc(cols, k);

    NN__CHECK(pca == NULL, NN_ERR_NOMEM, "%s: out of memory for a PCA of "
              "%zu components of %zu features", fn, k, cols);
    pca->flags = (int32_t)nn__rd32(buf + 32);
    pca->epsilon = nn__bits_f64(nn__rd64(buf + 40));
    pca->total = nn__bits_f64(nn__rd64(buf + 48));
    for (j = 0; j < k; j++, p += 8)
        pca->var[j] = nn__bits_f64(nn__rd64(p));
    for (i = 0; i < cols; i++, p += 8)
        pca->mean[i] = nn__bits_f64(nn__rd64(p));
    for (i = 0; i < k * cols; i++, p += 4)
        pca->comp[i] = nn__bits_f32(nn__rd32(p));
    j = nn__pca_derive(pca);
    if (j < k) {
        int st = nn__pca_whiten_fail(pca, j, NN_ERR_FORMAT, fn);
        nn__free(pca);
        return st;
    }
    *out = pca;
    return NN_OK;
}

/* Parse and check an image completely, then allocate. */
static int nn__pca_parse(nn_pca **out, const unsigned char *buf, size_t size,
                         const char *fn)
{
    size_t cols = 0, k = 0;
    NN__FORWARD(nn__pca_check_frame(buf, size, fn));
    NN__FORWARD(nn__pca_check_head(buf, size, &cols, &k, fn));
    NN__FORWARD(nn__pca_check_arrays(buf, cols, k, fn));
    return nn__pca_build(out, buf, cols, k, fn);
}

int nn_pca_load_buffer(nn_pca **out, const void *buf, size_t size)
{
    static const char fn[] = "nn_pca_load_buffer";
    NN__CHECK_PTR(out, fn);
    *out = NULL;
    NN__CHECK_PTR(buf, fn);
    return nn__pca_parse(out, buf, size, fn);
}

int nn_pca_load(nn_pca **out, const char *path)
{
    static const char fn[] = "nn_pca_load";
    unsigned char *buf;
    size_t size;
    int st;
    NN__CHECK_PTR(out, fn);
    *out = NULL;
    NN__CHECK_PTR(path, fn);
    NN__CHECK(path[0] == '\0', NN_ERR_INVALID_ARG, "%s: path is empty", fn);
    NN__FORWARD(nn__read_file(path, NN__MAX_FILE_BYTES, &buf, &size, fn));
    st = nn__pca_parse(out, buf, size, fn);
    nn__free(buf);
    return st;
}
