/*
 * ridge.c - the closed-form readout: the last layer of a net fitted by
 * ridge regression (regularised least squares) on the activations of the
 * layer before it.  One of the three files that include lapacke.h.
 *
 * With A the batch x p activations feeding the last layer, Y the batch x q
 * targets and an unpenalised bias, the fit minimises
 *     |A W + 1 b^T - Y|^2 + lambda |W|^2.
 * Setting the gradient in b to zero gives b = mean(Y) - mean(A) W, and
 * putting that back leaves the same problem on column-centred Ac and Yc:
 *     (Ac^T Ac + lambda I) W = Ac^T Yc.
 * That is the "augment A with a column of ones and leave its row of the
 * penalty out" system with the bias eliminated; centring keeps the ones
 * column (nearly parallel to every all-positive ReLU or sigmoid column)
 * out of the Gram matrix, whose condition number the float Cholesky solve
 * squares.
 *
 * Solve: LAPACKE_sposv_work (Cholesky).  If it reports the matrix not
 * positive definite (info > 0), or LAPACKE_spocon_work estimates its
 * reciprocal condition below p * FLT_EPSILON (a float solve would then
 * have no correct digit), the fit falls back to LAPACKE_sgelsd_work (SVD,
 * minimum-norm least squares) on the stacked system
 *     [Ac; sqrt(lambda) I] W = [Yc; 0]     (just Ac W = Yc if lambda = 0).
 *
 * Everything is column-major and goes through the LAPACKE *_work entry
 * points with workspace from nn__malloc: LAPACKE itself never allocates
 * (its row-major path would malloc transposed copies behind the
 * library's allocator), so every allocation failure is ours to report.
 * The result is computed into scratch and copied into the net only after
 * every check has passed.
 */
#include "base/base.h"
#include "kernels/kernels.h"
#include "core/core.h"

#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* What one fit allocates (nn__free(NULL) is a no-op, so one exit frees
   all). */
struct nn__ridge_scratch {
    float *buf[2];     /* batch x wh each: hidden outputs, then Ac */
    float *yc;         /* batch x q: Yc, later the predictions */
    float *g;          /* p x p: Ac^T Ac + lambda I, then its factor */
    float *r;          /* q x p: Yc^T Ac = col-major p x q right side */
    float *sol;        /* p x q weights then q biases */
    double *mean_a;    /* p column means of A */
    double *mean_y;    /* q column means of Y */
    float *cwork;      /* 3 p: spocon */
    lapack_int *ciwork;/* p: spocon */
    /* the SVD fallback */
    float *m, *bm, *s, *work;
    lapack_int *iwork;
};

static void nn__ridge_free(struct nn__ridge_scratch *sc)
{
    nn__free(sc->buf[0]); nn__free(sc->buf[1]); nn__free(sc->yc);
    nn__free(sc->g); nn__free(sc->r); nn__free(sc->sol);
    nn__free(sc->mean_a); nn__free(sc->mean_y);
    nn__free(sc->cwork); nn__free(sc->ciwork);
    nn__free(sc->m); nn__free(sc->bm); nn__free(sc->s);
    nn__free(sc->work); nn__free(sc->iwork);
}

/* Column means of a[rows][cols] in double. */
static void nn__col_means(const float *a, size_t rows, size_t cols,
                          double *mean)
{
    size_t i, j;
    for (j = 0; j < cols; j++) mean[j] = 0.0;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) mean[j] += (double)a[i * cols + j];
    for (j = 0; j < cols; j++) mean[j] /= (double)rows;
}

/* dst = a - mean (per column), rounded once from double. */
static void nn__center(float *dst, const float *a, size_t rows, size_t cols,
                       const double *mean)
{
    size_t i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++)
            dst[i * cols + j] = (float)((double)a[i * cols + j] - mean[j]);
}

/* LIWORK of xGELSD for min(m, n) = minmn (LAPACK's documented formula
   with SMLSIZ = 25), in case the workspace query leaves iwork[0] low. */
