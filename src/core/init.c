/*
 * init.c - weight initialisation: the draws of one layer's weights that
 * nn_net_create and nn_net_init (net.c) make, from the library's own
 * generator (base/rng.c) with correctly rounded arithmetic, so a seed
 * gives the same weights on every platform.  The orthogonal scheme is a
 * QR of a Gaussian draw: this file and linalg/ are the only ones that
 * include lapacke.h (src/README.md says why).  Works on a layer's arrays
 * only: nothing here calls back into net.c.
 */
#include "base/base.h"
#include "core.h"

#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <string.h>

int nn__orthogonal_draw(float *w, size_t n_in, size_t n_out, double gain,
                        struct nn__rng *r, const char *fn)
{
    /* Saxe et al.: QR of a Gaussian p x q matrix (p >= q), columns of Q
       flipped by the signs of R's diagonal so Q is Haar-distributed. */
    size_t p = n_in >= n_out ? n_in : n_out;
    size_t q = n_in >= n_out ? n_out : n_in;
    NN__CHECK(p > (size_t)INT_MAX, NN_ERR_UNSUPPORTED,
              "%s: layer %zu x %zu is beyond LAPACK's int sizes", fn,
              n_in, n_out);
    float *a = nn__malloc(p * q * sizeof *a);
    float *tau = nn__malloc(q * sizeof *tau);
    float *sgn = nn__malloc(q * sizeof *sgn);
    if (a == NULL || tau == NULL || sgn == NULL) {
        nn__free(a); nn__free(tau); nn__free(sgn);
        return nn__fail(NN_ERR_NOMEM, "%s: no memory for a %zu x %zu "
                        "orthogonal draw", fn, p, q);
    }
    for (size_t i = 0; i < p * q; i++) a[i] = (float)nn__rng_gauss(r);
    lapack_int P = (lapack_int)p, Q = (lapack_int)q;
    /* A = Q R, row-major p x q, lda = q */
    lapack_int info = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, P, Q, a, Q, tau);
    const char *routine = "LAPACKE_sgeqrf";
    if (info == 0) {
        for (size_t j = 0; j < q; j++)
            sgn[j] = a[j * q + j] < 0.0f ? -1.0f : 1.0f;
        /* the p x q Q with orthonormal columns, in place */
        info = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, P, Q, Q, a, Q, tau);
        routine = "LAPACKE_sorgqr";
    }
    if (info != 0) {
        nn__free(a); nn__free(tau); nn__free(sgn);
        return nn__fail(info < 0 ? NN_ERR_INVALID_ARG : NN_ERR_NONFINITE,
                        "%s: %s on a %zu x %zu Gaussian returned info = %d",
                        fn, routine, p, q, (int)info);
    }
    for (size_t i = 0; i < p; i++)
        for (size_t j = 0; j < q; j++) {
            float v = (float)(gain * (double)(sgn[j] * a[i * q + j]));
            /* n_in >= n_out: W = Q; otherwise W = Q^T (orthonormal rows) */
            if (n_in >= n_out) w[i * n_out + j] = v;
            else w[j * n_out + i] = v;
        }
    nn__free(a); nn__free(tau); nn__free(sgn);
    return NN_OK;
}

void nn__init_layer(struct nn__layer *l, int32_t scheme, double gain,
                    struct nn__rng *r)
{
    size_t j, n = l->n_in * l->n_out;
    double limit;
    switch (scheme) {
    case NN_INIT_NORMAL:
        for (j = 0; j < n; j++) l->w[j] = (float)(gain * nn__rng_gauss(r));
        break;
    case NN_INIT_UNIFORM:
        for (j = 0; j < n; j++)
            l->w[j] = (float)((2.0 * nn__rng_uniform(r) - 1.0) * gain);
        break;
    default:
        /* He-uniform for ReLU, Glorot-uniform otherwise: only sqrt and
           correctly rounded arithmetic, so the draw is the same
           everywhere */
        limit = gain * sqrt(6.0 / (l->act == NN_ACT_RELU
                                       ? (double)l->n_in
                                       : (double)(l->n_in + l->n_out)));
        for (j = 0; j < n; j++)
            l->w[j] = (float)((2.0 * nn__rng_uniform(r) - 1.0) * limit);
        break;
    }
    memset(l->b, 0, l->n_out * sizeof(float));
}
