/*
 * dense.c - the matrix products of a dense layer, and the only file that
 * includes cblas.h.
 *
 * Shapes (row-major, one sample per row):
 *   X [batch][n_in], W [n_in][n_out], Z and dZ [batch][n_out].
 * Every size is checked against INT_MAX (CBLAS's int dimensions) before
 * the call, so the BLAS never receives an argument it would reject (an
 * OpenBLAS rejection prints to stderr, which the library must never do).
 */
#include "base/base.h"
#include "core.h"

#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

uintptr_t nn__sgemm_address(void)
{
    return (uintptr_t)cblas_sgemm;
}

/* C <- 0 before a product that would have beta = 0.  The products below
   then run with beta = 1, which OpenBLAS's driver skips: its beta = 0
   pass (sgemm_beta, OpenBLAS 0.3.21) clears C one float at a time, and
   on the spiral network's 300 x 64 blocks cost 5 us against memset's
   1.4 us, half of each product (bench/bench_train, floor_acc).  The
   kernel then adds the product to exact zeros, so the result is bit for
   bit the beta = 0 one, and whatever C held (even NaN) is still
   ignored. */
static void nn__clear(float *c, size_t rows, size_t cols)
{
    memset(c, 0, rows * cols * sizeof(float));
}

static int nn__dims_ok(const char *what, size_t batch, size_t n_in,
                       size_t n_out)
{
    NN__CHECK(batch > INT_MAX || n_in > INT_MAX || n_out > INT_MAX,
              NN_ERR_SHAPE,
              "%s: product of [%zu x %zu] by [%zu x %zu] exceeds the BLAS "
              "limit of %d per dimension", what, batch, n_in, n_in, n_out,
              INT_MAX);
    return NN_OK;
}

int nn__gemm_fwd(const float *x, const float *w, float *z, size_t batch,
                 size_t n_in, size_t n_out)
{
    NN__FORWARD(nn__dims_ok("forward", batch, n_in, n_out));
    /* Z <- X * W (+ Z, cleared): M = batch, N = n_out, K = n_in;
       lda = n_in, ldb = n_out, ldc = n_out. */
    nn__clear(z, batch, n_out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)batch,
                (int)n_out, (int)n_in, 1.0f, x, (int)n_in, w, (int)n_out,
                1.0f, z, (int)n_out);
    return NN_OK;
}

int nn__gemm_dw(const float *x, const float *dz, float *dw, size_t batch,
                size_t n_in, size_t n_out, float alpha, float beta)
{
    NN__FORWARD(nn__dims_ok("weight gradient", batch, n_in, n_out));
    /* dW <- alpha * X^T * dZ + beta * dW: M = n_in, N = n_out, K = batch;
       X is stored [batch][n_in] so lda = n_in (transposed), ldb = n_out,
       ldc = n_out.  beta = 0 is done as a clear and beta = 1. */
    if (beta == 0.0f) {
        nn__clear(dw, n_in, n_out);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n_in,
                (int)n_out, (int)batch, alpha, x, (int)n_in, dz, (int)n_out,
                beta, dw, (int)n_out);
    return NN_OK;
}

int nn__gemm_dw_ld(const float *x, size_t ldx, const float *dz, float *dw,
                   size_t batch, size_t m, size_t n_out, float alpha,
                   float beta)
{
    NN__FORWARD(nn__dims_ok("weight gradient", batch, ldx, n_out));
    /* dW <- alpha * X[:, j0:j0+m]^T * dZ + beta * dW: M = m, N = n_out,
       K = batch; x points at column j0 of X stored [batch][ldx], so
       lda = ldx (transposed), ldb = n_out, ldc = n_out.  Each element is
       the same full-batch dot product as in nn__gemm_dw. */
    if (beta == 0.0f) {
        nn__clear(dw, m, n_out);
        beta = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n_out,
                (int)batch, alpha, x, (int)ldx, dz, (int)n_out, beta, dw,
                (int)n_out);
    return NN_OK;
}

int nn__syrk_xtx(const float *x, float *c, size_t rows, size_t cols)
{
    NN__FORWARD(nn__dims_ok("covariance", rows, cols, cols));
    /* C <- X^T * X (upper triangle only, beta = 0): N = cols, K = rows;
       X is stored [rows][cols] and read transposed, so lda = cols; C is
       [cols][cols], ldc = cols.  Entries below the diagonal are not
       written.  pca.c passes mean-centred blocks of rows, so this is
       (rows - 1) times their sample covariance. */
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)cols,
                (int)rows, 1.0f, x, (int)cols, 0.0f, c, (int)cols);
    return NN_OK;
}

int nn__gemm_dx(const float *dz, const float *w, float *dx, size_t batch,
                size_t n_in, size_t n_out)
{
    NN__FORWARD(nn__dims_ok("input gradient", batch, n_in, n_out));
    /* dX <- dZ * W^T (+ dX, cleared): M = batch, N = n_in, K = n_out;
       lda = n_out, W is [n_in][n_out] read transposed so ldb = n_out,
       ldc = n_in. */
    nn__clear(dx, batch, n_in);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)batch,
                (int)n_in, (int)n_out, 1.0f, dz, (int)n_out, w, (int)n_out,
                1.0f, dx, (int)n_in);
    return NN_OK;
}