static size_t nn__gelsd_liwork(size_t minmn)
{
    size_t nlvl = 0, t = minmn / 26;   /* floor(log2(minmn / 26)) + 1 */
    while (t > 0) { nlvl++; t >>= 1; }
    return 3 * minmn * nlvl + 11 * minmn + 1;
}

/* The SVD fallback: W (col-major p x q in sc->bm, leading dimension
   *ldb_out) from [Ac; sqrt(lambda) I] W = [Yc; 0]. */
static int nn__ridge_svd(struct nn__ridge_scratch *sc, const float *ac,
                         size_t batch, size_t p, size_t q, float lambda,
                         size_t *ldb_out, const char *fn)
{
    size_t m = batch + (lambda > 0.0f ? p : 0);
    size_t ldb = m > p ? m : p, minmn = m < p ? m : p, i, j, c, liwork;
    float sq = sqrtf(lambda), wq = 0.0f;
    /* numpy.linalg.lstsq's default cut: singular values below
       eps * max(m, n) * s_max count as zero */
    float rcond = FLT_EPSILON * (float)ldb;
    lapack_int rank = 0, iwq = 0, info, lwork;

    sc->m = nn__malloc(m * p * sizeof(float));
    sc->bm = nn__malloc(ldb * q * sizeof(float));
    sc->s = nn__malloc(minmn * sizeof(float));
    if (sc->m == NULL || sc->bm == NULL || sc->s == NULL)
        return nn__fail(NN_ERR_NOMEM, "%s: no memory for the %zu x %zu "
                        "least-squares system", fn, m, p);
    /* column j of M: Ac's column j, then sqrt(lambda) e_j; column c of
       B: Yc's column c, then zeros */
    for (j = 0; j < p; j++) {
        float *col = sc->m + j * m;
        for (i = 0; i < batch; i++) col[i] = ac[i * p + j];
        for (i = batch; i < m; i++) col[i] = i - batch == j ? sq : 0.0f;
    }
    for (c = 0; c < q; c++) {
        float *col = sc->bm + c * ldb;
        for (i = 0; i < batch; i++) col[i] = sc->yc[i * q + c];
        for (i = batch; i < ldb; i++) col[i] = 0.0f;
    }
    /* workspace query (lwork = -1): optimal lwork in wq, liwork in iwq */
    info = LAPACKE_sgelsd_work(LAPACK_COL_MAJOR, (lapack_int)m,
                               (lapack_int)p, (lapack_int)q, sc->m,
                               (lapack_int)m, sc->bm, (lapack_int)ldb, sc->s,
                               rcond, &rank, &wq, -1, &iwq);
    NN__CHECK(info != 0, NN_ERR_INVALID_ARG, "%s: LAPACKE_sgelsd_work "
              "workspace query on %zu x %zu returned info = %d", fn, m, p,
              (int)info);
    NN__CHECK(!(wq >= 1.0f) || wq >= (float)(INT_MAX / 2),
              NN_ERR_UNSUPPORTED, "%s: LAPACKE_sgelsd_work asks for %g "
              "floats of workspace, beyond LAPACK's int sizes", fn,
              (double)wq);
    lwork = (lapack_int)wq + 1;   /* a float may round the count down */
    liwork = nn__gelsd_liwork(minmn);
    if (iwq > 0 && (size_t)iwq > liwork) liwork = (size_t)iwq;
    sc->work = nn__malloc((size_t)lwork * sizeof(float));
    sc->iwork = nn__malloc(liwork * sizeof(lapack_int));
    if (sc->work == NULL || sc->iwork == NULL)
        return nn__fail(NN_ERR_NOMEM, "%s: no memory for %d floats of "
                        "LAPACKE_sgelsd_work workspace", fn, (int)lwork);
    info = LAPACKE_sgelsd_work(LAPACK_COL_MAJOR, (lapack_int)m,
                               (lapack_int)p, (lapack_int)q, sc->m,
                               (lapack_int)m, sc->bm, (lapack_int)ldb, sc->s,
                               rcond, &rank, sc->work, lwork, sc->iwork);
    if (info != 0)
        return nn__fail(info < 0 ? NN_ERR_INVALID_ARG : NN_ERR_NONFINITE,
                        "%s: LAPACKE_sgelsd_work on the %zu x %zu system "
                        "returned info = %d%s", fn, m, p, (int)info,
                        info > 0 ? " (the SVD did not converge)" : "");
    *ldb_out = ldb;
    return NN_OK;
}

