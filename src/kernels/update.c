/*
 * update.c - whole-array passes: magnitude scans and the plain SGD update.
 *
 * amax (base/base.h) is an unsigned integer max over the float bits with
 * the sign cleared: it vectorizes with no fast-math flag and doubles as
 * the NaN/infinity check (any such value yields >= 0x7f800000).
 */
#include "isa.h"
#include "vecmath.h"

uint32_t NN__K(nn__amax)(const float *x, size_t n)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: amax */
    for (i = 0; i < n; i++) {
        uint32_t u = nn__absbits(x[i]);
        m = u > m ? u : m;
    }
    return m;
}

uint32_t NN__K(nn__copy_amax)(float *restrict dst, const float *restrict src,
                              size_t n)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: copy_amax */
    for (i = 0; i < n; i++) {
        uint32_t u = nn__absbits(src[i]);
        m = u > m ? u : m;
        dst[i] = src[i];
    }
    return m;
}

/* w -= lr g; the amax of the new weights keeps the caller's max|W| exact */
uint32_t NN__K(nn__sgd)(float *restrict w, const float *restrict g, size_t n,
                        float lr)
{
    uint32_t m = 0;
    size_t i;
    /* nn-vec: sgd */
    for (i = 0; i < n; i++) {
        float v = w[i] - lr * g[i];
        uint32_t u = nn__absbits(v);
        m = u > m ? u : m;
        w[i] = v;
    }
    return m;
}
