/*
 * linalg.c - LAPACKE-backed linear algebra on the network's weights.
 * The only file that includes lapacke.h.  Every LAPACK failure comes
 * back as a status code naming the routine and its info.
 */
#include "base/base.h"
#include "core/core.h"

#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <string.h>

int nn_net_layer_singular_values(const nn_net *net, size_t layer,
                                 float *out, size_t capacity,
                                 size_t *count)
{
    static const char fn[] = "nn_net_layer_singular_values";
    NN__CHECK_PTR(net, fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK_PTR(count, fn);
    NN__CHECK(layer >= net->n_layers, NN_ERR_INVALID_ARG,
              "%s: layer = %zu is outside [0, %zu)", fn, layer,
              net->n_layers);
    const struct nn__layer *l = &net->layers[layer];
    size_t m = l->n_in, n = l->n_out;
    size_t k = m < n ? m : n;
    NN__CHECK(out == NULL && capacity > 0, NN_ERR_INVALID_ARG,
              "%s: out is NULL with capacity = %zu", fn, capacity);
    NN__CHECK(capacity < k, NN_ERR_SHAPE,
              "%s: capacity = %zu is less than min(n_in, n_out) = %zu",
              fn, capacity, k);
    NN__CHECK(m > (size_t)INT_MAX || n > (size_t)INT_MAX,
              NN_ERR_UNSUPPORTED, "%s: layer %zu is %zu x %zu, beyond "
              "LAPACK's int sizes", fn, layer, m, n);
    for (size_t i = 0; i < m * n; i++)
        NN__CHECK(!isfinite(l->w[i]), NN_ERR_NONFINITE,
                  "%s: layer %zu W[%zu] is not finite", fn, layer, i);
    /* sgesdd overwrites its input: work on a copy. */
    float *a = nn__malloc(m * n * sizeof *a);
    float *s = nn__malloc(k * sizeof *s);
    if (a == NULL || s == NULL) {
        nn__free(a);
        nn__free(s);
        return nn__fail(NN_ERR_NOMEM, "%s: no memory for a %zu x %zu "
                        "copy of layer %zu", fn, m, n, layer);
    }
    memcpy(a, l->w, m * n * sizeof *a);
    /* W is [n_in][n_out] row-major, lda = n_out; jobz 'N': values only,
       descending.  U and VT are not referenced, but LAPACKE's row-major
       check still asks ldu >= 1 and ldvt >= n (info -11 otherwise). */
    lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'N',
                                     (lapack_int)m, (lapack_int)n, a,
                                     (lapack_int)n, s, NULL, 1, NULL,
                                     (lapack_int)n);
    nn__free(a);
    if (info != 0) {
        nn__free(s);
        return nn__fail(info < 0 ? NN_ERR_INVALID_ARG : NN_ERR_NONFINITE,
                        "%s: LAPACKE_sgesdd on layer %zu (%zu x %zu) "
                        "returned info = %d", fn, layer, m, n, (int)info);
    }
    memcpy(out, s, k * sizeof *s);
    nn__free(s);
    *count = k;
    return NN_OK;
}

int nn_net_layer_spectral_norm(const nn_net *net, size_t layer,
                               double *norm_out)
{
    static const char fn[] = "nn_net_layer_spectral_norm";
    NN__CHECK_PTR(net, fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK_PTR(norm_out, fn);
    NN__CHECK(layer >= net->n_layers, NN_ERR_INVALID_ARG,
              "%s: layer = %zu is outside [0, %zu)", fn, layer,
              net->n_layers);
    const struct nn__layer *l = &net->layers[layer];
    size_t k = l->n_in < l->n_out ? l->n_in : l->n_out;
    float *s = nn__malloc(k * sizeof *s);
    if (s == NULL)
        return nn__fail(NN_ERR_NOMEM, "%s: no memory for %zu values",
                        fn, k);
    size_t cnt = 0;
    int rc = nn_net_layer_singular_values(net, layer, s, k, &cnt);
    if (rc == NN_OK)
        *norm_out = cnt > 0 ? (double)s[0] : 0.0;
    nn__free(s);
    return rc;
}