/* The first non-finite element of v[rows][cols] named in a message
   (the caller has seen amax >= NN__NONFINITE_BITS). */
static int nn__readout_bad(const float *v, const char *name, size_t cols,
                           const char *fn)
{
    size_t bad = 0;
    while (isfinite(v[bad])) bad++;
    return nn__fail(NN_ERR_NONFINITE, "%s: %s[%zu] (row %zu, column "
                    "%zu) is not finite", fn, name, bad, bad / cols,
                    bad % cols);
}

/* ---- validate everything before allocating or writing; *wh_out is the
   widest hidden output (or p), the width of the two scratch buffers */
static int nn__readout_check(const nn_net *net, const float *x,
                             const float *targets, size_t batch,
                             double lambda, size_t *wh_out, const char *fn)
{
    const struct nn__kernels *k = nn__kernels();
    const struct nn__layer *last;
    size_t L, p, q, n_in, wh, i, cells;

    NN__CHECK_PTR(net, fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK_PTR(x, fn);
    NN__CHECK_PTR(targets, fn);
    NN__CHECK(batch == 0, NN_ERR_INVALID_ARG, "%s: batch is 0", fn);
    NN__CHECK(isnan(lambda) || isinf(lambda), NN_ERR_NONFINITE,
              "%s: lambda is %s", fn, isnan(lambda) ? "NaN" : "infinite");
    NN__CHECK(lambda < 0.0 || lambda > (double)FLT_MAX, NN_ERR_INVALID_ARG,
              "%s: lambda = %g is outside [0, FLT_MAX]", fn, lambda);
    L = net->n_layers;
    last = &net->layers[L - 1];
    p = last->n_in;
    q = last->n_out;
    n_in = net->layers[0].n_in;
    NN__CHECK(last->act != NN_ACT_LINEAR, NN_ERR_INVALID_ARG,
              "%s: the last layer (%zu) has activation %d, not "
              "NN_ACT_LINEAR (%d): a closed-form readout needs a linear "
              "output", fn, L - 1, (int)last->act, (int)NN_ACT_LINEAR);
    /* the SVD fallback stacks batch + p rows; LAPACK and CBLAS count in
       int */
    NN__CHECK(batch > (size_t)INT_MAX - p, NN_ERR_UNSUPPORTED,
              "%s: batch = %zu with %zu readout inputs is beyond "
              "LAPACK's int sizes (%d)", fn, batch, p, INT_MAX);
    wh = p;
    for (i = 0; i + 1 < L; i++)
        if (net->layers[i].n_out > wh) wh = net->layers[i].n_out;
    NN__CHECK(!nn__mul_ok(batch, wh > n_in ? wh : n_in, &cells) ||
              !nn__mul_ok(cells, sizeof(float), &cells) ||
              !nn__mul_ok(batch, q, &cells) ||
              !nn__mul_ok(cells, sizeof(float), &cells) ||
              !nn__mul_ok(batch + p, p > q ? p : q, &cells) ||
              !nn__mul_ok(cells, sizeof(float), &cells),
              NN_ERR_SHAPE, "%s: batch = %zu overflows memory sizes", fn,
              batch);
    if (k->amax(x, batch * n_in) >= NN__NONFINITE_BITS)
        return nn__readout_bad(x, "x", n_in, fn);
    if (k->amax(targets, batch * q) >= NN__NONFINITE_BITS)
        return nn__readout_bad(targets, "targets", q, fn);
    *wh_out = wh;
    return NN_OK;
}

/* ---- scratch (sc is zeroed first, so nn__ridge_free works on any
   failure) */
static int nn__ridge_alloc(struct nn__ridge_scratch *sc, size_t L,
                           size_t batch, size_t wh, size_t p, size_t q,
                           const char *fn)
{
    memset(sc, 0, sizeof *sc);
    sc->buf[0] = nn__malloc(batch * wh * sizeof(float));
    sc->buf[1] = L >= 2 ? nn__malloc(batch * wh * sizeof(float)) : NULL;
    sc->yc = nn__malloc(batch * q * sizeof(float));
    sc->g = nn__malloc(p * p * sizeof(float));
    sc->r = nn__malloc(q * p * sizeof(float));
    sc->sol = nn__malloc((p * q + q) * sizeof(float));
    sc->mean_a = nn__malloc(p * sizeof(double));
    sc->mean_y = nn__malloc(q * sizeof(double));
    sc->cwork = nn__malloc(3 * p * sizeof(float));
    sc->ciwork = nn__malloc(p * sizeof(lapack_int));
    if (sc->buf[0] == NULL || (L >= 2 && sc->buf[1] == NULL) ||
        sc->yc == NULL || sc->g == NULL || sc->r == NULL ||
        sc->sol == NULL || sc->mean_a == NULL || sc->mean_y == NULL ||
        sc->cwork == NULL || sc->ciwork == NULL)
        return nn__fail(NN_ERR_NOMEM, "%s: no memory for a batch of %zu "
                        "rows (%zu readout inputs, %zu outputs)", fn, batch,
                        p, q);
    return NN_OK;
}

/* ---- A: the earlier layers forward, as nn_predict runs them (no
   dropout); layer i writes buf[i % 2].  The other buffer takes Ac. */
static int nn__readout_hidden(const nn_net *net,
                              const struct nn__kernels *k, const float *x,
                              size_t batch, struct nn__ridge_scratch *sc,
                              const float **a_out, const char *fn)
{
    const float *a = x;
    size_t i;
    for (i = 0; i + 1 < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        float *dst = sc->buf[i % 2];
        /* Z <- A_{i-1} W_i, then act(Z + b_i) in place */
        NN__FORWARD(nn__gemm_fwd(a, l->w, dst, batch, l->n_in, l->n_out));
        NN__CHECK(k->bias_act[l->act](dst, l->b, batch, l->n_out) >=
                  NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                  "%s: layer %zu output is not finite (|x W + b| exceeds "
                  "the float range)", fn, i);
        a = dst;
    }
    *a_out = a;
    return NN_OK;
}

/* ---- centre, then the normal equations G = Ac^T Ac + lambda I and
   R = Yc^T Ac; *anorm_out is G's 1-norm, for spocon */
static int nn__readout_normal(const struct nn__kernels *k,
                              struct nn__ridge_scratch *sc, const float *a,
                              float *ac, const float *targets, size_t batch,
                              size_t p, size_t q, float lam,
                              double *anorm_out, const char *fn)
{
    double anorm = 0.0;
    size_t i, j;

    nn__col_means(a, batch, p, sc->mean_a);
    nn__col_means(targets, batch, q, sc->mean_y);
    nn__center(ac, a, batch, p, sc->mean_a);
    nn__center(sc->yc, targets, batch, q, sc->mean_y);
    NN__CHECK(k->amax(ac, batch * p) >= NN__NONFINITE_BITS ||
              k->amax(sc->yc, batch * q) >= NN__NONFINITE_BITS,
              NN_ERR_NONFINITE, "%s: centring the activations or the "
              "targets overflows the float range", fn);
    /* G <- Ac^T Ac (upper triangle; zeroed first so the lower one is
       defined before the mirror below) */
    memset(sc->g, 0, p * p * sizeof(float));
    NN__FORWARD(nn__syrk_xtx(ac, sc->g, batch, p));
    for (i = 0; i < p; i++) {
        for (j = 0; j < i; j++) sc->g[i * p + j] = sc->g[j * p + i];
        sc->g[i * p + i] += lam;
    }
    /* R <- Yc^T Ac: [q][p] row-major is the col-major p x q right-hand
       side Ac^T Yc with ldb = p */
    NN__FORWARD(nn__gemm_dw(sc->yc, ac, sc->r, batch, q, p, 1.0f, 0.0f));
    NN__CHECK(k->amax(sc->g, p * p) >= NN__NONFINITE_BITS ||
              k->amax(sc->r, q * p) >= NN__NONFINITE_BITS,
              NN_ERR_NONFINITE, "%s: A^T A or A^T Y overflows the float "
              "range (activations or targets too large)", fn);
    for (j = 0; j < p; j++) {          /* 1-norm, for spocon */
        double colsum = 0.0;
        for (i = 0; i < p; i++) colsum += fabs((double)sc->g[i * p + j]);
        if (colsum > anorm) anorm = colsum;
    }
    *anorm_out = anorm;
    return NN_OK;
}

/* ---- Cholesky: G is symmetric, so row- and column-major agree.
   *info_out > 0 when G is not positive definite; *rcond_out is its
   reciprocal condition estimate when it is. */
static int nn__readout_cholesky(struct nn__ridge_scratch *sc, size_t p,
                                size_t q, double anorm,
                                lapack_int *info_out, float *rcond_out,
                                const char *fn)
{
    lapack_int info;
    info = LAPACKE_sposv_work(LAPACK_COL_MAJOR, 'U', (lapack_int)p,
                              (lapack_int)q, sc->g, (lapack_int)p, sc->r,
                              (lapack_int)p);
    NN__CHECK(info < 0, NN_ERR_INVALID_ARG, "%s: LAPACKE_sposv_work on "
              "the %zu x %zu normal equations returned info = %d", fn, p,
              p, (int)info);
    if (info == 0) {
        info = LAPACKE_spocon_work(LAPACK_COL_MAJOR, 'U', (lapack_int)p,
                                   sc->g, (lapack_int)p, (float)anorm,
                                   rcond_out, sc->cwork, sc->ciwork);
        NN__CHECK(info != 0, NN_ERR_INVALID_ARG, "%s: LAPACKE_spocon_work "
                  "on the %zu x %zu Cholesky factor returned info = %d",
                  fn, p, p, (int)info);
    }
    *info_out = info;
    return NN_OK;
}

/* ---- solve into sc->sol (p x q weights, then q biases), by Cholesky or
   the SVD fallback; *method_out says which, *amax_out is the result's */
static int nn__readout_solve(const struct nn__kernels *k,
                             struct nn__ridge_scratch *sc, const float *ac,
                             size_t batch, size_t p, size_t q, float lam,
                             double anorm, int32_t *method_out,
                             uint32_t *amax_out, const char *fn)
{
    int32_t method = NN_READOUT_CHOLESKY;
    float rcond = 0.0f;
    lapack_int info;
    size_t j, c, ldb = 0;
    uint32_t amax;

    NN__FORWARD(nn__readout_cholesky(sc, p, q, anorm, &info, &rcond, fn));
    if (info > 0 || !(rcond >= (float)p * FLT_EPSILON)) {
        /* not positive definite (info > 0 is the order of the failing
           minor), or too ill-conditioned for a float Cholesky solve */
        method = NN_READOUT_SVD;
        NN__FORWARD(nn__ridge_svd(sc, ac, batch, p, q, lam, &ldb, fn));
        for (j = 0; j < p; j++)
            for (c = 0; c < q; c++)
                sc->sol[j * q + c] = sc->bm[c * ldb + j];
    } else {
        for (j = 0; j < p; j++)
            for (c = 0; c < q; c++)
                sc->sol[j * q + c] = sc->r[c * p + j];
    }
    /* b = mean(Y) - mean(A) W, from the float W that will be stored */
    for (c = 0; c < q; c++) {
        double b = sc->mean_y[c];
        for (j = 0; j < p; j++)
            b -= sc->mean_a[j] * (double)sc->sol[j * q + c];
        sc->sol[p * q + c] = (float)b;
    }
    amax = k->amax(sc->sol, p * q + q);
    NN__CHECK(amax >= NN__NONFINITE_BITS, NN_ERR_NONFINITE, "%s: the "
              "fitted weights overflow the float range (%s solve)", fn,
              method == NN_READOUT_SVD ? "LAPACKE_sgelsd_work"
                                       : "LAPACKE_sposv_work");
    *method_out = method;
    *amax_out = amax;
    return NN_OK;
}

/* ---- the fit's predictions A W + b (what nn_predict will give), into
   yc, and their sum of squared errors in double */
static int nn__readout_sse(const struct nn__kernels *k,
                           struct nn__ridge_scratch *sc, const float *a,
                           const float *targets, size_t batch, size_t p,
                           size_t q, double *sse_out, const char *fn)
{
    double sse = 0.0;
    size_t i;
    NN__FORWARD(nn__gemm_fwd(a, sc->sol, sc->yc, batch, p, q));
    NN__CHECK(k->bias_act[NN_ACT_LINEAR](sc->yc, sc->sol + p * q, batch,
                                         q) >= NN__NONFINITE_BITS,
              NN_ERR_NONFINITE, "%s: the fitted layer's outputs overflow "
              "the float range", fn);
    for (i = 0; i < batch * q; i++) {
        double d = (double)sc->yc[i] - (double)targets[i];
        sse += d * d;
    }
    *sse_out = sse;
    return NN_OK;
}

int nn_net_fit_readout(nn_net *net, const float *x, const float *targets,
                       size_t batch, double lambda, int32_t *method_out,
                       double *mse_out)
{
    static const char fn[] = "nn_net_fit_readout";
    const struct nn__kernels *k = nn__kernels();
    struct nn__ridge_scratch sc;
    struct nn__layer *last;
    const float *a = NULL;
    float *ac, lam;
    size_t L, p, q, wh = 0;
    uint32_t amax = 0;
    int32_t method = NN_READOUT_CHOLESKY;
    double anorm = 0.0, sse = 0.0;
    int st;

    NN__FORWARD(nn__readout_check(net, x, targets, batch, lambda, &wh, fn));
    L = net->n_layers;
    last = &net->layers[L - 1];
    p = last->n_in;
    q = last->n_out;
    lam = (float)lambda;

    st = nn__ridge_alloc(&sc, L, batch, wh, p, q, fn);
    if (st != NN_OK) goto done;
    st = nn__readout_hidden(net, k, x, batch, &sc, &a, fn);
    if (st != NN_OK) goto done;
    ac = L >= 2 ? sc.buf[(L - 1) % 2] : sc.buf[0];
    st = nn__readout_normal(k, &sc, a, ac, targets, batch, p, q, lam,
                            &anorm, fn);
    if (st != NN_OK) goto done;
    st = nn__readout_solve(k, &sc, ac, batch, p, q, lam, anorm, &method,
                           &amax, fn);
    if (st != NN_OK) goto done;
    st = nn__readout_sse(k, &sc, a, targets, batch, p, q, &sse, fn);
    if (st != NN_OK) goto done;

    /* ---- commit ---- */
    memcpy(last->w, sc.sol, p * q * sizeof(float));
    memcpy(last->b, sc.sol + p * q, q * sizeof(float));
    last->pmax = amax;
    net->batch = 0;   /* the cached forward used the old parameters */
    if (method_out != NULL) *method_out = method;
    if (mse_out != NULL) *mse_out = sse / (double)(batch * q);
done:
    nn__ridge_free(&sc);
    return st;
}
